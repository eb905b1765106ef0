// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/internal/lib0_encoder.h"

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <memory>

namespace auxsync::crdt::internal {

namespace {

void PutBigEndian64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}

// lib0's isFloat32: the value survives a round trip through binary32.
// (A double beyond float range must not be cast: that is UB in C++.)
bool IsFloat32(double d) {
  if (std::isnan(d)) return false;
  if (std::isinf(d)) return true;
  if (std::fabs(d) > static_cast<double>(FLT_MAX)) return false;
  return static_cast<double>(static_cast<float>(d)) == d;
}

}  // namespace

void VectorBytes::Grow(size_t len, size_t n) {
  // Room is zeroed in steps of this many bytes (or `n`) within the
  // capacity: the zeroed lines are still in cache when they are written.
  constexpr size_t kStep = 4096;
  const size_t need = len + n;
  if (need > v_.capacity()) {
    v_.resize(len);  // the reallocation copies only written bytes
    v_.reserve(std::max({2 * v_.capacity(), need, size_t{64}}));
  }
  v_.resize(std::min(v_.capacity(), std::max(need, v_.size() + kStep)));
}

void RawBytes::Grow(size_t len, size_t n) {
  Reallocate(len, std::max({2 * cap_, len + n, size_t{64}}));
}

void RawBytes::Reallocate(size_t len, size_t cap) {
  auto p = std::make_unique_for_overwrite<uint8_t[]>(cap);
  if (len > 0) std::memcpy(p.get(), p_.get(), len);
  p_ = std::move(p);
  cap_ = cap;
}

template <typename Bytes>
void BasicLib0Encoder<Bytes>::WriteFloat32(float v) {
  uint32_t bits = std::bit_cast<uint32_t>(v);
  uint8_t* p = Room(4);
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(bits >> (24 - 8 * i));
  Commit(4);
}

template <typename Bytes>
void BasicLib0Encoder<Bytes>::WriteFloat64(double v) {
  PutBigEndian64(Room(8), std::bit_cast<uint64_t>(v));
  Commit(8);
}

template <typename Bytes>
void BasicLib0Encoder<Bytes>::WriteBigInt64(int64_t v) {
  PutBigEndian64(Room(8), static_cast<uint64_t>(v));
  Commit(8);
}

template <typename Bytes>
void BasicLib0Encoder<Bytes>::WriteAny(const Any& v) {
  switch (v.kind()) {
    case Any::Kind::kUndefined:
      WriteUint8(127);
      return;
    case Any::Kind::kNull:
      WriteUint8(126);
      return;
    case Any::Kind::kBool:
      WriteUint8(v.bool_value() ? 120 : 121);
      return;
    case Any::Kind::kNumber: {
      double d = v.number();
      if (std::isfinite(d) && std::trunc(d) == d &&
          std::fabs(d) <= 2147483647.0) {
        WriteUint8(125);
        // -0 is an integer too and is written as 0x40.
        WriteVarIntSignMagnitude(std::signbit(d),
                                 static_cast<uint64_t>(std::fabs(d)));
      } else if (IsFloat32(d)) {
        WriteUint8(124);
        WriteFloat32(static_cast<float>(d));
      } else {
        WriteUint8(123);
        // V8 produces one canonical quiet NaN.
        WriteFloat64(
            std::isnan(d) ? std::bit_cast<double>(0x7FF8000000000000ull) : d);
      }
      return;
    }
    case Any::Kind::kBigInt:
      WriteUint8(122);
      WriteBigInt64(v.bigint());
      return;
    case Any::Kind::kString:
      WriteUint8(119);
      WriteVarString(v.string());
      return;
    case Any::Kind::kBytes:
      WriteUint8(116);
      WriteVarUint8Array(v.bytes());
      return;
    case Any::Kind::kArray: {
      WriteUint8(117);
      const Any::Array& a = v.array();
      WriteVarUint(a.size());
      for (const Any& e : a) WriteAny(e);
      return;
    }
    case Any::Kind::kMap: {
      WriteUint8(118);
      const Any::Map& m = v.map();
      WriteVarUint(m.size());
      for (const auto& [key, e] : m) {
        WriteVarString(key);
        WriteAny(e);
      }
      return;
    }
  }
}

template class BasicLib0Encoder<VectorBytes>;
template class BasicLib0Encoder<RawBytes>;

}  // namespace auxsync::crdt::internal
