// Inst updates and aux-common's PartitionUtils on Yjs documents
// (spec/partitions.md section 12.1-12.5; checklist group J): building,
// reading and merging the base64 Yjs updates an inst is stored as.

#ifndef AUXSYNC_PARTITIONS_INST_UPDATES_H_
#define AUXSYNC_PARTITIONS_INST_UPDATES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"

namespace auxsync::partitions {

// InstUpdate: one stored Yjs v1 update of an inst.
struct InstUpdate {
  double id = 0;
  double timestamp = 0;
  std::string update;  // base64 (standard alphabet, padded)

  // {"id","timestamp","update"} (upstream's key order). The rvalue form
  // moves `update` into the value instead of copying it (a state update is
  // megabytes).
  bots::Value ToValue() const&;
  bots::Value ToValue() &&;
  // Reads {"id": number, "update": string, "timestamp": number}; errors
  // name the field (`path` prefixes them).
  static absl::StatusOr<InstUpdate> FromValue(const bots::Value& value,
                                              std::string_view path = "update");
};

// Reads a JSON array of InstUpdates.
absl::StatusOr<std::vector<InstUpdate>> InstUpdatesFromValue(
    const bots::Value& value, std::string_view path = "updates");
// The `update` strings of InstUpdatesFromValue(value, path) (same errors),
// shared with `value` instead of copied: an update can be megabytes.
absl::StatusOr<std::vector<bots::Value>> InstUpdateTextsFromValue(
    const bots::Value& value, std::string_view path = "updates");
// The JSON array of `updates`.
bots::Value InstUpdatesToValue(std::span<const InstUpdate> updates);

// Milliseconds since the epoch (Date.now()), used for timestamps.
double NowMs();

// base64 (standard, padded) <-> bytes. Decoding rejects what base64-js
// rejects (a length that is not a multiple of 4, characters outside the
// alphabet).
std::string ToBase64(std::span<const uint8_t> bytes);
absl::StatusOr<std::vector<uint8_t>> FromBase64(std::string_view text);

// Bytes decoded from base64 into a buffer that is not zero-filled before
// they are written (an initialization update is megabytes long).
class Base64Bytes {
 public:
  // Room for `n` bytes, their values unspecified until written.
  void Allocate(size_t n) {
    data_ = std::make_unique_for_overwrite<uint8_t[]>(n);
    size_ = n;
  }
  uint8_t* data() { return data_.get(); }
  std::span<const uint8_t> span() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};
// FromBase64 into a Base64Bytes: the same bytes, or the same error.
absl::StatusOr<Base64Bytes> FromBase64Uninitialized(std::string_view text);

// constructInitializationUpdate: one update that adds `bots` (each as
// createBot(id, tags); masks, spaces and signatures are dropped) to a fresh
// document with a random client id. nullopt when `bots` is empty.
absl::StatusOr<std::optional<InstUpdate>> ConstructInitializationUpdate(
    const std::vector<bots::Value>& bots, double timestamp = NowMs());

// getStateFromUpdates: the bots state (no spaces) a fresh YjsPartition
// reports after applying each update in turn. Errors: an update that is not
// base64 or not a Yjs v1 update.
absl::StatusOr<bots::Value> GetStateFromUpdates(
    std::span<const InstUpdate> updates);

// constructInitializationUpdateFromPreviousUpdates: the whole document
// after turning the bots of `previous` into exactly `bots` (tags missing
// from a target bot deleted, bots missing from `bots` removed), so that
// applying it after any subset of `previous` yields `bots`. nullopt when
// nothing had to change.
absl::StatusOr<std::optional<InstUpdate>>
ConstructInitializationUpdateFromPreviousUpdates(
    std::span<const InstUpdate> previous, const std::vector<bots::Value>& bots,
    double timestamp = NowMs());

// updateToNewStateUpdate: the above with the bots of
// GetStateFromUpdates(new_state) as the target.
absl::StatusOr<std::optional<InstUpdate>> UpdateToNewStateUpdate(
    std::span<const InstUpdate> previous, std::span<const InstUpdate> new_state,
    double timestamp = NowMs());

// mergeInstUpdates(updates, id = updates.length, timestamp = now): one
// update equal to Y.mergeUpdates of all of them.
absl::StatusOr<InstUpdate> MergeInstUpdates(
    std::span<const InstUpdate> updates,
    std::optional<double> id = std::nullopt, double timestamp = NowMs());

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_INST_UPDATES_H_
