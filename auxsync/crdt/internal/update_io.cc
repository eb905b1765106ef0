// v1/v2 update writers and readers, struct (de)serialisation, delete sets
// and state vectors, as the document engine needs them.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/internal/utf8.h"

namespace auxsync::crdt::engine {
namespace {

// ---- v1
// ----------------------------------------------------------------------

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
    scratch_.clear();
    AppendUtf8(s, &scratch_);
    rest_.VarString(scratch_);
  }
  void WriteParentInfo(bool is_root) override {
    rest_.VarUint(is_root ? 1 : 0);
  }
  void WriteTypeRef(uint64_t r) override { rest_.VarUint(r); }
  void WriteLen(uint64_t l) override { rest_.VarUint(l); }
  void WriteAnyValue(const Any& v) override { WriteAny(rest_, v); }
  void WriteBuf(std::string_view b) override { rest_.VarBytes(b); }
  void WriteJson(const Any& v) override { rest_.VarString(JsonStringify(v)); }
  void WriteKey(std::string_view k) override { rest_.VarString(k); }
  void DsClear() override {}
  void DsWriteClock(uint64_t c) override { rest_.VarUint(c); }
  void DsWriteLen(uint64_t l) override { rest_.VarUint(l); }
  std::vector<uint8_t> Finish() override { return rest_.Take(); }

 private:
  std::string scratch_;
};

class ReaderV1 final : public UpdateReader {
 public:
  explicit ReaderV1(std::span<const uint8_t> b) : r_(b) { rest_ = &r_; }
  bool failed() const override { return bad_utf8_ || r_.failed(); }
  uint64_t ReadClient() override { return r_.VarUint(); }
  Id ReadLeftId() override {
    Id id;
    id.client = r_.VarUint();
    id.clock = r_.VarUint();
    return id;
  }
  Id ReadRightId() override { return ReadLeftId(); }
  uint8_t ReadInfo() override { return r_.U8(); }
  std::string ReadString() override {
    std::string_view bytes = Utf8Checked(r_.VarBytes());
    return std::string(bytes);
  }
  std::u16string ReadString16() override {
    return ToUtf16(Utf8Checked(r_.VarBytes()));
  }
  bool ReadParentInfo() override { return r_.VarUint() == 1; }
  uint64_t ReadTypeRef() override { return r_.VarUint(); }
  uint64_t ReadLen() override { return r_.VarUint(); }
  Any ReadAnyValue() override { return ReadAny(r_); }
  std::string ReadBuf() override { return std::string(r_.VarBytes()); }
  bool ReadJson(Any* out) override {
    std::string_view s = Utf8Checked(r_.VarBytes());
    if (failed()) return false;
    return JsonParse(s, out);
  }
  std::string ReadKey() override { return ReadString(); }
  void DsClear() override {}
  uint64_t DsReadClock() override { return r_.VarUint(); }
  uint64_t DsReadLen() override { return r_.VarUint(); }

 private:
  // lib0 reads strings with a fatal TextDecoder: invalid UTF-8 rejects the
  // update (as it does in yjs 13.6.27) instead of turning into U+FFFD,
  // which would change the string's length and so the clocks.
  std::string_view Utf8Checked(std::string_view bytes) {
    if (!internal::ValidateUtf8(bytes, nullptr)) {
      bad_utf8_ = true;
      return {};
    }
    return bytes;
  }
  bool bad_utf8_ = false;
  Reader r_;
};

// ---- v2 column codecs ----------------------------------------------------

class RleU8Enc {
 public:
  void Write(uint8_t v) {
    if (count_ > 0 && s_ == v) {
      ++count_;
      return;
    }
    if (count_ > 0) w_.VarUint(count_ - 1);
    count_ = 1;
    w_.U8(v);
    s_ = v;
  }
  std::vector<uint8_t> Take() { return w_.Take(); }

 private:
  Writer w_;
  uint8_t s_ = 0;
  uint64_t count_ = 0;
};

class UintOptRleEnc {
 public:
  void Write(uint64_t v) {
    if (s_ == v) {
      ++count_;
      return;
    }
    Flush();
    count_ = 1;
    s_ = v;
  }
  std::vector<uint8_t> Take() {
    Flush();
    return w_.Take();
  }

 private:
  void Flush() {
    if (count_ > 0) {
      w_.VarIntSM(s_, count_ > 1);
      if (count_ > 1) w_.VarUint(count_ - 2);
    }
    count_ = 0;
  }
  Writer w_;
  uint64_t s_ = 0;
  uint64_t count_ = 0;
};

class IntDiffOptRleEnc {
 public:
  void Write(int64_t v) {
    if (diff_ == v - s_) {
      s_ = v;
      ++count_;
      return;
    }
    Flush();
    count_ = 1;
    diff_ = v - s_;
    s_ = v;
  }
  std::vector<uint8_t> Take() {
    Flush();
    return w_.Take();
  }

 private:
  void Flush() {
    if (count_ > 0) {
      w_.VarInt(diff_ * 2 + (count_ == 1 ? 0 : 1));
      if (count_ > 1) w_.VarUint(count_ - 2);
    }
    count_ = 0;
  }
  Writer w_;
  int64_t s_ = 0;
  int64_t diff_ = 0;
  uint64_t count_ = 0;
};

class StringEnc {
 public:
  void Write(std::u16string_view s) {
    s_ += s;
    lens_.Write(s.size());
  }
  std::vector<uint8_t> Take() {
    Writer w;
    std::string utf8;
    AppendUtf8(s_, &utf8);
    w.VarString(utf8);
    auto l = lens_.Take();
    w.Bytes(l);
    return w.Take();
  }

 private:
  std::u16string s_;
  UintOptRleEnc lens_;
};

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
  void WriteString(std::string_view s) override { string_.Write(ToUtf16(s)); }
  void WriteString16(std::u16string_view s) override { string_.Write(s); }
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
    col(key_clock_.Take());
    col(client_.Take());
    col(left_clock_.Take());
    col(right_clock_.Take());
    col(info_.Take());
    col(string_.Take());
    col(parent_info_.Take());
    col(type_ref_.Take());
    col(len_.Take());
    out.Bytes(rest_.buf());
    return out.Take();
  }

 private:
  IntDiffOptRleEnc key_clock_;
  UintOptRleEnc client_;
  IntDiffOptRleEnc left_clock_;
  IntDiffOptRleEnc right_clock_;
  RleU8Enc info_;
  StringEnc string_;
  RleU8Enc parent_info_;
  UintOptRleEnc type_ref_;
  UintOptRleEnc len_;
  int64_t key_counter_ = 0;
  uint64_t ds_cur_ = 0;
};

class RleU8Dec {
 public:
  explicit RleU8Dec(std::string_view b)
      : r_(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()),
                                    b.size())) {}
  uint8_t Read(bool* fail) {
    if (count_ == 0) {
      s_ = r_.U8();
      if (r_.failed()) {
        *fail = true;
        return 0;
      }
      if (!r_.AtEnd()) {
        count_ = r_.VarUint() + 1;
        if (r_.failed()) {
          *fail = true;
          return 0;
        }
      } else {
        count_ = UINT64_MAX;  // repeats forever
      }
    }
    --count_;
    return s_;
  }

 private:
  Reader r_;
  uint8_t s_ = 0;
  uint64_t count_ = 0;
};

class UintOptRleDec {
 public:
  explicit UintOptRleDec(std::string_view b)
      : r_(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()),
                                    b.size())) {}
  uint64_t Read(bool* fail) {
    if (count_ == 0) {
      bool neg = false;
      s_ = r_.VarIntSM(&neg);
      count_ = 1;
      if (neg) count_ = r_.VarUint() + 2;
      if (r_.failed()) {
        *fail = true;
        return 0;
      }
    }
    --count_;
    return s_;
  }

 private:
  Reader r_;
  uint64_t s_ = 0;
  uint64_t count_ = 0;
};

class IntDiffOptRleDec {
 public:
  explicit IntDiffOptRleDec(std::string_view b)
      : r_(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()),
                                    b.size())) {}
  int64_t Read(bool* fail) {
    if (count_ == 0) {
      bool neg = false;
      uint64_t mag = r_.VarIntSM(&neg);
      bool has_count = (mag & 1) != 0;
      int64_t d = neg ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
      diff_ = d >= 0 ? d / 2 : -((-d + 1) / 2);  // floor division
      count_ = 1;
      if (has_count) count_ = r_.VarUint() + 2;
      if (r_.failed()) {
        *fail = true;
        return 0;
      }
    }
    s_ += diff_;
    --count_;
    if (s_ < 0 || s_ > static_cast<int64_t>(kMaxSafeInteger)) {
      *fail = true;
      return 0;
    }
    return s_;
  }

 private:
  Reader r_;
  int64_t s_ = 0;
  int64_t diff_ = 0;
  uint64_t count_ = 0;
};

class StringDec {
 public:
  explicit StringDec(std::string_view b)
      : r_(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()),
                                    b.size())) {
    std::string_view text = r_.VarBytes();
    // Fatal decoding, as lib0 does (see ReaderV1::Utf8Checked).
    if (r_.failed() || !internal::ValidateUtf8(text, nullptr)) bad_ = true;
    str_ = ToUtf16(text);
    size_t off = r_.offset();
    lens_ = std::make_unique<UintOptRleDec>(b.substr(std::min(off, b.size())));
  }
  std::u16string Read(bool* fail) {
    if (bad_) {
      *fail = true;
      return {};
    }
    uint64_t n = lens_->Read(fail);
    if (*fail) return {};
    size_t start = std::min(pos_, str_.size());
    size_t end = static_cast<size_t>(std::min<uint64_t>(pos_ + n, str_.size()));
    pos_ = static_cast<size_t>(std::min<uint64_t>(pos_ + n, str_.size() + 1));
    return str_.substr(start, end - start);
  }

 private:
  Reader r_;
  std::u16string str_;
  size_t pos_ = 0;
  bool bad_ = false;
  std::unique_ptr<UintOptRleDec> lens_;
};

class ReaderV2 final : public UpdateReader {
 public:
  static std::unique_ptr<ReaderV2> Make(std::span<const uint8_t> b) {
    auto r = std::unique_ptr<ReaderV2>(new ReaderV2(b));
    if (r->r_.failed()) return nullptr;
    return r;
  }
  bool failed() const override { return fail_ || r_.failed(); }
  uint64_t ReadClient() override { return client_->Read(&fail_); }
  Id ReadLeftId() override {
    Id id;
    id.client = client_->Read(&fail_);
    id.clock = static_cast<uint64_t>(left_clock_->Read(&fail_));
    return id;
  }
  Id ReadRightId() override {
    Id id;
    id.client = client_->Read(&fail_);
    id.clock = static_cast<uint64_t>(right_clock_->Read(&fail_));
    return id;
  }
  uint8_t ReadInfo() override { return info_->Read(&fail_); }
  std::string ReadString() override { return ToUtf8(string_->Read(&fail_)); }
  std::u16string ReadString16() override { return string_->Read(&fail_); }
  bool ReadParentInfo() override { return parent_info_->Read(&fail_) == 1; }
  uint64_t ReadTypeRef() override { return type_ref_->Read(&fail_); }
  uint64_t ReadLen() override { return len_->Read(&fail_); }
  Any ReadAnyValue() override { return ReadAny(r_); }
  std::string ReadBuf() override { return std::string(r_.VarBytes()); }
  bool ReadJson(Any* out) override {
    *out = ReadAny(r_);
    return !r_.failed();
  }
  std::string ReadKey() override {
    int64_t k = key_clock_->Read(&fail_);
    if (fail_) return {};
    if (static_cast<uint64_t>(k) < keys_.size())
      return keys_[static_cast<size_t>(k)];
    keys_.push_back(ReadString());
    return keys_.back();
  }
  void DsClear() override { ds_cur_ = 0; }
  uint64_t DsReadClock() override {
    ds_cur_ += r_.VarUint();
    return ds_cur_;
  }
  uint64_t DsReadLen() override {
    uint64_t d = r_.VarUint() + 1;
    ds_cur_ += d;
    return d;
  }

 private:
  explicit ReaderV2(std::span<const uint8_t> b) : r_(b) {
    rest_ = &r_;
    r_.VarUint();  // feature flag
    auto col = [&]() { return r_.VarBytes(); };
    key_clock_ = std::make_unique<IntDiffOptRleDec>(col());
    client_ = std::make_unique<UintOptRleDec>(col());
    left_clock_ = std::make_unique<IntDiffOptRleDec>(col());
    right_clock_ = std::make_unique<IntDiffOptRleDec>(col());
    info_ = std::make_unique<RleU8Dec>(col());
    string_ = std::make_unique<StringDec>(col());
    parent_info_ = std::make_unique<RleU8Dec>(col());
    type_ref_ = std::make_unique<UintOptRleDec>(col());
    len_ = std::make_unique<UintOptRleDec>(col());
  }
  Reader r_;
  bool fail_ = false;
  std::unique_ptr<IntDiffOptRleDec> key_clock_;
  std::unique_ptr<UintOptRleDec> client_;
  std::unique_ptr<IntDiffOptRleDec> left_clock_;
  std::unique_ptr<IntDiffOptRleDec> right_clock_;
  std::unique_ptr<RleU8Dec> info_;
  std::unique_ptr<StringDec> string_;
  std::unique_ptr<RleU8Dec> parent_info_;
  std::unique_ptr<UintOptRleDec> type_ref_;
  std::unique_ptr<UintOptRleDec> len_;
  std::vector<std::string> keys_;
  uint64_t ds_cur_ = 0;
};

bool ReadContent(UpdateReader& r, uint8_t ref, Content* c) {
  c->ref = ref;
  switch (ref) {
    case kRefDeleted:
      c->deleted_len = r.ReadLen();
      return c->deleted_len > 0;
    case kRefJson: {
      uint64_t n = r.ReadLen();
      if (n == 0 || n > r.rest().remaining() + (uint64_t{1} << 20))
        return false;
      for (uint64_t i = 0; i < n && !r.failed(); ++i) {
        std::string s = r.ReadString();
        Any v;
        if (s == "undefined") {
          v = Any::Undefined();
        } else if (!JsonParse(s, &v)) {
          return false;
        }
        c->anys().push_back(std::move(v));
      }
      return true;
    }
    case kRefBinary:
      c->bytes() = r.ReadBuf();
      return true;
    case kRefString:
      c->str = r.ReadString16();
      return !c->str.empty();
    case kRefEmbed: {
      Any v;
      if (!r.ReadJson(&v)) return false;
      c->anys().push_back(std::move(v));
      return true;
    }
    case kRefFormat: {
      c->bytes() = r.ReadKey();
      Any v;
      if (!r.ReadJson(&v)) return false;
      c->anys().push_back(std::move(v));
      return true;
    }
    case kRefType: {
      uint64_t tr = r.ReadTypeRef();
      if (tr > 6) return false;
      c->type = std::make_unique<TypeImpl>();
      c->type->kind = static_cast<TypeKind>(tr);
      if (tr == 3 || tr == 5) c->type->node_name = r.ReadKey();
      return true;
    }
    case kRefAny: {
      uint64_t n = r.ReadLen();
      // Each element takes at least one byte of the rest stream.
      if (n == 0 || n > r.rest().remaining()) return false;
      c->anys().reserve(n);
      for (uint64_t i = 0; i < n && !r.failed(); ++i)
        c->anys().push_back(r.ReadAnyValue());
      return true;
    }
    case kRefDoc: {
      c->bytes() = r.ReadString();
      c->anys().push_back(r.ReadAnyValue());
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

std::unique_ptr<UpdateWriter> NewWriter(bool v2) {
  if (v2) return std::make_unique<WriterV2>();
  return std::make_unique<WriterV1>();
}

std::unique_ptr<UpdateReader> NewReader(std::span<const uint8_t> bytes,
                                        bool v2) {
  if (v2) return ReaderV2::Make(bytes);
  return std::make_unique<ReaderV1>(bytes);
}

absl::StatusOr<DecodedUpdate> DecodeUpdate(std::span<const uint8_t> bytes,
                                           bool v2) {
  auto rd = NewReader(bytes, v2);
  if (rd == nullptr)
    return absl::InvalidArgumentError("update: malformed v2 header");
  UpdateReader& r = *rd;
  DecodedUpdate out;
  absl::flat_hash_map<uint64_t, size_t> index;
  // Bound on the number of structs (v2 columns can repeat without bytes).
  uint64_t budget = bytes.size() * 64 + 1024;
  uint64_t n = r.rest().VarUint();
  if (n > r.rest().remaining() + 1)
    return absl::InvalidArgumentError("update: bad client count");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t num = r.rest().VarUint();
    uint64_t client = r.ReadClient();
    uint64_t clock = r.rest().VarUint();
    if (r.failed())
      return absl::InvalidArgumentError(
          absl::StrCat("update: truncated client section ", i));
    if (num > budget)
      return absl::InvalidArgumentError("update: too many structs");
    budget -= num;
    std::vector<WireStruct> structs;
    for (uint64_t j = 0; j < num; ++j) {
      WireStruct s;
      uint8_t info = r.ReadInfo();
      s.ref = info & 0x1f;
      s.id = {client, clock};
      if (s.ref == kRefGC) {
        s.length = r.ReadLen();
      } else if (s.ref == kRefSkip) {
        s.length = r.rest().VarUint();
      } else {
        if (info & 0x80) {
          s.origin = {r.ReadLeftId(), true};
        }
        if (info & 0x40) {
          s.right_origin = {r.ReadRightId(), true};
        }
        if ((info & 0xc0) == 0) {
          if (r.ReadParentInfo()) {
            s.parent_kind = 1;
            s.parent_name = r.ReadString();
          } else {
            s.parent_kind = 2;
            s.parent_id = r.ReadLeftId();
          }
          if (info & 0x20) {
            s.has_parent_sub = true;
            s.parent_sub = r.ReadString();
          }
        }
        if (!ReadContent(r, s.ref, &s.content)) {
          return absl::InvalidArgumentError(
              absl::StrCat("update: bad content (ref ", s.ref, ") of struct ",
                           client, ":", clock));
        }
        s.length = s.content.Length();
        // Dependencies of the own client must precede the struct.
        if ((s.origin.has && s.origin.id.client == client &&
             s.origin.id.clock >= clock) ||
            (s.right_origin.has && s.right_origin.id.client == client &&
             s.right_origin.id.clock >= clock) ||
            (s.parent_kind == 2 && s.parent_id.client == client &&
             s.parent_id.clock >= clock)) {
          return absl::InvalidArgumentError(
              absl::StrCat("update: struct ", client, ":", clock,
                           " depends on a later struct of its client"));
        }
      }
      if (r.failed())
        return absl::InvalidArgumentError(
            absl::StrCat("update: truncated struct ", client, ":", clock));
      if (s.length == 0 || s.length > kMaxSafeInteger - clock) {
        return absl::InvalidArgumentError(
            absl::StrCat("update: bad struct length at ", client, ":", clock));
      }
      clock += s.length;
      structs.push_back(std::move(s));
    }
    auto [it, inserted] = index.try_emplace(client, out.clients.size());
    if (inserted) {
      out.clients.push_back({client, std::move(structs)});
    } else {
      out.clients[it->second].second = std::move(structs);  // last section wins
    }
  }
  std::sort(out.clients.begin(), out.clients.end(),
            [](auto& a, auto& b) { return a.first > b.first; });
  // Delete set.
  uint64_t nds = r.rest().VarUint();
  if (r.failed() || nds > r.rest().remaining())
    return absl::InvalidArgumentError("update: bad delete set");
  for (uint64_t i = 0; i < nds; ++i) {
    r.DsClear();
    uint64_t client = r.rest().VarUint();
    uint64_t cnt = r.rest().VarUint();
    if (r.failed() || cnt > r.rest().remaining())
      return absl::InvalidArgumentError("update: bad delete set");
    auto& ranges =
        out.ds
            .emplace_back(client, std::vector<std::pair<uint64_t, uint64_t>>())
            .second;
    for (uint64_t j = 0; j < cnt; ++j) {
      uint64_t clock = r.DsReadClock();
      uint64_t len = r.DsReadLen();
      if (r.failed() || clock > kMaxSafeInteger ||
          len > kMaxSafeInteger - clock) {
        return absl::InvalidArgumentError("update: bad delete range");
      }
      if (len > 0) ranges.push_back({clock, len});
    }
  }
  if (r.failed())
    return absl::InvalidArgumentError("update: truncated delete set");
  return out;
}

void WriteContent(UpdateWriter& w, const Content& c, uint64_t offset) {
  switch (c.ref) {
    case kRefDeleted:
      w.WriteLen(c.deleted_len - offset);
      return;
    case kRefJson:
      w.WriteLen(c.anys().size() - offset);
      for (size_t i = offset; i < c.anys().size(); ++i) {
        w.WriteString(c.anys()[i].kind == AnyKind::kUndefined
                          ? "undefined"
                          : JsonStringify(c.anys()[i]));
      }
      return;
    case kRefBinary:
      w.WriteBuf(c.bytes());
      return;
    case kRefString:
      w.WriteString16(std::u16string_view(c.str).substr(offset));
      return;
    case kRefEmbed:
      w.WriteJson(c.anys()[0]);
      return;
    case kRefFormat:
      w.WriteKey(c.bytes());
      w.WriteJson(c.anys()[0]);
      return;
    case kRefType:
      w.WriteTypeRef(static_cast<uint64_t>(c.type->kind));
      if (c.type->kind == TypeKind::kXmlElement ||
          c.type->kind == TypeKind::kXmlHook) {
        w.WriteKey(c.type->node_name);
      }
      return;
    case kRefAny:
      w.WriteLen(c.anys().size() - offset);
      for (size_t i = offset; i < c.anys().size(); ++i)
        w.WriteAnyValue(c.anys()[i]);
      return;
    case kRefDoc:
      w.WriteString(c.bytes());
      w.WriteAnyValue(c.anys()[0]);
      return;
    default:
      return;
  }
}

void WriteItem(UpdateWriter& w, const Item& it, uint64_t offset) {
  if (it.gc) {
    w.WriteInfo(0);
    w.WriteLen(it.length - offset);
    return;
  }
  OptId origin = offset > 0
                     ? OptId{{it.id.client, it.id.clock + offset - 1}, true}
                     : it.origin;
  uint8_t info = static_cast<uint8_t>(
      (it.content.ref & 0x1f) | (origin.has ? 0x80 : 0) |
      (it.right_origin.has ? 0x40 : 0) | (it.has_parent_sub ? 0x20 : 0));
  w.WriteInfo(info);
  if (origin.has) w.WriteLeftId(origin.id);
  if (it.right_origin.has) w.WriteRightId(it.right_origin.id);
  if (!origin.has && !it.right_origin.has) {
    const TypeImpl* p = it.parent;
    if (p->item == nullptr) {
      w.WriteParentInfo(true);
      w.WriteString(p->root_name);
    } else {
      w.WriteParentInfo(false);
      w.WriteLeftId(p->item->id);
    }
    if (it.has_parent_sub) w.WriteString(it.parent_sub.get());
  }
  WriteContent(w, it.content, offset);
}

void WriteWireStruct(UpdateWriter& w, const WireStruct& s, uint64_t offset) {
  if (s.ref == kRefGC) {
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
  WriteContent(w, s.content, offset);
}

void WriteDeleteSet(UpdateWriter& w, const DeleteSet& ds) {
  auto cs = ds.SortedClientsDesc();
  w.rest().VarUint(cs.size());
  for (uint64_t c : cs) {
    const auto& v = ds.clients.at(c);
    w.DsClear();
    w.rest().VarUint(c);
    w.rest().VarUint(v.size());
    for (auto& [clock, len] : v) {
      w.DsWriteClock(clock);
      w.DsWriteLen(len);
    }
  }
}

void WriteStoreStructs(UpdateWriter& w, const StructStore& store,
                       const absl::flat_hash_map<uint64_t, uint64_t>& sv) {
  std::vector<std::pair<uint64_t, uint64_t>> sm;
  for (const auto& [c, v] : store.clients()) {
    if (v.empty()) continue;
    auto it = sv.find(c);
    uint64_t start = it == sv.end() ? 0 : it->second;
    if (v.back()->EndClock() > start) sm.push_back({c, start});
  }
  std::sort(sm.begin(), sm.end(),
            [](auto& a, auto& b) { return a.first > b.first; });
  w.rest().VarUint(sm.size());
  for (auto [c, clock] : sm) {
    const auto& v = *store.Client(c);
    clock = std::max(clock, v.front()->id.clock);
    size_t start = StructStore::FindIndex(v, clock);
    w.rest().VarUint(v.size() - start);
    w.WriteClient(c);
    w.rest().VarUint(clock);
    WriteItem(w, *v[start], clock - v[start]->id.clock);
    for (size_t i = start + 1; i < v.size(); ++i) WriteItem(w, *v[i], 0);
  }
}

DeleteSet DeleteSetFromStore(const StructStore& store) {
  DeleteSet ds;
  for (const auto& [c, v] : store.clients()) {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i]->deleted) continue;
      uint64_t clock = v[i]->id.clock;
      uint64_t len = v[i]->length;
      while (i + 1 < v.size() && v[i + 1]->deleted) {
        len += v[++i]->length;
      }
      ranges.push_back({clock, len});
    }
    if (!ranges.empty()) ds.clients[c] = std::move(ranges);
  }
  return ds;
}

absl::StatusOr<absl::flat_hash_map<uint64_t, uint64_t>> DecodeStateVector(
    std::span<const uint8_t> b) {
  Reader r(b);
  absl::flat_hash_map<uint64_t, uint64_t> sv;
  uint64_t n = r.VarUint();
  if (n > r.remaining())
    return absl::InvalidArgumentError("state vector: bad count");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t c = r.VarUint();
    uint64_t clock = r.VarUint();
    if (r.failed())
      return absl::InvalidArgumentError("state vector: truncated");
    sv[c] = clock;
  }
  if (r.failed()) return absl::InvalidArgumentError("state vector: truncated");
  return sv;
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
