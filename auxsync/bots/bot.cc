#include "auxsync/bots/bot.h"

#include <array>
#include <cstdint>
#include <random>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/js_number.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/runtime_values.h"

namespace auxsync::bots {

const std::vector<std::string_view>& TagMaskSpacePriorities() {
  static const std::vector<std::string_view> kPriorities = {
      "tempLocal",        "local",  "tempShared",
      "remoteTempShared", "shared", "admin"};
  return kPriorities;
}

std::string PlayerBranchName(std::string_view branch,
                             std::string_view connection_id) {
  std::string name(branch);
  name += "-player-";
  name += connection_id;
  return name;
}

bool HasValue(const Value& v) {
  if (v.is_nullish()) return false;
  return !(v.is_string() && v.as_string().empty());
}

std::string ConvertToString(const Value& v) {
  if (!HasValue(v)) return "";
  switch (v.kind()) {
    case Value::Kind::kString:
      return v.as_string();
    case Value::Kind::kNumber:
      return NumberToJsString(v.as_number());
    case Value::Kind::kBool:
      return v.as_bool() ? "true" : "false";
    case Value::Kind::kHost: {
      const HostObject& host = v.as_host();
      if (const auto* fn = dynamic_cast<const FunctionObject*>(&host)) {
        // typeof "function": value.toString() gives the source text, which
        // a host function does not have.
        return absl::StrCat("function ", fn->name(), "() { [native code] }");
      }
      if (const auto* date = dynamic_cast<const DateObject*>(&host)) {
        // toISOString() throws a RangeError for an invalid Date.
        return date->ToIsoString().value_or("Invalid Date");
      }
      return ToJson(v);
    }
    default:
      return ToJson(v);
  }
}

Value CreateBot(std::string_view id, Value tags, const Value& space) {
  if (tags.is_undefined()) tags = Value::NewObject();
  Value bot = Value::NewObject();
  Object& o = bot.as_object();
  o.Set("id", Value(id));
  o.Set("tags", std::move(tags));
  if (HasValue(space)) o.Set("space", space);
  return bot;
}

Value CreateBot() { return CreateBot(NewUuid()); }

std::vector<Value> GetActiveObjects(const Value& state) {
  std::vector<Value> values;
  if (state.is_object()) {
    values.reserve(state.as_object().size());
    state.as_object().ForEach(
        [&](const std::string&, const Value& v) { values.push_back(v); });
  } else if (state.is_array()) {
    values = state.as_array().items;
  }
  return values;
}

std::string NewUuid() {
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(),
                       device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  std::array<uint8_t, 16> bytes;
  for (int half = 0; half < 2; ++half) {
    uint64_t r = engine();
    for (int i = 0; i < 8; ++i) bytes[half * 8 + i] = (r >> (8 * i)) & 0xFF;
  }
  bytes[6] = (bytes[6] & 0x0F) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3F) | 0x80;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0F];
  }
  return out;
}

}  // namespace auxsync::bots
