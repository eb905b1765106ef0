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

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
const INTEROP_DIR = dirname(HERE);
export const BUNDLE = join(HERE, 'dist', 'reference.mjs');

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
    const missing = ['@casual-simulation/aux-common', '@casual-simulation/aux-records', 'esbuild', 'ws'].some(
        (p) => !existsSync(join(INTEROP_DIR, 'node_modules', p, 'package.json'))
    );
    if (!missing && mtime(installed) >= mtime(lock)) {
        return;
    }
    log('node_server: installing node packages (npm ci)');
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: INTEROP_DIR, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) {
        throw new Error(`npm ci failed in ${INTEROP_DIR} (status ${r.status})`);
    }
}

function inputsMtime() {
    let newest = Math.max(
        mtime(join(HERE, 'build.mjs')),
        mtime(join(INTEROP_DIR, 'package-lock.json')),
        mtime(join(INTEROP_DIR, 'node_modules', '.package-lock.json'))
    );
    for (const f of readdirSync(join(HERE, 'src'))) {
        newest = Math.max(newest, mtime(join(HERE, 'src', f)));
    }
    return newest;
}

export async function ensureBuilt({ force = false, log = (m) => console.error(m) } = {}) {
    ensureInstalled(log);
    if (!force && mtime(BUNDLE) >= inputsMtime()) {
        return BUNDLE;
    }
    log('node_server: bundling src/entry.mjs -> dist/reference.mjs');
    const esbuild = await import('esbuild');
    mkdirSync(dirname(BUNDLE), { recursive: true });
    const result = await esbuild.build({
        write: false,
        entryPoints: [join(HERE, 'src', 'entry.mjs')],
        outfile: BUNDLE,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        logLevel: 'error',
        // Native or optional modules that the controllers never call on the
        // in-memory path.
        external: ['tigerbeetle-node', 'libsql', '@libsql/*'],
        plugins: [oneYjsPlugin],
        banner: {
            js:
                "import { createRequire as __auxsyncCreateRequire } from 'node:module';\n" +
                'const require = __auxsyncCreateRequire(import.meta.url);',
        },
    });
    // Written to a temp file and renamed: a concurrent reader never sees a
    // half-written bundle.
    const tmp = `${BUNDLE}.${process.pid}.tmp`;
    writeFileSync(tmp, result.outputFiles[0].contents);
    renameSync(tmp, BUNDLE);
    return BUNDLE;
}

// aux-records and aux-common each carry their own copy of yjs 13.6.8; the
// bundle must hold exactly one (yjs refuses a second instance and
// `instanceof` checks across copies fail), so every `yjs` import resolves to
// aux-common's copy.
const oneYjsPlugin = {
    name: 'one-yjs',
    setup(build) {
        const auxCommon = join(INTEROP_DIR, 'node_modules', '@casual-simulation', 'aux-common', 'partitions');
        build.onResolve({ filter: /^yjs$/ }, async (args) => {
            if (args.pluginData?.oneYjs) {
                return undefined;
            }
            const r = await build.resolve('yjs', {
                resolveDir: auxCommon,
                kind: args.kind,
                pluginData: { oneYjs: true },
            });
            return { path: r.path, errors: r.errors };
        });
    },
};

export async function loadReference(opts) {
    return import(pathToFileURL(await ensureBuilt(opts)).href);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    ensureBuilt({ force: process.argv.includes('--force') }).catch((e) => {
        console.error(e?.stack ?? String(e));
        process.exit(1);
    });
}
