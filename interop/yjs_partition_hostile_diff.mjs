#!/usr/bin/env node
// Differential test on documents shaped by other peers: auxsync's
// YjsPartition vs the real aux-common one, fed the same remote updates.
//
//   node yjs_partition_hostile_diff.mjs --auxsync PATH --corpus DIR|FILE
//        [--limit N] [--keep-going] [--timeout MS]
//
// DIR holds inputs of the fuzz_yjs_partition target (fuzz/; records
// [op][length: 2 bytes LE][bytes]), e.g. its seeds
// (fuzz/make_partition_corpus.mjs) or a corpus grown by scripts/fuzz.sh;
// FILE is a text file of such inputs, one base64 line each (# comments).
// The remote-update records (op % 4 == 0) of each input become the
// applyUpdates steps of a scenario (partition {type:"yjs", remoteEvents:
// true}, pinned client ids); the local writes are left out (the fuzz target
// picks their bots from its own state). The scenario runs in the real
// partition in this process and as `PATH apply FILE --tagged`; every
// emission, step state, the final state and the document bytes are
// compared as canonical JSON, up to the first step where the two may rightly
// differ (see main; docs/compatibility.md). Values that bots::Value does
// not model (BigInt, Uint8Array) are compared as what auxsync holds.
//
// Exit 1 on the first mismatch (all with --keep-going); 2 on usage errors.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Y } from './lib/yjs_runner.mjs';

import { OrderedNumber, OrderedObject, canonical, parseOrdered } from './lib/tagged_json.mjs';
import { maskTimestamps, printMismatch, runInAuxsync, runInUpstream } from './lib/partition_diff.mjs';
import { parseCommandLine, requireExecutable } from './lib/cli_args.mjs';

// The yjs aux-common 3.10.5 bundles (13.6.8): see firstYjsVersionSplit.
const Y813 = createRequire(import.meta.url)('@casual-simulation/aux-common/node_modules/yjs');

const USAGE =
    'usage: yjs_partition_hostile_diff.mjs --auxsync PATH --corpus DIR|FILE [--limit N] [--keep-going] [--timeout MS]';

function parseArgs(argv) {
    const o = parseCommandLine(argv, {
        name: 'yjs_partition_hostile_diff',
        usage: USAGE,
        defaults: { limit: 1e9, keepGoing: false, timeout: 30000 },
        options: {
            '--auxsync': { key: 'auxsync', kind: 'string' },
            '--corpus': { key: 'corpus', kind: 'string' },
            '--limit': { key: 'limit', kind: 'int' },
            '--timeout': { key: 'timeout', kind: 'int' },
            '--keep-going': { key: 'keepGoing', kind: 'true' },
        },
        required: ['--auxsync', '--corpus'],
    });
    requireExecutable('yjs_partition_hostile_diff', o.auxsync, 'build it first (cmake --build build --target auxsync)');
    return o;
}

/** The remote updates (base64) of a fuzz input, as the fuzz target reads them. */
function remoteUpdatesOf(bytes) {
    const out = [];
    let pos = 0;
    let records = 0;
    while (pos + 3 <= bytes.length && records++ < 64) {
        const op = bytes[pos];
        const n = Math.min(bytes[pos + 1] | (bytes[pos + 2] << 8), bytes.length - pos - 3);
        if (op % 4 === 0) out.push(Buffer.from(bytes.subarray(pos + 3, pos + 3 + n)).toString('base64'));
        pos += 3 + n;
    }
    return out;
}

/**
 * The inputs of a corpus by name: the files of a directory, or the lines of
 * a text file (base64 of one input each; named by line number).
 */
function readCorpus(path) {
    const inputs = new Map();
    if (statSync(path).isDirectory()) {
        for (const name of readdirSync(path)) inputs.set(name, readFileSync(join(path, name)));
    } else {
        readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
            if (line.trim() !== '' && !line.startsWith('#')) {
                inputs.set(`line${String(i + 1).padStart(5, '0')}`, Buffer.from(line.trim(), 'base64'));
            }
        });
    }
    return inputs;
}

/**
 * The first step whose update leaves aux-common's yjs (13.6.8) with another
 * document than the yjs 13.6.27 auxsync follows (the versions differ on
 * some malformed updates), or -1.
 */
function firstYjsVersionSplit(updates) {
    const docs = [new Y.Doc(), new Y813.Doc()];
    const libs = [Y, Y813];
    for (const d of docs) d.clientID = 7;
    for (let k = 0; k < updates.length; k++) {
        const seen = docs.map((d, i) => {
            try {
                libs[i].applyUpdate(d, Buffer.from(updates[k], 'base64'));
            } catch {
                // A throw is compared below through the document it left.
            }
            try {
                return Buffer.from(libs[i].encodeStateAsUpdate(d)).toString('base64') +
                       JSON.stringify([d.getMap('bots').toJSON(), d.getMap('masks').toJSON()]);
            } catch (e) {
                return String(e);
            }
        });
        if (seen[0] !== seen[1]) return k;
    }
    return -1;
}

/** Whether a v1 update's delete set has a client whose ranges are not in
 * increasing, non-overlapping order (yjs never writes one). */
function unsortedDeleteSet(base64) {
    let ds;
    try {
        ds = Y.decodeUpdate(Buffer.from(base64, 'base64')).ds;
    } catch {
        return false;
    }
    for (const ranges of ds.clients.values()) {
        for (let i = 1; i < ranges.length; i++) {
            if (ranges[i].clock < ranges[i - 1].clock + ranges[i - 1].len) return true;
        }
    }
    return false;
}

/**
 * Writes upstream's values that bots::Value does not model
 * (docs/compatibility.md) as what auxsync holds for them: a Uint8Array
 * (tagged {"$type":"bytes"}) as the plain object of the same JSON, a BigInt
 * (tagged {"$type":"bigint"}) as the number of its value.
 */
function asModelled(v) {
    if (Array.isArray(v)) return v.map(asModelled);
    if (v instanceof OrderedObject) {
        const [a, b] = v.entries;
        if (v.entries.length === 2 && a[0] === '$type' && a[1] === 'bytes' && b[0] === 'base64') {
            const bytes = Buffer.from(b[1], 'base64');
            return new OrderedObject([...bytes].map((x, i) => [String(i), new OrderedNumber(String(x))]));
        }
        if (v.entries.length === 2 && a[0] === '$type' && a[1] === 'bigint' && b[0] === 'value') {
            return new OrderedNumber(String(Number(BigInt(b[1]))));
        }
        for (const e of v.entries) e[1] = asModelled(e[1]);
    }
    return v;
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    console.warn = () => {};
    const dir = mkdtempSync(join(tmpdir(), 'yjs-hostile-'));
    const inputs = readCorpus(o.corpus);
    const files = [...inputs.keys()].sort().slice(0, o.limit);
    let failures = 0;
    let compared = 0;
    const cuts = {};
    let empty = 0;
    try {
        for (const name of files) {
            const updates = remoteUpdatesOf(inputs.get(name));
            if (updates.length === 0) {
                empty++;
                continue;
            }
            const scenario = {
                partition: { type: 'yjs', remoteEvents: true },
                clientId: 7,
                remoteClientId: 8,
                steps: updates.map((u) => ({ applyUpdates: [u] })),
            };
            const jsText = await runInUpstream(scenario);
            const cppText = await runInAuxsync(o.auxsync, dir, name, scenario, o.timeout);
            const js = asModelled(maskTimestamps(parseOrdered(jsText)));
            const cpp = maskTimestamps(parseOrdered(cppText));
            // Upstream can be left unable to encode its document.
            if (js.get('final').get('update') === null) {
                for (const e of cpp.get('final').entries) if (e[0] === 'update') e[1] = null;
            }
            // The comparison ends before the first step where the two may
            // rightly differ (docs/compatibility.md, "Yjs engine"):
            //  - upstream throws: a TypeError of its internal MemoryPartition
            //    ("unhandled", not reproduced, as in yjs_partition_diff.mjs),
            //    or an update it cannot read, which auxsync must refuse too
            //    (with its own message; yjs may have applied part of it by
            //    then, auxsync nothing), except yjs's "Unexpected case" for a
            //    delete range of length 0, which auxsync applies;
            //  - auxsync refuses a malformed update yjs takes in (a struct of
            //    length 0, a struct that names a later struct of its own
            //    client, a Skip info byte with flag bits);
            //  - the update's delete set is not sorted: yjs garbles such
            //    ranges when it keeps them pending;
            //  - the update leaves aux-common's yjs 13.6.8 with another
            //    document than yjs 13.6.27, which the engine follows.
            const jsSteps = js.get('steps');
            const cppSteps = cpp.get('steps');
            let cutAt = -1;
            let reason = '';
            let needCppError = false;
            const split = firstYjsVersionSplit(updates);
            for (let k = 0; k < jsSteps.length && cutAt < 0; k++) {
                const jsError = jsSteps[k].has('error') ? jsSteps[k].get('error') : null;
                const cppError = cppSteps[k]?.has('error') ? cppSteps[k].get('error') : null;
                if (k === split) {
                    [cutAt, reason] = [k, 'yjs 13.6.8 and 13.6.27 differ'];
                } else if (jsSteps[k].has('unhandled')) {
                    [cutAt, reason] = [k, 'upstream TypeError'];
                } else if (unsortedDeleteSet(updates[k])) {
                    [cutAt, reason] = [k, 'unsorted delete set'];
                } else if (jsError !== null) {
                    [cutAt, reason] = [k, 'upstream throw'];
                    needCppError = !/^Error: Unexpected case$/.test(jsError);
                } else if (cppError !== null && /struct of length 0|depends on a later struct|unknown content ref 10/.test(cppError)) {
                    [cutAt, reason] = [k, 'malformed update refused'];
                }
            }
            let ok;
            if (cutAt < 0) {
                ok = canonical(js) === canonical(cpp);
            } else {
                const upTo = (x) => canonical([x.get('initial'), x.get('steps').slice(0, cutAt)]);
                ok = upTo(js) === upTo(cpp) && (!needCppError || cppSteps[cutAt].has('error'));
                if (ok) cuts[reason] = (cuts[reason] ?? 0) + 1;
            }
            compared++;
            if (!ok) {
                failures++;
                printMismatch(name, join(dir, `${name}.json`), js, cpp);
                if (!o.keepGoing) process.exit(1);
            }
        }
    } finally {
        if (failures === 0) rmSync(dir, { recursive: true, force: true });
    }
    console.log(
        `yjs_partition_hostile_diff: ${compared - failures}/${compared} inputs identical ` +
            `(compared up to: ${JSON.stringify(cuts)}; ${empty} without remote updates skipped)`
    );
    process.exit(failures === 0 ? 0 : 1);
}

main().catch((e) => {
    console.error(e?.stack ?? String(e));
    process.exit(1);
});
