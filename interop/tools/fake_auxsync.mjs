#!/usr/bin/env node
// A stand-in for the C++ `auxsync apply FILE [--tagged]`, backed by the real
// aux-common partition (run_scenario.mjs). Used to test the differential
// drivers without the C++ binary:
//
//   node memory_partition_diff.mjs --auxsync tools/fake_auxsync.mjs --seeds 20
//
// FAKE_AUXSYNC_MUTATE=<name> deliberately corrupts the output so the drivers'
// mismatch reporting can be checked:
//   sort-added      sort addedBots lexicographically (as a std::map would)
//   drop-undefined  write `undefined` properties as absent even with --tagged
//   neg-zero        write -0 as 0 even with --tagged
//   space-first     move "space" to the front of every bot object
//   extra-emission  append an onVersionUpdated emission to the last step
//   pretty          indent the output (must still compare equal)
//   error-text      change the text of upstream errors (must still compare
//                   equal: steps from the first error on are not compared)
//   exit3           exit with status 3

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { runScenarioText, BadInputError } = await import(join(here, '..', 'run_scenario.mjs'));

const [cmd, file, ...rest] = process.argv.slice(2);
if (cmd !== 'apply' || !file) {
    console.error('usage: fake_auxsync.mjs apply FILE [--tagged]');
    process.exit(2);
}
const tagged = rest.includes('--tagged');
const mutate = process.env.FAKE_AUXSYNC_MUTATE ?? '';
if (mutate === 'exit3') {
    console.error('fake failure');
    process.exit(3);
}
let text;
try {
    text = await runScenarioText(readFileSync(file, 'utf8'), { tagged });
} catch (e) {
    if (e instanceof BadInputError) {
        console.error(e.message);
        process.exit(2);
    }
    throw e;
}
switch (mutate) {
    case 'sort-added':
        text = text.replace(/"addedBots":\[([^\]]*)\]/g, (m, list) => {
            const ids = list ? JSON.parse(`[${list}]`) : [];
            return `"addedBots":${JSON.stringify(ids.sort())}`;
        });
        break;
    case 'drop-undefined':
        text = text.replace(/,"[^"\\]*(?:\\.[^"\\]*)*":\{"\$type":"undefined"\}/g, '');
        break;
    case 'neg-zero':
        text = text.replaceAll('{"$type":"number","value":"-0"}', '0');
        break;
    case 'space-first':
        text = text.replace(/\{("id":"(?:[^"\\]|\\.)*","tags":)/g, '{"space":"?",$1');
        break;
    case 'extra-emission':
        text = text.replace(
            /"emissions":\[([^\]]*?)\],"state":(?![\s\S]*"emissions")/,
            (m, inner) =>
                `"emissions":[${inner}${inner ? ',' : ''}{"type":"onVersionUpdated","value":{}}],"state":`
        );
        break;
    case 'error-text':
        text = text.replace(/"error":"(?:[^"\\]|\\.)*"/g, '"error":"Error: changed"');
        break;
    case 'pretty':
        // Note: JSON.parse re-orders integer-like keys, so only re-indent.
        text = text.replace(/,"/g, ',\n  "');
        break;
}
process.stdout.write(text + '\n');
