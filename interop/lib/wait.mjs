// Small async helpers the live interop scripts share: argument lookup,
// time limits and polling for a condition.

/** The value after `name` on the command line, or `fallback`. */
export function arg(name, fallback = null) {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : fallback;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or a rejection "timed out: <what>" after `ms`. */
export function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
        promise.finally(() => clearTimeout(timer)),
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
        }),
    ]);
}

/**
 * Resolves with the first truthy value of `predicate()`, polled every
 * 20 ms; rejects "timed out: <what>" after `ms` (15 s by default).
 */
export async function waitFor(predicate, what, ms = 15000) {
    const end = Date.now() + ms;
    for (;;) {
        const v = predicate();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out: ${what}`);
        await sleep(20);
    }
}
