#!/usr/bin/env node
// A crashed `auxsync serve --store redis` node, seen by the real aux-common
// 3.10.5 client stack on another node (interop/serve_redis_test.sh starts
// the nodes with a short --redis-node-ttl and runs this):
//
//   node interop/serve/serve_nodes_test.mjs --url ws://node1 --url2 ws://node2 --kill-pid PID_OF_NODE2
//
// A (node 1) watches players; B (node 2) joins and writes a bot; node 2 is
// killed with SIGKILL (it says goodbye to nobody). A's
// OtherPlayersPartition must see B leave once node 2's heartbeat expired
// (a live node reaps it), and a new client on node 1 loads B's
// acknowledged bot. Exits 0 on success.

import { loadReference } from '../node_server/build.mjs';
import { WsConnectionClient } from '../node_server/ws_connection_client.mjs';
import { arg, waitFor } from '../lib/wait.mjs';

const R = await loadReference();
const out = (line) => process.stdout.write(`${line}\n`);
console.log = () => {}; // aux-common logs connection chatter

const clients = [];
function client(url, connectionId) {
    const socket = new WsConnectionClient(url, R);
    const authSource = new R.PartitionAuthSource(new Map([[socket.origin, { connectionId }]]));
    const records = new R.InstRecordsClient(new R.AuthenticatedConnectionClient(socket, authSource));
    socket.connect();
    const c = { socket, authSource, records, connectionId };
    clients.push(c);
    return c;
}

async function shared(c, inst) {
    const p = new R.RemoteYjsPartitionImpl(c.records, c.authSource, {
        type: 'remote_yjs',
        recordName: null,
        inst,
        branch: 'default',
    });
    p.space = 'shared';
    const synced = R.firstValueFrom(p.onStatusUpdated.pipe(R.filter((u) => u.type === 'sync' && u.synced)));
    p.connect();
    await synced;
    return p;
}

function players(c, inst) {
    const p = new R.OtherPlayersPartitionImpl(c.records, c.authSource, {
        type: 'other_players_repo',
        recordName: null,
        inst,
        branch: 'default',
    });
    p.space = 'remoteTempShared';
    const events = [];
    p.onEvents.subscribe((e) => events.push(...e));
    p.connect();
    return events;
}

const seen = (events, name, id) => events.some((e) => e.eventName === name && e.argument.remoteId === id);

async function crash(url, url2, pid) {
    const inst = `nodes-${Date.now()}`;
    const a = client(url, 'connA');
    await shared(a, inst);
    const events = players(a, inst);
    const b = client(url2, 'connB');
    const pb = await shared(b, inst);
    await waitFor(() => seen(events, 'onRemoteJoined', 'connB'), 'B joined');
    out('players partition of A (node 1): connB (node 2) joined');
    await pb.applyEvents([R.botAdded(R.createBot('fromB', { n: 1 }))]);
    // Acknowledged, hence stored: the whole state is in a fresh load.
    const check = client(url, 'connCheck');
    const pc = await shared(check, inst);
    await waitFor(() => pc.state.fromB, 'bot of B via node 1');
    check.socket.disconnect();
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitFor(() => seen(events, 'onRemoteLeave', 'connB'), 'B left after node 2 died', 20000);
    out(`players partition of A: connB left ${((Date.now() - killedAt) / 1000).toFixed(1)} s after node 2 was killed`);
    const d = client(url, 'connD');
    const pd = await shared(d, inst);
    await waitFor(() => pd.state.fromB, 'bot of B after the crash');
    out('a fresh client of node 1 loads the bot B wrote through node 2');
}

let failed = false;
try {
    await crash(arg('--url'), arg('--url2'), Number(arg('--kill-pid')));
    out('serve nodes: ok');
} catch (err) {
    failed = true;
    process.stderr.write(`serve nodes FAILED: ${err?.stack ?? err}\n`);
    for (const c of clients) {
        process.stderr.write(`${c.connectionId} sent:\n  ${c.socket.sent.join('\n  ')}\nreceived:\n  ${c.socket.received.join('\n  ')}\n`);
    }
} finally {
    for (const c of clients) c.socket.disconnect();
}
process.exit(failed ? 1 : 0);
