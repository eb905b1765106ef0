// Command-line parsing for the differential drivers: each driver declares
// its options once, and they all reject the same mistakes the same way
// (unknown flags, non-integer counts, a missing required path) with exit 2.

import { accessSync, constants, statSync } from 'node:fs';

/**
 * Parses `argv` by `spec`:
 *   name      the driver's name, prefixed to every message
 *   usage     the usage text printed after an error
 *   defaults  the option object before parsing
 *   options   flag -> {key, kind}; kind 'int' (a non-negative integer, clamped to
 *             optional `min`/`max`), 'string', 'true' or 'false' (a bare flag
 *             setting key to that boolean)
 *   required  flag names that must be given
 * Exits with status 2 on any error.
 */
export function parseCommandLine(argv, spec) {
    const fail = (msg) => {
        console.error(`${spec.name}: ${msg}`);
        console.error(spec.usage);
        process.exit(2);
    };
    const o = { ...spec.defaults };
    const seen = new Set();
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const opt = spec.options[flag];
        if (!opt) fail(`unknown argument ${flag}`);
        seen.add(flag);
        if (opt.kind === 'true' || opt.kind === 'false') {
            o[opt.key] = opt.kind === 'true';
            continue;
        }
        const v = argv[++i];
        if (v === undefined) fail(`${flag} needs a value`);
        if (opt.kind === 'int') {
            if (!/^[0-9]+$/.test(v)) fail(`${flag} needs a non-negative integer`);
            o[opt.key] = Math.max(opt.min ?? 0, Math.min(Number(v), opt.max ?? Infinity));
        } else {
            o[opt.key] = v;
        }
    }
    for (const flag of spec.required ?? []) {
        if (!seen.has(flag)) fail(`${flag} is required`);
    }
    o.fail = fail;
    return o;
}

/** Exits 2 with `hint` unless `path` is an executable file. */
export function requireExecutable(name, path, hint) {
    try {
        if (!statSync(path).isFile()) throw new Error('not a file');
        accessSync(path, constants.X_OK);
    } catch {
        console.error(`${name}: not found or not executable: ${path}\n  ${hint}`);
        process.exit(2);
    }
}
