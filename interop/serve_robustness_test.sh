#!/usr/bin/env bash
# Robustness of `auxsync serve` (issue 6 item 8), with raw sockets
# (interop/serve/robustness_test.mjs); about a minute:
#   garbage   fixed bad frames answered like the real server's dispatch,
#             seeded random frames, invalid UTF-8: the server answers or
#             ignores, never dies, other sockets keep syncing;
#   oversize  frames above --max-frame-bytes close only their socket;
#   flood     one address floods: rate_limit_exceeded, another address is
#             served throughout;
#   churn     22,000 connects/disconnects: VmRSS and fds back to the
#             post-warm-up baseline, no socket left counted;
#   slow      a watcher that stops reading does not hold up the others;
#   kill -9   during a write burst (SQLite, --sqlite-sync full and normal):
#             every acknowledged update is there after the restart.
# Prints `figure: name=value` lines. Needs build/auxsync/cli/auxsync, node
# >= 20, Linux (/proc, 127.0.0.2 on loopback).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/test_prelude.sh" serve_robustness_test
source interop/lib/server_url.sh
readonly AUXSYNC="$(require_tool "${AUXSYNC:-build/auxsync/cli/auxsync}" auxsync)"
readonly TEST="interop/serve/robustness_test.mjs"

tmp="$(mktemp -d)"
pid=""
cleanup() {
  [[ -n "${pid}" ]] && kill "${pid}" 2>/dev/null || true
  rm -rf "${tmp}"
}
trap cleanup EXIT

# start_server ARGS...: starts `auxsync serve --port 0 ARGS`, sets $url, $pid.
starts=0
start_server() {
  starts=$((starts + 1))
  local out="${tmp}/url.${starts}"
  : >"${out}"
  "${AUXSYNC}" serve --port 0 --quiet "$@" >"${out}" 2>>"${tmp}/log" &
  pid=$!
  wait_for_server_url "${out}" "${tmp}/log"
}
# stop_server: SIGTERM; the server must still be alive and exit 0.
stop_server() {
  kill -0 "${pid}" || { echo "serve_robustness_test: the server died" >&2; exit 1; }
  kill -TERM "${pid}"
  wait "${pid}"
  pid=""
}
run() { timeout 120 node "${TEST}" --url "${url}" "$@"; }

echo "== garbage frames"
start_server --store memory --max-frame-bytes 1000000
run --phase garbage --frames 3000 --seed 7
stop_server

echo "== oversized frames"
start_server --store memory --max-frame-bytes 100000
run --phase oversize --max-frame-bytes 100000
stop_server

echo "== flood from one address"
start_server --store memory --rate-limit 300 --rate-window-ms 5000
run --phase flood --rate-limit 300
stop_server

echo "== connect/disconnect churn"
start_server --store memory
run --phase churn --pid "${pid}" --warmup 2000 --cycles 20000
stop_server

echo "== a watcher that stops reading"
start_server --store memory --compact-after 0
run --phase slow --pid "${pid}"
stop_server

for sync in full normal; do
  echo "== kill -9 during a write burst (--sqlite-sync ${sync})"
  data="${tmp}/data-${sync}"
  start_server --store sqlite --data-dir "${data}" --sqlite-sync "${sync}"
  run --phase burst --pid "${pid}" --acked "${tmp}/acked-${sync}.json" \
    --kill-after-ms 1500
  wait "${pid}" 2>/dev/null || true
  pid=""
  start_server --store sqlite --data-dir "${data}" --sqlite-sync "${sync}"
  run --phase verify --acked "${tmp}/acked-${sync}.json"
  stop_server
done
echo "serve_robustness_test: ok"
