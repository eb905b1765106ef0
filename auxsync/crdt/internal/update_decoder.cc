// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/internal/update_decoder.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "auxsync/crdt/internal/json.h"
#include "auxsync/crdt/internal/utf8.h"

namespace auxsync::crdt::internal {

int64_t IntDiffOptRleDecoder::OutOfRange() {
  d_.Fail("column value out of range (beyond 2^53)");
  s_ = 0;
  count_ = 0;
  return 0;
}

StringColumnDecoder::StringColumnDecoder(std::span<const uint8_t> col,
                                         size_t base, DecodeError* err,
                                         std::string_view label,
                                         StringArena* arena)
    : lens_(col, base, err, label), arena_(arena) {
  text_ = lens_.decoder().ReadVarString();
}

namespace {

// The UTF-16 halves of the 4-byte UTF-8 sequence at `p` (valid UTF-8).
char16_t HighHalf(const unsigned char* p) {
  uint32_t cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) |
                ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
  return static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
}
char16_t LowHalf(const unsigned char* p) {
  uint32_t cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) |
                ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
  return static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3ff));
}

}  // namespace

std::string_view StringColumnDecoder::ReadSlow(uint64_t n,
                                               uint64_t* utf16_len) {
  last_lead_low_ = 0;
  last_trail_high_ = 0;
  if (utf16_len != nullptr) *utf16_len = n;
  Lib0Decoder& d = lens_.decoder();
  if (!d.ok()) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(text_.data());
  const size_t size = text_.size();
  std::string fixed;  // used only when a cut splits a surrogate pair
  bool owned = false;
  if (pending_low_half_ && n > 0) {
    // The previous string took the high half of the pair at pos_.
    last_lead_low_ = LowHalf(p + pos_);
    fixed.append(kReplacementChar);
    owned = true;
    pos_ += 4;
    --n;
    pending_low_half_ = false;
  }
  size_t start = pos_;
  size_t i = pos_;
  while (n > 0) {
    // Runs of ASCII: one byte per unit, eight at a time where possible.
    while (n >= 8 && size - i >= 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
      n -= 8;
    }
    while (n > 0 && i < size && p[i] < 0x80) {
      ++i;
      --n;
    }
    if (n == 0) break;
    if (i >= size) {
      d.Fail("string column: a length runs past the end of the text");
      return {};
    }
    const unsigned char b = p[i];
    if (b < 0xE0) {
      i += 2;
      --n;
    } else if (b < 0xF0) {
      i += 3;
      --n;
    } else if (n >= 2) {
      i += 4;
      n -= 2;
    } else {
      // The cut falls between the halves of a surrogate pair.
      last_trail_high_ = HighHalf(p + i);
      fixed.append(text_.substr(start, i - start));
      fixed.append(kReplacementChar);
      owned = true;
      pending_low_half_ = true;
      pos_ = i;
      start = i;
      n = 0;
      break;
    }
  }
  if (!pending_low_half_ || !owned) pos_ = i;
  if (!owned) return text_.substr(start, i - start);
  if (!pending_low_half_) fixed.append(text_.substr(start, i - start));
  if (arena_ == nullptr) {
    d.Fail("string column: a cut splits a surrogate pair");
    return {};
  }
  return arena_->Add(std::move(fixed));
}

UpdateDecoderV1::UpdateDecoderV1(std::span<const uint8_t> update,
                                 std::string_view label, StringArena* /*arena*/)
    : rest_(update, 0, nullptr, label), size_(update.size()) {}

Any UpdateDecoderV1::ReadJSON() {
  const size_t start = rest_.offset();
  std::string_view text = rest_.ReadVarString();
  if (!rest_.ok()) return Any();
  absl::StatusOr<Any> v = ParseJson(text);
  if (!v.ok()) {
    rest_.FailAt(start, std::string_view(v.status().message().data(),
                                         v.status().message().size()));
    return Any();
  }
  return *std::move(v);
}

UpdateDecoderV2::UpdateDecoderV2(std::span<const uint8_t> update,
                                 std::string_view label, StringArena* arena)
    : head_(update, 0, &err_, label), size_(update.size()) {
  head_.ReadVarUint();  // feature flag, unused by yjs 13.6
  auto column = [&](size_t* base) {
    std::span<const uint8_t> col = head_.ReadVarUint8Array();
    *base = head_.offset() - col.size();
    return col;
  };
  size_t base = 0;
  std::span<const uint8_t> col;
  col = column(&base);
  key_clock_ = std::make_unique<IntDiffOptRleDecoder>(col, base, &err_, label);
  col = column(&base);
  client_ = std::make_unique<UintOptRleDecoder>(col, base, &err_, label);
  col = column(&base);
  left_clock_ = std::make_unique<IntDiffOptRleDecoder>(col, base, &err_, label);
  col = column(&base);
  right_clock_ =
      std::make_unique<IntDiffOptRleDecoder>(col, base, &err_, label);
  col = column(&base);
  info_ = std::make_unique<RleByteDecoder>(col, base, &err_, label);
  col = column(&base);
  strings_ =
      std::make_unique<StringColumnDecoder>(col, base, &err_, label, arena);
  col = column(&base);
  parent_info_ = std::make_unique<RleByteDecoder>(col, base, &err_, label);
  col = column(&base);
  type_ref_ = std::make_unique<UintOptRleDecoder>(col, base, &err_, label);
  col = column(&base);
  len_ = std::make_unique<UintOptRleDecoder>(col, base, &err_, label);
  base = head_.offset();
  col = head_.ReadRest();
  rest_ = std::make_unique<Lib0Decoder>(col, base, &err_, label);
}

uint64_t UpdateDecoderV2::ReadDsClock() {
  ds_curr_ += rest_->ReadVarUint();
  if (ds_curr_ > kMaxSafeInteger) {
    rest_->Fail("delete set clock beyond 2^53");
    ds_curr_ = 0;
  }
  return ds_curr_;
}

uint64_t UpdateDecoderV2::ReadDsLen() {
  uint64_t diff = rest_->ReadVarUint() + 1;
  ds_curr_ += diff;
  if (ds_curr_ > kMaxSafeInteger) {
    rest_->Fail("delete set range beyond 2^53");
    ds_curr_ = 0;
  }
  return diff;
}

uint64_t UpdateDecoderV2::NegativeClock() {
  rest_->Fail("negative clock in a v2 clock column");
  return 0;
}

std::string_view UpdateDecoderV2::ReadKey() {
  int64_t kc = key_clock_->Read();
  if (!ok()) return {};
  if (kc < 0) {
    rest_->Fail("negative key number in a v2 key column");
    return {};
  }
  if (static_cast<uint64_t>(kc) < keys_.size())
    return keys_[static_cast<size_t>(kc)];
  std::string_view key = strings_->Read(nullptr);
  keys_.push_back(key);
  return key;
}

}  // namespace auxsync::crdt::internal
