// Copyright 2025 The auxsync Authors.
//
// Lib0Encoder: writes lib0's binary primitives (encoding.js) byte for byte.

#ifndef AUXSYNC_CRDT_INTERNAL_LIB0_ENCODER_H_
#define AUXSYNC_CRDT_INTERNAL_LIB0_ENCODER_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "auxsync/crdt/any.h"

namespace auxsync::crdt::internal {

// An append-only byte buffer with lib0's write functions. Multi-byte fixed
// width numbers are big-endian, var-ints little-endian base 128, exactly as
// lib0 0.2.x writes them. Never fails; callers pass values lib0 could hold
// (var-ints up to 2^53 - 1, valid UTF-8 strings).
class Lib0Encoder {
 public:
  Lib0Encoder() = default;

  void WriteUint8(uint8_t v) { buf_.push_back(v); }

  // Unsigned LEB128.
  void WriteVarUint(uint64_t v) {
    while (v > 0x7f) {
      buf_.push_back(static_cast<uint8_t>(0x80 | (v & 0x7f)));
      v >>= 7;
    }
    buf_.push_back(static_cast<uint8_t>(v));
  }

  // lib0's sign-magnitude var-int: the first byte holds continuation, sign
  // and 6 bits. `negative` with magnitude 0 writes -0 (0x40), which the v2
  // column codecs rely on.
  void WriteVarIntSignMagnitude(bool negative, uint64_t magnitude) {
    buf_.push_back(static_cast<uint8_t>((magnitude > 0x3f ? 0x80 : 0) |
                                        (negative ? 0x40 : 0) |
                                        (magnitude & 0x3f)));
    magnitude >>= 6;
    while (magnitude > 0) {
      buf_.push_back(static_cast<uint8_t>((magnitude > 0x7f ? 0x80 : 0) |
                                          (magnitude & 0x7f)));
      magnitude >>= 7;
    }
  }

  // varInt of an integer (never -0).
  void WriteVarInt(int64_t v) {
    WriteVarIntSignMagnitude(
        v < 0, v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v));
  }

  // varUint(byte length) + the bytes. `utf8` must be valid UTF-8.
  void WriteVarString(std::string_view utf8) {
    WriteVarUint(utf8.size());
    WriteRaw(utf8);
  }

  void WriteVarUint8Array(std::span<const uint8_t> bytes) {
    WriteVarUint(bytes.size());
    WriteRaw(bytes);
  }

  // Raw bytes without a length.
  void WriteRaw(std::span<const uint8_t> bytes) {
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  }
  void WriteRaw(std::string_view bytes) {
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  }

  void WriteFloat32(float v);
  void WriteFloat64(double v);
  void WriteBigInt64(int64_t v);

  // lib0 writeAny: tags 116..127, numbers as integer / float32 / float64 by
  // lib0's rule (integer form only for integral |x| <= 2^31 - 1).
  void WriteAny(const Any& v);

  size_t size() const { return buf_.size(); }
  bool empty() const { return buf_.empty(); }
  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::span<const uint8_t> view() const { return buf_; }
  // Hands the bytes out and leaves the encoder empty.
  std::vector<uint8_t> Take() { return std::exchange(buf_, {}); }
  void Clear() { buf_.clear(); }
  void Reserve(size_t n) { buf_.reserve(n); }

 private:
  std::vector<uint8_t> buf_;
};

}  // namespace auxsync::crdt::internal

#endif  // AUXSYNC_CRDT_INTERNAL_LIB0_ENCODER_H_
