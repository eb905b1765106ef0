#!/usr/bin/env node
// The documented encoding divergence (docs/compatibility.md, pending structs
// over ids the document has collected) is what yjs_diff.mjs lets through,
// and nothing more:
//
//   node yjs_known_divergence_test.mjs --auxsync-replay PATH
//
// Seed 847705 of yjs_gen.mjs ends with document B holding GC 81:0 while an
// item 81:0 waits in its pending structs (its origin's client is missing):
// yjs encodes the stale item, auxsync the GC. The replay of that seed must
// differ from yjs in exactly B's two final encodings, both classified as the
// divergence; with the item's delete range removed from both encodings, with
// their pending data's Skip struct written as a GC (no longer an encoding
// of pending structs), or without a list for known divergences, the same
// difference is a mismatch.

import { compareVectors } from './lib/yjs_compare.mjs';
import { isCollectedPendingDivergence } from './lib/yjs_known_divergence.mjs';
import { Y } from './lib/yjs_runner.mjs';
import { runTool } from './lib/run_tool.mjs';
import { parseCommandLine, requireExecutable } from './lib/cli_args.mjs';
import { generateYjsScenario, parseFeatures } from './yjs_gen.mjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SEED = 847705;

function check(ok, what) {
    if (!ok) {
        console.error(`yjs_known_divergence_test: FAILED: ${what}`);
        process.exit(1);
    }
    console.log(`ok: ${what}`);
}

// B's delete set, last in a v1 update: client 81's range [0, 1) and the
// ranges of clients 17 and 13. Returns the bytes without client 81's range.
function withoutItemDelete(b64) {
    const bytes = Buffer.from(b64, 'base64');
    const tail = Buffer.from([3, 0x51, 1, 0, 1, 0x11, 1, 2, 5, 0x0d, 3, 0, 1, 9, 1, 0x13, 7]);
    check(bytes.subarray(bytes.length - tail.length).equals(tail), 'B ends with the delete set of seed 847705');
    const cut = Buffer.concat([bytes.subarray(0, bytes.length - tail.length), Buffer.from([2]), tail.subarray(5)]);
    return cut.toString('base64');
}

// The ids, lengths and kinds of a v1 update's structs, and its delete set.
function outline(bytes) {
    const u = Y.decodeUpdate(new Uint8Array(bytes));
    const structs = u.structs.map((s) => [s.constructor.name, s.id.client, s.id.clock, s.length]);
    const ds = [...u.ds.clients.entries()].map(([c, rs]) => [c, rs.map((r) => [r.clock, r.len])]);
    return { structs, ds: JSON.stringify(ds) };
}

// The v1 update with its one Skip struct written as a GC of the same clocks:
// the info byte 10 becomes 0, found as the one byte whose change turns that
// Skip, and nothing else, into a GC.
function skipAsGc(b64) {
    const bytes = Buffer.from(b64, 'base64');
    const before = outline(bytes);
    const skips = before.structs.filter(([kind]) => kind === 'Skip');
    check(skips.length === 1, 'the encoding has one Skip struct');
    const want = JSON.stringify(before.structs.map((s) => (s[0] === 'Skip' ? ['GC', ...s.slice(1)] : s)));
    const found = [];
    for (let i = 0; i < bytes.length; i++) {
        if (bytes[i] !== 10) continue;
        const copy = Buffer.from(bytes);
        copy[i] = 0;
        try {
            const after = outline(copy);
            if (JSON.stringify(after.structs) === want && after.ds === before.ds) found.push(copy);
        } catch {
            // not the info byte
        }
    }
    check(found.length === 1, 'one byte is the Skip struct\'s info byte');
    return found[0].toString('base64');
}

async function main() {
    const o = parseCommandLine(process.argv.slice(2), {
        name: 'yjs_known_divergence_test',
        usage: 'usage: yjs_known_divergence_test.mjs --auxsync-replay PATH',
        defaults: {},
        options: { '--auxsync-replay': { key: 'replay', kind: 'string' } },
        required: ['--auxsync-replay'],
    });
    const replay = resolve(o.replay);
    requireExecutable('yjs_known_divergence_test', replay, 'build crdt_replay first');
    const vector = generateYjsScenario(SEED, parseFeatures('all'));
    const dir = mkdtempSync(join(tmpdir(), 'auxsync-known-'));
    const file = join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify(vector) + '\n');
    const run = await runTool(replay, ['--actual', file], 60000);
    rmSync(dir, { recursive: true, force: true });
    check(run.code === 0, `crdt_replay ran (exit ${run.code}) ${run.stderr.slice(0, 400)}`);
    const actual = JSON.parse(run.stdout);

    const known = [];
    const mismatches = compareVectors(vector, actual, 20, known);
    check(mismatches.length === 0, `no mismatch (got ${JSON.stringify(mismatches).slice(0, 400)})`);
    check(
        known.length === 2 && known.every((k) => k.where === 'final B') &&
            known.map((k) => k.field).sort().join() === 'update,updateV2',
        `the divergence is B's two final encodings (got ${known.map((k) => `${k.where} ${k.field}`).join(', ')})`
    );
    check(compareVectors(vector, actual, 20).length === 2, 'without a known list the two are mismatches');

    const e = vector.final.B.update;
    const a = actual.final.B.update;
    check(isCollectedPendingDivergence(e, a, false), 'the v1 pair is the divergence');
    check(!isCollectedPendingDivergence(a, e, false), 'a GC of yjs against an item of ours is not');
    check(!isCollectedPendingDivergence(e, a, true), 'read as v2 it is not');
    check(
        !isCollectedPendingDivergence(withoutItemDelete(e), withoutItemDelete(a), false),
        'an item the delete set does not cover is not'
    );
    check(!isCollectedPendingDivergence(e, withoutItemDelete(a), false), 'different delete sets are not');
    check(
        !isCollectedPendingDivergence(skipAsGc(e), skipAsGc(a), false),
        'the same difference in encodings without pending data is not'
    );
    check(!isCollectedPendingDivergence(e, vector.final.A.update, false), "another document's encoding is not");
}

main().catch((e) => {
    console.error(e?.stack ?? String(e));
    process.exit(1);
});
