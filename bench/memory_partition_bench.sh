#!/usr/bin/env bash
# MemoryPartition throughput, auxsync against the real aux-common
# MemoryPartition in the same run (workload: memory_partition_bench.cc).
# Prints both results and the ratios. Run scripts/setup.sh first (or
# scripts/run.sh), which builds build/ and installs interop/node_modules.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

node interop/build.mjs >/dev/null
# One action per applyEvents call, and a runtime-like batch of 100.
for batch in 1 100; do
  ours=$(build/bench/memory_partition_bench --batch "$batch")
  theirs=$(node bench/js/memory_partition_bench.mjs --batch "$batch" 2>/dev/null)
  echo "$ours"
  echo "$theirs"
  node -e '
    const [a, b] = process.argv.slice(1).map((s) => JSON.parse(s));
    const r = (k) => (a[k] / b[k]).toFixed(1);
    console.log(`memory partition, batch ${a.batch}: adds ${r("addsPerSec")}x, ` +
                `updates ${r("updatesPerSec")}x aux-common`);
  ' "$ours" "$theirs"
done
