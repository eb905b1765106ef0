#!/usr/bin/env node
// The editing-trace benchmark on the REAL yjs 13.6.27 (interop/node_modules),
// the reference for `auxsync bench trace` (bench/trace_bench.cc runs the same
// steps; bench/trace_bench.sh runs both and prints the ratios).
//
//   node --expose-gc bench/js/trace_bench.mjs FILE.json.gz [--v2] [--reps N]
//        [--dump-doc OUT]
//
// Prints one JSON line: {"impl":"yjs","trace":…,"ops":…,"replayMs":…,
//   "updates":…,"updateBytes":…,"updatesHash":…,"encodeMs":…,"docSize":…,
//   "parseMs":…,"memBytes":…,"ok":…}
//
// Steps (each run; timed figures are the best of --reps runs, default 3):
//   before timing: gunzip + JSON.parse; code-point positions/lengths become
//     UTF-16 units (a sequential trace is simulated once, tracking where the
//     characters outside the BMP are); startContent is inserted untimed.
//   replay (timed): sequential: one Doc (clientID FIRST_CLIENT), Y.Text
//     "text", one doc.transact per txn applying its patches (delete, then
//     insert); every update event (v1, or v2 with --v2) is kept in an array.
//     concurrent: one Doc per agent (clientID FIRST_CLIENT + agent); before
//     a txn its agent's doc applies, in txn order, the updates of the txns
//     that its parents know and the doc lacks; at the end every doc gets
//     everything.
//   memBytes: one more replay before the timed runs: process.memoryUsage()
//     .heapUsed after full collections (until it stops shrinking) with the
//     replayed doc(s) alive, minus the same reading taken before that replay
//     (the trace data stays alive across both). That replay has no update
//     listener (sequential) or drops the updates (concurrent: they are needed
//     for the merges). Run node with --single-threaded-gc: with concurrent
//     sweeping heapUsed after gc() still counts garbage.
//   encode (timed): Y.encodeStateAsUpdate(V2) of the (first agent's) doc.
//   parse (timed): a new Doc, Y.applyUpdate(V2) of that, getText().toString().
//   ok: every final text and the parsed text equal endContent.
//   updatesHash: FNV-1a (32-bit) over all captured updates in order.

import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const Y = await import(
  pathToFileURL(join(here, '..', '..', 'interop', 'node_modules', 'yjs', 'dist', 'yjs.mjs')).href
);

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const file = argv.find((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1].startsWith('--') && argv[i - 1] !== '--v2'));
const V2 = argv.includes('--v2');
const REPS = Math.max(1, Number(opt('--reps', 3)));
const DUMP = opt('--dump-doc', null);
if (!file) {
  console.error('usage: trace_bench.mjs FILE.json.gz [--v2] [--reps N] [--dump-doc OUT]');
  process.exit(2);
}
if (typeof global.gc !== 'function') {
  console.error('trace_bench.mjs: run node with --expose-gc');
  process.exit(2);
}

// ---- loading and position conversion (untimed) ----------------------------

const raw = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
const concurrent = raw.kind === 'concurrent';

// Code-point offsets (from base) of the characters outside the BMP in s.
const astralOffsets = (s, base) => {
  const out = [];
  let cp = 0;
  for (const ch of s) {
    if (ch.length === 2) out.push(base + cp);
    cp++;
  }
  return { offsets: out, cps: cp };
};
const lowerBound = (a, x) => {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m] < x) lo = m + 1; else hi = m;
  }
  return lo;
};

const txns = [];
let ops = 0;
{
  let astral = [];
  let docCps = 0;
  const start = raw.startContent || '';
  if (start) {
    const a = astralOffsets(start, 0);
    astral = a.offsets;
    docCps = a.cps;
  }
  for (const t of raw.txns) {
    const patches = [];
    for (const [pos, del, ins] of t.patches) {
      const a = astralOffsets(ins, pos);
      if (concurrent) {
        if (a.offsets.length) throw new Error('characters outside the BMP in a concurrent trace');
        patches.push([pos, del, ins]);
        continue;
      }
      if (pos + del > docCps) throw new Error('patch outside the document');
      const before = lowerBound(astral, pos);
      const inDel = lowerBound(astral, pos + del) - before;
      patches.push([pos + before, del + inDel, ins]);
      const rest = astral.slice(before + inDel).map((p) => p - del + a.cps);
      astral = astral.slice(0, before).concat(a.offsets, rest);
      docCps = docCps - del + a.cps;
    }
    ops += patches.length;
    txns.push({ patches, parents: t.parents || [], agent: t.agent || 0 });
  }
}
const endContent = raw.endContent;
const numAgents = concurrent ? raw.numAgents : 1;

// ---- concurrent plan (untimed) ---------------------------------------------

const agentTxns = Array.from({ length: numAgents }, () => []);
const need = [];
if (concurrent) {
  const reach = [];
  txns.forEach((t, i) => {
    const n = new Array(numAgents).fill(0);
    for (const p of t.parents) for (let b = 0; b < numAgents; b++) n[b] = Math.max(n[b], reach[p][b]);
    agentTxns[t.agent].push(i);
    const r = n.slice();
    r[t.agent] = agentTxns[t.agent].length;
    reach.push(r);
    need.push(n);
  });
}

// ---- replay ------------------------------------------------------------------

const applyUpdate = V2 ? Y.applyUpdateV2 : Y.applyUpdate;
const encode = V2 ? Y.encodeStateAsUpdateV2 : Y.encodeStateAsUpdate;
const updateEvent = V2 ? 'updateV2' : 'update';

// The replaying docs' client ids, as bench/trace_bench.cc's kFirstClient
// (a 32-bit id like the ones yjs draws: 5 bytes as a var-int).
const FIRST_CLIENT = 1234567890;

// Listeners, so that they can be removed (they hold the updates array).
const listeners = [];
const newDoc = (client, updates) => {
  const doc = new Y.Doc();
  doc.clientID = client;
  if (updates !== null) {
    const listener = (u) => { updates.push(u); };
    doc.on(updateEvent, listener);
    listeners.push([doc, listener]);
  }
  return doc;
};

const applyPatches = (doc, text, patches) => {
  doc.transact(() => {
    for (const [pos, del, ins] of patches) {
      if (del > 0) text.delete(pos, del);
      if (ins.length) text.insert(pos, ins);
    }
  });
};

const replaySequential = (updates) => {
  const doc = newDoc(FIRST_CLIENT, updates);
  const text = doc.getText('text');
  if (raw.startContent) doc.transact(() => text.insert(0, raw.startContent));
  for (const t of txns) applyPatches(doc, text, t.patches);
  return [doc];
};

const replayConcurrent = (updates) => {
  const docs = [];
  const texts = [];
  for (let a = 0; a < numAgents; a++) {
    docs.push(newDoc(FIRST_CLIENT + a, updates));
    texts.push(docs[a].getText('text'));
  }
  const have = Array.from({ length: numAgents }, () => new Array(numAgents).fill(0));
  const txnUpdate = new Array(txns.length).fill(-1);
  const catchUp = (a, needed) => {
    const missing = [];
    for (let b = 0; b < numAgents; b++) {
      for (let k = have[a][b]; k < needed[b]; k++) missing.push(agentTxns[b][k]);
      have[a][b] = Math.max(have[a][b], needed[b]);
    }
    missing.sort((x, y) => x - y);
    for (const j of missing) if (txnUpdate[j] >= 0) applyUpdate(docs[a], updates[txnUpdate[j]]);
  };
  txns.forEach((t, i) => {
    const a = t.agent;
    catchUp(a, need[i]);
    const before = updates.length;
    applyPatches(docs[a], texts[a], t.patches);
    if (updates.length > before) txnUpdate[i] = updates.length - 1;
    have[a][a]++;
  });
  const all = agentTxns.map((l) => l.length);
  for (let a = 0; a < numAgents; a++) catchUp(a, all);
  return docs;
};

const fnv1a = (h, bytes) => {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h;
};

// Full collections until the heap stops shrinking (one gc() may leave
// garbage of the previous steps behind).
const settledHeap = () => {
  let used = Infinity;
  for (let i = 0; i < 10; i++) {
    global.gc();
    const now = process.memoryUsage().heapUsed;
    if (now >= used) return now;
    used = now;
  }
  return used;
};

let memBytes = 0;
let memOk = false;
// Memory, in a run of its own before the timed ones: after them, objects of
// earlier runs that V8 still references from its code and type feedback make
// the heap readings meaningless.
{
  const heapBefore = settledHeap();
  // A sequential replay keeps no updates here: no update listener.
  let updates = concurrent ? [] : null;
  const docs = concurrent ? replayConcurrent(updates) : replaySequential(updates);
  for (const [d, l] of listeners.splice(0)) d.off(updateEvent, l);
  updates = null;
  memBytes = settledHeap() - heapBefore;
  // Read after the measurement: keeps the docs alive through it.
  memOk = docs.every((d) => d.getText('text').length >= 0);
}


let res = null;
for (let rep = 0; rep < REPS; rep++) {
  let updates = [];
  let t0 = performance.now();
  let docs = concurrent ? replayConcurrent(updates) : replaySequential(updates);
  const replayMs = performance.now() - t0;
  let updateBytes = 0;
  let hash = 2166136261;
  for (const u of updates) {
    updateBytes += u.length;
    hash = fnv1a(hash, u);
  }
  const count = updates.length;
  for (const [d, l] of listeners.splice(0)) d.off(updateEvent, l);
  updates = null;
  let ok = docs.every((d) => d.getText('text').toString() === endContent);

  t0 = performance.now();
  const enc = encode(docs[0]);
  const encodeMs = performance.now() - t0;

  t0 = performance.now();
  let copy = new Y.Doc();
  copy.clientID = 1000;
  applyUpdate(copy, enc);
  const parsed = copy.getText('text').toString();
  const parseMs = performance.now() - t0;
  ok = ok && parsed === endContent;
  copy = null;
  docs = null;

  const min = (k, v) => (res === null ? v : Math.min(res[k], v));
  res = {
    impl: 'yjs',
    trace: basename(file).replace(/\.gz$/, '').replace(/\.json$/, ''),
    format: V2 ? 'v2' : 'v1',
    ops,
    replayMs: min('replayMs', replayMs),
    updates: count,
    updateBytes,
    updatesHash: hash,
    encodeMs: min('encodeMs', encodeMs),
    docSize: enc.length,
    parseMs: min('parseMs', parseMs),
    ok: (res === null || res.ok) && ok,
  };
  if (DUMP) writeFileSync(DUMP, enc);
}
// Everything the runs read stays alive to the end, so that the heap
// readings around a replay differ only by what the replay left behind.
res.memBytes = memBytes;
res.ok = res.ok && memOk && raw.txns.length === txns.length && need.length >= 0 && agentTxns.length > 0;
for (const k of ['replayMs', 'encodeMs', 'parseMs']) res[k] = Math.round(res[k] * 100) / 100;
console.log(JSON.stringify(res));
process.exit(res.ok ? 0 : 1);
