#!/usr/bin/env node
// Generates auxsync/client/internal/remote_yjs_cases_for_test.h: seeded
// random sessions of a RemoteYjsPartition (connects and disconnects, server
// updates written by other Yjs documents, local bot writes and text edits,
// watch results, acknowledgements, device actions, limits, denials, remote
// events, enableCollaboration) run through the REAL aux-common 3.10.5
// RemoteYjsPartition on its InstRecordsClient and MemoryConnectionClient,
// with the exact log of what it sent and emitted.
// remote_yjs_partition_test.cc replays every session through the C++
// partition and compares the logs line by line.
//
//   node interop/tools/gen_remote_yjs_cases.mjs [--seeds N] > auxsync/client/internal/remote_yjs_cases_for_test.h
//
// A session is {config, space?, steps}; the partition's client ids are
// pinned to 1000 (local) and 2000 (remote) and Date.now() to 1234. Steps
// ({"op": ...}): connect, disconnect, start (partition.connect()), apply {events}, remote {events},
// deliver {message} (a server message as JSON), error {error}, enable,
// unsubscribe. Log lines: "sent <message>", "status <json>",
// "events <json>", "state <state event json>", "version <json>", "error".
// Microtasks are flushed after every step, so the order inside a step is
// the order JavaScript observers see.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { INTEROP_DIR } from '../build.mjs';
import { AUX_COMMON_DIR, bundleIfStale, ensureInstalled, yjsFromPlugin } from '../lib/bundle.mjs';
import { mulberry32 } from '../lib/rng.mjs';

async function loadPeer() {
    ensureInstalled(['@casual-simulation/aux-common', 'esbuild']);
    const entry = join(INTEROP_DIR, 'tools', 'remote_yjs_entry.mjs');
    const out = await bundleIfStale(
        {
            entry,
            out: join(INTEROP_DIR, 'dist', 'remote_yjs_peer.mjs'),
            plugins: [yjsFromPlugin(AUX_COMMON_DIR, (args) => args.importer === entry)],
        },
        [entry],
    );
    return import(pathToFileURL(out).href);
}

// Upstream logs (max size, rate limits) to stdout, where the header goes.
console.log = (...args) => console.error(...args);
console.warn = (...args) => console.error(...args);

const BOTS = ['b1', 'b2', 'b3'];
const TAGS = ['a', 'b', 'c'];
const DEVICES = ['d1', 'd2'];

async function flush() {
    await immediate();
    await sleep(0);
    await immediate();
}

const b64 = (bytes) => Buffer.from(bytes).toString('base64');

/** Generates and runs one session; returns {session, log}. */
async function session(P, seed) {
    const rnd = mulberry32(seed);
    const pick = (list) => list[Math.floor(rnd() * list.length)];
    const chance = (p) => rnd() < p;

    const recordName = chance(0.5) ? null : 'rec';
    const ns = { recordName, inst: 'inst', branch: 'main' };
    const config = { type: 'remote_yjs', ...ns, host: 'testHost' };
    const mode = rnd();
    if (mode < 0.1) config.readOnly = true;
    else if (mode < 0.2) config.skipInitialLoad = true;
    else if (mode < 0.28) config.static = true;
    else if (mode < 0.33) config.temporary = true;
    if (chance(0.1)) config.remoteEvents = false;
    const space = chance(0.5) ? 'shared' : undefined;

    const log = [];
    const conn = new P.MemoryConnectionClient({ connectionId: 'me', sessionId: 's-me', userId: 'u-me' });
    // As the real (authenticated) connection client: `info` is that of the
    // current state, null while disconnected. aux-common's memory client
    // always answers the device it was made with.
    Object.defineProperty(conn, 'info', { get: () => conn._connectionState.value.info });
    const subjectType = conn._onError.constructor;
    for (const name of [
        'repo/add_updates',
        'repo/watch_branch_result',
        'repo/updates_received',
        'repo/receive_action',
        'repo/connection_count',
        'rate_limit_exceeded',
    ]) {
        conn.events.set(name, new subjectType());
    }
    conn.send = (m) => log.push(`sent ${JSON.stringify(m)}`);
    const client = new P.InstRecordsClient(conn);
    const auth = new P.PartitionAuthSource();
    const partition = new P.RemoteYjsPartitionImpl(client, auth, config);
    partition._doc.clientID = 1000;
    partition._localId = 1000;
    partition._remoteId = 2000;
    partition._currentVersion = { currentSite: '1000', remoteSite: '2000', vector: {} };
    partition._onVersionUpdated.next(partition._currentVersion);
    if (space) partition.space = space;
    partition.onStatusUpdated.subscribe((s) => log.push(`status ${JSON.stringify(s)}`));
    partition.onEvents.subscribe((e) => log.push(`events ${JSON.stringify(e)}`));
    partition.onStateUpdated.subscribe((e) => log.push(`state ${JSON.stringify(e)}`));
    partition.onVersionUpdated.subscribe((v) => log.push(`version ${JSON.stringify(v)}`));
    partition.onError.subscribe(() => log.push('error'));
    auth.onAuthRequest.subscribe((r) => log.push(`auth ${JSON.stringify(r)}`));

    // Other writers: they know everything the partition has (as if the
    // server had relayed it) and write on top.
    const others = [5001, 5002].map((id) => {
        const doc = new P.Doc();
        doc.clientID = id;
        return doc;
    });

    const steps = [];
    let connected = chance(0.85);
    let initialSent = false;
    let updateIds = 0;
    const run = async (step) => {
        steps.push(step);
        switch (step.op) {
            case 'connect':
                conn.connect();
                break;
            case 'disconnect':
                conn.disconnect();
                break;
            case 'apply':
                try {
                    await partition.applyEvents(step.events);
                } catch (e) {
                    log.push('error');
                }
                break;
            case 'remote':
                await partition.sendRemoteEvents(step.events);
                break;
            case 'deliver':
                conn.events.get(step.message.type).next(step.message);
                break;
            case 'error':
                conn._onError.next(step.error);
                break;
            case 'start':
                partition.connect();
                break;
            case 'enable':
                partition.enableCollaboration();
                break;
            case 'unsubscribe':
                partition.unsubscribe();
                break;
            default:
                throw new Error(`unknown op ${step.op}`);
        }
        await flush();
    };

    if (connected) await run({ op: 'connect' });
    await run({ op: 'start' });

    const count = 15 + Math.floor(rnd() * 20);
    for (let i = 0; i < count; i++) {
        const r = rnd();
        if (r < 0.07) {
            if (connected) {
                await run({ op: 'disconnect' });
                connected = false;
                initialSent = false;
            } else {
                await run({ op: 'connect' });
                connected = true;
            }
        } else if (r < 0.3) {
            // A server update written by another document.
            const doc = pick(others);
            P.applyUpdate(doc, P.encodeStateAsUpdate(partition.doc));
            const updates = [];
            const handler = (u) => updates.push(b64(u));
            doc.on('update', handler);
            const bots = doc.getMap('bots');
            const id = pick(BOTS);
            const k = rnd();
            if (k < 0.4 || !bots.has(id)) {
                const m = new P.YMap();
                for (const tag of TAGS) if (chance(0.5)) m.set(tag, chance(0.5) ? new P.Text(`t${i}`) : i);
                bots.set(id, m);
            } else if (k < 0.7) {
                const m = bots.get(id);
                const tag = pick(TAGS);
                const v = m.get(tag);
                if (v instanceof P.Text) v.insert(Math.floor(rnd() * (v.length + 1)), `x${i}`);
                else m.set(tag, new P.Text(`s${i}`));
            } else if (k < 0.85) {
                bots.delete(id);
            } else {
                doc.getMap('masks').set(`${id}:${pick(TAGS)}`, new P.Text(`m${i}`));
            }
            doc.off('update', handler);
            const message = { type: 'repo/add_updates', ...ns, updates };
            if (!initialSent && chance(0.85)) {
                message.initial = true;
                initialSent = true;
            }
            if (chance(0.05)) message.updates = [];
            await run({ op: 'deliver', message });
        } else if (r < 0.5) {
            const id = pick(BOTS);
            const k = rnd();
            let event;
            if (k < 0.35) {
                const tags = {};
                for (const tag of TAGS) if (chance(0.6)) tags[tag] = chance(0.5) ? `v${i}` : i;
                event = { type: 'add_bot', id, bot: { id, tags } };
            } else if (k < 0.55) {
                event = { type: 'update_bot', id, update: { tags: { [pick(TAGS)]: chance(0.2) ? null : `u${i}` } } };
            } else if (k < 0.75) {
                const current = partition.state[id]?.tags?.[pick(TAGS)];
                const tag = pick(TAGS);
                const edit = {
                    ['\u0011tag_edit']: true,
                    version: { ...partition._currentVersion.vector },
                    operations: [[{ type: 'preserve', count: typeof current === 'string' ? Math.floor(rnd() * (current.length + 1)) : 0 }, { type: 'insert', text: `e${i}` }]],
                };
                event = { type: 'update_bot', id, update: { tags: { [tag]: edit } } };
            } else if (k < 0.85 && space) {
                event = { type: 'update_bot', id, update: { masks: { [space]: { [pick(TAGS)]: `mask${i}` } } } };
            } else {
                event = { type: 'remove_bot', id };
            }
            await run({ op: 'apply', events: [event] });
        } else if (r < 0.58) {
            await run({ op: 'deliver', message: { type: 'repo/watch_branch_result', ...ns, success: true } });
        } else if (r < 0.64) {
            const message = { type: 'repo/updates_received', ...ns, updateId: 1 + Math.floor(rnd() * (updateIds + 3)) };
            updateIds++;
            if (chance(0.15)) {
                message.errorCode = 'max_size_reached';
                message.maxBranchSizeInBytes = 10;
                message.neededBranchSizeInBytes = 11 + Math.floor(rnd() * 5);
            }
            await run({ op: 'deliver', message });
        } else if (r < 0.72) {
            const conn2 = { connectionId: pick(DEVICES), sessionId: 's', userId: 'u' };
            const k = rnd();
            const action =
                k < 0.4
                    ? { type: 'device', connection: conn2, event: { type: 'action', eventName: `ev${i}`, botIds: ['x'], userId: 'u', argument: { n: i } } }
                    : k < 0.7
                    ? { type: 'device', connection: conn2, event: { type: `t${i}` }, taskId: `task${i}` }
                    : k < 0.85
                    ? { type: 'device', connection: conn2, event: { type: `t${i}` } }
                    : { type: 'device_result', connection: conn2, result: i, taskId: `task${i}` };
            await run({ op: 'deliver', message: { type: 'repo/receive_action', ...ns, action } });
        } else if (r < 0.75) {
            await run({ op: 'deliver', message: { type: 'rate_limit_exceeded', retryAfter: 10, totalHits: 20 } });
        } else if (r < 0.78) {
            const error = { success: false, errorCode: pick(['not_authorized', 'inst_not_found', 'server_error']), errorMessage: 'no', ...ns };
            if (chance(0.5)) {
                await run({ op: 'error', error });
            } else {
                await run({ op: 'deliver', message: { type: 'repo/watch_branch_result', ...error } });
            }
        } else if (r < 0.9) {
            const k = rnd();
            let event;
            if (k < 0.3) {
                event = { type: 'remote', event: { type: `custom${i}` }, taskId: `task${i}`, connectionId: pick(DEVICES) };
            } else if (k < 0.45) {
                event = { type: 'remote', event: { type: 'get_remote_count', recordName, inst: 'inst', branch: null }, taskId: `task${i}` };
            } else if (k < 0.6) {
                const o = new P.Doc();
                o.clientID = 6000 + i;
                const m = new P.YMap();
                m.set('a', new P.Text(`applied${i}`));
                o.getMap('bots').set(`applied${i}`, m);
                event = { type: 'remote', event: { type: 'apply_updates_to_inst', updates: [{ id: 0, timestamp: 0, update: b64(P.encodeStateAsUpdate(o)) }] }, taskId: `task${i}` };
            } else if (k < 0.7) {
                event = { type: 'remote', event: { type: 'get_current_inst_update' }, taskId: `task${i}` };
            } else if (k < 0.8) {
                event = { type: 'remote', event: { type: 'list_inst_updates' }, taskId: `task${i}` };
            } else if (k < 0.9) {
                event = { type: 'remote_result', result: i, taskId: `task${i}`, connectionId: pick(DEVICES) };
            } else {
                event = { type: 'remote', event: { type: 'get_remotes' }, taskId: `task${i}` };
            }
            await run({ op: 'remote', events: [event] });
        } else if (r < 0.95) {
            await run({
                op: 'deliver',
                message: { type: 'repo/connection_count', recordName, inst: 'inst', branch: null, count: Math.floor(rnd() * 9) },
            });
        } else if (r < 0.98) {
            await run({ op: 'enable' });
        } else {
            await run({ op: 'unsubscribe' });
        }
    }
    return { session: { config, space: space ?? null, steps }, log };
}

function cppString(json) {
    if (json.includes(')json"')) throw new Error('raw string delimiter inside the data');
    return `R"json(${json})json"`;
}

async function main() {
    const args = process.argv.slice(2);
    const seedsAt = args.indexOf('--seeds');
    const seeds = seedsAt >= 0 ? Number(args[seedsAt + 1]) : 80;
    const peer = await loadPeer();
    const realNow = Date.now;
    Date.now = () => 1234;
    const out = [];
    out.push('// GENERATED by interop/tools/gen_remote_yjs_cases.mjs from the real');
    out.push('// @casual-simulation/aux-common 3.10.5 RemoteYjsPartition. Do not edit.');
    out.push('// Included by remote_yjs_partition_test.cc, which defines');
    out.push('// ExpectRemoteSession.');
    out.push('// clang-format off');
    out.push('');
    try {
        for (let seed = 1; seed <= seeds; seed++) {
            const { session: s, log } = await session(peer, seed);
            out.push(`TEST(RemoteYjsPartitionDiff, Seed${seed}) {`);
            out.push(`  ExpectRemoteSession(${cppString(JSON.stringify(s))},`);
            out.push(`                      ${cppString(JSON.stringify(log))});`);
            out.push('}');
            out.push('');
        }
    } finally {
        Date.now = realNow;
    }
    process.stdout.write(out.join('\n'));
}

await main();
