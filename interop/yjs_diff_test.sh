#!/usr/bin/env bash
# Differential test of auxsync's CRDT engine against the real yjs 13.6.27:
# 2,000 seeded random scenarios (yjs_gen.mjs) replayed by the C++ tool
# build/auxsync/crdt/crdt_replay, every emitted update (v1 and v2), every
# exchange result and the final state compared byte for byte (yjs_diff.mjs),
# after 60 scenarios of many clients at one place (yjs_crowd_diff.mjs) and
# 40 seeds of the `auxsync doc` command line (yjs_doc_cli_diff.mjs) and the
# check of the one documented encoding divergence the comparison accepts
# (yjs_known_divergence_test.mjs).
#
#   interop/yjs_diff_test.sh [extra yjs_diff.mjs args, e.g. --seeds 20000 --start 2000]
#
# Override the tools with CRDT_REPLAY=path and AUXSYNC=path. First checks
# the node side: the JS runner must reproduce every golden vector in
# ../shared/vectors/yjs and the generator must be deterministic. Exits
# non-zero on any mismatch.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/test_prelude.sh" yjs_diff_test

node interop/build.mjs   # installs the pinned node packages when missing (npm ci)

vectors="${AUXSYNC_YJS_VECTORS_DIR:-../shared/vectors/yjs}"
if [[ -d "$vectors" ]]; then
  node interop/yjs_gen.mjs --check "$vectors"
fi
node interop/yjs_gen.mjs --selfcheck --seeds 20 --start 100000

# Long conflict scans (many clients inserting at one place), which the
# 2-5 docs of yjs_gen.mjs never make.
cli="$(require_tool "${AUXSYNC:-build/auxsync/cli/auxsync}" auxsync)"
node interop/yjs_crowd_diff.mjs --auxsync "$cli"
node interop/yjs_doc_cli_diff.mjs --auxsync "$cli"

bin="$(require_tool "${CRDT_REPLAY:-build/auxsync/crdt/crdt_replay}" crdt_replay)"
# What the comparison lets through as the documented divergence, and no more.
node interop/yjs_known_divergence_test.mjs --auxsync-replay "$bin"
exec node interop/yjs_diff.mjs --auxsync-replay "$bin" --seeds 2000 "$@"
