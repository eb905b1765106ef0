#!/usr/bin/env bash
# Runs every test: sets up and builds (scripts/setup.sh), runs ctest in
# build/ and build-asan/, then each interop/*_test.sh in sorted order.
# Exits non-zero if anything failed. The last line of output is always
# "N passed, N failed": ctest's test counts plus one per interop script
# (a failed set-up, or a ctest run that failed without running tests,
# counts as one failure).
#
# Environment:
#   CTEST_TIMEOUT        per-test timeout in seconds (default 900)
#   INTEROP_TIMEOUT      per-script timeout in seconds (default 1800)
#   AUXSYNC_BUILD_LOCK   see scripts/setup.sh

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

readonly LOCK="${AUXSYNC_BUILD_LOCK:-/tmp/auxsync-build.lock}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

passed=0
failed=0

# Each line carries the time since the script started ([m:ss]), so that a
# slow CI run shows where its time went.
log() {
  printf 'test: [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"
}

output="$(mktemp)"
trap 'rm -f "${output}"' EXIT

if ! bash scripts/setup.sh; then
  log "setup FAILED (see above); running what was built"
  failed=$((failed + 1))
fi

# run_ctest DIR: runs DIR's tests and adds its counts to the totals.
run_ctest() {
  local dir="$1"
  if [[ ! -f "${dir}/CTestTestfile.cmake" ]]; then
    log "${dir}/ is not configured: no tests to run"
    failed=$((failed + 1))
    return
  fi
  log "ctest ${dir}/ ..."
  flock "${LOCK}" ctest --test-dir "${dir}" --output-on-failure -j2 \
    --no-tests=error --timeout "${CTEST_TIMEOUT:-900}" 2>&1 |
    tee "${output}"
  local rc="${PIPESTATUS[0]}"
  # "100% tests passed, 0 tests failed out of 41" / "X tests failed out of Y"
  local summary
  summary="$(grep -Eo '[0-9]+ tests? failed out of [0-9]+' "${output}" |
    tail -n 1)"
  if [[ -n "${summary}" ]]; then
    local bad total
    bad="$(awk '{print $1}' <<<"${summary}")"
    total="$(awk '{print $NF}' <<<"${summary}")"
    passed=$((passed + total - bad))
    failed=$((failed + bad))
    if (( rc != 0 && bad == 0 )); then
      log "ctest ${dir}/ exited ${rc} with no failed test; counting 1 failure"
      failed=$((failed + 1))
    fi
  elif (( rc != 0 )); then
    log "ctest ${dir}/ exited ${rc} without a summary; counting 1 failure"
    failed=$((failed + 1))
  fi
}

run_ctest build
run_ctest build-asan

# Formatting is part of the build's contract (.clang-format): one check.
log "clang-format ..."
mapfile -t sources < <(git ls-files '*.cc' '*.h' 2>/dev/null)
if (( ${#sources[@]} == 0 )) ||
  clang-format --dry-run --Werror "${sources[@]}"; then
  log "clang-format passed"
  passed=$((passed + 1))
else
  log "clang-format FAILED: run clang-format -i on the files above"
  failed=$((failed + 1))
fi

shopt -s nullglob
mapfile -t interop_scripts < <(
  for script in interop/*_test.sh; do echo "${script}"; done | LC_ALL=C sort)
for script in "${interop_scripts[@]}"; do
  log "${script} ..."
  if timeout --kill-after=30 "${INTEROP_TIMEOUT:-1800}" bash "${script}"; then
    log "${script} passed"
    passed=$((passed + 1))
  else
    log "${script} FAILED"
    failed=$((failed + 1))
  fi
done

echo "${passed} passed, ${failed} failed"
(( failed == 0 ))
