#!/usr/bin/env bash
# Differential test of auxsync's inst-protocol codec (auxsync/inst/) against
# the real CasualOS code: 500 seeds of client frames judged by the real zod
# schemas of aux-common 3.10.5 (verdict, error reply, byte-exact
# re-encoding, our encoding re-validated), and every frame of a random
# session against the real aux-records 3.10.5 WebsocketController decoded
# and re-encoded byte for byte, and so is every frame of a live session of
# the real aux-common client stack with the Node reference server
# (node_server/smoke_test.mjs --capture). See inst_codec_diff.mjs.
#
#   interop/inst_codec_test.sh [extra inst_codec_diff.mjs args]
#
# Uses build/auxsync/inst/inst_codec_tool (override with INST_CODEC_TOOL=path).
# Exits non-zero on any mismatch, and with status 2 when the tool is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

tool="${INST_CODEC_TOOL:-build/auxsync/inst/inst_codec_tool}"
if [[ ! -x "$tool" ]]; then
  echo "inst_codec_test: tool not found or not executable: $tool" >&2
  echo "  build it first, e.g.: cmake --build build --target inst_codec_tool" >&2
  exit 2
fi
if ! command -v node >/dev/null 2>&1; then
  echo "inst_codec_test: node (>= 20) is required" >&2
  exit 2
fi

node interop/node_server/build.mjs
capture="$(mktemp)"
trap 'rm -f "$capture"' EXIT
timeout 120 node interop/node_server/smoke_test.mjs --capture "$capture" >/dev/null
node interop/inst_codec_diff.mjs --tool "$tool" --seeds 500 --captured "$capture" "$@"
