#!/usr/bin/env bash
# `auxsync serve` with the real aux-common client stack
# (interop/serve/serve_client_test.mjs): the whole scenario with
# --store memory and with --store sqlite, then a sqlite restart (data
# written before it is there after it); and on raw sockets
# (interop/serve/serve_wire_test.mjs): endpoint, subprotocol, bad frames,
# frame size limit; interop/serve/serve_records_test.mjs: record insts
# with tokens from `auxsync token create`, and the inst size limit; and
# interop/serve/serve_diff_test.mjs: scripted
# sessions against the real WebsocketController (../node_server) and
# against auxsync serve give the same frames (SERVE_DIFF_SEEDS, default 8). Needs build/auxsync/cli/auxsync and
# node >= 20.
set -euo pipefail
cd "$(dirname "$0")"
source lib/server_url.sh
readonly AUXSYNC="${AUXSYNC:-../build/auxsync/cli/auxsync}"
[[ -x "${AUXSYNC}" ]] || { echo "serve_test: build ${AUXSYNC} first" >&2; exit 2; }

tmp="$(mktemp -d)"
pid=""
redis_pid=""
cleanup() {
  [[ -n "${pid}" ]] && kill "${pid}" 2>/dev/null || true
  [[ -n "${redis_pid}" ]] && kill "${redis_pid}" 2>/dev/null || true
  rm -rf "${tmp}"
}
trap cleanup EXIT

# start_server ARGS...: starts `auxsync serve --port 0 ARGS` and sets $url.
starts=0
start_server() {
  starts=$((starts + 1))
  local out="${tmp}/url.${starts}"
  : >"${out}"
  "${AUXSYNC}" serve --port 0 --quiet "$@" >"${out}" 2>>"${tmp}/log" &
  pid=$!
  wait_for_server_url "${out}" "${tmp}/log"
}

# stop_server: SIGTERM, and the server must exit 0.
stop_server() {
  kill -TERM "${pid}"
  wait "${pid}"
  pid=""
}

run() { timeout 120 node serve/serve_client_test.mjs --url "${url}" "$@"; }

echo "== --store memory"
start_server --store memory
run --phase all
stop_server

echo "== differential: the same sessions against the Node reference server"
start_server --store memory
timeout 200 node serve/serve_diff_test.mjs --url "${url}" --seeds "${SERVE_DIFF_SEEDS:-8}"
stop_server

echo "== the wire (raw sockets)"
start_server --store memory --max-frame-bytes 100000
timeout 60 node serve/serve_wire_test.mjs --url "${url}" --max-frame-bytes 100000
stop_server

echo "== records: private record insts, auxsync token create, --max-inst-bytes"
# serve/serve_records_test.mjs: anonymous, forged and ungranted clients are
# refused (auth requests, not hangs); CLI tokens open the inst; a write past
# the size limit makes the partition shout onSpaceMaxSizeReached.
start_server --store sqlite --data-dir "${tmp}/records" --max-inst-bytes 4000
timeout 120 node serve/serve_records_test.mjs --url "${url}" \
  --auxsync "${AUXSYNC}" --data-dir "${tmp}/records" --max-inst-bytes 4000
stop_server
if command -v redis-server >/dev/null 2>&1; then
  echo "-- the same with --store redis (a private redis-server)"
  redis-server --port 0 --unixsocket "${tmp}/redis.sock" --save "" \
    --appendonly no >"${tmp}/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do [[ -S "${tmp}/redis.sock" ]] && break; sleep 0.05; done
  start_server --store redis --redis-url "unix://${tmp}/redis.sock" \
    --max-inst-bytes 4000
  timeout 120 node serve/serve_records_test.mjs --url "${url}" \
    --auxsync "${AUXSYNC}" --redis-url "unix://${tmp}/redis.sock" \
    --max-inst-bytes 4000
  stop_server
  kill "${redis_pid}"
  wait "${redis_pid}" 2>/dev/null || true
  redis_pid=""
else
  echo "-- no redis-server: the --store redis run is skipped"
fi

echo "== --store sqlite"
# --compact-after 2: the late joiner and the restarted server read merged
# snapshots.
start_server --store sqlite --data-dir "${tmp}/data" --compact-after 2
run --phase all
inst="persist-$$"
run --phase write --inst "${inst}"
stop_server
echo "-- restarted"
start_server --store sqlite --data-dir "${tmp}/data"
run --phase verify --inst "${inst}"
stop_server
grep "stopped:" "${tmp}/log" || true
echo "serve_test: ok"
