#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs one.
#   scripts/fuzz.sh TARGET [SECONDS] [extra libFuzzer flags...]
# TARGET: fuzz_update_v1, fuzz_update_v2, fuzz_update_sequence, fuzz_json,
# fuzz_inst_frame, fuzz_yjs_partition, fuzz_aux_file or fuzz_bot_actions.
# The update fuzzers start from a seed corpus made of every update in the
# golden vectors (../shared/vectors/yjs; the sequence fuzzer from each
# vector's updates in order and reversed), the partition and .aux fuzzers
# from documents built with the real yjs, the actions fuzzer from the
# MemoryPartition differential's scenarios (fuzz/make_partition_corpus.mjs),
# the frame fuzzer from the frames of the protocol spec and the inst tests;
# findings go to build-fuzz/artifacts/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

target="${1:?usage: scripts/fuzz.sh TARGET [SECONDS] [flags...]}"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : 1 ))
lock="${AUXSYNC_BUILD_LOCK:-/tmp/auxsync-build.lock}"

SETUP_DEPS_ONLY=1 bash scripts/setup.sh >&2
if [[ ! -f build-fuzz/build.ninja ]]; then
  CC=clang CXX=clang++ flock "$lock" cmake -S . -B build-fuzz -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUXSYNC_FUZZ=ON \
    -DAUXSYNC_TESTS_ONLY_UNTRUSTED=ON -DAUXSYNC_BUILD_BENCH=OFF \
    -DAUXSYNC_SANITIZE=ON >&2
fi
flock "$lock" cmake --build build-fuzz --target "$target" >&2

corpus="build-fuzz/corpus/$target"
extra_dir=""
mkdir -p "$corpus" build-fuzz/artifacts
case "$target" in
  fuzz_update_v1 | fuzz_update_v2 | fuzz_update_sequence)
    seeds="build-fuzz/seeds"
    [[ -d "$seeds/seq" ]] || node fuzz/make_corpus.mjs ../shared/vectors/yjs "$seeds" >&2
    seed_dir="$seeds/${target##*_}"
    [[ "$target" == fuzz_update_sequence ]] && seed_dir="$seeds/seq"
    ;;
  fuzz_yjs_partition | fuzz_aux_file | fuzz_bot_actions)
    [[ -d build-fuzz/seeds/actions ]] ||
      node fuzz/make_partition_corpus.mjs build-fuzz/seeds >&2
    seed_dir="build-fuzz/seeds/partition"
    [[ "$target" == fuzz_aux_file ]] && seed_dir="build-fuzz/seeds/aux"
    [[ "$target" == fuzz_bot_actions ]] && seed_dir="build-fuzz/seeds/actions"
    # The partition fuzzer also starts from the kept corpus (one base64
    # input per line).
    if [[ "$target" == fuzz_yjs_partition ]]; then
      extra_dir="build-fuzz/seeds/partition-kept"
      mkdir -p "$extra_dir"
      n=0
      while IFS= read -r line; do
        [[ -z "$line" || "$line" == \#* ]] && continue
        n=$((n + 1))
        printf '%s' "$line" | base64 -d > "$extra_dir/kept$n"
      done < fuzz/yjs_partition_corpus.txt
    fi
    ;;
  fuzz_inst_frame)
    # The frames quoted in the protocol spec and in the inst tests.
    seed_dir="build-fuzz/seeds/inst"
    if [[ ! -d "$seed_dir" ]]; then
      mkdir -p "$seed_dir"
      { grep -ho '\[[1-5],.*\]' ../shared/spec/inst-protocol.md || true
        grep -ho 'R"(\[[1-5],.*)"' auxsync/inst/*_test.cc |
          sed -e 's/^R"(//' -e 's/)"$//' || true
      } | awk -v dir="$seed_dir" '{ print > (dir "/frame" NR) }'
    fi
    ;;
  *) seed_dir="" ;;
esac

exec "build-fuzz/fuzz/$target" -max_total_time="$seconds" \
  -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1 "$@" \
  "$corpus" ${seed_dir:+"$seed_dir"} ${extra_dir:+"$extra_dir"}
