// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/internal/lib0_decoder.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "auxsync/crdt/id.h"
#include "auxsync/crdt/internal/utf8.h"

namespace auxsync::crdt::internal {

Lib0Decoder::Lib0Decoder(std::span<const uint8_t> data, size_t base_offset,
                         DecodeError* error, std::string_view label)
    : data_(data),
      base_(base_offset),
      err_(error != nullptr ? error : &own_err_),
      label_(label) {}

absl::Status Lib0Decoder::status() const {
  if (!err_->failed) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(absl::string_view(label_.data(), label_.size()), ": ",
                   err_->message, " at byte ", err_->offset));
}

bool Lib0Decoder::FailAt(size_t absolute_offset, std::string_view message) {
  if (!err_->failed) {
    err_->failed = true;
    err_->offset = absolute_offset;
    err_->message = std::string(message);
  }
  // Consume everything so loops driven by this decoder end quickly.
  pos_ = data_.size();
  return false;
}

uint64_t Lib0Decoder::ReadVarUintSlow() {
  if (!ok()) return 0;
  const size_t start = offset();
  const uint8_t* p = data_.data() + pos_;
  const uint8_t* const end = data_.data() + data_.size();
  uint64_t num = 0;
  // Eight groups hold 56 bits, more than any valid value needs; past that
  // only redundant zero groups are allowed (lib0 accepts them).
  for (int shift = 0; p < end; shift += 7) {
    const uint8_t b = *p++;
    const uint64_t payload = b & 0x7f;
    if (shift < 56) {
      num |= payload << shift;
    } else if (payload != 0) {
      FailAt(start, "integer out of range (above 2^53 - 1)");
      return 0;
    }
    if (b < 0x80) {
      if (num > kMaxSafeInteger) {
        FailAt(start, "integer out of range (above 2^53 - 1)");
        return 0;
      }
      pos_ = static_cast<size_t>(p - data_.data());
      return num;
    }
  }
  FailAt(start, "unexpected end of input in varUint");
  return 0;
}

Lib0Decoder::SignMagnitude Lib0Decoder::ReadVarIntSlow(int max_bits) {
  if (data_.size() - pos_ >= 5) {
    // Up to five bytes (6 + 4 * 7 = 34 bits) without per-byte bounds checks.
    const uint8_t* p = data_.data() + pos_;
    SignMagnitude v{(p[0] & 0x40) != 0, static_cast<uint64_t>(p[0] & 0x3f)};
    if (p[0] < 0x80) {
      pos_ += 1;
      return v;
    }
    int shift = 6;
    for (int k = 1; k < 5; ++k, shift += 7) {
      const uint8_t b = p[k];
      v.magnitude |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        pos_ += static_cast<size_t>(k) + 1;
        return v;
      }
    }
  }
  if (pos_ >= data_.size()) {
    Fail("unexpected end of input in varInt");
    return {false, 0};
  }
  const size_t start = offset();
  uint8_t b = data_[pos_++];
  SignMagnitude v{(b & 0x40) != 0, static_cast<uint64_t>(b & 0x3f)};
  if ((b & 0x80) == 0) return v;
  int shift = 6;
  while (pos_ < data_.size()) {
    b = data_[pos_++];
    const uint64_t payload = b & 0x7f;
    if (payload != 0) {
      if (shift >= max_bits || (payload >> (max_bits - shift)) != 0) {
        FailAt(start, max_bits == 53 ? "integer out of range (above 2^53 - 1)"
                                     : "integer out of range for a v2 column");
        return {false, 0};
      }
      v.magnitude |= payload << shift;
    }
    if (b < 0x80) return v;
    shift += 7;
  }
  FailAt(start, "unexpected end of input in varInt");
  return {false, 0};
}

std::span<const uint8_t> Lib0Decoder::ReadBytes(uint64_t n) {
  if (n > remaining()) {
    Fail(absl::StrCat("declared length ", n, " exceeds the ", remaining(),
                      " remaining bytes"));
    return {};
  }
  std::span<const uint8_t> out = data_.subspan(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return out;
}

std::span<const uint8_t> Lib0Decoder::ReadRest() {
  std::span<const uint8_t> out = data_.subspan(pos_);
  pos_ = data_.size();
  return out;
}

std::string_view Lib0Decoder::ReadVarString(uint64_t* utf16_len) {
  uint64_t n = ReadVarUint();
  const size_t start = offset();
  std::span<const uint8_t> bytes = ReadBytes(n);
  std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  uint64_t units = 0;
  if (!ValidateUtf8(s, &units)) {
    FailAt(start, "invalid UTF-8 in string");
    s = {};
    units = 0;
  }
  if (utf16_len != nullptr) *utf16_len = units;
  return s;
}

float Lib0Decoder::ReadFloat32() {
  std::span<const uint8_t> b = ReadBytes(4);
  if (b.size() != 4) return 0;
  uint32_t bits = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
                  (uint32_t{b[2]} << 8) | uint32_t{b[3]};
  return std::bit_cast<float>(bits);
}

double Lib0Decoder::ReadFloat64() {
  std::span<const uint8_t> b = ReadBytes(8);
  if (b.size() != 8) return 0;
  uint64_t bits = 0;
  for (uint8_t x : b) bits = (bits << 8) | x;
  return std::bit_cast<double>(bits);
}

int64_t Lib0Decoder::ReadBigInt64() {
  std::span<const uint8_t> b = ReadBytes(8);
  if (b.size() != 8) return 0;
  uint64_t bits = 0;
  for (uint8_t x : b) bits = (bits << 8) | x;
  return static_cast<int64_t>(bits);
}

Any Lib0Decoder::ReadAnyAt(int depth) {
  const size_t start = offset();
  const uint8_t tag = ReadUint8();
  if (!ok()) return Any();
  switch (tag) {
    case 127:
      return Any();
    case 126:
      return Any::MakeNull();
    case 125: {
      SignMagnitude v = ReadVarIntSignMagnitude();
      double d = static_cast<double>(v.magnitude);
      return Any::MakeNumber(v.negative ? -d : d);
    }
    case 124:
      return Any::MakeNumber(static_cast<double>(ReadFloat32()));
    case 123:
      return Any::MakeNumber(ReadFloat64());
    case 122:
      return Any::MakeBigInt(ReadBigInt64());
    case 121:
      return Any::MakeBool(false);
    case 120:
      return Any::MakeBool(true);
    case 119:
      return Any::MakeString(std::string(ReadVarString()));
    case 118: {
      if (depth >= kMaxAnyDepth) {
        FailAt(start, "Any nested too deeply");
        return Any();
      }
      uint64_t n = ReadVarUint();
      // Every entry takes at least two bytes (key length, value tag).
      if (n > remaining() / 2) {
        FailAt(start,
               "Any object declares more entries than the input can hold");
        return Any();
      }
      Any::Map entries;
      entries.reserve(static_cast<size_t>(n));
      for (uint64_t i = 0; i < n && ok(); ++i) {
        std::string key(ReadVarString());
        Any value = ReadAnyAt(depth + 1);
        // `obj["__proto__"] = v` sets the prototype instead of a key.
        if (key == "__proto__") continue;
        entries.emplace_back(std::move(key), std::move(value));
      }
      if (!ok()) return Any();
      return Any::MakeMap(std::move(entries));
    }
    case 117: {
      if (depth >= kMaxAnyDepth) {
        FailAt(start, "Any nested too deeply");
        return Any();
      }
      uint64_t n = ReadVarUint();
      if (n > remaining()) {
        FailAt(start,
               "Any array declares more elements than the input can hold");
        return Any();
      }
      Any::Array elems;
      elems.reserve(static_cast<size_t>(n));
      for (uint64_t i = 0; i < n && ok(); ++i)
        elems.push_back(ReadAnyAt(depth + 1));
      if (!ok()) return Any();
      return Any::MakeArray(std::move(elems));
    }
    case 116: {
      std::span<const uint8_t> b = ReadVarUint8Array();
      return Any::MakeBytes(std::vector<uint8_t>(b.begin(), b.end()));
    }
    default:
      FailAt(start, absl::StrCat("unknown Any tag ", tag));
      return Any();
  }
}

}  // namespace auxsync::crdt::internal
