// Relative positions (yjs createRelativePositionFromTypeIndex /
// createAbsolutePositionFromRelativePosition / encodeRelativePosition): a
// place in a list-like type that survives concurrent edits.
#ifndef AUXSYNC_CRDT_RELATIVE_POSITION_H_
#define AUXSYNC_CRDT_RELATIVE_POSITION_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/id.h"
#include "auxsync/crdt/types.h"

namespace auxsync::crdt {

// yjs RelativePosition: `item` names a unit; without it the position is the
// start/end of the type named by `tname` (root) or `type` (its item's ID).
struct RelativePosition {
  std::optional<ID> type;
  std::optional<std::string> tname;
  std::optional<ID> item;
  int64_t assoc = 0;  // >= 0: sticks to the unit at the index; < 0: before it
};

// A resolved position. `type` is borrowed from the document.
struct AbsolutePosition {
  engine::TypeImpl* type = nullptr;
  uint64_t index = 0;
  int64_t assoc = 0;
};

// Position of `index` (UTF-16 units for text) in the type's list part.
RelativePosition CreateRelativePositionFromTypeIndex(YType type, uint64_t index,
                                                     int64_t assoc = 0);

// Resolves against `doc`; nullopt if the named unit/type is unknown or was
// collected. May create an (untyped) root for `tname`, as yjs doc.get does.
std::optional<AbsolutePosition> CreateAbsolutePositionFromRelativePosition(
    const RelativePosition& rpos, Doc& doc);

// Binary form (yjs encodeRelativePosition).
std::vector<uint8_t> EncodeRelativePosition(const RelativePosition& rpos);
// Errors: truncated or malformed bytes.
absl::StatusOr<RelativePosition> DecodeRelativePosition(
    std::span<const uint8_t> bytes);

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_RELATIVE_POSITION_H_
