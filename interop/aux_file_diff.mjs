#!/usr/bin/env node
// .aux files across implementations: seeded random version-1 aux files are
// read, shown and converted by `auxsync aux` and by the real aux-common
// 3.10.5 (getBotsStateFromStoredAux; version 1 -> 2 as aux-records installs
// a package: constructInitializationUpdate(createInitializationUpdate(
// Object.values(state)))). Per seed:
//   A. auxsync aux show v1            == aux-common state of v1
//   B. auxsync aux convert --to 2 v1  -> loads in aux-common to the state
//      aux-common gets from its own conversion
//   C. auxsync aux show (aux-common's v2) == aux-common state of that v2
//   D. auxsync aux convert --to 1 (aux-common's v2) == aux-common state,
//      and aux-common reads our v1 to the same state
// States are compared as JSON text (key order included).
//
//   node interop/aux_file_diff.mjs --auxsync PATH [--seeds N] [--start S]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuilt, INTEROP_DIR } from './build.mjs';
import { mulberry32 } from './lib/rng.mjs';
import { bundleIfStale } from './lib/bundle.mjs';
import { parseCommandLine } from './lib/cli_args.mjs';

const { auxsync, seeds, start } = parseCommandLine(process.argv.slice(2), {
    name: 'aux_file_diff',
    usage: 'usage: aux_file_diff.mjs --auxsync PATH [--seeds N] [--start S]',
    defaults: { seeds: 200, start: 0 },
    options: {
        '--auxsync': { key: 'auxsync', kind: 'string' },
        '--seeds': { key: 'seeds', kind: 'int' },
        '--start': { key: 'start', kind: 'int' },
    },
    required: ['--auxsync'],
});

async function loadAuxPeer() {
    await ensureBuilt(); // installs the pinned packages when needed
    const entry = join(INTEROP_DIR, 'aux_file_entry.mjs');
    const out = await bundleIfStale({ entry, out: join(INTEROP_DIR, 'dist', 'aux_file_peer.mjs') }, [entry]);
    return import(pathToFileURL(out).href);
}


const WORDS = ['abc', 'Hello world', '🙂 emoji', 'ünïcødé', 'line\nbreak', '"quoted"', '', '123', 'true', '📅2020-01-01T00:00:00Z', '➡️1,2'];
function genValue(r, depth = 0) {
    const k = Math.floor(r() * (depth > 1 ? 6 : 9));
    switch (k) {
        case 0: return WORDS[Math.floor(r() * WORDS.length)];
        case 1: return Math.floor(r() * 2000) - 1000;
        case 2: return Math.round(r() * 1e6) / 1e3;
        case 3: return r() < 0.5;
        case 4: return null;
        case 5: return `s${Math.floor(r() * 100)}`;
        case 6: {
            const o = {};
            const n = Math.floor(r() * 4);
            for (let i = 0; i < n; i++) o[`k${Math.floor(r() * 10)}`] = genValue(r, depth + 1);
            return o;
        }
        case 7: {
            const a = [];
            const n = Math.floor(r() * 4);
            for (let i = 0; i < n; i++) a.push(genValue(r, depth + 1));
            return a;
        }
        default: return `${Math.floor(r() * 1e9)}`;
    }
}

function genState(seed) {
    const r = mulberry32(seed);
    const state = {};
    const n = Math.floor(r() * 8);
    for (let i = 0; i < n; i++) {
        const id = r() < 0.2 ? `${i}` : r() < 0.5 ? `bot-${seed}-${i}` : `🤖${i}`;
        const tags = {};
        const nt = Math.floor(r() * 6);
        for (let j = 0; j < nt; j++) {
            const tag = r() < 0.1 ? `${j}` : ['color', 'label', 'home', 'onClick', 'x', 'y', 'data'][Math.floor(r() * 7)] + (r() < 0.3 ? j : '');
            tags[tag] = genValue(r);
        }
        const bot = { id, tags };
        if (r() < 0.3) bot.space = r() < 0.5 ? 'shared' : 'local';
        if (r() < 0.2) bot.masks = { tempLocal: { m: genValue(r) } };
        state[id] = bot;
    }
    return state;
}

function run(cmd) {
    const p = spawnSync(auxsync, cmd, { encoding: 'utf8' });
    if (p.status !== 0) {
        throw new Error(`auxsync ${cmd.join(' ')} exited ${p.status}: ${p.stderr}`);
    }
    return p.stdout.replace(/\n$/, '');
}

const peer = await loadAuxPeer();
const stateOf = (aux) => JSON.stringify(peer.getBotsStateFromStoredAux(aux));
const dir = mkdtempSync(join(tmpdir(), 'auxsync-aux-'));
let failures = 0;
try {
    for (let seed = start; seed < start + seeds; seed++) {
        const state = genState(seed);
        const v1 = { version: 1, state };
        const v1Path = join(dir, `${seed}.v1.aux`);
        writeFileSync(v1Path, JSON.stringify(v1));
        const theirUpdate = peer.constructInitializationUpdate(
            peer.createInitializationUpdate(Object.values(state))
        );
        // aux-records would store [undefined] for an empty state, which does
        // not load; both sides use [] then.
        const theirV2 = { version: 2, updates: theirUpdate ? [theirUpdate] : [] };
        const theirV2Path = join(dir, `${seed}.their.v2.aux`);
        writeFileSync(theirV2Path, JSON.stringify(theirV2));
        const check = (name, got, want) => {
            if (got !== want) {
                failures++;
                console.error(`seed ${seed} ${name}: mismatch\n  auxsync:    ${got}\n  aux-common: ${want}`);
            }
        };
        try {
            check('A show v1', run(['aux', 'show', v1Path]), stateOf(v1));
            const ourV2Path = join(dir, `${seed}.our.v2.aux`);
            run(['aux', 'convert', '--to', '2', v1Path, ourV2Path]);
            const ourV2 = JSON.parse(readFileSync(ourV2Path, 'utf8'));
            check('B our v2 in aux-common', stateOf(ourV2), stateOf(theirV2));
            check('C show their v2', run(['aux', 'show', theirV2Path]), stateOf(theirV2));
            const ourV1Path = join(dir, `${seed}.our.v1.aux`);
            run(['aux', 'convert', '--to', '1', theirV2Path, ourV1Path]);
            const ourV1 = JSON.parse(readFileSync(ourV1Path, 'utf8'));
            check('D our v1 state', JSON.stringify(ourV1.state), stateOf(theirV2));
            check('D our v1 in aux-common', stateOf(ourV1), stateOf(theirV2));
        } catch (e) {
            failures++;
            console.error(`seed ${seed}: ${e.message}`);
        }
    }
} finally {
    rmSync(dir, { recursive: true, force: true });
}
console.log(`aux_file_diff: ${seeds} seeds from ${start}, ${failures} mismatches`);
process.exit(failures === 0 ? 0 : 1);
