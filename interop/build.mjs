#!/usr/bin/env node
// Builds dist/peer.mjs: src/peer.mjs bundled with esbuild (the aux-common
// package's ES modules use extension-less imports that node cannot resolve).
//
//   node build.mjs            build if missing or stale (fast no-op otherwise)
//   node build.mjs --force    always rebuild
//
// Other scripts call ensureBuilt() before importing dist/peer.mjs. If
// node_modules is missing or older than package-lock.json, `npm ci` is run
// first (the repo pins exact versions in package-lock.json).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AUX_COMMON_DIR, INTEROP_DIR, bundle, ensureInstalled, mtime, yjsFromPlugin } from './lib/bundle.mjs';

export { INTEROP_DIR };
export const BUNDLE = join(INTEROP_DIR, 'dist', 'peer.mjs');
const PACKAGES = ['@casual-simulation/aux-common', 'yjs', 'esbuild', 'ws'];

function inputsMtime() {
    const srcDir = join(INTEROP_DIR, 'src');
    let newest = Math.max(
        mtime(join(INTEROP_DIR, 'build.mjs')),
        mtime(join(INTEROP_DIR, 'lib', 'bundle.mjs')),
        mtime(join(INTEROP_DIR, 'package-lock.json')),
        mtime(join(INTEROP_DIR, 'node_modules', '.package-lock.json'))
    );
    for (const f of readdirSync(srcDir)) {
        newest = Math.max(newest, mtime(join(srcDir, f)));
    }
    return newest;
}

export function isStale() {
    return mtime(BUNDLE) < inputsMtime();
}

/** Installs and builds when needed. Returns the bundle's path. */
export async function ensureBuilt({ force = false, log = (m) => console.error(m) } = {}) {
    ensureInstalled(PACKAGES, log);
    if (!force && !isStale()) {
        return BUNDLE;
    }
    log('interop: bundling src/peer.mjs -> dist/peer.mjs');
    // `yjs` imported by src/ resolves to the copy aux-common itself depends
    // on (aux-common 3.10.5 pins yjs 13.6.8), so the bundle holds one yjs.
    const srcDir = join(INTEROP_DIR, 'src');
    return bundle({
        entry: join(srcDir, 'peer.mjs'),
        out: BUNDLE,
        plugins: [yjsFromPlugin(AUX_COMMON_DIR, (args) => args.importer.startsWith(srcDir))],
    });
}
/** ensureBuilt() + import of the bundle. */
export async function loadPeer(opts) {
    const path = await ensureBuilt(opts);
    return import(pathToFileURL(path).href);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    const force = process.argv.includes('--force');
    ensureBuilt({ force }).catch((e) => {
        console.error(e?.stack ?? String(e));
        process.exit(1);
    });
}
