#!/usr/bin/env node
// A stand-in for the C++ `crdt_replay --actual FILE`, backed by the real yjs
// (lib/yjs_runner.mjs). Used to test yjs_diff.mjs without the C++ engine:
//
//   node yjs_diff.mjs --auxsync-replay tools/fake_crdt_replay.mjs --seeds 20
//
// FAKE_CRDT_REPLAY_MUTATE=<name> corrupts the output so that the driver's
// mismatch reporting can be checked:
//   flip-v2        flip a bit in the v2 bytes of the last emitted update
//   drop-emitted   drop the last emitted update of the scenario
//   unsupported    stop at the first text.delete with "unsupported op"
//   map-order      reverse the key order of final JSON maps (must still pass)
//   final-pending  set pendingStructs on the first doc
//   exit3          exit with status 3

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { runVector } = await import(join(here, '..', 'lib', 'yjs_runner.mjs'));

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!args.includes('--actual') || !file) {
    console.error('usage: fake_crdt_replay.mjs --actual FILE');
    process.exit(2);
}
const mutate = process.env.FAKE_CRDT_REPLAY_MUTATE ?? '';
if (mutate === 'exit3') {
    console.error('fake failure');
    process.exit(3);
}
const vector = JSON.parse(readFileSync(file, 'utf8'));
const out = runVector(vector);
const withEmitted = out.steps.filter((s) => s.expect?.emitted?.length);
switch (mutate) {
    case 'flip-v2': {
        const e = withEmitted.at(-1).expect.emitted.at(-1);
        const b = Buffer.from(e.v2, 'base64');
        b[b.length - 1] ^= 1;
        e.v2 = b.toString('base64');
        break;
    }
    case 'drop-emitted':
        withEmitted.at(-1).expect.emitted.pop();
        break;
    case 'unsupported': {
        const i = out.steps.findIndex((s) => s.op === 'text.delete');
        if (i >= 0) {
            out.steps = out.steps.slice(0, i + 1);
            const { expect: _e, ...op } = out.steps[i];
            out.steps[i] = { ...op, error: 'unsupported op text.delete' };
        }
        break;
    }
    case 'map-order':
        for (const f of Object.values(out.final)) {
            for (const [k, v] of Object.entries(f.json)) {
                if (v && typeof v === 'object' && !Array.isArray(v)) {
                    f.json[k] = Object.fromEntries(Object.entries(v).reverse());
                }
            }
        }
        break;
    case 'final-pending':
        Object.values(out.final)[0].pendingStructs = true;
        break;
    case '':
        break;
    default:
        console.error(`unknown FAKE_CRDT_REPLAY_MUTATE ${mutate}`);
        process.exit(2);
}
process.stdout.write(JSON.stringify(out) + '\n');
