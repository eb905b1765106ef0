// Copyright 2025 The auxsync Authors.
//
// Update utilities that work on encoded updates without a document (yjs
// utils/updates.js): merge, diff, state vector of an update, format
// conversion, meta. Byte-identical with yjs 13.6.

#ifndef AUXSYNC_CRDT_UPDATE_UTILS_H_
#define AUXSYNC_CRDT_UPDATE_UTILS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace auxsync::crdt {

using Bytes = std::vector<uint8_t>;
using BytesView = std::span<const uint8_t>;

// mergeUpdates / mergeUpdatesV2. One update is returned unchanged (not
// validated, as in yjs); otherwise all are read lazily, duplicates dropped,
// holes filled with Skip structs, delete sets merged. A malformed input
// fails the whole call; the error names the input ("update 2 of 3").
absl::StatusOr<Bytes> MergeUpdates(std::span<const BytesView> updates);
absl::StatusOr<Bytes> MergeUpdatesV2(std::span<const BytesView> updates);

// diffUpdate / diffUpdateV2: the part of `update` not covered by the
// encoded state vector `sv`, plus the whole delete set.
absl::StatusOr<Bytes> DiffUpdate(BytesView update, BytesView sv);
absl::StatusOr<Bytes> DiffUpdateV2(BytesView update, BytesView sv);

// encodeStateVectorFromUpdate(V2): per client the end of the gap-free prefix
// starting at clock 0, in the update's client order.
absl::StatusOr<Bytes> EncodeStateVectorFromUpdate(BytesView update);
absl::StatusOr<Bytes> EncodeStateVectorFromUpdateV2(BytesView update);

// convertUpdateFormatV1ToV2 / V2ToV1.
absl::StatusOr<Bytes> ConvertUpdateFormatV1ToV2(BytesView update);
absl::StatusOr<Bytes> ConvertUpdateFormatV2ToV1(BytesView update);

// parseUpdateMeta(V2): per client the first clock (`from`) and the end clock
// (`to`) over the update's structs, Skips included.
struct UpdateMeta {
  absl::flat_hash_map<uint64_t, uint64_t> from;
  absl::flat_hash_map<uint64_t, uint64_t> to;
};
absl::StatusOr<UpdateMeta> ParseUpdateMeta(BytesView update);
absl::StatusOr<UpdateMeta> ParseUpdateMetaV2(BytesView update);

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_UPDATE_UTILS_H_
