// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/internal/update_encoder.h"

#include "auxsync/crdt/internal/json.h"

namespace auxsync::crdt::internal {

std::vector<uint8_t> StringColumnEncoder::Finish() {
  Lib0Encoder out;
  out.Reserve(text_.size() + 16);
  out.WriteVarString(text_);
  std::vector<uint8_t> lens = lens_.Finish();
  out.WriteRaw(lens);
  text_.clear();
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
  std::vector<uint8_t> cols[9] = {
      key_clock_.Finish(),   client_.Finish(),   left_clock_.Finish(),
      right_clock_.Finish(), info_.Finish(),     strings_.Finish(),
      parent_info_.Finish(), type_ref_.Finish(), len_.Finish(),
  };
  size_t total = 1 + rest_.size();
  for (const auto& c : cols) total += c.size() + 10;
  Lib0Encoder out;
  out.Reserve(total);
  out.WriteVarUint(0);  // feature flag
  for (const auto& c : cols) out.WriteVarUint8Array(c);
  out.WriteRaw(rest_.view());
  rest_.Clear();
  return out.Take();
}

}  // namespace auxsync::crdt::internal
