# Sourced by the interop test scripts: moves to the repository root and
# checks what every script needs, exiting with status 2 and a message when
# something is missing.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/test_prelude.sh" NAME
#   bin="$(require_tool "${AUXSYNC:-build/auxsync/cli/auxsync}" auxsync)"

prelude_name="$1"
cd "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if ! command -v node >/dev/null 2>&1; then
  echo "${prelude_name}: node (>= 20) is required" >&2
  exit 2
fi

# require_tool PATH TARGET: prints PATH when it is an executable, else
# explains how to build it (CMake target TARGET) and exits 2.
require_tool() {
  if [[ ! -x "$1" ]]; then
    echo "${prelude_name}: not found or not executable: $1" >&2
    echo "  build it first, e.g.: cmake --build build --target $2" >&2
    exit 2
  fi
  printf '%s\n' "$1"
}
