#!/usr/bin/env node
// Benchmark of the REAL aux-common 3.10.5 YjsPartition (the reference the
// C++ YjsPartition benchmark, bench/yjs_partition_bench.cc, is compared
// with; the workloads are described there and repeated here).
//
//   node bench/js/yjs_partition_bench.mjs [--batch N | --init] [--reps N]
//
// Prints one JSON line on stdout (per-repetition timings go to stderr):
//   --batch N: {"impl":"aux-common","batch":N,"addsPerSec","updatesPerSec",
//               "digest","sample"}
//   --init:    {"impl":"aux-common","initBots","initMs","encodeMs",
//               "updateBase64Chars","initUpdateBase64Chars","digest","sample"}
//
// Each run: a fresh createYjsPartition({type:"yjs", remoteEvents:true}),
// space = "shared", one counting subscriber on each of the 8 observables,
// connect() before timing starts.
//
// --batch N (default 1): 2,000 bots x 10 tags.
//   "add" (timed): 2,000 actions {type:"add_bot", id:"bot<i>", bot:{id,
//     tags}} with tag<t> = "value<i>_<t>", N per applyEvents call.
//   "update" (timed, same partition): 20,000 actions; action i is
//     {type:"update_bot", id:"bot<i % 2000>", update:{tags:{
//     "tag<floor(i / 2000) % 10>": V_i}}}, V_i = i (even i) or "s<i>" (odd).
//   The action objects and their batches are built before the timed region;
//   the calls are not awaited one by one (their work is synchronous), the
//   promise of the last call of a phase is awaited inside the timed region.
//
// --init: 10,000 bots init<i> with tag<t> = i * 10 + t (even t) or
//   "v<i>_<t>" (odd t), turned once into an initialization update with
//   constructInitializationUpdate({bots}). Timed: a fresh partition (made
//   outside the timed region) handling sendRemoteEvents([remote(
//   {type:"apply_updates_to_inst", updates:[update]}, ..., taskId)]) until its
//   state has all 10,000 bots ("init"), then sendRemoteEvents of
//   get_current_inst_update until its result is emitted ("encode").
//
// Runs: 1 warm-up + 5 measured (--reps); best time per phase reported.
// digest: FNV-1a 32 over the final state's bots sorted by id, each bot's
// tags sorted by name, of "id\ttag\t" + ("s" | "n") + String(value) + "\n";
// sample: one bot's sorted tags in that encoding.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const { loadPeer } = await import(join(here, '..', '..', 'interop', 'build.mjs'));
const peer = await loadPeer();

const BOTS = 2000;
const TAGS = 10;
const UPDATES = 20000;
const INIT_BOTS = 10000;
const OBSERVABLES = [
    'onBotsAdded',
    'onBotsRemoved',
    'onBotsUpdated',
    'onStateUpdated',
    'onVersionUpdated',
    'onError',
    'onEvents',
    'onStatusUpdated',
];

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const REPS = arg('--reps', 5);
const BATCH = arg('--batch', 1);
const INIT = argv.includes('--init');

function makePartition() {
    const p = peer.createYjsPartition({ type: 'yjs', remoteEvents: true });
    p.space = 'shared';
    const counts = {};
    let lastEvent;
    for (const name of OBSERVABLES) {
        counts[name] = 0;
        p[name].subscribe((e) => {
            counts[name]++;
            if (name === 'onEvents' && e.length > 0) {
                lastEvent = e[e.length - 1];
            }
        });
    }
    p.connect();
    return { p, counts, lastEvent: () => lastEvent };
}

function addActions() {
    const actions = [];
    for (let i = 0; i < BOTS; i++) {
        const tags = {};
        for (let t = 0; t < TAGS; t++) {
            tags['tag' + t] = 'value' + i + '_' + t;
        }
        const id = 'bot' + i;
        actions.push({ type: 'add_bot', id, bot: { id, tags } });
    }
    return actions;
}

function updateActions() {
    const actions = [];
    for (let i = 0; i < UPDATES; i++) {
        const value = i % 2 === 0 ? i : 's' + i;
        actions.push({
            type: 'update_bot',
            id: 'bot' + (i % BOTS),
            update: { tags: { ['tag' + (Math.floor(i / BOTS) % TAGS)]: value } },
        });
    }
    return actions;
}

function initBots() {
    const bots = [];
    for (let i = 0; i < INIT_BOTS; i++) {
        const tags = {};
        for (let t = 0; t < TAGS; t++) {
            tags['tag' + t] = t % 2 === 0 ? i * 10 + t : 'v' + i + '_' + t;
        }
        bots.push({ id: 'init' + i, tags });
    }
    return bots;
}

function batches(actions) {
    const out = [];
    for (let i = 0; i < actions.length; i += BATCH) {
        out.push(actions.slice(i, i + BATCH));
    }
    return out;
}

function check(cond, msg) {
    if (!cond) throw new Error('benchmark sanity check failed: ' + msg);
}

function sortedTags(bot) {
    const out = {};
    const tags = bot?.tags ?? {};
    for (const k of Object.keys(tags).sort()) {
        const v = tags[k];
        const kind = typeof v === 'string' ? 's' : typeof v === 'number' ? 'n' : '?';
        out[k] = kind + String(v);
    }
    return out;
}

// Keys compared by UTF-16 code units, as the C++ side compares bytes; the
// ids and tags here are ASCII, so both orders agree.
function digest(state) {
    let h = 0x811c9dc5;
    const feed = (s) => {
        const bytes = Buffer.from(s, 'utf8');
        for (let i = 0; i < bytes.length; i++) {
            h ^= bytes[i];
            h = Math.imul(h, 16777619) >>> 0;
        }
    };
    for (const id of Object.keys(state).sort()) {
        for (const [tag, value] of Object.entries(sortedTags(state[id]))) {
            feed(id + '\t' + tag + '\t' + value + '\n');
        }
    }
    return (h >>> 0).toString(16).padStart(8, '0');
}

async function runAddUpdate() {
    const adds = batches(addActions());
    const updates = batches(updateActions());
    const { p, counts } = makePartition();

    const t0 = performance.now();
    let last;
    for (let i = 0; i < adds.length; i++) {
        last = p.applyEvents(adds[i]);
    }
    await last;
    const t1 = performance.now();
    for (let i = 0; i < updates.length; i++) {
        last = p.applyEvents(updates[i]);
    }
    await last;
    const t2 = performance.now();

    check(Object.keys(p.state).length === BOTS, 'state size');
    check(counts.onBotsUpdated === updates.length, `onBotsUpdated ${counts.onBotsUpdated}`);
    const k = UPDATES - 1;
    check(
        p.state['bot' + (k % BOTS)].tags['tag' + (Math.floor(k / BOTS) % TAGS)] ===
            (k % 2 === 0 ? k : 's' + k),
        'final value'
    );
    return {
        add: t1 - t0,
        update: t2 - t1,
        digest: digest(p.state),
        sample: sortedTags(p.state['bot1235']),
    };
}

async function runInit(update) {
    const apply = [
        {
            type: 'remote',
            event: { type: 'apply_updates_to_inst', updates: [update] },
            taskId: 'apply',
        },
    ];
    const encode = [
        {
            type: 'remote',
            event: { type: 'get_current_inst_update' },
            taskId: 'encode',
        },
    ];
    const { p, lastEvent } = makePartition();

    const t0 = performance.now();
    await p.sendRemoteEvents(apply);
    // The state is filled synchronously by the transaction; wait a few
    // microtasks in case it were not.
    for (let i = 0; i < 100 && Object.keys(p.state).length < INIT_BOTS; i++) {
        await null;
    }
    const t1 = performance.now();
    check(Object.keys(p.state).length === INIT_BOTS, 'init state size');
    await p.sendRemoteEvents(encode);
    const t2 = performance.now();
    const ev = lastEvent();
    check(ev?.taskId === 'encode' && typeof ev.result?.update === 'string', 'encode result');
    return {
        init: t1 - t0,
        encode: t2 - t1,
        encoded: ev.result.update.length,
        digest: digest(p.state),
        sample: sortedTags(p.state['init4321']),
    };
}

if (INIT) {
    const update = peer.constructInitializationUpdate({
        type: 'create_initialization_update',
        bots: initBots(),
    });
    check(typeof update?.update === 'string', 'initialization update');
    let r = await runInit(update); // warm-up
    let bestInit = Infinity;
    let bestEncode = Infinity;
    for (let rep = 0; rep < REPS; rep++) {
        r = await runInit(update);
        console.error(`run ${rep + 1}: init ${r.init.toFixed(1)} ms, encode ${r.encode.toFixed(1)} ms`);
        bestInit = Math.min(bestInit, r.init);
        bestEncode = Math.min(bestEncode, r.encode);
    }
    console.log(
        JSON.stringify({
            impl: 'aux-common',
            initBots: INIT_BOTS,
            initMs: Number(bestInit.toFixed(3)),
            encodeMs: Number(bestEncode.toFixed(3)),
            updateBase64Chars: r.encoded,
            initUpdateBase64Chars: update.update.length,
            digest: r.digest,
            sample: r.sample,
        })
    );
} else {
    let r = await runAddUpdate(); // warm-up
    let bestAdd = Infinity;
    let bestUpdate = Infinity;
    for (let rep = 0; rep < REPS; rep++) {
        r = await runAddUpdate();
        console.error(`run ${rep + 1}: add ${r.add.toFixed(1)} ms, update ${r.update.toFixed(1)} ms`);
        bestAdd = Math.min(bestAdd, r.add);
        bestUpdate = Math.min(bestUpdate, r.update);
    }
    console.log(
        JSON.stringify({
            impl: 'aux-common',
            batch: BATCH,
            addsPerSec: Math.round(BOTS / (bestAdd / 1000)),
            updatesPerSec: Math.round(UPDATES / (bestUpdate / 1000)),
            digest: r.digest,
            sample: r.sample,
        })
    );
}
