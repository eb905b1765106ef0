// The editing-trace benchmark behind `auxsync bench trace`: replays a trace
// into a crdt::Doc (one transaction per trace txn, every update captured),
// then encodes the final doc and parses it back. bench/js/trace_bench.mjs
// runs the same steps on the real yjs; bench/trace_bench.sh compares them.
#ifndef AUXSYNC_BENCH_TRACE_BENCH_H_
#define AUXSYNC_BENCH_TRACE_BENCH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/trace_file.h"

namespace auxsync::bench {

struct TraceBenchOptions {
  bool v2 = false;  // capture, encode and parse update format v2
  int reps = 3;     // timed figures are the best of this many runs
};

// Figures of one trace. Times are milliseconds of wall-clock time.
struct TraceBenchResult {
  size_t ops = 0;             // patches replayed
  double replay_ms = 0;       // all txns (and, concurrent, all merges)
  size_t updates = 0;         // update events captured
  uint64_t update_bytes = 0;  // their total size
  uint32_t updates_hash = 0;  // FNV-1a of all captured updates in order
  double encode_ms = 0;       // encodeStateAsUpdate(V2) of the final doc
  uint64_t doc_size = 0;
  double parse_ms = 0;       // applyUpdate into a fresh doc + reading the text
  int64_t mem_bytes = 0;     // heap held by the replayed doc(s): see
                             // docs/performance.md
  bool ok = false;           // final (and parsed) text == endContent
  std::vector<uint8_t> doc;  // the encoded final doc
};

// Runs the benchmark. A concurrent trace is replayed by one Doc per agent
// (client id agent + 1); before each txn its agent's doc receives the
// updates of the txns its parents know and it lacks, in txn order; at the
// end every doc receives everything. Errors: none for a parsed trace
// (a wrong result is reported as ok = false).
absl::StatusOr<TraceBenchResult> RunTraceBench(const Trace& trace,
                                               const TraceBenchOptions& opt);

// One JSON line: {"impl":"auxsync","ops":…,"replayMs":…,…,"ok":…}.
std::string TraceBenchResultJson(const TraceBenchResult& r,
                                 const std::string& trace_name, bool v2);

// FNV-1a (32-bit) continued over `bytes` from `h` (start: 2166136261).
uint32_t Fnv1a(uint32_t h, const uint8_t* bytes, size_t n);

}  // namespace auxsync::bench

#endif  // AUXSYNC_BENCH_TRACE_BENCH_H_
