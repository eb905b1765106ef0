// Editing traces of ../shared/data/editing-traces (josephg/editing-traces
// format), loaded from gzipped JSON and converted to UTF-16 positions, ready
// to be replayed by the trace benchmark.
#ifndef AUXSYNC_BENCH_TRACE_FILE_H_
#define AUXSYNC_BENCH_TRACE_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace auxsync::bench {

// One edit: delete `del` UTF-16 units at `pos`, then insert `ins` there.
struct TracePatch {
  uint64_t pos = 0;
  uint64_t del = 0;
  std::u16string ins;
};

// One transaction of the trace. `parents` and `agent` are set only for a
// concurrent trace (indexes of earlier txns; agent in [0, num_agents)).
struct TraceTxn {
  std::vector<TracePatch> patches;
  std::vector<size_t> parents;
  uint32_t agent = 0;
};

struct Trace {
  bool concurrent = false;
  uint32_t num_agents = 1;
  std::u16string start_content;
  std::u16string end_content;
  std::vector<TraceTxn> txns;
  size_t ops = 0;  // patches in all txns
};

// Reads a gzip file (or a plain file) whole. Errors: unreadable file,
// corrupt gzip, more than 1 GiB of output.
absl::StatusOr<std::string> ReadGzipFile(const std::string& path);

// Parses a trace and converts its code-point positions and lengths to UTF-16
// units (a sequential trace is simulated once to learn where the characters
// outside the BMP are). Errors: malformed JSON or trace, a patch outside the
// document, and a concurrent trace with characters outside the BMP (its
// positions depend on the merged version, which is not simulated here).
absl::StatusOr<Trace> ParseTrace(std::string_view json);

// Both of the above.
absl::StatusOr<Trace> LoadTrace(const std::string& path);

}  // namespace auxsync::bench

#endif  // AUXSYNC_BENCH_TRACE_FILE_H_
