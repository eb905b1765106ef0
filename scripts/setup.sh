#!/usr/bin/env bash
# Prepares a Debian bookworm machine to build and test auxsync, then builds.
# Idempotent and fast on a re-run: installs only missing apt packages, runs
# npm only when interop/'s manifests changed, configures a build tree only
# when it has no build.ninja, and lets ninja rebuild incrementally.
#
# Run as root (apt needs it; nothing else does). Builds:
#   build/       RelWithDebInfo (-g1), warnings as errors (everything)
#   build-asan/  Debug, ASan+UBSan, untrusted-input modules only, with clang
#                (build/ uses the system compiler, GCC on Debian: every
#                test run compiles the untrusted-input modules with both)
# Environment:
#   SETUP_SKIP_ASAN=1    skip build-asan/ (scripts/run.sh sets it)
#   SETUP_DEPS_ONLY=1    install packages only, build nothing
#                        (scripts/fuzz.sh sets it)
#   AUXSYNC_BUILD_LOCK   lock file serialising builds on a shared machine
#                        (default /tmp/auxsync-build.lock)
# Exits non-zero if an install or a build failed; a failed build/ does not
# stop build-asan/ from being attempted.

set -euo pipefail
cd "$(dirname "$0")/.."

readonly LOCK="${AUXSYNC_BUILD_LOCK:-/tmp/auxsync-build.lock}"

# Each line carries the time since the script started ([m:ss]), so that a
# slow CI run shows where its time went.
log() {
  printf 'setup: [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"
}

# Runs a build command while holding the machine-wide build lock.
locked() { flock "${LOCK}" "$@"; }

# True if dpkg has the package fully installed (not just its config files).
is_installed() {
  local status
  status="$(dpkg -s "$1" 2>/dev/null | sed -n 's/^Status: //p')"
  [[ "${status}" == "install ok installed" ]]
}

# ---------------------------------------------------------------- apt
packages=(
  build-essential cmake ninja-build ccache clang clang-format lld libclang-rt-14-dev
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  libcli11-dev libboost-dev libsqlite3-dev libsodium-dev libhiredis-dev libssl-dev
  redis-server git ca-certificates zlib1g-dev pkgconf procps
)

# Keep an existing node >= 18 (e.g. node 20 from NodeSource, which bundles
# npm); otherwise fall back to Debian's nodejs 18 and npm.
node_major=0
if command -v node >/dev/null 2>&1; then
  node_version="$(node --version 2>/dev/null || true)"
  node_major="${node_version#v}"
  node_major="${node_major%%.*}"
  [[ "${node_major}" =~ ^[0-9]+$ ]] || node_major=0
fi
if (( node_major >= 18 )); then
  command -v npm >/dev/null 2>&1 || packages+=(npm)
else
  packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
  is_installed "${package}" || missing+=("${package}")
done

if (( ${#missing[@]} > 0 )); then
  if (( EUID != 0 )); then
    log "missing packages: ${missing[*]}; run this script as root" >&2
    exit 1
  fi
  log "installing ${missing[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
log "apt ok (node $(node --version), npm $(npm --version))"

# ---------------------------------------------------------------- npm
if [[ -f interop/package.json ]]; then
  stale=0
  if [[ ! -d interop/node_modules ]] ||
     [[ interop/package.json -nt interop/node_modules ]] ||
     [[ -f interop/package-lock.json &&
        interop/package-lock.json -nt interop/node_modules ]]; then
    stale=1
  fi
  if (( stale )); then
    if [[ -f interop/package-lock.json ]]; then
      log "npm ci in interop/ ..."
      (cd interop && npm ci --no-audit --no-fund --no-progress)
    else
      log "npm install in interop/ ..."
      (cd interop && npm install --no-audit --no-fund --no-progress)
    fi
    # npm leaves the folder's mtime alone when nothing changed (and does not
    # create it when there are no dependencies); mark it fresh so the next
    # run skips npm.
    mkdir -p interop/node_modules
    touch interop/node_modules
  fi
  log "npm ok (interop/)"
fi

if [[ "${SETUP_DEPS_ONLY:-0}" == 1 ]]; then
  exit 0
fi

# ---------------------------------------------------------------- builds
# build_tree DIR CMAKE_ARGS...: configure DIR if it has no build.ninja, then
# build it incrementally.
build_tree() {
  local dir="$1"
  shift
  if [[ ! -f "${dir}/build.ninja" ]]; then
    log "configuring ${dir}/ ..."
    locked cmake -S . -B "${dir}" -G Ninja "$@" || return 1
  fi
  log "building ${dir}/ ..."
  locked cmake --build "${dir}" || return 1
  log "${dir}/ ok"
}

status=0
build_tree build \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAUXSYNC_WERROR=ON ||
  { log "build/ FAILED" >&2; status=1; }

if [[ "${SETUP_SKIP_ASAN:-0}" == 1 ]]; then
  log "skipping build-asan/ (SETUP_SKIP_ASAN=1)"
else
  # A tree configured with another compiler (before build-asan/ moved to
  # clang) is configured afresh: CMake cannot switch a tree's compiler.
  if [[ -f build-asan/CMakeCache.txt ]] &&
     ! grep -q '^CMAKE_CXX_COMPILER:.*clang++' build-asan/CMakeCache.txt; then
    log "build-asan/ was configured with another compiler: starting over"
    locked rm -rf build-asan
  fi
  build_tree build-asan \
    -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug \
    -DAUXSYNC_SANITIZE=ON \
    -DAUXSYNC_TESTS_ONLY_UNTRUSTED=ON \
    -DAUXSYNC_BUILD_BENCH=OFF ||
    { log "build-asan/ FAILED" >&2; status=1; }
fi

exit "${status}"
