#!/usr/bin/env bash
# Differential test of auxsync's YjsPartition against the real
# @casual-simulation/aux-common 3.10.5 YjsPartition: 500 seeded random
# scenarios with pinned client ids, every emission, state, final state and
# document bytes compared (--tagged), plus the cross-load of both sides'
# final updates. Then documents another peer shaped, through both
# partitions (yjs_partition_hostile_diff.mjs): the remote updates of
# fuzz/yjs_partition_corpus.txt (inputs of the fuzz target
# fuzz_yjs_partition) and of the seeds fuzz/make_partition_corpus.mjs writes.
# First, the check that the diff's mask of random client ids hides those
# and nothing more (partition_diff_mask_test.mjs).
#
#   interop/yjs_partition_test.sh [extra yjs_partition_diff.mjs args]
#
# Uses build/auxsync/cli/auxsync (relative to the repo root; override with
# AUXSYNC=path). Builds the aux-common bundle when missing or stale. Exits
# non-zero on any mismatch, and with status 2 when the binary is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/test_prelude.sh" yjs_partition_test

bin="$(require_tool "${AUXSYNC:-build/auxsync/cli/auxsync}" auxsync)"
node interop/build.mjs
node interop/partition_diff_mask_test.mjs
node interop/yjs_partition_diff.mjs --auxsync "$bin" --seeds 500 "$@"
seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
node fuzz/make_partition_corpus.mjs "$seeds" >/dev/null
for corpus in "$seeds/partition" fuzz/yjs_partition_corpus.txt; do
  node interop/yjs_partition_hostile_diff.mjs --auxsync "$bin" --corpus "$corpus"
done
