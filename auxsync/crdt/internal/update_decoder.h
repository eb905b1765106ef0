// Copyright 2025 The auxsync Authors.
//
// Field-level readers of Yjs updates: UpdateDecoderV1 and UpdateDecoderV2,
// with the method set of yjs's UpdateDecoder.js, safe on untrusted bytes.

#ifndef AUXSYNC_CRDT_INTERNAL_UPDATE_DECODER_H_
#define AUXSYNC_CRDT_INTERNAL_UPDATE_DECODER_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "auxsync/crdt/any.h"
#include "auxsync/crdt/id.h"
#include "auxsync/crdt/internal/lib0_decoder.h"

namespace auxsync::crdt::internal {

// Owns strings that string_views elsewhere point into. Adding never moves
// an earlier string, and neither does moving the arena.
class StringArena {
 public:
  std::string_view Add(std::string s) {
    strings_.push_back(std::make_unique<std::string>(std::move(s)));
    return *strings_.back();
  }
  bool empty() const { return strings_.empty(); }

 private:
  std::vector<std::unique_ptr<std::string>> strings_;
};

// lib0 RleDecoder<uint8>. Reading past the column's last run repeats its
// value forever (the last count is never written); reading an empty column
// is an error.
class RleByteDecoder {
 public:
  RleByteDecoder(std::span<const uint8_t> col, size_t base, DecodeError* err,
                 std::string_view label)
      : d_(col, base, err, label) {}
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint8_t Read() {
    if (count_ == 0 && !forever_) {
      s_ = d_.ReadUint8();
      if (d_.has_content()) {
        count_ = d_.ReadVarUint() + 1;
      } else {
        forever_ = true;
      }
    }
    if (!forever_) --count_;
    return s_;
  }

  // The reader's position and run, for a reader that decodes many values
  // from a local copy (update_read.cc) and hands it back with set_state.
  struct State {
    const uint8_t* p;    // next byte
    const uint8_t* end;  // end of the column
    uint8_t s;
    bool forever;
    uint64_t count;
  };
  State state() const { return {d_.cursor(), d_.end(), s_, forever_, count_}; }
  // `st` is state() advanced by reads that followed Read's rules.
  void set_state(const State& st) {
    d_.Advance(st.p);
    s_ = st.s;
    forever_ = st.forever;
    count_ = st.count;
  }

 private:
  Lib0Decoder d_;
  uint8_t s_ = 0;
  bool forever_ = false;
  uint64_t count_ = 0;
};

// lib0 UintOptRleDecoder. Reading past the end is an error (JS would read
// zeros).
class UintOptRleDecoder {
 public:
  UintOptRleDecoder(std::span<const uint8_t> col, size_t base, DecodeError* err,
                    std::string_view label)
      : d_(col, base, err, label) {}
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint64_t Read() {
    if (count_ == 0) {
      Lib0Decoder::SignMagnitude v = d_.ReadVarIntSignMagnitude();
      s_ = v.magnitude;
      count_ = v.negative ? d_.ReadVarUint() + 2 : 1;
      if (!d_.ok()) count_ = 0;
    }
    if (count_ > 0) --count_;
    return s_;
  }
  Lib0Decoder& decoder() { return d_; }

  // As RleByteDecoder::State.
  struct State {
    const uint8_t* p;
    const uint8_t* end;
    uint64_t s;
    uint64_t count;
  };
  State state() const { return {d_.cursor(), d_.end(), s_, count_}; }
  void set_state(const State& st) {
    d_.Advance(st.p);
    s_ = st.s;
    count_ = st.count;
  }

 private:
  Lib0Decoder d_;
  uint64_t s_ = 0;
  uint64_t count_ = 0;
};

// lib0 IntDiffOptRleDecoder. Runs of 2 * diff + flag are read up to 2^55;
// values outside ±2^53 are an error.
class IntDiffOptRleDecoder {
 public:
  IntDiffOptRleDecoder(std::span<const uint8_t> col, size_t base,
                       DecodeError* err, std::string_view label)
      : d_(col, base, err, label) {}
  // Inline: read for nearly every struct of a v2 update (left and right
  // clocks).
  ABSL_ATTRIBUTE_ALWAYS_INLINE int64_t Read() {
    if (count_ == 0 && !Refill()) return 0;
    s_ += diff_;
    --count_;
    constexpr auto kLimit = static_cast<int64_t>(kMaxSafeInteger);
    if (s_ > kLimit || s_ < -kLimit) [[unlikely]] {
      return OutOfRange();
    }
    return s_;
  }

  // As RleByteDecoder::State.
  struct State {
    const uint8_t* p;
    const uint8_t* end;
    int64_t s;
    int64_t diff;
    uint64_t count;
  };
  State state() const { return {d_.cursor(), d_.end(), s_, diff_, count_}; }
  void set_state(const State& st) {
    d_.Advance(st.p);
    s_ = st.s;
    diff_ = st.diff;
    count_ = st.count;
  }

 private:
  // Reads the next run (false on an error, which the decoder holds).
  bool Refill() {
    // 2 * diff + run flag: up to 2^54 + 1 for clocks below 2^53.
    Lib0Decoder::SignMagnitude v = d_.ReadVarIntSignMagnitude(/*max_bits=*/55);
    if (!d_.ok()) return false;
    const auto mag = static_cast<int64_t>(v.magnitude);
    // floor(v / 2) for the signed value; the run flag is the parity.
    diff_ = v.negative ? -((mag + 1) / 2) : mag / 2;
    count_ = (v.magnitude & 1) ? d_.ReadVarUint() + 2 : 1;
    if (!d_.ok()) {
      count_ = 0;
      return false;
    }
    return true;
  }
  int64_t OutOfRange();

  Lib0Decoder d_;
  int64_t s_ = 0;
  int64_t diff_ = 0;
  uint64_t count_ = 0;
};

// lib0 StringDecoder: one varString cut into pieces by a UintOptRle of
// UTF-16 lengths. A piece that would run past the text is an error (JS
// returns a short piece). A cut between the halves of a surrogate pair
// yields U+FFFD on both sides (stored in the arena), which is what yjs
// writes for such halves in v1.
class StringColumnDecoder {
 public:
  StringColumnDecoder(std::span<const uint8_t> col, size_t base,
                      DecodeError* err, std::string_view label,
                      StringArena* arena);
  // The next string, and its UTF-16 length in `*utf16_len` if not null.
  // Inline for ASCII strings (most of them), which need no scan for
  // multi-byte sequences or cut pairs.
  ABSL_ATTRIBUTE_ALWAYS_INLINE std::string_view Read(uint64_t* utf16_len) {
    const uint64_t n = lens_.Read();
    if (!pending_low_half_ && n <= text_.size() - pos_ &&
        lens_.decoder().ok() && IsAscii(text_.data() + pos_, n)) {
      last_lead_low_ = 0;
      last_trail_high_ = 0;
      if (utf16_len != nullptr) *utf16_len = n;
      const std::string_view s = text_.substr(pos_, n);
      pos_ += n;
      return s;
    }
    return ReadSlow(n, utf16_len);
  }
  // The surrogate halves the last string's U+FFFD stand for where a cut
  // split a pair: the low half at its start, the high half at its end (0 if
  // none).
  char16_t last_lead_low() const { return last_lead_low_; }
  char16_t last_trail_high() const { return last_trail_high_; }
  // UTF-8 bytes left in the text (a bound on how many non-empty strings
  // remain).
  size_t remaining_bytes() const { return text_.size() - pos_; }

  // As RleByteDecoder::State: the lengths' reader and the position in the
  // text (a local reader takes only whole strings of ASCII, after a string
  // that did not end inside a surrogate pair).
  struct State {
    UintOptRleDecoder::State lens;
    size_t pos;
    bool pending_low_half;
  };
  State state() const { return {lens_.state(), pos_, pending_low_half_}; }
  // `st` read whole strings only (no cut pair: the halves are cleared).
  void set_state(const State& st) {
    lens_.set_state(st.lens);
    pos_ = st.pos;
    pending_low_half_ = st.pending_low_half;
    last_lead_low_ = 0;
    last_trail_high_ = 0;
  }
  std::string_view text() const { return text_; }

 private:
  // Whether bytes [p, p + n) are all ASCII (eight at a time).
  static bool IsAscii(const char* p, uint64_t n) {
    uint64_t acc = 0;
    uint64_t i = 0;
    for (; n - i >= 8; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      acc |= w;
    }
    for (; i < n; ++i) acc |= static_cast<unsigned char>(p[i]);
    return (acc & 0x8080808080808080ull) == 0;
  }
  // Read for the rest: `n` units (read already) with multi-byte sequences,
  // a cut pair, or an error.
  std::string_view ReadSlow(uint64_t n, uint64_t* utf16_len);

  UintOptRleDecoder lens_;
  std::string_view text_;
  size_t pos_ = 0;
  bool pending_low_half_ = false;  // the last cut split a surrogate pair
  char16_t last_lead_low_ = 0;
  char16_t last_trail_high_ = 0;
  StringArena* arena_;
};

// Reads updates in format v1. Views returned by Read* point into the input
// span (which must outlive them). Errors are sticky (see Lib0Decoder).
class UpdateDecoderV1 {
 public:
  static constexpr int kVersion = 1;

  // `label` names the update in errors and must outlive the decoder.
  // `arena` is unused (v1 strings are always views into `update`); the
  // parameter keeps the two decoders interchangeable in templates.
  explicit UpdateDecoderV1(std::span<const uint8_t> update,
                           std::string_view label = "update",
                           StringArena* arena = nullptr);

  Lib0Decoder& rest() { return rest_; }
  bool ok() const { return rest_.ok(); }
  absl::Status status() const { return rest_.status(); }
  size_t size() const { return size_; }
  // Upper bound on further non-empty strings (for allocation checks).
  size_t remaining_string_bytes() const { return rest_.remaining(); }

  void ResetDsCurVal() {}
  uint64_t ReadDsClock() { return rest_.ReadVarUint(); }
  uint64_t ReadDsLen() { return rest_.ReadVarUint(); }

  ID ReadLeftID() {
    uint64_t client = rest_.ReadVarUint();
    return ID{client, rest_.ReadVarUint()};
  }
  ID ReadRightID() { return ReadLeftID(); }
  uint64_t ReadClient() { return rest_.ReadVarUint(); }
  uint8_t ReadInfo() { return rest_.ReadUint8(); }
  std::string_view ReadString(uint64_t* utf16_len = nullptr) {
    return rest_.ReadVarString(utf16_len);
  }
  // v1 strings are whole: no split surrogate halves.
  void LastStringHalves(char16_t* lead_low, char16_t* trail_high) const {
    *lead_low = 0;
    *trail_high = 0;
  }
  // yjs: `readVarUint() === 1`; any other value means "parent is an ID".
  bool ReadParentInfo() { return rest_.ReadVarUint() == 1; }
  uint64_t ReadTypeRef() { return rest_.ReadVarUint(); }
  uint64_t ReadLen() { return rest_.ReadVarUint(); }
  Any ReadAny() { return rest_.ReadAny(); }
  std::span<const uint8_t> ReadBuf() { return rest_.ReadVarUint8Array(); }
  // JSON.parse(readVarString()).
  Any ReadJSON();
  std::string_view ReadKey() { return rest_.ReadVarString(); }

 private:
  Lib0Decoder rest_;
  size_t size_;
};

// Reads updates in format v2: the feature flag and nine columns are split
// off at construction, then fields are pulled from their columns. Views
// point into the input span or into `arena` (needed only for strings
// whose cut splits a surrogate pair; without an arena that is an error).
class UpdateDecoderV2 {
 public:
  static constexpr int kVersion = 2;

  explicit UpdateDecoderV2(std::span<const uint8_t> update,
                           std::string_view label = "update",
                           StringArena* arena = nullptr);
  UpdateDecoderV2(const UpdateDecoderV2&) = delete;
  UpdateDecoderV2& operator=(const UpdateDecoderV2&) = delete;

  Lib0Decoder& rest() { return *rest_; }
  bool ok() const { return !err_.failed; }
  absl::Status status() const { return head_.status(); }
  size_t size() const { return size_; }
  size_t remaining_string_bytes() const { return strings_->remaining_bytes(); }

  void ResetDsCurVal() { ds_curr_ = 0; }
  uint64_t ReadDsClock();
  uint64_t ReadDsLen();

  ABSL_ATTRIBUTE_ALWAYS_INLINE ID ReadLeftID() {
    uint64_t client = client_->Read();
    return ID{client, ReadLeftClock()};
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE ID ReadRightID() {
    uint64_t client = client_->Read();
    return ID{client, ReadRightClock()};
  }
  // The clock halves of ReadLeftID and ReadRightID (their client is read
  // first), for a reader that takes the columns one at a time.
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint64_t ReadLeftClock() {
    return CheckedClock(left_clock_->Read());
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint64_t ReadRightClock() {
    return CheckedClock(right_clock_->Read());
  }
  uint64_t ReadClient() { return client_->Read(); }
  uint8_t ReadInfo() { return info_->Read(); }
  std::string_view ReadString(uint64_t* utf16_len = nullptr) {
    return strings_->Read(utf16_len);
  }
  // See StringContent: the real halves behind the last string's U+FFFD.
  void LastStringHalves(char16_t* lead_low, char16_t* trail_high) const {
    *lead_low = strings_->last_lead_low();
    *trail_high = strings_->last_trail_high();
  }
  bool ReadParentInfo() { return parent_info_->Read() == 1; }
  uint64_t ReadTypeRef() { return type_ref_->Read(); }
  uint64_t ReadLen() { return len_->Read(); }
  Any ReadAny() { return rest_->ReadAny(); }
  std::span<const uint8_t> ReadBuf() { return rest_->ReadVarUint8Array(); }
  // v2 stores embeds and format values with writeAny.
  Any ReadJSON() { return rest_->ReadAny(); }
  std::string_view ReadKey();

  // The columns of the struct fields, for a reader that decodes a run of
  // structs from local copies of their states (update_read.cc): fields read
  // that way follow the rules of the Read* methods above.
  RleByteDecoder& info_column() { return *info_; }
  UintOptRleDecoder& client_column() { return *client_; }
  IntDiffOptRleDecoder& left_clock_column() { return *left_clock_; }
  IntDiffOptRleDecoder& right_clock_column() { return *right_clock_; }
  StringColumnDecoder& string_column() { return *strings_; }
  UintOptRleDecoder& len_column() { return *len_; }

 private:
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint64_t CheckedClock(int64_t v) {
    if (v < 0) [[unlikely]] {
      return NegativeClock();
    }
    return static_cast<uint64_t>(v);
  }
  uint64_t NegativeClock();

  DecodeError err_;
  Lib0Decoder head_;
  size_t size_;
  uint64_t ds_curr_ = 0;
  std::vector<std::string_view> keys_;
  // Constructed after the head is parsed, hence held by pointer.
  std::unique_ptr<IntDiffOptRleDecoder> key_clock_;
  std::unique_ptr<UintOptRleDecoder> client_;
  std::unique_ptr<IntDiffOptRleDecoder> left_clock_;
  std::unique_ptr<IntDiffOptRleDecoder> right_clock_;
  std::unique_ptr<RleByteDecoder> info_;
  std::unique_ptr<StringColumnDecoder> strings_;
  std::unique_ptr<RleByteDecoder> parent_info_;
  std::unique_ptr<UintOptRleDecoder> type_ref_;
  std::unique_ptr<UintOptRleDecoder> len_;
  std::unique_ptr<Lib0Decoder> rest_;
};

}  // namespace auxsync::crdt::internal

#endif  // AUXSYNC_CRDT_INTERNAL_UPDATE_DECODER_H_
