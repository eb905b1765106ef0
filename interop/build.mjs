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

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const INTEROP_DIR = dirname(fileURLToPath(import.meta.url));
export const BUNDLE = join(INTEROP_DIR, 'dist', 'peer.mjs');

function mtime(path) {
    try {
        return statSync(path).mtimeMs;
    } catch {
        return -Infinity;
    }
}

function ensureInstalled(log) {
    const lock = join(INTEROP_DIR, 'package-lock.json');
    const installed = join(INTEROP_DIR, 'node_modules', '.package-lock.json');
    const needed = [
        '@casual-simulation/aux-common',
        'yjs',
        'esbuild',
        'ws',
    ].some((p) => !existsSync(join(INTEROP_DIR, 'node_modules', p, 'package.json')));
    if (!needed && mtime(installed) >= mtime(lock)) {
        return;
    }
    log('interop: installing node packages (npm ci)');
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
        cwd: INTEROP_DIR,
        stdio: ['ignore', 2, 2],
    });
    if (r.status !== 0) {
        throw new Error(`npm ci failed in ${INTEROP_DIR} (status ${r.status})`);
    }
}

function inputsMtime() {
    const srcDir = join(INTEROP_DIR, 'src');
    let newest = Math.max(
        mtime(join(INTEROP_DIR, 'build.mjs')),
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
    ensureInstalled(log);
    if (!force && !isStale()) {
        return BUNDLE;
    }
    log('interop: bundling src/peer.mjs -> dist/peer.mjs');
    const esbuild = await import('esbuild');
    mkdirSync(dirname(BUNDLE), { recursive: true });
    // Written to a temp file and renamed, so a concurrent reader never sees
    // a half-written bundle.
    const result = await esbuild.build({
        write: false,
        entryPoints: [join(INTEROP_DIR, 'src', 'peer.mjs')],
        outfile: BUNDLE,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        logLevel: 'warning',
        plugins: [auxYjsPlugin],
        // CommonJS dependencies inside an ESM bundle need a real `require`
        // for node built-ins.
        banner: {
            js: "import { createRequire as __auxsyncCreateRequire } from 'node:module';\n" +
                'const require = __auxsyncCreateRequire(import.meta.url);',
        },
    });
    const tmp = `${BUNDLE}.${process.pid}.tmp`;
    writeFileSync(tmp, result.outputFiles[0].contents);
    renameSync(tmp, BUNDLE);
    return BUNDLE;
}

// `yjs` imported by src/ resolves to the copy aux-common itself depends on
// (aux-common 3.10.5 pins yjs 13.6.8 in its own node_modules), so the bundle
// holds exactly one yjs.
const auxYjsPlugin = {
    name: 'aux-common-yjs',
    setup(build) {
        const srcDir = join(INTEROP_DIR, 'src');
        const auxDir = join(INTEROP_DIR, 'node_modules', '@casual-simulation', 'aux-common', 'partitions');
        build.onResolve({ filter: /^yjs$/ }, async (args) => {
            if (!args.importer.startsWith(srcDir)) {
                return undefined;
            }
            const r = await build.resolve('yjs', { resolveDir: auxDir, kind: args.kind });
            return { path: r.path, errors: r.errors };
        });
    },
};

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
