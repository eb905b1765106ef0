// Copyright 2025 The auxsync Authors.
//
// Update utilities that work on encoded updates without a document (yjs
// utils/updates.js): merge, diff, state vector of an update, format
// conversion, meta. Byte-identical with yjs 13.6. They read updates with
// the same reader and limits as ReadUpdate and the document engine, and
// their errors name the input and the byte offset.

#ifndef AUXSYNC_CRDT_UPDATE_UTILS_H_
#define AUXSYNC_CRDT_UPDATE_UTILS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "auxsync/crdt/wire_struct.h"

namespace auxsync::crdt {

using Bytes = std::vector<uint8_t>;
using BytesView = std::span<const uint8_t>;

// mergeUpdates / mergeUpdatesV2. One update is returned unchanged (not
// validated, as in yjs); otherwise all are read lazily, duplicates dropped,
// holes filled with Skip structs, delete sets merged. A malformed input
// fails the whole call; the error names the input ("update 2 of 3").
// `options.max_structs_per_byte` bounds each input (kUnboundedStructs only
// for updates this process wrote); the label is "update i of n".
absl::StatusOr<Bytes> MergeUpdates(std::span<const BytesView> updates,
                                   const ReadOptions& options = {});
absl::StatusOr<Bytes> MergeUpdatesV2(std::span<const BytesView> updates,
                                     const ReadOptions& options = {});

// diffUpdate / diffUpdateV2: the part of `update` not covered by the
// encoded state vector `sv`, plus the whole delete set.
absl::StatusOr<Bytes> DiffUpdate(BytesView update, BytesView sv,
                                 const ReadOptions& options = {});
absl::StatusOr<Bytes> DiffUpdateV2(BytesView update, BytesView sv,
                                   const ReadOptions& options = {});

// encodeStateVectorFromUpdate(V2): per client the end of the gap-free prefix
// starting at clock 0, in the update's client order.
absl::StatusOr<Bytes> EncodeStateVectorFromUpdate(
    BytesView update, const ReadOptions& options = {});
absl::StatusOr<Bytes> EncodeStateVectorFromUpdateV2(
    BytesView update, const ReadOptions& options = {});

// convertUpdateFormatV1ToV2 / V2ToV1.
absl::StatusOr<Bytes> ConvertUpdateFormatV1ToV2(
    BytesView update, const ReadOptions& options = {});
absl::StatusOr<Bytes> ConvertUpdateFormatV2ToV1(
    BytesView update, const ReadOptions& options = {});

// parseUpdateMeta(V2): per client the first clock (`from`) and the end clock
// (`to`) over the update's structs, Skips included.
struct UpdateMeta {
  absl::flat_hash_map<uint64_t, uint64_t> from;
  absl::flat_hash_map<uint64_t, uint64_t> to;
};
absl::StatusOr<UpdateMeta> ParseUpdateMeta(BytesView update,
                                           const ReadOptions& options = {});
absl::StatusOr<UpdateMeta> ParseUpdateMetaV2(BytesView update,
                                             const ReadOptions& options = {});

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_UPDATE_UTILS_H_
