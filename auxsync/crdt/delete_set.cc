// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/delete_set.h"

#include "auxsync/crdt/internal/update_decoder.h"
#include "auxsync/crdt/internal/update_encoder.h"

namespace auxsync::crdt {

void DeleteSet::SortAndMerge() {
  for (auto& [client, dels] : clients_) {
    std::stable_sort(dels.begin(), dels.end(),
                     [](const DeleteRange& a, const DeleteRange& b) {
                       return a.clock < b.clock;
                     });
    if (dels.empty()) continue;
    size_t j = 1;
    for (size_t i = 1; i < dels.size(); ++i) {
      DeleteRange& left = dels[j - 1];
      const DeleteRange& right = dels[i];
      if (left.clock + left.len >= right.clock) {
        left.len = std::max(left.len, right.clock + right.len - left.clock);
      } else {
        dels[j++] = right;
      }
    }
    dels.resize(j);
  }
}

bool DeleteSet::IsDeleted(ID id) const {
  auto it = clients_.find(id.client);
  if (it == clients_.end()) return false;
  const Ranges& r = it->second;
  // First range starting after the clock; the one before may contain it.
  auto pos = std::upper_bound(
      r.begin(), r.end(), id.clock,
      [](uint64_t c, const DeleteRange& d) { return c < d.clock; });
  if (pos == r.begin()) return false;
  --pos;
  return id.clock < pos->clock + pos->len;
}

std::vector<uint64_t> DeleteSet::SortedClients() const {
  std::vector<uint64_t> out;
  out.reserve(clients_.size());
  for (const auto& [client, ranges] : clients_) out.push_back(client);
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

DeleteSet MergeDeleteSets(std::span<const DeleteSet> sets) {
  DeleteSet merged;
  for (const DeleteSet& ds : sets) {
    for (const auto& [client, ranges] : ds.clients()) {
      auto& dst = merged.mutable_clients()[client];
      dst.insert(dst.end(), ranges.begin(), ranges.end());
    }
  }
  merged.SortAndMerge();
  return merged;
}

std::vector<uint8_t> EncodeDeleteSet(const DeleteSet& ds, UpdateVersion v) {
  if (v == UpdateVersion::kV1) {
    internal::UpdateEncoderV1 enc;
    ds.Write(enc);
    return enc.ToBytes();
  }
  // A standalone v2 delete set is DSEncoderV2's plain stream.
  internal::UpdateEncoderV2 enc;
  ds.Write(enc);
  return enc.rest().Take();
}

namespace {

// DSDecoderV2 over a plain stream (no columns).
class StandaloneDsDecoderV2 {
 public:
  explicit StandaloneDsDecoderV2(std::span<const uint8_t> b)
      : rest_(b, 0, nullptr, "delete set") {}
  internal::Lib0Decoder& rest() { return rest_; }
  bool ok() const { return rest_.ok(); }
  void ResetDsCurVal() { cur_ = 0; }
  uint64_t ReadDsClock() {
    cur_ += rest_.ReadVarUint();
    return cur_;
  }
  uint64_t ReadDsLen() {
    uint64_t d = rest_.ReadVarUint() + 1;
    cur_ += d;
    return d;
  }

 private:
  internal::Lib0Decoder rest_;
  uint64_t cur_ = 0;
};

}  // namespace

absl::StatusOr<DeleteSet> DecodeDeleteSet(std::span<const uint8_t> bytes,
                                          UpdateVersion v) {
  if (v == UpdateVersion::kV1) {
    internal::UpdateDecoderV1 dec(bytes, "delete set");
    DeleteSet ds = DeleteSet::Read(dec);
    if (dec.ok() && dec.rest().has_content()) dec.rest().Fail("trailing bytes");
    if (!dec.ok()) return dec.status();
    return ds;
  }
  StandaloneDsDecoderV2 dec(bytes);
  DeleteSet ds = DeleteSet::Read(dec);
  if (dec.ok() && dec.rest().has_content()) dec.rest().Fail("trailing bytes");
  if (!dec.ok()) return dec.rest().status();
  return ds;
}

}  // namespace auxsync::crdt
