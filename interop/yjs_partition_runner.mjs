#!/usr/bin/env node
// Runs a scenario file (docs/scenarios.md) against the REAL aux-common
// YjsPartition and prints what `auxsync apply` must print for it, including
// `final.update` (base64 of the document state).
//
//   node yjs_partition_runner.mjs FILE [--tagged]
//
// As a module: runYjsScenarioText(text, {tagged}) -> output text.
//
// The scenario's `clientId` / `remoteClientId` replace the random Yjs client
// ids upstream picks, so that document bytes and site ids are reproducible.
// Exit status: 0 ok; 2 bad input; 1 internal failure.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { getPeer, OBSERVABLES, BadInputError } from './run_scenario.mjs';
import { decodeTagged, writeJson } from './lib/tagged_json.mjs';

async function flush() {
    await immediate();
    await sleep(0);
    await immediate();
}

function errorText(e) {
    if (e instanceof Error) return `${e.name}: ${e.message}`;
    return String(e);
}

/** A YjsPartition for the scenario, with its client ids pinned. */
export async function createYjsPartition(peer, scenario) {
    const p = await peer.createAuxPartition(
        scenario.partition,
        { authSource: new peer.PartitionAuthSource() },
        peer.createYjsPartition
    );
    if (!p) return p;
    pinClientIds(p, scenario.clientId, scenario.remoteClientId);
    return p;
}

/** Replaces the random local/remote client ids of a fresh YjsPartition. */
export function pinClientIds(p, clientId, remoteClientId) {
    if (typeof clientId === 'number') {
        p._doc.clientID = clientId;
        p._localId = clientId;
    }
    if (typeof remoteClientId === 'number') {
        p._remoteId = remoteClientId;
    }
    p._currentVersion = {
        currentSite: p._localId.toString(),
        remoteSite: p._remoteId.toString(),
        vector: {},
    };
    p._onVersionUpdated.next(p._currentVersion);
}

// Upstream processes each transaction in an async function; when its
// internal MemoryPartition throws there (a TypeError of spec section 7.7,
// which auxsync's MemoryPartition does not reproduce), the rejection is
// unhandled. Node would end the process: they are collected instead and
// reported on the step as "unhandled".
let unhandled = [];
process.on('unhandledRejection', (e) => {
    unhandled.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
});

export async function runYjsScenario(scenario, { tagged = false } = {}) {
    if (scenario?.partition?.type !== 'yjs') {
        throw new BadInputError('partition.type: expected "yjs"');
    }
    const peer = await getPeer();
    const w = (v) => writeJson(v, tagged);
    let sink = [];
    const subscriptions = [];
    const partition = await createYjsPartition(peer, scenario);
    if ('space' in scenario && scenario.space !== undefined) {
        partition.space = scenario.space;
    }
    for (const name of OBSERVABLES) {
        subscriptions.push(
            partition[name].subscribe((value) => {
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
        const kind = Object.keys(step)[0];
        const arg = step[kind];
        let result;
        try {
            if (kind === 'applyEvents') {
                result = { returned: await partition.applyEvents(arg) };
            } else if (kind === 'sendRemoteEvents') {
                result = { returned: await partition.sendRemoteEvents(arg) };
            } else if (kind === 'applyUpdates') {
                partition.applyUpdates(arg);
                result = { returned: null };
            } else if (kind === 'wait') {
                await sleep(arg.ms);
                result = { returned: null };
            } else {
                throw new BadInputError(`unknown step ${kind}`);
            }
        } catch (e) {
            if (e instanceof BadInputError) throw e;
            result = { error: errorText(e) };
        }
        unhandled = [];
        await flush();
        const note = unhandled.length > 0 ? `"unhandled":${JSON.stringify(unhandled.join('; '))},` : '';
        const head =
            'error' in result
                ? `"error":${JSON.stringify(result.error)}`
                : `"returned":${w(result.returned)}`;
        steps.push(
            `{"kind":${JSON.stringify(kind)},${note}${head},"emissions":[${sink.join(',')}],"state":${w(partition.state)}}`
        );
    }
    const finalState = w(partition.state);
    // A bot written under the key `undefined` (add_bot of an apply_state
    // partial without id) makes yjs unable to encode its document: the
    // update is then null.
    let b64 = null;
    try {
        b64 = Buffer.from(peer.Y.encodeStateAsUpdate(partition.doc)).toString('base64');
    } catch (e) {
        b64 = null;
    }
    for (const s of subscriptions) s.unsubscribe();
    partition.unsubscribe?.();
    return `{"initial":[${initial.join(',')}],"steps":[${steps.join(',')}],"final":{"state":${finalState},"update":${JSON.stringify(b64)}}}`;
}

export async function runYjsScenarioText(text, opts) {
    let raw;
    try {
        raw = JSON.parse(text);
    } catch (e) {
        throw new BadInputError(`invalid JSON: ${e.message}`);
    }
    return runYjsScenario(decodeTagged(raw), opts);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    const argv = process.argv.slice(2);
    const tagged = argv.includes('--tagged');
    const rest = argv.filter((a) => a !== '--tagged');
    runYjsScenarioText(readFileSync(rest[0], 'utf8'), { tagged }).then(
        (out) => process.stdout.write(out + '\n'),
        (e) => {
            if (e instanceof BadInputError) {
                console.error(`yjs_partition_runner: ${e.message}`);
                process.exit(2);
            }
            console.error(e?.stack ?? String(e));
            process.exit(1);
        }
    );
}
