#!/usr/bin/env node
// `auxsync serve` on the wire, with raw `ws` sockets (no client stack):
// the endpoint (2.1: /websocket, any path, subprotocol casualos.records
// echoed), malformed frames answered as the real server answers them (2.2,
// the section 11 fragment), a request before login answered with
// invalid_connection_state and the socket closed, binary frames ignored,
// and a frame above --max-frame-bytes closing the socket (1009).
//
//   node interop/serve/serve_wire_test.mjs --url ws://.../websocket --max-frame-bytes N

import WebSocket from 'ws';

function arg(name) {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : null;
}
const url = arg('--url');
const maxFrame = Number(arg('--max-frame-bytes'));

function open(u, protocols) {
    return new Promise((resolve, reject) => {
        const ws = new WebSocket(u, protocols);
        const frames = [];
        ws.on('message', (d, binary) => frames.push(binary ? '<binary>' : d.toString()));
        ws.once('open', () => resolve({ ws, frames }));
        ws.once('error', reject);
    });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function closed(ws) {
    return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}
function check(cond, what) {
    if (!cond) throw new Error(what);
    process.stdout.write(`ok: ${what}\n`);
}

try {
    const base = new URL(url);
    const records = await open(url, ['casualos.records']);
    check(records.ws.protocol === 'casualos.records', 'subprotocol casualos.records echoed');
    records.ws.close();
    const other = await open(`ws://${base.host}/any/path`);
    other.ws.send(JSON.stringify([1, 1, { type: 'sync/time', id: 1, clientRequestTime: 5 }]));
    await sleep(200);
    check(/sync\/time\/response/.test(other.frames[0] ?? ''), 'any path is accepted');
    other.ws.close();

    const c = await open(url);
    const isClosed = closed(c.ws);
    c.ws.send('{"foo":1}');
    c.ws.send('not json');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    c.ws.send('[1,7,{"type":"nope"}]');
    c.ws.send('[1,8,{"type":"repo/watch_branch","recordName":null,"inst":"x","branch":"y"}]');
    const code = await isClosed;
    const expected = [
        '[5,null,{"success":false,"errorCode":"unacceptable_request","errorMessage":"The request was invalid. One or more fields were invalid.","issues":[{"expected":"tuple","code":"invalid_type","path":[],"message":"Invalid input: expected tuple, received object"}]}]',
        '[5,7,{"success":false,"errorCode":"unacceptable_request","errorMessage":"The request was invalid. One or more fields were invalid.","issues":[{"code":"invalid_union","errors":[],"note":"No matching discriminator","discriminator":"type","path":["type"],"message":"Invalid input"}]}]',
    ];
    check(c.frames[0] === expected[0] && c.frames[1] === expected[1], 'malformed frames get the real replies; non-JSON and binary frames none');
    check(
        /^\[5,-1,\{"success":false,"errorCode":"invalid_connection_state","errorMessage":"A server error occurred. \(namespace: null\/x\/y, connectionId: [0-9a-f-]{36}\)","recordName":null,"inst":"x","branch":"y"\}\]$/.test(c.frames[2]) &&
            c.frames.length === 3,
        'watch before login: invalid_connection_state'
    );
    check(code === 1000, `then the server closes the socket (code ${code})`);

    const big = await open(url);
    const bigClosed = closed(big.ws);
    big.ws.send('x'.repeat(maxFrame + 1));
    check((await bigClosed) === 1009, 'a frame above --max-frame-bytes closes the socket with 1009');
    const ok = await open(url);
    ok.ws.send(JSON.stringify([1, 1, { type: 'login', connectionId: 'x'.repeat(maxFrame - 100) }]));
    await sleep(300);
    check(/login_result","success":true/.test(ok.frames[0] ?? ''), 'a frame just below the limit is handled');
    ok.ws.close();
    process.stdout.write('serve wire: ok\n');
    process.exit(0);
} catch (err) {
    process.stderr.write(`serve wire FAILED: ${err?.stack ?? err}\n`);
    process.exit(1);
}
