#!/usr/bin/env bash
# Editing-trace benchmark: auxsync's CRDT engine against the real yjs 13.6.27
# (node, interop/node_modules) in the same run, on every trace of
# ../shared/data/editing-traces. Prints both JSON lines and the ratios
# (yjs / auxsync for times and memory: >1 means auxsync is faster/smaller),
# and checks that both encoded the final doc to the same bytes and emitted
# the same updates.
#
#   bench/trace_bench.sh [--v2] [--reps N] [TRACE_NAME...]
#
# Run scripts/setup.sh first (builds build/, installs interop/node_modules).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

traces_dir="${AUXSYNC_TRACES_DIR:-$root/../shared/data/editing-traces}"
flags=()
names=()
while (($#)); do
  case "$1" in
    --v2) flags+=(--v2) ;;
    --reps) flags+=(--reps "$2"); shift ;;
    *) names+=("$1") ;;
  esac
  shift
done
((${#names[@]})) || names=(automerge-paper seph-blog1 friendsforever_flat friendsforever)

bin="${AUXSYNC_BIN:-build/auxsync/cli/auxsync}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node interop/build.mjs >/dev/null

status=0
for name in "${names[@]}"; do
  file="$traces_dir/$name.json.gz"
  ours=$("$bin" bench trace "$file" "${flags[@]}" --dump-doc "$tmp/ours.bin") || status=1
  theirs=$(node --expose-gc --single-threaded-gc bench/js/trace_bench.mjs "$file" \
             "${flags[@]}" --dump-doc "$tmp/yjs.bin") || status=1
  echo "$ours"
  echo "$theirs"
  same=no
  cmp -s "$tmp/ours.bin" "$tmp/yjs.bin" && same=yes
  node -e '
    const [a, b, same] = [JSON.parse(process.argv[1]), JSON.parse(process.argv[2]), process.argv[3]];
    const r = (k) => (b[k] / a[k]).toFixed(1) + "x";
    const f = (k, unit) => `${k} ${a[k]}${unit} vs ${b[k]}${unit} (${r(k)})`;
    console.log(`${a.trace} ${a.format}: ` + [f("replayMs", " ms"), f("encodeMs", " ms"),
      f("parseMs", " ms"), f("memBytes", " B")].join(", "));
    const sizes = a.docSize === b.docSize && a.updateBytes === b.updateBytes &&
                  a.updatesHash === b.updatesHash;
    console.log(`  docSize ${a.docSize} vs ${b.docSize}, updateBytes ${a.updateBytes} vs ` +
      `${b.updateBytes}; doc bytes identical: ${same}; updates identical: ${sizes ? "yes" : "NO"}; ` +
      `ok: ${a.ok} / ${b.ok}`);
    process.exit(same === "yes" && sizes && a.ok && b.ok ? 0 : 1);
  ' "$ours" "$theirs" "$same" || status=1
done
exit "$status"
