#!/usr/bin/env bash
# The client interop matrix of issue 7: our native clients (`auxsync bench
# client`, `auxsync apply` scenarios with remote configs, `auxsync watch`)
# and real aux-common 3.10.5 clients in the same inst, against `auxsync
# serve` (SQLite store in a temporary --data-dir) and against the Node
# reference server (interop/node_server: the real aux-records
# WebsocketController). Cases (interop/client/mixed_clients_test.mjs):
# (a) mixed concurrent writers converge, (b) presence both ways, (c) remote
# actions both ways, (d) a C++ client forced offline edits and converges,
# (k, auxsync serve only) the server is killed -9 under a C++ client that
# edits while it is down and restarted on the same port and data: the edits
# arrive, (f) the same remote_yjs scenario in `auxsync apply` and in a real
# RemoteYjsPartitionImpl recording as docs/scenarios.md says gives the same
# output, (g) an `auxsync apply` other_players_repo scenario and a real
# OtherPlayersPartitionImpl watching together while a JS player joins,
# edits its player branch and leaves record the same output, (e) anonymous / forged / expired tokens end in auth requests, not a hang
# (expired only on auxsync serve, whose store `auxsync token create` writes).
# Prints one `MATRIX <server> (<case>) ...: ok|FAIL` line per case and server.
#
# Environment: AUXSYNC (the binary), CLIENT_INTEROP_SERVERS (default
# "auxsync node"), CLIENT_INTEROP_CASES (default a,b,c,d,k,f,g,e),
# CLIENT_INTEROP_DURATION / CLIENT_INTEROP_RATE (case a workload, default 2 s
# at 30 ops/s per writer), KEEP_TMP=1 (keep logs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/test_prelude.sh" client_interop_test
source interop/lib/server_url.sh
bin="$(require_tool "${AUXSYNC:-build/auxsync/cli/auxsync}" auxsync)"
[[ -d interop/node_modules ]] || (cd interop && npm ci --silent)

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "${server_pid}" ]] && kill "${server_pid}" 2>/dev/null || true
  [[ -n "${KEEP_TMP:-}" ]] && echo "kept ${tmp}" >&2 || rm -rf "${tmp}"
}
trap cleanup EXIT

status=0
for server in ${CLIENT_INTEROP_SERVERS:-auxsync node}; do
  dir="${tmp}/${server}"
  mkdir -p "${dir}"
  extra=()
  case "${server}" in
    auxsync)
      "${bin}" serve --port 0 --quiet --data-dir "${dir}/data" \
        >"${dir}/url" 2>"${dir}/log" &
      ;;
    node)
      node interop/node_server/server.mjs --port 0 >"${dir}/url" \
        2>"${dir}/log" &
      ;;
    *) echo "client_interop_test: unknown server ${server}" >&2; exit 2 ;;
  esac
  server_pid=$!
  # Out of the job table: case k kills this server, and bash would report it.
  disown "${server_pid}"
  # Case k kills this server and starts its successor (which it stops).
  if [[ "${server}" == auxsync ]]; then
    extra=(--data-dir "${dir}/data" --server-pid "${server_pid}")
  fi
  wait_for_server_url "${dir}/url" "${dir}/log" 300
  echo "== ${server}: ${url}"
  node interop/client/mixed_clients_test.mjs --url "${url}" --auxsync "${bin}" \
    --server "${server}" --only "${CLIENT_INTEROP_CASES:-a,b,c,d,k,f,g,e}" \
    --duration "${CLIENT_INTEROP_DURATION:-2}" \
    --rate "${CLIENT_INTEROP_RATE:-30}" "${extra[@]}" || status=1
  kill "${server_pid}" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "${server_pid}" 2>/dev/null || break
    sleep 0.05
  done
  server_pid=""
done
if ((status == 0)); then
  echo "client_interop_test: ok"
else
  echo "client_interop_test: FAILED" >&2
fi
exit "${status}"
