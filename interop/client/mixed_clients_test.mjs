#!/usr/bin/env node
// The client interop matrix of issue 7 against one running server: our
// native clients (`auxsync bench client`, `auxsync apply` scenarios with
// remote configs, `auxsync watch`) and real aux-common 3.10.5 clients
// (AuthenticatedConnectionClient -> InstRecordsClient ->
// RemoteYjsPartitionImpl / OtherPlayersPartitionImpl over
// ../node_server/ws_connection_client.mjs) in the same inst.
//
//   node interop/client/mixed_clients_test.mjs --url ws://.../websocket \
//     --auxsync build/auxsync/cli/auxsync --server NAME \
//     [--data-dir DIR --server-pid PID] [--only a,b,c,d,k,f,g,e]
//     [--duration S] [--rate N]
//
// a  mixed writers converge: 2 bench clients + a JS writer edit at once;
//    the bench clients' dumps, the JS writer and a late JS joiner agree
//    (canonical JSON), and `auxsync watch` printed bots of both kinds
// b  presence both ways: a JS players partition sees a C++ scenario join
//    and leave; a C++ other_players scenario sees a JS client join and leave
// c  remote actions both ways: a JS whisper/shout reaches the C++ client as
//    onRemoteWhisper/onRemoteData; a C++ sendRemoteEvents whisper reaches JS
// d  a C++ client forced offline edits (while JS edits too), comes back and
//    both sides converge with every edit
// k  (auxsync serve only, with --server-pid and --data-dir) the server is
//    killed (-9) under a C++ client, which edits while it is down; the
//    server restarts on the same port and data, and the edits arrive
// f  the same remote_yjs scenario (join a seeded inst, edit, receive a
//    JS edit, shout) run by `auxsync apply` and by a real
//    RemoteYjsPartitionImpl recording as docs/scenarios.md says: every
//    emission, step and final state equal
// g  an `auxsync apply` other_players_repo scenario and a real
//    OtherPlayersPartitionImpl watch together while a JS player joins,
//    edits its player branch and leaves: identical outputs
// e  tokens (`auxsync apply` and `auxsync watch`): an anonymous login and
//    a forged token on a record inst (plus an expired `auxsync token
//    create --expires-in 1` token when --data-dir is given: auxsync
//    serve's SQLite store) end in auth requests, not a hang
//
// Prints one line per case, `MATRIX <server> <case> <mix> ok|FAIL ...`, and
// exits 1 when any case failed.

import { spawn, execFileSync } from 'node:child_process';
import { loadReference } from '../node_server/build.mjs';
import { WsConnectionClient } from '../node_server/ws_connection_client.mjs';
import { mulberry32 } from '../lib/rng.mjs';
import { writeJson } from '../lib/tagged_json.mjs';
import { arg, sleep, waitFor } from '../lib/wait.mjs';

const R = await loadReference();
const out = (line) => process.stdout.write(`${line}\n`);
console.log = () => {}; // aux-common logs connection chatter
console.error = () => {}; // ... and failed logins (the point of case e)

const url = arg('--url');
const bin = arg('--auxsync', 'build/auxsync/cli/auxsync');
const serverName = arg('--server', 'server');
const dataDir = arg('--data-dir');
const only = new Set((arg('--only', 'a,b,c,d,k,f,g,e') ?? '').split(','));
const serverPid = arg('--server-pid');
const duration = Number(arg('--duration', '2'));
const rate = Number(arg('--rate', '30'));
const host = new URL(url).origin.replace(/^ws/, 'http');
const run = `${Date.now().toString(36)}${process.pid}`;

// Sorted keys everywhere, so key order does not matter.
const canon = (v) =>
    Array.isArray(v)
        ? v.map(canon)
        : v && typeof v === 'object'
          ? Object.fromEntries(
                Object.keys(v)
                    .sort()
                    .map((k) => [k, canon(v[k])])
            )
          : v;

// ---------------------------------------------------------------------------
// Real JS clients.

const clients = [];
function makeClient(connectionId, indicator = { connectionId }) {
    const socket = new WsConnectionClient(url, R, { reconnectMs: 500 });
    const authSource = new R.PartitionAuthSource(new Map(indicator ? [[socket.origin, indicator]] : []));
    const requests = [];
    authSource.onAuthRequest.subscribe((r) => requests.push(r));
    const auth = new R.AuthenticatedConnectionClient(socket, authSource);
    const client = new R.InstRecordsClient(auth);
    socket.connect();
    const c = { socket, authSource, client, connectionId, requests };
    clients.push(c);
    return c;
}

function makePartition(c, inst, extra = {}) {
    const p = new R.RemoteYjsPartitionImpl(c.client, c.authSource, {
        type: 'remote_yjs',
        recordName: null,
        inst,
        branch: 'main',
        ...extra,
    });
    p.space = 'shared';
    p.receivedEvents = [];
    p.statuses = [];
    p.onEvents.subscribe((e) => p.receivedEvents.push(...e));
    p.onStatusUpdated.subscribe((s) => p.statuses.push(s));
    return p;
}

async function synced(p) {
    const done = R.firstValueFrom(p.onStatusUpdated.pipe(R.filter((u) => u.type === 'sync' && u.synced)));
    p.connect();
    let timer;
    await Promise.race([
        done,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('JS partition did not sync')), 15000);
        }),
    ]).finally(() => clearTimeout(timer));
}

function players(c, inst) {
    const p = new R.OtherPlayersPartitionImpl(c.client, c.authSource, {
        type: 'other_players_repo',
        recordName: null,
        inst,
        branch: 'main',
    });
    p.space = 'otherPlayers';
    const events = [];
    p.onEvents.subscribe((e) => events.push(...e));
    p.connect();
    return { p, events };
}

const remoteIds = (events, name) =>
    events
        .filter((e) => e.eventName === name)
        .map((e) => e.argument.remoteId)
        .sort();

// ---------------------------------------------------------------------------
// Our native clients.

const children = [];
function start(args, { stdin = 'ignore' } = {}) {
    const child = spawn(bin, args, { stdio: [stdin, 'pipe', 'pipe'] });
    const proc = { child, lines: [], stderr: '', exited: null };
    let buf = '';
    child.stdout.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
            proc.lines.push(buf.slice(0, i));
            buf = buf.slice(i + 1);
        }
    });
    child.stderr.on('data', (d) => (proc.stderr += d));
    proc.done = new Promise((resolve) => {
        child.on('exit', (code, signal) => {
            if (buf) proc.lines.push(buf);
            proc.exited = { code, signal };
            resolve(proc.exited);
        });
        // Could not start (e.g. the binary is being relinked): a failure of
        // the case, not of the driver.
        child.on('error', (err) => {
            proc.stderr += `${err.message}\n`;
            proc.exited = { code: -1, signal: null };
            resolve(proc.exited);
        });
    });
    child.stdin?.on('error', () => {});
    children.push(proc);
    return proc;
}

// `auxsync apply` of a scenario object (on stdin); resolves to its output.
// Cases start it and await it later: a rejection before then must not end
// the process as unhandled.
function apply(scenario, ms = 30000) {
    const promise = applyNow(scenario, ms);
    promise.catch(() => {});
    return promise;
}
async function applyNow(scenario, ms) {
    const proc = start(['apply', '-'], { stdin: 'pipe' });
    proc.child.stdin.end(JSON.stringify(scenario));
    let timer;
    const exited = await Promise.race([
        proc.done,
        new Promise((r) => {
            timer = setTimeout(() => r(null), ms);
        }),
    ]).finally(() => clearTimeout(timer));
    if (!exited) {
        proc.child.kill('SIGKILL');
        throw new Error('auxsync apply hung');
    }
    if (exited.code !== 0) throw new Error(`auxsync apply exited ${exited.code}: ${proc.stderr}`);
    return JSON.parse(proc.lines.join('\n'));
}

const emissions = (output) => [...output.initial, ...output.steps.flatMap((s) => s.emissions)];
const eventsOf = (output) => emissions(output).filter((e) => e.type === 'onEvents').flatMap((e) => e.value);
function stepErrors(output) {
    return output.steps.filter((s) => s.error).map((s) => `${s.kind}: ${s.error}`);
}

const remoteConfig = (inst, extra = {}) => ({
    type: 'remote_yjs',
    host,
    recordName: null,
    inst,
    branch: 'main',
    ...extra,
});

function benchClient(inst, seed, connectionId) {
    const proc = start(
        [
            'bench', 'client', '--url', url, '--inst', inst, '--branch', 'main',
            '--duration', String(duration), '--rate', String(rate), '--seed', String(seed),
            '--connection-id', connectionId,
        ],
        { stdin: 'pipe' }
    );
    proc.has = (event) => proc.lines.some((l) => l.includes(`"event":"${event}"`));
    proc.dump = async () => {
        const before = proc.lines.length;
        proc.child.stdin.write('dump\n');
        const line = await waitFor(
            () => proc.lines.slice(before).find((l) => l.includes('"event":"dump"')),
            'bench client dump'
        );
        return JSON.parse(line).state;
    };
    return proc;
}

// ---------------------------------------------------------------------------
// The cases.

// Entries that differ only as leftovers of masks (no id) are a known
// difference of incremental mask derivation (see interop/client_cli_test.sh);
// they are counted but not failed.
function diff(a, b) {
    const bad = [];
    let maskOnly = 0;
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
        const x = JSON.stringify(canon(a[k]));
        const y = JSON.stringify(canon(b[k]));
        if (x === y) continue;
        if ((a[k] === undefined || a[k].id === undefined) && (b[k] === undefined || b[k].id === undefined)) {
            ++maskOnly;
        } else {
            bad.push(`${k}: ${x} vs ${y}`);
        }
    }
    return { bad, maskOnly };
}

// One JS writer edit: adds, tag updates (incl. deletes), removes.
function jsEdit(p, rng, n) {
    const ids = Object.keys(p.state).filter((id) => p.state[id]?.id);
    const r = rng();
    if (r < 0.35 || ids.length === 0) {
        return p.applyEvents([R.botAdded(R.createBot(`js${n}`, { n, kind: 'js', s: `v${n}`, arr: [n, 'x'] }))]);
    }
    const id = ids[Math.floor(rng() * ids.length)];
    if (r < 0.85) {
        const tags = { [`t${Math.floor(rng() * 5)}`]: rng() < 0.2 ? null : Math.floor(rng() * 100) };
        return p.applyEvents([R.botUpdated(id, { tags })]);
    }
    return p.applyEvents([{ type: 'remove_bot', id }]);
}

async function caseA() {
    const inst = `mix-a-${run}`;
    const watch = start(['watch', url, '--inst', inst, '--branch', 'main']);
    const js = makeClient(`js-a-${run}`);
    const pj = makePartition(js, inst);
    await synced(pj);
    const b1 = benchClient(inst, 11, `cpp-a1-${run}`);
    const b2 = benchClient(inst, 12, `cpp-a2-${run}`);
    await waitFor(() => b1.has('ready') && b2.has('ready'), 'bench clients ready');
    const rng = mulberry32(7);
    const end = Date.now() + duration * 1000;
    let n = 0;
    while (Date.now() < end) {
        await jsEdit(pj, rng, n++);
        await sleep(1000 / rate);
    }
    await waitFor(() => b1.has('workload-done') && b2.has('workload-done'), 'workloads done', 30000);
    const late = makeClient(`js-late-${run}`);
    const pl = makePartition(late, inst);
    await synced(pl);
    let last;
    for (let round = 0; round < 50; ++round) {
        const [d1, d2] = [await b1.dump(), await b2.dump()];
        const checks = [diff(d1, d2), diff(d1, pj.state), diff(d1, pl.state)];
        last = checks;
        if (checks.every((c) => c.bad.length === 0)) {
            const bots = Object.values(pj.state).filter((b) => b?.id);
            const jsBots = bots.filter((b) => b.id.startsWith('js')).length;
            // watch printed bots made by both kinds of client.
            const watched = watch.lines.filter((l) => l.includes('"event":"added"')).map((l) => JSON.parse(l).bot.id);
            const watchedJs = watched.some((id) => id.startsWith('js'));
            const watchedCpp = watched.some((id) => !id.startsWith('js'));
            watch.child.kill('SIGINT');
            const w = await watch.done;
            if (!watchedJs || !watchedCpp) throw new Error(`auxsync watch saw js=${watchedJs} cpp=${watchedCpp}`);
            if (w.code !== 0) throw new Error(`auxsync watch exited ${w.code}/${w.signal}`);
            for (const b of [b1, b2]) b.child.stdin.end('quit\n');
            await Promise.all([b1.done, b2.done]);
            const ops = [b1, b2].map((b) => JSON.parse(b.lines.find((l) => l.includes('workload-done'))).ops);
            const masks = Math.max(...checks.map((c) => c.maskOnly));
            return `2 C++ bench clients (${ops.join('+')} ops) + JS writer (${n} ops) + JS late joiner + auxsync watch: ${bots.length} bots (${jsBots} from JS) identical after ${round + 1} dump round(s)${masks ? `; ${masks} mask-only leftover entr${masks === 1 ? 'y' : 'ies'} ignored` : ''}`;
        }
        await sleep(100);
    }
    throw new Error(`no convergence: ${last.map((c) => c.bad.slice(0, 3).join('; ')).join(' | ')}`);
}

async function caseB() {
    const inst = `mix-b-${run}`;
    // JS sees C++ join and leave.
    const obs = makeClient(`js-obs-${run}`);
    const pl = players(obs, inst);
    const cppId = `cpp-b-${run}`;
    const running = apply({
        partition: remoteConfig(inst),
        space: 'shared',
        connectionId: cppId,
        steps: [{ waitFor: 'synced' }, { wait: { ms: 600 } }],
    });
    await waitFor(() => remoteIds(pl.events, 'onRemoteJoined').includes(cppId), 'JS players partition sees C++ join');
    const first = await running;
    if (stepErrors(first).length) throw new Error(stepErrors(first).join('; '));
    await waitFor(() => remoteIds(pl.events, 'onRemoteLeave').includes(cppId), 'JS players partition sees C++ leave');

    // C++ sees JS join and leave.
    const jsId = `js-b-${run}`;
    const watching = apply({
        partition: { type: 'other_players_repo', host, recordName: null, inst, branch: 'main' },
        space: 'otherPlayers',
        connectionId: `cpp-obs-${run}`,
        steps: [{ waitFor: 'synced' }, { wait: { ms: 3000 } }],
    });
    await sleep(700);
    const js = makeClient(jsId);
    const pj = makePartition(js, inst);
    await synced(pj);
    await sleep(400);
    js.socket.disconnect();
    const seen = await watching;
    if (stepErrors(seen).length) throw new Error(stepErrors(seen).join('; '));
    const ev = eventsOf(seen);
    const joined = remoteIds(ev, 'onRemoteJoined');
    const left = remoteIds(ev, 'onRemoteLeave');
    if (!joined.includes(jsId) || !left.includes(jsId)) {
        throw new Error(`C++ other_players saw joined=[${joined}] left=[${left}]`);
    }
    return `JS OtherPlayersPartition saw the C++ remote_yjs scenario join+leave; C++ other_players_repo scenario saw the JS client join+leave (${ev.filter((e) => e.eventName).map((e) => e.eventName).join(',')})`;
}

async function caseC() {
    const inst = `mix-c-${run}`;
    const jsId = `js-c-${run}`;
    const cppId = `cpp-c-${run}`;
    const js = makeClient(jsId);
    const pj = makePartition(js, inst);
    await synced(pj);
    const pl = players(js, inst);
    const ping = (eventName, n) => ({ type: 'action', eventName, argument: { n }, botIds: null, userId: null, sortBotIds: true });
    const running = apply({
        partition: remoteConfig(inst),
        space: 'shared',
        connectionId: cppId,
        steps: [
            { waitFor: 'synced' },
            // A remote action carries its selector's fields itself (remote()).
            { sendRemoteEvents: [{ type: 'remote', event: ping('fromCpp', 1), connectionId: jsId }] },
            { wait: { ms: 1500 } },
        ],
    });
    await waitFor(() => remoteIds(pl.events, 'onRemoteJoined').includes(cppId), 'C++ client joined');
    await pj.sendRemoteEvents([R.remote(ping('toCpp', 2), { connectionId: cppId })]);
    await pj.sendRemoteEvents([R.remote(ping('shoutAll', 3), { broadcast: true })]);
    const got = await waitFor(
        () => pj.receivedEvents.find((e) => e.eventName === 'onRemoteWhisper' && e.argument.name === 'fromCpp'),
        'C++ whisper reaches JS'
    );
    if (got.argument.playerId !== cppId) throw new Error(`whisper from ${got.argument.playerId}`);
    const output = await running;
    if (stepErrors(output).length) throw new Error(stepErrors(output).join('; '));
    const ev = eventsOf(output);
    const whisper = ev.find((e) => e.eventName === 'onRemoteWhisper' && e.argument?.name === 'toCpp');
    const shout = ev.find((e) => e.eventName === 'onRemoteData' && e.argument?.name === 'shoutAll');
    if (!whisper || whisper.argument.playerId !== jsId) throw new Error(`no JS whisper in C++ output: ${JSON.stringify(ev)}`);
    if (!shout) throw new Error(`no JS shout in C++ output: ${JSON.stringify(ev)}`);
    return 'JS whisper -> C++ onRemoteWhisper, JS shout -> C++ onRemoteData, C++ sendRemoteEvents whisper -> JS onRemoteWhisper (playerIds checked)';
}

async function caseD() {
    const inst = `mix-d-${run}`;
    const cppId = `cpp-d-${run}`;
    const js = makeClient(`js-d-${run}`);
    const pj = makePartition(js, inst);
    await synced(pj);
    await pj.applyEvents([R.botAdded(R.createBot('shared1', { base: 1 }))]);
    const pl = players(js, inst);
    const running = apply({
        partition: remoteConfig(inst),
        space: 'shared',
        connectionId: cppId,
        reconnectDelayMs: 200,
        steps: [
            { waitFor: 'synced' },
            { wait: { ms: 300 } },
            { forcedOffline: true },
            { waitFor: 'disconnected' },
            {
                applyEvents: [
                    { type: 'add_bot', id: 'off1', bot: { id: 'off1', tags: { made: 'offline' } } },
                    { type: 'update_bot', id: 'shared1', update: { tags: { cpp: 'offline edit' } } },
                ],
            },
            { wait: { ms: 1500 } },
            { forcedOffline: false },
            { waitFor: 'synced' },
            { wait: { ms: 1000 } },
        ],
    });
    await waitFor(() => remoteIds(pl.events, 'onRemoteJoined').includes(cppId), 'C++ client joined');
    await waitFor(() => remoteIds(pl.events, 'onRemoteLeave').includes(cppId), 'C++ client went offline');
    // Concurrent edits while the C++ client is away.
    await pj.applyEvents([R.botUpdated('shared1', { tags: { js: 'while away' } })]);
    await pj.applyEvents([R.botAdded(R.createBot('jsAway', { n: 1 }))]);
    const output = await running;
    if (stepErrors(output).length) throw new Error(stepErrors(output).join('; '));
    const cpp = output.final.state;
    await waitFor(() => pj.state.off1, 'JS sees the offline bot', 5000);
    const d = diff(cpp, pj.state);
    if (d.bad.length) throw new Error(`differ: ${d.bad.join('; ')}`);
    const s = pj.state.shared1.tags;
    if (s.cpp !== 'offline edit' || s.js !== 'while away' || s.base !== 1 || !cpp.jsAway) {
        throw new Error(`lost an edit: ${JSON.stringify(pj.state)}`);
    }
    return 'C++ apply forcedOffline -> edits (add + update) while JS edits the same bot -> back online: both states identical, all 4 edits kept';
}

// The server killed under a connected C++ client and restarted (same port,
// same SQLite data): the client's offline edits reach the server.
let restarted = null;
async function caseK() {
    if (!dataDir || !serverPid) return null;
    const inst = `mix-k-${run}`;
    const cppId = `cpp-k-${run}`;
    const js = makeClient(`js-k-${run}`);
    const pj = makePartition(js, inst);
    await synced(pj);
    await pj.applyEvents([R.botAdded(R.createBot('base', { base: 1 }))]);
    const pl = players(js, inst);
    const running = apply({
        partition: remoteConfig(inst),
        space: 'shared',
        connectionId: cppId,
        reconnectDelayMs: 200,
        steps: [
            { waitFor: 'synced' },
            { waitFor: 'disconnected', timeoutMs: 15000 },
            {
                applyEvents: [
                    { type: 'add_bot', id: 'k1', bot: { id: 'k1', tags: { made: 'server down' } } },
                    { type: 'update_bot', id: 'base', update: { tags: { cpp: 'server down' } } },
                ],
            },
            { waitFor: 'connected', timeoutMs: 15000 },
            { waitFor: 'synced', timeoutMs: 15000 },
            { wait: { ms: 1000 } },
        ],
    });
    await waitFor(() => remoteIds(pl.events, 'onRemoteJoined').includes(cppId), 'C++ client joined');
    await sleep(300); // the base bot is acknowledged
    process.kill(Number(serverPid), 'SIGKILL');
    await sleep(700);
    const port = new URL(url).port;
    restarted = spawn(bin, ['serve', '--port', port, '--quiet', '--data-dir', dataDir], {
        stdio: ['ignore', 'pipe', 'ignore'],
    });
    let text = '';
    restarted.stdout.on('data', (d) => (text += d));
    await waitFor(() => text.includes('ws://'), 'server restarted');
    await waitFor(() => pj.statuses.filter((x) => x.type === 'sync' && x.synced).length >= 2, 'JS re-synced');
    await pj.applyEvents([R.botUpdated('base', { tags: { js: 'after restart' } })]);
    const output = await running;
    if (stepErrors(output).length) throw new Error(stepErrors(output).join('; '));
    await waitFor(() => pj.state.k1 && pj.state.base?.tags.cpp, 'JS sees the edits of the C++ client', 5000);
    const late = makeClient(`js-k-late-${run}`);
    const pl2 = makePartition(late, inst);
    await synced(pl2);
    const d = diff(output.final.state, pl2.state);
    if (d.bad.length) throw new Error(`C++ final state vs a fresh JS load: ${d.bad.join('; ')}`);
    const t = pl2.state.base.tags;
    if (t.base !== 1 || t.cpp !== 'server down' || t.js !== 'after restart' || !pl2.state.k1) {
        throw new Error(`lost an edit: ${JSON.stringify(pl2.state)}`);
    }
    return 'auxsync serve killed -9 under the C++ client, which edited meanwhile; restarted on the same port/data: a fresh JS load equals the C++ state, every edit kept';
}

// The scenario of case f, recorded in the real RemoteYjsPartitionImpl as
// `auxsync apply` records it (docs/scenarios.md: subscriptions in order,
// connect, steps; waitFor/wait as there). Client ids pinned as
// interop/yjs_partition_runner.mjs pins them.
const OBSERVABLES = [
    'onBotsAdded', 'onBotsRemoved', 'onBotsUpdated', 'onStateUpdated',
    'onVersionUpdated', 'onError', 'onEvents', 'onStatusUpdated',
];
async function runScenarioJs(scenario, onStep = async () => {}) {
    const c = makeClient(scenario.connectionId);
    const { host: _, ...config } = scenario.partition;
    let p;
    if (config.type === 'other_players_repo') {
        p = new R.OtherPlayersPartitionImpl(c.client, c.authSource, config);
    } else {
        p = new R.RemoteYjsPartitionImpl(c.client, c.authSource, config);
        p._doc.clientID = scenario.clientId;
        p._localId = scenario.clientId;
        p._remoteId = scenario.remoteClientId;
        p._currentVersion = { currentSite: `${p._localId}`, remoteSite: `${p._remoteId}`, vector: {} };
        p._onVersionUpdated.next(p._currentVersion);
    }
    p.space = scenario.space;
    let sink = [];
    let synced = false;
    let connected = false;
    // A pending waitFor: resolved from inside the status emission, so that
    // its step ends before any later I/O (as `auxsync apply` checks after
    // every handler).
    let waiting = null;
    const flushMicrotasks = async () => {
        for (let i = 0; i < 20; ++i) await null;
    };
    for (const name of OBSERVABLES) {
        p[name].subscribe((v) => {
            if (name === 'onBotsUpdated') v = v.map((u) => ({ bot: u.bot, tags: [...u.tags] }));
            sink.push(JSON.parse(writeJson({ type: name, value: v })));
            if (name === 'onStatusUpdated' && v.type === 'sync') synced = v.synced;
            if (name === 'onStatusUpdated' && v.type === 'connection') connected = v.connected;
            if (name === 'onStatusUpdated' && waiting && waiting.done()) waiting.resolve();
        });
    }
    p.connect();
    // Upstream's "one microtask later" emissions belong to connect() (the
    // runner defers them to the end of the call); no I/O may run yet.
    await flushMicrotasks();
    const take = () => {
        const t = sink;
        sink = [];
        return t;
    };
    const output = { initial: take(), steps: [] };
    for (const [i, step] of scenario.steps.entries()) {
        const kind = Object.keys(step).find((k) => k !== 'timeoutMs');
        let returned = null;
        if (kind === 'waitFor') {
            const done = () => (step.waitFor === 'synced' ? synced : step.waitFor === 'connected' ? connected : !connected);
            if (!done()) {
                await new Promise((resolve) => {
                    waiting = { done, resolve };
                });
                waiting = null;
            }
        }
        else if (kind === 'wait') await sleep(step.wait.ms);
        else if (kind === 'applyEvents') returned = await p.applyEvents(step.applyEvents);
        else if (kind === 'sendRemoteEvents') returned = (await p.sendRemoteEvents(step.sendRemoteEvents)) ?? null;
        await flushMicrotasks();
        output.steps.push({ kind, returned, emissions: take(), state: JSON.parse(writeJson(p.state)) });
        await onStep(i);
    }
    output.final = { state: JSON.parse(writeJson(p.state)) };
    c.socket.disconnect();
    return output;
}

// Compares an `auxsync apply` output with runScenarioJs's (throws with the
// first differing part). Everything counts, the key order of the
// authentication status info (login_result's, as received) included.
function compareOutputs(cpp, js) {
    // Compare everything but the document bytes (not produced on the JS side).
    delete cpp.final.update;
    // A snapshot's updates are applied one by one, each followed by an
    // onVersionUpdated with the final vector; how many updates the server
    // returns for the same content depends on when it merged them (the
    // real WebsocketController may), so runs of equal consecutive
    // onVersionUpdated emissions are compared as one.
    for (const output of [cpp, js]) {
        for (const part of [output.initial, ...output.steps.map((st) => st.emissions)]) {
            for (let i = part.length - 1; i > 0; --i) {
                if (part[i].type === 'onVersionUpdated' && JSON.stringify(part[i]) === JSON.stringify(part[i - 1])) {
                    part.splice(i, 1);
                }
            }
        }
    }
    // What arrives from the network lands in the step during which it was
    // read, and whether a reply comes before the end of the step that sent
    // it (the runner polls once) or in the next wait is a race on both
    // sides; so a step and the wait steps after it are compared as one.
    for (const output of [cpp, js]) {
        const grouped = [];
        for (const st of output.steps) {
            const last = grouped[grouped.length - 1];
            if (st.kind === 'wait' && last) {
                last.kind += '+wait';
                last.emissions.push(...st.emissions);
                last.state = st.state;
            } else {
                grouped.push({ ...st, emissions: [...st.emissions] });
            }
        }
        output.steps = grouped;
    }
    const a = JSON.stringify(cpp);
    const b = JSON.stringify(js);
    if (a !== b) {
        const parts = ['initial', ...cpp.steps.map((_, i) => i), 'final'];
        for (const k of parts) {
            const x = JSON.stringify(k === 'initial' ? cpp.initial : k === 'final' ? cpp.final : cpp.steps[k]);
            const y = JSON.stringify(k === 'initial' ? js.initial : k === 'final' ? js.final : js.steps[k]);
            if (x !== y) throw new Error(`differs at ${k === 'initial' || k === 'final' ? k : `steps[${k}]`}:\n  C++ ${x}\n  JS  ${y}`);
        }
        throw new Error('outputs differ');
    }
}

async function caseF() {
    const seed = async (inst) => {
        const c = makeClient(`seed-${inst}`);
        const p = makePartition(c, inst);
        p._doc.clientID = 1000;
        p._localId = 1000;
        await synced(p);
        await p.applyEvents([R.botAdded(R.createBot('s1', { color: 'red', n: 1 }))]);
        await p.applyEvents([R.botAdded(R.createBot('s2', { list: [1, 'a', { x: true }] }))]);
        await sleep(200);
        return { c, p };
    };
    const scenario = (inst) => ({
        partition: remoteConfig(inst),
        space: 'shared',
        connectionId: `diff-${run}`,
        clientId: 7,
        remoteClientId: 8,
        steps: [
            { waitFor: 'synced' },
            {
                applyEvents: [
                    { type: 'add_bot', id: 'b1', bot: { id: 'b1', tags: { made: 'scenario', v: 1.5 } } },
                    { type: 'update_bot', id: 's1', update: { tags: { color: 'blue', n: null } } },
                    { type: 'remove_bot', id: 's2' },
                ],
            },
            { wait: { ms: 600 } },
            { sendRemoteEvents: [{ type: 'remote', broadcast: true, event: { type: 'action', eventName: 'hi', argument: { k: 1 }, botIds: null, userId: null } }] },
            { wait: { ms: 400 } },
        ],
    });
    // The seeder edits s1 once the scenario's own edits are in (step 1).
    const seedEdit = (p) => p.applyEvents([R.botUpdated('s1', { tags: { seeder: 'later' } })]);
    const instC = `mix-f-cpp-${run}`;
    const instJ = `mix-f-js-${run}`;
    const sc = await seed(instC);
    const running = apply(scenario(instC));
    // No step hook in a separate process: edit once the bot b1 arrives.
    await waitFor(() => sc.p.state.b1, 'C++ edit reaches the seeder');
    await seedEdit(sc.p);
    const cpp = await running;
    const sj = await seed(instJ);
    const jsWaiting = waitFor(() => sj.p.state.b1, 'JS edit reaches the seeder').then(() => seedEdit(sj.p));
    const js = await runScenarioJs(scenario(instJ));
    await jsWaiting;
    compareOutputs(cpp, js);
    const n = cpp.initial.length + cpp.steps.reduce((t, s) => t + s.emissions.length, 0);
    return `auxsync apply and the real RemoteYjsPartitionImpl: identical output (${n} emissions over ${cpp.steps.length} step groups, final state of ${Object.keys(cpp.final.state).length} bots)`;
}

// Two observers of the same inst - an `auxsync apply` other_players_repo
// scenario and a real OtherPlayersPartitionImpl - while a JS player (its
// player branch written first) joins, edits and leaves: identical outputs.
async function caseG() {
    const inst = `mix-g-${run}`;
    const scenario = (id) => ({
        partition: { type: 'other_players_repo', host, recordName: null, inst, branch: 'main' },
        space: 'otherPlayers',
        connectionId: id,
        steps: [{ waitFor: 'synced' }, { wait: { ms: 2500 } }],
    });
    const cppRun = apply(scenario(`obs-cpp-${run}`));
    const jsRun = runScenarioJs(scenario(`obs-js-${run}`));
    await sleep(800);
    const playerId = `player-${run}`;
    const player = makeClient(playerId);
    const presence = makePartition(player, inst);
    const pb = new R.RemoteYjsPartitionImpl(player.client, player.authSource, {
        type: 'remote_yjs', recordName: null, inst, branch: `main-player-${playerId}`, temporary: true,
    });
    pb.space = 'tempShared';
    await synced(pb);
    await pb.applyEvents([R.botAdded(R.createBot('pbot', { color: 'green', list: [1, 2] }))]);
    await sleep(200);
    await synced(presence);
    await sleep(600);
    await pb.applyEvents([R.botUpdated('pbot', { tags: { color: 'yellow', list: null } })]);
    await sleep(500);
    player.socket.disconnect();
    // The observers' own connection ids (in their authentication status)
    // differ by design.
    const own = (output, id) => JSON.parse(JSON.stringify(output).replaceAll(id, 'OBSERVER'));
    const cpp = own(await cppRun, `obs-cpp-${run}`);
    const js = own(await jsRun, `obs-js-${run}`);
    if (stepErrors(cpp).length) throw new Error(stepErrors(cpp).join('; '));
    compareOutputs(cpp, js);
    const names = eventsOf(cpp).map((e) => e.eventName).join(',');
    const n = cpp.initial.length + cpp.steps.reduce((t, s) => t + s.emissions.length, 0);
    return `auxsync apply and the real OtherPlayersPartitionImpl, watching together: identical output (${n} emissions: ${names}; player bot added, edited, removed on leave)`;
}

async function caseE() {
    const rec = `rec${run}`;
    const inst = `mix-e-${run}`;
    const results = [];
    const authKinds = (output) =>
        emissions(output)
            .filter((e) => e.type === 'authRequest')
            .map((e) => e.value.kind);
    const statuses = (output) =>
        emissions(output)
            .filter((e) => e.type === 'onStatusUpdated' && e.value.type !== 'sync' && e.value.type !== 'connection')
            .map((e) => `${e.value.type}:${e.value.authorized ?? e.value.authenticated}${e.value.reason?.type ? `(${e.value.reason.type})` : ''}`);
    async function attempt(name, extra, want) {
        const t0 = Date.now();
        const output = await apply({
            partition: remoteConfig(inst, { recordName: rec }),
            space: 'shared',
            ...extra,
            steps: [{ waitFor: 'synced', timeoutMs: 2000 }],
        });
        const kinds = authKinds(output);
        const st = statuses(output);
        const timedOut = stepErrors(output).some((e) => e.includes('timed out'));
        if (!timedOut) throw new Error(`${name}: synced without access`);
        if (!want.every((k) => kinds.includes(k))) {
            throw new Error(`${name}: auth requests [${kinds}] lack [${want}]; statuses [${st}]`);
        }
        results.push(`${name} -> [${kinds.join(',')}]${st.length ? ` {${st.join(',')}}` : ''} in ${Date.now() - t0} ms`);
    }
    await attempt('anonymous', { connectionId: `anon-${run}` }, ['not_authorized']);
    await attempt('no indicator', { connectionId: null }, ['need_indicator']);
    // A token signed with a secret the server never issued.
    const forgedDir = `${process.env.TMPDIR ?? '/tmp'}/auxsync-forge-${run}`;
    const forged = JSON.parse(
        execFileSync(bin, ['token', 'create', '--user', 'mallory', '--record', rec, '--inst', inst, '--data-dir', forgedDir], {
            encoding: 'utf8',
        })
    );
    execFileSync('rm', ['-rf', forgedDir]);
    await attempt('forged token', { connectionToken: forged.connectionToken }, ['invalid_indicator']);
    if (dataDir) {
        const made = JSON.parse(
            execFileSync(
                bin,
                ['token', 'create', '--user', rec, '--record', rec, '--inst', inst, '--expires-in', '1', '--data-dir', dataDir],
                { encoding: 'utf8' }
            )
        );
        // Valid now: the owner gets in.
        const ok = await apply({
            partition: remoteConfig(inst, { recordName: rec }),
            connectionToken: made.connectionToken,
            steps: [{ waitFor: 'synced', timeoutMs: 5000 }],
        });
        if (stepErrors(ok).length) throw new Error(`fresh token: ${stepErrors(ok).join('; ')}`);
        results.push('owner token -> synced');
        await sleep(2100);
        await attempt('expired token', { connectionToken: made.connectionToken }, ['invalid_indicator']);
    }
    // `auxsync watch` with the forged token prints the auth request line.
    const watch = start(['watch', url, '--inst', inst, '--record', rec, '--token', forged.connectionToken]);
    const line = await waitFor(() => watch.lines.find((l) => l.includes('"event":"auth_request"')), 'watch auth_request', 5000);
    watch.child.kill('SIGINT');
    const w = await watch.done;
    if (w.code !== 0) throw new Error(`auxsync watch exited ${w.code}/${w.signal}`);
    results.push(`auxsync watch with the forged token -> ${JSON.parse(line).request.kind}, exit 0 on SIGINT`);
    // The real client on the same inst, for comparison.
    const js = makeClient(`js-e-${run}`, { connectionToken: forged.connectionToken });
    const pj = makePartition(js, inst, { recordName: rec });
    pj.connect();
    await waitFor(() => js.requests.length > 0, 'JS auth request');
    results.push(`JS client with the forged token -> [${js.requests.map((r) => r.kind)}]`);
    js.socket.disconnect();
    return results.join('; ');
}

const cases = {
    a: ['mixed writers converge', '2xC++ bench + watch + 2xJS', caseA],
    b: ['presence both ways', 'C++ apply + JS', caseB],
    c: ['remote actions both ways', 'C++ apply + JS', caseC],
    d: ['offline edits converge', 'C++ apply + JS', caseD],
    k: ['server killed and restarted', 'C++ apply + JS', caseK],
    f: ['apply output = real partition output', 'C++ apply vs JS', caseF],
    g: ['apply other_players output = real partition output', 'C++ apply vs JS', caseG],
    e: ['bad tokens -> auth requests', 'C++ apply + JS', caseE],
};

let failed = false;
for (const [key, [title, mix, fn]] of Object.entries(cases)) {
    if (!only.has(key)) continue;
    const t0 = Date.now();
    try {
        const detail = await fn();
        if (detail === null) continue;
        out(`MATRIX ${serverName} (${key}) ${title} [${mix}]: ok (${((Date.now() - t0) / 1000).toFixed(1)} s) - ${detail}`);
    } catch (err) {
        failed = true;
        out(`MATRIX ${serverName} (${key}) ${title} [${mix}]: FAIL - ${err?.message ?? err}`);
        process.stderr.write(`${err?.stack ?? err}\n`);
        for (const p of children.filter((c) => c.stderr)) process.stderr.write(`child stderr: ${p.stderr.slice(-600)}\n`);
    }
    for (const c of clients.splice(0)) c.socket.disconnect();
    for (const p of children.splice(0)) if (!p.exited) p.child.kill('SIGKILL');
}
if (restarted) restarted.kill('SIGTERM');
process.exit(failed ? 1 : 0);
