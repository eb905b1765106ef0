#!/usr/bin/env node
// Smoke test of the Node reference server with the real aux-common client:
// starts `server.mjs --port 0`, connects two RemoteYjsPartitionImpl
// clients (aux-common 3.10.5: AuthenticatedConnectionClient ->
// InstRecordsClient -> RemoteYjsPartitionImpl over WsConnectionClient),
// creates a bot on one and waits until the other sees it, then edits it from
// the second and waits for the first; finally a players partition sees the
// other client join. Exits 0 on success.
//
//   node interop/node_server/smoke_test.mjs [--url ws://...] [--capture FILE]
//
// --url: use a running server; --capture: write every frame the real client
// stack sent and received, one JSON line {"dir":"c2s"|"s2c","text":...}
// each (interop/inst_codec_test.sh decodes them with auxsync's codec).

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadReference } from './build.mjs';
import { startReferenceServer } from './reference_server.mjs';
import { WsConnectionClient } from './ws_connection_client.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const R = await loadReference();
console.log = () => {}; // aux-common logs connection chatter

function arg(name) {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : null;
}

async function startServer() {
    const child = spawn(process.execPath, [join(HERE, 'server.mjs'), '--port', '0'], {
        stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    const [url] = await once(lines, 'line');
    return { url, child };
}

function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
        promise.finally(() => clearTimeout(timer)),
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
        }),
    ]);
}

function makeClient(url, connectionId, indicator = { connectionId }) {
    const socket = new WsConnectionClient(url, R);
    const authSource = new R.PartitionAuthSource(new Map([[socket.origin, indicator]]));
    const auth = new R.AuthenticatedConnectionClient(socket, authSource);
    const client = new R.InstRecordsClient(auth);
    socket.connect();
    return { socket, authSource, client };
}

function makePartition({ client, authSource }, inst, recordName = null) {
    const p = new R.RemoteYjsPartitionImpl(client, authSource, {
        type: 'remote_yjs',
        recordName,
        inst,
        branch: 'default',
    });
    p.space = 'shared';
    return p;
}

async function synced(partition) {
    const done = R.firstValueFrom(partition.onStatusUpdated.pipe(R.filter((u) => u.type === 'sync' && u.synced)));
    partition.connect();
    await withTimeout(done, 10000, 'sync');
}

function botSeen(partition, id, predicate) {
    const current = () => partition.state[id];
    return withTimeout(
        new Promise((resolve) => {
            let sub = null;
            let done = false;
            const check = () => {
                const bot = current();
                if (!done && bot && predicate(bot)) {
                    done = true;
                    sub?.unsubscribe();
                    resolve(bot);
                }
            };
            sub = partition.onStateUpdated.subscribe(check);
            if (done) {
                sub.unsubscribe();
            }
        }),
        10000,
        `bot ${id}`
    );
}

const external = arg('--url');
const server = external ? { url: external, child: null } : await startServer();
process.on('exit', () => server.child?.kill('SIGTERM'));
const inst = `smoke-${Date.now()}`;
let failed = false;
const clients = [];
try {
    const a = makeClient(server.url, 'connA');
    const b = makeClient(server.url, 'connB');
    clients.push(a, b);
    const pa = makePartition(a, inst);
    const pb = makePartition(b, inst);
    await synced(pa);
    await synced(pb);

    await pa.applyEvents([R.botAdded(R.createBot('bot1', { color: 'red' }))]);
    const seen = await botSeen(pb, 'bot1', (bot) => bot.tags.color === 'red');
    process.stdout.write(`client B sees bot1 ${JSON.stringify(seen.tags)}\n`);

    await pb.applyEvents([R.botUpdated('bot1', { tags: { color: 'blue' } })]);
    await botSeen(pa, 'bot1', (bot) => bot.tags.color === 'blue');
    process.stdout.write('client A sees the edit of client B\n');

    // A late joiner gets the full state in its initial snapshot.
    const c = makeClient(server.url, 'connC');
    clients.push(c);
    const pc = makePartition(c, inst);
    await synced(pc);
    await botSeen(pc, 'bot1', (bot) => bot.tags.color === 'blue');
    process.stdout.write('late joiner C has bot1\n');

    // Presence: a players partition of A sees B (per spec 8.6).
    const players = new R.OtherPlayersPartitionImpl(a.client, a.authSource, {
        type: 'other_players_repo',
        recordName: null,
        inst,
        branch: 'default',
    });
    players.space = 'remoteTempShared';
    const shouts = [];
    players.onEvents.subscribe((events) => shouts.push(...events));
    players.connect();
    await withTimeout(
        new Promise((resolve) => {
            const t = setInterval(() => {
                if (shouts.some((e) => e.eventName === 'onRemoteJoined')) {
                    clearInterval(t);
                    resolve();
                }
            }, 50);
        }),
        10000,
        'onRemoteJoined'
    );
    process.stdout.write(`players partition of A: ${shouts.filter((e) => e.eventName === 'onRemoteJoined').map((e) => e.argument.remoteId).sort().join(',')} joined\n`);
    // A private record inst: a vCT1 token made from a connection key the
    // real AuthController issued opens it; an anonymous client is refused.
    const local = await startReferenceServer({ port: 0 });
    try {
        const user = await local.createUser('owner@example.com');
        const token = R.generateV1ConnectionToken(user.connectionKey, 'connT', user.userId, 'privInst');
        const t = makeClient(local.url, 'connT', { connectionToken: token });
        clients.push(t);
        const pt = makePartition(t, 'privInst', user.userId);
        await synced(pt);
        await pt.applyEvents([R.botAdded(R.createBot('secret', { n: 1 }))]);
        const anon = makeClient(local.url, 'connAnon');
        clients.push(anon);
        const pAnon = makePartition(anon, 'privInst', user.userId);
        const denied = R.firstValueFrom(
            pAnon.onStatusUpdated.pipe(R.filter((u) => u.type === 'authorization' && !u.authorized))
        );
        pAnon.connect();
        const status = await withTimeout(denied, 10000, 'anonymous denial');
        process.stdout.write(
            `private record inst: token client synced; anonymous client refused (${status.error.errorCode})\n`
        );
    } finally {
        await local.close();
    }
    process.stdout.write('smoke test ok\n');
} catch (err) {
    failed = true;
    process.stderr.write(`smoke test FAILED: ${err?.stack ?? err}\n`);
    for (const c of clients) {
        process.stderr.write(`sent: ${c.socket.sent.join("\n  ")}\nreceived: ${c.socket.received.join("\n  ")}\n`);
    }
} finally {
    for (const c of clients) {
        c.socket.disconnect();
    }
    const capture = arg('--capture');
    if (capture) {
        const lines = [];
        for (const c of clients) {
            lines.push(...c.socket.sent.map((text) => JSON.stringify({ dir: 'c2s', text })));
            lines.push(...c.socket.received.map((text) => JSON.stringify({ dir: 's2c', text })));
        }
        writeFileSync(capture, lines.join('\n') + '\n');
    }
    server.child?.kill('SIGTERM');
}
process.exit(failed ? 1 : 0);
