#!/usr/bin/env bash
# The inst server load benchmark (issue 6 item 7): `auxsync serve` against
# the Node reference server (the real aux-records 3.10.5
# WebsocketController behind `ws`, interop/node_server) in the same run,
# with the same C++ load client (build/bench/inst_load_bench).
#
#   bench/inst_load_bench.sh [--quick] [--sqlite] [--idle-only] [--servers "ours node"]
#                            [--out FILE.json]
#
# For each server, each on a fresh process:
#   idle     N idle sockets (login + watch, insts of 10): server RSS per
#            socket (VmRSS after - before) / N; idle-casualos: the same
#            with a CasualOS tab's three watches (default, its temporary
#            player branch, the devices)
#   spread   K clients in insts of 10, 1 update/s each; K grows until
#            p99 fan-out >= 50 ms or anything is lost or refused (twice
#            in a row at the same K)
#   one-inst K clients all on one inst, 1 update/s each (fan-out K-1 per
#            update, so the load grows with K^2); same stop rule
# then prints the table (ours, Node, ratio) and writes everything as JSON
# (default: build/inst_load.json). --sqlite adds `auxsync serve
# --store sqlite --sqlite-sync normal`. --quick: small steps, under a
# minute, for smoke checks. --idle-only: the two idle steps only (~1 min);
# --no-idle: without them. SPREAD_STEPS / ONE_STEPS="K ..." replace the
# lists of K (e.g. SPREAD_STEPS=3200 ONE_STEPS= for one CPU-per-frame step).
# See docs/performance.md "Inst server load".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source interop/lib/server_url.sh

quick=0
sqlite=0
idle_only=0
no_idle=0
servers_arg=""
out="build/inst_load.json"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --sqlite) sqlite=1 ;;
    --idle-only) idle_only=1 ;;
    --no-idle) no_idle=1 ;;
    --servers) servers_arg="$2"; shift ;;
    --out) out="$2"; shift ;;
    *) echo "usage: $0 [--quick] [--sqlite] [--idle-only|--no-idle] [--servers LIST] [--out FILE.json]" >&2
       exit 2 ;;
  esac
  shift
done

readonly AUXSYNC="${AUXSYNC:-build/auxsync/cli/auxsync}"
readonly CLIENT="${CLIENT:-build/bench/inst_load_bench}"
for bin in "$AUXSYNC" "$CLIENT"; do
  [[ -x "$bin" ]] || { echo "inst_load_bench: build $bin first" >&2; exit 2; }
done
# Thousands of sockets on each side.
ulimit -n "$(ulimit -Hn)"

if [[ $quick == 1 ]]; then
  idle_n=300; settle=1
  timing=(--warmup 0.5 --duration 2 --drain 1)
  spread_steps=(100 400)
  one_steps=(20 60)
else
  idle_n=${IDLE_N:-16000}; settle=3
  timing=(--warmup 2 --duration 10 --drain 3)
  spread_steps=(100 400 800 1200 1600 2000 2400 3200 4000 4800 5600 6400 8000 9600 12800 16000)
  one_steps=(25 50 100 150 200 300 400 600 800)
fi
# shellcheck disable=SC2206
[[ -v SPREAD_STEPS ]] && spread_steps=($SPREAD_STEPS)
# shellcheck disable=SC2206
[[ -v ONE_STEPS ]] && one_steps=($ONE_STEPS)

tmp="$(mktemp -d)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# start SERVER: starts a fresh server, sets $pid and $port.
start() {
  local log="$tmp/server.out"
  : >"$log"
  case "$1" in
    ours) "$AUXSYNC" serve --port 0 --store memory --quiet >"$log" 2>>"$tmp/server.err" & ;;
    ours-sqlite)
      rm -rf "$tmp/data"
      "$AUXSYNC" serve --port 0 --store sqlite --sqlite-sync normal \
        --data-dir "$tmp/data" --quiet >"$log" 2>>"$tmp/server.err" & ;;
    node) node interop/node_server/server.mjs --port 0 >"$log" 2>>"$tmp/server.err" & ;;
  esac
  pid=$!
  local url
  wait_for_server_url "$log" "$tmp/server.err" 400
  port="${url##*:}"; port="${port%%/*}"
}

stop() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

results="$tmp/results.jsonl"
: >"$results"

# run SERVER ARGS...: one client run against a fresh server; its JSON line
# (with the server name) goes to $results and to stdout.
run() {
  local server="$1"; shift
  start "$server"
  local line
  if ! line=$(timeout 600 "$CLIENT" --port "$port" --server-pid "$pid" \
    --label "$server" "$@"); then
    line="{\"label\":\"$server\",\"failed\":true}"
  fi
  stop
  echo "$line" >>"$results"
  echo "$line"
}

# held LINE: whether a load step kept p99 < 50 ms with nothing lost,
# refused or closed.
held() {
  node -e '
    const r = JSON.parse(process.argv[1]);
    const ok = !r.failed && r.ready === r.clients && r.lost === 0 &&
      r.errorFrames === 0 && r.closedDuringRun === 0 && r.ackErrors === 0 &&
      r.fanoutP99Ms < 50;
    process.exit(ok ? 0 : 1);
  ' "$1"
}

# step SERVER SCENARIO PER_INST STEPS...: K up until a step fails twice
# (the machine is shared: one retry keeps a burst of someone else's work
# from ending the ladder).
step() {
  local server="$1" scenario="$2" per_inst="$3"; shift 3
  local k line attempt ok
  for k in "$@"; do
    ok=0
    for attempt in 1 2; do
      line=$(run "$server" --scenario "$scenario" --clients "$k" \
        --per-inst "$per_inst" --rate 1 "${timing[@]}" \
        --run-id "$scenario$k-$attempt")
      if held "$line"; then ok=1; break; fi
    done
    [[ $ok == 1 ]] || break
  done
}

servers=(ours node)
[[ $sqlite == 1 ]] && servers=(ours ours-sqlite node)
# shellcheck disable=SC2206
[[ -n "$servers_arg" ]] && servers=($servers_arg)

load="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(date -u +%FT%TZ), load average before: $load"
node interop/node_server/build.mjs >/dev/null 2>&1 || true
for server in "${servers[@]}"; do
  echo "== $server"
  if [[ $no_idle == 0 ]]; then
    run "$server" --scenario idle --idle --clients "$idle_n" --per-inst 10 \
      --settle "$settle" --run-id idle
    run "$server" --scenario idle-casualos --idle --casualos-session \
      --clients "$idle_n" --per-inst 10 --settle "$settle" --run-id idlec
  fi
  [[ $idle_only == 1 ]] && continue
  step "$server" spread 10 "${spread_steps[@]}"
  step "$server" one-inst 0 "${one_steps[@]}"
done
mkdir -p "$(dirname "$out")"
node bench/js/inst_load_report.mjs "$results" "$out" \
  "load average before: $load, after: $(cut -d' ' -f1-3 /proc/loadavg)"
