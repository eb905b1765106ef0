#!/usr/bin/env node
// Differential test: auxsync's MemoryPartition vs the real aux-common one.
//
//   node memory_partition_diff.mjs --auxsync PATH [--seeds N] [--start S]
//        [--tagged] [--jobs J] [--keep-going] [--bmp-only] [--timeout MS]
//
// For each seed S..S+N-1 (default 0..499): generate a scenario
// (gen_memory_scenario.mjs), run it in the real partition in this process
// (run_scenario.mjs) and as `PATH apply FILE [--tagged]` (FILE a temp file),
// and compare the two outputs as canonical JSON: whitespace and number
// spelling are normalised, object key ORDER is significant (integer-like keys
// first is part of the contract), -0 differs from 0.
//
// Seeds where upstream rejected a step (`error` in its output; aux-common
// throws a TypeError in a few situations, spec partitions.md 7.7, that
// auxsync handles deliberately) are compared only up to the step before the
// first error, and counted as "stopped at an upstream throw".
//
// On the first mismatch: prints the seed, the scenario, and the first
// differing emission/step of both sides, keeps the scenario file, and exits 1
// (with --keep-going: runs all seeds, reports every mismatching seed, shows
// the first three in full). Exit 2 for usage errors / a missing binary.
//
// --jobs: auxsync processes run at the same time (default 2, at most 2).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateMemoryScenario } from './gen_memory_scenario.mjs';
import { runScenarioText } from './run_scenario.mjs';
import {
    OrderedObject,
    canonical,
    firstDifference,
    parseOrdered,
    pretty,
} from './lib/tagged_json.mjs';
import { parseCommandLine, requireExecutable } from './lib/cli_args.mjs';

const USAGE =
    'usage: memory_partition_diff.mjs --auxsync PATH [--seeds N] [--start S] [--tagged]\n' +
    '         [--jobs 1|2] [--keep-going] [--bmp-only] [--timeout MS]';

function parseArgs(argv) {
    return parseCommandLine(argv, {
        name: 'memory_partition_diff',
        usage: USAGE,
        defaults: { seeds: 500, start: 0, tagged: false, jobs: 2, keepGoing: false, bmpOnly: false, timeout: 30000 },
        options: {
            '--auxsync': { key: 'auxsync', kind: 'string' },
            '--seeds': { key: 'seeds', kind: 'int' },
            '--start': { key: 'start', kind: 'int' },
            '--jobs': { key: 'jobs', kind: 'int', min: 1, max: 2 },
            '--timeout': { key: 'timeout', kind: 'int' },
            '--tagged': { key: 'tagged', kind: 'true' },
            '--keep-going': { key: 'keepGoing', kind: 'true' },
            '--bmp-only': { key: 'bmpOnly', kind: 'true' },
        },
        required: ['--auxsync'],
    });
}

/** Runs `bin apply file [--tagged]`; resolves {code, signal, stdout, stderr, timedOut}. */
function runAuxsync(bin, file, tagged, timeoutMs) {
    return runTool(bin, tagged ? ['apply', file, '--tagged'] : ['apply', file], timeoutMs);
}

function stepsOf(o) {
    const s = o instanceof OrderedObject ? o.get('steps') : undefined;
    return Array.isArray(s) ? s : null;
}

/**
 * Compares the JS (reference) output with auxsync's.
 * Returns {status: 'full'|'threw'|'mismatch', diff?, upto?, formatOnly?}.
 */
export function compareOutputs(jsText, cppText) {
    const js = parseOrdered(jsText);
    let cpp;
    try {
        cpp = parseOrdered(cppText);
    } catch (e) {
        return { status: 'mismatch', diff: { path: '', why: `auxsync printed invalid JSON: ${e.message}` } };
    }
    const jsSteps = stepsOf(js);
    const firstError = jsSteps.findIndex((s) => s.has('error'));
    if (firstError < 0) {
        const a = canonical(js);
        const b = canonical(cpp);
        if (a === b) {
            return { status: 'full', formatOnly: jsText.trim() !== cppText.trim() };
        }
        return { status: 'mismatch', diff: firstDifference(js, cpp) };
    }
    // Compare `initial` and the steps before the first upstream error.
    const cppSteps = stepsOf(cpp);
    const pick = (o, steps) =>
        new OrderedObject([
            ['initial', o instanceof OrderedObject ? o.get('initial') : undefined],
            ['steps', steps ? steps.slice(0, firstError) : steps],
        ]);
    const d = firstDifference(pick(js, jsSteps), pick(cpp, cppSteps));
    if (d) return { status: 'mismatch', diff: d, upto: firstError };
    return { status: 'threw', upto: firstError };
}

// The part of the output a difference lies in: an emission, a step's state,
// a step's header, final state, or the top level.
function unitOf(path) {
    let m = /^\.initial\[(\d+)\]/.exec(path);
    if (m) return { label: `initial emission #${m[1]}`, path: m[0] };
    m = /^\.steps\[(\d+)\]\.emissions\[(\d+)\]/.exec(path);
    if (m) return { label: `step #${m[1]}, emission #${m[2]}`, path: m[0], step: +m[1] };
    m = /^\.steps\[(\d+)\]\.emissions/.exec(path);
    if (m) return { label: `step #${m[1]}, emissions list`, path: m[0], step: +m[1] };
    m = /^\.steps\[(\d+)\]\.state/.exec(path);
    if (m) return { label: `step #${m[1]}, state after the step`, path: m[0], step: +m[1] };
    m = /^\.steps\[(\d+)\]/.exec(path);
    if (m) return { label: `step #${m[1]}`, path: m[0], step: +m[1] };
    m = /^\.final/.exec(path);
    if (m) return { label: 'final', path: '.final' };
    return { label: 'whole output', path: '' };
}

function getPath(v, path) {
    const re = /\.([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
    let m;
    while ((m = re.exec(path))) {
        if (v === undefined || v === null) return undefined;
        if (m[2] !== undefined) v = Array.isArray(v) ? v[+m[2]] : undefined;
        else {
            const k = m[1] ?? JSON.parse(m[3]);
            v = v instanceof OrderedObject ? v.get(k) : undefined;
        }
    }
    return v;
}

function summarizeEmissions(list) {
    if (!Array.isArray(list)) return '(none)';
    return list
        .map((e) => (e instanceof OrderedObject ? e.get('type') : '?'))
        .join(', ');
}

function report(seed, scenarioText, file, jsText, cppText, result, cppRun, tagged) {
    const lines = [];
    lines.push('='.repeat(78));
    lines.push(`MISMATCH at seed ${seed}`);
    lines.push(`scenario file: ${file}`);
    lines.push(`reproduce: node interop/run_scenario.mjs ${file}${tagged ? ' --tagged' : ''}`);
    lines.push('--- scenario ---');
    lines.push(JSON.stringify(JSON.parse(scenarioText), null, 2));
    if (cppRun && (cppRun.code !== 0 || cppRun.timedOut)) {
        lines.push('--- auxsync failed ---');
        lines.push(
            cppRun.timedOut
                ? 'timed out (killed)'
                : `exit status ${cppRun.code}${cppRun.signal ? `, signal ${cppRun.signal}` : ''}`
        );
        if (cppRun.stderr) lines.push('stderr:\n' + cppRun.stderr.trimEnd());
        if (cppRun.stdout) lines.push('stdout (first 2000 chars):\n' + cppRun.stdout.slice(0, 2000));
        return lines.join('\n');
    }
    const d = result.diff;
    if (!d.a && !d.b && d.why) {
        lines.push(d.why);
        lines.push('stdout (first 2000 chars):\n' + cppText.slice(0, 2000));
        return lines.join('\n');
    }
    const js = parseOrdered(jsText);
    const cpp = parseOrdered(cppText);
    const unit = unitOf(d.path);
    if (result.upto !== undefined) {
        lines.push(`(upstream threw at step #${result.upto}; only earlier steps are compared)`);
    }
    lines.push(`--- first difference: ${unit.label} ---`);
    lines.push(`path: ${d.path || '(root)'}   (${d.why})`);
    if (unit.step !== undefined) {
        const sc = JSON.parse(scenarioText);
        lines.push(`step #${unit.step} input: ${JSON.stringify(sc.steps[unit.step])}`);
        const jsStep = getPath(js, `.steps[${unit.step}]`);
        const cppStep = getPath(cpp, `.steps[${unit.step}]`);
        lines.push(`emissions (aux-common): ${summarizeEmissions(jsStep?.get?.('emissions'))}`);
        lines.push(`emissions (auxsync):    ${summarizeEmissions(cppStep?.get?.('emissions'))}`);
        if (unit.step > 0) {
            lines.push(`state before the step (aux-common): ${canonical(getPath(js, `.steps[${unit.step - 1}].state`))}`);
        }
    } else if (unit.path === '' || unit.label.startsWith('initial')) {
        lines.push(`initial (aux-common): ${summarizeEmissions(getPath(js, '.initial'))}`);
        lines.push(`initial (auxsync):    ${summarizeEmissions(getPath(cpp, '.initial'))}`);
    }
    const ua = getPath(js, unit.path);
    const ub = getPath(cpp, unit.path);
    lines.push('--- aux-common (expected) ---');
    lines.push(ua === undefined ? '(absent)' : pretty(ua));
    lines.push('--- auxsync (actual) ---');
    lines.push(ub === undefined ? '(absent)' : pretty(ub));
    if (unit.path !== d.path) {
        lines.push(`--- at ${d.path} ---`);
        lines.push(`aux-common: ${d.a === undefined ? '(absent)' : canonical(d.a)}`);
        lines.push(`auxsync:    ${d.b === undefined ? '(absent)' : canonical(d.b)}`);
    }
    return lines.join('\n');
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    const bin = resolve(o.auxsync);
    requireExecutable('memory_partition_diff', bin, 'build it first (cmake --build build --target auxsync)');
    const dir = mkdtempSync(join(tmpdir(), 'auxsync-memdiff-'));
    const totals = { seeds: 0, full: 0, threw: 0, mismatch: 0, formatOnly: 0 };
    const mismatches = [];
    let reportsShown = 0;
    let stop = false;
    let next = o.start;
    const end = o.start + o.seeds;

    async function one(seed) {
        const scenarioText = JSON.stringify(generateMemoryScenario(seed, { bmpOnly: o.bmpOnly }));
        const file = join(dir, `memory-seed-${seed}.json`);
        writeFileSync(file, scenarioText + '\n');
        const cppPromise = runAuxsync(bin, file, o.tagged, o.timeout);
        const jsText = await runScenarioText(scenarioText, { tagged: o.tagged });
        const cppRun = await cppPromise;
        let result;
        if (cppRun.code !== 0 || cppRun.timedOut) {
            result = { status: 'mismatch' };
        } else {
            result = compareOutputs(jsText, cppRun.stdout);
        }
        totals.seeds++;
        if (result.status === 'full') {
            totals.full++;
            if (result.formatOnly) totals.formatOnly++;
        } else if (result.status === 'threw') {
            totals.threw++;
        }
        if (result.status !== 'mismatch') {
            rmSync(file, { force: true });
            return;
        }
        totals.mismatch++;
        mismatches.push(seed);
        if (!o.keepGoing) stop = true;
        if (reportsShown < (o.keepGoing ? 3 : 1)) {
            reportsShown++;
            console.log(report(seed, scenarioText, file, jsText, cppRun.stdout, result, cppRun, o.tagged));
        }
    }

    async function worker() {
        while (!stop && next < end) {
            const seed = next++;
            await one(seed);
        }
    }
    await Promise.all(Array.from({ length: o.jobs }, worker));

    if (mismatches.length === 0) {
        rmSync(dir, { recursive: true, force: true });
    } else {
        mismatches.sort((a, b) => a - b);
        console.log(`mismatching seeds: ${mismatches.join(' ')} (scenario files kept in ${dir})`);
    }
    const fmt =
        totals.formatOnly > 0
            ? ` (${totals.formatOnly} equal only after normalising whitespace/number spelling)`
            : '';
    console.log(
        `memory diff: ${totals.seeds} seeds, ${totals.full} compared fully, ` +
            `${totals.threw} stopped at an upstream throw, ${totals.mismatch} mismatches${fmt}`
    );
    process.exit(totals.mismatch > 0 ? 1 : 0);
}

import { fileURLToPath } from 'node:url';
import { runTool } from './lib/run_tool.mjs';
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    main().catch((e) => {
        console.error(e?.stack ?? String(e));
        process.exit(1);
    });
}
