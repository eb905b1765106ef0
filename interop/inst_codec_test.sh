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
source "$(dirname "${BASH_SOURCE[0]}")/lib/test_prelude.sh" inst_codec_test

tool="$(require_tool "${INST_CODEC_TOOL:-build/auxsync/inst/inst_codec_tool}" inst_codec_tool)"
node interop/node_server/build.mjs
capture="$(mktemp)"
trap 'rm -f "$capture"' EXIT
timeout 120 node interop/node_server/smoke_test.mjs --capture "$capture" >/dev/null
node interop/inst_codec_diff.mjs --tool "$tool" --seeds 500 --captured "$capture" "$@"
