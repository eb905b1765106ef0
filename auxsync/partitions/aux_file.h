// .aux files: CasualOS's stored aux format (aux-common bots/StoredAux.ts).
//
//   version 1: {"version":1,"state":{<bot id>: <bot>, ...}}
//   version 2: {"version":2,"updates":[{"id","timestamp","update"}, ...]}
//              (base64 Yjs v1 updates; the bots are the state of a Yjs
//              partition after applying them in order)
//
// Reading follows aux-common's getBotsStateFromStoredAux: other top-level
// keys are ignored, an update's `id`/`timestamp` are carried but not
// interpreted, and an object without a "version" key is taken as a bare
// bots state. Where aux-common would return garbage or throw (a version
// other than 1 or 2, a state that is not an object, updates that are not
// an array of {update: base64}), reading fails with an error naming the
// field. Reading is bounded: file size, JSON depth and update count.

#ifndef AUXSYNC_PARTITIONS_AUX_FILE_H_
#define AUXSYNC_PARTITIONS_AUX_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"
#include "auxsync/partitions/inst_updates.h"

namespace auxsync::partitions {

// A parsed .aux file.
struct StoredAux {
  // 1 or 2. A bare bots state (no "version" key) reads as version 1 with
  // `bare_state` set.
  int version = 1;
  bool bare_state = false;
  bots::Value state = bots::Value::NewObject();  // version 1
  std::vector<InstUpdate> updates;               // version 2
};

struct AuxReadLimits {
  size_t max_file_bytes = size_t{512} << 20;
  int max_json_depth = 512;
  size_t max_updates = 1'000'000;
};

// Parses the JSON text of an .aux file. Errors name the field ("updates[3].
// update: ...") or the JSON byte offset.
absl::StatusOr<StoredAux> ParseStoredAux(std::string_view text,
                                         const AuxReadLimits& limits = {});
// Reads and parses the file at `path` (size checked before reading).
absl::StatusOr<StoredAux> ReadAuxFile(const std::string& path,
                                      const AuxReadLimits& limits = {});

// The JSON text aux-common's writers produce (JSON.stringify, compact):
// {"version":1,"state":...} or {"version":2,"updates":[...]}.
std::string SerializeStoredAux(const StoredAux& aux);
// Writes SerializeStoredAux(aux) to `path` through a temporary file and a
// rename, so a reader never sees half a file.
absl::Status WriteAuxFile(const std::string& path, const StoredAux& aux);

// getBotsStateFromStoredAux: version 1 -> its state (as stored), version 2
// -> the state of a fresh Yjs partition after the updates (no spaces).
// Errors: an update that is not base64 or not a Yjs v1 update.
absl::StatusOr<bots::Value> GetBotsStateFromStoredAux(const StoredAux& aux);

// Converts to `to_version` (1 or 2); the same version is returned as is.
// 1 -> 2 is what aux-records does when it installs a version-1 package:
// one initialization update (constructInitializationUpdate of the state's
// bots as createBot(id, tags): spaces and masks are dropped) with id 0 and
// `timestamp`. An empty state gives no update (aux-records would store
// [undefined], which later fails to load). 2 -> 1 stores
// GetBotsStateFromStoredAux.
absl::StatusOr<StoredAux> ConvertStoredAux(const StoredAux& aux, int to_version,
                                           double timestamp = NowMs());

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_AUX_FILE_H_
