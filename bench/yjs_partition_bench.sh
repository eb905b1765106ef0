#!/usr/bin/env bash
# YjsPartition throughput, auxsync against the real aux-common YjsPartition
# in the same run (workloads: yjs_partition_bench.cc). Prints both results,
# checks that both sides ended in the same state (digest and sample bot) and
# prints the ratios (ours / theirs; for times, theirs / ours). Run
# scripts/setup.sh first (or scripts/run.sh), which builds build/ and
# installs interop/node_modules.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

node interop/build.mjs >/dev/null
compare() {
  node -e '
    const [a, b] = process.argv.slice(1).map((s) => JSON.parse(s));
    if (a.digest !== b.digest ||
        JSON.stringify(a.sample) !== JSON.stringify(b.sample)) {
      console.error("STATE MISMATCH between auxsync and aux-common");
      process.exit(1);
    }
    // Both sides pick random client ids, written as varints of 4 or 5
    // bytes in every struct that names its parent or origin: the sizes
    // agree exactly only when both ids have the same width (the id of each
    // side is below 2^28 in 1 run of 16); one width apart, they differ by ~5 %.
    const near = (x, y) => x === y || (x !== undefined && y !== undefined &&
                                       Math.abs(x - y) <= 0.06 * y);
    if (!near(a.updateBase64Chars, b.updateBase64Chars) ||
        !near(a.initUpdateBase64Chars, b.initUpdateBase64Chars)) {
      console.error("ENCODED SIZE MISMATCH between auxsync and aux-common");
      process.exit(1);
    }
    if (a.batch !== undefined) {
      const r = (k) => (a[k] / b[k]).toFixed(1);
      console.log(`yjs partition, batch ${a.batch}: adds ${r("addsPerSec")}x, ` +
                  `updates ${r("updatesPerSec")}x aux-common (same state ${a.digest})`);
    } else {
      const r = (k) => (b[k] / a[k]).toFixed(1);
      console.log(`yjs partition, ${a.initBots}-bot initialization update: ` +
                  `apply ${r("initMs")}x, encode ${r("encodeMs")}x aux-common ` +
                  `(same state ${a.digest})`);
    }
  ' "$1" "$2"
}
# One action per applyEvents call, and a runtime-like batch of 100.
for mode in "--batch 1" "--batch 100" "--init"; do
  # shellcheck disable=SC2086
  ours=$(build/bench/yjs_partition_bench $mode)
  # shellcheck disable=SC2086
  theirs=$(node bench/js/yjs_partition_bench.mjs $mode 2>/dev/null)
  echo "$ours"
  echo "$theirs"
  compare "$ours" "$theirs"
done
