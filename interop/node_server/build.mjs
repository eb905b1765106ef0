#!/usr/bin/env node
// Bundles src/entry.mjs (the real aux-records server code and the real
// aux-common client code) with esbuild into dist/reference.mjs. The
// published packages use extension-less ES imports that node cannot load
// directly.
//
//   node build.mjs [--force]
//
// Other scripts call loadReference(), which builds when the bundle is
// missing or older than its inputs (a few ms otherwise).

import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AUX_COMMON_DIR, INTEROP_DIR, bundle, ensureInstalled, mtime, yjsFromPlugin } from '../lib/bundle.mjs';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const BUNDLE = join(HERE, 'dist', 'reference.mjs');
const PACKAGES = ['@casual-simulation/aux-common', '@casual-simulation/aux-records', 'esbuild', 'ws'];

function inputsMtime() {
    let newest = Math.max(
        mtime(join(HERE, 'build.mjs')),
        mtime(join(INTEROP_DIR, 'lib', 'bundle.mjs')),
        mtime(join(INTEROP_DIR, 'package-lock.json')),
        mtime(join(INTEROP_DIR, 'node_modules', '.package-lock.json'))
    );
    for (const f of readdirSync(join(HERE, 'src'))) {
        newest = Math.max(newest, mtime(join(HERE, 'src', f)));
    }
    return newest;
}

export async function ensureBuilt({ force = false, log = (m) => console.error(m) } = {}) {
    ensureInstalled(PACKAGES, log);
    if (!force && mtime(BUNDLE) >= inputsMtime()) {
        return BUNDLE;
    }
    log('node_server: bundling src/entry.mjs -> dist/reference.mjs');
    // aux-records and aux-common each carry their own copy of yjs 13.6.8;
    // every `yjs` import resolves to aux-common's. Native or optional
    // modules the controllers never call on the in-memory path stay
    // external.
    return bundle({
        entry: join(HERE, 'src', 'entry.mjs'),
        out: BUNDLE,
        logLevel: 'error',
        external: ['tigerbeetle-node', 'libsql', '@libsql/*'],
        plugins: [yjsFromPlugin(AUX_COMMON_DIR)],
    });
}

export async function loadReference(opts) {
    return import(pathToFileURL(await ensureBuilt(opts)).href);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    ensureBuilt({ force: process.argv.includes('--force') }).catch((e) => {
        console.error(e?.stack ?? String(e));
        process.exit(1);
    });
}
