#!/usr/bin/env node
// Robustness of `auxsync serve` on raw `ws` sockets (issue 6 item 8). One
// phase per run; interop/serve_robustness_test.sh starts the servers with
// the options each phase needs and runs them:
//
//   --phase garbage   bad frames (fixed cases answered like the real
//                     server, checked against the Node reference core; then
//                     seeded random bytes, random JSON and mutated
//                     messages): only protocol answers come back, the socket
//                     stays usable, two other sockets keep syncing.
//   --phase oversize  frames above --max-frame-bytes close only their socket
//                     (1009); the others keep syncing.
//   --phase flood     one socket floods: rate_limit_exceeded, its frames
//                     beyond the limit dropped; a socket from another
//                     address (127.0.0.2) is served throughout.
//   --phase churn     thousands of connects/disconnects (clean closes and
//                     abrupt terminations, with watches and device
//                     watches): VmRSS and open fds of --pid return to their
//                     post-warm-up baseline, the server counts no socket
//                     but the observer.
//   --phase slow      a watcher stops reading while 32 MB of updates are
//                     broadcast: the writer and another watcher get
//                     everything at full speed.
//   --phase burst     writers send acknowledged updates until this process
//                     kill -9s --pid; the acknowledged update ids go to
//                     --acked FILE.
//   --phase verify    a fresh socket finds every update of --acked FILE.
//
// Prints `figure: name=value` lines for the report; exits 0 on success.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { mulberry32 } from '../lib/rng.mjs';

function arg(name, fallback = null) {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : fallback;
}
const url = arg('--url');
const phase = arg('--phase');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = (line) => process.stdout.write(`${line}\n`);
const figure = (name, value) => out(`figure: ${name}=${value}`);
function check(cond, what) {
    if (!cond) throw new Error(`failed: ${what}`);
    out(`ok: ${what}`);
}

// A raw socket: frames received (text), close code, helpers.
function open(options = {}) {
    return new Promise((resolve, reject) => {
        const ws = new WebSocket(url, options);
        const s = { ws, frames: [], closeCode: null, waiters: [] };
        ws.on('message', (d, binary) => {
            const text = binary ? '<binary>' : d.toString();
            s.frames.push(text);
            for (const w of [...s.waiters]) w();
        });
        ws.on('close', (code) => {
            s.closeCode = code;
            for (const w of [...s.waiters]) w();
        });
        ws.on('error', () => {});
        ws.once('open', () => resolve(s));
        ws.once('unexpected-response', () => reject(new Error('unexpected response')));
        setTimeout(() => reject(new Error('open timed out')), 10000);
        ws.once('error', reject);
    });
}
const send = (s, message, id = 1) => s.ws.send(JSON.stringify([1, id, message]));
// Resolves with the first frame (from index `from`) matching `pred`.
function waitFrame(s, pred, what, ms = 10000, from = 0) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            s.waiters = s.waiters.filter((w) => w !== probe);
            reject(new Error(`timed out: ${what}`));
        }, ms);
        const probe = () => {
            const f = s.frames.slice(from).find(pred);
            if (f) {
                clearTimeout(timer);
                s.waiters = s.waiters.filter((w) => w !== probe);
                resolve(f);
            }
        };
        s.waiters.push(probe);
        probe();
    });
}
async function login(s, connectionId) {
    const from = s.frames.length;
    send(s, { type: 'login', connectionId });
    await waitFrame(s, (f) => f.includes('"login_result"'), `login ${connectionId}`, 10000, from);
}
const ns = (inst, branch = 'default') => ({ recordName: null, inst, branch });
async function watch(s, inst, branch = 'default', temporary = false) {
    const from = s.frames.length;
    send(s, { type: 'repo/watch_branch', ...ns(inst, branch), ...(temporary ? { temporary } : {}) });
    await waitFrame(s, (f) => f.includes('watch_branch_result'), `watch ${inst}`, 10000, from);
}

// Two sockets that keep syncing: `writer` writes an update, `reader` must
// receive it and the writer its acknowledgement.
let pairSeq = 0;
async function pairStillServed(writer, reader, inst, what) {
    const n = ++pairSeq;
    const update = Buffer.from(`pair-${n}`).toString('base64');
    const fromW = writer.frames.length;
    const fromR = reader.frames.length;
    send(writer, { type: 'repo/add_updates', ...ns(inst), updates: [update], updateId: n });
    await waitFrame(writer, (f) => f.includes('updates_received') && f.includes(`"updateId":${n}`), `ack ${what}`, 10000, fromW);
    await waitFrame(reader, (f) => f.includes(update), `broadcast ${what}`, 10000, fromR);
}
async function syncPair(inst) {
    const w = await open();
    const r = await open();
    await login(w, 'pairWriter');
    await login(r, 'pairReader');
    await watch(w, inst);
    await watch(r, inst);
    return { w, r };
}

// The reply "shape" of a frame: [type, id, errorCode | message type].
function shape(frame) {
    try {
        const v = JSON.parse(frame);
        const body = v[2] ?? {};
        return JSON.stringify([v[0], v[1], body.errorCode ?? body.type ?? null]);
    } catch {
        return `unparseable ${frame.slice(0, 80)}`;
    }
}

async function garbage() {
    console.log = () => {}; // the reference controller logs refusals
    const { createReferenceCore } = await import('../node_server/reference_server.mjs');
    const refFrames = [];
    const core = await createReferenceCore({ deliver: (_, t) => refFrames.push(t) });
    const { w, r } = await syncPair('robust');
    const a = await open();
    await login(a, 'garbage');

    // Fixed cases: the same reply kinds as the real server's dispatch.
    const cases = [
        'not json',
        '[1,1,{"type":"login"',
        '['.repeat(100000),
        'null',
        '123',
        '"text"',
        '[]',
        '[1,"x",{}]',
        '[9,1]',
        '[1,1,null]',
        '[1,1,{"type":"nope"}]',
        '[1,3,{"type":"repo/add_updates","recordName":5,"inst":"i","branch":"b","updates":[]}]',
        '[1,4,{"type":"repo/add_updates","recordName":null,"inst":"i","branch":"b","updates":"x"}]',
        '[1,5,{"type":"repo/watch_branch","recordName":"","inst":"i","branch":"b"}]',
        '[2]',
        '[2,6]',
        '[4,7,"http://example.com/x","GET",{}]',
        '[3,8,true,"u","m",{}]',
        '[5,9,{}]',
        '{"__proto__":{"polluted":1}}',
        '[1,10,{"type":"sync/time","id":"x","clientRequestTime":1}]',
        '[1,11,{"type":"login","connectionId":12}]',
    ];
    let compared = 0;
    for (const text of cases) {
        refFrames.length = 0;
        await core.handleFrame('ref', text);
        const from = a.frames.length;
        a.ws.send(text);
        // A sync/time after each case: its response marks the end of the
        // case's replies (frames of one socket are handled in order).
        send(a, { type: 'sync/time', id: 1000 + compared, clientRequestTime: 1 });
        await waitFrame(a, (f) => f.includes(`"id":${1000 + compared}`), `marker after ${text.slice(0, 30)}`, 10000, from);
        const ours = a.frames.slice(from, -1).map(shape);
        const real = refFrames.map(shape);
        if (JSON.stringify(ours) !== JSON.stringify(real)) {
            throw new Error(`${text.slice(0, 60)}: ours ${ours} real ${real}`);
        }
        compared++;
    }
    check(true, `${compared} fixed bad frames get the reply kinds of the real server's dispatch`);
    // Nesting beyond the parser's bound (512) is not parsed: ignored (the
    // Node server parses it and answers unacceptable_request).
    a.ws.send('['.repeat(200000) + ']'.repeat(200000));
    a.ws.send('{"a":'.repeat(50000) + '1' + '}'.repeat(50000));
    await pairStillServed(w, r, 'robust', 'after deep nesting');

    // Seeded random frames.
    const rand = mulberry32(Number(arg('--seed', '7')));
    const pick = (xs) => xs[Math.floor(rand() * xs.length)];
    const valid = [
        { type: 'login', connectionId: 'garbage' },
        { type: 'repo/watch_branch', ...ns('robust') },
        { type: 'repo/add_updates', ...ns('fuzz'), updates: ['AAAA'], updateId: 1 },
        { type: 'repo/get_updates', ...ns('robust') },
        { type: 'repo/watch_branch_devices', ...ns('robust') },
        { type: 'repo/connection_count', ...ns('robust') },
        { type: 'repo/send_action', ...ns('robust'), action: { type: 'remote', event: { type: 'x' } } },
        { type: 'sync/time', id: 1, clientRequestTime: 5 },
        { type: 'repo/unwatch_branch', ...ns('fuzz') },
    ];
    function randomJson(depth) {
        const k = rand();
        if (depth > 4 || k < 0.3) return pick([null, true, false, 0, -1, 1e308, 3.5, '', 'x', 'repo/add_updates', '\u0000', '\ud800']);
        if (k < 0.65) return Array.from({ length: Math.floor(rand() * 5) }, () => randomJson(depth + 1));
        const o = {};
        for (let i = 0; i < Math.floor(rand() * 5); i++) o[pick(['type', 'recordName', 'inst', 'branch', 'updates', 'id', 'x'])] = randomJson(depth + 1);
        return o;
    }
    function mutate(text) {
        const chars = [...text];
        const n = 1 + Math.floor(rand() * 4);
        for (let i = 0; i < n; i++) {
            const at = Math.floor(rand() * chars.length);
            const op = rand();
            if (op < 0.33) chars.splice(at, 1);
            else if (op < 0.66) chars.splice(at, 0, pick(['"', '[', ']', '{', '}', ',', ':', '1', 'a', '\\', ' ']));
            else chars[at] = pick(['"', '0', 'x', '}', '-', 'e']);
        }
        return chars.join('');
    }
    const count = Number(arg('--frames', '3000'));
    let binary = 0;
    for (let i = 0; i < count; i++) {
        const k = rand();
        if (k < 0.2) {
            const bytes = Buffer.alloc(1 + Math.floor(rand() * 200));
            for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
            a.ws.send(bytes, { binary: true });
            binary++;
        } else if (k < 0.45) {
            a.ws.send(JSON.stringify(randomJson(0)));
        } else if (k < 0.6) {
            a.ws.send(JSON.stringify([pick([1, 2, 3, 4, 5, 6, -1, '1']), pick([1, -1, null, 'a', 2.5]), randomJson(1)]));
        } else {
            a.ws.send(mutate(JSON.stringify([1, i, pick(valid)])));
        }
        if (i % 500 === 499) await pairStillServed(w, r, 'robust', `during random frames (${i + 1})`);
    }
    send(a, { type: 'sync/time', id: 99999, clientRequestTime: 1 });
    await waitFrame(a, (f) => f.includes('"id":99999'), 'the garbage socket is still served', 20000);
    const bad = a.frames.filter((f) => {
        try {
            const v = JSON.parse(f);
            return !Array.isArray(v) || (v[0] !== 1 && v[0] !== 5);
        } catch {
            return true;
        }
    });
    check(bad.length === 0, `${count} random frames (${binary} binary): every reply is a [1,…] message or a [5,…] error`);
    figure('garbage_frames', count + cases.length + 2);
    figure('garbage_replies', a.frames.length);
    await pairStillServed(w, r, 'robust', 'after the random frames');
    check(a.closeCode === null, 'the garbage socket stayed open');

    // Invalid UTF-8 in a text frame: the websocket layer closes that socket
    // (1007); the others are unaffected.
    const u = await open();
    // A hand-made masked text frame (the ws library refuses to send one).
    const payload = Buffer.from([0x5b, 0xff, 0xfe, 0x5d]);
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
    u.ws._socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
    await waitFrame(u, () => u.closeCode !== null, 'close after invalid UTF-8', 5000).catch(() => {});
    figure('invalid_utf8_close_code', u.closeCode);
    check(u.closeCode === 1007, `invalid UTF-8 text closes only that socket (${u.closeCode})`);
    await pairStillServed(w, r, 'robust', 'after invalid UTF-8');
    for (const s of [a, w, r]) s.ws.close();
}

async function oversize() {
    const max = Number(arg('--max-frame-bytes'));
    const { w, r } = await syncPair('big');
    const results = [];
    for (const size of [max + 1, 2 * max, 8 * 1024 * 1024]) {
        const s = await open();
        await login(s, `big${size}`);
        s.ws.send(JSON.stringify([1, 1, { type: 'login', connectionId: 'x'.repeat(size) }]));
        await waitFrame(s, () => s.closeCode !== null, `close after ${size} bytes`, 10000).catch(() => {});
        results.push(s.closeCode);
        if (size < 1024 * 1024) {
            check(s.closeCode === 1009, `a ${size}-byte frame closes its socket with 1009 (${s.closeCode})`);
        } else {
            // The server closes while the client is still writing megabytes
            // it will never read: the client may see the reset (1006)
            // before the close frame.
            check(s.closeCode === 1009 || s.closeCode === 1006, `a ${size}-byte frame closes its socket (${s.closeCode})`);
        }
        await pairStillServed(w, r, 'big', `after a ${size}-byte frame`);
    }
    // Just below the limit is handled.
    const ok = await open();
    ok.ws.send(JSON.stringify([1, 1, { type: 'login', connectionId: 'y'.repeat(max - 100) }]));
    await waitFrame(ok, (f) => f.includes('"success":true'), 'frame below the limit');
    check(true, 'a frame just below the limit is handled');
    figure('oversize_close_codes', results.join(','));
    for (const s of [ok, w, r]) s.ws.close();
}

async function flood() {
    const limit = Number(arg('--rate-limit'));
    const a = await open();
    // Another client address: the limit is per address.
    const b = await open({ localAddress: '127.0.0.2' });
    await login(b, 'calm');
    await watch(b, 'flood');
    const sent = limit * 4;
    const t0 = Date.now();
    for (let i = 0; i < sent; i++) {
        a.ws.send(JSON.stringify([1, i, { type: 'sync/time', id: i, clientRequestTime: 1 }]));
    }
    // While A floods, B keeps getting answers.
    let calmAnswers = 0;
    const calmAsked = 20;
    for (let i = 0; i < calmAsked; i++) {
        const from = b.frames.length;
        send(b, { type: 'sync/time', id: 50000 + i, clientRequestTime: 1 });
        await waitFrame(b, (f) => f.includes(`"id":${50000 + i}`), 'calm socket answered', 5000, from);
        calmAnswers++;
    }
    await sleep(500);
    const answered = a.frames.filter((f) => f.includes('sync/time/response')).length;
    const notices = a.frames.filter((f) => f.includes('"rate_limit_exceeded"'));
    figure('flood_sent', sent);
    figure('flood_answered', answered);
    figure('flood_rate_limit_notices', notices.length);
    figure('flood_calm_socket_answered', `${calmAnswers}/${calmAsked}`);
    figure('flood_ms', Date.now() - t0);
    check(answered <= limit, `the flooding socket got at most ${limit} answers (${answered} of ${sent})`);
    check(notices.length >= 1, `rate_limit_exceeded sent (${notices[0]})`);
    const notice = JSON.parse(notices[0])[2];
    check(typeof notice.retryAfter === 'number' && notice.totalHits > limit, 'with retryAfter and totalHits');
    check(calmAnswers === calmAsked, 'the socket of another address was served throughout');
    // An update from B still reaches its watchers.
    const c = await open({ localAddress: '127.0.0.3' });
    await login(c, 'calm2');
    await watch(c, 'flood');
    await pairStillServed(b, c, 'flood', 'while the flooder is limited');
    a.ws.close();
    b.ws.close();
    c.ws.close();
}

function procStatus(pid) {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)[1]);
    return { rssKb: kb('VmRSS') };
}
const fdCount = (pid) => readdirSync(`/proc/${pid}/fd`).length;

async function churn() {
    const pid = Number(arg('--pid'));
    const warm = Number(arg('--warmup', '1000'));
    const cycles = Number(arg('--cycles', '5000'));
    const parallel = 50;
    const observer = await open();
    await login(observer, 'observer');
    let n = 0;
    async function cycle() {
        const i = n++;
        const s = await open();
        send(s, { type: 'login', connectionId: `churn${i}` });
        send(s, { type: 'repo/watch_branch_devices', ...ns('churn', `b${i % 20}`) });
        send(s, { type: 'repo/watch_branch', ...ns('churn', `b${i % 20}`), temporary: i % 2 === 0 });
        if (i % 3 === 0) send(s, { type: 'repo/add_updates', ...ns('churn', `b${i % 20}`), updates: ['AAAA'], updateId: 1 });
        await waitFrame(s, (f) => f.includes('watch_branch_result'), 'churn watch', 10000);
        if (i % 4 === 0) {
            s.ws.terminate(); // no close handshake: a dropped TCP connection
        } else {
            const closed = new Promise((r) => s.ws.once('close', r));
            s.ws.close();
            await closed;
        }
    }
    async function run(total) {
        let started = 0;
        const workers = Array.from({ length: parallel }, async () => {
            while (started < total) {
                started++;
                await cycle();
            }
        });
        await Promise.all(workers);
    }
    async function settle() {
        // The server notices terminated sockets; wait until it counts only
        // the observer (connection_count of a null branch: every logged-in
        // socket, 5.13).
        for (let i = 0; i < 100; i++) {
            const from = observer.frames.length;
            send(observer, { type: 'repo/connection_count', recordName: null, inst: null, branch: null });
            const f = await waitFrame(observer, (x) => x.includes('"repo/connection_count"'), 'count', 5000, from);
            const count = JSON.parse(f)[2].count;
            if (count === 1) return count;
            await sleep(100);
        }
        return -1;
    }
    const t0 = Date.now();
    await run(warm);
    check((await settle()) === 1, `after ${warm} warm-up cycles only the observer is counted`);
    await sleep(500);
    const base = procStatus(pid).rssKb;
    const baseFds = fdCount(pid);
    await run(cycles);
    const count = await settle();
    await sleep(500);
    const after = procStatus(pid).rssKb;
    const afterFds = fdCount(pid);
    const seconds = (Date.now() - t0) / 1000;
    figure('churn_cycles', warm + cycles);
    figure('churn_seconds', seconds.toFixed(1));
    figure('churn_rss_baseline_kb', base);
    figure('churn_rss_after_kb', after);
    figure('churn_rss_growth_kb', after - base);
    figure('churn_fds_baseline', baseFds);
    figure('churn_fds_after', afterFds);
    figure('churn_logged_in_sockets_after', count);
    check(count === 1, 'after the churn the server counts only the observer');
    const margin = Math.max(2048, Math.round(base * 0.05));
    check(after - base <= margin, `RSS returned to its baseline: ${base} kB -> ${after} kB (margin ${margin} kB)`);
    check(afterFds <= baseFds, `open fds back to the baseline (${baseFds} -> ${afterFds})`);
    observer.ws.close();
}

async function slow() {
    // A watcher that stops reading (its TCP window fills, the server queues
    // its frames) must not hold up the writer or the other watchers.
    const pid = Number(arg('--pid'));
    const { w, r } = await syncPair('slow');
    const lazy = await open();
    await login(lazy, 'lazy');
    await watch(lazy, 'slow');
    lazy.ws._socket.pause();
    const before = procStatus(pid).rssKb;
    const count = 2000;
    const payload = 'A'.repeat(16 * 1024);
    const t0 = Date.now();
    let acks = 0;
    let seen = 0;
    const allAcked = new Promise((resolve) => {
        w.ws.on('message', (d) => {
            if (d.toString().includes('updates_received') && ++acks === count) resolve();
        });
    });
    const allSeen = new Promise((resolve) => {
        r.ws.on('message', (d) => {
            if (d.toString().includes('"slow-') && ++seen === count) resolve();
        });
    });
    for (let i = 0; i < count; i++) {
        // The server stores the text as sent; it need not be Yjs here.
        const update = `slow-${i}-${payload}`;
        w.ws.send(JSON.stringify([1, i, { type: 'repo/add_updates', ...ns('slow'), updates: [update], updateId: i + 1 }]));
    }
    await Promise.race([Promise.all([allAcked, allSeen]), sleep(60000)]);
    const ms = Date.now() - t0;
    const during = procStatus(pid).rssKb;
    figure('slow_reader_updates', count);
    figure('slow_reader_mb_queued_for_the_paused_socket', ((count * payload.length) / 1e6).toFixed(0));
    figure('slow_reader_ms_for_writer_and_watcher', ms);
    figure('slow_reader_rss_growth_kb', during - before);
    check(acks === count && seen === count, `the writer got ${acks}/${count} acks and the reading watcher ${seen}/${count} updates while one watcher did not read`);
    lazy.ws.terminate();
    await sleep(500);
    await pairStillServed(w, r, 'slow', 'after the paused socket was dropped');
    w.ws.close();
    r.ws.close();
}

async function burst() {
    const pid = Number(arg('--pid'));
    const ackedFile = arg('--acked');
    const killAfterMs = Number(arg('--kill-after-ms', '1500'));
    const writers = Number(arg('--writers', '4'));
    const window = Number(arg('--window', '16'));
    const acked = [];
    let sentTotal = 0;
    let killed = false;
    const sockets = [];
    for (let wi = 0; wi < writers; wi++) {
        const s = await open();
        await login(s, `writer${wi}`);
        sockets.push(s);
    }
    const t0 = Date.now();
    const done = sockets.map(
        (s, wi) =>
            new Promise((resolve) => {
                let next = 1;
                let inFlight = 0;
                const pump = () => {
                    while (!killed && inFlight < window && s.ws.readyState === WebSocket.OPEN) {
                        const id = next++;
                        inFlight++;
                        sentTotal++;
                        const update = Buffer.from(`w${wi}-u${id}`).toString('base64');
                        s.ws.send(JSON.stringify([1, id, { type: 'repo/add_updates', ...ns('burst'), updates: [update], updateId: id }]));
                    }
                };
                s.ws.on('message', (d) => {
                    const text = d.toString();
                    if (!text.includes('updates_received')) return;
                    const m = JSON.parse(text)[2];
                    if (m.errorCode) return;
                    acked.push(Buffer.from(`w${wi}-u${m.updateId}`).toString('base64'));
                    inFlight--;
                    pump();
                });
                s.ws.on('close', resolve);
                pump();
            })
    );
    await sleep(killAfterMs);
    killed = true;
    process.kill(pid, 'SIGKILL');
    const ackedAtKill = acked.length;
    await Promise.race([Promise.all(done), sleep(3000)]);
    // Acknowledgements that were on the wire when the process died count
    // too: they were sent after the commit.
    writeFileSync(ackedFile, JSON.stringify(acked));
    figure('burst_ms_before_kill', Date.now() - t0 > killAfterMs ? killAfterMs : Date.now() - t0);
    figure('burst_sent', sentTotal);
    figure('burst_acked', acked.length);
    figure('burst_acked_per_s', Math.round((ackedAtKill / killAfterMs) * 1000));
    check(acked.length > 0, `${acked.length} updates acknowledged before the kill -9`);
}

async function verify() {
    const acked = JSON.parse(readFileSync(arg('--acked'), 'utf8'));
    const s = await open();
    await login(s, 'verifier');
    send(s, { type: 'repo/get_updates', ...ns('burst') });
    const f = await waitFrame(s, (x) => x.includes('"repo/add_updates"'), 'history', 20000);
    const stored = new Set(JSON.parse(f)[2].updates);
    const missing = acked.filter((u) => !stored.has(u));
    // And the initial snapshot of a watch, what a reconnecting client reads.
    const from = s.frames.length;
    send(s, { type: 'repo/watch_branch', ...ns('burst') });
    const initial = await waitFrame(s, (x) => x.includes('"initial":true'), 'initial snapshot', 20000, from);
    const inSnapshot = new Set(JSON.parse(initial)[2].updates);
    figure('burst_stored_after_restart', stored.size);
    figure('burst_acked_missing', missing.length);
    figure('burst_unacked_but_stored', stored.size - acked.length);
    check(missing.length === 0, `every acknowledged update (${acked.length}) is in the history after the restart (${stored.size} stored)`);
    check(acked.every((u) => inSnapshot.has(u)), 'and in the initial snapshot of a new watcher');
    s.ws.close();
}

try {
    if (!url) throw new Error('--url is required');
    const phases = { garbage, oversize, flood, churn, slow, burst, verify };
    if (!phases[phase]) throw new Error(`unknown --phase ${phase}`);
    await phases[phase]();
    out(`robustness ${phase}: ok`);
    process.exit(0);
} catch (err) {
    process.stderr.write(`robustness ${phase} FAILED: ${err?.stack ?? err}\n`);
    process.exit(1);
}
