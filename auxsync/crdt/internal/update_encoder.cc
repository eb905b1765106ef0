// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/internal/update_encoder.h"

#include "auxsync/crdt/internal/json.h"
#include "auxsync/crdt/internal/utf16_ascii.h"

namespace auxsync::crdt::internal {
namespace {

// Appends lib0's varUint of `v` to `out`.
void AppendVarUint(uint64_t v, std::vector<uint8_t>& out) {
  uint8_t b[10];
  out.insert(out.end(), b, PutVarUintExact(b, v));
}

}  // namespace

void UintOptRleEncoder::Flush() {
  if (count_ == 0) return;
  uint8_t* const p = out_.Room(kRunRoom);
  out_.Commit(static_cast<size_t>(PutUintOptRun(p, s_, count_) - p));
}

void IntDiffOptRleEncoder::Flush() {
  if (count_ == 0) return;
  uint8_t* const p = out_.Room(kRunRoom);
  out_.Commit(static_cast<size_t>(PutIntDiffOptRun(p, diff_, count_) - p));
}

void StringColumnEncoder::Write16(std::u16string_view s) {
  lens_.Write(s.size());
  size_t begin = 0;
  size_t end = s.size();
  if (pending_high_ != 0) {
    if (!s.empty() && s[0] >= 0xDC00 && s[0] <= 0xDFFF) {
      const char16_t pair[2] = {pending_high_, s[0]};
      WriteUtf16AsUtf8(std::u16string_view(pair, 2), text_.Room(4));
      text_.Commit(4);
      pending_high_ = 0;
      begin = 1;
    } else {
      FlushHigh();
    }
  }
  if (end > begin && s[end - 1] >= 0xD800 && s[end - 1] <= 0xDBFF) {
    pending_high_ = s[--end];
  }
  std::u16string_view mid = s.substr(begin, end - begin);
  uint8_t* p = text_.Room(3 * mid.size());
  text_.Commit(static_cast<size_t>(WriteUtf16AsUtf8Fast(mid, p) - p));
}

void StringColumnEncoder::WriteColumn(std::span<const uint8_t> lens,
                                      std::vector<uint8_t>& out) {
  const size_t n = text_.size();
  AppendVarUint(VarUintSize(n) + n + lens.size(), out);
  AppendVarUint(n, out);
  out.insert(out.end(), text_.view().begin(), text_.view().end());
  out.insert(out.end(), lens.begin(), lens.end());
  text_.Clear();
}

std::vector<uint8_t> StringColumnEncoder::Finish() {
  FlushHigh();
  Lib0Encoder out;
  out.Reserve(text_.size() + 16);
  out.WriteVarUint8Array(text_.view());
  std::vector<uint8_t> lens = lens_.Finish();
  out.WriteRaw(lens);
  text_.Clear();
  return out.Take();
}

void UpdateEncoderV1::WriteJSON(const Any& v) {
  std::string json;
  if (!StringifyJson(v, &json)) {
    // JSON.stringify throws on a bigint and yields undefined for undefined,
    // which writeVarString then rejects.
    Fail(
        absl::InvalidArgumentError("embed or format value cannot be written as "
                                   "JSON (bigint or undefined)"));
    return;
  }
  rest_.WriteVarString(json);
}

std::vector<uint8_t> UpdateEncoderV2::ToBytes() {
  // Every column is copied once, from its encoder's buffer (never
  // zeroed) into the update.
  const std::span<const uint8_t> before[5] = {
      key_clock_.FinishView(), client_.FinishView(), left_clock_.FinishView(),
      right_clock_.FinishView(), info_.FinishView()};
  const std::span<const uint8_t> lens = strings_.FinishLens();
  const std::span<const uint8_t> after[3] = {
      parent_info_.FinishView(), type_ref_.FinishView(), len_.FinishView()};
  size_t total = 1 + rest_.size() + strings_.text_size() + lens.size() + 20;
  for (const auto& c : before) total += c.size() + 10;
  for (const auto& c : after) total += c.size() + 10;
  // Appended within the reserved capacity: the bytes are copied once,
  // without zeroing the buffer first (as a Lib0Encoder's room is).
  std::vector<uint8_t> out;
  out.reserve(total);
  out.push_back(0);  // feature flag
  auto column = [&out](std::span<const uint8_t> c) {
    AppendVarUint(c.size(), out);
    out.insert(out.end(), c.begin(), c.end());
  };
  for (const auto& c : before) column(c);
  strings_.WriteColumn(lens, out);
  for (const auto& c : after) column(c);
  out.insert(out.end(), rest_.view().begin(), rest_.view().end());
  rest_.Clear();
  return out;
}

}  // namespace auxsync::crdt::internal
