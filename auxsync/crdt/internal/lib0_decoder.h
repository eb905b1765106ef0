// Copyright 2025 The auxsync Authors.
//
// Lib0Decoder: reads lib0's binary primitives (decoding.js) from untrusted
// bytes, with bounds checks and a sticky error that names the byte offset.

#ifndef AUXSYNC_CRDT_INTERNAL_LIB0_DECODER_H_
#define AUXSYNC_CRDT_INTERNAL_LIB0_DECODER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "auxsync/crdt/any.h"

namespace auxsync::crdt::internal {

// The first error of a decoding run. Several decoders (the columns of a v2
// update) can share one, so the update fails at the first bad byte of any of
// them.
struct DecodeError {
  bool failed = false;
  size_t offset = 0;
  std::string message;
};

// Reads lib0 primitives from a span it does not own (the span must outlive
// the decoder and every view it returns).
//
// Errors are sticky: the first failure (end of input, integer above 2^53-1,
// invalid UTF-8, unknown Any tag, a declared length larger than the rest of
// the input, nesting deeper than kMaxAnyDepth) is recorded with its absolute
// byte offset; from then on every read returns a zero value and consumes
// nothing. Callers check ok() before acting on what they read, and status()
// turns the error into an absl::Status. Never reads out of bounds and never
// allocates more than the remaining input can justify.
class Lib0Decoder {
 public:
  // Nesting limit for Any arrays/maps, so hostile input cannot exhaust the
  // stack (V8 itself throws a RangeError somewhere past ~10k levels).
  static constexpr int kMaxAnyDepth = 1000;

  // `base_offset` is added to positions in error messages (a v2 column sits
  // inside the update); `label` names the input ("update", "update 2",
  // "state vector"). `error` may be shared with other decoders; nullptr
  // means the decoder keeps its own. `label` must outlive the decoder.
  explicit Lib0Decoder(std::span<const uint8_t> data, size_t base_offset = 0,
                       DecodeError* error = nullptr,
                       std::string_view label = "update");
  Lib0Decoder(const Lib0Decoder&) = delete;
  Lib0Decoder& operator=(const Lib0Decoder&) = delete;

  bool ok() const { return !err_->failed; }
  // OK, or InvalidArgument "<label>: <message> at byte <offset>".
  absl::Status status() const;
  DecodeError* error() const { return err_; }
  std::string_view label() const { return label_; }

  // Absolute offset of the next byte (base_offset + position).
  size_t offset() const { return base_ + pos_; }
  // The next byte and the end of the input, for readers that decode a run
  // of fields from a local cursor (bounds checked by them) and then move
  // past what they read with Advance.
  const uint8_t* cursor() const { return data_.data() + pos_; }
  const uint8_t* end() const { return data_.data() + data_.size(); }
  // Moves to `p`, which lies in [cursor(), end()].
  void Advance(const uint8_t* p) {
    pos_ = static_cast<size_t>(p - data_.data());
  }
  size_t remaining() const { return data_.size() - pos_; }
  bool has_content() const { return pos_ < data_.size(); }

  // Records the first failure at the current offset; returns false so
  // callers can `return d.Fail(...)`.
  bool Fail(std::string_view message) { return FailAt(offset(), message); }
  bool FailAt(size_t absolute_offset, std::string_view message);

  uint8_t ReadUint8() {
    if (pos_ < data_.size()) return data_[pos_++];
    Fail("unexpected end of input");
    return 0;
  }

  // lib0 readVarUint; values above 2^53 - 1 are an error.
  uint64_t ReadVarUint() {
    // Values of up to five bytes (35 bits: every clock, length and 32-bit
    // client yjs writes) are decoded inline without per-byte bounds checks
    // when enough input is left; anything else takes the careful path.
    if (data_.size() - pos_ >= 5) {
      const uint8_t* p = data_.data() + pos_;
      uint64_t b = p[0];
      uint64_t r = b & 0x7f;
      if (b < 0x80) {
        pos_ += 1;
        return r;
      }
      b = p[1];
      r |= (b & 0x7f) << 7;
      if (b < 0x80) {
        pos_ += 2;
        return r;
      }
      b = p[2];
      r |= (b & 0x7f) << 14;
      if (b < 0x80) {
        pos_ += 3;
        return r;
      }
      b = p[3];
      r |= (b & 0x7f) << 21;
      if (b < 0x80) {
        pos_ += 4;
        return r;
      }
      b = p[4];
      r |= (b & 0x7f) << 28;
      if (b < 0x80) {
        pos_ += 5;
        return r;
      }
    }
    return ReadVarUintSlow();
  }

  // lib0 readVarInt as sign and magnitude, keeping -0 (0x40) distinct.
  struct SignMagnitude {
    bool negative;
    uint64_t magnitude;
  };
  // `max_bits` bounds the magnitude (below 2^max_bits): 53 for values, 55
  // for the v2 IntDiffOptRle columns, which write 2 * diff + 1 of clocks
  // below 2^53 (lib0 reads up to 8 bytes there too).
  SignMagnitude ReadVarIntSignMagnitude(int max_bits = 53) {
    // Up to three bytes (20 bits: most v2 column values) inline when
    // enough input is left; the rest out of line.
    if (data_.size() - pos_ >= 3) {
      const uint8_t* p = data_.data() + pos_;
      SignMagnitude v{(p[0] & 0x40) != 0, static_cast<uint64_t>(p[0] & 0x3f)};
      if (p[0] < 0x80) {
        pos_ += 1;
        return v;
      }
      uint64_t b = p[1];
      v.magnitude |= (b & 0x7f) << 6;
      if (b < 0x80) {
        pos_ += 2;
        return v;
      }
      b = p[2];
      v.magnitude |= (b & 0x7f) << 13;
      if (b < 0x80) {
        pos_ += 3;
        return v;
      }
    } else if (pos_ < data_.size() && data_[pos_] < 0x80) {
      const uint8_t b = data_[pos_++];
      return {(b & 0x40) != 0, static_cast<uint64_t>(b & 0x3f)};
    }
    return ReadVarIntSlow(max_bits);
  }
  // readVarInt as an integer (-0 reads as 0).
  int64_t ReadVarInt() {
    SignMagnitude v = ReadVarIntSignMagnitude();
    return v.negative ? -static_cast<int64_t>(v.magnitude)
                      : static_cast<int64_t>(v.magnitude);
  }

  // `n` raw bytes as a view into the input.
  std::span<const uint8_t> ReadBytes(uint64_t n);
  std::span<const uint8_t> ReadVarUint8Array() {
    return ReadBytes(ReadVarUint());
  }
  // Everything up to the end.
  std::span<const uint8_t> ReadRest();

  // varString as a view into the input. The bytes must be valid UTF-8 (lib0
  // decodes with a fatal TextDecoder; a BOM is kept). If `utf16_len` is not
  // null it receives the string's length in UTF-16 code units.
  std::string_view ReadVarString(uint64_t* utf16_len = nullptr);

  float ReadFloat32();
  double ReadFloat64();
  int64_t ReadBigInt64();

  // lib0 readAny. A map key "__proto__" is dropped, as the JS decoder's
  // `obj[key] = v` does not create an own property for it.
  Any ReadAny() { return ReadAnyAt(0); }

 private:
  uint64_t ReadVarUintSlow();
  SignMagnitude ReadVarIntSlow(int max_bits);
  Any ReadAnyAt(int depth);

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  size_t base_;
  DecodeError own_err_;
  DecodeError* err_;
  std::string_view label_;
};

}  // namespace auxsync::crdt::internal

#endif  // AUXSYNC_CRDT_INTERNAL_LIB0_DECODER_H_
