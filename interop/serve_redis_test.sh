#!/usr/bin/env bash
# `auxsync serve --store redis`: two server processes on one redis-server
# (spec 9.1). Starts its own redis-server (from PATH) on a unix socket in a
# temporary directory, then
#   * interop/serve/serve_redis_test.mjs on raw sockets: node 2 serves node
#     1's updates in its initial snapshot and the other way round, the same
#     history on both, temporary branches across a kill -9 and restart;
#   * the real aux-common client stack (interop/serve/serve_client_test.mjs):
#     the whole scenario on one Redis-backed node; then the same scenario
#     with its clients spread over node 1 and node 2 (live fan-out: edits
#     converge without a re-watch, players see each other join and leave, a
#     whisper from node 1 reaches its target on node 2, a shout everyone,
#     temporary branches live while watched on either node); then a bot
#     written through node 1 is in the state a fresh client of node 2 loads;
#   * Redis restarts (append-only file) under the running nodes: both
#     reconnect, the data is still there, new writes work, and the
#     cross-node scenario passes again;
#   * node 2 is killed with SIGKILL (interop/serve/serve_nodes_test.mjs):
#     a player on node 1 sees node 2's client leave once node 2's
#     heartbeat (--redis-node-ttl 3) expired, and its bot is kept.
# Needs build/auxsync/cli/auxsync (AUXSYNC=path overrides), redis-server and
# node >= 20.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/test_prelude.sh" serve_redis_test
source interop/lib/server_url.sh
bin="$(require_tool "${AUXSYNC:-build/auxsync/cli/auxsync}" auxsync)"
if ! command -v redis-server >/dev/null 2>&1; then
  echo "serve_redis_test: redis-server is required (scripts/setup.sh installs it)" >&2
  exit 2
fi

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "${p}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "${tmp}"
}
trap cleanup EXIT

# start_redis: a redis-server that fsyncs every write to its append-only
# file (the equivalent of --sqlite-sync full); sets $redis_pid.
start_redis() {
  rm -f "${tmp}/redis.sock"
  redis-server --port 0 --unixsocket "${tmp}/redis.sock" --unixsocketperm 700 \
    --dir "${tmp}" --save "" --appendonly yes --appendfsync always \
    --logfile "${tmp}/redis.log" &
  redis_pid=$!
  pids+=("${redis_pid}")
  for _ in $(seq 200); do
    [[ -S "${tmp}/redis.sock" ]] && break
    sleep 0.05
  done
}
start_redis
redis_url="unix://${tmp}/redis.sock"

echo "== two nodes on raw sockets"
timeout 120 node interop/serve/serve_redis_test.mjs --auxsync "${bin}" \
  --redis-url "${redis_url}"

# start_node ID: starts `auxsync serve --store redis` as node ID; sets $url.
start_node() {
  local out="${tmp}/url.$1"
  : >"${out}"
  "${bin}" serve --port 0 --quiet --store redis --redis-url "${redis_url}" \
    --redis-node-id "$1" --redis-node-ttl 3 >"${out}" 2>>"${tmp}/log" &
  node_pid=$!
  pids+=("${node_pid}")
  wait_for_server_url "${out}" "${tmp}/log"
}

run() { timeout 120 node interop/serve/serve_client_test.mjs "$@"; }

echo "== the real client stack on a Redis-backed node"
start_node node1
url1="${url}"
run --url "${url1}" --phase all
start_node node2
url2="${url}"
node2_pid="${node_pid}"
echo "== the real client stack across node 1 and node 2 (live fan-out)"
run --url "${url1}" --url2 "${url2}" --phase all
echo "== written through node 1, loaded through node 2"
inst="redis-persist-$$"
run --url "${url1}" --phase write --inst "${inst}"
run --url "${url2}" --phase verify --inst "${inst}"
echo "== Redis restarts under the running nodes"
kill -TERM "${redis_pid}"
wait "${redis_pid}" 2>/dev/null || true
start_redis
run --url "${url2}" --phase verify --inst "${inst}"
echo "== live fan-out after the nodes' buses reconnected"
run --url "${url2}" --url2 "${url1}" --phase all
inst2="redis-after-restart-$$"
run --url "${url2}" --phase write --inst "${inst2}"
run --url "${url1}" --phase verify --inst "${inst2}"
echo "== node 2 killed (-9): players on node 1 see its client leave"
timeout 60 node interop/serve/serve_nodes_test.mjs --url "${url1}" \
  --url2 "${url2}" --kill-pid "${node2_pid}"
echo "serve_redis_test: ok"
