#!/usr/bin/env bash
# .aux files against the real @casual-simulation/aux-common 3.10.5: 200
# seeded random aux files shown and converted both ways by `auxsync aux`;
# our version-2 output must load in aux-common to the same state as its own
# conversion, and aux-common's version-2 files must show and convert to the
# state aux-common reads from them (see aux_file_diff.mjs).
#
#   interop/aux_file_test.sh [extra aux_file_diff.mjs args]
#
# Uses build/auxsync/cli/auxsync (override with AUXSYNC=path).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/test_prelude.sh" aux_file_test

bin="$(require_tool "${AUXSYNC:-build/auxsync/cli/auxsync}" auxsync)"
exec node interop/aux_file_diff.mjs --auxsync "$bin" --seeds 200 "$@"
