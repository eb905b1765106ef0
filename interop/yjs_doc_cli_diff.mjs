#!/usr/bin/env node
// Differential test of the `auxsync doc` command line against the real yjs
// 13.6.27: the binary as a user runs it (argument parsing, update files,
// output), on updates of the seeded yjs_gen.mjs scenarios, some of them
// reshaped into layouts yjs never writes (lib/yjs_reshape.mjs).
//
//   node yjs_doc_cli_diff.mjs --auxsync PATH [--seeds N] [--start S]
//
// For each seed, three cases of 1-3 of the scenario's updates (v1 or v2),
// written one base64 line each to a file:
//   doc merge [--v2] FILE          against mergeUpdates
//   doc diff [--v2] FILE SV        against diffUpdate(mergeUpdates, SV), SV
//                                  the state vector of another update
//   doc sv [--v2] FILE             against encodeStateVector of a yjs doc
//                                  that applied the updates in order
//   doc encode [--v2] --sv SV FILE against encodeStateAsUpdate of that doc
// Ends with `yjs doc cli diff: N seeds, C cases, M mismatches`; exits 1 on a
// mismatch, 2 on a usage error.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine, requireExecutable } from './lib/cli_args.mjs';
import { reshapeUpdate } from './lib/yjs_reshape.mjs';
import { Y, b64, unb64 } from './lib/yjs_runner.mjs';
import { generateYjsScenario, makeRng, parseFeatures } from './yjs_gen.mjs';

const USAGE = 'usage: yjs_doc_cli_diff.mjs --auxsync PATH [--seeds N] [--start S]';

const o = parseCommandLine(process.argv.slice(2), {
    name: 'yjs_doc_cli_diff',
    usage: USAGE,
    defaults: { seeds: 40, start: 0 },
    options: {
        '--auxsync': { key: 'auxsync', kind: 'string' },
        '--seeds': { key: 'seeds', kind: 'int' },
        '--start': { key: 'start', kind: 'int' },
    },
    required: ['--auxsync'],
});
requireExecutable('yjs_doc_cli_diff', o.auxsync, 'build it first (scripts/setup.sh)');

/** Every update of the scenario's steps: [{v1, v2}] (base64). */
function updatesOf(vector) {
    const out = [];
    for (const step of vector.steps) {
        for (const e of step.expect?.emitted ?? []) out.push(e);
        if (step.as !== undefined && step.expect?.v1 !== undefined) out.push(step.expect);
    }
    return out;
}

/** What yjs gives for `fn()`, or the text of what it threw. */
function yjs(fn) {
    try {
        return fn();
    } catch (e) {
        return `(yjs threw: ${e.message})`;
    }
}

function auxsync(args) {
    try {
        return execFileSync(o.auxsync, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
        return `(auxsync failed: ${(e.stderr || e.message).trim().split('\n')[0]})`;
    }
}

const dir = mkdtempSync(join(tmpdir(), 'yjs-doc-cli-'));
let cases = 0;
let mismatches = 0;
try {
    for (let seed = o.start; seed < o.start + o.seeds; seed++) {
        // Without observers: only the updates are used here.
        const ups = updatesOf(generateYjsScenario(seed, parseFeatures('all,-events')));
        if (ups.length < 2) continue;
        const r = makeRng(seed ^ 0x2545f491);
        for (let c = 0; c < 3; c++) {
            const v2 = r.bool();
            const pick = () => unb64(v2 ? r.pick(ups).v2 : r.pick(ups).v1);
            const bytes = Array.from({ length: r.range(1, 3) }, () => {
                const b = pick();
                const mode = r.pick(['permute', 'split', 'none']);
                return mode === 'none' ? b : reshapeUpdate(b, v2, mode, r) ?? b;
            });
            const other = pick();
            const sv = b64(v2 ? Y.encodeStateVectorFromUpdateV2(other) : Y.encodeStateVectorFromUpdate(other));
            const file = join(dir, `seed${seed}-${c}.txt`);
            writeFileSync(file, bytes.map(b64).join('\n') + '\n');
            const flag = v2 ? ['--v2'] : [];
            const merged = yjs(() => (v2 ? Y.mergeUpdatesV2(bytes) : Y.mergeUpdates(bytes)));
            const doc = new Y.Doc();
            for (const b of bytes) (v2 ? Y.applyUpdateV2 : Y.applyUpdate)(doc, b);
            const checks = [
                ['merge', [...flag, file], typeof merged === 'string' ? merged : b64(merged)],
                ['diff', [...flag, file, sv], typeof merged === 'string' ? merged
                    : yjs(() => b64((v2 ? Y.diffUpdateV2 : Y.diffUpdate)(merged, unb64(sv))))],
                ['sv', [...flag, file], b64(Y.encodeStateVector(doc))],
                ['encode', [...flag, '--sv', sv, file],
                    b64((v2 ? Y.encodeStateAsUpdateV2 : Y.encodeStateAsUpdate)(doc, unb64(sv)))],
            ];
            for (const [action, args, want] of checks) {
                cases++;
                const got = auxsync(['doc', action, ...args]);
                if (got === want) continue;
                mismatches++;
                const kept = join(tmpdir(), `yjs-doc-cli-seed${seed}-${c}.txt`);
                writeFileSync(kept, bytes.map(b64).join('\n') + '\n');
                console.log(`seed ${seed} case ${c}: doc ${action} ${args.slice(0, -1).join(' ')} ` +
                            `differs (updates kept in ${kept})`);
                console.log(`  yjs:     ${want.slice(0, 160)}`);
                console.log(`  auxsync: ${got.slice(0, 160)}`);
            }
        }
    }
} finally {
    rmSync(dir, { recursive: true, force: true });
}
console.log(`yjs doc cli diff: ${o.seeds} seeds, ${cases} cases, ${mismatches} mismatches`);
process.exit(mismatches === 0 ? 0 : 1);
