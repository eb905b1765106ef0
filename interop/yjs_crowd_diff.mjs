#!/usr/bin/env node
// Differential test of many clients editing one place at once: auxsync's
// engine against the real yjs 13.6.27 where yjs_diff.mjs's 2–5 docs never
// go (long conflict scans: dozens of items inserted concurrently between
// the same origins, some placed after each other's items).
//
//   node yjs_crowd_diff.mjs --auxsync PATH [--seeds N] [--start S]
//
// For each seed: 20–80 yjs docs share a short text, then edit it in rounds
// (inserts, mostly at five hot places, and a few deletes), pulling each
// other's state at random between rounds. Every local update is recorded.
// A fresh yjs doc applies them (in the order they were made, then in a
// shuffled order: structs wait for their dependencies) and its
// encodeStateAsUpdate is the expectation; `PATH doc encode FILE` (the
// auxsync CLI) applies the same updates in the same order and must print
// the same bytes. Ends with `yjs crowd diff: N seeds, M mismatches`; exits
// 1 on a mismatch, 2 on a usage error.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine, requireExecutable } from './lib/cli_args.mjs';
import { mulberry32 } from './lib/rng.mjs';
import { Y, b64 } from './lib/yjs_runner.mjs';

const USAGE = 'usage: yjs_crowd_diff.mjs --auxsync PATH [--seeds N] [--start S]';

const o = parseCommandLine(process.argv.slice(2), {
    name: 'yjs_crowd_diff',
    usage: USAGE,
    defaults: { seeds: 60, start: 0 },
    options: {
        '--auxsync': { key: 'auxsync', kind: 'string' },
        '--seeds': { key: 'seeds', kind: 'int' },
        '--start': { key: 'start', kind: 'int' },
    },
    required: ['--auxsync'],
});
requireExecutable('yjs_crowd_diff', o.auxsync, 'build it first (scripts/setup.sh)');

/** The scenario of `seed`: every local update, in the order made. */
function crowdUpdates(seed) {
    const rand = mulberry32(seed);
    const int = (n) => Math.floor(rand() * n);
    const n = 20 + int(61);
    const ids = new Set();
    while (ids.size < n) ids.add(int(4) === 0 ? 1 + int(200) : 1 + int(2 ** 31 - 2));
    const docs = [...ids].map((id) => {
        const d = new Y.Doc();
        d.clientID = id;
        return d;
    });
    const updates = [];
    for (const d of docs) {
        d.on('update', (u, origin, doc, tr) => {
            if (tr.local) updates.push(u);
        });
    }
    docs[0].getText('text').insert(0, 'abcdefghij');
    const base = Y.encodeStateAsUpdate(docs[0]);
    for (const d of docs.slice(1)) Y.applyUpdate(d, base, 'sync');
    const rounds = 3 + int(4);
    for (let round = 0; round < rounds; round++) {
        for (const d of docs) {
            const t = d.getText('text');
            const edits = 1 + int(3);
            for (let e = 0; e < edits; e++) {
                const len = t.length;
                if (len > 4 && int(8) === 0) {
                    const at = int(len - 1);
                    t.delete(at, 1 + int(Math.min(3, len - at - 1)));
                    continue;
                }
                const hot = [2, 3, 5, 6, len];
                const at = int(5) === 0 ? int(len + 1) : Math.min(hot[int(5)], len);
                const s = String.fromCharCode(97 + int(26)).repeat(1 + int(3));
                t.insert(at, s);
            }
        }
        // Some docs see some others' edits before the next round: their
        // inserts get origins among the concurrent items.
        for (const d of docs) {
            if (int(2) !== 0) continue;
            const other = docs[int(docs.length)];
            if (other === d) continue;
            Y.applyUpdate(d, Y.encodeStateAsUpdate(other, Y.encodeStateVector(d)), 'sync');
        }
    }
    return { updates, clients: n, rounds };
}

function shuffled(list, seed) {
    const rand = mulberry32(seed ^ 0x5bd1e995);
    const out = list.slice();
    for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
}

const dir = mkdtempSync(join(tmpdir(), 'yjs-crowd-'));
let mismatches = 0;
try {
    for (let seed = o.start; seed < o.start + o.seeds; seed++) {
        const { updates, clients, rounds } = crowdUpdates(seed);
        for (const [order, list] of [['made', updates], ['shuffled', shuffled(updates, seed)]]) {
            const ref = new Y.Doc();
            for (const u of list) Y.applyUpdate(ref, u);
            const want = b64(Y.encodeStateAsUpdate(ref));
            const file = join(dir, `seed${seed}-${order}.txt`);
            writeFileSync(file, list.map(b64).join('\n') + '\n');
            let got;
            try {
                got = execFileSync(o.auxsync, ['doc', 'encode', file], { encoding: 'utf8' }).trim();
            } catch (e) {
                got = `(auxsync failed: ${e.message.split('\n')[0]})`;
            }
            if (got !== want) {
                mismatches++;
                console.log(`seed ${seed} (${clients} clients, ${rounds} rounds, ` +
                            `${list.length} updates, ${order} order): encoded states differ`);
                console.log(`  yjs:     ${want.slice(0, 120)}...`);
                console.log(`  auxsync: ${got.slice(0, 120)}...`);
                console.log(`  text yjs: ${JSON.stringify(ref.getText('text').toString().slice(0, 80))}`);
            }
        }
    }
} finally {
    rmSync(dir, { recursive: true, force: true });
}
console.log(`yjs crowd diff: ${o.seeds} seeds, ${mismatches} mismatches`);
process.exit(mismatches === 0 ? 0 : 1);
