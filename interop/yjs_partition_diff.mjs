#!/usr/bin/env node
// Differential test: auxsync's YjsPartition vs the real aux-common one.
//
//   node yjs_partition_diff.mjs --auxsync PATH [--seeds N] [--start S]
//        [--keep-going] [--bmp-only] [--timeout MS] [--no-cross]
//
// For each seed S..S+N-1 (default 0..499) the seeded bot-action generator of
// the MemoryPartition differential (gen_memory_scenario.mjs) makes a
// scenario, turned into a yjs one: partition {type:"yjs"} (remote events
// sometimes enabled), pinned client ids (so site ids, versions and document
// bytes must match), and some extra steps: applyUpdates with updates made
// by another real YjsPartition (other clients' text and map changes on the
// same bot ids, the read path of remote transactions) and sendRemoteEvents
// with the special actions (get_remote_count, get_remotes,
// list_inst_updates, get_current_inst_update, get_inst_state_from_updates,
// create_initialization_update, apply_updates_to_inst, install_aux_file with
// v1/v2 auxes, sources, versions and downgrades). The scenario runs in
// the real partition in this process (yjs_partition_runner.mjs, --tagged)
// and as `PATH apply FILE --tagged`; the outputs are compared as canonical
// JSON (key order significant), every emission, every step's state, the
// final state and final.update (the document bytes). Masked: timestamps of
// inst updates (Date.now()); the bytes of create_initialization_update
// answers (compared as the bots they decode to); and, in seeds that
// re-install from a source, client ids of upstream's throw-away documents
// (>= 10000, shown as "random") and the final bytes.
//
// Cross-load (unless --no-cross): the final update of each side is loaded
// into a fresh partition of the OTHER side; the resulting states must equal
// those of loading each side's own update.
//
// Exit 1 on the first mismatch (all with --keep-going); 2 on usage errors.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMemoryScenario, makeRng } from './gen_memory_scenario.mjs';
import { createYjsPartition } from './yjs_partition_runner.mjs';
import { getPeer } from './run_scenario.mjs';
import { OrderedObject, canonical, decodeTagged, parseOrdered, writeJson } from './lib/tagged_json.mjs';
import { forgetRandomIds, maskTimestamps, printMismatch, runInAuxsync, runInUpstream } from './lib/partition_diff.mjs';
import { parseCommandLine, requireExecutable } from './lib/cli_args.mjs';

const USAGE =
    'usage: yjs_partition_diff.mjs --auxsync PATH [--seeds N] [--start S] [--keep-going] [--bmp-only] [--timeout MS] [--no-cross]';

function parseArgs(argv) {
    const o = parseCommandLine(argv, {
        name: 'yjs_partition_diff',
        usage: USAGE,
        defaults: { seeds: 500, start: 0, keepGoing: false, bmpOnly: false, timeout: 30000, cross: true },
        options: {
            '--auxsync': { key: 'auxsync', kind: 'string' },
            '--seeds': { key: 'seeds', kind: 'int' },
            '--start': { key: 'start', kind: 'int' },
            '--timeout': { key: 'timeout', kind: 'int' },
            '--keep-going': { key: 'keepGoing', kind: 'true' },
            '--bmp-only': { key: 'bmpOnly', kind: 'true' },
            '--no-cross': { key: 'cross', kind: 'false' },
        },
        required: ['--auxsync'],
    });
    requireExecutable('yjs_partition_diff', o.auxsync, 'build it first (cmake --build build --target auxsync)');
    return o;
}

const TE = '\u0011tag_edit';

/** Updates another real YjsPartition (client `clientId`) makes. */
async function foreignUpdates(rng, clientId, ids) {
    const peer = await getPeer();
    const p = await createYjsPartition(peer, { partition: { type: 'yjs' }, clientId, remoteClientId: clientId + 1 });
    const updates = [];
    p.doc.on('update', (u) => updates.push(Buffer.from(u).toString('base64')));
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) {
        const id = rng.pick(ids);
        const actions = [];
        const r = rng.next();
        if (r < 0.35 || !p.state[id]) {
            actions.push({ type: 'add_bot', id, bot: { id, tags: { t: rng.pick(['abc', 'hello', 'x']), n: rng.int(0, 9) } } });
        } else if (r < 0.7) {
            actions.push({ type: 'update_bot', id, update: { tags: { t: { [TE]: true, version: {}, operations: [[{ type: 'preserve', count: rng.int(0, 3) }, { type: 'insert', text: rng.pick(['Z', 'yy', 'q']) }]] } } } });
        } else if (r < 0.85) {
            actions.push({ type: 'update_bot', id, update: { tags: { n: rng.int(10, 99), t: null } } });
        } else {
            actions.push({ type: 'remove_bot', id });
        }
        await p.applyEvents(actions);
    }
    return updates;
}

/** The yjs scenario of a seed (tagged-JSON form). */
export async function generateYjsScenario(seed, opts = {}) {
    const base = generateMemoryScenario(seed, opts);
    const rng = makeRng(seed * 7 + 3);
    const remoteEvents = rng.chance(0.5) ? true : rng.chance(0.5) ? { get_remote_count: true, list_inst_updates: true } : undefined;
    const partition = { type: 'yjs' };
    if (remoteEvents !== undefined) partition.remoteEvents = remoteEvents;
    if (rng.chance(0.3)) partition.connectionId = 'conn';
    const steps = [];
    const ids = ['0', '2', '10', 'zz', 'a', 'b'];
    let task = 1;
    // Re-installs from a source apply updates of upstream's throw-away
    // documents, whose client ids are random.
    let usesRandomIds = false;
    // Every foreign document gets its own client id: two documents sharing
    // one would be an invalid history.
    let foreign = 3000 + rng.int(0, 9) * 100;
    const nextForeign = () => (foreign += 2);
    // Batches of single plain tag updates of distinct bots (the write path
    // notes each one and the read path reports them without reading the
    // document back): their own random stream, so the other steps of a
    // seed stay what they were.
    const batchRng = makeRng(seed * 13 + 5);
    const knownIds = [];
    const knownTags = ['color', 'n'];
    for (const step of base.steps) {
        if ('sendRemoteEvents' in step) continue;
        for (const a of step.applyEvents ?? []) {
            if (a.type !== 'add_bot' || typeof a.id !== 'string') continue;
            if (!knownIds.includes(a.id)) knownIds.push(a.id);
            for (const t of Object.keys(a.bot?.tags ?? {})) if (!knownTags.includes(t)) knownTags.push(t);
        }
        // Tag edits get version vectors naming the document's real clients
        // (local, remote, foreign) with random clocks, so that positions are
        // computed with partly visible text (spec 8.5).
        for (const a of step.applyEvents ?? []) {
            if (a.type !== 'update_bot' || !a.update) continue;
            for (const part of [a.update.tags, ...Object.values(a.update.masks ?? {})]) {
                if (!part || typeof part !== 'object') continue;
                for (const v of Object.values(part)) {
                    if (v && typeof v === 'object' && v[TE] === true && rng.chance(0.6)) {
                        const version = {};
                        for (const c of [1000 + (seed % 7), 2000 + (seed % 5), 3000 + rng.int(0, 5)]) {
                            if (rng.chance(0.6)) version[String(c)] = rng.int(0, 40);
                        }
                        v.version = version;
                    }
                }
            }
        }
        // apply_state partials without an id would be added under the key
        // `undefined`, which upstream reads back as a bot with a random
        // UUID and cannot encode: give every entry its key as id.
        for (const a of step.applyEvents ?? []) {
            if (a.type !== 'apply_state' || !a.state) continue;
            for (const [k, v] of Object.entries(a.state)) {
                if (v && typeof v === 'object' && !('$type' in v) && !('id' in v)) v.id = k;
            }
        }
        steps.push(step);
        if (knownIds.length >= 2 && batchRng.chance(0.25)) {
            const batch = [];
            for (const id of batchRng.sample(knownIds, batchRng.int(2, Math.min(6, knownIds.length)))) {
                const value = batchRng.weighted([
                    [50, () => batchRng.int(-5, 99)],
                    [35, () => batchRng.pick(['p', 'q', 'long text', '\u00e9t\u00e9'])],
                    [10, () => batchRng.chance(0.5)],
                    [5, () => batchRng.pick(['', null])],
                ])();
                batch.push({ type: 'update_bot', id, update: { tags: { [batchRng.pick(knownTags)]: value } } });
            }
            steps.push({ applyEvents: batch });
        }
        if (rng.chance(0.2)) {
            steps.push({ applyUpdates: await foreignUpdates(rng, nextForeign(), ids) });
        }
        if (rng.chance(0.15)) {
            const kinds = [
                { type: 'get_remote_count' },
                { type: 'get_remotes' },
                { type: 'list_inst_updates' },
                { type: 'get_current_inst_update' },
                { type: 'create_initialization_update', bots: [{ id: 'i1', tags: { a: 1, s: 'x' } }] },
            ];
            const upd = await foreignUpdates(rng, nextForeign(), ids);
            const inst = upd.map((u, i) => ({ id: i, timestamp: 0, update: u }));
            kinds.push({ type: 'get_inst_state_from_updates', updates: inst });
            kinds.push({ type: 'apply_updates_to_inst', updates: inst });
            steps.push({ sendRemoteEvents: [{ type: 'remote', event: rng.pick(kinds), taskId: task++ }] });
        }
        if (remoteEvents === true && rng.chance(0.12)) {
            // install_aux_file (spec 8.9): v1 auxes, v2 auxes with and
            // without a source, versions and downgrades.
            let aux;
            if (rng.chance(0.3)) {
                const state = {};
                for (const id of rng.sample(ids, rng.int(1, 3))) state[id] = { id, tags: { v: rng.int(0, 9), s: rng.pick(['p', 'q']) } };
                aux = { version: 1, state };
            } else {
                const upd = await foreignUpdates(rng, nextForeign(), ids);
                aux = { version: 2, updates: upd.map((u, i) => ({ id: i, timestamp: 0, update: u })) };
            }
            const event = { type: 'install_aux_file', aux, mode: 'default' };
            if (rng.chance(0.6)) {
                event.source = rng.pick(['s1', 's2']);
                usesRandomIds = true;
            }
            if (rng.chance(0.5)) event.version = { major: rng.int(1, 3), minor: 0, patch: rng.int(0, 1), tag: rng.pick([null, 'beta']) };
            if (rng.chance(0.3)) event.downgrade = true;
            steps.push({ sendRemoteEvents: [{ type: 'remote', event, taskId: task++ }] });
            if (event.source && rng.chance(0.6)) {
                // The same source again: the same aux (no change: upstream
                // fails, N34) or another version of it (downgrade rules).
                const again = { ...event };
                if (rng.chance(0.5)) again.version = { major: rng.int(0, 3), minor: 0, patch: 0, tag: null };
                if (rng.chance(0.3)) delete again.downgrade;
                steps.push({ sendRemoteEvents: [{ type: 'remote', event: again, taskId: task++ }] });
            }
        }
    }
    const scenario = { partition, ...(base.space !== undefined ? { space: base.space } : {}), clientId: 1000 + (seed % 7), remoteClientId: 2000 + (seed % 5), steps };
    if (usesRandomIds) Object.defineProperty(scenario, 'randomIds', { value: true });
    return scenario;
}

/**
 * create_initialization_update answers with an update made by a throw-away
 * document with a random client id: replace its bytes by the bots they
 * decode to (in the real getStateFromUpdates).
 */
async function decodeInitializationUpdates(out, scenario) {
    const peer = await getPeer();
    const steps = out.get('steps');
    scenario.steps.forEach((step, i) => {
        const ev = step.sendRemoteEvents?.[0]?.event;
        if (ev?.type !== 'create_initialization_update') return;
        for (const em of steps[i].get('emissions')) {
            if (em.get('type') !== 'onEvents') continue;
            for (const action of em.get('value')) {
                const result = action.get('result');
                if (!(result instanceof OrderedObject)) continue;
                for (const e of result.entries) {
                    if (e[0] !== 'update' || typeof e[1] !== 'string') continue;
                    const state = peer.getStateFromUpdates({ updates: [{ update: e[1] }] });
                    e[1] = 'decodes to ' + JSON.stringify(state);
                }
            }
        }
    });
}

async function cppRun(o, dir, name, scenario) {
    return runInAuxsync(o.auxsync, dir, name, scenario, o.timeout);
}

/** State of a fresh partition of each side after loading `update`. */
async function loadIn(o, dir, update) {
    const peer = await getPeer();
    const p = await createYjsPartition(peer, { partition: { type: 'yjs' }, clientId: 9999, remoteClientId: 9998 });
    p.applyUpdates([update]);
    const js = writeJson(p.state, true);
    const cpp = await cppRun(o, dir, 'load', { partition: { type: 'yjs' }, clientId: 9999, remoteClientId: 9998, steps: [{ applyUpdates: [update] }] });
    const cppState = writeJson(decodeTagged(JSON.parse(cpp)).final.state, true);
    return { js, cpp: cppState };
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    // Upstream warns on every refused downgrade; the outputs say it.
    console.warn = () => {};
    const dir = mkdtempSync(join(tmpdir(), 'yjs-diff-'));
    let failures = 0;
    let stopped = 0;
    let crossChecked = 0;
    let noBytes = 0;
    let internalThrows = 0;
    let randomIdSeeds = 0;
    try {
        for (let seed = o.start; seed < o.start + o.seeds; seed++) {
            const scenario = await generateYjsScenario(seed, { bmpOnly: o.bmpOnly });
            const jsText = await runInUpstream(scenario);
            const cppText = await cppRun(o, dir, `seed${seed}`, scenario);
            const js = maskTimestamps(parseOrdered(jsText));
            const cpp = maskTimestamps(parseOrdered(cppText));
            await decodeInitializationUpdates(js, scenario);
            await decodeInitializationUpdates(cpp, scenario);
            const unencodable = js.get('final').get('update') === null;
            if (scenario.randomIds) {
                forgetRandomIds(js);
                forgetRandomIds(cpp);
                randomIdSeeds++;
            }

            if (unencodable) {
                // Upstream cannot encode its document (a bot keyed
                // `undefined`); compare everything but the bytes.
                for (const e of cpp.get('final').entries) if (e[0] === 'update') e[1] = null;
                noBytes++;
            }
            let ok = canonical(js) === canonical(cpp);
            const jsSteps = js.get('steps');
            const firstError = jsSteps.findIndex((s) => s.has('error'));
            const firstUnhandled = jsSteps.findIndex((s) => s.has('unhandled'));
            if (firstUnhandled >= 0 && (firstError < 0 || firstUnhandled <= firstError)) {
                // Upstream's internal MemoryPartition threw while reporting a
                // transaction (spec 7.7; auxsync applies such batches):
                // compare the steps before it.
                const cut = (x) => canonical([x.get('initial'), x.get('steps').slice(0, firstUnhandled)]);
                ok = cut(js) === cut(cpp);
                if (ok) internalThrows++;
            } else if (!ok && firstError >= 0) {
                // Upstream rejected a batch (a TypeError); compare up to it.
                const cut = (x) => canonical([x.get('initial'), x.get('steps').slice(0, firstError + 1)]);
                ok = cut(js) === cut(cpp);
                if (ok) stopped++;
            }
            if (ok && o.cross && !unencodable && firstUnhandled < 0 && !scenario.randomIds) {
                const jsUpdate = js.get('final').get('update');
                const cppUpdate = cpp.get('final').get('update');
                const a = await loadIn(o, dir, jsUpdate);
                const b = await loadIn(o, dir, cppUpdate);
                if (!(a.js === b.js && a.cpp === b.cpp && a.js === a.cpp)) {
                    ok = false;
                    console.error(`seed ${seed}: cross-load differs:\n  js(js)=${a.js}\n  js(cpp)=${b.js}\n  cpp(js)=${a.cpp}\n  cpp(cpp)=${b.cpp}`);
                } else {
                    crossChecked++;
                }
            }
            if (!ok) {
                failures++;
                printMismatch(`seed ${seed}`, join(dir, `seed${seed}.json`), js, cpp);
                if (!o.keepGoing) process.exit(1);
            }
        }
    } finally {
        if (failures === 0) rmSync(dir, { recursive: true, force: true });
    }
    console.log(
        `yjs_partition_diff: ${o.seeds - failures}/${o.seeds} seeds identical (seeds ${o.start}..${o.start + o.seeds - 1}; ` +
            `${stopped} compared up to an upstream TypeError; ${internalThrows} up to a TypeError of upstream's internal MemoryPartition; ${noBytes} without document bytes upstream; ${randomIdSeeds} with re-installs (random ids masked); cross-load checked on ${crossChecked})`
    );
    process.exit(failures === 0 ? 0 : 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    main().catch((e) => {
        console.error(e?.stack ?? String(e));
        process.exit(1);
    });
}
