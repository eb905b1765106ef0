// The table of bench/inst_load_bench.sh: reads the client's JSON lines
// (one per run), prints every step and the summary (ours, Node, ratio),
// and writes all of it as one JSON file.
//
//   node bench/js/inst_load_report.mjs RESULTS.jsonl OUT.json [NOTE]

import { readFileSync, writeFileSync } from 'node:fs';

const [resultsPath, outPath, note = ''] = process.argv.slice(2);
const runs = readFileSync(resultsPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

const P99_LIMIT_MS = 50;
const held = (r) =>
    !r.failed && r.ready === r.clients && r.lost === 0 && r.errorFrames === 0 &&
    r.closedDuringRun === 0 && r.ackErrors === 0 && r.fanoutP99Ms < P99_LIMIT_MS;

const servers = [...new Set(runs.map((r) => r.label))];
const ours = servers.find((s) => s === 'ours');
const node = servers.find((s) => s === 'node');
const f = (x, d = 1) => (typeof x === 'number' ? x.toFixed(d) : String(x));

console.log('\nsteps (fan-out latency = send -> receipt by each other watcher):');
console.log(
    'server       scenario  clients  insts  p50ms  p99ms  maxms  ackP99  acked/s  deliv/s  lost  errs  srvCpu  us/frame  cliCpu');
for (const r of runs.filter((r) => r.mode === 'load')) {
    console.log(
        [
            r.label.padEnd(12), r.scenario.padEnd(9), String(r.clients).padStart(7),
            String(r.insts).padStart(6), f(r.fanoutP50Ms).padStart(6),
            f(r.fanoutP99Ms).padStart(6), f(r.fanoutMaxMs).padStart(6),
            f(r.ackP99Ms).padStart(7), f(r.ackedPerS, 0).padStart(8),
            f(r.deliveredPerS, 0).padStart(8), String(r.lost).padStart(5),
            String(r.errorFrames + r.closedDuringRun + r.connectErrors).padStart(5),
            f(r.serverCpu, 2).padStart(7), f(r.serverUsPerFrame, 1).padStart(9),
            f(r.clientCpu, 2).padStart(7),
            held(r) ? '' : ' <- over',
        ].join(' '));
}

// Per server and scenario: the largest K that held, and whether the steps
// ran out before it failed (then the figure is a lower bound).
// A K counts as held when one of its (at most two) attempts held.
function capacity(server, scenario) {
    const steps = runs.filter((r) => r.label === server && r.scenario === scenario);
    const ks = [...new Set(steps.map((r) => r.clients))];
    let best = null;
    let bounded = false;
    for (const k of ks) {
        const ok = steps.find((r) => r.clients === k && held(r));
        if (!ok) { bounded = true; break; }
        best = ok;
    }
    return { best, bounded, steps };
}

const summary = { note, servers: {}, ratios: {}, goals: {} };
for (const s of servers) {
    const idleOf = (scenario) => {
        const idle = runs.find((r) => r.label === s && r.scenario === scenario);
        return idle && {
            sockets: idle.ready, bytesPerConnection: idle.bytesPerConnection,
            bytesPerConnectionMarginal: idle.bytesPerConnectionMarginal,
            rssBeforeKib: idle.rssBeforeKib, rssAfterKib: idle.rssAfterKib,
        };
    };
    summary.servers[s] = { idle: idleOf('idle'), idleCasualos: idleOf('idle-casualos') };
    for (const sc of ['spread', 'one-inst']) {
        const c = capacity(s, sc);
        summary.servers[s][sc] = {
            maxClients: c.best ? c.best.clients : 0,
            lowerBound: !c.bounded,
            atMax: c.best && {
                p50: c.best.fanoutP50Ms, p99: c.best.fanoutP99Ms,
                ackedPerS: c.best.ackedPerS, deliveredPerS: c.best.deliveredPerS,
            },
        };
    }
}

console.log(`\nsummary (${note})`);
console.log('                                        ' +
    servers.map((s) => s.padStart(14)).join('') +
    (ours && node ? '  ratio' : ''));
const row = (name, get, ratio) => {
    const vals = servers.map((s) => get(summary.servers[s]));
    let line = name.padEnd(40) + vals.map((v) => String(v).padStart(14)).join('');
    if (ours && node) line += '  ' + ratio(get(summary.servers[ours]), get(summary.servers[node]));
    console.log(line);
};
// Both ratios are "how much better ours is": > 1 is better.
const bytesRatio = (o, n) => 'Node/ours ' + (n / o).toFixed(2);
const kRatio = (o, n) => (n ? 'ours/Node ' + (o / n).toFixed(2) : 'n/a');
row('memory per idle socket (bytes)', (x) => Math.round(x.idle?.bytesPerConnection ?? -1), bytesRatio);
row('  ... second half only (marginal)', (x) => Math.round(x.idle?.bytesPerConnectionMarginal ?? -1),
    bytesRatio);
row('  ... with a CasualOS tab\'s 3 watches', (x) => Math.round(x.idleCasualos?.bytesPerConnection ?? -1),
    bytesRatio);
row('  ... CasualOS tab, marginal', (x) => Math.round(x.idleCasualos?.bytesPerConnectionMarginal ?? -1),
    bytesRatio);
for (const sc of ['spread', 'one-inst']) {
    const label = sc === 'spread' ? 'insts of 10, 1 upd/s/client' : 'one inst, 1 upd/s/client';
    row(`max clients, p99<50ms (${label})`,
        (x) => (x[sc].lowerBound ? '>=' : '') + x[sc].maxClients,
        (o, n) => kRatio(parseInt(o.replace('>=', '')), parseInt(n.replace('>=', ''))) +
            (o.startsWith('>=') ? ' (at least)' : ''));
    row(`  p50 / p99 ms at that max`,
        (x) => x[sc].atMax ? `${f(x[sc].atMax.p50)}/${f(x[sc].atMax.p99)}` : '-', () => '');
    row(`  acknowledged updates/s at that max`,
        (x) => x[sc].atMax ? Math.round(x[sc].atMax.ackedPerS) : '-', () => '');
}
// The same K for both: the largest K that both held.
for (const sc of ['spread', 'one-inst']) {
    if (!(ours && node)) break;
    const nodeMax = summary.servers[node][sc].maxClients;
    const at = (server) => {
        const rs = runs.filter((r) => r.label === server && r.scenario === sc && r.clients === nodeMax);
        return rs.find(held) ?? rs[rs.length - 1];
    };
    const a = at(ours);
    const b = at(node);
    if (a && b) {
        summary.ratios[`${sc}AtNodeMax`] = {
            clients: nodeMax, oursP50: a.fanoutP50Ms, oursP99: a.fanoutP99Ms,
            nodeP50: b.fanoutP50Ms, nodeP99: b.fanoutP99Ms,
            oursUsPerFrame: a.serverUsPerFrame, nodeUsPerFrame: b.serverUsPerFrame,
        };
        console.log(`${sc}: at K=${nodeMax} (Node's max) p50/p99 ours ${f(a.fanoutP50Ms)}/` +
            `${f(a.fanoutP99Ms)} ms, Node ${f(b.fanoutP50Ms)}/${f(b.fanoutP99Ms)} ms; ` +
            `server CPU per frame sent ours ${f(a.serverUsPerFrame)} us, Node ` +
            `${f(b.serverUsPerFrame)} us (${f(b.serverUsPerFrame / a.serverUsPerFrame)}x)`);
    }
}
if (ours && node) {
    const o = summary.servers[ours], n = summary.servers[node];
    summary.ratios.memoryPerConnection = n.idle && o.idle ?
        n.idle.bytesPerConnection / o.idle.bytesPerConnection : null;
    summary.ratios.spreadClients = n.spread.maxClients ? o.spread.maxClients / n.spread.maxClients : null;
    summary.ratios.oneInstClients = n['one-inst'].maxClients ?
        o['one-inst'].maxClients / n['one-inst'].maxClients : null;
    summary.goals = {
        clients10x: summary.ratios.spreadClients >= 10,
        memoryFifth: summary.ratios.memoryPerConnection >= 5,
    };
    console.log(`goals: >=10x clients (spread): ${summary.goals.clients10x ? 'met' : 'NOT met'}` +
        ` (${f(summary.ratios.spreadClients)}x${o.spread.lowerBound ? ', ours a lower bound' : ''});` +
        ` <=1/5 memory per socket: ${summary.goals.memoryFifth ? 'met' : 'NOT met'}` +
        ` (Node/ours ${f(summary.ratios.memoryPerConnection, 2)})`);
}
writeFileSync(outPath, JSON.stringify({ summary, runs }, null, 2) + '\n');
console.log(`\nwritten: ${outPath}`);
