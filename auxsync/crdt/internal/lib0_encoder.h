// Copyright 2025 The auxsync Authors.
//
// Lib0Encoder: writes lib0's binary primitives (encoding.js) byte for byte.

#ifndef AUXSYNC_CRDT_INTERNAL_LIB0_ENCODER_H_
#define AUXSYNC_CRDT_INTERNAL_LIB0_ENCODER_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "auxsync/crdt/any.h"

namespace auxsync::crdt::internal {

// Bytes of lib0's varUint of `v`.
inline size_t VarUintSize(uint64_t v) {
  return v < 0x80 ? 1 : (static_cast<size_t>(std::bit_width(v)) + 6) / 7;
}

// Per bit width w of a value below 2^28 (w = 1 for 0): its varUint's size
// and the continuation bits of its bytes but the last.
struct VarUintShape {
  uint32_t cont;
  uint32_t len;
};
inline constexpr auto kVarUintShapes = [] {
  std::array<VarUintShape, 29> t{};
  for (uint32_t w = 0; w < t.size(); ++w) {
    const uint32_t len = w <= 7 ? 1 : (w + 6) / 7;
    t[w] = {0x808080u & ((1u << (8 * len - 8)) - 1), len};
  }
  return t;
}();

// Whether the CPU has BMI2's pdep, which PutVarUint<true> and
// PutVarIntSM<true> use (the build targets plain x86-64, so the writers
// check once per run and pick their instantiation).
inline bool CpuHasPdep() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("bmi2");
#else
  return false;
#endif
}

// The bits of `x` moved to the set bits of `mask`, low to high (BMI2
// pdep; call only where CpuHasPdep()). Inline assembly: an intrinsic
// would need the whole caller compiled for BMI2.
[[gnu::always_inline]] inline uint32_t Pdep32(uint32_t x, uint32_t mask) {
#if defined(__x86_64__) && defined(__GNUC__)
  uint32_t r;
  asm("pdep %2, %1, %0" : "=r"(r) : "r"(x), "r"(mask));
  return r;
#else
  (void)mask;
  return x;  // never called: CpuHasPdep() is false
#endif
}

// Writes `v` as a lib0 varUint at `p`, which has room for 10 bytes, and
// returns the end. Below 2^28 it is one 4-byte store whatever the value's
// size (no branch to mispredict on clocks of varying size); bytes past the
// end may be overwritten within the room. kPdep (only where CpuHasPdep())
// spreads the value's 7-bit groups with one pdep instead of three masks
// and adds.
template <bool kPdep = false>
[[gnu::always_inline]] inline uint8_t* PutVarUint(uint8_t* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    if (v < (uint64_t{1} << 28)) [[likely]] {
      const uint32_t x = static_cast<uint32_t>(v);
      const VarUintShape sh = kVarUintShapes[std::bit_width(x | 1)];
      uint32_t b;
      if constexpr (kPdep) {
        b = Pdep32(x, 0x7f7f7f7fu) | sh.cont;
      } else {
        // Byte k = bits 7k..7k+6: each group above the first moves up by
        // one bit per group below it (x plus its high parts, which cannot
        // carry into each other).
        b = (x + (x & ~0x7fu) + 2 * (x & ~0x3fffu) + 4 * (x & ~0x1fffffu)) |
            sh.cont;
      }
      std::memcpy(p, &b, 4);
      return p + sh.len;
    }
  }
  while (v > 0x7f) {
    *p++ = static_cast<uint8_t>(0x80 | (v & 0x7f));
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

// As PutVarUint, for values usually below 128 (lengths, counts, kinds):
// then one byte, without the shape lookup.
template <bool kPdep = false>
[[gnu::always_inline]] inline uint8_t* PutSmallVarUint(uint8_t* p, uint64_t v) {
  if (v < 0x80) [[likely]] {
    *p = static_cast<uint8_t>(v);
    return p + 1;
  }
  return PutVarUint<kPdep>(p, v);
}

// Per bit width w of a magnitude below 2^27: the size of its sign-magnitude
// varInt (6 bits in the first byte, 7 in the others) and the continuation
// bits of its bytes but the last.
inline constexpr auto kVarIntShapes = [] {
  std::array<VarUintShape, 28> t{};
  for (uint32_t w = 0; w < t.size(); ++w) {
    const uint32_t len = w / 7 + 1;
    t[w] = {0x808080u & ((1u << (8 * len - 8)) - 1), len};
  }
  return t;
}();

// Writes lib0's sign-magnitude varInt (`negative` with magnitude 0 is -0)
// at `p`, which has room for 11 bytes, and returns the end. Below 2^27 it
// is one 4-byte store, as PutVarUint (kPdep likewise).
template <bool kPdep = false>
[[gnu::always_inline]] inline uint8_t* PutVarIntSM(uint8_t* p, bool negative,
                                                   uint64_t m) {
  if constexpr (std::endian::native == std::endian::little) {
    if (m < (uint64_t{1} << 27)) [[likely]] {
      const uint32_t x = static_cast<uint32_t>(m);
      const VarUintShape sh = kVarIntShapes[std::bit_width(x | 1)];
      // Byte 0 = bits 0..5, byte k = bits 6+7(k-1).. (as PutVarUint).
      uint32_t b;
      if constexpr (kPdep) {
        b = Pdep32(x, 0x7f7f7f3fu);
      } else {
        b = x + 3 * (x & ~0x3fu) + 4 * (x & ~0x1fffu) + 8 * (x & ~0xfffffu);
      }
      // (The sign as a shift, not a select: compilers branch on it.)
      b |= sh.cont | (static_cast<uint32_t>(negative) << 6);
      std::memcpy(p, &b, 4);
      return p + sh.len;
    }
  }
  *p++ = static_cast<uint8_t>((m > 0x3f ? 0x80 : 0) | (negative ? 0x40 : 0) |
                              (m & 0x3f));
  m >>= 6;
  while (m > 0) {
    *p++ = static_cast<uint8_t>((m > 0x7f ? 0x80 : 0) | (m & 0x7f));
    m >>= 7;
  }
  return p;
}

// As PutVarUint, writing only the varUint's own bytes.
inline uint8_t* PutVarUintExact(uint8_t* p, uint64_t v) {
  while (v > 0x7f) {
    *p++ = static_cast<uint8_t>(0x80 | (v & 0x7f));
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

// Where a BasicLib0Encoder keeps its bytes. `limit()` is the end of the
// room that may be written, Grow(len, n) makes limit() >= len + n keeping
// bytes [0, len), Take(len) hands bytes [0, len) out as a vector.
//
// VectorBytes: a std::vector, handed out by Take() without a copy. A
// vector's elements are initialised, so its room is zeroed, a few KiB
// ahead of the writes, while a reallocation copies only the written bytes:
// zeroing and copying a doubled buffer at every growth cost more than
// writing a document's state.
class VectorBytes {
 public:
  uint8_t* data() { return v_.data(); }
  const uint8_t* data() const { return v_.data(); }
  size_t limit() const { return v_.size(); }
  // Out of line: keeps the write functions small enough to inline.
  void Grow(size_t len, size_t n);
  void Reserve(size_t len, size_t n) {
    if (v_.capacity() - len < n) {
      v_.resize(len);
      v_.reserve(len + n);
    }
  }
  std::vector<uint8_t> Take(size_t len) {
    v_.resize(len);
    return std::exchange(v_, {});
  }

 private:
  std::vector<uint8_t> v_;
};

// RawBytes: a heap array that is never initialised (nothing is zeroed),
// for buffers whose bytes are copied elsewhere when complete (the v2
// columns, which UpdateEncoderV2::ToBytes joins): Take() copies.
class RawBytes {
 public:
  uint8_t* data() { return p_.get(); }
  const uint8_t* data() const { return p_.get(); }
  size_t limit() const { return cap_; }
  // Out of line, as VectorBytes::Grow.
  void Grow(size_t len, size_t n);
  void Reserve(size_t len, size_t n) {
    if (cap_ - len < n) Reallocate(len, len + n);
  }
  std::vector<uint8_t> Take(size_t len) {
    return std::vector<uint8_t>(p_.get(), p_.get() + len);
  }

 private:
  // A new array of `cap` bytes holding the first `len` of the old one.
  void Reallocate(size_t len, size_t cap);

  std::unique_ptr<uint8_t[]> p_;
  size_t cap_ = 0;
};

// An append-only byte buffer with lib0's write functions, its bytes kept
// in `Bytes` (VectorBytes or RawBytes). Multi-byte fixed width numbers are
// big-endian, var-ints little-endian base 128, exactly as lib0 0.2.x
// writes them. Never fails; callers pass values lib0 could hold (var-ints
// up to 2^53 - 1, valid UTF-8 strings).
template <typename Bytes>
class BasicLib0Encoder {
 public:
  BasicLib0Encoder() = default;

  [[gnu::always_inline]] void WriteUint8(uint8_t v) {
    *Room(1) = v;
    ++len_;
  }

  // Unsigned LEB128.
  [[gnu::always_inline]] void WriteVarUint(uint64_t v) {
    uint8_t* p = Room(10);
    if (v < 0x80) {
      *p = static_cast<uint8_t>(v);
      ++len_;
      return;
    }
    len_ += static_cast<size_t>(PutVarUint(p, v) - p);
  }

  // lib0's sign-magnitude var-int: the first byte holds continuation, sign
  // and 6 bits. `negative` with magnitude 0 writes -0 (0x40), which the v2
  // column codecs rely on.
  void WriteVarIntSignMagnitude(bool negative, uint64_t magnitude) {
    uint8_t* p = Room(11);
    len_ += static_cast<size_t>(PutVarIntSM(p, negative, magnitude) - p);
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
    if (bytes.empty()) return;
    std::memcpy(Room(bytes.size()), bytes.data(), bytes.size());
    len_ += bytes.size();
  }
  void WriteRaw(std::string_view bytes) {
    if (bytes.empty()) return;
    std::memcpy(Room(bytes.size()), bytes.data(), bytes.size());
    len_ += bytes.size();
  }

  // Direct writing: Room(n) returns space for n more bytes (valid until the
  // next write), Commit(k) (k <= n) appends the first k of them.
  [[gnu::always_inline]] uint8_t* Room(size_t n) {
    if (bytes_.limit() - len_ < n) bytes_.Grow(len_, n);
    return bytes_.data() + len_;
  }
  void Commit(size_t k) { len_ += k; }
  // Bytes of room (at least what the last Room asked for).
  size_t room() const { return bytes_.limit() - len_; }

  void WriteFloat32(float v);
  void WriteFloat64(double v);
  void WriteBigInt64(int64_t v);

  // lib0 writeAny: tags 116..127, numbers as integer / float32 / float64 by
  // lib0's rule (integer form only for integral |x| <= 2^31 - 1).
  void WriteAny(const Any& v);

  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  std::span<const uint8_t> bytes() const { return view(); }
  std::span<const uint8_t> view() const { return {bytes_.data(), len_}; }
  // Hands the bytes out and leaves the encoder empty.
  std::vector<uint8_t> Take() { return bytes_.Take(std::exchange(len_, 0)); }
  void Clear() { len_ = 0; }
  // Makes room for `n` more bytes without reallocating (capacity only:
  // use it for a known or estimated total).
  void Reserve(size_t n) { bytes_.Reserve(len_, n); }

 private:
  // Bytes [0, len_) are written; [len_, bytes_.limit()) is room.
  Bytes bytes_;
  size_t len_ = 0;
};

// The encoder whose Take() hands its buffer out (updates, state vectors).
using Lib0Encoder = BasicLib0Encoder<VectorBytes>;
// The encoder for bytes that are copied out when complete (v2 columns):
// its room is never zeroed.
using RawLib0Encoder = BasicLib0Encoder<RawBytes>;

extern template class BasicLib0Encoder<VectorBytes>;
extern template class BasicLib0Encoder<RawBytes>;

}  // namespace auxsync::crdt::internal

#endif  // AUXSYNC_CRDT_INTERNAL_LIB0_ENCODER_H_
