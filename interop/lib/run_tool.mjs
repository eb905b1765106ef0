// Runs a command-line tool of ours with a time limit and collects its
// output. Shared by the differential drivers.
import { spawn } from 'node:child_process';

/**
 * Runs `bin args...`; resolves {code, signal, stdout, stderr, timedOut}.
 * A run that outlives `timeoutMs` is killed (only the child started here).
 */
export function runTool(bin, args, timeoutMs) {
    return new Promise((done) => {
        const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        const out = [];
        const err = [];
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
        }, timeoutMs);
        child.stdout.on('data', (d) => out.push(d));
        child.stderr.on('data', (d) => err.push(d));
        child.on('error', (e) => {
            clearTimeout(timer);
            done({ code: null, signal: null, stdout: '', stderr: String(e), timedOut });
        });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            done({
                code,
                signal,
                stdout: Buffer.concat(out).toString('utf8'),
                stderr: Buffer.concat(err).toString('utf8'),
                timedOut,
            });
        });
    });
}
