// Writes the seed corpora of the update fuzzers: every v1 and v2 update of
// the golden vectors (emitted updates and final document states), one file
// each; and for fuzz_update_sequence (OUT_DIR/seq) each vector's v1 updates
// as one list of records ([length: 2 bytes LE][update]), in order and
// reversed (later updates first: their structs wait for the earlier ones,
// which then arrive), then the final states (duplicates of what came).
// Usage: node fuzz/make_corpus.mjs VECTORS_DIR OUT_DIR
import fs from 'node:fs';
import path from 'node:path';

const [vectorsDir, outDir] = process.argv.slice(2);
if (!vectorsDir || !outDir) {
  console.error('usage: node make_corpus.mjs VECTORS_DIR OUT_DIR');
  process.exit(2);
}
const dirs = {
  v1: path.join(outDir, 'v1'),
  v2: path.join(outDir, 'v2'),
  seq: path.join(outDir, 'seq'),
};
for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });

let n = 0;
const write = (kind, b64, name) => {
  if (typeof b64 !== 'string') return;
  fs.writeFileSync(path.join(dirs[kind], name), Buffer.from(b64, 'base64'));
  n++;
};
for (const file of fs.readdirSync(vectorsDir).filter((f) => f.endsWith('.json'))) {
  const v = JSON.parse(fs.readFileSync(path.join(vectorsDir, file), 'utf8'));
  const base = path.basename(file, '.json');
  (v.steps ?? []).forEach((step, i) => {
    (step.expect?.emitted ?? []).forEach((e, j) => {
      write('v1', e.v1, `${base}-${i}-${j}`);
      write('v2', e.v2, `${base}-${i}-${j}`);
    });
  });
  for (const [doc, fin] of Object.entries(v.final ?? {})) {
    write('v1', fin.update, `${base}-final-${doc}`);
    write('v2', fin.updateV2, `${base}-final-${doc}`);
  }
  const emitted = (v.steps ?? []).flatMap((step) =>
    (step.expect?.emitted ?? []).map((e) => e.v1));
  const finals = Object.values(v.final ?? {}).map((fin) => fin.update);
  const records = (list) => Buffer.concat(
    list.filter((b64) => typeof b64 === 'string')
      .map((b64) => Buffer.from(b64, 'base64'))
      .filter((b) => b.length < 65536)
      .flatMap((b) => [Buffer.from([b.length & 0xff, b.length >> 8]), b]));
  if (emitted.length > 0) {
    fs.writeFileSync(path.join(dirs.seq, `${base}-in-order`), records(emitted));
    fs.writeFileSync(path.join(dirs.seq, `${base}-reversed`),
                     records([...emitted].reverse().concat(finals)));
    n += 2;
  }
}
console.log(`corpus: ${n} files in ${outDir}`);
