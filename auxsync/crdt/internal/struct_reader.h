// Copyright 2025 The auxsync Authors.
//
// Reading one struct of an update, and StructReader, the C++ form of yjs's
// LazyStructReader (structs one by one in wire order).

#ifndef AUXSYNC_CRDT_INTERNAL_STRUCT_READER_H_
#define AUXSYNC_CRDT_INTERNAL_STRUCT_READER_H_

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "auxsync/crdt/internal/json.h"
#include "auxsync/crdt/internal/update_decoder.h"
#include "auxsync/crdt/wire_struct.h"

namespace auxsync::crdt::internal {

// Counts structs against the bound of ReadOptions::max_structs_per_byte.
struct StructBudget {
  uint64_t left;
  static StructBudget For(size_t input_size, uint32_t per_byte) {
    if (per_byte == kUnboundedStructs) return StructBudget{UINT64_MAX};
    return StructBudget{uint64_t{per_byte} * input_size + 64};
  }
};

// Subdocument options as yjs re-derives them (createDocFromOpts, then the
// ContentDoc constructor). May replace `*guid` (an own "guid" key overrides
// it in `{guid, ...opts}`); the new guid is kept in `arena`.
bool NormalizeDocOpts(const Any& opts, std::string_view* guid, Any* out,
                      StringArena* arena, std::string* error);

// Reads the struct starting at (client, clock). Returns false on a decoding
// error (recorded in the decoder).
// ReadStructAt after its info byte (`info`, read from offset `start`).
template <typename Dec>
bool ReadStructBody(Dec& dec, uint8_t info, size_t start, uint64_t client,
                    uint64_t clock, StringArena* arena, WireStruct* out) {
  Lib0Decoder& rest = dec.rest();
  out->id = ID{client, clock};
  out->info = info;
  out->origin.reset();
  out->right_origin.reset();
  out->parent = std::monostate{};
  out->parent_sub.reset();
  if (info == 10) {
    out->kind = StructKind::kSkip;
    out->length = rest.ReadVarUint();
    out->content = DeletedContent{};
  } else if ((info & 0x1f) == 0) {
    // High bits of a GC info byte are ignored, as in yjs.
    out->kind = StructKind::kGC;
    out->length = dec.ReadLen();
    out->content = DeletedContent{};
  } else {
    out->kind = StructKind::kItem;
    if (info & 0x80) out->origin = dec.ReadLeftID();
    if (info & 0x40) out->right_origin = dec.ReadRightID();
    if ((info & 0xc0) == 0) {
      if (dec.ReadParentInfo()) {
        out->parent = dec.ReadString();
      } else {
        out->parent = dec.ReadLeftID();
      }
      if (info & 0x20) out->parent_sub = dec.ReadString();
    }
    if (!dec.ok()) return false;
    switch (info & 0x1f) {
      case 1: {
        uint64_t len = dec.ReadLen();
        out->content = DeletedContent{len};
        out->length = len;
        break;
      }
      case 2: {
        uint64_t n = dec.ReadLen();
        // Every element is a non-empty JSON text.
        if (n > dec.remaining_string_bytes()) {
          rest.Fail(
              "ContentJSON declares more elements than the input can hold");
          return false;
        }
        JsonContent c;
        c.texts.reserve(static_cast<size_t>(n));
        for (uint64_t i = 0; i < n && dec.ok(); ++i) {
          std::string_view t = dec.ReadString();
          if (!dec.ok()) return false;
          if (t != "undefined") {
            absl::StatusOr<Any> parsed = ParseJson(t);
            if (!parsed.ok()) {
              rest.FailAt(start, absl::StrCat("ContentJSON element: ",
                                              parsed.status().message()));
              return false;
            }
            // yjs keeps JSON.parse(text) and writes JSON.stringify of it, so
            // a text in another spelling is written normalised.
            std::string norm;
            StringifyJson(*parsed, &norm);
            if (norm != t && arena != nullptr) t = arena->Add(std::move(norm));
          }
          c.texts.push_back(t);
        }
        out->length = n;
        out->content = std::move(c);
        break;
      }
      case 3:
        out->content = BinaryContent{dec.ReadBuf()};
        out->length = 1;
        break;
      case 4: {
        uint64_t units = 0;
        std::string_view s = dec.ReadString(&units);
        StringContent c{s, units};
        dec.LastStringHalves(&c.lead_low, &c.trail_high);
        out->content = c;
        out->length = units;
        break;
      }
      case 5:
        out->content = EmbedContent{dec.ReadJSON()};
        out->length = 1;
        break;
      case 6: {
        std::string_view key = dec.ReadKey();
        out->content = FormatContent{key, dec.ReadJSON()};
        out->length = 1;
        break;
      }
      case 7: {
        uint64_t ref = dec.ReadTypeRef();
        if (!dec.ok()) return false;
        if (ref > 6) {
          rest.FailAt(start, absl::StrCat("unknown type ref ", ref));
          return false;
        }
        TypeContent c{static_cast<TypeRef>(ref), {}};
        if (c.type_ref == TypeRef::kXmlElement ||
            c.type_ref == TypeRef::kXmlHook) {
          c.name = dec.ReadKey();
        }
        out->content = c;
        out->length = 1;
        break;
      }
      case 8: {
        uint64_t n = dec.ReadLen();
        if (n > rest.remaining()) {
          rest.Fail(
              "ContentAny declares more elements than the input can hold");
          return false;
        }
        AnyContent c;
        c.values.reserve(static_cast<size_t>(n));
        for (uint64_t i = 0; i < n && dec.ok(); ++i)
          c.values.push_back(dec.ReadAny());
        out->length = n;
        out->content = std::move(c);
        break;
      }
      case 9: {
        std::string_view guid = dec.ReadString();
        Any opts = dec.ReadAny();
        if (!dec.ok()) return false;
        Any norm;
        std::string error;
        if (!NormalizeDocOpts(opts, &guid, &norm, arena, &error)) {
          rest.FailAt(start, error);
          return false;
        }
        out->content = DocContent{guid, std::move(norm)};
        out->length = 1;
        break;
      }
      default:
        rest.FailAt(start, absl::StrCat("unknown content ref ", info & 0x1f));
        return false;
    }
  }
  if (!dec.ok()) return false;
  if (out->length == 0) {
    // yjs never writes one; accepted, it would share its clock with the
    // next struct and break every clock lookup.
    rest.FailAt(start, "struct of length 0");
    return false;
  }
  if (out->length > kMaxSafeInteger - clock) {
    rest.FailAt(start, "struct extends beyond clock 2^53");
    return false;
  }
  return true;
}

// LazyStructReader: yields the structs of an update in wire order. With
// `filter_skips`, Skip structs are passed over (mergeUpdates).
template <typename Dec>
bool ReadStructAt(Dec& dec, uint64_t client, uint64_t clock, StringArena* arena,
                  WireStruct* out) {
  const size_t start = dec.rest().offset();
  const uint8_t info = dec.ReadInfo();
  if (!dec.ok()) return false;
  return ReadStructBody(dec, info, start, client, clock, arena, out);
}

template <typename Dec>
class StructReader {
 public:
  StructReader(Dec& dec, bool filter_skips, StringArena* arena,
               StructBudget budget)
      : dec_(dec), filter_skips_(filter_skips), arena_(arena), budget_(budget) {
    sections_left_ = dec_.rest().ReadVarUint();
    Next();
  }

  // The current struct, or nullptr when done (or on error: check ok()).
  WireStruct* curr() { return has_curr_ ? &curr_ : nullptr; }
  const WireStruct* curr() const { return has_curr_ ? &curr_ : nullptr; }
  bool ok() const { return dec_.ok(); }
  absl::Status status() const { return dec_.status(); }

  // Advances; returns the new current struct or nullptr.
  WireStruct* Next() {
    do {
      has_curr_ = ReadOne();
    } while (has_curr_ && filter_skips_ && curr_.kind == StructKind::kSkip);
    return curr();
  }

 private:
  bool ReadOne() {
    if (!dec_.ok()) return false;
    while (structs_left_ == 0) {
      if (sections_left_ == 0) return false;
      --sections_left_;
      structs_left_ = dec_.rest().ReadVarUint();
      client_ = dec_.ReadClient();
      clock_ = dec_.rest().ReadVarUint();
      if (!dec_.ok()) return false;
    }
    --structs_left_;
    if (budget_.left == 0) {
      dec_.rest().Fail("too many structs for the size of the update");
      return false;
    }
    --budget_.left;
    if (!ReadStructAt(dec_, client_, clock_, arena_, &curr_)) return false;
    clock_ += curr_.length;
    return true;
  }

  Dec& dec_;
  bool filter_skips_;
  StringArena* arena_;
  StructBudget budget_;
  uint64_t sections_left_ = 0;
  uint64_t structs_left_ = 0;
  uint64_t client_ = 0;
  uint64_t clock_ = 0;
  WireStruct curr_;
  bool has_curr_ = false;
};

}  // namespace auxsync::crdt::internal

#endif  // AUXSYNC_CRDT_INTERNAL_STRUCT_READER_H_
