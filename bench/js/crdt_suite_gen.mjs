#!/usr/bin/env node
// Writes the workload of B1-B3 of the public crdt-benchmarks suite
// (github.com/dmonad/crdt-benchmarks, js-lib/b1.js, b2.js, b3.js; N = 6000)
// as JSON, so that the real yjs (bench/js/crdt_suite_bench.mjs) and auxsync
// (`auxsync bench suite`) replay exactly the same edits.
//
//   node bench/js/crdt_suite_gen.mjs > workload.json
//
// The inputs are drawn as the suite draws them: lib0's PRNG with seed 42,
// B2's initText first (the suite draws it when b2.js is loaded), then the
// cases in order. Client ids (random in the suite, from new Y.Doc()) come
// from a second PRNG (seed 7) so that both sides use the same ones.
//
// Case kinds: "b1": `ops` applied to doc1 one transaction each, its updates
// then applied to doc2; "b2": `init` inserted in doc1 (synced), then doc1
// applies `ops1` and doc2 `ops2`, each in one transaction, exchanging
// updates; "b3": M = 20*floor(sqrt(N)) docs each make one `change`, docs[0]
// then docs[1] (timed) apply all the updates in one transaction.
// Ops: ["t", index, word] insert text, ["d", index, n] delete text,
// ["a", index, [numbers]] insert into the array.

import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const lib0 = join(here, '..', '..', 'interop', 'node_modules', 'yjs', 'node_modules', 'lib0');
const prng = await import(pathToFileURL(join(lib0, 'prng.js')).href);

const N = 6000;
const gen = prng.create(42);
const ids = prng.create(7);
const clientId = () => prng.uint32(ids, 1, 0x7fffffff);
const initText = prng.word(gen, 100, 100);
const cases = [];

const b1 = (id, name, ops, expect) =>
  cases.push({ id, name, kind: 'b1', clients: [clientId(), clientId()], ops, expect });

{
  const s = prng.word(gen, N, N);
  b1('B1.1', 'Append N characters', s.split('').map((c, i) => ['t', i, c]), { text: s });
}
{
  const s = prng.word(gen, N, N);
  b1('B1.2', 'Insert string of length N', [['t', 0, s]], { text: s });
}
{
  const s = prng.word(gen, N, N);
  const rev = s.split('').reverse();
  b1('B1.3', 'Prepend N characters', rev.map((c) => ['t', 0, c]), { text: s });
}
for (const [id, name, min, max] of [
  ['B1.4', 'Insert N characters at random positions', 1, 1],
  ['B1.5', 'Insert N words at random positions', 2, 10],
]) {
  let s = '';
  const ops = [];
  for (let i = 0; i < N; i++) {
    const index = prng.int32(gen, 0, s.length);
    const insert = prng.word(gen, min, max);
    s = s.slice(0, index) + insert + s.slice(index);
    ops.push(['t', index, insert]);
  }
  b1(id, name, ops, { text: s });
}
{
  const s = prng.word(gen, N, N);
  b1('B1.6', 'Insert string, then delete it', [['t', 0, s], ['d', 0, s.length]], { text: '' });
}
{
  let s = '';
  const ops = [];
  for (let i = 0; i < N; i++) {
    const index = prng.uint32(gen, 0, s.length);
    if (s.length === index || prng.bool(gen)) {
      const insert = prng.word(gen, 2, 10);
      s = s.slice(0, index) + insert + s.slice(index);
      ops.push(['t', index, insert]);
    } else {
      const n = prng.uint32(gen, 1, Math.min(9, s.length - index));
      s = s.slice(0, index) + s.slice(index + n);
      ops.push(['d', index, n]);
    }
  }
  b1('B1.7', 'Insert/Delete strings at random positions', ops, { text: s });
}
{
  const nums = Array.from({ length: N }, () => prng.uint32(gen, 0, 0x7fffffff));
  b1('B1.8', 'Append N numbers', nums.map((v, i) => ['a', i, [v]]), { array: nums });
}
{
  const nums = Array.from({ length: N }, () => prng.uint32(gen, 0, 0x7fffffff));
  b1('B1.9', 'Insert Array of N numbers', [['a', 0, nums]], { array: nums });
}
{
  const nums = Array.from({ length: N }, () => prng.uint32(gen, 0, 0x7fffffff));
  b1('B1.10', 'Prepend N numbers', nums.map((v) => ['a', 0, [v]]), { array: nums.slice().reverse() });
}
{
  const nums = [];
  const ops = [];
  for (let i = 0; i < N; i++) {
    const index = prng.uint32(gen, 0, nums.length);
    const v = prng.uint32(gen, 0, 0x7fffffff);
    nums.splice(index, 0, v);
    ops.push(['a', index, [v]]);
  }
  b1('B1.11', 'Insert N numbers at random positions', ops, { array: nums });
}

const b2 = (id, name, ops1, ops2, expectLength) => {
  const c = { id, name, kind: 'b2', clients: [clientId(), clientId()], init: initText, ops1, ops2 };
  if (expectLength !== undefined) c.expectLength = expectLength;
  cases.push(c);
};
b2('B2.1', 'Concurrently insert string of length N at index 0',
  [['t', 0, prng.word(gen, N, N)]], [['t', 0, prng.word(gen, N, N)]], N * 2 + 100);
const randomInserts = (min, max) => {
  let s = initText;
  const ops = [];
  for (let i = 0; i < N; i++) {
    const index = prng.uint32(gen, 0, s.length);
    const insert = prng.word(gen, min, max);
    s = s.slice(0, index) + insert + s.slice(index);
    ops.push(['t', index, insert]);
  }
  return ops;
};
b2('B2.2', 'Concurrently insert N characters at random positions',
  randomInserts(1, 1), randomInserts(1, 1), N * 2 + 100);
b2('B2.3', 'Concurrently insert N words at random positions', randomInserts(3, 9), randomInserts(3, 9));
const insertsAndDeletes = () => {
  let s = initText;
  const ops = [];
  for (let i = 0; i < N; i++) {
    const index = prng.uint32(gen, 0, s.length);
    const insert = prng.word(gen, 3, 9);
    s = s.slice(0, index) + insert + s.slice(index);
    ops.push(['t', index, insert]);
    if (s.length === index || prng.bool(gen)) {
      const insert2 = prng.word(gen, 2, 10);
      s = s.slice(0, index) + insert2 + s.slice(index);
      ops.push(['t', index, insert2]);
    } else {
      const n = prng.uint32(gen, 1, Math.min(9, s.length - index));
      s = s.slice(0, index) + s.slice(index + n);
      ops.push(['d', index, n]);
    }
  }
  return ops;
};
b2('B2.4', 'Concurrently insert & delete', insertsAndDeletes(), insertsAndDeletes());

const M = Math.floor(Math.sqrt(N)) * 20;
for (const [id, name, change] of [
  ['B3.1', '20√N clients concurrently set number in Map', 'map_number'],
  ['B3.2', '20√N clients concurrently set Object in Map', 'map_object'],
  ['B3.3', '20√N clients concurrently set String in Map', 'map_string'],
  ['B3.4', '20√N clients concurrently insert text in Array', 'array_text'],
  ['B3.5', '20√N clients concurrently insert text', 'text'],
]) {
  cases.push({ id, name, kind: 'b3', change, clients: Array.from({ length: M }, clientId) });
}

process.stdout.write(JSON.stringify({ n: N, cases }));
