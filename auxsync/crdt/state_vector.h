// Copyright 2025 The auxsync Authors.
//
// StateVector: client -> next expected clock, and its encoding.

#ifndef AUXSYNC_CRDT_STATE_VECTOR_H_
#define AUXSYNC_CRDT_STATE_VECTOR_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace auxsync::crdt {

// client -> clock (number of units known from that client). A missing
// client means 0. The same bytes serve v1 and v2 (yjs has no distinct v2
// state vector).
class StateVector {
 public:
  uint64_t Get(uint64_t client) const {
    auto it = clocks_.find(client);
    return it == clocks_.end() ? 0 : it->second;
  }
  void Set(uint64_t client, uint64_t clock) { clocks_[client] = clock; }
  size_t size() const { return clocks_.size(); }
  const absl::flat_hash_map<uint64_t, uint64_t>& clocks() const {
    return clocks_;
  }

  // writeStateVector: varUint(count), then (client, clock) pairs in
  // descending client order. Entries with clock 0 are written if present.
  std::vector<uint8_t> Encode() const;
  // decodeStateVector: a repeated client keeps the last clock. Trailing
  // bytes are ignored, as in yjs.
  static absl::StatusOr<StateVector> Decode(std::span<const uint8_t> bytes);

  friend bool operator==(const StateVector&, const StateVector&) = default;

 private:
  absl::flat_hash_map<uint64_t, uint64_t> clocks_;
};

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_STATE_VECTOR_H_
