// Applying and producing updates of a Doc (yjs applyUpdate /
// encodeStateAsUpdate / encodeStateVector, v1 and v2).
#ifndef AUXSYNC_CRDT_ENCODING_H_
#define AUXSYNC_CRDT_ENCODING_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/crdt/doc.h"

namespace auxsync::crdt {

// Applies a v1 update in one remote transaction. Safe on untrusted bytes: a
// malformed update is rejected whole and the document is left unchanged.
// Structs whose dependencies are missing wait in the pending set.
absl::Status ApplyUpdate(Doc& doc, std::span<const uint8_t> update,
                         Origin origin = {});
// Same for a v2 update.
absl::Status ApplyUpdateV2(Doc& doc, std::span<const uint8_t> update,
                           Origin origin = {});

// The document's content missing from `target_state_vector` (encoded state
// vector; empty span = everything), including pending deletes and the
// pending structs past the document's state (an id the document holds is
// always written as integrated; yjs can write a pending copy instead).
// Errors: a malformed state vector.
absl::StatusOr<std::vector<uint8_t>> EncodeStateAsUpdate(
    const Doc& doc, std::span<const uint8_t> target_state_vector = {});
absl::StatusOr<std::vector<uint8_t>> EncodeStateAsUpdateV2(
    const Doc& doc, std::span<const uint8_t> target_state_vector = {});

// The encoded state vector of the document (pending structs excluded).
std::vector<uint8_t> EncodeStateVector(const Doc& doc);

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_ENCODING_H_
