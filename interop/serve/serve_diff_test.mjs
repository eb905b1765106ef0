#!/usr/bin/env node
// Differential test: the same scripted sessions, frame by frame, against the
// Node reference server (the real aux-records 3.10.5 WebsocketController,
// ../node_server) and against `auxsync serve`. Each frame is sent alone and
// the replies are awaited before the next, so the Node server's concurrent
// handling (2.8) cannot reorder anything; then every socket must have
// received the same frames, byte for byte, once serverConnectionIds and
// times are masked (and device listings compared as sets, see
// sortListings).
//
//   node interop/serve/serve_diff_test.mjs --url ws://.../websocket [--seeds N]

import WebSocket from 'ws';
import { startReferenceServer } from '../node_server/reference_server.mjs';

function arg(name, fallback = null) {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : fallback;
}
const ours = arg('--url');
const seeds = Number(arg('--seeds', '20'));
const only = arg('--only');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rng(seed) {
    let s = seed >>> 0 || 1;
    return (k) => {
        s ^= s << 13;
        s >>>= 0;
        s ^= s >>> 17;
        s ^= s << 5;
        s >>>= 0;
        return s % k;
    };
}

const UPDATES = [
    'AQOtgsfkAQAnAQRib3RzBGJvdDABJwCtgsfkAQAFbGFiZWwCBACtgsfkAQEFaGVsbG8A',
    'AQP2u5vQCAAnAQRib3RzBGJvdDEBJwD2u5vQCAAFY29sb3ICBAD2u5vQCAEDcmVkAA==',
    'AQKo6cjPCgCn9rub0AgBAgQAqOnIzwoABGJsdWUB9rub0AgBAQQ=',
];

// A script: [socket, frame text | 'close' | 'open'].
function script(seed) {
    const pick = rng(seed);
    const steps = [];
    const inst = `d${seed}`;
    // b0 and b1 are watched as ordinary branches, b2 only as a temporary
    // one, written only by its watchers: the Node server's split of a name
    // into a temporary and a non-temporary branch (7.4) is not copied.
    const watchingTmp = [false, false, false];
    for (let s = 0; s < 3; s++) steps.push([s, 'open']);
    for (let s = 0; s < 3; s++) steps.push([s, JSON.stringify([1, 1, { type: 'login', connectionId: `c${s}` }])]);
    let id = 2;
    for (let n = 0; n < 40; n++) {
        const s = pick(3);
        const ns = { recordName: null, inst, branch: `b${pick(3)}` };
        const tmp = ns.branch === 'b2';
        let m;
        switch (pick(11)) {
            case 0:
            case 1:
                m = { type: 'repo/watch_branch', ...ns, ...(tmp ? { temporary: true } : {}) };
                if (tmp) watchingTmp[s] = true;
                break;
            case 2:
                m = { type: 'repo/unwatch_branch', ...ns };
                if (tmp) watchingTmp[s] = false;
                break;
            case 3:
                m = { type: 'repo/watch_branch_devices', ...ns };
                break;
            case 4:
                m = { type: 'repo/unwatch_branch_devices', ...ns };
                break;
            case 5:
            case 6:
                if (tmp && !watchingTmp[s]) continue;
                m = { type: 'repo/add_updates', ...ns, updates: [UPDATES[pick(3)]], updateId: id };
                break;
            case 7:
                m = {
                    type: 'repo/send_action',
                    ...ns,
                    action: {
                        type: 'remote',
                        event: { type: 'action', eventName: 'ping', argument: { n } },
                        ...(pick(2) ? { broadcast: true } : { connectionId: `c${pick(3)}` }),
                        ...(pick(2) ? { taskId: `t${n}` } : {}),
                    },
                };
                break;
            case 8:
                m = { type: 'repo/connection_count', ...ns };
                break;
            case 9:
                m = { type: 'repo/get_updates', ...ns };
                break;
            default:
                steps.push([s, 'close']);
                steps.push([s, 'open']);
                watchingTmp[s] = false;
                m = { type: 'login', connectionId: `c${s}` };
        }
        steps.push([s, JSON.stringify([1, id++, m])]);
    }
    return steps;
}

async function run(url, steps) {
    const sockets = [];
    const got = [[], [], []];
    for (const [s, what] of steps) {
        if (what === 'open') {
            const ws = new WebSocket(url);
            ws.on('message', (d) => {
                if (process.env.SERVE_DIFF_TRACE) process.stderr.write(`${url.slice(-20)} ${s} <- ${String(d).slice(0, 120)}\n`);
                got[s].push(String(d));
            });
            await new Promise((r, j) => {
                ws.once('open', r);
                ws.once('error', j);
            });
            sockets[s] = ws;
        } else if (what === 'close') {
            sockets[s].close();
            await new Promise((r) => sockets[s].once('close', r));
            got[s].push('-- closed');
        } else {
            if (process.env.SERVE_DIFF_TRACE) process.stderr.write(`${url.slice(-20)} ${s} -> ${what.slice(0, 120)}\n`);
            sockets[s].send(what);
        }
        await sleep(what === 'close' ? 100 : 15);
    }
    await sleep(200);
    for (const ws of sockets) ws.close();
    return got;
}

// Times and server connection ids differ between runs.
const mask = (text) =>
    text
        .replace(/"timestamps":\[[^\]]*\]/g, '"timestamps":[T]')
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID');

console.log = () => {}; // the controller logs every request
// A device listing (5.10) comes in the order of the server's registry: the
// reference memory store sorts it by the random serverConnectionId, the
// Redis store by hash order; clients do not depend on it. So runs of
// consecutive listing frames are compared as sets.
function sortListings(frames) {
    const out = [];
    let run = [];
    const isListing = (f) => f.startsWith('[1,-1,{"type":"repo/connected_to_branch","broadcast":false,"connection"');
    for (const f of [...frames, null]) {
        if (f !== null && isListing(f)) {
            run.push(f);
            continue;
        }
        out.push(...run.sort());
        run = [];
        if (f !== null) out.push(f);
    }
    return out;
}

const reference = await startReferenceServer({ port: 0 });
let failures = 0;
try {
    for (let seed = 1; seed <= seeds; seed++) {
        const steps = script(seed);
        if (only && String(seed) !== only) continue;
        const [a, b] = [await run(reference.url, steps), await run(ours, steps)];
        for (let s = 0; s < 3; s++) {
            const x = sortListings(a[s].map(mask));
            const y = sortListings(b[s].map(mask));
            const n = Math.max(x.length, y.length);
            for (let i = 0; i < n; i++) {
                if (x[i] !== y[i]) {
                    failures++;
                    process.stderr.write(`seed ${seed} socket ${s} frame ${i}:\n  node:    ${x[i]}\n  auxsync: ${y[i]}\n`);
                    if (process.env.SERVE_DIFF_VERBOSE) {
                        process.stderr.write(`script:\n  ${steps.map((x) => x.join(' ')).join('\n  ')}\nnode:\n  ${x.join('\n  ')}\nauxsync:\n  ${y.join('\n  ')}\n`);
                    }
                    break;
                }
            }
        }
    }
} finally {
    await reference.close();
}
process.stdout.write(`serve diff: ${seeds} sessions, ${failures} socket(s) differ\n`);
process.exit(failures ? 1 : 0);
