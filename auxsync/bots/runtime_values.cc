#include "auxsync/bots/runtime_values.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/js_number.h"

namespace auxsync::bots {
namespace {

// ECMAScript TimeClip: NaN outside +-8.64e15, otherwise truncated (and -0
// becomes +0).
double TimeClip(double t) {
  if (!std::isfinite(t) || std::fabs(t) > 8.64e15) return NAN;
  return std::trunc(t) + 0.0;
}

struct Civil {
  int64_t year;
  int month, day, hour, minute, second, millisecond;
};

// Days since 1970-01-01 -> proleptic Gregorian date (H. Hinnant's
// civil_from_days).
Civil CivilFromMs(double ms) {
  int64_t t = static_cast<int64_t>(ms);
  int64_t days = t / 86400000;
  int64_t rem = t % 86400000;
  if (rem < 0) {
    rem += 86400000;
    --days;
  }
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  if (m <= 2) ++y;
  Civil c;
  c.year = y;
  c.month = m;
  c.day = d;
  c.hour = static_cast<int>(rem / 3600000);
  c.minute = static_cast<int>(rem / 60000 % 60);
  c.second = static_cast<int>(rem / 1000 % 60);
  c.millisecond = static_cast<int>(rem % 1000);
  return c;
}

// "YYYY-MM-DDTHH:mm:ss" (+ ".sss" unless suppressed), years outside
// 0..9999 as +-YYYYYY (as both Date and Luxon write them).
std::string FormatLocal(const Civil& c, bool with_millis) {
  char year[32];
  if (c.year >= 0 && c.year <= 9999) {
    std::snprintf(year, sizeof year, "%04d", static_cast<int>(c.year));
  } else {
    std::snprintf(year, sizeof year, "%c%06lld", c.year < 0 ? '-' : '+',
                  static_cast<long long>(c.year < 0 ? -c.year : c.year));
  }
  char rest[40];
  std::snprintf(rest, sizeof rest, "-%02d-%02dT%02d:%02d:%02d", c.month, c.day,
                c.hour, c.minute, c.second);
  std::string out = absl::StrCat(year, rest);
  if (with_millis) {
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03d", c.millisecond);
    out += ms;
  }
  return out;
}

std::string JsNum(double d) { return NumberToJsString(d); }

// Luxon's parseSpecifier for "UTC", "UTC+5", "utc-05:30".
bool ParseFixedOffset(std::string_view zone, int& offset) {
  std::string lower(zone);
  absl::AsciiStrToLower(&lower);
  if (lower == "utc" || lower == "gmt") {
    offset = 0;
    return true;
  }
  if (lower.size() < 5 || lower.compare(0, 3, "utc") != 0) return false;
  size_t i = 3;
  char sign = lower[i++];
  if (sign != '+' && sign != '-') return false;
  size_t start = i;
  while (i < lower.size() &&
         std::isdigit(static_cast<unsigned char>(lower[i])) && i - start < 2) {
    ++i;
  }
  if (i == start) return false;
  int hours = std::stoi(lower.substr(start, i - start));
  int minutes = 0;
  if (i < lower.size()) {
    if (lower[i] != ':' || lower.size() != i + 3 ||
        !std::isdigit(static_cast<unsigned char>(lower[i + 1])) ||
        !std::isdigit(static_cast<unsigned char>(lower[i + 2]))) {
      return false;
    }
    minutes = std::stoi(lower.substr(i + 1, 2));
  }
  offset = sign == '-' ? -(hours * 60 + minutes) : hours * 60 + minutes;
  return true;
}

}  // namespace

// --- Date ---

DateObject::DateObject(double epoch_ms) : epoch_ms_(TimeClip(epoch_ms)) {}

std::optional<std::string> DateObject::ToIsoString() const {
  if (std::isnan(epoch_ms_)) return std::nullopt;
  return FormatLocal(CivilFromMs(epoch_ms_), true) + "Z";
}

Value DateObject::ToJsonValue() const {
  std::optional<std::string> iso = ToIsoString();
  if (!iso) return Value(nullptr);
  return Value(*std::move(iso));
}

// --- DateTime ---

DateTimeObject::DateTimeObject(double epoch_ms, std::string zone,
                               int offset_minutes)
    : epoch_ms_(TimeClip(epoch_ms)),
      zone_(std::move(zone)),
      offset_minutes_(offset_minutes) {
  std::string lower = absl::AsciiStrToLower(zone_);
  int fixed = 0;
  if (lower == "local" || lower == "system" || lower == "default") {
    zone_kind_ = ZoneKind::kSystem;
  } else if (ParseFixedOffset(zone_, fixed)) {
    zone_kind_ = ZoneKind::kFixed;
    offset_minutes_ = fixed;
  } else {
    zone_kind_ = ZoneKind::kIana;
  }
}

std::string DateTimeObject::ToIso(bool suppress_milliseconds) const {
  if (std::isnan(epoch_ms_)) return "null";
  Civil c = CivilFromMs(epoch_ms_ + offset_minutes_ * 60000.0);
  std::string out =
      FormatLocal(c, !(suppress_milliseconds && c.millisecond == 0));
  if (zone_kind_ == ZoneKind::kFixed && offset_minutes_ == 0) {
    out += 'Z';
  } else {
    int off = offset_minutes_ < 0 ? -offset_minutes_ : offset_minutes_;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%c%02d:%02d",
                  offset_minutes_ < 0 ? '-' : '+', off / 60, off % 60);
    out += buf;
  }
  return out;
}

Value DateTimeObject::ToJsonValue() const {
  if (std::isnan(epoch_ms_)) return Value(nullptr);
  return Value(ToIso(false));
}

std::string DateTimeObject::FormatBotDate() const {
  std::string out = absl::StrCat("\xF0\x9F\x93\x85", ToIso(true));  // 📅
  switch (zone_kind_) {
    case ZoneKind::kSystem:
      out += " local";
      break;
    case ZoneKind::kIana:
      absl::StrAppend(&out, " ", zone_);
      break;
    case ZoneKind::kFixed:
      break;
  }
  return out;
}

// --- Vectors and rotations ---

// "➡️" is U+27A1 U+FE0F; "🔁" is U+1F501.
constexpr std::string_view kVectorPrefix = "\xE2\x9E\xA1\xEF\xB8\x8F";
constexpr std::string_view kRotationPrefix = "\xF0\x9F\x94\x81";

Value Vector2Object::ToJsonValue() const {
  return MakeObject({{"x", x_}, {"y", y_}});
}

std::string Vector2Object::Format() const {
  return std::string(kVectorPrefix) + JsNum(x_) + "," + JsNum(y_);
}

Value Vector3Object::ToJsonValue() const {
  return MakeObject({{"x", x_}, {"y", y_}, {"z", z_}});
}

std::string Vector3Object::Format() const {
  return std::string(kVectorPrefix) + JsNum(x_) + "," + JsNum(y_) + "," +
         JsNum(z_);
}

Value RotationObject::ToJsonValue() const {
  return MakeObject(
      {{"_q", MakeObject({{"x", x_}, {"y", y_}, {"z", z_}, {"w", w_}})}});
}

std::string RotationObject::Format() const {
  return std::string(kRotationPrefix) + JsNum(x_) + "," + JsNum(y_) + "," +
         JsNum(z_) + "," + JsNum(w_);
}

// --- Errors ---

ErrorObject::ErrorObject(std::string name, std::string message,
                         std::string stack, Value response)
    : name_(std::move(name)),
      message_(std::move(message)),
      stack_(std::move(stack)),
      response_(std::move(response)) {
  if (stack_.empty()) {
    stack_ = message_.empty() ? name_ : absl::StrCat(name_, ": ", message_);
  }
}

Value ErrorObject::ToJsonValue() const {
  Value v = Value::NewObject();
  if (!response_.is_undefined()) v.as_object().Set("response", response_);
  return v;
}

// --- Binary data ---

namespace {

template <typename T>
void AppendElements(Object& out, const std::vector<uint8_t>& bytes) {
  size_t n = bytes.size() / sizeof(T);
  for (size_t i = 0; i < n; ++i) {
    T element;
    std::memcpy(&element, bytes.data() + i * sizeof(T), sizeof(T));
    out.Set(std::to_string(i), Value(static_cast<double>(element)));
  }
}

}  // namespace

Value BinaryObject::ToJsonValue() const {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  std::string_view c = class_name_;
  if (c == "Int8Array") {
    AppendElements<int8_t>(o, bytes_);
  } else if (c == "Uint8Array" || c == "Uint8ClampedArray") {
    AppendElements<uint8_t>(o, bytes_);
  } else if (c == "Int16Array") {
    AppendElements<int16_t>(o, bytes_);
  } else if (c == "Uint16Array") {
    AppendElements<uint16_t>(o, bytes_);
  } else if (c == "Int32Array") {
    AppendElements<int32_t>(o, bytes_);
  } else if (c == "Uint32Array") {
    AppendElements<uint32_t>(o, bytes_);
  } else if (c == "Float32Array") {
    AppendElements<float>(o, bytes_);
  } else if (c == "Float64Array") {
    AppendElements<double>(o, bytes_);
  } else if (c == "BigInt64Array") {
    AppendElements<int64_t>(o, bytes_);  // JavaScript throws on BigInt
  } else if (c == "BigUint64Array") {
    AppendElements<uint64_t>(o, bytes_);
  } else if (c == "Buffer") {
    Value data = Value::NewArray();
    for (uint8_t b : bytes_) data.as_array().items.emplace_back(b);
    o.Set("type", "Buffer");
    o.Set("data", data);
  }
  return v;
}

// --- Runtime bots ---

Value RuntimeBotObject::ToJsonValue() const {
  Value v = MakeObject({{"id", id_}, {"tags", tags_}});
  if (HasValue(space_)) v.as_object().Set("space", space_);
  return v;
}

// --- Builders ---

Value MakeDate(double epoch_ms) {
  return Value(HostRef(std::make_shared<DateObject>(epoch_ms)));
}

Value MakeDateTime(double epoch_ms, std::string zone, int offset_minutes) {
  return Value(HostRef(std::make_shared<DateTimeObject>(
      epoch_ms, std::move(zone), offset_minutes)));
}

Value MakeVector2(double x, double y) {
  return Value(HostRef(std::make_shared<Vector2Object>(x, y)));
}

Value MakeVector3(double x, double y, double z) {
  return Value(HostRef(std::make_shared<Vector3Object>(x, y, z)));
}

Value MakeRotation(double x, double y, double z, double w) {
  return Value(HostRef(std::make_shared<RotationObject>(x, y, z, w)));
}

Value MakeError(std::string name, std::string message, std::string stack,
                Value response) {
  return Value(HostRef(
      std::make_shared<ErrorObject>(std::move(name), std::move(message),
                                    std::move(stack), std::move(response))));
}

Value MakeFunction(std::string name) {
  return Value(HostRef(std::make_shared<FunctionObject>(std::move(name))));
}

Value MakeBinary(std::string class_name, std::vector<uint8_t> bytes) {
  return Value(HostRef(
      std::make_shared<BinaryObject>(std::move(class_name), std::move(bytes))));
}

Value MakeWrapper(Value original) {
  return Value(HostRef(std::make_shared<WrapperObject>(std::move(original))));
}

Value MakeRuntimeBot(std::string id, Value tags, Value space) {
  return Value(HostRef(std::make_shared<RuntimeBotObject>(
      std::move(id), std::move(tags), std::move(space))));
}

}  // namespace auxsync::bots
