// Fuzzes one document fed several v1 updates in a row, the way a shared inst
// is fed by its peers: structs that wait for a missing dependency meet
// structs of the same ids from later updates (a peer's duplicates, or
// another peer's conflicting ones).
//
// The input is a list of records, each [length: 2 bytes LE][update bytes].
// Checks: an update is applied whole or refused with the document as it
// was, and the document's encoded state loads into a fresh document that
// holds every clock the first holds (a pending copy of an id written over
// the integrated struct leaves the rest of its client waiting there; see
// DocEngine.PendingStructsNeverReplaceIntegratedOnes). The contents are not
// compared: for updates no yjs writes, the format cannot always say what a
// document holds (an item whose origin lies under another key than its
// own is read back under its origin's key), and yjs's reload differs from
// its document there too. Seeds: each golden vector's updates in order and
// reversed (fuzz/make_corpus.mjs).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"

using auxsync::crdt::Doc;
using auxsync::crdt::DocOptions;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Doc doc(DocOptions{.client_id = 1});
  size_t at = 0;
  while (at + 2 <= size) {
    const size_t n =
        std::min<size_t>(data[at] | (data[at + 1] << 8), size - at - 2);
    std::span<const uint8_t> update(data + at + 2, n);
    at += 2 + n;
    const std::vector<uint8_t> before = auxsync::crdt::EncodeStateVector(doc);
    const bool pending_before = doc.HasPendingStructs();
    if (!auxsync::crdt::ApplyUpdate(doc, update).ok() &&
        (auxsync::crdt::EncodeStateVector(doc) != before ||
         doc.HasPendingStructs() != pending_before)) {
      abort();  // a refused update changed the document
    }
  }
  absl::StatusOr<std::vector<uint8_t>> state =
      auxsync::crdt::EncodeStateAsUpdateV2(doc);
  if (!state.ok()) abort();
  Doc copy(DocOptions{.client_id = 2});
  absl::Status loaded = auxsync::crdt::ApplyUpdateV2(copy, *state);
  if (!loaded.ok()) {
    // v2 may pack the accepted structs denser than the bound for untrusted
    // input (update_fuzzer.cc).
    if (loaded.message().find("too many structs") != std::string::npos) {
      return 0;
    }
    abort();
  }
  for (const auto& [client, clock] : doc.store().StateVector()) {
    if (copy.State(client) < clock) abort();  // the copy lost structs
  }
  return 0;
}
