// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/wire_struct.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "auxsync/crdt/internal/struct_reader.h"
#include "auxsync/crdt/internal/utf8.h"

namespace auxsync::crdt {

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// clang 14 does not deduce aggregate template arguments (P1816) yet.
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

uint64_t ContentLength(const WireContent& c) {
  return std::visit(Overloaded{
                        [](const DeletedContent& d) { return d.len; },
                        [](const JsonContent& j) {
                          return static_cast<uint64_t>(j.texts.size());
                        },
                        [](const StringContent& s) { return s.utf16_len; },
                        [](const AnyContent& a) {
                          return static_cast<uint64_t>(a.values.size());
                        },
                        [](const auto&) { return uint64_t{1}; },
                    },
                    c);
}

ContentRef ContentRefOf(const WireContent& c) {
  return static_cast<ContentRef>(c.index() + 1);
}

namespace internal {

bool NormalizeDocOpts(const Any& opts, std::string_view* guid, Any* out,
                      StringArena* arena, std::string* error) {
  // `opts.shouldLoad` throws on null and undefined.
  if (opts.is_undefined() || opts.is_null()) {
    *error = "subdocument options are null or undefined";
    return false;
  }
  Any::Map norm;
  if (opts.kind() == Any::Kind::kMap) {
    if (const Any* g = opts.Find("guid"); g != nullptr && !g->is_undefined()) {
      if (g->kind() != Any::Kind::kString) {
        *error = "subdocument options carry a guid that is not a string";
        return false;
      }
      *guid = arena->Add(g->string());
    }
    // new Doc({gc = true, autoLoad = false, meta = null}) then ContentDoc
    // keeps only the non-defaults, in this order.
    if (const Any* gc = opts.Find("gc");
        gc != nullptr && !gc->is_undefined() && !gc->Truthy()) {
      norm.emplace_back("gc", Any::MakeBool(false));
    }
    if (const Any* al = opts.Find("autoLoad"); al != nullptr && al->Truthy()) {
      norm.emplace_back("autoLoad", Any::MakeBool(true));
    }
    if (const Any* meta = opts.Find("meta");
        meta != nullptr && !meta->is_undefined() && !meta->is_null()) {
      norm.emplace_back("meta", *meta);
    }
  }
  *out = Any::MakeMap(std::move(norm));
  return true;
}

}  // namespace internal

namespace {

template <typename Enc>
void WriteContent(Enc& enc, const WireContent& content, uint64_t offset) {
  std::visit(Overloaded{
                 [&](const DeletedContent& d) { enc.WriteLen(d.len - offset); },
                 [&](const JsonContent& j) {
                   enc.WriteLen(j.texts.size() - offset);
                   for (size_t i = static_cast<size_t>(offset);
                        i < j.texts.size(); ++i) {
                     enc.WriteString(j.texts[i]);
                   }
                 },
                 [&](const BinaryContent& b) { enc.WriteBuf(b.bytes); },
                 [&](const StringContent& s) {
                   if (offset == 0) {
                     enc.WriteString(s.utf8, s.utf16_len);
                   } else {
                     // str.slice(offset); an orphaned low surrogate becomes
                     // U+FFFD.
                     std::string tail;
                     internal::AppendUtf16Suffix(s.utf8, offset, &tail);
                     enc.WriteString(tail, s.utf16_len - offset);
                   }
                 },
                 [&](const EmbedContent& e) { enc.WriteJSON(e.value); },
                 [&](const FormatContent& f) {
                   enc.WriteKey(f.key);
                   enc.WriteJSON(f.value);
                 },
                 [&](const TypeContent& t) {
                   enc.WriteTypeRef(static_cast<uint64_t>(t.type_ref));
                   if (t.type_ref == TypeRef::kXmlElement ||
                       t.type_ref == TypeRef::kXmlHook) {
                     enc.WriteKey(t.name);
                   }
                 },
                 [&](const AnyContent& a) {
                   enc.WriteLen(a.values.size() - offset);
                   for (size_t i = static_cast<size_t>(offset);
                        i < a.values.size(); ++i) {
                     enc.WriteAny(a.values[i]);
                   }
                 },
                 [&](const DocContent& d) {
                   enc.WriteString(d.guid);
                   enc.WriteAny(d.opts);
                 },
             },
             content);
}

template <typename Enc>
absl::Status WriteStructImpl(Enc& enc, const WireStruct& s, uint64_t offset,
                             bool keep_parent_sub_bit) {
  switch (s.kind) {
    case StructKind::kGC:
      enc.WriteInfo(0);
      enc.WriteLen(s.length - offset);
      return absl::OkStatus();
    case StructKind::kSkip:
      enc.WriteInfo(10);
      enc.rest().WriteVarUint(s.length - offset);
      return absl::OkStatus();
    case StructKind::kItem:
      break;
  }
  std::optional<ID> origin = s.origin;
  if (offset > 0) origin = ID{s.id.client, s.id.clock + offset - 1};
  const bool has_sub =
      s.parent_sub.has_value() || (keep_parent_sub_bit && (s.info & 0x20) != 0);
  const uint8_t info = static_cast<uint8_t>(
      (static_cast<uint8_t>(ContentRefOf(s.content)) & 0x1f) |
      (origin ? 0x80 : 0) | (s.right_origin ? 0x40 : 0) | (has_sub ? 0x20 : 0));
  enc.WriteInfo(info);
  if (origin) enc.WriteLeftID(*origin);
  if (s.right_origin) enc.WriteRightID(*s.right_origin);
  if (!origin && !s.right_origin) {
    if (const auto* root = std::get_if<std::string_view>(&s.parent)) {
      enc.WriteParentInfo(true);
      enc.WriteString(*root);
    } else if (const auto* pid = std::get_if<ID>(&s.parent)) {
      enc.WriteParentInfo(false);
      enc.WriteLeftID(*pid);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("item (", s.id.client, ",", s.id.clock,
                       ") has neither origin nor parent"));
    }
    if (s.parent_sub) enc.WriteString(*s.parent_sub);
  }
  WriteContent(enc, s.content, offset);
  return enc.status();
}

template <typename Dec>
absl::StatusOr<DecodedUpdate> ReadUpdateImpl(std::span<const uint8_t> update,
                                             const ReadOptions& options) {
  DecodedUpdate out;
  Dec dec(update, options.label, &out.arena);
  internal::Lib0Decoder& rest = dec.rest();
  internal::StructBudget budget =
      internal::StructBudget::For(update.size(), options.max_structs_per_byte);
  uint64_t num_sections = rest.ReadVarUint();
  if (num_sections > rest.remaining()) {
    rest.Fail("update declares more client sections than the input can hold");
  }
  if (dec.ok()) out.sections.reserve(static_cast<size_t>(num_sections));
  for (uint64_t i = 0; i < num_sections && dec.ok(); ++i) {
    ClientSection sec;
    uint64_t n = rest.ReadVarUint();
    sec.client = dec.ReadClient();
    sec.first_clock = rest.ReadVarUint();
    if (n > budget.left) {
      rest.Fail("too many structs for the size of the update");
      break;
    }
    budget.left -= n;
    if (!dec.ok()) break;
    // Reserve only what the remaining bytes can justify; v2 structs may
    // take no rest bytes at all, and then the vector grows as they arrive.
    sec.structs.reserve(
        static_cast<size_t>(std::min<uint64_t>(n, rest.remaining() + 1)));
    uint64_t clock = sec.first_clock;
    for (uint64_t j = 0; j < n; ++j) {
      WireStruct& s = sec.structs.emplace_back();
      if (!internal::ReadStructAt(dec, sec.client, clock, &out.arena, &s))
        break;
      clock += s.length;
    }
    out.sections.push_back(std::move(sec));
  }
  if (dec.ok()) out.delete_set = DeleteSet::Read(dec);
  if (!dec.ok()) return dec.status();
  return out;
}

template <typename Enc>
absl::StatusOr<std::vector<uint8_t>> WriteUpdateImpl(const DecodedUpdate& u,
                                                     bool keep) {
  Enc enc;
  enc.rest().WriteVarUint(u.sections.size());
  for (const ClientSection& sec : u.sections) {
    enc.rest().WriteVarUint(sec.structs.size());
    enc.WriteClient(sec.client);
    enc.rest().WriteVarUint(sec.structs.empty() ? sec.first_clock
                                                : sec.structs[0].id.clock);
    for (const WireStruct& s : sec.structs) {
      absl::Status st = WriteStructImpl(enc, s, 0, keep);
      if (!st.ok()) return st;
    }
  }
  u.delete_set.Write(enc);
  if (!enc.status().ok()) return enc.status();
  return enc.ToBytes();
}

}  // namespace

absl::Status WriteStruct(internal::UpdateEncoderV1& enc, const WireStruct& s,
                         uint64_t offset, bool keep_parent_sub_bit) {
  return WriteStructImpl(enc, s, offset, keep_parent_sub_bit);
}

absl::Status WriteStruct(internal::UpdateEncoderV2& enc, const WireStruct& s,
                         uint64_t offset, bool keep_parent_sub_bit) {
  return WriteStructImpl(enc, s, offset, keep_parent_sub_bit);
}

absl::StatusOr<DecodedUpdate> ReadUpdate(std::span<const uint8_t> update,
                                         UpdateVersion version,
                                         const ReadOptions& options) {
  if (version == UpdateVersion::kV1) {
    return ReadUpdateImpl<internal::UpdateDecoderV1>(update, options);
  }
  return ReadUpdateImpl<internal::UpdateDecoderV2>(update, options);
}

absl::StatusOr<std::vector<uint8_t>> WriteUpdate(const DecodedUpdate& update,
                                                 UpdateVersion version,
                                                 bool keep_parent_sub_bit) {
  if (version == UpdateVersion::kV1) {
    return WriteUpdateImpl<internal::UpdateEncoderV1>(update,
                                                      keep_parent_sub_bit);
  }
  return WriteUpdateImpl<internal::UpdateEncoderV2>(update,
                                                    keep_parent_sub_bit);
}

WireStruct SliceStruct(const WireStruct& s, uint64_t diff,
                       internal::StringArena* arena) {
  WireStruct r = s;
  r.id.clock += diff;
  r.length -= diff;
  if (s.kind != StructKind::kItem) return r;
  r.origin = ID{s.id.client, s.id.clock + diff - 1};
  std::visit(
      Overloaded{
          [&](DeletedContent& d) { d.len -= diff; },
          [&](JsonContent& j) {
            j.texts.erase(j.texts.begin(),
                          j.texts.begin() + static_cast<ptrdiff_t>(diff));
          },
          [&](StringContent& str) {
            bool split = false;
            size_t at = internal::Utf8OffsetOfUtf16(str.utf8, diff, &split);
            if (split) {
              // ContentString.splice: the right half's first unit
              // (an orphaned low surrogate) becomes U+FFFD.
              std::string t(internal::kReplacementChar);
              t.append(str.utf8.substr(at + 4));
              str.utf8 = arena->Add(std::move(t));
            } else {
              str.utf8 = str.utf8.substr(at);
            }
            str.utf16_len -= diff;
          },
          [&](AnyContent& a) {
            a.values.erase(a.values.begin(),
                           a.values.begin() + static_cast<ptrdiff_t>(diff));
          },
          [&](auto&) {},
      },
      r.content);
  return r;
}

}  // namespace auxsync::crdt
