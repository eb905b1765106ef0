// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/state_vector.h"

#include <algorithm>
#include <functional>

#include "auxsync/crdt/internal/lib0_decoder.h"
#include "auxsync/crdt/internal/lib0_encoder.h"

namespace auxsync::crdt {

std::vector<uint8_t> StateVector::Encode() const {
  std::vector<std::pair<uint64_t, uint64_t>> entries(clocks_.begin(),
                                                     clocks_.end());
  std::sort(entries.begin(), entries.end(), std::greater<>());
  internal::Lib0Encoder enc;
  enc.Reserve(1 + entries.size() * 8);
  enc.WriteVarUint(entries.size());
  for (const auto& [client, clock] : entries) {
    enc.WriteVarUint(client);
    enc.WriteVarUint(clock);
  }
  return enc.Take();
}

absl::StatusOr<StateVector> StateVector::Decode(
    std::span<const uint8_t> bytes) {
  internal::Lib0Decoder d(bytes, 0, nullptr, "state vector");
  uint64_t n = d.ReadVarUint();
  if (n > d.remaining() / 2)
    d.Fail("state vector declares more entries than the input can hold");
  StateVector sv;
  if (d.ok()) sv.clocks_.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n && d.ok(); ++i) {
    uint64_t client = d.ReadVarUint();
    uint64_t clock = d.ReadVarUint();
    if (d.ok()) sv.clocks_[client] = clock;
  }
  if (!d.ok()) return d.status();
  return sv;
}

}  // namespace auxsync::crdt
