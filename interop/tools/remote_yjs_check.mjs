#!/usr/bin/env node
// Prints what the REAL aux-common 3.10.5 RemoteYjsPartition emits and sends
// in the situations auxsync/client/remote_yjs_partition_test.cc asserts by
// hand (statuses, device actions, shouts, denials, edit versions), one
// "<case> <json>" line each, so the expectations there can be checked
// against upstream:
//
//   node interop/tools/remote_yjs_check.mjs
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { INTEROP_DIR } from '../build.mjs';
import { AUX_COMMON_DIR, bundleIfStale, ensureInstalled, yjsFromPlugin } from '../lib/bundle.mjs';
import { Subject } from 'rxjs';

ensureInstalled(['@casual-simulation/aux-common', 'esbuild', 'rxjs']);
const entry = join(INTEROP_DIR, 'tools', 'remote_yjs_entry.mjs');
// One yjs: the entry's Doc must be aux-common's own copy.
const out = await bundleIfStale(
    { entry, out: join(INTEROP_DIR, 'dist', 'remote_yjs_peer.mjs'), plugins: [yjsFromPlugin(AUX_COMMON_DIR, (args) => args.importer === entry)] },
    [entry, new URL(import.meta.url).pathname],
);
const P = await import(pathToFileURL(out).href);

const tick = () => new Promise((r) => setTimeout(r, 0));
const print = (name, value) => console.log(name, JSON.stringify(value));

function harness(extra = {}, space, connect = true) {
    const conn = new P.MemoryConnectionClient({ connectionId: 'connectionId', sessionId: 'sessionId', userId: 'userId' });
    const subjects = {};
    for (const name of ['repo/add_updates', 'repo/receive_action', 'repo/watch_branch_result', 'repo/updates_received', 'rate_limit_exceeded', 'repo/connection_count']) {
        subjects[name] = new Subject();
        conn.events.set(name, subjects[name]);
    }
    conn.connect();
    const client = new P.InstRecordsClient(conn);
    const auth = new P.PartitionAuthSource();
    const partition = new P.RemoteYjsPartitionImpl(client, auth, {
        type: 'remote_yjs', recordName: null, inst: 'inst', branch: 'testBranch', host: 'testHost', ...extra,
    });
    if (space) partition.space = space;
    const log = { statuses: [], events: [], states: [], auth: [] };
    partition.onStatusUpdated.subscribe((s) => log.statuses.push(s));
    partition.onEvents.subscribe((e) => log.events.push(e));
    partition.onStateUpdated.subscribe((e) => log.states.push({ state: e.state, version: e.version }));
    auth.onAuthRequest.subscribe((r) => log.auth.push(r));
    if (connect) partition.connect();
    const deliver = (name, msg) => subjects[name].next({ type: name, ...msg });
    const updates = (list, initial = true) => deliver('repo/add_updates', { recordName: null, inst: 'inst', branch: 'testBranch', updates: list, ...(initial ? { initial: true } : {}) });
    return { conn, client, auth, partition, log, deliver, updates };
}

function otherDoc(clientId) {
    const doc = new P.Doc();
    doc.clientID = clientId;
    const list = [];
    doc.on('update', (u, origin, d, tr) => { if (tr.local) list.push(Buffer.from(u).toString('base64')); });
    return { doc, take: () => list.splice(0) };
}

// G12 / N37: statuses and their order around the first updates.
{
    const h = harness();
    print('G12.before', h.log.statuses);
    const order = [];
    h.partition.onStatusUpdated.subscribe((s) => order.push(s.type));
    h.partition.onBotsAdded.subscribe((b) => { if (b.length) order.push('bots'); });
    const o = otherDoc(5000);
    const m = new P.YMap(); m.set('tag1', new P.Text('abc')); o.doc.getMap('bots').set('bot1', m);
    h.updates(o.take());
    await tick();
    print('N37.order', order);
}
// N38: disconnect / reconnect.
{
    const h = harness();
    h.deliver('repo/watch_branch_result', { recordName: null, inst: 'inst', branch: 'testBranch', success: true });
    h.updates([]);
    await tick();
    h.log.statuses.length = 0;
    h.conn.sentMessages.length = 0;
    h.conn.disconnect();
    await tick();
    print('N38.disconnect', h.log.statuses);
    h.log.statuses.length = 0;
    h.conn.connect();
    await tick();
    print('N38.reconnect', h.log.statuses);
    print('N38.sent', h.conn.sentMessages);
}
// G13 / G14 / N42: device actions.
{
    const h = harness();
    const info = P.connectionInfo('username', 'device', 'session');
    h.deliver('repo/receive_action', { recordName: null, inst: 'inst', branch: 'testBranch', action: P.device(info, { type: 'abc' }, 'task1') });
    h.deliver('repo/receive_action', { recordName: null, inst: 'inst', branch: 'testBranch', action: P.device(info, P.action('eventName', ['abc'], 'userId', { abc: 'def' })) });
    h.deliver('repo/receive_action', { recordName: null, inst: 'inst', branch: 'testBranch', action: P.deviceResult(info, { ok: 1 }, 't') });
    print('G13.G14.N42', h.log.events);
}
// G29 / G42 / G43 / N43: limits.
{
    const h = harness({}, 'shared');
    h.deliver('rate_limit_exceeded', { retryAfter: 123, totalHits: 999 });
    const msg = { recordName: null, inst: 'inst', branch: 'testBranch', updateId: 1, errorCode: 'max_size_reached', maxBranchSizeInBytes: 10, neededBranchSizeInBytes: 11 };
    h.deliver('repo/updates_received', msg);
    h.deliver('repo/updates_received', { ...msg, maxBranchSizeInBytes: 25, neededBranchSizeInBytes: 99 });
    print('G29.G42.G43', h.log.events);
    const n = harness();
    n.deliver('repo/updates_received', msg);
    print('N43', n.log.events);
}
// G44 / G45 / G46: denials.
{
    const h = harness();
    const reason = { type: 'missing_permission', recordName: 'testRecord', resourceKind: 'inst', resourceId: 'inst', action: 'read', subjectType: 'user', subjectId: 'userId' };
    h.conn.onError.next({ success: false, errorCode: 'not_authorized', errorMessage: 'Not authorized', recordName: null, inst: 'inst', branch: 'testBranch', reason });
    print('G44.statuses', h.log.statuses);
    print('G45.auth', h.log.auth);
    const w = harness();
    w.deliver('repo/watch_branch_result', { success: false, errorCode: 'inst_not_found', errorMessage: 'Not authorized', recordName: null, inst: 'inst', branch: 'testBranch', reason });
    print('G46.statuses', w.log.statuses);
}
// G39 / G40: edit versions.
{
    const h = harness();
    h.updates([]);
    await h.partition.applyEvents([P.botAdded(P.createBot('test1', { abc: 'a' }))]);
    const o = otherDoc(7777);
    P.applyUpdate(o.doc, P.encodeStateAsUpdate(h.partition.doc));
    o.take();
    o.doc.getMap('bots').get('test1').get('abc').insert(1, 'bc');
    h.log.states.length = 0;
    h.updates(o.take(), false);
    await tick();
    print('G39', h.log.states);
    print('G39.version', h.partition._currentVersion);

    const g = harness();
    const o2 = otherDoc(5000);
    const m = new P.YMap(); m.set('tag1', new P.Text('abc')); o2.doc.getMap('bots').set('bot1', m);
    g.updates(o2.take());
    await tick();
    g.log.states.length = 0;
    const v = g.partition._currentVersion.vector;
    await g.partition.applyEvents([P.botUpdated('bot1', { tags: { tag1: P.edit(v, P.del(1)) } })]);
    print('G40', g.log.states);
}
// G53-G55: skip initial load.
{
    for (const [info, indicator] of [[{ connectionId: 'testConnectionId', sessionId: 'testSessionId', userId: 'testUserId' }, null], [undefined, { connectionId: 'testConnectionId' }], [undefined, null]]) {
        const conn = new P.MemoryConnectionClient(info);
        if (info) conn.connect();
        conn.indicator = indicator;
        const client = new P.InstRecordsClient(conn);
        const partition = new P.RemoteYjsPartitionImpl(client, new P.PartitionAuthSource(), { type: 'remote_yjs', recordName: null, inst: 'inst', branch: 'testBranch', host: 'h', skipInitialLoad: true });
        const statuses = [];
        partition.onStatusUpdated.subscribe((s) => statuses.push(s));
        partition.connect();
        await tick();
        print('G53-55', statuses);
    }
}
// N45: empty initialization update.
{
    const h = harness();
    await h.partition.sendRemoteEvents([P.remote({ type: 'create_initialization_update', bots: [] }, undefined, undefined, 'task1')]);
    await tick();
    print('N45', h.log.events);
}
// N46: counts.
{
    const h = harness();
    h.conn.sentMessages.length = 0;
    await h.partition.sendRemoteEvents([P.remote({ type: 'get_remote_count', recordName: null, inst: null, branch: null }, undefined, undefined, 'task1')]);
    h.deliver('repo/connection_count', { recordName: null, inst: null, branch: null, count: 3 });
    h.conn.disconnect();
    h.conn.connect();
    h.deliver('repo/connection_count', { recordName: null, inst: null, branch: null, count: 4 });
    await tick();
    print('N46.sent', h.conn.sentMessages);
    print('N46.events', h.log.events);
}
