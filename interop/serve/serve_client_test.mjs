#!/usr/bin/env node
// `auxsync serve` with the real aux-common 3.10.5 client stack
// (AuthenticatedConnectionClient -> InstRecordsClient ->
// RemoteYjsPartitionImpl / OtherPlayersPartitionImpl over the framing
// client of ../node_server/ws_connection_client.mjs). interop/serve_test.sh
// starts the server and runs this against it.
//
//   node interop/serve/serve_client_test.mjs --url ws://... [--url2 ws://...] [--phase all|write|verify] [--inst NAME]
//
// all:    two clients converge, a late joiner gets the full state, players
//         see each other join and leave, a temporary branch vanishes with
//         its last watcher, a whisper reaches only its target and a shout
//         everyone. With --url2 (a second server node on the same store,
//         interop/serve_redis_test.sh), clients B, C, E and F connect
//         there, so every step crosses nodes.
// write:  a client creates bot `persist` in --inst (a second client sees
//         it, so the server stored it); verify: a fresh client of --inst
//         has it (run after a server restart).
// Exits 0 on success.

import { loadReference } from '../node_server/build.mjs';
import { WsConnectionClient } from '../node_server/ws_connection_client.mjs';
import { arg, sleep, waitFor, withTimeout } from '../lib/wait.mjs';

const R = await loadReference();
const out = (line) => process.stdout.write(`${line}\n`);
console.log = () => {}; // aux-common logs connection chatter


const clients = [];
function makeClient(url, connectionId) {
    const socket = new WsConnectionClient(url, R);
    const authSource = new R.PartitionAuthSource(new Map([[socket.origin, { connectionId }]]));
    const auth = new R.AuthenticatedConnectionClient(socket, authSource);
    const client = new R.InstRecordsClient(auth);
    socket.connect();
    const c = { socket, authSource, client, connectionId };
    clients.push(c);
    return c;
}

function makePartition({ client, authSource }, inst, branch = 'default', extra = {}) {
    const p = new R.RemoteYjsPartitionImpl(client, authSource, {
        type: 'remote_yjs',
        recordName: null,
        inst,
        branch,
        ...extra,
    });
    p.space = 'shared';
    const events = [];
    p.onEvents.subscribe((e) => events.push(...e));
    p.receivedEvents = events;
    return p;
}

async function synced(partition) {
    const done = R.firstValueFrom(partition.onStatusUpdated.pipe(R.filter((u) => u.type === 'sync' && u.synced)));
    partition.connect();
    await withTimeout(done, 10000, 'sync');
}

const botSeen = (p, id, pred = () => true) =>
    waitFor(() => p.state[id] && pred(p.state[id]) && p.state[id], `bot ${id}`);

function players(c, inst) {
    const p = new R.OtherPlayersPartitionImpl(c.client, c.authSource, {
        type: 'other_players_repo',
        recordName: null,
        inst,
        branch: 'default',
    });
    p.space = 'remoteTempShared';
    const events = [];
    p.onEvents.subscribe((e) => events.push(...e));
    p.connect();
    return { p, events };
}

const names = (events, name) =>
    events
        .filter((e) => e.eventName === name)
        .map((e) => e.argument.remoteId)
        .sort()
        .join(',');

async function all(url, url2 = url) {
    const inst = `serve-${Date.now()}`;
    const a = makeClient(url, 'connA');
    const b = makeClient(url2, 'connB');
    const pa = makePartition(a, inst);
    const pb = makePartition(b, inst);
    await synced(pa);
    await synced(pb);
    const pla = players(a, inst);

    await pa.applyEvents([R.botAdded(R.createBot('bot1', { color: 'red' }))]);
    await botSeen(pb, 'bot1', (bot) => bot.tags.color === 'red');
    out('client B sees bot1 of client A');
    await pb.applyEvents([R.botUpdated('bot1', { tags: { color: 'blue' } })]);
    await botSeen(pa, 'bot1', (bot) => bot.tags.color === 'blue');
    out('client A sees the edit of client B');

    const c = makeClient(url2, 'connC');
    const pc = makePartition(c, inst);
    await synced(pc);
    await botSeen(pc, 'bot1', (bot) => bot.tags.color === 'blue');
    out('late joiner C has bot1 (blue) in its initial snapshot');

    await waitFor(() => names(pla.events, 'onRemoteJoined') === 'connB,connC', 'B and C joined');
    out(`players partition of A: ${names(pla.events, 'onRemoteJoined')} joined`);

    // A whisper to B reaches B only; a shout (broadcast) reaches everyone,
    // the sender included.
    const ping = { type: 'action', eventName: 'ping', argument: { n: 1 }, botIds: null, userId: null, sortBotIds: true };
    await pa.sendRemoteEvents([R.remote(ping, { connectionId: 'connB' })]);
    const whisper = (p) =>
        p.receivedEvents.find((e) => e.eventName === 'onRemoteWhisper' && e.argument.name === 'ping');
    const got = await waitFor(() => whisper(pb), 'whisper to B');
    if (got.argument.playerId !== 'connA') throw new Error(`whisper from ${got.argument.playerId}`);
    await pa.sendRemoteEvents([R.remote({ ...ping, eventName: 'shout' }, { broadcast: true })]);
    const shout = (p) => p.receivedEvents.find((e) => e.eventName === 'onRemoteData' && e.argument.name === 'shout');
    await waitFor(() => shout(pa) && shout(pb) && shout(pc), 'shout to all');
    if (whisper(pc) || whisper(pa)) throw new Error('the whisper reached a wrong client');
    out('a whisper reached B only; a shout reached A, B and C');

    // C leaves: A's players partition sees it go.
    c.socket.disconnect();
    await waitFor(() => names(pla.events, 'onRemoteLeave') === 'connC', 'C left');
    out('players partition of A: connC left');

    // A temporary branch lives while watched, and vanishes with its last
    // watcher.
    const d = makeClient(url, 'connD');
    const e = makeClient(url2, 'connE');
    const pd = makePartition(d, inst, 'tmp', { temporary: true });
    const pe = makePartition(e, inst, 'tmp', { temporary: true });
    await synced(pd);
    await synced(pe);
    await pd.applyEvents([R.botAdded(R.createBot('tmpBot', { n: 1 }))]);
    await botSeen(pe, 'tmpBot');
    d.socket.disconnect();
    await sleep(200);
    const e2 = makeClient(url, 'connE2');
    const pe2 = makePartition(e2, inst, 'tmp', { temporary: true });
    await synced(pe2);
    await botSeen(pe2, 'tmpBot');
    out('temporary branch: kept while one watcher remains');
    e.socket.disconnect();
    e2.socket.disconnect();
    await sleep(300);
    const f = makeClient(url2, 'connF');
    const pf = makePartition(f, inst, 'tmp', { temporary: true });
    await synced(pf);
    await sleep(200);
    if (Object.keys(pf.state).length !== 0) throw new Error(`temporary branch not empty: ${Object.keys(pf.state)}`);
    out('temporary branch: empty after its last watcher left');
}

async function write(url, inst) {
    const a = makeClient(url, 'connW');
    const b = makeClient(url, 'connR');
    const pa = makePartition(a, inst);
    const pb = makePartition(b, inst);
    await synced(pa);
    await synced(pb);
    await pa.applyEvents([R.botAdded(R.createBot('persist', { saved: 'yes' }))]);
    await botSeen(pb, 'persist');
    out(`wrote bot persist to ${inst}`);
}

async function verify(url, inst) {
    const a = makeClient(url, 'connV');
    const pa = makePartition(a, inst);
    await synced(pa);
    await botSeen(pa, 'persist', (bot) => bot.tags.saved === 'yes');
    out(`after the restart ${inst} still has bot persist`);
}

const url = arg('--url');
const phase = arg('--phase', 'all');
let failed = false;
try {
    if (!url) throw new Error('--url is required');
    if (phase === 'all') await all(url, arg('--url2', url));
    else if (phase === 'write') await write(url, arg('--inst'));
    else if (phase === 'verify') await verify(url, arg('--inst'));
    else throw new Error(`unknown phase ${phase}`);
    out(`serve ${phase}: ok`);
} catch (err) {
    failed = true;
    process.stderr.write(`serve ${phase} FAILED: ${err?.stack ?? err}\n`);
    for (const c of clients) {
        process.stderr.write(`${c.connectionId} sent:\n  ${c.socket.sent.join('\n  ')}\nreceived:\n  ${c.socket.received.join('\n  ')}\n`);
    }
} finally {
    for (const c of clients) c.socket.disconnect();
}
process.exit(failed ? 1 : 0);
