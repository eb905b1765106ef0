#!/usr/bin/env node
// Golden cases for auxsync/partitions/yjs_helpers.h from the real
// aux-common 3.10.5 YjsHelpers (on its yjs 13.6.8): seeded random texts
// edited by 2-3 documents, version vectors captured along the way, and
// createRelativePositionFromStateVector / getTextChar answers on a document
// loaded from the final state update (so both sides start from the same
// bytes). Writes auxsync/partitions/internal/yjs_helpers_vectors_for_test.h.
//
//   node interop/yjs_helpers_gen.mjs [--seeds N] [--check]
//     --check: regenerate in memory and fail if the committed file differs.

import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, INTEROP_DIR } from './build.mjs';

const args = process.argv.slice(2);
const seeds = Number(args.includes('--seeds') ? args[args.indexOf('--seeds') + 1] : '120');
const check = args.includes('--check');
const OUT = join(INTEROP_DIR, '..', 'auxsync', 'partitions', 'internal', 'yjs_helpers_vectors_for_test.h');

async function loadPeer() {
    await ensureBuilt();
    const entry = join(INTEROP_DIR, 'yjs_helpers_entry.mjs');
    const out = join(INTEROP_DIR, 'dist', 'yjs_helpers_peer.mjs');
    const mtime = (p) => {
        try {
            return statSync(p).mtimeMs;
        } catch {
            return -Infinity;
        }
    };
    if (mtime(out) < Math.max(mtime(entry), mtime(join(INTEROP_DIR, 'package-lock.json')))) {
        const esbuild = await import('esbuild');
        const auxDir = join(INTEROP_DIR, 'node_modules', '@casual-simulation', 'aux-common', 'yjs');
        // `yjs` of the entry resolves to aux-common's own copy: one yjs.
        const plugin = {
            name: 'aux-common-yjs',
            setup(build) {
                build.onResolve({ filter: /^yjs$/ }, async (a) => {
                    if (a.importer !== entry) return undefined;
                    const r = await build.resolve('yjs', { resolveDir: auxDir, kind: a.kind });
                    return { path: r.path, errors: r.errors };
                });
            },
        };
        const r = await esbuild.build({
            entryPoints: [entry], bundle: true, write: false, platform: 'node',
            format: 'esm', target: 'node20', logLevel: 'warning', plugins: [plugin],
        });
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(`${out}.tmp`, r.outputFiles[0].contents);
        renameSync(`${out}.tmp`, out);
    }
    return import(pathToFileURL(out).href);
}

function rng(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const { Y, getStateVector, createRelativePositionFromStateVector, getTextChar } = await loadPeer();

function genCase(seed) {
    const r = rng(seed * 7919 + 1);
    const int = (n) => Math.floor(r() * n);
    const gc = r() < 0.6;
    const n = 2 + int(2);
    const docs = [];
    for (let i = 0; i < n; i++) {
        const d = new Y.Doc({ gc });
        d.clientID = [1, 2, 3, 1000, 4294967295][i + int(2)] + i;
        docs.push(d);
    }
    const vectors = [];
    const steps = 10 + int(30);
    for (let s = 0; s < steps; s++) {
        const d = docs[int(n)];
        const t = d.getText('t');
        const op = r();
        if (op < 0.5 || t.length === 0) {
            const str = ['a', 'bc', 'def', '🙂', 'xyz12'][int(5)];
            t.insert(int(t.length + 1), str);
        } else if (op < 0.75) {
            const at = int(t.length);
            t.delete(at, 1 + int(Math.min(4, t.length - at)));
        } else if (op < 0.9) {
            const a = docs[int(n)], b = docs[int(n)];
            Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
        } else {
            vectors.push(getStateVector(d));
        }
    }
    vectors.push(getStateVector(docs[0]));
    vectors.push({});
    for (let i = 1; i < n; i++) Y.applyUpdate(docs[0], Y.encodeStateAsUpdate(docs[i]));
    const update = Y.encodeStateAsUpdate(docs[0]);
    // Answers on a document loaded from `update`.
    const doc = new Y.Doc({ gc });
    Y.applyUpdate(doc, update);
    const text = doc.getText('t');
    const queries = [];
    for (let q = 0; q < 12; q++) {
        const vector = vectors[int(vectors.length)];
        const index = int(text.length + 3);
        const assoc = [0, -1, 1][int(3)];
        // Deleted content counts only when it kept its countable flag; a
        // document loaded with gc drops it (see yjs_helpers.h): only ask
        // includeDeleted without gc.
        const includeDeleted = !gc && r() < 0.5;
        const p = createRelativePositionFromStateVector(text, vector, index, assoc, includeDeleted);
        queries.push({
            vector,
            index,
            assoc,
            includeDeleted,
            item: p.item ? [p.item.client, p.item.clock] : null,
        });
    }
    const chars = [];
    for (let i = -1; i <= text.length; i++) chars.push(getTextChar(text, i));
    return {
        seed,
        gc,
        update: Buffer.from(update).toString('base64'),
        text: text.toString(),
        queries,
        chars: chars.map((c) => (c === null ? null : c.charCodeAt(0))),
    };
}

const cases = [];
for (let s = 0; s < seeds; s++) cases.push(genCase(s));
// ASCII only (non-ASCII as \uXXXX escapes), so that cutting the text into
// string literals never splits a character.
const json = JSON.stringify(cases).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
);
const header = `// Generated by interop/yjs_helpers_gen.mjs from aux-common 3.10.5's
// YjsHelpers (yjs 13.6.8); do not edit. ${seeds} seeded cases: a base64
// text document ("t"), queries of createRelativePositionFromStateVector
// with the expected target item, and getTextChar for indexes -1..length.
#ifndef AUXSYNC_PARTITIONS_INTERNAL_YJS_HELPERS_VECTORS_FOR_TEST_H_
#define AUXSYNC_PARTITIONS_INTERNAL_YJS_HELPERS_VECTORS_FOR_TEST_H_

namespace auxsync::partitions::testing {

// clang-format off
inline constexpr char kYjsHelpersVectors[] =
${json.match(/.{1,76}/gs).map((l) => `    R"__(${l})__"`).join('\n')};
// clang-format on

}  // namespace auxsync::partitions::testing

#endif  // AUXSYNC_PARTITIONS_INTERNAL_YJS_HELPERS_VECTORS_FOR_TEST_H_
`;
if (check) {
    const old = readFileSync(OUT, 'utf8');
    if (old !== header) {
        console.error('yjs_helpers_gen: the committed vectors differ from aux-common\'s answers');
        process.exit(1);
    }
    console.log(`yjs_helpers_gen: ${seeds} cases match`);
} else {
    writeFileSync(OUT, header);
    console.log(`yjs_helpers_gen: wrote ${cases.length} cases to ${OUT}`);
}
