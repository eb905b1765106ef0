#!/usr/bin/env bash
# The Node reference server (interop/node_server/) with the real aux-common
# client stack: two clients exchange a bot, a late joiner gets it, presence
# works. Builds the bundle when needed; needs node >= 20.
set -euo pipefail
cd "$(dirname "$0")"
exec timeout 120 node node_server/smoke_test.mjs
