#!/usr/bin/env node
// Generates auxsync/client/internal/other_players_cases_for_test.h: seeded
// random sessions of the REAL aux-common 3.10.5 OtherPlayersPartition (on
// its InstRecordsClient and MemoryConnectionClient, children the real
// RemoteYjsPartition) with the exact log of everything it emitted and sent
// and its state after each step. other_players_partition_test.cc replays
// every session through the C++ OtherPlayersPartition (real children,
// deferred work run between steps) and compares the logs line by line.
//
//   node interop/tools/gen_other_players_cases.mjs [--seeds N] > auxsync/client/internal/other_players_cases_for_test.h
//
// A session is {space, skip, steps}; steps ({"op": ...}): connect (the
// partition), enable (enableCollaboration), up / down (the connection logs
// in / is lost), on {id} / off {id} (repo/connected_to_branch /
// repo/disconnected_from_branch for connection id `id` on testBranch),
// data {id, updates, initial} (repo/add_updates for testBranch-player-id),
// remotes (get_remotes, task "t<n>"), apply (an add_bot, ignored), close
// (unsubscribe). The partition's own connection id is "test". After every
// step the runner lets all pending promise work finish (upstream's
// `await waitAsync()`), then logs `state <json>`.
// Log lines: "sent <json>", "added|removed|updated|events|status|error
// <json>", "stateEvent <json>" (re-keyed addedBots, removedBots,
// updatedBots, state, version), "state <json>", "step <op>", "enabled"
// (enableCollaboration resolved during the step), "applied <json>", "threw
// <error type>".

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { INTEROP_DIR } from '../build.mjs';
import { AUX_COMMON_DIR, bundleIfStale, ensureInstalled, yjsFromPlugin } from '../lib/bundle.mjs';
import { mulberry32 } from '../lib/rng.mjs';

async function loadPeer() {
    ensureInstalled(['@casual-simulation/aux-common', 'esbuild']);
    const entry = join(INTEROP_DIR, 'other_players_entry.mjs');
    const out = await bundleIfStale(
        {
            entry,
            out: join(INTEROP_DIR, 'dist', 'other_players_peer.mjs'),
            plugins: [yjsFromPlugin(AUX_COMMON_DIR)],
        },
        [entry]
    );
    return import(pathToFileURL(out).href);
}

const DEVICES = ['d1', 'd2', 'd3', 'test'];
const BOTS = ['b1', 'b2', 'shared'];

const flush = async () => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

// One player's temporary branch, edited through a real YjsPartition.
class Player {
    constructor(peer, space, seed) {
        this.peer = peer;
        this.partition = new peer.YjsPartitionImpl({ type: 'yjs' });
        this.partition.doc.clientID = seed;
        this.partition.space = space;
        this.pending = [];
        this.partition.doc.on('update', (u) => this.pending.push(Buffer.from(u).toString('base64')));
    }
    async edit(rnd, space) {
        const pick = (l) => l[Math.floor(rnd() * l.length)];
        const id = pick(BOTS);
        const exists = !!this.partition.state[id]?.id;
        const r = rnd();
        const p = this.peer;
        let event;
        if (!exists || r < 0.2) {
            event = p.botAdded(p.createBot(id, { color: pick(['red', 'blue']), n: Math.floor(rnd() * 9) }));
        } else if (r < 0.5) {
            event = p.botUpdated(id, { tags: { color: pick(['green', 'teal', null]) } });
        } else if (r < 0.7 && space) {
            event = p.botUpdated(id, { masks: { [space]: { [pick(['m1', 'm2'])]: pick(['x', 'y', null]) } } });
        } else {
            event = p.botRemoved(id);
        }
        // A mask-only entry for a bot the player does not have.
        if (space && rnd() < 0.15) {
            event = p.botUpdated('shared', { masks: { [space]: { [pick(['m1', 'm2'])]: 'z' } } });
        }
        await this.partition.applyEvents([event]);
    }
    take(initial) {
        if (initial) {
            this.pending = [];
            return [Buffer.from(this.peer.encodeStateAsUpdate(this.partition.doc)).toString('base64')];
        }
        const out = this.pending;
        this.pending = [];
        return out;
    }
}

async function generate(peer, seed) {
    const rnd = mulberry32(seed);
    const pick = (l) => l[Math.floor(rnd() * l.length)];
    const chance = (p) => rnd() < p;
    const space = chance(0.5) ? 'sp' : null;
    const skip = chance(0.15);
    const steps = [];
    const players = new Map();
    let up = true;
    let connected = false;
    const count = 15 + Math.floor(rnd() * 25);
    for (let i = 0; i < count; i++) {
        const r = rnd();
        if (!connected && (i === 0 || r < 0.3)) {
            steps.push({ op: skip && chance(0.5) ? 'enable' : 'connect' });
            connected = true;
            continue;
        }
        if (r < 0.08) {
            steps.push({ op: up ? 'down' : 'up' });
            up = !up;
        } else if (r < 0.1) {
            steps.push({ op: 'up' });
            up = true;
        } else if (r < 0.35) {
            steps.push({ op: 'on', id: pick(DEVICES) });
        } else if (r < 0.5) {
            steps.push({ op: 'off', id: pick(DEVICES) });
        } else if (r < 0.85) {
            const id = pick(DEVICES);
            if (!players.has(id)) players.set(id, new Player(peer, space ?? undefined, 1000 + players.size));
            const player = players.get(id);
            const edits = 1 + Math.floor(rnd() * 2);
            for (let k = 0; k < edits; k++) await player.edit(rnd, space);
            const initial = chance(0.4);
            steps.push({ op: 'data', id, updates: player.take(initial), initial });
        } else if (r < 0.93) {
            steps.push({ op: 'remotes' });
        } else if (r < 0.96) {
            steps.push({ op: 'apply' });
        } else if (r < 0.97) {
            steps.push({ op: 'close' });
            break;
        } else {
            steps.push({ op: pick(['connect', 'enable']) });
        }
    }
    return { space, skip, steps };
}

async function run(peer, session) {
    const log = [];
    const json = (v) => JSON.stringify(v === undefined ? null : v);
    const conn = new peer.MemoryConnectionClient({ userId: 'test', sessionId: 'test', connectionId: 'test' });
    const names = [
        'repo/add_updates',
        'repo/watch_branch_result',
        'repo/updates_received',
        'repo/receive_action',
        'repo/connected_to_branch',
        'repo/disconnected_from_branch',
        'repo/connection_count',
        'rate_limit_exceeded',
    ];
    for (const name of names) conn.events.set(name, new (conn._onError.constructor)());
    conn.send = (m) => log.push(`sent ${JSON.stringify(m)}`);
    // The real (authenticated websocket) client's info is that of its
    // current state, null while disconnected; aux-common's memory client
    // would keep returning the configured info.
    Object.defineProperty(conn, 'info', { get: () => conn._connectionState.value.info });
    conn.connect();
    const client = new peer.InstRecordsClient(conn);
    const auth = new peer.PartitionAuthSource();
    const partition = new peer.OtherPlayersPartitionImpl(client, auth, {
        type: 'other_players_client',
        recordName: null,
        inst: 'inst',
        branch: 'testBranch',
        client,
        skipInitialLoad: session.skip || undefined,
    });
    partition.space = session.space ?? undefined;
    let replayAdded = true;
    partition.onBotsAdded.subscribe((b) => {
        if (replayAdded) {
            replayAdded = false;
            return;
        }
        log.push(`added ${json(b)}`);
    });
    partition.onBotsRemoved.subscribe((b) => log.push(`removed ${json(b)}`));
    partition.onBotsUpdated.subscribe((b) => log.push(`updated ${json(b)}`));
    let replayState = true;
    partition.onStateUpdated.subscribe((e) => {
        if (replayState) {
            replayState = false;
            return;
        }
        const { addedBots, removedBots, updatedBots, state, version } = e;
        log.push(`stateEvent ${json({ addedBots, removedBots, updatedBots, state, version })}`);
    });
    partition.onEvents.subscribe((e) => log.push(`events ${json(e)}`));
    partition.onStatusUpdated.subscribe((s) => log.push(`status ${json(s)}`));
    partition.onError.subscribe((e) => log.push(`error ${String(e)}`));
    // Upstream's failing unloads (a TypeError inside an async function) are
    // unhandled rejections that emit nothing; keep node running.
    const unhandled = () => {};
    process.on('unhandledRejection', unhandled);
    let enabled = false;
    let task = 0;
    const ns = (branch) => ({ recordName: null, inst: 'inst', branch });
    const info = (id) => ({ userId: `u-${id}`, sessionId: `s-${id}`, connectionId: id });
    try {
        for (const step of session.steps) {
            log.push(`step ${step.op}${step.id ? ' ' + step.id : ''}`);
            switch (step.op) {
                case 'connect':
                    partition.connect();
                    break;
                case 'enable':
                    partition.enableCollaboration().then(() => (enabled = true));
                    break;
                case 'up':
                    conn.connect();
                    break;
                case 'down':
                    conn.disconnect();
                    break;
                case 'on':
                    conn.events.get('repo/connected_to_branch').next({
                        type: 'repo/connected_to_branch',
                        broadcast: false,
                        branch: { type: 'repo/watch_branch', ...ns('testBranch') },
                        connection: info(step.id),
                    });
                    break;
                case 'off':
                    conn.events.get('repo/disconnected_from_branch').next({
                        type: 'repo/disconnected_from_branch',
                        broadcast: false,
                        ...ns('testBranch'),
                        connection: info(step.id),
                    });
                    break;
                case 'data': {
                    const message = {
                        type: 'repo/add_updates',
                        ...ns(`testBranch-player-${step.id}`),
                        updates: step.updates,
                    };
                    if (step.initial) message.initial = true;
                    conn.events.get('repo/add_updates').next(message);
                    break;
                }
                case 'remotes':
                    try {
                        await partition.sendRemoteEvents([peer.remote({ type: 'get_remotes' }, undefined, undefined, `t${++task}`)]);
                    } catch (e) {
                        log.push(`threw ${e?.constructor?.name}`);
                    }
                    break;
                case 'apply':
                    log.push(`applied ${json(await partition.applyEvents([peer.botAdded(peer.createBot('local', { a: 1 }))]))}`);
                    break;
                case 'close':
                    partition.unsubscribe();
                    break;
                default:
                    throw new Error(`unknown op ${step.op}`);
            }
            await flush();
            if (enabled) log.push('enabled');
            enabled = false;
            log.push(`state ${json(partition.state)}`);
        }
    } finally {
        process.off('unhandledRejection', unhandled);
    }
    return log;
}

function cppString(json) {
    if (json.includes(')json"')) throw new Error('raw string delimiter inside the data');
    return `R"json(${json})json"`;
}

async function main() {
    const args = process.argv.slice(2);
    const seedsAt = args.indexOf('--seeds');
    const seeds = seedsAt >= 0 ? Number(args[seedsAt + 1]) : 100;
    const peer = await loadPeer();
    console.log = () => {};
    const out = [];
    out.push('// GENERATED by interop/tools/gen_other_players_cases.mjs from the real');
    out.push('// @casual-simulation/aux-common 3.10.5 OtherPlayersPartition. Do not edit.');
    out.push('// Included by other_players_partition_test.cc, which defines ExpectSession.');
    out.push('// clang-format off');
    out.push('');
    for (let seed = 1; seed <= seeds; seed++) {
        const session = await generate(peer, seed);
        const log = await run(peer, session);
        out.push(`TEST(OtherPlayersPartitionDiff, Seed${seed}) {`);
        out.push(`  ExpectSession(${cppString(JSON.stringify(session))},`);
        out.push(`                ${cppString(JSON.stringify(log))});`);
        out.push('}');
        out.push('');
    }
    process.stdout.write(out.join('\n'));
}

await main();
