#!/usr/bin/env node
// Benchmark of the REAL aux-common 3.10.5 MemoryPartition (the reference the
// C++ MemoryPartition benchmark is compared with).
//
//   node bench/js/memory_partition_bench.mjs [--reps N]
//
// Prints one JSON line on stdout:
//   {"impl":"aux-common","batch":N,"addsPerSec":N,"updatesPerSec":N}
// (per-repetition timings go to stderr).
//
// Workload (bench/memory_partition_bench.cc runs the same one):
//
//   Each run: a fresh partition createMemoryPartition({type:"memory",
//     initialState:{}, localSiteId:"L", remoteSiteId:"R"}), space = "shared",
//     one subscriber on each of the 8 observables (onBotsAdded,
//     onBotsRemoved, onBotsUpdated, onStateUpdated, onVersionUpdated,
//     onError, onEvents, onStatusUpdated) that only counts emissions,
//     connect() called before timing starts.
//
//   Phase "add" (timed): 2,000 applyEvents calls; call i (0-based) is
//     [{type:"add_bot", id:"bot<i>", bot:{id:"bot<i>", tags:T_i}}]
//     where T_i has 10 tags "tag0".."tag9", tag t = the string "value<i>_<t>".
//     Each call emits onBotsAdded + onStateUpdated.
//
//   Phase "update" (timed, same partition, right after "add"): 20,000
//     applyEvents calls; call i (0-based) is
//       [{type:"update_bot", id:"bot<i % 2000>",
//         update:{tags:{"tag<floor(i / 2000) % 10>": V_i}}}]
//     with V_i = the number i for even i and the string "s<i>" for odd i.
//     Every (bot, tag) pair is set exactly once, so every call is a change
//     and emits onBotsUpdated + onStateUpdated.
//
//   The action objects are built before the timed region (fresh for every
//   run: aux-common keeps references to them); only the one-element array
//   around each action is made in the loop. The calls are not awaited one
//   by one (their work is synchronous); the promise of the last call of a
//   phase is awaited inside that phase's timed region.
//
//   Runs: 1 warm-up run + 5 measured runs; the best (shortest) time of each
//   phase is reported as applyEvents calls per second, rounded.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const { loadPeer } = await import(join(here, '..', '..', 'interop', 'build.mjs'));
const peer = await loadPeer();

const BOTS = 2000;
const TAGS = 10;
const UPDATES = 20000;
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
const repsArg = argv.indexOf('--reps');
const REPS = repsArg >= 0 ? Number(argv[repsArg + 1]) : 5;

function makePartition() {
    const p = peer.createMemoryPartition({
        type: 'memory',
        initialState: {},
        localSiteId: 'L',
        remoteSiteId: 'R',
    });
    p.space = 'shared';
    const counts = {};
    for (const name of OBSERVABLES) {
        counts[name] = 0;
        p[name].subscribe(() => {
            counts[name]++;
        });
    }
    p.connect();
    return { p, counts };
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

function check(cond, msg) {
    if (!cond) throw new Error('benchmark sanity check failed: ' + msg);
}

// --batch N: N actions per applyEvents call (default 1).
const batchArg = process.argv.indexOf('--batch');
const BATCH = batchArg >= 0 ? Number(process.argv[batchArg + 1]) : 1;

// The actions cut into applyEvents batches (outside the timed region).
function batches(actions) {
    const out = [];
    for (let i = 0; i < actions.length; i += BATCH) {
        out.push(actions.slice(i, i + BATCH));
    }
    return out;
}

async function run() {
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

    // +1: the replays on subscribe.
    check(counts.onBotsAdded === adds.length + 1, `onBotsAdded ${counts.onBotsAdded}`);
    check(counts.onBotsUpdated === updates.length, `onBotsUpdated ${counts.onBotsUpdated}`);
    check(
        counts.onStateUpdated === adds.length + updates.length + 1,
        `onStateUpdated ${counts.onStateUpdated}`
    );
    check(Object.keys(p.state).length === BOTS, 'state size');
    const k = UPDATES - 1;
    check(
        p.state['bot' + (k % BOTS)].tags['tag' + (Math.floor(k / BOTS) % TAGS)] ===
            (k % 2 === 0 ? k : 's' + k),
        'final value'
    );
    return { add: t1 - t0, update: t2 - t1 };
}

await run(); // warm-up

let bestAdd = Infinity;
let bestUpdate = Infinity;
for (let r = 0; r < REPS; r++) {
    const { add, update } = await run();
    console.error(`run ${r + 1}: add ${add.toFixed(1)} ms, update ${update.toFixed(1)} ms`);
    bestAdd = Math.min(bestAdd, add);
    bestUpdate = Math.min(bestUpdate, update);
}

console.log(
    JSON.stringify({
        impl: 'aux-common',
        batch: BATCH,
        addsPerSec: Math.round(BOTS / (bestAdd / 1000)),
        updatesPerSec: Math.round(UPDATES / (bestUpdate / 1000)),
    })
);
