#!/usr/bin/env bash
# Differential test of auxsync's MemoryPartition against the real
# @casual-simulation/aux-common 3.10.5 MemoryPartition: 500 seeded random
# scenarios, outputs compared with --tagged (undefined, NaN, ±Infinity and -0
# must match too).
#
#   interop/memory_partition_test.sh [extra memory_partition_diff.mjs args]
#
# Uses build/auxsync/cli/auxsync (relative to the repo root; override with
# AUXSYNC=path). Installs the pinned node packages (npm ci) and builds the
# aux-common bundle when missing or stale. Exits non-zero on any mismatch, and
# with status 2 and a message when the binary is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/test_prelude.sh" memory_partition_test

bin="$(require_tool "${AUXSYNC:-build/auxsync/cli/auxsync}" auxsync)"
node interop/build.mjs
exec node interop/memory_partition_diff.mjs --auxsync "$bin" --seeds 500 --tagged "$@"
