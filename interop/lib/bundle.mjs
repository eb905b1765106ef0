// What the interop scripts share for turning the published CasualOS
// packages into loadable bundles: the pinned install, the esbuild call and
// the rule that keeps one copy of yjs in a bundle.
//
// aux-common's ES modules use extension-less imports node cannot load, so
// every peer is bundled with esbuild first.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const INTEROP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The file's modification time in ms, -Infinity when it is missing. */
export function mtime(path) {
    try {
        return statSync(path).mtimeMs;
    } catch {
        return -Infinity;
    }
}

/**
 * Runs `npm ci` in interop/ when one of `packages` is missing or
 * node_modules is older than package-lock.json (the lock pins exact
 * versions).
 */
export function ensureInstalled(packages, log = (m) => console.error(m)) {
    const lock = join(INTEROP_DIR, 'package-lock.json');
    const installed = join(INTEROP_DIR, 'node_modules', '.package-lock.json');
    const missing = packages.some((p) => !existsSync(join(INTEROP_DIR, 'node_modules', p, 'package.json')));
    if (!missing && mtime(installed) >= mtime(lock)) {
        return;
    }
    log('interop: installing node packages (npm ci)');
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: INTEROP_DIR, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) {
        throw new Error(`npm ci failed in ${INTEROP_DIR} (status ${r.status})`);
    }
}

/**
 * An esbuild plugin resolving `import 'yjs'` to the copy installed beside
 * `packageDir` (aux-common pins its own yjs; yjs refuses a second instance
 * and `instanceof` fails across copies). Only imports for which
 * `accept(args)` holds are redirected.
 */
export function yjsFromPlugin(packageDir, accept = () => true) {
    return {
        name: 'one-yjs',
        setup(build) {
            build.onResolve({ filter: /^yjs$/ }, async (args) => {
                if (args.pluginData?.oneYjs || !accept(args)) {
                    return undefined;
                }
                const r = await build.resolve('yjs', {
                    resolveDir: packageDir,
                    kind: args.kind,
                    pluginData: { oneYjs: true },
                });
                return { path: r.path, errors: r.errors };
            });
        },
    };
}

/** aux-common's own folder that resolves its pinned yjs. */
export const AUX_COMMON_DIR = join(INTEROP_DIR, 'node_modules', '@casual-simulation', 'aux-common', 'partitions');

/**
 * Bundles `entry` into the ESM file `out` for node 20. Written to a temp
 * file and renamed, so a concurrent reader never sees half a bundle.
 */
export async function bundle({ entry, out, plugins = [], external = [], logLevel = 'warning' }) {
    const esbuild = await import('esbuild');
    mkdirSync(dirname(out), { recursive: true });
    const result = await esbuild.build({
        write: false,
        entryPoints: [entry],
        outfile: out,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        logLevel,
        external,
        plugins,
        // CommonJS dependencies inside an ESM bundle need a real `require`
        // for node built-ins.
        banner: {
            js:
                "import { createRequire as __auxsyncCreateRequire } from 'node:module';\n" +
                'const require = __auxsyncCreateRequire(import.meta.url);',
        },
    });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, result.outputFiles[0].contents);
    renameSync(tmp, out);
    return out;
}

/** Bundles when `out` is older than any of `inputs`; returns `out`. */
export async function bundleIfStale(options, inputs) {
    const newest = Math.max(...inputs.map(mtime), mtime(join(INTEROP_DIR, 'package-lock.json')));
    if (mtime(options.out) < newest) {
        await bundle(options);
    }
    return options.out;
}
