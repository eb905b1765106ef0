#!/usr/bin/env bash
# B1-B3 of the crdt-benchmarks suite (N = 6000): auxsync against the real
# yjs 13.6.27 on the same generated workload (bench/js/crdt_suite_gen.mjs),
# in the same run. Prints both JSON lines per case and a table with the
# ratios (yjs / auxsync: >1 means auxsync is faster), and checks that both
# produced the same update and document sizes.
#
#   bench/crdt_suite_bench.sh [--reps N]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

reps=(--reps 3)
[[ "${1:-}" == "--reps" ]] && reps=(--reps "$2")
bin="${AUXSYNC_BIN:-build/auxsync/cli/auxsync}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node interop/build.mjs >/dev/null

node bench/js/crdt_suite_gen.mjs >"$tmp/workload.json"
status=0
"$bin" bench suite "$tmp/workload.json" "${reps[@]}" >"$tmp/ours.jsonl" || status=1
node bench/js/crdt_suite_bench.mjs "$tmp/workload.json" "${reps[@]}" >"$tmp/yjs.jsonl" || status=1
cat "$tmp/ours.jsonl" "$tmp/yjs.jsonl"
node -e '
  const fs = require("fs");
  const read = (f) => fs.readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const [ours, yjs] = [read(process.argv[1]), read(process.argv[2])];
  let bad = 0;
  const row = (cells) => console.log("| " + cells.join(" | ") + " |");
  row(["case", "time ms (ours / yjs / ratio)", "encode ms", "parse ms",
       "update bytes (both)", "doc size (both)", "ok"]);
  row(["---", "---", "---", "---", "---", "---", "---"]);
  ours.forEach((a, i) => {
    const b = yjs[i];
    // Times are printed to the microsecond: 0 means under half of one,
    // so the ratio is a lower bound.
    const f = (k) => a[k] > 0 ? `${a[k]} / ${b[k]} / ${(b[k] / a[k]).toFixed(1)}x`
                              : `< 0.001 / ${b[k]} / > ${(b[k] / 0.0005).toFixed(0)}x`;
    const same = a.id === b.id && a.updateBytes === b.updateBytes && a.docSize === b.docSize;
    if (!same || !a.ok || !b.ok) bad++;
    row([a.id, f("timeMs"), f("encodeMs"), f("parseMs"),
         same ? a.updateBytes : `${a.updateBytes} vs ${b.updateBytes} DIFFER`,
         same ? a.docSize : `${a.docSize} vs ${b.docSize} DIFFER`, `${a.ok}/${b.ok}`]);
  });
  process.exit(bad ? 1 : 0);
' "$tmp/ours.jsonl" "$tmp/yjs.jsonl" || status=1
exit "$status"
