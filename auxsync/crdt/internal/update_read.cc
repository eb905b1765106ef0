// Updates read into the engine's structs: the codec's reader (struct_reader.h,
// the same decoders, limits and errors as ReadUpdate) with the common struct
// kinds read straight into the engine's form.
#include <algorithm>
#include <bit>
#include <cstring>

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
  Item* it = out->item();
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
    out->SetParentName(*name);
  } else if (const auto* id = std::get_if<ID>(&in.parent)) {
    out->SetParentId({id->client, id->clock});
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
      pool.NewType(c);
      c.type()->kind = static_cast<TypeKind>(t.type_ref);
      if (t.type_ref == TypeRef::kXmlElement || t.type_ref == TypeRef::kXmlHook)
        c.type()->set_node_name(t.name);
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

// Four bytes as the 16-bit units of a little-endian word.
inline uint64_t Widen4(uint32_t bytes) {
  uint64_t t = bytes;
  t = (t | (t << 16)) & 0x0000FFFF0000FFFFu;
  return (t | (t << 8)) & 0x00FF00FF00FF00FFu;
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
    if (PutAscii(utf8, bound, out)) return utf8.size();
    uint64_t units = 0;
    if (!internal::ValidateUtf8(utf8, &units)) {
      out->Release();
      return 0;
    }
    Put(utf8, units, bound, out);
    return units;
  }
  // Put for a v2 string of `bytes.size()` units, which are its bytes when
  // they are all ASCII (checked while they are widened). False, with `*out`
  // left empty and the block's text as it was, when one is not. (Its
  // callers' `bound` is also how many bytes can be read from the string's
  // first on: both are what is left of the input.)
  bool PutAscii(std::string_view bytes, size_t bound, Text16* out) {
    const size_t n = bytes.size();
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    if (n <= Text16::kInline) {
      char16_t* o = out->OverwriteInline(n);
      if (std::endian::native == std::endian::little && bound >= 8) {
        // Eight bytes at once, those past the string masked off: no loop
        // whose trip count (the string's length) varies at random.
        uint64_t w;
        std::memcpy(&w, p, 8);
        w &= n == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1;
        if ((w & 0x8080808080808080u) != 0) {
          out->Release();
          return false;
        }
        const uint64_t units[2] = {Widen4(static_cast<uint32_t>(w)),
                                   Widen4(static_cast<uint32_t>(w >> 32))};
        std::memcpy(o, units, sizeof(units));
        return true;
      }
      unsigned acc = 0;
      for (size_t i = 0; i < n; ++i) {
        acc |= p[i];
        o[i] = p[i];
      }
      if (acc < 0x80) return true;
      out->Release();
      return false;
    }
    Reserve(n, bound);
    const size_t offset = block_->size();
    char16_t* const o = block_->Extend(n);
    // Whole steps of 16 where the input has the bytes: the block has room
    // for the units (kText16ReadSlack past its capacity).
    const bool ascii = bound >= n + 15 ? internal::WidenIfAsciiInSteps(p, n, o)
                                       : internal::WidenIfAscii(bytes, o);
    if (ascii) {
      *out = Text16::View(block_, offset, n);
      return true;
    }
    block_->Truncate(offset);
    return false;
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

// Fails `rest` at `start` (where the struct begins) unless a struct of
// `length` at `clock` is one yjs can hold.
inline bool CheckStructLength(internal::Lib0Decoder& rest, size_t start,
                              uint64_t length, uint64_t clock) {
  if (length == 0) [[unlikely]] {
    rest.FailAt(start, "struct of length 0");
    return false;
  }
  if (length > kMaxSafeInteger - clock) [[unlikely]] {
    rest.FailAt(start, "struct extends beyond clock 2^53");
    return false;
  }
  return true;
}

// Fails `rest` at `start` for the struct (client, clock) naming a struct of
// its own client that comes after it.
void FailLaterDependency(internal::Lib0Decoder& rest, size_t start,
                         uint64_t client, uint64_t clock) {
  rest.FailAt(start, absl::StrCat("struct ", client, ":", clock,
                                  " depends on a later struct of its client"));
}

// A string struct's text as read by the decoder (`utf8`, validated, of
// `units` UTF-16 units; `bound`: bytes of strings still to come), with the
// halves of a surrogate pair a v2 cut split (0 if none), as JavaScript
// keeps them.
void PutReadString(StringSink& strings, std::string_view utf8, uint64_t units,
                   size_t bound, char16_t lead_low, char16_t trail_high,
                   Text16* out) {
  strings.Put(utf8, units, bound, out);
  if (lead_low != 0) out->front() = lead_low;
  if (trail_high != 0) out->back() = trail_high;
}

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
  Item* it = s->item();
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
      s->SetParentName(name);
    } else {
      const ID p = dec.ReadLeftID();
      s->SetParentId({p.client, p.clock});
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
      pool.NewType(c);
      c.type()->kind = static_cast<TypeKind>(type_ref);
      const auto t = static_cast<TypeRef>(type_ref);
      if (t == TypeRef::kXmlElement || t == TypeRef::kXmlHook) {
        const std::string_view name = dec.ReadKey();
        c.type()->set_node_name(name);
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
      Content::AnyList& values = pool.Anys(c);
      values.reserve(static_cast<size_t>(n));
      for (uint64_t i = 0; i < n && dec.ok(); ++i) {
        values.push_back(dec.ReadAny());
      }
      length = n;
      break;
    }
  }
  if (!dec.ok()) return false;
  if (!CheckStructLength(dec.rest(), start, length, clock)) return false;
  it->length = length;
  if (ref == kRefString) {
    // The reader validated the UTF-8 and counted its UTF-16 units; the
    // string column (v2) or the rest of the update (v1) bounds the units
    // still to come.
    PutReadString(strings, utf8, length,
                  dec.remaining_string_bytes() + utf8.size(), lead_low,
                  trail_high, &c.str);
  }
  *failed = false;
  return true;
}

// The string of a v2 struct at `clock` through the string column's reader,
// from and back into the copy of its state `st`: its UTF-16 length in
// `*length`, its text in `*out` when the length is one CheckStructLength
// accepts. False when the update is malformed (the error is in `dec`).
[[gnu::noinline]] bool ReadCheckedString(
    internal::UpdateDecoderV2& dec, internal::StringColumnDecoder::State& st,
    uint64_t clock, StringSink& strings, uint64_t* length, Text16* out) {
  internal::StringColumnDecoder& column = dec.string_column();
  column.set_state(st);
  const std::string_view utf8 = dec.ReadString(length);
  char16_t lead_low = 0, trail_high = 0;
  dec.LastStringHalves(&lead_low, &trail_high);
  st = column.state();
  if (!dec.ok()) return false;
  if (*length != 0 && *length <= kMaxSafeInteger - clock) {
    PutReadString(strings, utf8, *length,
                  dec.remaining_string_bytes() + utf8.size(), lead_low,
                  trail_high, out);
  }
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

// A string's var-uint byte length and its bytes at `p`, as a view of the
// bytes (not validated: the caller stores and checks them); `p` has at
// least five readable bytes. False when the length is longer than five
// bytes or the bytes run past `end`.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool FastStringBytes(
    const uint8_t*& p, const uint8_t* end, std::string_view* out) {
  uint64_t n;
  if (!FastVarUint(p, &n) || n > static_cast<uint64_t>(end - p)) return false;
  *out = std::string_view(reinterpret_cast<const char*>(p),
                          static_cast<size_t>(n));
  p += n;
  return true;
}

// A section's client as the var-uint bytes a v1 struct writes for it (a
// text's origins and a map entry's parent are ids, most often of its own
// client): matching those bytes reads an id's client without decoding it.
struct OwnClientBytes {
  uint64_t client;
  uint64_t bytes = 1;  // never matches (mask 0) unless set
  uint64_t mask = 0;
  size_t length = 0;

  explicit OwnClientBytes(uint64_t c) : client(c) {
    uint64_t v = client;
    uint64_t out = 0;
    size_t n = 0;
    while (n < 8) {
      const uint64_t b = v & 0x7f;
      v >>= 7;
      out |= (v != 0 ? b | 0x80 : b) << (8 * n);
      ++n;
      if (v == 0) break;
    }
    if (v != 0) return;  // longer than eight bytes: read it
    bytes = out;
    mask = n == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1;
    length = n;
  }
  // Reads an id (client and clock var-uints, each of up to five bytes,
  // this client's matched by its bytes) at `p`, which has at least
  // sixteen readable bytes. False when a var-int is longer (the checked
  // reader takes it).
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool ReadId(const uint8_t*& p, uint64_t* c,
                                           uint64_t* k) const {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if ((w & mask) == bytes) {
      p += length;
      *c = client;
    } else if (!FastVarUint(p, c)) {
      return false;
    }
    return FastVarUint(p, k);
  }
};

// A v1 struct with string or deleted content and an origin or a right
// origin (what most of a text document is) read from a local cursor,
// without the decoder's per-field bookkeeping. Returns false, having
// consumed and changed nothing, for every other struct and for anything
// unusual (a var-int longer than five bytes, the end of the input near,
// invalid UTF-8, a length the checks reject): ReadCommonStruct then reads
// it with its checks and errors. `own` is `client`'s bytes: a text's
// origins mostly name its own client.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ReadV1Fast(
    internal::Lib0Decoder& rest, uint64_t client, const OwnClientBytes& own,
    uint64_t clock, DecodedStruct* s, StringSink& strings) {
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
  // A dependency on a later struct of the client: the checked path reports
  // it (tested where each origin is read, while its branch is taken).
  uint64_t oc = 0, ok = 0, rc = 0, rk = 0;
  if ((info & 0x80) &&
      (!own.ReadId(p, &oc, &ok) || (oc == client && ok >= clock))) {
    return false;
  }
  if ((info & 0x40) &&
      (!own.ReadId(p, &rc, &rk) || (rc == client && rk >= clock))) {
    return false;
  }
  uint64_t length = 0;
  std::string_view utf8;
  if (ref == kRefDeleted) {
    if (!FastVarUint(p, &length)) return false;
  } else {
    // Validated (and its units counted) when it is stored, below.
    if (!FastStringBytes(p, end, &utf8)) return false;
    length = utf8.size();  // an upper bound of its units until then
  }
  if (length == 0 || length > kMaxSafeInteger - clock) return false;
  if (ref == kRefString) {
    // Last: a string that is not valid UTF-8 leaves the rest unread.
    length =
        strings.PutValidating(utf8, static_cast<size_t>(end - p) + utf8.size(),
                              &s->item()->content.str);
    if (length == 0) return false;
  }
  rest.Advance(p);
  Item* it = s->item();
  it->id = {client, clock};
  if (info & 0x80) it->SetOrigin({oc, ok});
  if (info & 0x40) it->SetRightOrigin({rc, rk});
  it->length = length;
  it->content.ref = ref;
  return true;
}

// FastVarInt's values of four or five bytes (kept out of the column
// readers' inlined code, which would otherwise crowd out other inlining).
[[gnu::noinline]] bool FastVarIntLong(const uint8_t*& p, uint64_t* magnitude) {
  uint64_t r = (p[0] & 0x3f) | ((p[1] & uint64_t{0x7f}) << 6);
  for (int k = 2; k < 5; ++k) {
    const uint64_t b = p[k];
    r |= (b & 0x7f) << (7 * k - 1);
    if (b < 0x80) {
      *magnitude = r;
      p += k + 1;
      return true;
    }
  }
  return false;
}

// lib0's readVarInt form (the sign in bit 6 of the first byte) of up to
// five bytes (34 bits of magnitude) at `p`, which has at least five
// readable bytes. False when it is longer.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool FastVarInt(const uint8_t*& p,
                                                    bool* negative,
                                                    uint64_t* magnitude) {
  const uint64_t b0 = p[0];
  const uint64_t b1 = p[1];
  const uint64_t b2 = p[2];
  *negative = (b0 & 0x40) != 0;
  // One to three bytes (below 2^20: most values of a column) without a
  // branch on which: the columns mix the lengths at random (a clock
  // column's jumps across a long text take three).
  if ((b0 & b1 & b2 & 0x80) == 0) [[likely]] {
    const uint64_t two = b0 >> 7;
    const uint64_t three = two & (b1 >> 7);
    *magnitude = (b0 & 0x3f) | (((b1 & 0x7f) << 6) & (0 - two)) |
                 (((b2 & 0x7f) << 13) & (0 - three));
    p += 1 + two + three;
    return true;
  }
  return FastVarIntLong(p, magnitude);
}

// A string of up to 64 ASCII bytes at `p` (its var-uint length, then its
// bytes) as a view; `p` has at least 73 readable bytes (its bytes are
// checked a word at a time). False when it is longer or not ASCII (the
// checked reader validates it).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool FastAsciiString(
    const uint8_t*& p, std::string_view* out) {
  const size_t n = p[0];
  if (n > 64) return false;
  const uint8_t* q = p + 1;
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, q + i, 8);
    acc |= w;
  }
  if (i < n) {
    // The first n - i bytes of the next word (little-endian: its low ones).
    uint64_t w;
    std::memcpy(&w, q + i, 8);
    acc |= w & ((uint64_t{1} << (8 * (n - i))) - 1);
  }
  if ((acc & 0x8080808080808080ull) != 0) return false;
  *out = std::string_view(reinterpret_cast<const char*>(q), n);
  p = q + n;
  return true;
}

// One lib0 Any value of the common kinds (a number, a boolean, null,
// undefined) at `p`, which has at least nine readable bytes. False for the
// rest (and for a number whose var-int is longer than five bytes).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool FastAny(const uint8_t*& p, Any* out) {
  const uint8_t tag = p[0];
  const uint8_t* q = p + 1;
  switch (tag) {
    case 125: {  // an integer
      bool negative;
      uint64_t m;
      if (!FastVarInt(q, &negative, &m)) return false;
      const auto d = static_cast<double>(m);
      *out = Any::MakeNumber(negative ? -d : d);
      break;
    }
    case 123: {  // a float64, big-endian
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits = (bits << 8) | q[i];
      q += 8;
      *out = Any::MakeNumber(std::bit_cast<double>(bits));
      break;
    }
    case 121:
    case 120:
      *out = Any::MakeBool(tag == 120);
      break;
    case 126:
      *out = Any::MakeNull();
      break;
    case 127:
      *out = Any();
      break;
    default:
      return false;
  }
  p = q;
  return true;
}

// ReadV1Fast for the structs that name their parent (no origin: a map's
// entries, the first item of a type): a root name or a parent item, a key,
// and string, deleted, plain-type (not XML) or one-value content, with
// short ASCII names and keys (`own`: `client`'s bytes). Returns false,
// having consumed and changed nothing, for every other struct and anything
// unusual: ReadCommonStruct then reads it with its checks and errors.
bool ReadV1FastParented(internal::Lib0Decoder& rest, uint64_t client,
                        const OwnClientBytes& own, uint64_t clock,
                        DecodedStruct* s, ItemPool& pool, StringSink& strings) {
  const uint8_t* p = rest.cursor();
  const uint8_t* const end = rest.end();
  // Room for the info byte, the parent (a root name or two var-ints), a
  // key, and the content's head, each string's bytes checked against
  // `end` as it is read.
  if (end - p < 2 * 70 + 32) return false;
  const uint8_t info = *p;
  const uint8_t ref = info & 0x1f;
  if ((info & 0xc0) != 0 || (ref != kRefString && ref != kRefDeleted &&
                             ref != kRefType && ref != kRefAny)) {
    return false;
  }
  ++p;
  uint64_t parent_info;
  if (!FastVarUint(p, &parent_info)) return false;
  std::string_view parent_name;
  uint64_t pc = 0, pk = 0;
  if (parent_info == 1) {
    if (!FastAsciiString(p, &parent_name)) return false;
  } else if (!own.ReadId(p, &pc, &pk)) {
    return false;
  }
  std::string_view key;
  if ((info & 0x20) && !FastAsciiString(p, &key)) return false;
  uint64_t length = 0;
  uint64_t type_ref = 0;
  Any value;
  std::string_view utf8;
  switch (ref) {
    case kRefDeleted:
      if (!FastVarUint(p, &length)) return false;
      break;
    case kRefType:
      // XML types (3, 5) read a node name: the checked reader.
      if (!FastVarUint(p, &type_ref) || type_ref > 6 || type_ref == 3 ||
          type_ref == 5) {
        return false;
      }
      length = 1;
      break;
    case kRefAny:
      if (!FastVarUint(p, &length) || length != 1 || !FastAny(p, &value)) {
        return false;
      }
      break;
    default:  // kRefString; validated (and its units counted) below
      if (!FastStringBytes(p, end, &utf8)) return false;
      length = utf8.size();  // an upper bound of its units until then
      break;
  }
  if (length == 0 || length > kMaxSafeInteger - clock) return false;
  // A parent that is a later struct of the client: the checked path
  // reports it.
  if (parent_info != 1 && pc == client && pk >= clock) return false;
  Item* it = s->item();
  if (ref == kRefString) {
    // Last: a string that is not valid UTF-8 leaves the rest unread.
    length = strings.PutValidating(
        utf8, static_cast<size_t>(end - p) + utf8.size(), &it->content.str);
    if (length == 0) return false;
  }
  rest.Advance(p);
  it->id = {client, clock};
  it->length = length;
  if (parent_info == 1) {
    s->SetParentName(parent_name);
  } else {
    s->SetParentId({pc, pk});
  }
  if (info & 0x20) {
    it->has_parent_sub = true;
    it->parent_sub = pool.Key(key);
  }
  Content& c = it->content;
  c.ref = ref;
  if (ref == kRefType) {
    pool.NewType(c);
    c.type()->kind = static_cast<TypeKind>(type_ref);
  } else if (ref == kRefAny) {
    pool.Anys(c).push_back(std::move(value));
  }
  return true;
}

// The v2 column readers' rules (update_decoder.h) on copies of their states
// held by the caller, so that a run of structs is read without a call or an
// error check per field. Each changes the state only when it returns true;
// it returns false where the column's own reader has to decide (a run
// header near the end of its column or with a long var-int, a value out of
// range).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool NextInfo(
    internal::RleByteDecoder::State& st, uint8_t* out) {
  if (st.count == 0 && !st.forever) {
    const ptrdiff_t left = st.end - st.p;
    if (left >= 6) {
      const uint8_t* p = st.p + 1;
      uint64_t c;
      if (!FastVarUint(p, &c)) return false;
      st.s = st.p[0];
      st.p = p;
      st.count = c + 1;
    } else if (left == 1) {
      // The last run's count is not written: it repeats forever.
      st.s = *st.p++;
      st.forever = true;
    } else {
      return false;
    }
  }
  if (!st.forever) --st.count;
  *out = st.s;
  return true;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool NextUint(
    internal::UintOptRleDecoder::State& st, uint64_t* out) {
  if (st.count == 0) {
    if (st.end - st.p < 10) return false;
    const uint8_t* p = st.p;
    bool run;
    uint64_t s;
    if (!FastVarInt(p, &run, &s)) return false;
    uint64_t count = 1;
    if (run) {
      uint64_t c;
      if (!FastVarUint(p, &c)) return false;
      count = c + 2;
    }
    st.p = p;
    st.s = s;
    st.count = count;
  }
  --st.count;
  *out = st.s;
  return true;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool NextClock(
    internal::IntDiffOptRleDecoder::State& st, uint64_t* out) {
  if (st.count == 0) {
    if (st.end - st.p < 10) return false;
    const uint8_t* p = st.p;
    bool negative;
    uint64_t m;
    if (!FastVarInt(p, &negative, &m)) return false;
    // 2 * diff + run flag (m is below 2^35).
    // (Without a branch on the sign, which the diffs of a column change at
    // random: floor(-m / 2) is -((m + 1) >> 1).)
    const int64_t sign = -static_cast<int64_t>(negative);
    const int64_t half = static_cast<int64_t>((m + (negative ? 1 : 0)) >> 1);
    const int64_t diff = (half ^ sign) - sign;
    uint64_t count = 1;
    if (m & 1) {
      uint64_t c;
      if (!FastVarUint(p, &c)) return false;
      count = c + 2;
    }
    // A clock is in [0, 2^53] (a negative one is above it as unsigned).
    const int64_t s = st.s + diff;
    if (static_cast<uint64_t>(s) > kMaxSafeInteger) return false;
    st.p = p;
    st.diff = diff;
    st.s = s;
    st.count = count - 1;
    *out = static_cast<uint64_t>(s);
    return true;
  }
  const int64_t s = st.s + st.diff;
  if (static_cast<uint64_t>(s) > kMaxSafeInteger) return false;
  st.s = s;
  --st.count;
  *out = static_cast<uint64_t>(s);
  return true;
}

// The states of the v2 columns a struct with string or deleted content and
// an origin reads, copied out of the decoder for ReadV2Fast.
struct V2Columns {
  internal::RleByteDecoder::State info;
  internal::UintOptRleDecoder::State client;
  internal::IntDiffOptRleDecoder::State left;
  internal::IntDiffOptRleDecoder::State right;
  internal::StringColumnDecoder::State str;
  internal::UintOptRleDecoder::State len;

  void Load(internal::UpdateDecoderV2& d) {
    info = d.info_column().state();
    client = d.client_column().state();
    left = d.left_clock_column().state();
    right = d.right_clock_column().state();
    str = d.string_column().state();
    len = d.len_column().state();
  }
  void Store(internal::UpdateDecoderV2& d) const {
    d.info_column().set_state(info);
    d.client_column().set_state(client);
    d.left_clock_column().set_state(left);
    d.right_clock_column().set_state(right);
    d.string_column().set_state(str);
    d.len_column().set_state(len);
  }
};

// One value of a column through its own (checked) reader, from and back
// into the copy of its state: where Next* declines. Errors stay in `dec`.
template <typename Column, typename State, typename Read>
[[gnu::noinline]] uint64_t CheckedRead(Column& column, State& st, Read read) {
  column.set_state(st);
  const uint64_t v = read();
  st = column.state();
  return v;
}

// What ReadV2Fast did.
enum class V2Fast : uint8_t {
  kRead,    // read the struct (its dependencies checked)
  kNone,    // read nothing: the struct is the checked reader's
  kInfo,    // read only its info byte (*info_out), of another kind of struct
  kFailed,  // the update is malformed (the error is in the decoder)
};

// ReadCommonStruct for the structs most v2 updates are made of: string or
// deleted content with an origin, at (client, clock), from the column
// states `cols` (`text`: the string column's text) and, where a column's
// fast rule declines, its own reader (so no column state is ever undone:
// a struct of another kind is found at its info byte, before any other
// column is read). A string's length is read together with its text, which
// goes through the column's reader unless it is ASCII.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline V2Fast ReadV2Fast(
    internal::UpdateDecoderV2& dec, V2Columns& cols, std::string_view text,
    uint64_t client, uint64_t clock, DecodedStruct* s, StringSink& strings,
    uint8_t* info_out) {
  uint8_t info;
  if (!NextInfo(cols.info, &info)) return V2Fast::kNone;
  const uint8_t ref = info & 0x1f;
  if ((ref != kRefString && ref != kRefDeleted) || (info & 0xc0) == 0) {
    *info_out = info;
    return V2Fast::kInfo;
  }
  // The fields in the order ReadCommonStruct reads them, so that the first
  // error is the one it would report.
  uint64_t oc = 0, ok = 0, rc = 0, rk = 0;
  // (A dependency on a later struct of the client is reported after the
  // struct is read, as yjs reads it first.)
  bool later = false;
  if (info & 0x80) {
    if (!NextUint(cols.client, &oc)) [[unlikely]] {
      oc = CheckedRead(dec.client_column(), cols.client,
                       [&] { return dec.ReadClient(); });
      if (!dec.ok()) return V2Fast::kFailed;
    }
    if (!NextClock(cols.left, &ok)) [[unlikely]] {
      ok = CheckedRead(dec.left_clock_column(), cols.left,
                       [&] { return dec.ReadLeftClock(); });
      if (!dec.ok()) return V2Fast::kFailed;
    }
    later = (oc == client) & (ok >= clock);
  }
  if (info & 0x40) {
    if (!NextUint(cols.client, &rc)) [[unlikely]] {
      rc = CheckedRead(dec.client_column(), cols.client,
                       [&] { return dec.ReadClient(); });
      if (!dec.ok()) return V2Fast::kFailed;
    }
    if (!NextClock(cols.right, &rk)) [[unlikely]] {
      rk = CheckedRead(dec.right_clock_column(), cols.right,
                       [&] { return dec.ReadRightClock(); });
      if (!dec.ok()) return V2Fast::kFailed;
    }
    later |= (rc == client) & (rk >= clock);
  }
  Item* it = s->item();
  uint64_t length = 0;
  if (ref == kRefDeleted) {
    if (!NextUint(cols.len, &length)) [[unlikely]] {
      length = CheckedRead(dec.len_column(), cols.len,
                           [&] { return dec.ReadLen(); });
      if (!dec.ok()) return V2Fast::kFailed;
    }
  } else {
    // A string whose length fits the text is taken as ASCII (one that is
    // not leaves the text as it was); the column's reader takes the rest.
    // (The length's read is undone for the column's reader: the fields
    // NextUint changes.)
    internal::StringColumnDecoder::State& st = cols.str;
    const uint8_t* const lens_p = st.lens.p;
    const uint64_t lens_s = st.lens.s;
    const uint64_t lens_count = st.lens.count;
    if (!st.pending_low_half && NextUint(st.lens, &length) &&
        length <= text.size() - st.pos &&
        strings.PutAscii(text.substr(st.pos, static_cast<size_t>(length)),
                         text.size() - st.pos, &it->content.str)) {
      st.pos += static_cast<size_t>(length);
    } else {
      st.lens.p = lens_p;
      st.lens.s = lens_s;
      st.lens.count = lens_count;
      if (!ReadCheckedString(dec, st, clock, strings, &length,
                             &it->content.str)) {
        return V2Fast::kFailed;
      }
    }
  }
  // (One comparison for both of CheckStructLength's: 0 - 1 wraps.)
  if (length - 1 >= kMaxSafeInteger - clock) [[unlikely]] {
    CheckStructLength(dec.rest(), dec.rest().offset(), length, clock);
    return V2Fast::kFailed;
  }
  if (later) [[unlikely]] {
    FailLaterDependency(dec.rest(), dec.rest().offset(), client, clock);
    return V2Fast::kFailed;
  }
  it->id = {client, clock};
  if (info & 0x80) it->SetOrigin({oc, ok});
  if (info & 0x40) it->SetRightOrigin({rc, rk});
  it->length = length;
  it->content.ref = ref;
  return V2Fast::kRead;
}

// Gives a struct that names the same root as the last struct that named one
// that struct's view of the name (`last`), compared now, while the update's
// bytes are in the cache: integration then knows the root by the view's
// address (Materialize) instead of reading the name again.
inline void ShareRootName(DecodedStruct& s, std::string_view& last) {
  if (s.parent_kind() != 1) return;
  const std::string_view name = s.parent_name();
  if (name == last) {
    s.SetParentName(last);
  } else {
    last = name;
  }
}

// Sizes the maps an update makes together with their entries (a bot's map
// and its tags, 10,000 of them in a YjsPartition initialization) once for
// the keys their items bring, instead of growing through rehashes: a run of
// keyed structs of one client section naming the same parent item of that
// section. The parent's struct usually comes right before the run (a map
// made with its entries), where it is still in the cache; else a search of
// the section. An upper bound is enough (a key set twice counts twice): it
// is only a capacity, so a struct that integration then skips or drops
// changes nothing.
class MapRunSizer {
 public:
  // `structs` is the section so far, ending with the struct just decoded.
  void Note(const std::vector<DecodedStruct>& structs) {
    const DecodedStruct& s = structs.back();
    if (s.parent_kind() != 2 || !s.item()->has_parent_sub) return;
    const Id parent = s.parent_id();
    if (count_ > 0 && parent == parent_) {
      ++count_;
      return;
    }
    EndRun(structs);
    parent_ = parent;
    count_ = 1;
    run_at_ = structs.size() - 1;
  }
  // Ends the current run (at a section's end: `structs` is the section).
  void EndRun(const std::vector<DecodedStruct>& structs) {
    const size_t count = count_;
    count_ = 0;
    if (count < 2) return;
    const Item* p = nullptr;
    if (run_at_ > 0 && structs[run_at_ - 1].item()->id == parent_) {
      p = structs[run_at_ - 1].item();
    } else {
      auto found = std::lower_bound(
          structs.begin(), structs.begin() + static_cast<ptrdiff_t>(run_at_),
          parent_.clock, [](const DecodedStruct& d, uint64_t c) {
            return d.item()->id.clock + d.item()->length <= c;
          });
      if (found == structs.begin() + static_cast<ptrdiff_t>(run_at_)) return;
      p = found->item();
    }
    // (The search compares clocks only: a parent of another client is not
    // in this section, and the id says so.)
    if (p->gc || p->content.ref != kRefType || !(p->id == parent_)) return;
    TypeImpl* t = p->content.type();
    t->map.Reserve(t->map.size() + count);
  }

 private:
  Id parent_;
  size_t count_ = 0;
  size_t run_at_ = 0;  // index of the run's first struct
};

// structs.emplace_back(), inlined: in the v2 reader's loop GCC calls it
// out of line (a call and the vector's fields reloaded per struct).
[[gnu::flatten]] inline DecodedStruct& AddStruct(
    std::vector<DecodedStruct>& structs) {
  return structs.emplace_back();
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
  [[maybe_unused]] std::string_view text;  // v2: the string column's text
  if constexpr (Dec::kVersion == 2) text = dec.string_column().text();
  internal::StructBudget budget =
      internal::StructBudget::For(bytes.size(), options.max_structs_per_byte);
  absl::flat_hash_map<uint64_t, size_t> index;
  uint64_t num_sections = rest.ReadVarUint();
  if (num_sections > rest.remaining()) {
    rest.Fail("update declares more client sections than the input can hold");
  } else if (num_sections > 1) {
    // A document of many clients (every session of an inst is one) has as
    // many sections: room once, not by doubling. Every section takes at
    // least two bytes of the rest (its struct count and first clock).
    const size_t room = static_cast<size_t>(
        std::min<uint64_t>(num_sections, rest.remaining() / 2));
    index.reserve(room);
    out.clients.reserve(room);
  }
  auto free_items = [&pool](std::vector<DecodedStruct>& v) {
    for (DecodedStruct& s : v) pool.Free(s.item());
    v.clear();
  };
  crdt::WireStruct ws;
  std::string error;
  bool done = false;
  std::vector<DecodedStruct> structs;
  std::string_view last_root;  // see ShareRootName
  MapRunSizer sizer;
  for (uint64_t i = 0; i < num_sections && dec.ok(); ++i) {
    uint64_t n = rest.ReadVarUint();
    const uint64_t client = dec.ReadClient();
    [[maybe_unused]] const OwnClientBytes own(client);
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
    // v2: the columns' states while ReadV2Fast reads from them (`loaded`),
    // handed back to the decoder before anything else reads it.
    [[maybe_unused]] V2Columns cols;
    [[maybe_unused]] bool loaded = false;
    for (uint64_t j = 0; j < n; ++j) {
      DecodedStruct& s = AddStruct(structs);
      s.set_item(pool.New());
      bool fast = false;
      int info_read = -1;  // v2: an info byte the fast reader took
      if constexpr (Dec::kVersion == 1) {
        // The info byte's origin bits choose the reader.
        if (rest.remaining() >= 32) {
          fast = (*rest.cursor() & 0xc0) != 0
                     ? ReadV1Fast(rest, client, own, clock, &s, strings)
                     : ReadV1FastParented(rest, client, own, clock, &s, pool,
                                          strings);
        }
      } else {
        if (!loaded) {
          cols.Load(dec);
          loaded = true;
        }
        uint8_t info = 0;
        const V2Fast r =
            ReadV2Fast(dec, cols, text, client, clock, &s, strings, &info);
        if (r == V2Fast::kFailed) break;
        fast = r == V2Fast::kRead;
        if (!fast) {
          cols.Store(dec);
          loaded = false;
          if (r == V2Fast::kInfo) info_read = info;
        }
      }
      const Item* it = s.item();
      if (fast) {
        // The fast readers checked the dependencies.
        sizer.Note(structs);
        ShareRootName(s, last_root);
        clock += it->length;
        continue;
      }
      const size_t start = rest.offset();
      const uint8_t info =
          info_read >= 0 ? static_cast<uint8_t>(info_read) : dec.ReadInfo();
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
           (s.parent_kind() == 2 && s.parent_id().client == client &&
            s.parent_id().clock >= clock))) {
        FailLaterDependency(rest, start, client, clock);
        break;
      }
      sizer.Note(structs);
      ShareRootName(s, last_root);
      clock += it->length;
    }
    sizer.EndRun(structs);
    if constexpr (Dec::kVersion == 2) {
      if (loaded) cols.Store(dec);
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
  // Encoders write the clients in descending order already (yjs does):
  // sorting is then only a check.
  auto descending = [](const auto& a, const auto& b) {
    return a.first > b.first;
  };
  if (!std::is_sorted(out.clients.begin(), out.clients.end(), descending)) {
    std::sort(out.clients.begin(), out.clients.end(), descending);
  }
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
