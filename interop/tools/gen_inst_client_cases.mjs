#!/usr/bin/env node
// Generates auxsync/client/internal/inst_client_cases_for_test.h: seeded
// random sessions of the client layer (watches, device watches, local
// updates, acknowledgements, reconnects, timed resends, counts, history
// requests) run through the REAL aux-common 3.10.5 InstRecordsClient on its
// MemoryConnectionClient, with the exact log of what it sent and reported.
// inst_records_client_test.cc replays every session through the C++
// InstRecordsClient and compares the logs line by line.
//
//   node interop/tools/gen_inst_client_cases.mjs [--seeds N] > auxsync/client/internal/inst_client_cases_for_test.h
//
// Scenario steps ({"op": ...}): connect, disconnect, watch {id, ns,
// temporary}, unwatch {id}, devices {id, ns}, undevices {id}, count {id,
// ns}, uncount {id}, get {id, ns}, rate {id} (rate limit events), add {ns,
// updates}, deliver {message},
// error {error}, time {now}, resend. `ns` is [recordName, inst, branch].
// Log lines: "sent <json>", "sync <syncing|synced> <rec>/<inst>/<branch>",
// "w<id> updates|action|max_size|error|result ...", "d<id> +|- <connId>",
// "c<id> <count>", "g<id> <updates json>", "r<id> <retryAfter>".
//
// Sessions never disconnect twice in a row (the real websocket client
// reports a disconnect once; the memory client of aux-common would repeat
// it) and never use "/" in names (upstream's timed resend splits its key on
// "/"; the C++ client keeps the triple, see the unit tests).

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { INTEROP_DIR } from '../build.mjs';
import { bundleIfStale, ensureInstalled } from '../lib/bundle.mjs';
import { mulberry32 } from '../lib/rng.mjs';

async function loadPeer() {
    ensureInstalled(['@casual-simulation/aux-common', 'esbuild']);
    const entry = join(INTEROP_DIR, 'inst_client_entry.mjs');
    const out = await bundleIfStale({ entry, out: join(INTEROP_DIR, 'dist', 'inst_client_peer.mjs') }, [entry]);
    return import(pathToFileURL(out).href);
}

const NAMESPACES = [
    [null, 'inst', 'a'],
    [null, 'inst', 'b'],
    ['rec', 'inst', 'a'],
    ['rec', 'inst2', 'default-player-x'],
];
const DEVICES = ['d1', 'd2', 'd3', 'me'];

function generate(seed) {
    const rnd = mulberry32(seed);
    const pick = (list) => list[Math.floor(rnd() * list.length)];
    const chance = (p) => rnd() < p;
    const steps = [];
    let connected = chance(0.8);
    if (connected) steps.push({ op: 'connect' });
    let nextId = 1;
    const watches = [];
    const deviceWatches = [];
    const counts = [];
    let updateCounter = 0;
    let now = 1000;
    let updateText = 0;
    const nsFields = (ns) => ({ recordName: ns[0], inst: ns[1], branch: ns[2] });
    const connection = (id) => ({ connectionId: id, sessionId: `s-${id}`, userId: `u-${id}` });
    const count = 20 + Math.floor(rnd() * 40);
    for (let i = 0; i < count; i++) {
        const r = rnd();
        const ns = pick(NAMESPACES);
        if (r < 0.06) {
            if (connected) {
                steps.push({ op: 'disconnect' });
                connected = false;
            } else {
                steps.push({ op: 'connect' });
                connected = true;
            }
        } else if (r < 0.08) {
            // A repeated login on an open socket.
            steps.push({ op: 'connect' });
            connected = true;
        } else if (r < 0.15) {
            const id = nextId++;
            watches.push(id);
            steps.push({ op: 'watch', id, ns, temporary: ns[2].includes('player') || chance(0.2) });
        } else if (r < 0.17 && watches.length > 0) {
            const id = watches.splice(Math.floor(rnd() * watches.length), 1)[0];
            steps.push({ op: 'unwatch', id });
        } else if (r < 0.21) {
            const id = nextId++;
            deviceWatches.push(id);
            steps.push({ op: 'devices', id, ns });
        } else if (r < 0.22 && deviceWatches.length > 0) {
            const id = deviceWatches.splice(Math.floor(rnd() * deviceWatches.length), 1)[0];
            steps.push({ op: 'undevices', id });
        } else if (r < 0.25) {
            const id = nextId++;
            counts.push(id);
            const full = [ns[0], chance(0.7) ? ns[1] : null, chance(0.7) ? ns[2] : null];
            steps.push({ op: 'count', id, ns: full });
        } else if (r < 0.26 && counts.length > 0) {
            const id = counts.splice(Math.floor(rnd() * counts.length), 1)[0];
            steps.push({ op: 'uncount', id });
        } else if (r < 0.28) {
            steps.push({ op: 'get', id: nextId++, ns });
        } else if (r < 0.40) {
            const updates = [];
            const n = 1 + Math.floor(rnd() * 2);
            for (let k = 0; k < n; k++) updates.push(`local${++updateText}`);
            if (chance(0.05)) updates.length = 0;
            if (updates.length > 0) updateCounter++;
            steps.push({ op: 'add', ns, updates });
        } else if (r < 0.52) {
            const message = { type: 'repo/add_updates', ...nsFields(ns), updates: [`remote${++updateText}`] };
            if (chance(0.4)) message.initial = true;
            if (chance(0.1)) message.timestamps = [123];
            steps.push({ op: 'deliver', message });
        } else if (r < 0.60) {
            const message = chance(0.8)
                ? { type: 'repo/watch_branch_result', ...nsFields(ns), success: true }
                : {
                      type: 'repo/watch_branch_result',
                      success: false,
                      errorCode: 'not_authorized',
                      errorMessage: 'Not authorized',
                      ...nsFields(ns),
                  };
            steps.push({ op: 'deliver', message });
        } else if (r < 0.70) {
            const message = {
                type: 'repo/updates_received',
                ...nsFields(ns),
                updateId: chance(0.85) ? 1 + Math.floor(rnd() * (updateCounter + 1)) : 999,
            };
            if (chance(0.1)) {
                message.errorCode = 'max_size_reached';
                message.maxBranchSizeInBytes = 10;
                message.neededBranchSizeInBytes = 11 + Math.floor(rnd() * 5);
            }
            steps.push({ op: 'deliver', message });
        } else if (r < 0.73) {
            steps.push({
                op: 'deliver',
                message: {
                    type: 'repo/receive_action',
                    ...nsFields(ns),
                    action: { type: 'device', connection: connection(pick(DEVICES)), event: { type: `e${i}` } },
                },
            });
        } else if (r < 0.81) {
            steps.push({
                op: 'deliver',
                message: {
                    type: 'repo/connected_to_branch',
                    broadcast: chance(0.1),
                    branch: { type: 'repo/watch_branch', ...nsFields(ns) },
                    connection: connection(pick(DEVICES)),
                },
            });
        } else if (r < 0.87) {
            steps.push({
                op: 'deliver',
                message: {
                    type: 'repo/disconnected_from_branch',
                    broadcast: chance(0.1),
                    ...nsFields(ns),
                    connection: connection(pick(DEVICES)),
                },
            });
        } else if (r < 0.885) {
            if (chance(0.5)) {
                steps.push({ op: 'rate', id: nextId++ });
            } else {
                steps.push({
                    op: 'deliver',
                    message: { type: 'rate_limit_exceeded', retryAfter: Math.floor(rnd() * 100), totalHits: 7 },
                });
            }
        } else if (r < 0.90) {
            const full = [ns[0], chance(0.7) ? ns[1] : null, chance(0.7) ? ns[2] : null];
            steps.push({
                op: 'deliver',
                message: {
                    type: 'repo/connection_count',
                    recordName: full[0],
                    inst: full[1],
                    branch: full[2],
                    count: Math.floor(rnd() * 10),
                },
            });
        } else if (r < 0.93) {
            steps.push({
                op: 'error',
                error: {
                    success: false,
                    errorCode: pick(['not_authorized', 'inst_not_found']),
                    errorMessage: 'x',
                    ...nsFields(ns),
                },
            });
        } else {
            now += pick([500, 1000, 4000, 5000, 10000, 20000, 40000]);
            steps.push({ op: 'time', now });
            steps.push({ op: 'resend' });
        }
    }
    return steps;
}

function run(peer, steps) {
    const log = [];
    let now = 1000;
    const realNow = Date.now;
    Date.now = () => now;
    try {
        const conn = new peer.MemoryConnectionClient({ connectionId: 'me', sessionId: 's-me', userId: 'u-me' });
        const names = [
            'repo/add_updates',
            'repo/watch_branch_result',
            'repo/updates_received',
            'repo/receive_action',
            'repo/connected_to_branch',
            'repo/disconnected_from_branch',
            'repo/connection_count',
            'rate_limit_exceeded',
        ];
        // Plain synchronous subjects per message type, as upstream's specs set up.
        for (const name of names) conn.events.set(name, new (conn._onError.constructor)());
        conn.send = (m) => log.push(`sent ${JSON.stringify(m)}`);
        const client = new peer.InstRecordsClient(conn);
        client.onSyncUpdatesEvent.subscribe((e) =>
            log.push(`sync ${e.type} ${e.recordName ?? ''}/${e.inst}/${e.branch}`)
        );
        const handles = new Map();
        for (const step of steps) {
            switch (step.op) {
                case 'connect':
                    conn.connect();
                    break;
                case 'disconnect':
                    conn.disconnect();
                    break;
                case 'watch': {
                    const [recordName, inst, branch] = step.ns;
                    const k = step.id;
                    handles.set(
                        k,
                        client
                            .watchBranchUpdates({
                                type: 'repo/watch_branch',
                                recordName,
                                inst,
                                branch,
                                temporary: step.temporary ? true : undefined,
                                markers: undefined,
                            })
                            .subscribe((e) => {
                                if (e.type === 'updates') log.push(`w${k} updates ${JSON.stringify(e.updates)}`);
                                else if (e.type === 'event') log.push(`w${k} action ${JSON.stringify(e.action.event)}`);
                                else if (e.type === 'error' && e.kind === 'max_size_reached')
                                    log.push(`w${k} max_size ${e.maxBranchSizeInBytes} ${e.neededBranchSizeInBytes}`);
                                else if (e.type === 'error') log.push(`w${k} error ${e.info.errorCode}`);
                                else if (e.type === 'repo/watch_branch_result') log.push(`w${k} result ${e.success}`);
                                else log.push(`w${k} unknown ${JSON.stringify(e)}`);
                            })
                    );
                    break;
                }
                case 'devices': {
                    const k = step.id;
                    handles.set(
                        k,
                        client.watchBranchDevices(...step.ns).subscribe((e) => {
                            const sign = e.type === 'repo/connected_to_branch' ? '+' : '-';
                            log.push(`d${k} ${sign} ${e.connection.connectionId}`);
                        })
                    );
                    break;
                }
                case 'count': {
                    const k = step.id;
                    handles.set(k, client.connectionCount(...step.ns).subscribe((c) => log.push(`c${k} ${c}`)));
                    break;
                }
                case 'rate': {
                    const k = step.id;
                    handles.set(
                        k,
                        client.watchRateLimitExceeded().subscribe((e) => log.push(`r${k} ${e.retryAfter}`))
                    );
                    break;
                }
                case 'get': {
                    const k = step.id;
                    handles.set(
                        k,
                        client.getBranchUpdates(...step.ns).subscribe((e) => log.push(`g${k} ${JSON.stringify(e.updates)}`))
                    );
                    break;
                }
                case 'unwatch':
                case 'undevices':
                case 'uncount':
                    handles.get(step.id).unsubscribe();
                    handles.delete(step.id);
                    break;
                case 'add':
                    client.addUpdates(...step.ns, step.updates);
                    break;
                case 'deliver':
                    conn.events.get(step.message.type).next(step.message);
                    break;
                case 'error':
                    conn._onError.next(step.error);
                    break;
                case 'time':
                    now = step.now;
                    break;
                case 'resend':
                    client._resendUpdatesAfter = 5000;
                    client._resendUpdates();
                    break;
                default:
                    throw new Error(`unknown op ${step.op}`);
            }
        }
    } finally {
        Date.now = realNow;
    }
    return log;
}

function cppString(json) {
    if (json.includes(')json"')) throw new Error('raw string delimiter inside the data');
    return `R"json(${json})json"`;
}

async function main() {
    const args = process.argv.slice(2);
    const seedsAt = args.indexOf('--seeds');
    const seeds = seedsAt >= 0 ? Number(args[seedsAt + 1]) : 150;
    const peer = await loadPeer();
    const out = [];
    out.push('// GENERATED by interop/tools/gen_inst_client_cases.mjs from the real');
    out.push('// @casual-simulation/aux-common 3.10.5 InstRecordsClient. Do not edit.');
    out.push('// Included by inst_records_client_test.cc, which defines ExpectSession.');
    out.push('// clang-format off');
    out.push('');
    for (let seed = 1; seed <= seeds; seed++) {
        const steps = generate(seed);
        const log = run(peer, steps);
        out.push(`TEST(InstRecordsClientDiff, Seed${seed}) {`);
        out.push(`  ExpectSession(${cppString(JSON.stringify(steps))},`);
        out.push(`                ${cppString(JSON.stringify(log))});`);
        out.push('}');
        out.push('');
    }
    process.stdout.write(out.join('\n'));
}

await main();
