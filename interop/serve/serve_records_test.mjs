#!/usr/bin/env node
// Record insts, `auxsync token create` and the size limit of `auxsync
// serve`, with the real aux-common 3.10.5 client stack (as in
// serve_client_test.mjs). interop/serve_test.sh starts the server (SQLite,
// --data-dir D, --max-inst-bytes N) and runs this against it.
//
//   node interop/serve/serve_records_test.mjs --url ws://... --auxsync BIN
//        (--data-dir D | --redis-url URL) --max-inst-bytes N
//
// 1. A private record inst (the personal record of user alice):
//    * an anonymous client is refused (not_logged_in): its partition
//      reports authorization:false and asks its auth source for
//      credentials (kind not_authorized) instead of hanging;
//    * a token of an unknown session is refused at login (invalid_token,
//      kind invalid_indicator);
//    * a user without a grant is refused with a missing_permission reason;
//    * alice's token from `auxsync token create` opens the inst; bob, given
//      write with `--grant write`, edits it and alice sees the edit;
//    * a user without a grant asks the inst's users for access (3.7): the
//      request reaches alice's client, her answer comes back, and after the
//      operator's `--grant read` the user's client logs in again and syncs;
//    * the anonymous client, handed a token through its auth source, logs
//      in again on the same socket and syncs (the CasualOS sign-in flow).
// 2. The size limit: a write past --max-inst-bytes makes the partition
//    shout onSpaceMaxSizeReached {space, maxSizeInBytes, neededSizeInBytes};
//    the other client never sees the refused bot.
// Exits 0 on success.

import { execFileSync } from 'node:child_process';
import { loadReference } from '../node_server/build.mjs';
import { WsConnectionClient } from '../node_server/ws_connection_client.mjs';
import { arg, sleep, waitFor, withTimeout } from '../lib/wait.mjs';

const R = await loadReference();
const out = (line) => process.stdout.write(`${line}\n`);
console.log = () => {}; // aux-common logs connection chatter


const clients = [];
function makeClient(url, name, indicator) {
    const socket = new WsConnectionClient(url, R);
    const authSource = new R.PartitionAuthSource(new Map([[socket.origin, indicator]]));
    const requests = [];
    authSource.onAuthRequest.subscribe((r) => requests.push(r));
    const auth = new R.AuthenticatedConnectionClient(socket, authSource);
    const client = new R.InstRecordsClient(auth);
    socket.connect();
    const c = { socket, authSource, client, requests, name };
    clients.push(c);
    return c;
}

function makePartition({ client, authSource }, recordName, inst) {
    const p = new R.RemoteYjsPartitionImpl(client, authSource, {
        type: 'remote_yjs',
        recordName,
        inst,
        branch: 'default',
    });
    p.space = 'shared';
    const events = [];
    const statuses = [];
    p.onEvents.subscribe((e) => events.push(...e));
    p.onStatusUpdated.subscribe((s) => statuses.push(s));
    p.receivedEvents = events;
    p.statuses = statuses;
    return p;
}

const isSynced = (p) => p.statuses.some((s) => s.type === 'sync' && s.synced);
const botSeen = (p, id, pred = () => true) =>
    waitFor(() => p.state[id] && pred(p.state[id]) && p.state[id], `bot ${id}`);

function expect(cond, what) {
    if (!cond) throw new Error(`expected: ${what}`);
}

// `auxsync token create ARGS` -> its JSON; the server's store is SQLite in
// `dataDir`, or the Redis of --redis-url when given.
function tokenCreate(auxsync, dataDir, args) {
    const redis = arg('--redis-url');
    const store = redis ? ['--store', 'redis', '--redis-url', redis] : ['--data-dir', dataDir];
    const text = execFileSync(auxsync, ['token', 'create', ...store, ...args], { encoding: 'utf8' });
    return JSON.parse(text);
}

async function records(url, auxsync, dataDir) {
    const inst = `private-${Date.now()}`;
    const token = (user, connectionId, extra = []) =>
        tokenCreate(auxsync, dataDir, [
            '--user', user, '--record', 'alice', '--inst', inst, '--connection-id', connectionId, ...extra,
        ]);
    const alice = token('alice', 'connA');
    expect(alice.connectionToken.startsWith('vCT1.') && alice.connectionKey.startsWith('vCK1.'), 'a vCT1 token and a vCK1 key');
    // The key is what the records API gives a signed-in client; aux-common
    // derives the same kind of token from it.
    const derived = R.generateV1ConnectionToken(alice.connectionKey, 'connA', 'alice', inst);
    expect(derived === alice.connectionToken, 'the printed token is the one aux-common derives from the key');

    // Anonymous: refused with not_logged_in, reported, not hung.
    const x = makeClient(url, 'anonymous', { connectionId: 'connX' });
    const px = makePartition(x, 'alice', inst);
    px.connect();
    const denied = await waitFor(() => x.requests.find((r) => r.kind === 'not_authorized'), 'anonymous auth request');
    expect(denied.errorCode === 'not_logged_in', `not_logged_in, got ${denied.errorCode}`);
    expect(denied.resource?.recordName === 'alice' && denied.resource?.inst === inst, 'the request names the inst');
    await waitFor(() => px.statuses.some((s) => s.type === 'authorization' && s.authorized === false), 'authorization:false');
    expect(!isSynced(px), 'the anonymous partition is not synced');
    out('anonymous client: refused (not_logged_in), authorization:false and an auth request');

    // A token of a session the server does not know: refused at login.
    const fakeKey = R.formatV1ConnectionKey
        ? R.formatV1ConnectionKey('alice', 'nosuchsession', 'AAECAwQFBgcICQoLDA0ODw==', Infinity)
        : `vCK1.${btoa('alice')}.${btoa('nosuchsession')}.${btoa('AAECAwQFBgcICQoLDA0ODw==')}.${btoa('Infinity')}`;
    const y = makeClient(url, 'forged', {
        connectionToken: R.generateV1ConnectionToken(fakeKey, 'connY', 'alice', inst),
    });
    const py = makePartition(y, 'alice', inst);
    py.connect();
    const invalid = await waitFor(() => y.requests.find((r) => r.kind === 'invalid_indicator'), 'invalid_indicator');
    expect(invalid.errorCode === 'invalid_token', `invalid_token, got ${invalid.errorCode}`);
    out('unknown session: login refused (invalid_token), the client asks for a new indicator');

    // A user with a valid session but no grant on alice's record.
    const carol = token('carol', 'connCarol');
    const z = makeClient(url, 'carol', { connectionToken: carol.connectionToken });
    const pz = makePartition(z, 'alice', inst);
    pz.connect();
    const missing = await waitFor(() => z.requests.find((r) => r.kind === 'not_authorized'), 'carol auth request');
    expect(missing.errorCode === 'not_authorized', `not_authorized, got ${missing.errorCode}`);
    expect(
        missing.reason?.type === 'missing_permission' &&
            missing.reason.subjectId === 'carol' &&
            missing.reason.resourceKind === 'inst' &&
            missing.reason.resourceId === inst &&
            missing.reason.action === 'create',
        `a missing_permission reason (create: the inst does not exist yet), got ${JSON.stringify(missing.reason)}`
    );
    out(`user without a grant: not_authorized, reason missing_permission (${missing.reason.action})`);

    // The owner opens it with the token from `auxsync token create`.
    const a = makeClient(url, 'alice', { connectionToken: alice.connectionToken });
    const pa = makePartition(a, 'alice', inst);
    pa.connect();
    await waitFor(() => isSynced(pa), 'alice synced');
    await pa.applyEvents([R.botAdded(R.createBot('secret', { owner: 'alice' }))]);
    out('alice (owner) synced her private inst with the CLI token and wrote bot secret');

    // bob, granted write by the operator.
    const bob = token('bob', 'connBob', ['--grant', 'write']);
    expect(bob.grant === 'write', 'the grant is printed');
    const b = makeClient(url, 'bob', { connectionToken: bob.connectionToken });
    const pb = makePartition(b, 'alice', inst);
    pb.connect();
    await waitFor(() => isSynced(pb), 'bob synced');
    await botSeen(pb, 'secret', (bot) => bot.tags.owner === 'alice');
    await pb.applyEvents([R.botUpdated('secret', { tags: { editedBy: 'bob' } })]);
    await botSeen(pa, 'secret', (bot) => bot.tags.editedBy === 'bob');
    out('bob (--grant write) read the inst and his edit reached alice');

    // Now the inst exists: carol is missing read.
    const carol2 = token('carol', 'connCarol2');
    const z2 = makeClient(url, 'carol2', { connectionToken: carol2.connectionToken });
    const pz2 = makePartition(z2, 'alice', inst);
    pz2.connect();
    const missingRead = await waitFor(() => z2.requests.find((r) => r.kind === 'not_authorized'), 'carol2 auth request');
    expect(missingRead.reason?.action === 'read', `missing read, got ${JSON.stringify(missingRead.reason)}`);
    out('user without a grant on an existing inst: missing_permission (read)');

    // She asks the users in the inst for access (3.7): alice's client gets
    // the request, the operator grants, alice's answer reaches carol, whose
    // client then logs in again and is let in.
    const external = [];
    a.authSource.onAuthExternalPermissionRequest.subscribe((r) => external.push(r));
    const results = [];
    z2.authSource.onAuthExternalPermissionResult.subscribe((r) => results.push(r));
    z2.authSource.sendAuthPermissionRequest({ type: 'permission_request', origin: z2.socket.origin, reason: missingRead.reason });
    const asked = await waitFor(() => external[0], 'the request reaches alice');
    expect(
        asked.reason.subjectId === 'carol' && asked.reason.resourceId === inst && asked.user?.userId === 'carol',
        `the request names carol and the inst, got ${JSON.stringify(asked)}`
    );
    token('carol', 'connCarol3', ['--grant', 'read']);
    a.authSource.sendAuthPermissionResult({
        type: 'permission_result',
        success: true,
        origin: a.socket.origin,
        recordName: 'alice',
        resourceKind: 'inst',
        resourceId: inst,
        subjectType: 'user',
        subjectId: 'carol',
    });
    const answer = await waitFor(() => results[0], 'the answer reaches carol');
    expect(answer.success === true && answer.subjectId === 'carol', `a success for carol, got ${JSON.stringify(answer)}`);
    z2.authSource.sendAuthResponse({
        type: 'response',
        success: true,
        origin: z2.socket.origin,
        indicator: { connectionToken: carol2.connectionToken },
    });
    await waitFor(() => isSynced(pz2), 'carol synced after the grant');
    await botSeen(pz2, 'secret');
    out('access request: relayed to alice and back; after the operator\'s grant carol is let in');

    // The anonymous client signs in: a token through its auth source makes
    // it log in again on the same socket and re-watch.
    const dave = token('dave', 'connX', ['--grant', 'read']);
    x.authSource.sendAuthResponse({
        type: 'response',
        success: true,
        origin: x.socket.origin,
        indicator: { connectionToken: dave.connectionToken },
    });
    await waitFor(() => isSynced(px), 'the anonymous client synced after signing in');
    await botSeen(px, 'secret', (bot) => bot.tags.editedBy === 'bob');
    out('the refused client, given a token (--grant read), logged in again and synced');
}

async function maxSize(url, maxBytes) {
    const inst = `size-${Date.now()}`;
    const a = makeClient(url, 'sizeA', { connectionId: 'sizeA' });
    const b = makeClient(url, 'sizeB', { connectionId: 'sizeB' });
    const pa = makePartition(a, null, inst);
    const pb = makePartition(b, null, inst);
    pa.connect();
    pb.connect();
    await waitFor(() => isSynced(pa) && isSynced(pb), 'size clients synced');
    await pa.applyEvents([R.botAdded(R.createBot('small', { n: 1 }))]);
    await botSeen(pb, 'small');
    await pa.applyEvents([R.botAdded(R.createBot('big', { blob: 'x'.repeat(maxBytes) }))]);
    const shout = await waitFor(
        () => pa.receivedEvents.find((e) => e.eventName === 'onSpaceMaxSizeReached'),
        'onSpaceMaxSizeReached'
    );
    const arg = shout.argument;
    expect(arg.space === 'shared', `space shared, got ${arg.space}`);
    expect(arg.maxSizeInBytes === maxBytes, `maxSizeInBytes ${maxBytes}, got ${arg.maxSizeInBytes}`);
    expect(arg.neededSizeInBytes > maxBytes, `neededSizeInBytes > max, got ${arg.neededSizeInBytes}`);
    await sleep(300);
    expect(!pb.state.big, 'the refused bot never reached the other client');
    out(`max size: onSpaceMaxSizeReached {space: shared, maxSizeInBytes: ${arg.maxSizeInBytes}, neededSizeInBytes: ${arg.neededSizeInBytes}}; B never got the bot`);
}

const url = arg('--url');
let failed = false;
try {
    if (!url) throw new Error('--url is required');
    await records(url, arg('--auxsync'), arg('--data-dir'));
    await maxSize(url, Number(arg('--max-inst-bytes', '4000')));
    out('serve records: ok');
} catch (err) {
    failed = true;
    process.stderr.write(`serve records FAILED: ${err?.stack ?? err}\n`);
    for (const c of clients) {
        process.stderr.write(`${c.name} sent:\n  ${c.socket.sent.join('\n  ')}\nreceived:\n  ${c.socket.received.join('\n  ')}\n`);
    }
} finally {
    for (const c of clients) c.socket.disconnect();
}
process.exit(failed ? 1 : 0);
