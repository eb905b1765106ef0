#include "auxsync/crdt/encoding.h"

#include <algorithm>

#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/state_vector.h"
#include "auxsync/crdt/update_utils.h"

namespace auxsync::crdt {

namespace {

absl::Status Apply(Doc& doc, std::span<const uint8_t> update, Origin origin,
                   bool v2) {
  auto decoded = engine::DecodeUpdate(update, v2, doc.pool());
  if (!decoded.ok()) return decoded.status();
  doc.Transact(
      [&](Transaction& tr) { engine::ApplyDecoded(tr, std::move(*decoded)); },
      std::move(origin),
      /*local=*/false);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> Encode(const Doc& doc,
                                            std::span<const uint8_t> target,
                                            bool v2) {
  absl::flat_hash_map<uint64_t, uint64_t> sv;
  if (!target.empty()) {
    auto d = engine::DecodeStateVector(target);
    if (!d.ok()) return d.status();
    sv = std::move(*d);
  }
  auto& pending = engine::DocAccess::Pending(const_cast<Doc&>(doc));
  absl::StatusOr<std::vector<uint8_t>> own =
      engine::EncodeStoreUpdate(doc.store(), sv, /*ds=*/nullptr, v2);
  if (!own.ok()) return own.status();
  if (!pending.HasStructs() && pending.ds.Empty()) return own;
  // With pending data yjs returns mergeUpdates([doc update, pending
  // deletes, diffUpdate(pending structs, target)]) (the structs: see
  // below): sections sorted by client, holes as Skip structs, decoded items
  // without the parentSub hint. The codec's merge reproduces yjs's
  // tie-breaks.
  std::vector<std::vector<uint8_t>> parts;
  parts.push_back(*std::move(own));
  auto to_format =
      [&](std::vector<uint8_t> v2u) -> absl::StatusOr<std::vector<uint8_t>> {
    if (v2) return v2u;
    return ConvertUpdateFormatV2ToV1(v2u, TrustedReadOptions());
  };
  if (!pending.ds.Empty()) {
    auto dw = engine::NewWriter(true);
    dw->rest().VarUint(0);
    engine::WriteDeleteSet(*dw, pending.ds);
    if (!dw->status().ok()) return dw->status();
    auto part = to_format(dw->Finish());
    if (!part.ok()) return part.status();
    parts.push_back(*std::move(part));
  }
  if (pending.HasStructs()) {
    // yjs diffs the pending structs against the target only, and its merge
    // can then put a pending copy of an id the document holds in place of
    // the integrated struct (a pending GC over an integrated item loses the
    // item). The document's own structs are the truth for every id it has:
    // the pending ones are cut at its state as well (compatibility.md).
    StateVector bound;
    for (const auto& [client, clock] : doc.store().StateVector()) {
      bound.Set(client, clock);
    }
    for (const auto& [client, clock] : sv) {
      bound.Set(client, std::max(bound.Get(client), clock));
    }
    auto diff =
        DiffUpdateV2(pending.update, bound.Encode(), TrustedReadOptions());
    if (!diff.ok()) return diff.status();
    auto part = to_format(*std::move(diff));
    if (!part.ok()) return part.status();
    parts.push_back(*std::move(part));
  }
  std::vector<std::span<const uint8_t>> views(parts.begin(), parts.end());
  // Every part was written here: re-encoding may pack accepted structs
  // denser than the bound for untrusted input, so none applies.
  return v2 ? MergeUpdatesV2(views, TrustedReadOptions())
            : MergeUpdates(views, TrustedReadOptions());
}

}  // namespace

absl::Status ApplyUpdate(Doc& doc, std::span<const uint8_t> update,
                         Origin origin) {
  return Apply(doc, update, std::move(origin), false);
}

absl::Status ApplyUpdateV2(Doc& doc, std::span<const uint8_t> update,
                           Origin origin) {
  return Apply(doc, update, std::move(origin), true);
}

absl::StatusOr<std::vector<uint8_t>> EncodeStateAsUpdate(
    const Doc& doc, std::span<const uint8_t> target) {
  return Encode(doc, target, false);
}

absl::StatusOr<std::vector<uint8_t>> EncodeStateAsUpdateV2(
    const Doc& doc, std::span<const uint8_t> target) {
  return Encode(doc, target, true);
}

std::vector<uint8_t> EncodeStateVector(const Doc& doc) {
  return engine::EncodeStateVectorOf(doc.store());
}

}  // namespace auxsync::crdt
