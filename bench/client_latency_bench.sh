#!/usr/bin/env bash
# Client-to-client latency (issue 7 item 7): the time from a local
# applyEvents on one client to the change appearing on another, p50/p99,
# for native clients (`auxsync bench latency`) and for the real aux-common
# 3.10.5 clients (bench/js/client_latency_bench.mjs), each through
# `auxsync serve --store memory` and through the Node reference server
# (interop/node_server), all in one run. Prints the four results and the
# ratios (aux-common ÷ auxsync; above 1 means the native client is faster).
#
#   bench/client_latency_bench.sh [--n N]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source interop/lib/server_url.sh

n=2000
if [[ "${1:-}" == "--n" && -n "${2:-}" ]]; then n="$2"; fi
readonly AUXSYNC="${AUXSYNC:-build/auxsync/cli/auxsync}"
[[ -x "$AUXSYNC" ]] || { echo "client_latency_bench: build $AUXSYNC first" >&2; exit 2; }
node interop/node_server/build.mjs >/dev/null

tmp="$(mktemp -d)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# start ours|node: a fresh server on a free port; sets $pid and $url.
start() {
  local log="$tmp/server.out"
  : >"$log"
  case "$1" in
    ours) "$AUXSYNC" serve --port 0 --store memory --quiet >"$log" 2>>"$tmp/server.err" & ;;
    node) node interop/node_server/server.mjs --port 0 >"$log" 2>>"$tmp/server.err" & ;;
  esac
  pid=$!
  wait_for_server_url "$log" "$tmp/server.err" 400
}

stop() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

results="$tmp/results.jsonl"
for server in ours node; do
  start "$server"
  ours=$(timeout 300 "$AUXSYNC" bench latency --url "$url" --n "$n")
  theirs=$(timeout 300 node bench/js/client_latency_bench.mjs --url "$url" --n "$n")
  stop
  echo "{\"server\":\"$server\",\"client\":$ours}" | tee -a "$results"
  echo "{\"server\":\"$server\",\"client\":$theirs}" | tee -a "$results"
done

node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const get = (server, impl) => rows.find((r) => r.server === server && r.client.impl === impl).client;
  const name = { ours: "auxsync serve", node: "Node server (aux-records 3.10.5)" };
  console.log("\n| server | client | p50 ms | p99 ms | mean ms |");
  console.log("|---|---|---|---|---|");
  for (const server of ["ours", "node"]) {
    for (const impl of ["auxsync", "aux-common"]) {
      const c = get(server, impl);
      console.log(`| ${name[server]} | ${impl} | ${c.p50Ms} | ${c.p99Ms} | ${c.meanMs} |`);
    }
  }
  console.log("");
  for (const server of ["ours", "node"]) {
    const a = get(server, "auxsync"), b = get(server, "aux-common");
    console.log(`${name[server]}: aux-common ÷ auxsync client latency: p50 ${(b.p50Ms / a.p50Ms).toFixed(1)}x, p99 ${(b.p99Ms / a.p99Ms).toFixed(1)}x`);
  }
  const a = get("ours", "auxsync"), b = get("node", "aux-common");
  console.log(`all-native (auxsync client + auxsync serve) vs all-JS (aux-common + Node server): p50 ${(b.p50Ms / a.p50Ms).toFixed(1)}x, p99 ${(b.p99Ms / a.p99Ms).toFixed(1)}x`);
' "$results"
