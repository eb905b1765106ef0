// Copyright 2025 The auxsync Authors.
//
// Field-level writers of Yjs updates: UpdateEncoderV1 (plain lib0 stream)
// and UpdateEncoderV2 (columns), with the method set of yjs's
// UpdateEncoder.js. Code that writes structs is templated on the encoder, so
// there are no virtual calls per field.

#ifndef AUXSYNC_CRDT_INTERNAL_UPDATE_ENCODER_H_
#define AUXSYNC_CRDT_INTERNAL_UPDATE_ENCODER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "auxsync/crdt/any.h"
#include "auxsync/crdt/id.h"
#include "auxsync/crdt/internal/lib0_encoder.h"
#include "auxsync/crdt/internal/utf8.h"

namespace auxsync::crdt::internal {

// The bytes of one finished run of lib0's UintOptRleEncoder (`count` >= 1
// values `s`) at `p`, which has room for kRunRoom bytes; returns the end.
// kPdep: as PutVarUint's.
inline constexpr size_t kRunRoom = 21;
template <bool kPdep = false>
[[gnu::always_inline]] inline uint8_t* PutUintOptRun(uint8_t* p, uint64_t s,
                                                     uint64_t count) {
  p = PutVarIntSM<kPdep>(p, count > 1, s);
  if (count > 1) p = PutVarUint<kPdep>(p, count - 2);
  return p;
}

// The same for IntDiffOptRleEncoder: `count` >= 1 values, each `diff` more
// than the one before.
template <bool kPdep = false>
[[gnu::always_inline]] inline uint8_t* PutIntDiffOptRun(uint8_t* p,
                                                        int64_t diff,
                                                        uint64_t count) {
  const int64_t v = diff * 2 + (count == 1 ? 0 : 1);
  // |v| without a branch on the sign (whose direction follows the data):
  // all ones when negative, so x ^ m - m negates.
  const uint64_t m = static_cast<uint64_t>(v >> 63);
  p = PutVarIntSM<kPdep>(p, v < 0, (static_cast<uint64_t>(v) ^ m) - m);
  if (count > 1) p = PutVarUint<kPdep>(p, count - 2);
  return p;
}

// lib0 RleEncoder<uint8>: a value byte per run, varUint(run - 1) between
// runs, the last run's count never written.
class RleByteEncoder {
 public:
  void Write(uint8_t v) {
    if (count_ > 0 && v == s_) {
      ++count_;
      return;
    }
    if (count_ > 0) out_.WriteVarUint(count_ - 1);
    count_ = 1;
    out_.WriteUint8(v);
    s_ = v;
  }
  std::vector<uint8_t> Finish() {
    count_ = 0;
    return out_.Take();
  }
  // Finish() without the copy: the column's bytes, valid until the next
  // call (UpdateEncoderV2::ToBytes copies them into the update).
  std::span<const uint8_t> FinishView() {
    count_ = 0;
    std::span<const uint8_t> v = out_.view();
    out_.Clear();
    return v;
  }
  // Capacity for about `n` bytes of output.
  void Reserve(size_t n) { out_.Reserve(n); }

  // For writers that keep the run in locals over many values (the
  // engine's store writer) and write the column's bytes themselves: the
  // current run (value, count; count 0 = none yet) and the output. Hand
  // the run back with set_run before any other call.
  struct Run {
    uint8_t s;
    uint64_t count;
  };
  Run run() const { return {s_, count_}; }
  void set_run(Run r) {
    s_ = r.s;
    count_ = r.count;
  }
  RawLib0Encoder& out() { return out_; }

 private:
  RawLib0Encoder out_;
  uint8_t s_ = 0;
  uint64_t count_ = 0;
};

// lib0 UintOptRleEncoder: a single value as varInt(v), a run of n >= 2 as
// varInt(-v) (so -0 for zero) then varUint(n - 2).
class UintOptRleEncoder {
 public:
  void Write(uint64_t v) {
    if (v == s_) {
      ++count_;
      return;
    }
    Flush();
    count_ = 1;
    s_ = v;
  }
  std::vector<uint8_t> Finish() {
    Flush();
    count_ = 0;
    return out_.Take();
  }
  // Finish() without the copy, as RleByteEncoder::FinishView.
  std::span<const uint8_t> FinishView() {
    Flush();
    count_ = 0;
    std::span<const uint8_t> v = out_.view();
    out_.Clear();
    return v;
  }
  // Capacity for about `n` bytes of output.
  void Reserve(size_t n) { out_.Reserve(n); }

  // Direct access to the run and the output, as RleByteEncoder's.
  struct Run {
    uint64_t s;
    uint64_t count;
  };
  Run run() const { return {s_, count_}; }
  void set_run(Run r) {
    s_ = r.s;
    count_ = r.count;
  }
  RawLib0Encoder& out() { return out_; }

 private:
  // Writes the current run (out of line: Write stays small).
  void Flush();
  RawLib0Encoder out_;
  uint64_t s_ = 0;
  uint64_t count_ = 0;
};

// lib0 IntDiffOptRleEncoder: runs of equal differences between consecutive
// values, varInt(diff * 2 + (run > 1)) then varUint(run - 2) if run > 1.
class IntDiffOptRleEncoder {
 public:
  void Write(int64_t v) {
    if (v - s_ == diff_) {
      s_ = v;
      ++count_;
      return;
    }
    Flush();
    count_ = 1;
    diff_ = v - s_;
    s_ = v;
  }
  std::vector<uint8_t> Finish() {
    Flush();
    count_ = 0;
    return out_.Take();
  }
  // Finish() without the copy, as RleByteEncoder::FinishView.
  std::span<const uint8_t> FinishView() {
    Flush();
    count_ = 0;
    std::span<const uint8_t> v = out_.view();
    out_.Clear();
    return v;
  }
  // Capacity for about `n` bytes of output.
  void Reserve(size_t n) { out_.Reserve(n); }

  // Direct access to the run and the output, as RleByteEncoder's.
  struct Run {
    int64_t s;
    int64_t diff;
    uint64_t count;
  };
  Run run() const { return {s_, diff_, count_}; }
  void set_run(Run r) {
    s_ = r.s;
    diff_ = r.diff;
    count_ = r.count;
  }
  RawLib0Encoder& out() { return out_; }

 private:
  // Writes the current run (out of line: Write stays small).
  void Flush();
  RawLib0Encoder out_;
  int64_t s_ = 0;
  int64_t diff_ = 0;
  uint64_t count_ = 0;
};

// lib0 StringEncoder: all strings concatenated into one varString, followed
// by a UintOptRle of their UTF-16 lengths.
class StringColumnEncoder {
 public:
  void Write(std::string_view utf8, uint64_t utf16_len) {
    FlushHigh();
    text_.WriteRaw(utf8);
    lens_.Write(utf16_len);
  }
  void Write(std::string_view utf8) { Write(utf8, Utf16Length(utf8)); }
  // A UTF-16 string (the document engine's text). lib0 joins all strings
  // of the column before encoding them, so a high surrogate ending one
  // string and a low one starting the next form one pair; a lone surrogate
  // becomes U+FFFD.
  void Write16(std::u16string_view s);
  std::vector<uint8_t> Finish();
  // Finish() in two steps, for writing the column straight into an
  // update (Finish() copies the text once more): FinishLens() ends the
  // column and returns its lengths part; then text_size() is final and
  // WriteColumn writes the column as one varUint8Array.
  std::span<const uint8_t> FinishLens() {
    FlushHigh();
    return lens_.FinishView();
  }
  size_t text_size() const { return text_.size(); }
  // Capacity for about `text` bytes of text and `strings` lengths.
  void Reserve(size_t text, size_t strings) {
    text_.Reserve(text);
    lens_.Reserve(strings);
  }
  void WriteColumn(std::span<const uint8_t> lens, std::vector<uint8_t>& out);

  // Direct access, as RleByteEncoder's: the joined text (append UTF-8 to
  // it only while pending_high() is 0), the lengths column, and the held
  // back high surrogate.
  RawLib0Encoder& text() { return text_; }
  UintOptRleEncoder& lens() { return lens_; }
  char16_t pending_high() const { return pending_high_; }

 private:
  // Writes a held-back high surrogate that no low one followed.
  void FlushHigh() {
    if (pending_high_ != 0) {
      text_.WriteRaw(kReplacementChar);
      pending_high_ = 0;
    }
  }
  RawLib0Encoder text_;        // the joined UTF-8 text
  char16_t pending_high_ = 0;  // a string's last unit, a high surrogate
  UintOptRleEncoder lens_;
};

// Writes updates in format v1: every field goes to one lib0 stream.
// Sticky error: a field yjs would throw on (an embed JSON.stringify cannot
// print) is recorded in status() and writes nothing.
class UpdateEncoderV1 {
 public:
  static constexpr int kVersion = 1;

  Lib0Encoder& rest() { return rest_; }
  absl::Status status() const { return status_; }
  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  // The encoded update (or state vector / delete set). Call once, last.
  std::vector<uint8_t> ToBytes() { return rest_.Take(); }

  void ResetDsCurVal() {}
  void WriteDsClock(uint64_t clock) { rest_.WriteVarUint(clock); }
  void WriteDsLen(uint64_t len) { rest_.WriteVarUint(len); }

  void WriteLeftID(ID id) {
    rest_.WriteVarUint(id.client);
    rest_.WriteVarUint(id.clock);
  }
  void WriteRightID(ID id) { WriteLeftID(id); }
  void WriteClient(uint64_t client) { rest_.WriteVarUint(client); }
  void WriteInfo(uint8_t info) { rest_.WriteUint8(info); }
  void WriteString(std::string_view utf8) { rest_.WriteVarString(utf8); }
  void WriteString(std::string_view utf8, uint64_t /*utf16_len*/) {
    rest_.WriteVarString(utf8);
  }
  // A UTF-16 string as TextEncoder writes it (lone surrogates -> U+FFFD).
  void WriteString16(std::u16string_view s) {
    // Up to this many units the UTF-8 length (<= 3 per unit) is one byte.
    constexpr size_t kShort16 = 42;
    if (s.size() <= kShort16) {
      // At most 3 bytes per unit, so the length fits the one byte reserved
      // for it: convert in place, then write the length in front.
      uint8_t* p = rest_.Room(1 + 3 * kShort16);
      uint8_t* end = WriteUtf16AsUtf8Short(s, p + 1);
      p[0] = static_cast<uint8_t>(end - p - 1);
      rest_.Commit(static_cast<size_t>(end - p));
      return;
    }
    const size_t n = Utf8LengthOfUtf16(s);
    rest_.WriteVarUint(n);
    WriteUtf16AsUtf8(s, rest_.Room(n));
    rest_.Commit(n);
  }
  void WriteParentInfo(bool is_root_key) {
    rest_.WriteVarUint(is_root_key ? 1 : 0);
  }
  void WriteTypeRef(uint64_t ref) { rest_.WriteVarUint(ref); }
  void WriteLen(uint64_t len) { rest_.WriteVarUint(len); }
  void WriteAny(const Any& v) { rest_.WriteAny(v); }
  void WriteBuf(std::span<const uint8_t> b) { rest_.WriteVarUint8Array(b); }
  // v1 writes JSON.stringify(value) as a varString.
  void WriteJSON(const Any& v);
  void WriteKey(std::string_view key) { rest_.WriteVarString(key); }

 private:
  Lib0Encoder rest_;
  absl::Status status_;
};

// Writes updates in format v2: fields go to the nine columns of spec §5.1,
// the rest to the plain stream appended at the end.
class UpdateEncoderV2 {
 public:
  static constexpr int kVersion = 2;

  RawLib0Encoder& rest() { return rest_; }
  absl::Status status() const { return status_; }
  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  // Feature flag, the nine columns, then the rest stream. Call once, last.
  std::vector<uint8_t> ToBytes();

  // Capacity for an update of about `structs` structs (most of them
  // string or deleted items with origins) and `text` bytes of strings:
  // reserved once instead of doubled (and copied) as they grow.
  void Reserve(size_t structs, size_t text) {
    client_.Reserve(structs / 4 + 16);
    left_clock_.Reserve(3 * structs + 16);
    right_clock_.Reserve(3 * structs + 16);
    info_.Reserve(structs + 16);
    strings_.Reserve(text + 16, structs + 16);
    len_.Reserve(structs + 16);
    rest_.Reserve(2 * structs + 16);
  }

  void ResetDsCurVal() { ds_curr_ = 0; }
  void WriteDsClock(uint64_t clock) {
    rest_.WriteVarUint(clock - ds_curr_);
    ds_curr_ = clock;
  }
  // yjs throws on a zero length (it cannot be written as len - 1).
  void WriteDsLen(uint64_t len) {
    if (len == 0) {
      Fail(absl::InvalidArgumentError(
          "delete range of length 0 cannot be written in v2"));
      return;
    }
    rest_.WriteVarUint(len - 1);
    ds_curr_ += len;
  }

  void WriteLeftID(ID id) {
    client_.Write(id.client);
    left_clock_.Write(static_cast<int64_t>(id.clock));
  }
  void WriteRightID(ID id) {
    client_.Write(id.client);
    right_clock_.Write(static_cast<int64_t>(id.clock));
  }
  void WriteClient(uint64_t client) { client_.Write(client); }
  void WriteInfo(uint8_t info) { info_.Write(info); }
  void WriteString(std::string_view utf8) { strings_.Write(utf8); }
  void WriteString(std::string_view utf8, uint64_t utf16_len) {
    strings_.Write(utf8, utf16_len);
  }
  void WriteString16(std::u16string_view s) { strings_.Write16(s); }
  void WriteParentInfo(bool is_root_key) {
    parent_info_.Write(is_root_key ? 1 : 0);
  }
  void WriteTypeRef(uint64_t ref) { type_ref_.Write(ref); }
  void WriteLen(uint64_t len) { len_.Write(len); }
  void WriteAny(const Any& v) { rest_.WriteAny(v); }
  void WriteBuf(std::span<const uint8_t> b) { rest_.WriteVarUint8Array(b); }
  // v2 writes embeds and format values with writeAny.
  void WriteJSON(const Any& v) { rest_.WriteAny(v); }

  // The columns, for writers that write runs of structs through them
  // directly (see the column encoders' run()).
  UintOptRleEncoder& client_column() { return client_; }
  IntDiffOptRleEncoder& left_clock_column() { return left_clock_; }
  IntDiffOptRleEncoder& right_clock_column() { return right_clock_; }
  RleByteEncoder& info_column() { return info_; }
  StringColumnEncoder& string_column() { return strings_; }
  UintOptRleEncoder& len_column() { return len_; }
  // yjs 13.6's key cache never records a key, so every key is new: numbers
  // 0, 1, 2, ... and the string each time.
  void WriteKey(std::string_view key) {
    key_clock_.Write(key_count_++);
    strings_.Write(key);
  }

 private:
  RawLib0Encoder rest_;
  absl::Status status_;
  uint64_t ds_curr_ = 0;
  int64_t key_count_ = 0;
  IntDiffOptRleEncoder key_clock_;
  UintOptRleEncoder client_;
  IntDiffOptRleEncoder left_clock_;
  IntDiffOptRleEncoder right_clock_;
  RleByteEncoder info_;
  StringColumnEncoder strings_;
  RleByteEncoder parent_info_;
  UintOptRleEncoder type_ref_;
  UintOptRleEncoder len_;
};

}  // namespace auxsync::crdt::internal

#endif  // AUXSYNC_CRDT_INTERNAL_UPDATE_ENCODER_H_
