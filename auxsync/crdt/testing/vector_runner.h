// Replays Yjs golden vectors (shared/vectors/yjs, format in its README.md)
// against the auxsync CRDT engine and compares the result with what the real
// yjs 13.6.27 recorded: every emitted update's v1 and v2 bytes, every result
// of the exchange operations, observer events, and the final state (state
// vector, full v1/v2 updates, root JSON, text deltas, pending flags).
//
// Used by vectors_test.cc (one test per vector file) and by the crdt_replay
// tool that interop/yjs_diff.mjs drives with random scenarios.
//
// Not thread-safe: one runner call owns its documents; separate calls may
// run on separate threads.
#ifndef AUXSYNC_CRDT_TESTING_VECTOR_RUNNER_H_
#define AUXSYNC_CRDT_TESTING_VECTOR_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace auxsync::crdt::testing {

// Vector files keep JavaScript property order (it is the Any encoding order),
// so they are parsed order-preserving.
using Json = nlohmann::ordered_json;

// One difference between a vector's expectation and the engine's replay.
struct Mismatch {
  int step = -1;         // step index; -1 for the final state or set-up
  std::string where;     // "step 3 (map.set A)" or "final B"
  std::string field;     // "emitted[0].v2", "stateVector", "json", "error"
  std::string expected;  // canonical JSON text (yjs)
  std::string actual;    // canonical JSON text (engine), or the error
  // One line: where: field: expected …, actual …
  std::string ToString() const;
};

// Reads and parses a vector file. Errors name the file and the parse
// position.
absl::StatusOr<Json> ReadVectorFile(const std::string& path);

// Replays the operations of `vector` on fresh engine documents and returns
// the replay in the vector format: the same steps whose `expect` holds what
// the engine produced, and `final`. A step the replay cannot execute (an op
// the engine does not support, an engine error, a malformed step) carries
// `"error": "..."` instead of `expect`, and the replay stops after it.
// Never throws.
Json ReplayVector(const Json& vector);

// Compares a vector (expected) with a replay (actual) by the README's rules:
// steps in order, `emitted` entry by entry (id, doc, local, v1, v2), the
// other expectations and the final state field by field, JSON objects as
// unordered (map key order depends on integration order), numbers by value.
// Stops at a step carrying `error`. Returns at most `limit` mismatches,
// first first; empty means equal.
std::vector<Mismatch> CompareReplay(const Json& expected, const Json& actual,
                                    size_t limit = 20);

// ReplayVector + CompareReplay.
std::vector<Mismatch> CheckVector(const Json& vector, size_t limit = 20);

// Canonical text of a JSON value: object keys sorted, numbers as doubles
// ("%.17g"), so that equal values give equal text. Exposed for tests.
std::string CanonicalJson(const Json& value);

}  // namespace auxsync::crdt::testing

#endif  // AUXSYNC_CRDT_TESTING_VECTOR_RUNNER_H_
