#!/usr/bin/env bash
# The main job: sets up and builds build/ (scripts/setup.sh, without the
# sanitizer tree), then runs the auxsync CLI with the given arguments
# (default: `serve`, the inst server on ws://127.0.0.1:2999/websocket with
# its data in ./auxsync-data, until Ctrl-C). Set-up progress goes to
# stderr, so stdout carries only the CLI's output (for `serve`: its URL).
# Relative paths in the arguments are taken from the caller's working
# directory.

set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

SETUP_SKIP_ASAN=1 bash "${root}/scripts/setup.sh" 1>&2

if (( $# == 0 )); then
  set -- serve
fi
exec "${root}/build/auxsync/cli/auxsync" "$@"
