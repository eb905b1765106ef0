// Writes the seed corpora of fuzz_yjs_partition (OUT_DIR/partition),
// fuzz_aux_file (OUT_DIR/aux) and fuzz_bot_actions (OUT_DIR/actions):
// documents shaped like a YjsPartition's (and some shaped as a hostile peer
// might shape them), built with the real yjs, and the action batches of the
// MemoryPartition differential's seeded scenarios (tagged JSON).
// A partition seed is a list of the fuzz target's records:
// [op][length: 2 bytes LE][bytes], op 0 = a remote v1 update, 1-3 = local
// writes (see yjs_partition_fuzzer.cc); an aux seed is a version 2 .aux
// file of the same updates, or a version 1 file.
// Usage: node fuzz/make_partition_corpus.mjs OUT_DIR
import fs from 'node:fs';
import path from 'node:path';
import { generateMemoryScenario } from '../interop/gen_memory_scenario.mjs';
import { writeJson } from '../interop/lib/tagged_json.mjs';
import { Y } from '../interop/lib/yjs_runner.mjs';

const [outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node make_partition_corpus.mjs OUT_DIR');
  process.exit(2);
}
const partitionDir = path.join(outDir, 'partition');
const auxDir = path.join(outDir, 'aux');
const actionsDir = path.join(outDir, 'actions');
for (const d of [partitionDir, auxDir, actionsDir]) fs.mkdirSync(d, { recursive: true });

const record = (op, bytes) => {
  const head = Buffer.from([op, bytes.length & 0xff, (bytes.length >> 8) & 0xff]);
  return Buffer.concat([head, Buffer.from(bytes)]);
};
const text = (s) => {
  const t = new Y.Text();
  t.insert(0, s);
  return t;
};

// Runs `steps` (functions of the doc) one transaction each and returns the
// updates they emitted as op-0 records.
function updatesOf(clientID, steps) {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  const out = [];
  doc.on('update', (u) => out.push(record(0, u)));
  for (const step of steps) doc.transact(() => step(doc));
  return out;
}

const bot = (tags) => {
  const m = new Y.Map();
  for (const [k, v] of Object.entries(tags)) m.set(k, v);
  return m;
};
const bots = (d) => d.getMap('bots');
const masks = (d) => d.getMap('masks');

const seeds = {
  // What a partition writes: bots of text, number, object and boolean
  // tags, then edits, a mask, a removal.
  plain: updatesOf(11, [
    (d) => {
      bots(d).set('b0', bot({ t0: text('hello'), t1: 5, t2: { a: [1, 2] } }));
      bots(d).set('b1', bot({ t0: text('x'), t1: true }));
    },
    (d) => bots(d).get('b0').get('t0').insert(2, 'yy'),
    (d) => bots(d).get('b1').set('t2', text('new')),
    (d) => masks(d).set('b0:t1', text('masked')),
    (d) => bots(d).get('b0').delete('t1'),
    (d) => bots(d).delete('b1'),
  ]),
  // A text with formatting and an embed, a nested map and an array as tag
  // values, and a text inside a text's map.
  rich: updatesOf(12, [
    (d) => {
      const t = new Y.Text();
      t.insert(0, 'abc', { bold: true });
      t.insertEmbed(1, { image: 'x' });
      const nested = new Y.Map();
      nested.set('inner', text('deep'));
      const arr = new Y.Array();
      arr.insert(0, [1, text('a')]);
      bots(d).set('b2', bot({ t0: t, t1: nested, t2: arr }));
    },
    (d) => bots(d).get('b2').get('t0').format(0, 2, { bold: null }),
  ]),
  // Not bots: a number, a string, a text and an array where bot maps
  // belong; mask keys without a colon or for no bot; a tag named "id".
  hostile: updatesOf(13, [
    (d) => {
      bots(d).set('n', 42);
      bots(d).set('s', 'str');
      bots(d).set('t', text('not a bot'));
      bots(d).set('a', new Y.Array());
      bots(d).set('b3', bot({ id: text('other'), t0: null }));
      masks(d).set('nocolon', 1);
      masks(d).set('ghost:t0', text('g'));
      masks(d).set('b3:', 2);
    },
    (d) => bots(d).set('n', bot({ t0: 1 })),
    (d) => {
      bots(d).get('b3').set('t0', text(''));
      bots(d).delete('s');
    },
  ]),
  // Two peers' concurrent bots with the same id, merged.
  concurrent: (() => {
    const a = updatesOf(14, [(d) => bots(d).set('b0', bot({ t0: text('A') }))]);
    const b = updatesOf(15, [(d) => bots(d).set('b0', bot({ t0: text('B') }))]);
    return [...a, ...b];
  })(),
};

// Local writes after the plain document (set a tag, a text edit, add a bot,
// remove one, set a mask): the bytes follow the fuzz target's decoding.
const local = [
  record(1, Buffer.from([0, 0, ...Buffer.from('value')])),
  record(1, Buffer.from([1, 4, 3, 1, ...Buffer.from('ins')])),
  record(1, Buffer.from([0, 1])),
  record(2, Buffer.from([2, 0, ...Buffer.from('v')])),
  record(2, Buffer.from([1])),
  record(3, Buffer.from([0, 0, ...Buffer.from('m')])),
];

let n = 0;
for (const [name, records] of Object.entries(seeds)) {
  fs.writeFileSync(path.join(partitionDir, name), Buffer.concat(records));
  fs.writeFileSync(path.join(partitionDir, `${name}-local`),
                   Buffer.concat([...records, ...local]));
  const updates = records.map((r, i) => ({
    id: i, timestamp: 1000 + i, update: r.subarray(3).toString('base64'),
  }));
  fs.writeFileSync(path.join(auxDir, name),
                   JSON.stringify({ version: 2, updates }));
  n += 3;
}
fs.writeFileSync(path.join(auxDir, 'state'), JSON.stringify({
  version: 1,
  state: {
    b0: { id: 'b0', tags: { t0: 'x', t1: 2, t2: { a: [true] } } },
    b1: { id: 'b1', space: 'shared', tags: {}, masks: { shared: { t0: 'm' } } },
  },
}));
fs.writeFileSync(path.join(auxDir, 'bare'),
                 JSON.stringify({ b0: { id: 'b0', tags: { t0: 'y' } } }));
n += 2;
for (let seed = 0; seed < 40; seed++) {
  const batches = generateMemoryScenario(seed).steps
      .filter((step) => 'applyEvents' in step)
      .map((step) => step.applyEvents);
  fs.writeFileSync(path.join(actionsDir, `seed${seed}`), writeJson(batches, true));
  n++;
}
console.log(`corpus: ${n} files in ${outDir}`);
