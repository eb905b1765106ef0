// Helpers over a Yjs document used by the yjs partition (aux-common's
// yjs/YjsHelpers): state vectors as version vectors, and text positions as
// they looked to a site that had only seen part of the document.
//
// Threading: like the Doc they read, these belong to the Doc's thread.

#ifndef AUXSYNC_PARTITIONS_YJS_HELPERS_H_
#define AUXSYNC_PARTITIONS_YJS_HELPERS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "auxsync/bots/value.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/relative_position.h"
#include "auxsync/crdt/types.h"

namespace auxsync::partitions {

// getStateVector: client -> next expected clock of every client the
// document's store knows (including clients whose structs were all
// collected), ascending by client.
std::map<uint64_t, uint64_t> GetStateVector(const crdt::Doc& doc);

// getStateVector as upstream returns it: a version-vector object
// ({"<client>": clock}) in JavaScript property order. Clients below
// 2^32 - 1 are array-index keys and therefore ascending, as in JavaScript;
// larger ids (only possible with an explicit client id) follow in ascending
// order, where upstream would use store insertion order, which the engine
// does not keep.
bots::Value GetStateVectorValue(const crdt::Doc& doc);

// GetStateVectorValue for a caller that asks after every transaction: the
// same value (a new object every call, or one no one else holds any more),
// made from a copy of the last one when the clients are the same (they
// rarely change, their clocks always do). Not thread-safe.
class StateVectorValueCache {
 public:
  bots::Value Get(const crdt::Doc& doc);

 private:
  std::vector<uint64_t> clients_;  // ascending
  std::vector<std::string> keys_;  // absl::StrCat of clients_
  bots::Value last_;               // the last value returned
  bots::Value spare_;              // the one before it (or undefined)
};

// getClock: the next expected clock of `client`, nullopt (upstream
// `undefined`) when the document has no struct from it.
std::optional<uint64_t> GetClock(const crdt::Doc& doc, uint64_t client);

// A version vector as createRelativePositionFromStateVector reads it:
// client -> clock, a JavaScript number (fractional, negative or NaN values
// are kept: they decide visibility through `<=` exactly as in JavaScript).
// An absent client has seen nothing from that client.
using ClockVector = absl::flat_hash_map<uint64_t, double>;

// The ClockVector of a version-vector Value. Upstream looks entries up by
// `String(client)`, so only keys that are canonical decimal client ids
// (no sign, no leading zero, at most 2^53 - 1) whose value is a number can
// ever match; every other entry is dropped. A non-object gives {}.
ClockVector ClockVectorFromValue(const bots::Value& vector);

// createRelativePositionFromStateVector: the relative position of visible
// index `index` (UTF-16 units) of `text` as it looked to a site that had
// seen exactly `vector`. An item counts iff its client is in `vector` with
// its *starting* clock <= the entry, it is countable, and it is not deleted
// (or `include_deleted`). assoc < 0 sticks to the unit on the left. Items
// are walked in document order; an index past the end gives the "end of
// type" position. `text` must be a live list-like type (Y.Text).
// With include_deleted, collected (deleted) content counts: yjs counts it
// when the item was collected locally but not when it arrived collected;
// the engine cannot tell the two apart. The partitions never pass it.
crdt::RelativePosition CreateRelativePositionFromStateVector(
    crdt::YType text, const ClockVector& vector, uint64_t index,
    int64_t assoc = 0, bool include_deleted = false);

// The same with the version vector as a Value (TagEdit versions), read with
// ClockVectorFromValue.
crdt::RelativePosition CreateRelativePositionFromStateVector(
    crdt::YType text, const bots::Value& vector, uint64_t index,
    int64_t assoc = 0, bool include_deleted = false);

// createAbsolutePositionFromStateVector: the above resolved against `doc`
// (nullopt when the target cannot be resolved).
std::optional<crdt::AbsolutePosition> CreateAbsolutePositionFromStateVector(
    crdt::Doc& doc, crdt::YType text, const ClockVector& vector, uint64_t index,
    int64_t assoc = 0, bool include_deleted = false);

// getTextChar: the UTF-16 code unit at visible index `index` of a text's
// string content (embeds and formats are skipped), nullopt when out of
// range or negative.
std::optional<char16_t> GetTextChar(crdt::YText text, int64_t index);

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_YJS_HELPERS_H_
