#!/usr/bin/env node
// Runs a scenario file (docs/scenarios.md) against the REAL aux-common
// partitions and prints exactly the output object `auxsync apply` must print.
//
//   node run_scenario.mjs FILE [--tagged]
//   node run_scenario.mjs --batch DIR_OR_JSONL [--tagged]
//
// Batch mode runs every *.json file of DIR (sorted by name) or every line of
// a .jsonl file and prints one JSON line per scenario:
//   {"file":"<name or line number>","output":<output object>}
// (a scenario that is bad input prints {"file":...,"badInput":"<message>"}).
//
// As a module: runScenarioText(text, {tagged}) -> output text (one line, no
// trailing newline); the differential drivers import it instead of spawning
// node per scenario.
//
// Exit status: 0 ok; 2 bad input (message on stderr, nothing on stdout);
// 1 internal failure.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { loadPeer } from './build.mjs';
import { decodeTagged, writeJson } from './lib/tagged_json.mjs';

/** Thrown for scenarios that are not valid input (exit status 2). */
export class BadInputError extends Error {
    constructor(message) {
        super(message);
        this.name = 'BadInputError';
    }
}

// The order in which observables are subscribed (docs/scenarios.md, Run 2).
export const OBSERVABLES = [
    'onBotsAdded',
    'onBotsRemoved',
    'onBotsUpdated',
    'onStateUpdated',
    'onVersionUpdated',
    'onError',
    'onEvents',
    'onStatusUpdated',
];

export const STEP_KINDS = ['applyEvents', 'sendRemoteEvents', 'applyUpdates', 'wait'];

// ---------------------------------------------------------------------------
// Partition kinds. Each entry says how to create the partition and how to run
// the step kinds that are not plain partition members. Add `yjs`,
// `remote_yjs`, ... here.

const PARTITION_KINDS = {
    memory: {
        async create(peer, scenario) {
            return peer.createAuxPartition(
                scenario.partition,
                { authSource: new peer.PartitionAuthSource() },
                peer.createMemoryPartition
            );
        },
        // A MemoryPartition has no binary updates.
        applyUpdates: null,
    },
};

// ---------------------------------------------------------------------------
// Validation (bad input -> exit 2, naming the step and field)

function isPlainObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function validate(s) {
    if (!isPlainObject(s)) {
        throw new BadInputError('scenario: expected a JSON object');
    }
    if (!isPlainObject(s.partition)) {
        throw new BadInputError('partition: expected an object');
    }
    if (typeof s.partition.type !== 'string') {
        throw new BadInputError('partition.type: expected a string');
    }
    if (!Object.hasOwn(PARTITION_KINDS, s.partition.type)) {
        throw new BadInputError(
            `partition.type: unsupported partition type ${JSON.stringify(s.partition.type)}`
        );
    }
    if ('space' in s && typeof s.space !== 'string' && s.space !== undefined) {
        throw new BadInputError('space: expected a string');
    }
    for (const f of ['clientId', 'remoteClientId']) {
        if (f in s && typeof s[f] !== 'number') {
            throw new BadInputError(`${f}: expected a number`);
        }
    }
    if (!Array.isArray(s.steps)) {
        throw new BadInputError('steps: expected an array');
    }
    s.steps.forEach((step, i) => {
        const where = `steps[${i}]`;
        if (!isPlainObject(step)) {
            throw new BadInputError(`${where}: expected an object`);
        }
        const keys = Object.keys(step);
        if (keys.length !== 1 || !STEP_KINDS.includes(keys[0])) {
            throw new BadInputError(
                `${where}: expected exactly one of ${STEP_KINDS.join(', ')}; got keys [${keys.join(', ')}]`
            );
        }
        const kind = keys[0];
        const arg = step[kind];
        if (kind === 'applyEvents' || kind === 'sendRemoteEvents') {
            if (!Array.isArray(arg)) {
                throw new BadInputError(`${where}.${kind}: expected an array of actions`);
            }
            arg.forEach((a, j) => {
                if (!isPlainObject(a) || typeof a.type !== 'string') {
                    throw new BadInputError(
                        `${where}.${kind}[${j}]: expected an action object with a string "type"`
                    );
                }
            });
        } else if (kind === 'applyUpdates') {
            if (!Array.isArray(arg) || !arg.every((u) => typeof u === 'string')) {
                throw new BadInputError(`${where}.applyUpdates: expected an array of base64 strings`);
            }
            if (!PARTITION_KINDS[s.partition.type].applyUpdates) {
                throw new BadInputError(
                    `${where}.applyUpdates: a ${s.partition.type} partition has no binary updates`
                );
            }
        } else if (kind === 'wait') {
            if (!isPlainObject(arg) || typeof arg.ms !== 'number' || !(arg.ms >= 0)) {
                throw new BadInputError(`${where}.wait.ms: expected a non-negative number`);
            }
        }
    });
}

// ---------------------------------------------------------------------------
// Running

/** Lets pending microtasks and the timers that are due run. */
async function flush() {
    await immediate();
    await sleep(0);
    await immediate();
}

function errorText(e) {
    if (e instanceof Error) {
        return `${e.name}: ${e.message}`;
    }
    return String(e);
}

let peerPromise = null;
/** Loads (building if needed) the aux-common bundle once per process. */
export function getPeer() {
    peerPromise ??= loadPeer();
    return peerPromise;
}

/**
 * Runs a decoded scenario (tag objects already replaced by JS values).
 * The scenario's objects are handed to the partition, which may mutate them:
 * pass a fresh object per run. Returns the output text.
 */
export async function runScenario(scenario, { tagged = false } = {}) {
    validate(scenario);
    const peer = await getPeer();
    const kind = PARTITION_KINDS[scenario.partition.type];
    const w = (v) => writeJson(v, tagged);

    // Emissions are serialised the moment they fire (a snapshot).
    let sink = [];
    const subscriptions = [];

    const partition = await kind.create(peer, scenario);
    if (!partition) {
        throw new BadInputError('partition: aux-common created no partition for this config');
    }
    if ('space' in scenario && scenario.space !== undefined) {
        partition.space = scenario.space;
    }
    for (const name of OBSERVABLES) {
        const obs = partition[name];
        subscriptions.push(
            obs.subscribe((value) => {
                sink.push(`{"type":${JSON.stringify(name)},"value":${w(value)}}`);
            })
        );
    }
    await partition.connect();
    await flush();
    const initial = sink;

    const steps = [];
    for (const step of scenario.steps) {
        sink = [];
        const stepKind = Object.keys(step)[0];
        const arg = step[stepKind];
        let result; // {returned} | {error}
        try {
            if (stepKind === 'applyEvents') {
                result = { returned: await partition.applyEvents(arg) };
            } else if (stepKind === 'sendRemoteEvents') {
                if (typeof partition.sendRemoteEvents === 'function') {
                    result = { returned: await partition.sendRemoteEvents(arg) };
                } else {
                    result = { returned: null };
                }
            } else if (stepKind === 'applyUpdates') {
                await kind.applyUpdates(partition, arg, scenario);
                result = { returned: null };
            } else if (stepKind === 'wait') {
                await sleep(arg.ms);
                result = { returned: null };
            }
        } catch (e) {
            result = { error: errorText(e) };
        }
        await flush();
        const head =
            'error' in result
                ? `"error":${JSON.stringify(result.error)}`
                : `"returned":${w(result.returned)}`;
        steps.push(
            `{"kind":${JSON.stringify(stepKind)},${head},"emissions":[${sink.join(',')}],"state":${w(partition.state)}}`
        );
    }
    sink = [];
    const finalState = w(partition.state);
    for (const s of subscriptions) {
        s.unsubscribe();
    }
    partition.unsubscribe?.();

    return `{"initial":[${initial.join(',')}],"steps":[${steps.join(',')}],"final":{"state":${finalState}}}`;
}

/** Parses scenario text (tagged JSON) and runs it. */
export async function runScenarioText(text, opts) {
    let raw;
    try {
        raw = JSON.parse(text);
    } catch (e) {
        throw new BadInputError(`invalid JSON: ${e.message}`);
    }
    return runScenario(decodeTagged(raw), opts);
}

// ---------------------------------------------------------------------------
// CLI

async function runBatch(target, tagged) {
    let items;
    if (statSync(target).isDirectory()) {
        items = readdirSync(target)
            .filter((f) => f.endsWith('.json'))
            .sort()
            .map((f) => [f, () => readFileSync(join(target, f), 'utf8')]);
    } else {
        items = readFileSync(target, 'utf8')
            .split('\n')
            .map((line, i) => [String(i + 1), () => line])
            .filter(([, get]) => get().trim() !== '');
    }
    for (const [name, get] of items) {
        let line;
        try {
            line = `{"file":${JSON.stringify(name)},"output":${await runScenarioText(get(), { tagged })}}`;
        } catch (e) {
            if (!(e instanceof BadInputError)) throw e;
            line = `{"file":${JSON.stringify(name)},"badInput":${JSON.stringify(e.message)}}`;
        }
        process.stdout.write(line + '\n');
    }
}

async function main(argv) {
    const tagged = argv.includes('--tagged');
    const rest = argv.filter((a) => a !== '--tagged');
    const usage = 'usage: run_scenario.mjs FILE [--tagged] | --batch DIR_OR_JSONL [--tagged]';
    if (rest[0] === '--batch') {
        if (rest.length !== 2) throw new BadInputError(usage);
        await runBatch(rest[1], tagged);
        return;
    }
    if (rest.length !== 1 || rest[0].startsWith('--')) {
        throw new BadInputError(usage);
    }
    let text;
    try {
        text = readFileSync(rest[0], 'utf8');
    } catch (e) {
        throw new BadInputError(`${basename(rest[0])}: ${e.message}`);
    }
    process.stdout.write((await runScenarioText(text, { tagged })) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    main(process.argv.slice(2)).then(
        () => {
            process.exitCode = 0;
        },
        (e) => {
            if (e instanceof BadInputError) {
                console.error(`run_scenario: ${e.message}`);
                process.exit(2);
            }
            console.error(e?.stack ?? String(e));
            process.exit(1);
        }
    );
}
