#!/usr/bin/env node
// Client-to-client latency of the REAL aux-common 3.10.5 client stack
// (AuthenticatedConnectionClient -> InstRecordsClient -> RemoteYjsPartition
// over `ws`), the reference `auxsync bench latency` is compared with.
//
//   node bench/js/client_latency_bench.mjs --url ws://HOST:PORT/websocket [--n N] [--warmup W]
//
// Two clients A and B in one process join a fresh public inst (branch
// "default"). A adds bot `lat`; then, N times one after another, A calls
// applyEvents([update_bot lat {seq: i}]) and the clock stops when B's
// onBotsUpdated reports `lat` with seq i. The first W rounds are not
// counted. Prints one JSON line:
//   {"impl":"aux-common","n":N,"p50Ms":..,"p99Ms":..,"meanMs":..,"maxMs":..}

import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const interop = join(here, '..', '..', 'interop');
const { loadReference } = await import(join(interop, 'node_server', 'build.mjs'));
const { WsConnectionClient } = await import(join(interop, 'node_server', 'ws_connection_client.mjs'));
const { parseCommandLine } = await import(join(interop, 'lib', 'cli_args.mjs'));

const o = parseCommandLine(process.argv.slice(2), {
    name: 'client_latency_bench',
    usage: 'usage: client_latency_bench.mjs --url URL [--n N] [--warmup W]',
    defaults: { n: 1000, warmup: 50 },
    options: {
        '--url': { key: 'url', kind: 'string' },
        '--n': { key: 'n', kind: 'int', min: 1 },
        '--warmup': { key: 'warmup', kind: 'int' },
    },
    required: ['--url'],
});

const R = await loadReference();
console.log = () => {}; // aux-common logs connection chatter

function join_(connectionId, inst) {
    const socket = new WsConnectionClient(o.url, R);
    const authSource = new R.PartitionAuthSource(new Map([[socket.origin, { connectionId }]]));
    const client = new R.InstRecordsClient(new R.AuthenticatedConnectionClient(socket, authSource));
    const partition = new R.RemoteYjsPartitionImpl(client, authSource, {
        type: 'remote_yjs',
        recordName: null,
        inst,
        branch: 'default',
    });
    partition.space = 'shared';
    const synced = R.firstValueFrom(
        partition.onStatusUpdated.pipe(R.filter((u) => u.type === 'sync' && u.synced))
    );
    partition.connect();
    socket.connect();
    return { socket, partition, synced };
}

function timeout(ms, what) {
    return new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref());
}

const inst = `latency-${process.pid}-${Date.now()}`;
const a = join_('latA', inst);
const b = join_('latB', inst);
await Promise.race([Promise.all([a.synced, b.synced]), timeout(10000, 'sync')]);

// B's view: resolves the waiter of seq i when it sees it.
let waiting = null;
b.partition.onBotsUpdated.subscribe((updates) => {
    for (const u of updates) {
        if (u.bot.id === 'lat' && waiting && u.bot.tags.seq === waiting.seq) {
            const w = waiting;
            waiting = null;
            w.resolve(performance.now());
        }
    }
});
const seen = new Promise((resolve) => {
    const sub = b.partition.onBotsAdded.subscribe((bots) => {
        if (bots.some((bot) => bot.id === 'lat')) {
            resolve();
            sub.unsubscribe();
        }
    });
});
await a.partition.applyEvents([R.botAdded(R.createBot('lat', { seq: -1 }))]);
await Promise.race([seen, timeout(10000, 'bot lat at B')]);

const samples = [];
for (let i = 0; i < o.warmup + o.n; i++) {
    const arrived = new Promise((resolve) => (waiting = { seq: i, resolve }));
    const t0 = performance.now();
    await a.partition.applyEvents([R.botUpdated('lat', { tags: { seq: i } })]);
    const t1 = await Promise.race([arrived, timeout(10000, `seq ${i} at B`)]);
    if (i >= o.warmup) samples.push(t1 - t0);
}
samples.sort((x, y) => x - y);
const pct = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
const round = (x) => Math.round(x * 1000) / 1000;
process.stdout.write(
    JSON.stringify({
        impl: 'aux-common',
        n: samples.length,
        p50Ms: round(pct(50)),
        p99Ms: round(pct(99)),
        meanMs: round(samples.reduce((s, x) => s + x, 0) / samples.length),
        maxMs: round(samples[samples.length - 1]),
    }) + '\n'
);
a.socket.disconnect();
b.socket.disconnect();
process.exit(0);
