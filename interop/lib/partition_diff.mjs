// What the YjsPartition differentials (yjs_partition_diff.mjs,
// yjs_partition_hostile_diff.mjs) share: running a scenario on both sides,
// masking what differs by design, reporting a mismatch.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runYjsScenario } from '../yjs_partition_runner.mjs';
import { OrderedObject, decodeTagged, firstDifference, parseOrdered, writeJson } from './tagged_json.mjs';
import { runTool } from './run_tool.mjs';

/** Masks inst-update timestamps (Date.now()) in a parsed output. */
export function maskTimestamps(v) {
    if (Array.isArray(v)) return v.map(maskTimestamps);
    if (v instanceof OrderedObject) {
        for (const e of v.entries) {
            if (e[0] === 'timestamp') e[1] = parseOrdered('0');
            else e[1] = maskTimestamps(e[1]);
        }
    }
    return v;
}

/**
 * Runs `scenario` in the real aux-common YjsPartition (--tagged output),
 * with Date.now() pinned to 1234 meanwhile.
 */
export async function runInUpstream(scenario) {
    const text = writeJson(scenario, true);
    const realNow = Date.now;
    Date.now = () => 1234;
    try {
        return await runYjsScenario(decodeTagged(JSON.parse(text)), { tagged: true });
    } finally {
        Date.now = realNow;
    }
}

/**
 * Writes `scenario` to DIR/NAME.json and runs `BIN apply FILE --tagged`;
 * returns its output (throws when it fails or times out).
 */
export async function runInAuxsync(bin, dir, name, scenario, timeoutMs) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, writeJson(scenario, true));
    const r = await runTool(bin, ['apply', file, '--tagged'], timeoutMs);
    if (r.code !== 0 || r.timedOut) {
        throw new Error(`auxsync apply ${file} failed (${r.timedOut ? 'timeout' : `exit ${r.code}`}): ${r.stderr}`);
    }
    return r.stdout.trim();
}

/** Prints where two parsed outputs first differ. */
export function printMismatch(what, file, js, cpp) {
    const d = firstDifference(js, cpp);
    console.error(`MISMATCH at ${what} (scenario kept in ${file})`);
    if (d) {
        console.error(`  path ${d.path}: ${d.why}\n  upstream: ${JSON.stringify(d.a)?.slice(0, 1500)}\n  auxsync:  ${JSON.stringify(d.b)?.slice(0, 1500)}`);
    }
}
