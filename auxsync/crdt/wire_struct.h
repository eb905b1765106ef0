// Copyright 2025 The auxsync Authors.
//
// WireStruct: one struct of an encoded update in plain decoded form (GC,
// Skip or Item, parent as on the wire), and ReadUpdate / WriteStruct, the
// struct-level codec that the document engine and the update utilities
// share.

#ifndef AUXSYNC_CRDT_WIRE_STRUCT_H_
#define AUXSYNC_CRDT_WIRE_STRUCT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/crdt/any.h"
#include "auxsync/crdt/delete_set.h"
#include "auxsync/crdt/id.h"
#include "auxsync/crdt/internal/update_decoder.h"
#include "auxsync/crdt/internal/update_encoder.h"

namespace auxsync::crdt {

// Content refs (the low 5 bits of an item's info byte).
enum class ContentRef : uint8_t {
  kDeleted = 1,
  kJSON = 2,
  kBinary = 3,
  kString = 4,
  kEmbed = 5,
  kFormat = 6,
  kType = 7,
  kAny = 8,
  kDoc = 9,
};

// Type refs of ContentType.
enum class TypeRef : uint8_t {
  kArray = 0,
  kMap = 1,
  kText = 2,
  kXmlElement = 3,
  kXmlFragment = 4,
  kXmlHook = 5,
  kXmlText = 6,
};

// Content kinds. Views (string_view, span) point into the decoded update or
// into DecodedUpdate::arena; see ReadUpdate.
struct DeletedContent {
  uint64_t len = 0;
};
// Legacy ContentJSON: the JSON text of each element, "undefined" for
// undefined. Read as yjs does (JSON.parse), kept as JSON.stringify of the
// parsed value, which is what yjs writes back.
struct JsonContent {
  std::vector<std::string_view> texts;
};
struct BinaryContent {
  std::span<const uint8_t> bytes;
};
// Valid UTF-8 and its length in UTF-16 code units (the item's length).
// In v2 a string column may be cut between the halves of a surrogate pair;
// `utf8` then holds U+FFFD for the half at either end (what yjs writes for
// it in v1), and `lead_low` / `trail_high` keep the real half (0 if none)
// for readers that hold UTF-16 like JavaScript (the document engine).
struct StringContent {
  std::string_view utf8;
  uint64_t utf16_len = 0;
  char16_t lead_low = 0;
  char16_t trail_high = 0;
};
struct EmbedContent {
  Any value;
};
struct FormatContent {
  std::string_view key;
  Any value;
};
// `name` is the node name (XmlElement) or hook name (XmlHook), else empty.
struct TypeContent {
  TypeRef type_ref = TypeRef::kArray;
  std::string_view name;
};
struct AnyContent {
  std::vector<Any> values;
};
// Subdocument: guid and the options map yjs re-derives from them (only
// non-defaults: gc:false, autoLoad:true, meta), in that key order.
struct DocContent {
  std::string_view guid;
  Any opts;
};

using WireContent = std::variant<DeletedContent, JsonContent, BinaryContent,
                                 StringContent, EmbedContent, FormatContent,
                                 TypeContent, AnyContent, DocContent>;

// Content length in units and the ref of a content.
uint64_t ContentLength(const WireContent& c);
ContentRef ContentRefOf(const WireContent& c);

enum class StructKind : uint8_t { kGC, kSkip, kItem };

// The parent as written: none (copied from the origin by the receiver), a
// root type name, or the ID of the item holding the parent type.
using WireParent = std::variant<std::monostate, std::string_view, ID>;

// One struct. For GC and Skip only `id` and `length` matter.
struct WireStruct {
  StructKind kind = StructKind::kGC;
  ID id;
  uint64_t length = 0;
  // Info byte as read (0 for structs built in code). Only the 0x20 bit is
  // ever consulted, by WriteStruct's keep_parent_sub_bit.
  uint8_t info = 0;
  std::optional<ID> origin;
  std::optional<ID> right_origin;
  WireParent parent;
  // Known only when the parent was written (no origin, no right origin).
  std::optional<std::string_view> parent_sub;
  WireContent content;

  uint64_t end() const { return id.clock + length; }
  bool is_item() const { return kind == StructKind::kItem; }
};

// The structs of one client section, in wire order. `structs` tile
// [first clock, first clock + sum of lengths) without gaps.
struct ClientSection {
  uint64_t client = 0;
  uint64_t first_clock = 0;  // as written (matters only for an empty section)
  std::vector<WireStruct> structs;
};

// A decoded update. Views in the structs point into the input span given to
// ReadUpdate (keep it alive and unchanged) or into `arena`. Move-only.
struct DecodedUpdate {
  std::vector<ClientSection> sections;  // in wire order, not merged
  DeleteSet delete_set;                 // ranges in read order
  internal::StringArena arena;

  DecodedUpdate() = default;
  DecodedUpdate(DecodedUpdate&&) = default;
  DecodedUpdate& operator=(DecodedUpdate&&) = default;
  DecodedUpdate(const DecodedUpdate&) = delete;
  DecodedUpdate& operator=(const DecodedUpdate&) = delete;
};

// The one bound on structs per input byte for untrusted updates, shared by
// ReadUpdate, the update utilities and the document engine's applyUpdate.
// v2's run-length columns let a struct take zero bytes, so without a bound a
// tiny update could declare billions of structs. Real documents stay below
// 0.2 structs per byte (editing traces, golden vectors), but a legitimate,
// pathologically regular v2 update reaches ~164 (a client writing after
// each of another's characters, then everything deleted: see
// codec_malformed_test.cc), so the bound sits above that. Decoding then
// allocates at most ~256 structs (~50 KB) per input byte plus a constant.
inline constexpr uint32_t kMaxStructsPerByte = 256;
// ReadOptions::max_structs_per_byte for updates this process wrote itself
// (a document's pending structs re-read or merged): re-encoding can pack
// accepted structs denser than any per-byte bound, and their number is
// already bounded by the untrusted inputs they came from.
inline constexpr uint32_t kUnboundedStructs = UINT32_MAX;

struct ReadOptions {
  // Names the input in error messages ("update", "update 3 of 5", ...).
  std::string_view label = "update";
  // Bound on the structs per input byte (plus a small constant); see
  // kMaxStructsPerByte. kUnboundedStructs lifts it for trusted input.
  uint32_t max_structs_per_byte = kMaxStructsPerByte;
};

// Options for reading an update this process encoded itself.
inline ReadOptions TrustedReadOptions() {
  ReadOptions o;
  o.max_structs_per_byte = kUnboundedStructs;
  return o;
}

// Decodes a whole update (structs, then delete set). Safe on untrusted
// input: a malformed update (including a struct of length 0, which yjs
// never writes and which would break clock arithmetic) is rejected whole
// with InvalidArgument naming the label and the byte offset. Trailing bytes
// after the delete set are ignored, as yjs does.
absl::StatusOr<DecodedUpdate> ReadUpdate(std::span<const uint8_t> update,
                                         UpdateVersion version,
                                         const ReadOptions& options = {});

// Writes `s` as Item.write / GC.write / Skip.write do, `offset` units into
// it (offset < s.length): an item then gets origin (client, clock+offset-1)
// and loses its first `offset` units of content. The 0x20 bit is set iff
// `parent_sub` is known, unless keep_parent_sub_bit copies it from
// `s.info` (to re-create yjs-integrated bytes exactly). Fails only where yjs
// throws: a v1 embed/format value JSON.stringify cannot print, an item with
// no origin and no parent.
absl::Status WriteStruct(internal::UpdateEncoderV1& enc, const WireStruct& s,
                         uint64_t offset, bool keep_parent_sub_bit = false);
absl::Status WriteStruct(internal::UpdateEncoderV2& enc, const WireStruct& s,
                         uint64_t offset, bool keep_parent_sub_bit = false);

// Encodes a decoded update again: each section as read (offset 0), then the
// delete set (clients descending, ranges as stored).
absl::StatusOr<std::vector<uint8_t>> WriteUpdate(
    const DecodedUpdate& update, UpdateVersion version,
    bool keep_parent_sub_bit = false);

// sliceStruct: `s` without its first `diff` units (0 < diff < s.length).
// Items get origin (client, clock+diff-1); strings are cut in UTF-16 units
// and a cut inside a surrogate pair turns its right half into U+FFFD (the
// new string goes to `arena`).
WireStruct SliceStruct(const WireStruct& s, uint64_t diff,
                       internal::StringArena* arena);

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_WIRE_STRUCT_H_
