#!/usr/bin/env node
// The Node reference inst server (see reference_server.mjs):
//
//   node interop/node_server/server.mjs [--port N] [--host H] [--max-inst-bytes N] [--verbose]
//
// Prints its websocket URL on the first line of stdout, then serves until
// SIGINT/SIGTERM.

import { startReferenceServer } from './reference_server.mjs';

function arg(name, fallback) {
    const i = process.argv.indexOf(name);
    return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const verbose = process.argv.includes('--verbose');
if (!verbose) {
    // The controller logs every watch and update to the console.
    console.log = () => {};
}
const out = (line) => process.stdout.write(`${line}\n`);
const server = await startReferenceServer({
    port: Number(arg('--port', '0')),
    host: arg('--host', '127.0.0.1'),
    maxBytesPerInst: arg('--max-inst-bytes', null) ? Number(arg('--max-inst-bytes')) : null,
    log: (m) => process.stderr.write(`${m}\n`),
});
out(server.url);
for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, async () => {
        await server.close();
        process.exit(0);
    });
}
