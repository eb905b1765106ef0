// Copyright 2025 The auxsync Authors.
//
// DeleteSet: per client, the clock ranges of deleted units (yjs
// utils/DeleteSet.js), with its v1/v2 encodings.

#ifndef AUXSYNC_CRDT_DELETE_SET_H_
#define AUXSYNC_CRDT_DELETE_SET_H_

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "auxsync/crdt/id.h"

namespace auxsync::crdt {

enum class UpdateVersion { kV1 = 1, kV2 = 2 };

// One deleted clock range [clock, clock + len).
struct DeleteRange {
  uint64_t clock = 0;
  uint64_t len = 0;
  uint64_t end() const { return clock + len; }
  friend bool operator==(const DeleteRange&, const DeleteRange&) = default;
};

// client -> ranges. Ranges stay in insertion order until SortAndMerge(),
// because yjs writes a delete set read from an update (diffUpdate,
// conversions) in the order read; sets built from a store or a transaction
// are sorted and merged. Clients are always written in descending order.
class DeleteSet {
 public:
  using Ranges = std::vector<DeleteRange>;

  // Appends a range (not merged until SortAndMerge()).
  void Add(uint64_t client, uint64_t clock, uint64_t len) {
    clients_[client].push_back(DeleteRange{clock, len});
  }
  // Per client: sort by clock (stable) and merge overlapping or adjacent
  // ranges, as yjs's sortAndMergeDeleteSet.
  void SortAndMerge();
  // Requires SortAndMerge() (binary search).
  bool IsDeleted(ID id) const;

  bool empty() const { return clients_.empty(); }
  const absl::flat_hash_map<uint64_t, Ranges>& clients() const {
    return clients_;
  }
  absl::flat_hash_map<uint64_t, Ranges>& mutable_clients() { return clients_; }
  // Client ids in the order yjs writes them (descending).
  std::vector<uint64_t> SortedClients() const;

  // Writes the set into an update encoder (V1 or V2) as writeDeleteSet.
  template <typename Encoder>
  void Write(Encoder& enc) const;

  // readDeleteSet: a client with zero ranges is skipped; a client that
  // appears twice collects the ranges of both. Stops at the first error
  // (check decoder.ok()). Decoder is UpdateDecoderV1/V2.
  template <typename Decoder>
  static DeleteSet Read(Decoder& dec);

  friend bool operator==(const DeleteSet&, const DeleteSet&) = default;

 private:
  absl::flat_hash_map<uint64_t, Ranges> clients_;
};

// readDeleteSet's loop, the one reader of a delete set (DeleteSet::Read and
// the document engine, which keeps wire order): calls on_client(client) for
// each client with at least one range, then on_range(clock, len) for its
// ranges in wire order. Stops at the first error (check dec.ok()); bounds
// every count by the remaining input.
template <typename Decoder, typename OnClient, typename OnRange>
void ForEachDeleteRange(Decoder& dec, OnClient on_client, OnRange on_range);

// mergeDeleteSets: per client the ranges of all sets in order, then sorted
// and merged.
DeleteSet MergeDeleteSets(std::span<const DeleteSet> sets);

// A delete set on its own (the tail of an update), v1 or v2 form.
std::vector<uint8_t> EncodeDeleteSet(const DeleteSet& ds, UpdateVersion v);
// Decodes a standalone delete set; the whole input must be consumed.
absl::StatusOr<DeleteSet> DecodeDeleteSet(std::span<const uint8_t> bytes,
                                          UpdateVersion v);

template <typename Encoder>
void DeleteSet::Write(Encoder& enc) const {
  enc.rest().WriteVarUint(clients_.size());
  for (uint64_t client : SortedClients()) {
    const Ranges& ranges = clients_.find(client)->second;
    enc.ResetDsCurVal();
    enc.rest().WriteVarUint(client);
    enc.rest().WriteVarUint(ranges.size());
    for (const DeleteRange& r : ranges) {
      enc.WriteDsClock(r.clock);
      enc.WriteDsLen(r.len);
    }
  }
}

template <typename Decoder, typename OnClient, typename OnRange>
void ForEachDeleteRange(Decoder& dec, OnClient on_client, OnRange on_range) {
  auto& rest = dec.rest();
  uint64_t num_clients = rest.ReadVarUint();
  // Every client entry takes at least two bytes.
  if (num_clients > rest.remaining() / 2 + 1) {
    rest.Fail("delete set declares more clients than the input can hold");
    return;
  }
  for (uint64_t i = 0; i < num_clients && dec.ok(); ++i) {
    dec.ResetDsCurVal();
    uint64_t client = rest.ReadVarUint();
    uint64_t n = rest.ReadVarUint();
    if (n > rest.remaining() / 2 + 1) {
      rest.Fail("delete set declares more ranges than the input can hold");
      return;
    }
    if (n == 0 || !dec.ok()) continue;
    on_client(client);
    for (uint64_t j = 0; j < n && dec.ok(); ++j) {
      uint64_t clock = dec.ReadDsClock();
      uint64_t len = dec.ReadDsLen();
      if (!dec.ok()) return;
      if (clock > kMaxSafeInteger || len > kMaxSafeInteger - clock) {
        rest.Fail("delete range beyond 2^53");
        return;
      }
      on_range(clock, len);
    }
  }
}

template <typename Decoder>
DeleteSet DeleteSet::Read(Decoder& dec) {
  DeleteSet ds;
  Ranges* ranges = nullptr;
  ForEachDeleteRange(
      dec, [&](uint64_t client) { ranges = &ds.clients_[client]; },
      [&](uint64_t clock, uint64_t len) {
        ranges->push_back(DeleteRange{clock, len});
      });
  return ds;
}

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_DELETE_SET_H_
