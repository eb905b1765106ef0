// v1/v2 update writers, struct serialisation, delete sets and state
// vectors as the document engine needs them (updates are read in
// update_read.cc).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <type_traits>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "auxsync/crdt/delete_set.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/internal/engine_any.h"
#include "auxsync/crdt/internal/json.h"
#include "auxsync/crdt/internal/struct_reader.h"
#include "auxsync/crdt/internal/update_decoder.h"
#include "auxsync/crdt/internal/update_encoder.h"
#include "auxsync/crdt/internal/utf16_ascii.h"
#include "auxsync/crdt/internal/utf8.h"
#include "auxsync/crdt/state_vector.h"
#include "auxsync/crdt/wire_struct.h"

namespace auxsync::crdt::engine {
namespace {

// ---- v1
// ----------------------------------------------------------------------

// What a v1 writer reports for an embed or format value that
// JSON.stringify cannot print (it throws on a bigint, and gives undefined
// for undefined, which yjs's writeVarString then throws on).
absl::Status JsonError() {
  return absl::InvalidArgumentError(
      "embed or format value cannot be written as JSON (bigint or "
      "undefined)");
}

class WriterV1 final : public UpdateWriter {
 public:
  void WriteClient(uint64_t c) override { rest_.VarUint(c); }
  void WriteLeftId(Id id) override {
    rest_.VarUint(id.client);
    rest_.VarUint(id.clock);
  }
  void WriteRightId(Id id) override { WriteLeftId(id); }
  void WriteInfo(uint8_t info) override { rest_.U8(info); }
  void WriteString(std::string_view s) override { rest_.VarString(s); }
  void WriteString16(std::u16string_view s) override {
    const size_t n = internal::Utf8LengthOfUtf16(s);
    rest_.VarUint(n);
    internal::WriteUtf16AsUtf8(s, rest_.Room(n));
    rest_.Commit(n);
  }
  void WriteParentInfo(bool is_root) override {
    rest_.VarUint(is_root ? 1 : 0);
  }
  void WriteTypeRef(uint64_t r) override { rest_.VarUint(r); }
  void WriteLen(uint64_t l) override { rest_.VarUint(l); }
  void WriteAnyValue(const Any& v) override { WriteAny(rest_, v); }
  void WriteBuf(std::string_view b) override { rest_.VarBytes(b); }
  void WriteJson(const Any& v) override {
    std::string json;
    if (!internal::StringifyJson(v, &json)) {
      Fail(JsonError());
      return;
    }
    rest_.VarString(json);
  }
  void WriteKey(std::string_view k) override { rest_.VarString(k); }
  void DsClear() override {}
  void DsWriteClock(uint64_t c) override { rest_.VarUint(c); }
  void DsWriteLen(uint64_t l) override { rest_.VarUint(l); }
  std::vector<uint8_t> Finish() override { return rest_.Take(); }
};

// ---- v2 column codecs ----------------------------------------------------

class WriterV2 final : public UpdateWriter {
 public:
  void WriteClient(uint64_t c) override { client_.Write(c); }
  void WriteLeftId(Id id) override {
    client_.Write(id.client);
    left_clock_.Write(static_cast<int64_t>(id.clock));
  }
  void WriteRightId(Id id) override {
    client_.Write(id.client);
    right_clock_.Write(static_cast<int64_t>(id.clock));
  }
  void WriteInfo(uint8_t info) override { info_.Write(info); }
  void WriteString(std::string_view s) override { string_.Write(s); }
  void WriteString16(std::u16string_view s) override { string_.Write16(s); }
  void WriteParentInfo(bool is_root) override {
    parent_info_.Write(is_root ? 1 : 0);
  }
  void WriteTypeRef(uint64_t r) override { type_ref_.Write(r); }
  void WriteLen(uint64_t l) override { len_.Write(l); }
  void WriteAnyValue(const Any& v) override { WriteAny(rest_, v); }
  void WriteBuf(std::string_view b) override { rest_.VarBytes(b); }
  void WriteJson(const Any& v) override { WriteAny(rest_, v); }
  void WriteKey(std::string_view k) override {
    // yjs 13.6 never caches keys: every key is new.
    key_clock_.Write(key_counter_++);
    WriteString(k);
  }
  void DsClear() override { ds_cur_ = 0; }
  void DsWriteClock(uint64_t c) override {
    rest_.VarUint(c - ds_cur_);
    ds_cur_ = c;
  }
  void DsWriteLen(uint64_t l) override {
    if (l == 0) {
      Fail(absl::InvalidArgumentError(
          "delete range of length 0 cannot be written in v2"));
      return;
    }
    rest_.VarUint(l - 1);
    ds_cur_ += l;
  }
  std::vector<uint8_t> Finish() override {
    Writer out;
    out.VarUint(0);
    auto col = [&](std::vector<uint8_t> b) {
      out.VarUint(b.size());
      out.Bytes(b);
    };
    col(key_clock_.Finish());
    col(client_.Finish());
    col(left_clock_.Finish());
    col(right_clock_.Finish());
    col(info_.Finish());
    col(string_.Finish());
    col(parent_info_.Finish());
    col(type_ref_.Finish());
    col(len_.Finish());
    out.Bytes(rest_.bytes());
    return out.Take();
  }

 private:
  internal::IntDiffOptRleEncoder key_clock_;
  internal::UintOptRleEncoder client_;
  internal::IntDiffOptRleEncoder left_clock_;
  internal::IntDiffOptRleEncoder right_clock_;
  internal::RleByteEncoder info_;
  internal::StringColumnEncoder string_;
  internal::RleByteEncoder parent_info_;
  internal::UintOptRleEncoder type_ref_;
  internal::UintOptRleEncoder len_;
  int64_t key_counter_ = 0;
  uint64_t ds_cur_ = 0;
};

}  // namespace

std::unique_ptr<UpdateWriter> NewWriter(bool v2) {
  if (v2) return std::make_unique<WriterV2>();
  return std::make_unique<WriterV1>();
}

namespace {

// The engine's writing steps over a codec encoder (internal::UpdateEncoderV1
// or V2): the same calls as UpdateWriter's, resolved at compile time.
template <typename Enc>
class CodecSink {
 public:
  explicit CodecSink(Enc& e) : e_(e) {}
  Enc& enc() { return e_; }
  auto& rest() { return e_.rest(); }
  void Client(uint64_t c) { e_.WriteClient(c); }
  void LeftId(Id id) { e_.WriteLeftID(ID{id.client, id.clock}); }
  void RightId(Id id) { e_.WriteRightID(ID{id.client, id.clock}); }
  void Info(uint8_t info) { e_.WriteInfo(info); }
  void String(std::string_view s) { e_.WriteString(s); }
  void String16(std::u16string_view s) { e_.WriteString16(s); }
  void ParentInfo(bool is_root) { e_.WriteParentInfo(is_root); }
  void TypeRef(uint64_t r) { e_.WriteTypeRef(r); }
  void Len(uint64_t l) { e_.WriteLen(l); }
  void AnyValue(const Any& v) { e_.WriteAny(v); }
  void Buf(std::string_view b) {
    e_.WriteBuf(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(b.data()), b.size()));
  }
  // v1: JSON text (what JSON cannot hold fails the encoder, as yjs
  // throws); v2: writeAny.
  void Json(const Any& v) { e_.WriteJSON(v); }
  void Key(std::string_view k) { e_.WriteKey(k); }
  void DsClear() { e_.ResetDsCurVal(); }
  void DsClock(uint64_t c) { e_.WriteDsClock(c); }
  void DsLen(uint64_t l) { e_.WriteDsLen(l); }

 private:
  Enc& e_;
};

// The same steps through the virtual UpdateWriter.
class VirtualSink {
 public:
  explicit VirtualSink(UpdateWriter& w) : w_(w) {}
  Writer& rest() { return w_.rest(); }
  void Client(uint64_t c) { w_.WriteClient(c); }
  void LeftId(Id id) { w_.WriteLeftId(id); }
  void RightId(Id id) { w_.WriteRightId(id); }
  void Info(uint8_t info) { w_.WriteInfo(info); }
  void String(std::string_view s) { w_.WriteString(s); }
  void String16(std::u16string_view s) { w_.WriteString16(s); }
  void ParentInfo(bool is_root) { w_.WriteParentInfo(is_root); }
  void TypeRef(uint64_t r) { w_.WriteTypeRef(r); }
  void Len(uint64_t l) { w_.WriteLen(l); }
  void AnyValue(const Any& v) { w_.WriteAnyValue(v); }
  void Buf(std::string_view b) { w_.WriteBuf(b); }
  void Json(const Any& v) { w_.WriteJson(v); }
  void Key(std::string_view k) { w_.WriteKey(k); }
  void DsClear() { w_.DsClear(); }
  void DsClock(uint64_t c) { w_.DsWriteClock(c); }
  void DsLen(uint64_t l) { w_.DsWriteLen(l); }

 private:
  UpdateWriter& w_;
};

// `length`: the struct's (a deleted content's length).
template <typename S>
void PutContent(S& w, const Content& c, uint64_t length, uint64_t offset) {
  switch (c.ref) {
    case kRefDeleted:
      w.Len(length - offset);
      return;
    case kRefJson:
      w.Len(c.anys().size() - offset);
      // JsonStringify cannot fail here: a ContentJSON's elements come from
      // JSON.parse (no bigint), and undefined is written as yjs does.
      for (size_t i = offset; i < c.anys().size(); ++i) {
        w.String(c.anys()[i].is_undefined() ? "undefined"
                                            : JsonStringify(c.anys()[i]));
      }
      return;
    case kRefBinary:
      w.Buf(c.bytes());
      return;
    case kRefString:
      w.String16(std::u16string_view(c.str).substr(offset));
      return;
    case kRefEmbed:
      w.Json(c.anys()[0]);
      return;
    case kRefFormat:
      w.Key(c.bytes());
      w.Json(c.anys()[0]);
      return;
    case kRefType:
      w.TypeRef(static_cast<uint64_t>(c.type()->kind));
      if (c.type()->kind == TypeKind::kXmlElement ||
          c.type()->kind == TypeKind::kXmlHook) {
        w.Key(c.type()->node_name());
      }
      return;
    case kRefAny:
      w.Len(c.anys().size() - offset);
      for (size_t i = offset; i < c.anys().size(); ++i) w.AnyValue(c.anys()[i]);
      return;
    case kRefDoc:
      w.String(c.bytes());
      w.AnyValue(c.anys()[0]);
      return;
    default:
      return;
  }
}

template <typename S>
void PutItem(S& w, const Item& it, uint64_t offset) {
  if (it.gc) {
    w.Info(0);
    w.Len(it.length - offset);
    return;
  }
  OptId origin = offset > 0
                     ? OptId{{it.id.client, it.id.clock + offset - 1}, true}
                     : it.Origin();
  uint8_t info = static_cast<uint8_t>(
      (it.content.ref & 0x1f) | (origin.has ? 0x80 : 0) |
      (it.has_right_origin ? 0x40 : 0) | (it.has_parent_sub ? 0x20 : 0));
  w.Info(info);
  if (origin.has) w.LeftId(origin.id);
  if (it.has_right_origin) w.RightId(it.right_origin);
  if (!origin.has && !it.has_right_origin) {
    const TypeImpl* p = it.parent;
    if (p->item == nullptr) {
      w.ParentInfo(true);
      w.String(p->root_name());
    } else {
      w.ParentInfo(false);
      w.LeftId(p->item->id);
    }
    if (it.has_parent_sub) w.String(it.parent_sub.get());
  }
  PutContent(w, it.content, it.length, offset);
}

template <typename S>
void PutDeleteSet(S& w, const DeleteSet& ds) {
  auto cs = ds.SortedClientsDesc();
  w.rest().WriteVarUint(cs.size());
  for (uint64_t c : cs) {
    const auto& v = ds.clients.at(c);
    w.DsClear();
    w.rest().WriteVarUint(c);
    w.rest().WriteVarUint(v.size());
    for (auto& [clock, len] : v) {
      w.DsClock(clock);
      w.DsLen(len);
    }
  }
}

// The store's delete set (yjs createDeleteSetFromStructStore), built from
// the structs in clock order: consecutive deleted structs form one range.
class StoreDeletes {
 public:
  void Begin(uint64_t client) {
    clients_.push_back({client, ranges_.size(), 0});
    prev_deleted_ = false;
  }
  [[gnu::always_inline]] void Note(const Item* it) {
    if (it->deleted) {
      if (prev_deleted_) {
        ranges_.back().second += it->length;
      } else {
        ranges_.push_back({it->id.clock, it->length});
      }
    }
    prev_deleted_ = it->deleted;
  }
  void End() {
    if (clients_.back().begin == ranges_.size()) {
      clients_.pop_back();
    } else {
      clients_.back().end = ranges_.size();
    }
  }
  void Scan(uint64_t client, const StructList& v) {
    Begin(client);
    v.ForEachFrom(0, [&](const Item* it) { Note(it); });
    End();
  }
  // Clients in descending order, as yjs's writeDeleteSet sorts them.
  template <typename S>
  void Write(S& w) {
    std::sort(clients_.begin(), clients_.end(),
              [](const ClientRanges& a, const ClientRanges& b) {
                return a.client > b.client;
              });
    w.rest().WriteVarUint(clients_.size());
    for (const ClientRanges& c : clients_) {
      w.DsClear();
      w.rest().WriteVarUint(c.client);
      w.rest().WriteVarUint(c.end - c.begin);
      for (size_t i = c.begin; i < c.end; ++i) {
        w.DsClock(ranges_[i].first);
        w.DsLen(ranges_[i].second);
      }
    }
  }
  DeleteSet ToDeleteSet() const {
    DeleteSet ds;
    for (const ClientRanges& c : clients_) {
      ds.clients[c.client].assign(
          ranges_.begin() + static_cast<std::ptrdiff_t>(c.begin),
          ranges_.begin() + static_cast<std::ptrdiff_t>(c.end));
    }
    return ds;
  }

 private:
  struct ClientRanges {
    uint64_t client;
    size_t begin, end;  // into ranges_
  };
  std::vector<ClientRanges> clients_;
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;
  bool prev_deleted_ = false;
};

// An item (two cache lines, in 64-byte aligned pool slots): fetched some
// structs ahead of the writer.
inline void PrefetchItem(const Item* item) {
  static_assert(sizeof(Item) <= 128);
  const char* f = reinterpret_cast<const char*>(item);
  __builtin_prefetch(f);
  __builtin_prefetch(f + 64);
}

// The text of an item whose header was fetched earlier (a heap buffer
// when longer than the string's inline room).
inline void PrefetchText(const Item* item) {
  const char16_t* d = item->content.str.data();
  __builtin_prefetch(d);
  __builtin_prefetch(reinterpret_cast<const char*>(d) + 64);
}

// Copies `n` bytes from `src` to `dst`: short strings (map keys, names)
// with two overlapping loads and stores instead of a call.
[[gnu::always_inline]] inline void CopyShort(uint8_t* dst, const char* src,
                                             size_t n) {
  if (n > 16) {
    std::memcpy(dst, src, n);
  } else if (n >= 8) {
    uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else {
    for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(src[i]);
  }
}

// The structs the run writers write inline: string or deleted content of
// an item with an origin (the parent is then implied).
inline bool IsPlainRunStruct(const Item& it) {
  const uint8_t ref = it.content.ref;
  return !it.gc && (it.has_origin || it.has_right_origin) &&
         (ref == kRefString || ref == kRefDeleted);
}

// The v1 form of encodeStateAsUpdate's structs, written straight into the
// encoder's room through a local cursor: one room check per struct (and
// per string), var-ints without a branch on their size, the last client
// named kept as bytes, ASCII eight units a step, the store's delete set
// noted in the same pass. Typed text (items with an origin and string or
// deleted content) takes the shortest path; items that name their parent
// (map entries, a type's first item) and type or any content (numbers and
// strings inline) are written here too. GC structs, other contents and
// other values go through PutItem or the encoder, with the same bytes.
class StoreWriterV1 {
 public:
  explicit StoreWriterV1(internal::UpdateEncoderV1& e) : e_(e), sink_(e) {}

  // Items are scattered over the pool: PutRun fetches the item this many
  // structs ahead of the one it writes (in the trace bench, where the
  // items are not in cache, 16-32 ahead took a third less time than none
  // or 4), and its text half as many ahead.
  static constexpr size_t kAhead = 16;

  // Writes the structs `items[0, n)` whole (offset 0), each of them noted
  // in `deletes` if given. `ahead` more items follow in `items` (fetched
  // early, not written).
  void PutRun(const Item* const* items, size_t n, size_t ahead,
              StoreDeletes* deletes) {
    if (pdep_) {
      PutRunWith<true>(items, n, ahead, deletes);
    } else {
      PutRunWith<false>(items, n, ahead, deletes);
    }
  }

 private:
  // PutRun with var-ints stored by internal::PutVarUint<kPdep>.
  template <bool kPdep>
  void PutRunWith(const Item* const* items, size_t n, size_t ahead,
                  StoreDeletes* deletes);

  // Room for one struct's header: info, two ids and a length, each
  // var-int store at most 10 bytes.
  static constexpr size_t kHeaderRoom = 51;

  // The last client written, as its varUint (a client below 2^56 takes
  // at most 8 bytes; lib0 reads at most 2^53).
  struct ClientBytes {
    uint64_t client = 0;
    uint64_t bytes = 0;  // little-endian varUint of `client`
    size_t len = 1;
  };
  // The varUint of client `c` at `p` (room for 10 bytes).
  [[gnu::always_inline]] static uint8_t* PutClient(uint8_t* p, uint64_t c,
                                                   ClientBytes& cb) {
    if (c != cb.client) [[unlikely]] {
      if (c >= (uint64_t{1} << 56)) return internal::PutVarUintExact(p, c);
      uint8_t b[10] = {0};
      cb.client = c;
      cb.len = static_cast<size_t>(internal::PutVarUintExact(b, c) - b);
      std::memcpy(&cb.bytes, b, 8);
    }
    std::memcpy(p, &cb.bytes, 8);
    return p + cb.len;
  }

  internal::UpdateEncoderV1& e_;
  CodecSink<internal::UpdateEncoderV1> sink_;
  ClientBytes client_;
  const bool pdep_ = internal::CpuHasPdep();
};

template <bool kPdep>
void StoreWriterV1::PutRunWith(const Item* const* items, size_t n, size_t ahead,
                               StoreDeletes* deletes) {
  internal::Lib0Encoder& out = e_.rest();
  ClientBytes cb = client_;
  // Bytes are written at q in [base, end) and handed to `out` (Commit)
  // before anything else writes to it.
  uint8_t* q = out.Room(kHeaderRoom);
  uint8_t* base = q;
  uint8_t* end = q + out.room();
  // Room for `k` bytes at q.
  auto need = [&](size_t k) __attribute__((always_inline)) {
    if (static_cast<size_t>(end - q) < k) [[unlikely]] {
      out.Commit(static_cast<size_t>(q - base));
      q = base = out.Room(k);
      end = q + out.room();
    }
  };
  // Hands the cursor back to `out` around a write through the encoder.
  auto pause = [&]() __attribute__((always_inline)) {
    out.Commit(static_cast<size_t>(q - base));
  };
  auto resume = [&]() __attribute__((always_inline)) {
    q = base = out.Room(kHeaderRoom);
    end = q + out.room();
  };
  // varString of a UTF-8 string.
  auto put_string = [&](std::string_view s) __attribute__((always_inline)) {
    need(10 + s.size());
    q = internal::PutSmallVarUint<kPdep>(q, s.size());
    CopyShort(q, s.data(), s.size());
    q += s.size();
  };
  // lib0 writeAny of integral numbers and strings (as
  // Lib0Encoder::WriteAny writes them); other values through `out`.
  auto put_any = [&](const Any& v) __attribute__((always_inline)) {
    if (v.kind() == Any::Kind::kNumber) {
      const double d = v.number();
      // (Not finite: trunc(inf) is inf, above the bound; NaN != NaN.)
      if (std::trunc(d) == d && std::fabs(d) <= 2147483647.0) {
        need(12);
        *q++ = 125;
        q = internal::PutVarIntSM<kPdep>(q, std::signbit(d),
                                         static_cast<uint64_t>(std::fabs(d)));
        return;
      }
    } else if (v.kind() == Any::Kind::kString) {
      need(1);
      *q++ = 119;
      put_string(v.string());
      return;
    }
    pause();
    out.WriteAny(v);
    resume();
  };
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n + ahead) PrefetchItem(items[i + kAhead]);
    if (i + kAhead / 2 < n + ahead) PrefetchText(items[i + kAhead / 2]);
    const Item& it = *items[i];
    if (deletes != nullptr) deletes->Note(&it);
    if (it.gc) [[unlikely]] {
      pause();
      PutItem(sink_, it, 0);
      resume();
      continue;
    }
    const uint8_t ref = it.content.ref;
    const bool o = it.has_origin;
    const bool r = it.has_right_origin;
    need(kHeaderRoom);
    *q++ = static_cast<uint8_t>((ref & 0x1f) | (o ? 0x80 : 0) | (r ? 0x40 : 0) |
                                (it.has_parent_sub ? 0x20 : 0));
    if (o) {
      q = PutClient(q, it.origin.client, cb);
      q = internal::PutVarUint<kPdep>(q, it.origin.clock);
    }
    if (r) {
      q = PutClient(q, it.right_origin.client, cb);
      q = internal::PutVarUint<kPdep>(q, it.right_origin.clock);
    }
    if (!o && !r) [[unlikely]] {
      // The parent: a root by name, or the item holding it, then the key.
      const TypeImpl* p = it.parent;
      if (p->item == nullptr) {
        *q++ = 1;
        put_string(p->root_name());
      } else {
        *q++ = 0;
        q = PutClient(q, p->item->id.client, cb);
        q = internal::PutVarUint<kPdep>(q, p->item->id.clock);
      }
      if (it.has_parent_sub) put_string(it.parent_sub.get());
      need(10);
    }
    switch (ref) {
      case kRefDeleted:
        q = internal::PutSmallVarUint<kPdep>(q, it.length);
        continue;
      case kRefString:
        break;
      case kRefAny: {
        const Content::AnyList& anys = it.content.anys();
        q = internal::PutSmallVarUint<kPdep>(q, anys.size());
        for (const Any& v : anys) put_any(v);
        continue;
      }
      case kRefType: {
        const TypeImpl& t = *it.content.type();
        q = internal::PutSmallVarUint<kPdep>(q, static_cast<uint64_t>(t.kind));
        if (t.kind == TypeKind::kXmlElement || t.kind == TypeKind::kXmlHook) {
          put_string(t.node_name());
        }
        continue;
      }
      default:
        pause();
        PutContent(sink_, it.content, it.length, 0);
        resume();
        continue;
    }
    // varUint(UTF-8 length) then the UTF-8 bytes, converted once: the
    // length is written as if the text were ASCII (UTF-8 length = units)
    // and fixed up after the conversion when it was not.
    const std::u16string_view s(it.content.str);
    const size_t units = s.size();
    need(26 + 3 * units);
    uint8_t* const p = q;
    uint8_t* const text = internal::PutSmallVarUint<kPdep>(p, units);
    if (units <= 16 && internal::WriteAsciiUpTo16(s.data(), units, text)) {
      q = text + units;
    } else {
      q = internal::WriteUtf16AsUtf8Fast(s, text);
    }
    const size_t m = static_cast<size_t>(q - text);
    if (m != units) [[unlikely]] {
      const size_t k = internal::VarUintSize(m);
      if (p + k != text) std::memmove(p + k, text, m);
      internal::PutVarUintExact(p, m);
      q = p + k + m;
    }
  }
  out.Commit(static_cast<size_t>(q - base));
  client_ = cb;
}

// Hands the items of `v` from index `from` on to `put(items, n, ahead)` in
// batches of up to 256, each followed by `ahead` items (StoreWriterV1::
// kAhead, fewer at the end) that are only to be fetched: they are written
// with the next batch.
template <typename Put>
void ForEachBatch(const StructList& v, size_t from, Put put) {
  constexpr size_t kBatch = 256;
  constexpr size_t kKeep = StoreWriterV1::kAhead;
  const Item* batch[kBatch + kKeep];
  size_t nb = 0;
  v.ForEachFrom(from, [&](const Item* it) {
    batch[nb++] = it;
    if (nb == kBatch + kKeep) {
      put(batch, kBatch, kKeep);
      std::copy(batch + kBatch, batch + nb, batch);
      nb = kKeep;
    }
  });
  put(batch, nb, 0);
}

// A column's output during a run of StoreWriterV2: bytes go to [q, end),
// room of the column's encoder from `base` on, handed back with Close.
struct ColumnCursor {
  internal::RawLib0Encoder* out;
  uint8_t* base;
  uint8_t* q;
  uint8_t* end;

  // Opens with room for at least `k` bytes.
  void Open(internal::RawLib0Encoder& o, size_t k = internal::kRunRoom) {
    out = &o;
    base = q = o.Room(k);
    end = base + o.room();
  }
  // Room for `k` bytes at q.
  [[gnu::always_inline]] void Need(size_t k) {
    if (static_cast<size_t>(end - q) < k) [[unlikely]] {
      out->Commit(static_cast<size_t>(q - base));
      base = q = out->Room(k);
      end = base + out->room();
    }
  }
  void Close() { out->Commit(static_cast<size_t>(q - base)); }
};

// A column encoder `Encoder` written through a cursor, its run held in
// locals between Open and Close (the encoder's own run is stale meanwhile).
// Open makes room for `writes` Write calls: Write checks no room.
template <typename Encoder>
struct RunColumn {
  ColumnCursor c;
  typename Encoder::Run run;

  void Open(Encoder& e, size_t writes) {
    c.Open(e.out(), writes * internal::kRunRoom);
    run = e.run();
  }
  void Close(Encoder& e) {
    c.Close();
    e.set_run(run);
  }
};

// lib0's UintOptRleEncoder over a cursor, its run in locals.
struct UintOptColumn : RunColumn<internal::UintOptRleEncoder> {
  template <bool kPdep>
  [[gnu::always_inline]] void Write(uint64_t v) {
    if (v == run.s) {
      ++run.count;
      return;
    }
    if (run.count > 0) {
      c.q = internal::PutUintOptRun<kPdep>(c.q, run.s, run.count);
    }
    run.s = v;
    run.count = 1;
  }
};

// lib0's IntDiffOptRleEncoder over a cursor, its run in locals.
struct IntDiffColumn : RunColumn<internal::IntDiffOptRleEncoder> {
  template <bool kPdep>
  [[gnu::always_inline]] void Write(int64_t v) {
    const int64_t d = v - run.s;
    run.s = v;
    if (d == run.diff) {
      ++run.count;
      return;
    }
    if (run.count > 0) {
      c.q = internal::PutIntDiffOptRun<kPdep>(c.q, run.diff, run.count);
    }
    run.diff = d;
    run.count = 1;
  }
};

// lib0's RleEncoder<uint8> over a cursor, its run in locals.
struct ByteRleColumn : RunColumn<internal::RleByteEncoder> {
  template <bool kPdep>
  [[gnu::always_inline]] void Write(uint8_t v) {
    if (v == run.s && run.count > 0) {
      ++run.count;
      return;
    }
    if (run.count > 0) c.q = internal::PutVarUint<kPdep>(c.q, run.count - 1);
    *c.q++ = v;
    run.s = v;
    run.count = 1;
  }
};

// The v2 counterpart of StoreWriterV1: the plain structs of a run (string
// or deleted content with an origin) written into the columns of the
// encoder through local cursors, the columns' runs kept in locals (the
// column encoders' own Write keeps them in memory, reloaded after every
// byte stored, and flushes out of line through a room check each). Other
// structs, and strings that end in a high surrogate (the column joins it
// with the next string), go through the encoder.
class StoreWriterV2 {
 public:
  explicit StoreWriterV2(internal::UpdateEncoderV2& e) : e_(e), sink_(e) {}
  CodecSink<internal::UpdateEncoderV2>& sink() { return sink_; }

  // As StoreWriterV1::PutRun.
  void PutRun(const Item* const* items, size_t n, size_t ahead,
              StoreDeletes* deletes) {
    if (pdep_) {
      PutRunWith<true>(items, n, ahead, deletes);
    } else {
      PutRunWith<false>(items, n, ahead, deletes);
    }
  }

 private:
  // As StoreWriterV1::PutRunWith.
  template <bool kPdep>
  void PutRunWith(const Item* const* items, size_t n, size_t ahead,
                  StoreDeletes* deletes);

  // The columns a run writes, opened from and closed into the encoder
  // with room for the run's structs (a client per id, a value of every
  // other column per struct), so that they check no room per value.
  struct Columns {
    ByteRleColumn info;
    UintOptColumn client;
    IntDiffColumn left;
    IntDiffColumn right;
    UintOptColumn lens;
    ColumnCursor text;
    UintOptColumn len;
  };
  void Open(Columns& c, size_t structs) {
    c.info.Open(e_.info_column(), structs);
    c.client.Open(e_.client_column(), 2 * structs);
    c.left.Open(e_.left_clock_column(), structs);
    c.right.Open(e_.right_clock_column(), structs);
    c.lens.Open(e_.string_column().lens(), structs);
    c.text.Open(e_.string_column().text());
    c.len.Open(e_.len_column(), structs);
  }
  void Close(Columns& c) {
    c.info.Close(e_.info_column());
    c.client.Close(e_.client_column());
    c.left.Close(e_.left_clock_column());
    c.right.Close(e_.right_clock_column());
    c.lens.Close(e_.string_column().lens());
    c.text.Close();
    c.len.Close(e_.len_column());
  }

  internal::UpdateEncoderV2& e_;
  CodecSink<internal::UpdateEncoderV2> sink_;
  const bool pdep_ = internal::CpuHasPdep();
};

template <bool kPdep>
void StoreWriterV2::PutRunWith(const Item* const* items, size_t n, size_t ahead,
                               StoreDeletes* deletes) {
  constexpr size_t kAhead = StoreWriterV1::kAhead;
  Columns c;
  Open(c, n);
  // A high surrogate held back by the string column (only ever set by
  // the encoder's own Write16, on the slow path below).
  bool pending = e_.string_column().pending_high() != 0;
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n + ahead) PrefetchItem(items[i + kAhead]);
    if (i + kAhead / 2 < n + ahead) PrefetchText(items[i + kAhead / 2]);
    const Item& it = *items[i];
    if (deletes != nullptr) deletes->Note(&it);
    const uint8_t ref = it.content.ref;
    const bool o = it.has_origin;
    const bool r = it.has_right_origin;
    std::u16string_view s;
    if (ref == kRefString) s = it.content.str;
    // (A string's last unit, when it is a high surrogate, waits in the
    // column for the next string: the encoder does that.)
    if (!IsPlainRunStruct(it) || pending ||
        (!s.empty() && (s.back() & 0xFC00) == 0xD800)) [[unlikely]] {
      Close(c);
      PutItem(sink_, it, 0);
      Open(c, n);
      pending = e_.string_column().pending_high() != 0;
      continue;
    }
    c.info.Write<kPdep>(static_cast<uint8_t>(ref | (o ? 0x80 : 0) |
                                             (r ? 0x40 : 0) |
                                             (it.has_parent_sub ? 0x20 : 0)));
    if (o) {
      c.client.Write<kPdep>(it.origin.client);
      c.left.Write<kPdep>(static_cast<int64_t>(it.origin.clock));
    }
    if (r) {
      c.client.Write<kPdep>(it.right_origin.client);
      c.right.Write<kPdep>(static_cast<int64_t>(it.right_origin.clock));
    }
    if (ref == kRefDeleted) {
      c.len.Write<kPdep>(it.length);
      continue;
    }
    c.lens.Write<kPdep>(s.size());
    c.text.Need(16 + 3 * s.size());
    if (s.size() <= 16 &&
        internal::WriteAsciiUpTo16(s.data(), s.size(), c.text.q)) {
      c.text.q += s.size();
    } else {
      c.text.q = internal::WriteUtf16AsUtf8Fast(s, c.text.q);
    }
  }
  Close(c);
}

// Writes the structs of `store` from `sv` (client -> start clock; missing =
// 0), clients in descending order. With `deletes`, also collects the
// store's delete set into it (in the same pass where a client is written
// whole).
template <typename S>
void PutStoreStructs(S& w, const StructStore& store,
                     const absl::flat_hash_map<uint64_t, uint64_t>& sv,
                     StoreDeletes* deletes, StoreWriterV1* v1 = nullptr,
                     StoreWriterV2* v2 = nullptr) {
  // A client to write: its structs from `clock` (struct `start`) on.
  struct From {
    uint64_t client;
    uint64_t clock;
    const StructList* list;
    size_t start;
  };
  // Inline: runs for every transaction's update (usually one client).
  absl::InlinedVector<From, 4> sm;
  for (const auto& [c, v] : store.clients()) {
    if (v.empty()) continue;
    auto it = sv.find(c);
    uint64_t start = it == sv.end() ? 0 : it->second;
    if (v.back()->EndClock() > start) {
      sm.push_back({c, std::max(start, v.front()->id.clock), &v, 0});
    } else if (deletes != nullptr) {
      deletes->Scan(c, v);
    }
  }
  std::sort(sm.begin(), sm.end(),
            [](const From& a, const From& b) { return a.client > b.client; });
  size_t structs = 0;
  size_t units = 0;
  uint64_t max_client = 0;
  uint64_t max_clock = 0;
  for (From& f : sm) {
    f.start = StructStore::FindIndex(*f.list, f.clock);
    structs += f.list->size() - f.start;
    units += f.list->back()->EndClock() - f.clock;
    max_client = std::max(max_client, f.client);
    max_clock = std::max(max_clock, f.list->back()->EndClock());
  }
  // The output is reserved once from an estimate: growing a short guess
  // copies the whole output (a document's state is often past malloc's
  // mmap threshold: into fresh pages). Room that is never written costs
  // only address space, so the estimate leans high.
  // - v1: a struct's header holds its info, two ids (a random client id
  //   takes five bytes) and a length; its text about a byte per unit,
  //   and deleted units take none (they are not told apart here).
  // - A clock range says nothing of the memory behind it (one GC struct
  //   may span 2^53 clocks), so the text's share is bounded by the struct
  //   count; longer texts grow the output as it is written.
  const size_t text_bound = static_cast<size_t>(
      std::min<uint64_t>(units, static_cast<uint64_t>(structs) * 64));
  if constexpr (std::is_same_v<S, CodecSink<internal::UpdateEncoderV1>>) {
    const size_t id_bytes =
        internal::VarUintSize(max_client) + internal::VarUintSize(max_clock);
    w.rest().Reserve((2 + 2 * id_bytes) * structs + text_bound + 64);
  } else if constexpr (std::is_same_v<S,
                                      CodecSink<internal::UpdateEncoderV2>>) {
    if (structs > 64) w.enc().Reserve(structs, text_bound);
  }
  w.rest().WriteVarUint(sm.size());
  for (const From& f : sm) {
    const uint64_t c = f.client;
    const uint64_t clock = f.clock;
    const StructList& v = *f.list;
    const size_t start = f.start;
    w.rest().WriteVarUint(v.size() - start);
    w.Client(c);
    w.rest().WriteVarUint(clock);
    const Item* first = v[start];
    PutItem(w, *first, clock - first->id.clock);
    const bool collect = deletes != nullptr && start == 0;
    if (collect) {
      deletes->Begin(c);
      deletes->Note(first);
    } else if (deletes != nullptr) {
      deletes->Scan(c, v);
    }
    // The run writers fetch items a few structs ahead, so they get them
    // in batches.
    StoreDeletes* d = collect ? deletes : nullptr;
    if constexpr (std::is_same_v<S, CodecSink<internal::UpdateEncoderV1>>) {
      ForEachBatch(v, start + 1,
                   [&](const Item* const* b, size_t n, size_t ahead) {
                     v1->PutRun(b, n, ahead, d);
                   });
    } else if constexpr (std::is_same_v<S,
                                        CodecSink<internal::UpdateEncoderV2>>) {
      ForEachBatch(v, start + 1,
                   [&](const Item* const* b, size_t n, size_t ahead) {
                     v2->PutRun(b, n, ahead, d);
                   });
    } else {
      v.ForEachFrom(start + 1, [&](const Item* it) {
        PutItem(w, *it, 0);
        if (collect) deletes->Note(it);
      });
    }
    if (collect) deletes->End();
  }
}

template <typename Enc>
absl::StatusOr<std::vector<uint8_t>> EncodeStoreWith(
    const StructStore& store, const absl::flat_hash_map<uint64_t, uint64_t>& sv,
    const DeleteSet* ds) {
  Enc e;
  CodecSink<Enc> w(e);
  StoreWriterV1* v1 = nullptr;
  std::optional<StoreWriterV1> v1_writer;
  StoreWriterV2* v2 = nullptr;
  std::optional<StoreWriterV2> v2_writer;
  if constexpr (Enc::kVersion == 1) {
    v1 = &v1_writer.emplace(e);
  } else {
    v2 = &v2_writer.emplace(e);
  }
  if (ds != nullptr) {
    PutStoreStructs(w, store, sv, nullptr, v1, v2);
    PutDeleteSet(w, *ds);
  } else {
    StoreDeletes deletes;
    PutStoreStructs(w, store, sv, &deletes, v1, v2);
    deletes.Write(w);
  }
  // Checked once here, not per struct: a failed field wrote nothing, so
  // the bytes are unusable and dropped.
  if (!e.status().ok()) return e.status();
  return e.ToBytes();
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> EncodeStoreUpdate(
    const StructStore& store, const absl::flat_hash_map<uint64_t, uint64_t>& sv,
    const DeleteSet* ds, bool v2) {
  if (v2) return EncodeStoreWith<internal::UpdateEncoderV2>(store, sv, ds);
  return EncodeStoreWith<internal::UpdateEncoderV1>(store, sv, ds);
}

void WriteContent(UpdateWriter& w, const Content& c, uint64_t length,
                  uint64_t offset) {
  VirtualSink s(w);
  PutContent(s, c, length, offset);
}

void WriteItem(UpdateWriter& w, const Item& it, uint64_t offset) {
  VirtualSink s(w);
  PutItem(s, it, offset);
}

void WriteWireStruct(UpdateWriter& w, const WireStruct& s, uint64_t offset) {
  if (s.ref == kRefGC) {
    // Also a struct integrated before yjs put it back into a rest (its
    // content lives in the document now): as GC it keeps its clock range,
    // which is all a retry (it is skipped as known) and a merge with the
    // document's own state (whose copy comes first and wins) look at.
    w.WriteInfo(0);
    w.WriteLen(s.length - offset);
    return;
  }
  if (s.ref == kRefSkip) {
    w.WriteInfo(kRefSkip);
    w.rest().VarUint(s.length - offset);
    return;
  }
  OptId origin = offset > 0
                     ? OptId{{s.id.client, s.id.clock + offset - 1}, true}
                     : s.origin;
  uint8_t info = static_cast<uint8_t>((s.ref & 0x1f) | (origin.has ? 0x80 : 0) |
                                      (s.right_origin.has ? 0x40 : 0) |
                                      (s.has_parent_sub ? 0x20 : 0));
  w.WriteInfo(info);
  if (origin.has) w.WriteLeftId(origin.id);
  if (s.right_origin.has) w.WriteRightId(s.right_origin.id);
  if (!origin.has && !s.right_origin.has) {
    if (s.parent_kind == 1) {
      w.WriteParentInfo(true);
      w.WriteString(s.parent_name);
    } else {
      w.WriteParentInfo(false);
      w.WriteLeftId(s.parent_id);
    }
    if (s.has_parent_sub) w.WriteString(s.parent_sub);
  }
  WriteContent(w, s.content, s.length, offset);
}

void WriteDeleteSet(UpdateWriter& w, const DeleteSet& ds) {
  VirtualSink s(w);
  PutDeleteSet(s, ds);
}

void WriteStoreStructs(UpdateWriter& w, const StructStore& store,
                       const absl::flat_hash_map<uint64_t, uint64_t>& sv) {
  VirtualSink s(w);
  PutStoreStructs(s, store, sv, nullptr);
}

DeleteSet DeleteSetFromStore(const StructStore& store) {
  StoreDeletes deletes;
  for (const auto& [c, v] : store.clients()) deletes.Scan(c, v);
  return deletes.ToDeleteSet();
}

absl::StatusOr<absl::flat_hash_map<uint64_t, uint64_t>> DecodeStateVector(
    std::span<const uint8_t> b) {
  absl::StatusOr<StateVector> sv = StateVector::Decode(b);
  if (!sv.ok()) return sv.status();
  return sv->clocks();
}

std::vector<uint8_t> EncodeStateVectorOf(const StructStore& store) {
  Writer w;
  auto sv = store.StateVector();
  w.VarUint(sv.size());
  for (auto [c, clock] : sv) {
    w.VarUint(c);
    w.VarUint(clock);
  }
  return w.Take();
}

}  // namespace auxsync::crdt::engine
