// What the YjsPartition differentials (yjs_partition_diff.mjs,
// yjs_partition_hostile_diff.mjs) share: running a scenario on both sides,
// masking what differs by design, reporting a mismatch.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runYjsScenario } from '../yjs_partition_runner.mjs';
import { OrderedObject, canonical, decodeTagged, firstDifference, parseOrdered, writeJson } from './tagged_json.mjs';
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
 * Replaces client ids the generator does not pin (>= 10000) by "random" in
 * every version vector (a CurrentVersion's `vector`, a tag edit's `version`
 * of site ids), their clocks in sorted order, and drops the final document
 * bytes.
 */
export function forgetRandomIds(v) {
    if (Array.isArray(v)) return v.map(forgetRandomIds);
    if (v instanceof OrderedObject) {
        for (const e of v.entries) {
            const siteVector = e[1] instanceof OrderedObject &&
                (e[0] === 'vector' || (e[0] === 'version' && e[1].entries.every(([k]) => /^[0-9]+$/.test(k))));
            if (siteVector) {
                // Each side draws its own random ids, so with two or more of
                // them the (numeric) key order pairs the clocks differently:
                // the random entries keep their places and take their values
                // in sorted order.
                const values = e[1].entries
                    .filter(([k]) => k.length >= 5)
                    .map(([, x]) => [canonical(x), x])
                    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
                let next = 0;
                e[1] = new OrderedObject(
                    e[1].entries.map(([k, x]) => (k.length >= 5 ? ['random', values[next++][1]] : [k, x]))
                );
            } else if (e[0] === 'update' && typeof e[1] === 'string') {
                e[1] = null;
            } else {
                e[1] = forgetRandomIds(e[1]);
            }
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
