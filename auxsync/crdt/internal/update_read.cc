// Updates read into the engine's structs: the codec's reader (struct_reader.h,
// the same decoders, limits and errors as ReadUpdate) with the common struct
// kinds read straight into the engine's form.
#include <algorithm>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/internal/engine_any.h"
#include "auxsync/crdt/internal/struct_reader.h"
#include "auxsync/crdt/internal/text16.h"
#include "auxsync/crdt/internal/update_decoder.h"
#include "auxsync/crdt/internal/utf8.h"
#include "auxsync/crdt/wire_struct.h"

namespace auxsync::crdt::engine {

namespace {

// The codec's WireStruct (views into the update) as a decoded engine
// struct: owned strings, UTF-16 text, parsed values, in `out->item`.
bool ToEngineStruct(crdt::WireStruct& in, DecodedStruct* out, ItemPool& pool,
                    std::string* error) {
  Item* it = out->item;
  it->id = {in.id.client, in.id.clock};
  it->length = in.length;
  if (in.kind == StructKind::kGC) {
    it->gc = true;
    it->deleted = true;
    return true;
  }
  if (in.kind == StructKind::kSkip) {
    it->content.ref = kRefSkip;
    return true;
  }
  if (in.origin) it->SetOrigin({in.origin->client, in.origin->clock});
  if (in.right_origin) {
    it->SetRightOrigin({in.right_origin->client, in.right_origin->clock});
  }
  if (const auto* name = std::get_if<std::string_view>(&in.parent)) {
    out->parent_kind = 1;
    out->parent_name = *name;
  } else if (const auto* id = std::get_if<ID>(&in.parent)) {
    out->parent_kind = 2;
    out->parent_id = {id->client, id->clock};
  }
  if (in.parent_sub) {
    it->has_parent_sub = true;
    it->parent_sub = pool.Key(*in.parent_sub);
  }
  Content& c = it->content;
  c.ref = static_cast<uint8_t>(ContentRefOf(in.content));
  switch (c.ref) {
    case kRefDeleted:
      break;  // its length is the item's
    case kRefJson: {
      auto& json = std::get<JsonContent>(in.content);
      c.anys().reserve(json.texts.size());
      for (std::string_view t : json.texts) {
        Any v;  // "undefined" stays undefined
        if (t != "undefined" && !JsonParse(t, &v)) {
          *error = "ContentJSON element is not JSON";
          return false;
        }
        c.anys().push_back(std::move(v));
      }
      break;
    }
    case kRefBinary: {
      auto b = std::get<BinaryContent>(in.content).bytes;
      c.bytes().assign(reinterpret_cast<const char*>(b.data()), b.size());
      break;
    }
    case kRefString: {
      const auto& sc = std::get<StringContent>(in.content);
      // The reader validated the UTF-8. (Not reached by the decoder:
      // ReadCommonStruct reads every string.)
      std::u16string units;
      internal::AppendValidUtf8AsUtf16(sc.utf8, &units);
      c.str.assign(units);
      // Keep the halves of a pair a v2 cut split, as JavaScript does.
      if (sc.lead_low != 0) c.str.front() = sc.lead_low;
      if (sc.trail_high != 0) c.str.back() = sc.trail_high;
      break;
    }
    case kRefEmbed:
      c.anys().push_back(std::move(std::get<EmbedContent>(in.content).value));
      break;
    case kRefFormat: {
      auto& f = std::get<FormatContent>(in.content);
      c.bytes() = std::string(f.key);
      c.anys().push_back(std::move(f.value));
      break;
    }
    case kRefType: {
      const auto& t = std::get<TypeContent>(in.content);
      c.set_type(std::make_unique<TypeImpl>());
      c.type()->kind = static_cast<TypeKind>(t.type_ref);
      if (t.type_ref == TypeRef::kXmlElement || t.type_ref == TypeRef::kXmlHook)
        c.type()->node_name = std::string(t.name);
      break;
    }
    case kRefAny: {
      auto& values = std::get<AnyContent>(in.content).values;
      c.anys().assign(std::make_move_iterator(values.begin()),
                      std::make_move_iterator(values.end()));
      break;
    }
    case kRefDoc: {
      auto& d = std::get<DocContent>(in.content);
      c.bytes() = std::string(d.guid);
      c.anys().push_back(std::move(d.opts));
      break;
    }
    default:
      *error = "unknown content";
      return false;
  }
  return true;
}

// Where a decoded update's strings go: up to Text16::kInline units inline
// in their item, longer ones into TextBlocks shared by the update's strings
// (text16.h): one allocation per 32K units instead of one per string.
class StringSink {
 public:
  StringSink() = default;
  StringSink(const StringSink&) = delete;
  StringSink& operator=(const StringSink&) = delete;
  ~StringSink() { Close(); }
  // Sets `*out` to valid UTF-8 `utf8` of `units` UTF-16 units (ValidateUtf8
  // counted them). `bound`: no more units than this are left in the
  // update's strings, this one included (a small update's block is sized
  // by it).
  void Put(std::string_view utf8, uint64_t units, size_t bound, Text16* out) {
    if (units <= Text16::kInline) {
      char16_t* o = out->OverwriteInline(static_cast<size_t>(units));
      if (units == utf8.size()) {
        for (size_t i = 0; i < utf8.size(); ++i) {
          o[i] = static_cast<unsigned char>(utf8[i]);
        }
      } else {
        internal::WriteValidUtf8AsUtf16(utf8, units, o);
      }
      return;
    }
    const size_t n = static_cast<size_t>(units);
    Reserve(n, bound);
    const size_t offset = block_->size();
    internal::WriteValidUtf8AsUtf16(utf8, units, block_->Extend(n));
    *out = Text16::View(block_, offset, n);
  }
  // Put for `utf8` (at least one byte) not validated yet: ASCII (most
  // text) is checked while it is widened. Returns its UTF-16 units, or 0
  // when it is not valid UTF-8 (then `*out` is left empty and the block
  // as it was).
  uint64_t PutValidating(std::string_view utf8, size_t bound, Text16* out) {
    const size_t n = utf8.size();
    const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
    if (n <= Text16::kInline) {
      char16_t* o = out->OverwriteInline(n);
      unsigned acc = 0;
      for (size_t i = 0; i < n; ++i) {
        acc |= p[i];
        o[i] = p[i];
      }
      if (acc < 0x80) return n;
    } else {
      Reserve(n, bound);
      const size_t offset = block_->size();
      if (internal::WidenIfAscii(utf8, block_->Extend(n))) {
        *out = Text16::View(block_, offset, n);
        return n;
      }
      block_->Truncate(offset);
    }
    uint64_t units = 0;
    if (!internal::ValidateUtf8(utf8, &units)) {
      out->Release();
      return 0;
    }
    Put(utf8, units, bound, out);
    return units;
  }

 private:
  static constexpr size_t kBlockUnits = 32 * 1024;  // 64 KiB
  // Makes room for `n` units in block_.
  void Reserve(size_t n, size_t bound) {
    if (block_ == nullptr || block_->capacity() - block_->size() < n) {
      Close();
      // Blocks below malloc's mmap threshold come from memory the heap
      // already has (a fresh mapping would cost a page fault per 4 KiB).
      block_ = TextBlock::New(std::max(n, std::min(bound, kBlockUnits)));
    }
  }
  // Drops the sink's reference; the block keeps what its views hold,
  // without the room left.
  void Close() {
    if (block_ == nullptr) return;
    block_->ShrinkToFit();
    block_->Unref();
    block_ = nullptr;
  }
  TextBlock* block_ = nullptr;  // the block being filled (one reference)
};

// The structs that make up most documents (items whose content is a
// string, deleted, a type or plain values) read straight into the engine's
// form, with ReadStructBody's checks and errors. Returns true when it read
// the struct; false with *failed = false when the struct is of another kind
// (nothing read past `info`: ReadStructBody reads it), or with *failed =
// true on an error (the decoder holds it).
template <typename Dec>
bool ReadCommonStruct(Dec& dec, uint8_t info, size_t start, uint64_t client,
                      uint64_t clock, DecodedStruct* s, ItemPool& pool,
                      StringSink& strings, bool* failed) {
  const uint8_t ref = info & 0x1f;
  *failed = false;
  if (ref != kRefString && ref != kRefDeleted && ref != kRefType &&
      ref != kRefAny) {
    return false;
  }
  *failed = true;
  Item* it = s->item;
  it->id = {client, clock};
  if (info & 0x80) {
    const ID o = dec.ReadLeftID();
    it->SetOrigin({o.client, o.clock});
  }
  if (info & 0x40) {
    const ID o = dec.ReadRightID();
    it->SetRightOrigin({o.client, o.clock});
  }
  if ((info & 0xc0) == 0) {
    if (dec.ReadParentInfo()) {
      const std::string_view name = dec.ReadString();
      s->parent_kind = 1;
      s->parent_name = name;
    } else {
      const ID p = dec.ReadLeftID();
      s->parent_kind = 2;
      s->parent_id = {p.client, p.clock};
    }
    if (info & 0x20) {
      const std::string_view key = dec.ReadString();
      it->has_parent_sub = true;
      it->parent_sub = pool.Key(key);
    }
  }
  if (!dec.ok()) return false;
  Content& c = it->content;
  c.ref = ref;
  char16_t lead_low = 0, trail_high = 0;
  std::string_view utf8;
  uint64_t length = 0;
  switch (ref) {
    case kRefDeleted:
      length = dec.ReadLen();
      break;
    case kRefString: {
      utf8 = dec.ReadString(&length);
      dec.LastStringHalves(&lead_low, &trail_high);
      break;
    }
    case kRefType: {
      const uint64_t type_ref = dec.ReadTypeRef();
      if (!dec.ok()) return false;
      if (type_ref > 6) {
        dec.rest().FailAt(start, absl::StrCat("unknown type ref ", type_ref));
        return false;
      }
      c.set_type(std::make_unique<TypeImpl>());
      c.type()->kind = static_cast<TypeKind>(type_ref);
      const auto t = static_cast<TypeRef>(type_ref);
      if (t == TypeRef::kXmlElement || t == TypeRef::kXmlHook) {
        const std::string_view name = dec.ReadKey();
        c.type()->node_name.assign(name.data(), name.size());
      }
      length = 1;
      break;
    }
    default: {  // kRefAny
      const uint64_t n = dec.ReadLen();
      if (!dec.ok()) return false;
      if (n > dec.rest().remaining()) {
        dec.rest().Fail(
            "ContentAny declares more elements than the input can hold");
        return false;
      }
      Content::AnyList& values = c.anys();
      values.reserve(static_cast<size_t>(n));
      for (uint64_t i = 0; i < n && dec.ok(); ++i) {
        values.push_back(dec.ReadAny());
      }
      length = n;
      break;
    }
  }
  if (!dec.ok()) return false;
  if (length == 0) {
    dec.rest().FailAt(start, "struct of length 0");
    return false;
  }
  if (length > kMaxSafeInteger - clock) {
    dec.rest().FailAt(start, "struct extends beyond clock 2^53");
    return false;
  }
  it->length = length;
  if (ref == kRefString) {
    // The reader validated the UTF-8 and counted its UTF-16 units; the
    // string column (v2) or the rest of the update (v1) bounds the units
    // still to come.
    strings.Put(utf8, length, dec.remaining_string_bytes() + utf8.size(),
                &c.str);
    // Keep the halves of a pair a v2 cut split, as JavaScript does.
    if (lead_low != 0) c.str.front() = lead_low;
    if (trail_high != 0) c.str.back() = trail_high;
  }
  *failed = false;
  return true;
}

// A var-uint of up to five bytes (35 bits: every clock, length and client
// yjs writes; below 2^53) at `p`, which has at least five readable bytes.
// False when it is longer (the checked reader takes it).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool FastVarUint(const uint8_t*& p,
                                                     uint64_t* v) {
  uint64_t b = p[0];
  if (b < 0x80) {
    *v = b;
    p += 1;
    return true;
  }
  uint64_t r = b & 0x7f;
  b = p[1];
  r |= (b & 0x7f) << 7;
  if (b < 0x80) {
    *v = r;
    p += 2;
    return true;
  }
  b = p[2];
  r |= (b & 0x7f) << 14;
  if (b < 0x80) {
    *v = r;
    p += 3;
    return true;
  }
  b = p[3];
  r |= (b & 0x7f) << 21;
  if (b < 0x80) {
    *v = r;
    p += 4;
    return true;
  }
  b = p[4];
  r |= (b & 0x7f) << 28;
  if (b < 0x80) {
    *v = r;
    p += 5;
    return true;
  }
  return false;
}

// A v1 struct with string or deleted content and an origin or a right
// origin (what most of a text document is) read from a local cursor,
// without the decoder's per-field bookkeeping. Returns false, having
// consumed and changed nothing, for every other struct and for anything
// unusual (a var-int longer than five bytes, the end of the input near,
// invalid UTF-8, a length the checks reject): ReadCommonStruct then reads
// it with its checks and errors.
bool ReadV1Fast(internal::Lib0Decoder& rest, uint64_t client, uint64_t clock,
                DecodedStruct* s, StringSink& strings) {
  const uint8_t* p = rest.cursor();
  const uint8_t* const end = rest.end();
  // Room for the info byte, four var-ints of up to five bytes and a
  // string's length (whose bytes are checked against `end`), each var-int
  // read as up to eight bytes.
  if (end - p < 32) return false;
  const uint8_t info = *p;
  const uint8_t ref = info & 0x1f;
  if ((ref != kRefString && ref != kRefDeleted) || (info & 0xc0) == 0) {
    return false;
  }
  ++p;
  uint64_t oc = 0, ok = 0, rc = 0, rk = 0;
  if ((info & 0x80) && !(FastVarUint(p, &oc) && FastVarUint(p, &ok))) {
    return false;
  }
  if ((info & 0x40) && !(FastVarUint(p, &rc) && FastVarUint(p, &rk))) {
    return false;
  }
  uint64_t length = 0;
  std::string_view utf8;
  if (ref == kRefDeleted) {
    if (!FastVarUint(p, &length)) return false;
  } else {
    // Validated (and its units counted) when it is stored, below.
    uint64_t n;
    if (!FastVarUint(p, &n) || n > static_cast<uint64_t>(end - p)) {
      return false;
    }
    utf8 = std::string_view(reinterpret_cast<const char*>(p),
                            static_cast<size_t>(n));
    p += n;
    length = n;  // an upper bound of its units until then
  }
  if (length == 0 || length > kMaxSafeInteger - clock) return false;
  // A dependency on a later struct of the client: the checked path reports
  // it.
  if (((info & 0x80) && oc == client && ok >= clock) ||
      ((info & 0x40) && rc == client && rk >= clock)) {
    return false;
  }
  if (ref == kRefString) {
    // Last: a string that is not valid UTF-8 leaves the rest unread.
    length =
        strings.PutValidating(utf8, static_cast<size_t>(end - p) + utf8.size(),
                              &s->item->content.str);
    if (length == 0) return false;
  }
  rest.Advance(p);
  Item* it = s->item;
  it->id = {client, clock};
  if (info & 0x80) it->SetOrigin({oc, ok});
  if (info & 0x40) it->SetRightOrigin({rc, rk});
  it->length = length;
  it->content.ref = ref;
  return true;
}

// One update through the codec's reader (the same decoders, struct reader,
// limits and errors as ReadUpdate and the update utilities), converted
// struct by struct into the engine's form.
template <typename Dec>
absl::StatusOr<DecodedUpdate> DecodeWith(std::span<const uint8_t> bytes,
                                         ItemPool& pool,
                                         const ReadOptions& options) {
  DecodedUpdate out;
  internal::StringArena& arena = out.strings;
  // Destroyed before `out` is returned: by then the items hold the block.
  StringSink strings;
  Dec dec(bytes, options.label, &arena);
  internal::Lib0Decoder& rest = dec.rest();
  internal::StructBudget budget =
      internal::StructBudget::For(bytes.size(), options.max_structs_per_byte);
  absl::flat_hash_map<uint64_t, size_t> index;
  uint64_t num_sections = rest.ReadVarUint();
  if (num_sections > rest.remaining()) {
    rest.Fail("update declares more client sections than the input can hold");
  }
  auto free_items = [&pool](std::vector<DecodedStruct>& v) {
    for (DecodedStruct& s : v) pool.Free(s.item);
    v.clear();
  };
  crdt::WireStruct ws;
  std::string error;
  bool done = false;
  std::vector<DecodedStruct> structs;
  for (uint64_t i = 0; i < num_sections && dec.ok(); ++i) {
    uint64_t n = rest.ReadVarUint();
    const uint64_t client = dec.ReadClient();
    uint64_t clock = rest.ReadVarUint();
    if (!dec.ok()) break;
    if (n > budget.left) {
      rest.Fail("too many structs for the size of the update");
      break;
    }
    budget.left -= n;
    // Bounded by the input: a v1 struct takes at least two bytes of the
    // rest; a v2 struct can take less than one byte of its columns, so
    // there the bound is a share of the whole update (growing past it
    // relocates every struct read so far).
    const uint64_t bound =
        Dec::kVersion == 1 ? rest.remaining() + 1 : bytes.size() / 4 + 64;
    structs.reserve(static_cast<size_t>(std::min<uint64_t>(n, bound)));
    for (uint64_t j = 0; j < n; ++j) {
      const size_t start = rest.offset();
      DecodedStruct& s = structs.emplace_back();
      s.item = pool.New();
      bool fast = false;
      if constexpr (Dec::kVersion == 1) {
        fast = ReadV1Fast(rest, client, clock, &s, strings);
      }
      const Item* it = s.item;
      if (fast) {
        // ReadV1Fast checked the dependencies.
        clock += it->length;
        continue;
      }
      const uint8_t info = dec.ReadInfo();
      if (!dec.ok()) break;
      if (!ReadCommonStruct(dec, info, start, client, clock, &s, pool, strings,
                            &done)) {
        if (done) break;  // failed
        if (!internal::ReadStructBody(dec, info, start, client, clock, &arena,
                                      &ws)) {
          break;
        }
        if (!ToEngineStruct(ws, &s, pool, &error)) {
          rest.FailAt(start, error);
          break;
        }
      }
      // Integration needs a struct's own-client dependencies before it.
      if (!it->gc && !s.skip() &&
          ((it->has_origin && it->origin.client == client &&
            it->origin.clock >= clock) ||
           (it->has_right_origin && it->right_origin.client == client &&
            it->right_origin.clock >= clock) ||
           (s.parent_kind == 2 && s.parent_id.client == client &&
            s.parent_id.clock >= clock))) {
        rest.FailAt(start, absl::StrCat("struct ", client, ":", clock,
                                        " depends on a later struct of its "
                                        "client"));
        break;
      }
      clock += it->length;
    }
    if (!dec.ok()) break;
    auto [it, inserted] = index.try_emplace(client, out.clients.size());
    if (inserted) {
      out.clients.push_back({client, std::move(structs)});
    } else {
      // The last one wins.
      free_items(out.clients[it->second].second);
      out.clients[it->second].second = std::move(structs);
    }
    structs = std::vector<DecodedStruct>();
  }
  if (!dec.ok()) {
    free_items(structs);
    for (auto& [c, v] : out.clients) free_items(v);
    return dec.status();
  }
  std::sort(out.clients.begin(), out.clients.end(),
            [](auto& a, auto& b) { return a.first > b.first; });
  // The delete set, in wire order (yjs applies it in that order, which
  // decides the order of events).
  ForEachDeleteRange(
      dec,
      [&](uint64_t client) {
        out.ds.emplace_back(client,
                            std::vector<std::pair<uint64_t, uint64_t>>());
      },
      [&](uint64_t clock, uint64_t len) {
        if (len > 0) out.ds.back().second.push_back({clock, len});
      });
  if (!dec.ok()) {
    for (auto& [c, v] : out.clients) free_items(v);
    return dec.status();
  }
  return out;
}

}  // namespace

absl::StatusOr<DecodedUpdate> DecodeUpdate(std::span<const uint8_t> bytes,
                                           bool v2, ItemPool& pool,
                                           const ReadOptions& options) {
  if (v2) return DecodeWith<internal::UpdateDecoderV2>(bytes, pool, options);
  return DecodeWith<internal::UpdateDecoderV1>(bytes, pool, options);
}

}  // namespace auxsync::crdt::engine
