#!/usr/bin/env node
// B1-B3 of the crdt-benchmarks suite on the REAL yjs 13.6.27, from a
// workload written by crdt_suite_gen.mjs (the format is described there);
// `auxsync bench suite` runs the same workload on auxsync.
//
//   node bench/js/crdt_suite_bench.mjs WORKLOAD.json [--reps N]
//
// Prints one JSON line per case: {"impl":"yjs","id":"B1.1","timeMs":…,
// "updates":…,"updateBytes":…,"encodeMs":…,"docSize":…,"parseMs":…,"ok":…}.
// As in the suite: updates and documents in format v2; "time" covers the
// edits, the update exchange and the check; times are the best of --reps
// runs (default 3).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const Y = await import(
  pathToFileURL(join(here, '..', '..', 'interop', 'node_modules', 'yjs', 'dist', 'yjs.mjs')).href
);

const argv = process.argv.slice(2);
const repsAt = argv.indexOf('--reps');
const REPS = repsAt >= 0 ? Math.max(1, Number(argv[repsAt + 1])) : 3;
const workload = JSON.parse(readFileSync(argv[0], 'utf8'));

class SuiteDoc {
  constructor(client) {
    this.doc = new Y.Doc();
    this.doc.clientID = client;
    this.array = this.doc.getArray('array');
    this.map = this.doc.getMap('map');
    this.text = this.doc.getText('text');
  }
  onUpdate(f) { this.doc.on('updateV2', (u) => f(u)); }
  apply(u) { Y.applyUpdateV2(this.doc, u); }
}

const applyOp = (d, [t, index, arg]) => {
  if (t === 't') d.text.insert(index, arg);
  else if (t === 'd') d.text.delete(index, arg);
  else d.array.insert(index, arg);
};

const json = (v) => JSON.stringify(v);
const sameContent = (a, b) =>
  a.text.toString() === b.text.toString() &&
  json(a.array.toJSON()) === json(b.array.toJSON()) &&
  json(a.map.toJSON()) === json(b.map.toJSON());

const encodeAndParse = (from, expect, r) => {
  let t0 = performance.now();
  const enc = Y.encodeStateAsUpdateV2(from.doc);
  r.encodeMs = performance.now() - t0;
  r.docSize = enc.length;
  t0 = performance.now();
  const loaded = new SuiteDoc(999999);
  loaded.apply(enc);
  const same = sameContent(loaded, expect);
  r.parseMs = performance.now() - t0;
  r.ok = r.ok && same;
};

const runB1 = (c, r) => {
  const doc2 = new SuiteDoc(c.clients[1]);
  const doc1 = new SuiteDoc(c.clients[0]);
  const updates = [];
  doc1.onUpdate((u) => updates.push(u));
  const t0 = performance.now();
  for (const op of c.ops) applyOp(doc1, op);
  for (const u of updates) doc2.apply(u);
  let ok = sameContent(doc1, doc2);
  if (c.expect.text !== undefined) ok = ok && doc1.text.toString() === c.expect.text;
  else ok = ok && json(doc1.array.toJSON()) === json(c.expect.array);
  r.timeMs = performance.now() - t0;
  r.ok = ok;
  r.updates = updates.length;
  r.updateBytes = updates.reduce((a, u) => a + u.length, 0);
  encodeAndParse(doc1, doc2, r);
};

const runB2 = (c, r) => {
  const doc1 = new SuiteDoc(c.clients[0]);
  const doc2 = new SuiteDoc(c.clients[1]);
  let busy = false;
  r.updates = 0;
  r.updateBytes = 0;
  const relay = (to) => (u) => {
    if (busy) return;
    busy = true;
    r.updates++;
    r.updateBytes += u.length;
    to.apply(u);
    busy = false;
  };
  doc1.onUpdate(relay(doc2));
  doc2.onUpdate(relay(doc1));
  doc1.text.insert(0, c.init);
  const t0 = performance.now();
  doc1.doc.transact(() => { for (const op of c.ops1) applyOp(doc1, op); });
  doc2.doc.transact(() => { for (const op of c.ops2) applyOp(doc2, op); });
  let ok = doc1.text.toString() === doc2.text.toString();
  if (c.expectLength !== undefined) ok = ok && doc1.text.length === c.expectLength;
  r.timeMs = performance.now() - t0;
  r.ok = ok;
  encodeAndParse(doc1, doc2, r);
};

const b3Change = (d, kind, i, m) => {
  if (kind === 'map_number') d.map.set('v', i);
  else if (kind === 'map_object') d.map.set('v', { name: i.toString(), address: 'here' });
  else if (kind === 'map_string') d.map.set('v', i.toString().repeat(m));
  else if (kind === 'array_text') d.array.insert(0, [i.toString()]);
  else d.text.insert(0, i.toString());
};

const runB3 = (c, r) => {
  const m = c.clients.length;
  const docs = [];
  const updates = [];
  let busy = false;
  for (let i = 0; i < m; i++) {
    const d = new SuiteDoc(c.clients[i]);
    d.onUpdate((u) => { if (!busy) updates.push(u); });
    docs.push(d);
  }
  for (let i = 0; i < m; i++) b3Change(docs[i], c.change, i, m);
  busy = true;
  docs[0].doc.transact(() => { for (const u of updates) docs[0].apply(u); });
  busy = false;
  const t0 = performance.now();
  busy = true;
  docs[1].doc.transact(() => { for (const u of updates) docs[1].apply(u); });
  busy = false;
  const ok = sameContent(docs[0], docs[1]);
  r.timeMs = performance.now() - t0;
  r.ok = ok;
  r.updates = updates.length;
  r.updateBytes = updates.reduce((a, u) => a + u.length, 0);
  encodeAndParse(docs[0], docs[0], r);
};

for (const c of workload.cases) {
  let best = null;
  for (let rep = 0; rep < REPS; rep++) {
    const r = { impl: 'yjs', id: c.id, timeMs: 0, updates: 0, updateBytes: 0, encodeMs: 0, docSize: 0, parseMs: 0, ok: false };
    if (c.kind === 'b1') runB1(c, r);
    else if (c.kind === 'b2') runB2(c, r);
    else runB3(c, r);
    if (best === null) best = r;
    else {
      for (const k of ['timeMs', 'encodeMs', 'parseMs']) best[k] = Math.min(best[k], r[k]);
      best.ok = best.ok && r.ok;
    }
  }
  for (const k of ['timeMs', 'encodeMs', 'parseMs']) best[k] = Math.round(best[k] * 1000) / 1000;
  console.log(JSON.stringify(best));
}
