#!/usr/bin/env node
// Differential test of auxsync's inst-protocol codec (auxsync/inst/)
// against the real CasualOS code:
//
//   node inst_codec_diff.mjs --tool PATH [--seeds N] [--start S] [--verbose]
//
// PATH is build/auxsync/inst/inst_codec_tool. Per seed:
//  1. client frames: random requests built the way the aux-common client
//     builds them (its own builders for the action envelopes), plus random
//     mutations (missing/null/mistyped/unknown fields, unknown types) and
//     envelope garbage. The verdict of the real server - JSON.parse, the
//     real zod websocketEventSchema / websocketRequestMessageSchema /
//     download schema, as the dispatch of node_server applies them - must
//     equal ours (ignored / envelope error / message error / accepted); our
//     error reply must equal the real one (apart from the informational
//     zod `issues`, whose exact text is compared and counted only); an
//     accepted frame must re-encode byte for byte when it had no unknown
//     fields, and our re-encoding must pass the real zod schema with the
//     same parsed data.
//  3. with --captured FILE (written by node_server/smoke_test.mjs --capture):
//     every frame the real aux-common client stack sent and received in a
//     live session must decode with ours and re-encode byte for byte.
//  2. server frames: a random session of several sockets against the REAL
//     aux-records WebsocketController (node_server's core, in process);
//     every frame the controller sends must decode with ours and re-encode
//     byte for byte.
// Prints a summary; exits 1 on any mismatch (the first few are shown).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { createReferenceCore } from './node_server/reference_server.mjs';
import { mulberry32 } from './lib/rng.mjs';

function arg(name, fallback) {
    const i = process.argv.indexOf(name);
    return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const TOOL = arg('--tool', null);
const CAPTURED = arg('--captured', null);
const SEEDS = Number(arg('--seeds', '500'));
const START = Number(arg('--start', '0'));
const VERBOSE = process.argv.includes('--verbose');
if (!TOOL) {
    console.error('usage: node inst_codec_diff.mjs --tool build/auxsync/inst/inst_codec_tool [--seeds N] [--start S]');
    process.exit(2);
}
const realLog = console.log;
console.log = () => {}; // the controller logs every request
console.warn = () => {};
const realError = console.error;
console.error = () => {};
const say = (m) => process.stdout.write(`${m}\n`);

function makeRandom(seed) {
    const next = mulberry32(seed * 2654435761 + 12345);
    const r = {
        next,
        int: (n) => Math.floor(next() * n),
        bool: (p = 0.5) => next() < p,
        pick: (a) => a[Math.floor(next() * a.length)],
        str() {
            const pieces = ['a', 'b', 'x', 'inst', 'é', '日本', '😀', ' ', '"', '\\', '/', '\u0001', '\u2028', '1', '-'];
            if (r.bool(0.05)) pieces.push('\ud800'); // lone surrogate
            let s = '';
            const n = r.int(6);
            for (let i = 0; i < n; i++) s += r.pick(pieces);
            return s;
        },
        nonEmpty() {
            const s = r.str();
            return s.length ? s : 'r';
        },
        num() {
            return r.pick([0, 1, -1, 7, 2 ** 31, 2 ** 53 - 1, 1.5, -0.25, 1e21, 1e-7, 123456789.125, r.int(1000)]);
        },
        json(depth = 0) {
            const k = r.int(depth > 2 ? 4 : 7);
            switch (k) {
                case 0:
                    return null;
                case 1:
                    return r.bool();
                case 2:
                    return r.num();
                case 3:
                    return r.str();
                case 4: {
                    const a = [];
                    for (let i = r.int(4); i > 0; i--) a.push(r.json(depth + 1));
                    return a;
                }
                default: {
                    const o = {};
                    for (let i = r.int(4); i > 0; i--) {
                        o[r.pick(['type', 'eventName', 'x', '1', '0', '10', 'botIds', r.str()])] = r.json(depth + 1);
                    }
                    return o;
                }
            }
        },
        b64() {
            const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
            let s = '';
            for (let i = 4 * (1 + r.int(8)); i > 0; i--) s += r.pick(alphabet);
            return s;
        },
    };
    return r;
}

const RESOURCE_KINDS = ['data', 'file', 'event', 'marker', 'role', 'inst', 'loom', 'webhook', 'package', 'package.version'];
const ACTIONS = ['create', 'read', 'update', 'updateData', 'delete', 'list', 'sendAction', 'assign', 'grant'];
const SUBJECT_TYPES = ['user', 'inst', 'role'];

// ------------------------------------------------------------ client frames
function namespace(r) {
    return {
        recordName: r.bool(0.4) ? null : r.nonEmpty(),
        inst: r.str(),
        branch: r.pick(['default', 'default-player-connA', 'doc/x', r.str()]),
    };
}

function randomRequest(r, R) {
    const ns = () => namespace(r);
    switch (r.int(13)) {
        case 0: {
            const m = { type: 'login' };
            if (r.bool()) m.connectionToken = r.str();
            if (r.bool()) m.connectionId = r.str();
            return m;
        }
        case 1: {
            const m = { type: 'repo/watch_branch', ...ns() };
            if (r.bool(0.3)) m.temporary = r.bool();
            if (r.bool(0.2)) m.markers = [r.str(), r.str()].slice(r.int(2));
            return m;
        }
        case 2:
            return { type: 'repo/unwatch_branch', ...ns() };
        case 3: {
            const m = { type: 'repo/add_updates', ...ns(), updates: Array.from({ length: r.int(3) }, () => r.b64()) };
            if (r.bool(0.8)) m.updateId = r.num();
            if (r.bool(0.1)) m.initial = r.bool();
            if (r.bool(0.1)) m.timestamps = m.updates.map(() => r.num());
            return m;
        }
        case 4: {
            const selector = {};
            if (r.bool(0.4)) selector.connectionId = r.str();
            if (r.bool(0.2)) selector.sessionId = r.str();
            if (r.bool(0.2)) selector.userId = r.str();
            if (r.bool(0.2)) selector.broadcast = r.bool();
            const taskId = r.bool(0.5) ? (r.bool() ? r.str() : r.int(100)) : undefined;
            const kind = r.int(3);
            const action =
                kind === 0
                    ? R.remote(r.json(), selector, r.bool(0.2) ? r.bool() : undefined, taskId)
                    : kind === 1
                    ? R.remoteResult(r.json(), selector, taskId)
                    : R.remoteError(r.json(), selector, taskId);
            return { type: 'repo/send_action', ...ns(), action };
        }
        case 5:
            return { type: 'repo/watch_branch_devices', ...ns() };
        case 6:
            return { type: 'repo/unwatch_branch_devices', ...ns() };
        case 7: {
            const n = ns();
            return {
                type: 'repo/connection_count',
                recordName: n.recordName,
                inst: r.bool(0.2) ? null : n.inst,
                branch: r.bool(0.3) ? null : n.branch,
            };
        }
        case 8:
            return { type: 'sync/time', id: r.int(50), clientRequestTime: Date.now() + r.int(1000) };
        case 9:
            return { type: 'repo/get_updates', ...ns() };
        case 10:
            return {
                type: 'permission/request/missing',
                reason: {
                    type: 'missing_permission',
                    recordName: r.str(),
                    resourceKind: r.pick(RESOURCE_KINDS),
                    resourceId: r.str(),
                    action: r.pick(ACTIONS),
                    subjectType: r.pick(SUBJECT_TYPES),
                    subjectId: r.str(),
                },
            };
        case 11: {
            const m = {
                type: 'permission/request/missing/response',
                success: r.bool(),
                recordName: r.str(),
                resourceKind: r.pick(RESOURCE_KINDS),
                resourceId: r.str(),
                subjectType: r.pick(SUBJECT_TYPES),
                subjectId: r.str(),
            };
            if (r.bool(0.3)) m.errorCode = r.str();
            if (r.bool(0.3)) m.errorMessage = r.str();
            return m;
        }
        default:
            return {
                type: 'http_request',
                id: r.int(10),
                request: {
                    path: '/' + r.str(),
                    method: r.pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']),
                    pathParams: r.bool() ? {} : { p: r.str() },
                    query: r.bool() ? {} : { q: r.str() },
                    headers: r.bool() ? {} : { authorization: r.str() },
                    body: r.bool() ? null : r.str(),
                },
            };
    }
}

// Mutates a request; returns whether unknown fields may have been added
// (then only the semantics, not the bytes, can round-trip).
function mutate(r, message) {
    const paths = [];
    const walk = (obj, path) => {
        for (const k of Object.keys(obj)) {
            paths.push([...path, k]);
            if (obj[k] && typeof obj[k] === 'object' && !Array.isArray(obj[k]) && path.length < 2) {
                walk(obj[k], [...path, k]);
            }
        }
    };
    walk(message, []);
    const path = r.pick(paths);
    const parent = path.slice(0, -1).reduce((o, k) => o[k], message);
    const key = path[path.length - 1];
    switch (r.int(7)) {
        case 0:
            delete parent[key];
            return false;
        case 1:
            parent[key] = null;
            return false;
        case 2:
            parent[key] = r.pick([1, 'x', true, [], {}, [1], ['a']]);
            return false;
        case 3:
            parent[r.pick(['extra', 'protocol', 'origin', 'device'])] = r.json();
            return true;
        case 4:
            message.type = r.pick(['nope', 'repo/add_update', 'login_result', 'repo/receive_action', '']);
            return false;
        case 5:
            if ('recordName' in message) message.recordName = '';
            return false;
        default:
            // Another kind: its payload key becomes an unknown field.
            if (message.action) message.action.type = r.pick(['device', 'remote', 'device_result', 'x']);
            return true;
    }
}

const GARBAGE = [
    'not json', '', '{', '5', '"s"', 'true', 'null', '{}', '[]', '[1]', '[0,1,{}]', '[6,1,{}]', '[1.5,1,{}]',
    '["1",1,{}]', '[1,"1",{}]', '[1,null,{}]', '[1,1e400,{"type":"login"}]', '[1e400,1,{}]', '[1,2]', '[1,2,null]',
    '[1,2,[]]', '[1,2,"x"]', '[2,3]', '[2,3,"x"]', '[3,1,"u","PUT",{}]', '[4,1]', '[4,1,"u","GET",{}]',
    '[4,1,"u","GET",{"a":1}]', '[4,1,"u",5,{}]', '[5,1,{"errorCode":"x","errorMessage":"y"}]', '[5,null,{}]',
    '[1,2,{"type":"login"},"extra"]', '[1,-3.5,{"type":"login","connectionId":"c"}]', '{"foo":1}',
    '[1,7,{"type":"nope"}]', ' [1,1,{"type":"login"}] ', '[1,1,{"type":"login","type":"sync/time","id":1,"clientRequestTime":2}]',
];

// The verdict of the real server's dispatch (node_server/reference_server.mjs)
// on a client frame.
function realVerdict(R, text) {
    let data;
    try {
        data = JSON.parse(text);
    } catch {
        return { kind: 'ignored' };
    }
    if (typeof data !== 'object') {
        return { kind: 'ignored' };
    }
    const envelope = R.websocketEventSchema().safeParse(data);
    if (!envelope.success) {
        return { kind: 'envelope', reply: errorReply(null, envelope.error) };
    }
    const [type, id] = envelope.data;
    if (type === 1) {
        const m = R.websocketRequestMessageSchema().safeParse(data[2]);
        if (!m.success) {
            return { kind: 'message', reply: errorReply(id, m.error) };
        }
        return { kind: 'ok', data: m.data };
    }
    if (type === 4) {
        const d = R.websocketDownloadRequestEventSchema().safeParse(data);
        return d.success ? { kind: 'ok' } : { kind: 'message', reply: errorReply(id, d.error) };
    }
    if (type === 2) {
        return { kind: 'ok' };
    }
    return { kind: 'unexpected' };
}
function errorReply(id, error) {
    return JSON.stringify([
        5,
        id,
        {
            success: false,
            errorCode: 'unacceptable_request',
            errorMessage: 'The request was invalid. One or more fields were invalid.',
            issues: error.issues,
        },
    ]);
}
function withoutIssues(frameText) {
    const f = JSON.parse(frameText);
    delete f[2].issues;
    return JSON.stringify(f);
}

// ------------------------------------------------------------ server frames
async function serverSession(r, R, seed, out) {
    const frames = [];
    const sockets = ['s1', 's2', 's3'].slice(0, 2 + r.int(2));
    const core = await createReferenceCore({
        deliver: (id, text) => frames.push(text),
        maxBytesPerInst: r.bool(0.3) ? 200 + r.int(400) : null,
    });
    const user = seed % 5 === 0 ? await core.createUser(`u${seed}@example.com`) : null;
    const insts = [{ recordName: null, inst: 'pub' }, { recordName: null, inst: r.str() }];
    if (user) insts.push({ recordName: user.userId, inst: 'rec' });
    let frameId = 1;
    const send = (socket, message) => core.handleFrame(socket, JSON.stringify([1, frameId++, message]));
    for (const s of sockets) {
        if (user && r.bool(0.6)) {
            const ns = r.pick(insts.filter((i) => i.recordName));
            const token = R.generateV1ConnectionToken(user.connectionKey, `c-${s}`, ns.recordName, ns.inst);
            await send(s, { type: 'login', connectionToken: r.bool(0.9) ? token : token.slice(0, -4) });
        } else {
            await send(s, { type: 'login', connectionId: r.bool(0.9) ? `c-${s}` : '' });
        }
    }
    const nsOf = () => {
        const i = r.pick(insts);
        return { recordName: i.recordName, inst: i.inst, branch: r.pick(['default', 'default', 'default-player-x', 'b2']) };
    };
    for (let step = 12 + r.int(20); step > 0; step--) {
        const s = r.pick(sockets);
        const ns = nsOf();
        switch (r.int(14)) {
            case 0:
            case 1:
                await send(s, { type: 'repo/watch_branch', ...ns, ...(r.bool(0.3) ? { temporary: true } : {}) });
                break;
            case 2:
            case 3:
                await send(s, {
                    type: 'repo/add_updates',
                    ...ns,
                    updates: Array.from({ length: 1 + r.int(2) }, () => r.b64()),
                    ...(r.bool(0.9) ? { updateId: frameId } : {}),
                });
                break;
            case 4: {
                const selector = r.pick([{}, { broadcast: true }, { connectionId: 'c-s1' }, { userId: user?.userId ?? 'u' }, { sessionId: 'x' }]);
                const taskId = r.bool() ? 'task-' + r.int(9) : undefined;
                const action = r.pick([
                    () => R.remote(r.json(), selector, undefined, taskId),
                    () => R.remoteResult(r.json(), selector, taskId),
                    () => R.remoteError(r.json(), selector, taskId),
                ])();
                await send(s, { type: 'repo/send_action', ...ns, action });
                break;
            }
            case 5:
                await send(s, { type: 'repo/watch_branch_devices', ...ns });
                break;
            case 6:
                await send(s, { type: 'repo/unwatch_branch', ...ns });
                break;
            case 7:
                await send(s, { type: 'repo/connection_count', ...ns, ...(r.bool(0.3) ? { inst: null, branch: null } : {}) });
                break;
            case 8:
                await send(s, { type: 'sync/time', id: r.int(9), clientRequestTime: Date.now() });
                break;
            case 9:
                await send(s, { type: 'repo/get_updates', ...ns });
                break;
            case 10:
                await send(s, {
                    type: 'permission/request/missing',
                    reason: {
                        type: 'missing_permission',
                        recordName: ns.recordName ?? 'rec',
                        resourceKind: r.pick(['inst', 'data']),
                        resourceId: ns.inst,
                        action: 'read',
                        subjectType: 'user',
                        subjectId: r.bool() ? user?.userId ?? 'u' : 'other',
                    },
                });
                break;
            case 11:
                await send(s, {
                    type: 'permission/request/missing/response',
                    success: r.bool(),
                    recordName: ns.recordName ?? 'rec',
                    resourceKind: 'inst',
                    resourceId: ns.inst,
                    subjectType: 'user',
                    subjectId: user?.userId ?? 'u',
                });
                break;
            case 12:
                await core.handleFrame(s, r.pick(GARBAGE));
                break;
            default:
                if (r.bool()) {
                    await core.controller.rateLimitExceeded(s, r.pick([0, 1.5, 12]), r.int(2000), Date.now() + step * 2000);
                } else {
                    await core.disconnect(s);
                    await send(s, { type: 'login', connectionId: `c-${s}` });
                }
        }
    }
    await core.handleFrame(sockets[0], '[1,1,{"type":"http_request","id":4,"request":{"path":"/","method":"GET","pathParams":{},"query":{},"headers":{},"body":null}}]');
    for (const f of frames) out.push({ seed, text: f });
}

// ------------------------------------------------------------ tokens
const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
function randomTokens(r, R, out) {
    const secret = Buffer.from(Array.from({ length: 16 }, () => r.int(256))).toString('base64');
    const userId = r.nonEmpty();
    const sessionId = r.nonEmpty();
    const key = `vCK1.${b64(userId)}.${b64(sessionId)}.${b64(secret)}.${b64('Infinity')}`;
    for (let i = 0; i < 4; i++) {
        const connectionId = r.nonEmpty();
        const recordName = r.bool(0.4) ? null : r.nonEmpty();
        const inst = r.nonEmpty();
        out.hmac.push({ args: [secret, connectionId, recordName, inst], real: R.v1ConnectionTokenHmac(secret, connectionId, recordName ?? '', inst) });
        let token = R.generateV1ConnectionToken(key, connectionId, recordName, inst);
        if (r.bool(0.5)) {
            const chars = [...token];
            for (let e = 1 + r.int(3); e > 0; e--) {
                const at = r.int(chars.length);
                const what = r.int(3);
                if (what === 0) chars.splice(at, 1);
                else if (what === 1) chars.splice(at, 0, r.pick(['.', '!', '=', 'é', 'A', '-', '\ud83d']));
                else chars[at] = r.pick(['.', '=', '_', '+', 'z']);
            }
            token = chars.join('');
        }
        out.tokens.push({ token, real: R.parseV1ConnectionToken(token) });
    }
}

// ------------------------------------------------------------ main
function runTool(direction, frames, mode = 'decode') {
    const input = frames.map((f) => f.text).join('\n') + '\n';
    const r = spawnSync(TOOL, direction ? [mode, direction] : [mode], { input, maxBuffer: 1 << 30 });
    if (r.status !== 0) {
        throw new Error(`${TOOL} decode ${direction} failed: ${r.stderr}`);
    }
    const lines = r.stdout.toString('utf8').split('\n').filter((l) => l.length);
    if (lines.length !== frames.length) {
        throw new Error(`${TOOL}: ${lines.length} answers for ${frames.length} frames`);
    }
    return lines.map((l) => JSON.parse(l));
}

const core0 = await createReferenceCore({ deliver: () => {} });
const R = core0.R;
const clientFrames = [];
const serverFrames = [];
const tokenCases = { hmac: [], tokens: [] };
for (let seed = START; seed < START + SEEDS; seed++) {
    const r = makeRandom(seed);
    for (let i = 0; i < 24; i++) {
        const message = randomRequest(r, R);
        let unknownFields = false;
        if (r.bool(0.35)) {
            unknownFields = mutate(r, message);
        }
        const id = r.bool(0.9) ? 1 + r.int(1000) : r.pick([0.5, -1, 2 ** 40]);
        const text = JSON.stringify([1, id, message]);
        if (!text.includes('\n')) {
            clientFrames.push({ seed, text, unknownFields });
        }
    }
    // Garbage may carry extra array items, which the server ignores: only
    // the meaning can round-trip.
    clientFrames.push({ seed, text: r.pick(GARBAGE), unknownFields: true });
    await serverSession(r, R, seed, serverFrames);
    randomTokens(r, R, tokenCases);
}

const failures = [];
const fail = (what, frame, detail) => failures.push({ what, seed: frame.seed, text: frame.text, detail });
const stats = { client: clientFrames.length, accepted: 0, rejected: 0, ignored: 0, exactIssues: 0, replies: 0, server: serverFrames.length };

const ours = runTool('c2s', clientFrames);
const reencoded = [];
clientFrames.forEach((frame, i) => {
    const real = realVerdict(R, frame.text);
    const mine = ours[i];
    const mineKind = mine.ok ? 'ok' : mine.kind;
    if (real.kind !== mineKind) {
        fail('client verdict', frame, `real ${real.kind}, ours ${mineKind}: ${mine.error ?? ''}`);
        return;
    }
    if (real.kind === 'ok') {
        stats.accepted++;
        const parsed = JSON.parse(frame.text);
        if (parsed[0] === 1) {
            if (!frame.unknownFields && mine.frame !== JSON.stringify(parsed)) {
                fail('client re-encoding', frame, `ours ${mine.frame}`);
            }
            reencoded.push({ frame, mine: mine.frame, data: real.data });
        }
    } else if (real.kind === 'envelope' || real.kind === 'message') {
        stats.rejected++;
        stats.replies++;
        if (mine.reply === null || withoutIssues(mine.reply) !== withoutIssues(real.reply)) {
            fail('error reply', frame, `real ${real.reply}\n    ours ${mine.reply}`);
        } else if (mine.reply === real.reply) {
            stats.exactIssues++;
        } else if (process.env.INST_DIFF_SHOW_ISSUES) {
            say(`issues differ: ${frame.text}\n    real ${JSON.stringify(JSON.parse(real.reply)[2].issues)}\n    ours ${JSON.stringify(JSON.parse(mine.reply)[2].issues)}`);
        }
    } else {
        stats.ignored++;
    }
});
// Our re-encodings must pass the real schema and mean the same.
for (const { frame, mine, data } of reencoded) {
    const again = R.websocketRequestMessageSchema().safeParse(JSON.parse(mine)[2]);
    if (!again.success) {
        fail('zod rejects our encoding', frame, mine);
    } else if (!isDeepStrictEqual(JSON.parse(JSON.stringify(again.data)), JSON.parse(JSON.stringify(data)))) {
        fail('our encoding means something else', frame, mine);
    }
}

const serverOurs = runTool('s2c', serverFrames);
const types = new Map();
serverFrames.forEach((frame, i) => {
    const mine = serverOurs[i];
    const parsed = JSON.parse(frame.text);
    const key = parsed[0] === 1 ? parsed[2].type : `[${parsed[0]}]`;
    types.set(key, (types.get(key) ?? 0) + 1);
    if (!mine.ok) {
        fail('server frame rejected', frame, mine.error);
    } else if (mine.frame !== frame.text) {
        fail('server re-encoding', frame, `ours ${mine.frame}`);
    }
});

// Frames of a live session of the real client stack.
let captured = 0;
if (CAPTURED) {
    const lines = readFileSync(CAPTURED, 'utf8').split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
    for (const dir of ['c2s', 's2c']) {
        const frames = lines.filter((l) => l.dir === dir).map((l) => ({ seed: 'captured', text: l.text }));
        const answers = runTool(dir, frames);
        frames.forEach((frame, i) => {
            captured++;
            if (!answers[i].ok) {
                fail(`captured ${dir} frame rejected`, frame, answers[i].error);
            } else if (answers[i].frame !== frame.text) {
                fail(`captured ${dir} re-encoding`, frame, `ours ${answers[i].frame}`);
            }
        });
    }
}

// Connection tokens: the real parser and HMAC against ours.
const hmacOurs = runTool(null, tokenCases.hmac.map((c) => ({ text: JSON.stringify(c.args) })), 'hmac');
tokenCases.hmac.forEach((c, i) => {
    if (hmacOurs[i] !== c.real) {
        failures.push({ what: 'token hmac', seed: '-', text: JSON.stringify(c.args), detail: `real ${c.real}, ours ${hmacOurs[i]}` });
    }
});
const tokenOurs = runTool(null, tokenCases.tokens.map((c) => ({ text: JSON.stringify(c.token) })), 'token');
let tokensParsed = 0;
tokenCases.tokens.forEach((c, i) => {
    if (c.real) tokensParsed++;
    if (!isDeepStrictEqual(tokenOurs[i], c.real)) {
        failures.push({ what: 'token parse', seed: '-', text: JSON.stringify(c.token), detail: `real ${JSON.stringify(c.real)}, ours ${JSON.stringify(tokenOurs[i])}` });
    }
});

say(
    `inst codec diff: seeds ${START}..${START + SEEDS - 1}: ${stats.client} client frames ` +
        `(${stats.accepted} accepted, ${stats.rejected} rejected with a reply, ${stats.ignored} ignored; ` +
        `${stats.exactIssues}/${stats.replies} replies equal including zod issues), ` +
        `${stats.server} frames of the real server`
);
if (CAPTURED) {
    say(`  live session of the real client stack: ${captured} frames, both directions`);
}
say(`  tokens: ${tokenCases.tokens.length} parsed by both sides (${tokensParsed} valid upstream), ${tokenCases.hmac.length} HMACs`);
say(`  server frame kinds: ${[...types.entries()].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
if (failures.length) {
    say(`FAILED: ${failures.length} mismatches`);
    for (const f of failures.slice(0, VERBOSE ? 50 : 8)) {
        say(`- ${f.what} (seed ${f.seed}): ${f.text}\n    ${f.detail}`);
    }
    process.exit(1);
}
say('ok');
void realLog;
void realError;
