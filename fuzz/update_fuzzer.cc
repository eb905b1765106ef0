// Fuzzes the Yjs update decoders (v1 or v2, chosen at build time) and the
// doc-less update utilities on arbitrary bytes. Any input must either be
// rejected with a status or decode to structs that encode again, and every
// utility must return without crashing.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "absl/strings/match.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/update_utils.h"
#include "auxsync/crdt/wire_struct.h"

namespace {

constexpr auxsync::crdt::UpdateVersion kVersion =
    AUXSYNC_FUZZ_V2 ? auxsync::crdt::UpdateVersion::kV2
                    : auxsync::crdt::UpdateVersion::kV1;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace auxsync::crdt;  // NOLINT: a fuzz target, not a header
  std::span<const uint8_t> bytes(data, size);
  absl::StatusOr<DecodedUpdate> decoded = ReadUpdate(bytes, kVersion);
  if (decoded.ok()) {
    // What decodes must encode again (yjs can re-encode whatever it read).
    (void)WriteUpdate(*decoded, kVersion, /*keep_parent_sub_bit=*/true);
  }
  // Applying: a rejected update leaves the doc empty; an accepted one must
  // encode again and load into a fresh doc with the same state vector.
  {
    Doc doc(DocOptions{.client_id = 1});
    absl::Status applied =
        AUXSYNC_FUZZ_V2 ? ApplyUpdateV2(doc, bytes) : ApplyUpdate(doc, bytes);
    if (!applied.ok() && !EncodeStateVector(doc).empty() &&
        EncodeStateVector(doc) != std::vector<uint8_t>{0}) {
      abort();  // a rejected update changed the document
    }
    if (applied.ok()) {
      absl::StatusOr<std::vector<uint8_t>> state = EncodeStateAsUpdate(doc);
      bool state_v2 = false;
      if (!state.ok()) {
        // v1 cannot hold every value v2 can: an embed or format value that
        // is a bigint or undefined has no JSON (yjs throws there too). The
        // v2 state must then do.
        if (!AUXSYNC_FUZZ_V2) abort();
        state = EncodeStateAsUpdateV2(doc);
        state_v2 = true;
        if (!state.ok()) abort();
      }
      Doc copy(DocOptions{.client_id = 2});
      absl::Status loaded =
          state_v2 ? ApplyUpdateV2(copy, *state) : ApplyUpdate(copy, *state);
      // v2 may pack the accepted structs denser than the bound for
      // untrusted input (kMaxStructsPerByte); v1 never does.
      if (!loaded.ok() &&
          !(state_v2 &&
            absl::StrContains(loaded.message(), "too many structs"))) {
        abort();
      }
      if (loaded.ok() && EncodeStateVector(copy) != EncodeStateVector(doc))
        abort();
    }
  }
  if (AUXSYNC_FUZZ_V2) {
    (void)EncodeStateVectorFromUpdateV2(bytes);
    (void)ConvertUpdateFormatV2ToV1(bytes);
    (void)ParseUpdateMetaV2(bytes);
    BytesView one[] = {bytes};
    (void)MergeUpdatesV2(one);
  } else {
    (void)EncodeStateVectorFromUpdate(bytes);
    (void)ConvertUpdateFormatV1ToV2(bytes);
    (void)ParseUpdateMeta(bytes);
    BytesView two[] = {bytes, bytes};
    (void)MergeUpdates(two);
    static const uint8_t kEmptySv[] = {0};
    (void)DiffUpdate(bytes, kEmptySv);
  }
  return 0;
}
