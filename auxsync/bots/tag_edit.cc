#include "auxsync/bots/tag_edit.h"

#include <cmath>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/internal/js_ops.h"
#include "auxsync/bots/js_number.h"
#include "auxsync/bots/js_string.h"

namespace auxsync::bots {
namespace {

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// JavaScript's relative-index clamp used by String.prototype.slice:
// ToIntegerOrInfinity, then negative values count from the end.
size_t ClampIndex(double x, size_t len) {
  if (std::isnan(x)) return 0;
  double t = std::trunc(x);
  double n = static_cast<double>(len);
  if (t < 0) return t + n <= 0 ? 0 : static_cast<size_t>(t + n);
  return t >= n ? len : static_cast<size_t>(t);
}

// Length of the JavaScript white space / line terminator at s[i], or 0.
size_t JsSpaceAt(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  for (std::string_view ws :
       {"\xC2\xA0", "\xEF\xBB\xBF", "\xE1\x9A\x80", "\xE2\x80\xA8",
        "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"}) {
    if (s.substr(i, ws.size()) == ws) return ws.size();
  }
  // U+2000..U+200A.
  if (s.substr(i, 2) == "\xE2\x80" && i + 2 < s.size() &&
      static_cast<unsigned char>(s[i + 2]) >= 0x80 &&
      static_cast<unsigned char>(s[i + 2]) <= 0x8A) {
    return 3;
  }
  return 0;
}

// ECMAScript StringToNumber.
double StringToNumber(std::string_view s) {
  size_t n;
  while (!s.empty() && (n = JsSpaceAt(s, 0)) > 0) s.remove_prefix(n);
  while (!s.empty()) {
    size_t end = s.size(), back = 0;
    for (size_t k = 1; k <= 3 && k <= end; ++k) {
      if (JsSpaceAt(s, end - k) == k) back = k;
    }
    if (back == 0) break;
    s.remove_suffix(back);
  }
  if (s.empty()) return 0;
  if (s.size() > 2 && s[0] == '0') {
    int base = (s[1] == 'x' || s[1] == 'X')   ? 16
               : (s[1] == 'o' || s[1] == 'O') ? 8
               : (s[1] == 'b' || s[1] == 'B') ? 2
                                              : 0;
    if (base != 0) {
      double value = 0;
      for (char c : s.substr(2)) {
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : 99;
        if (d >= base) return NAN;
        value = value * base + d;
      }
      return value;
    }
  }
  std::string_view body = s;
  bool negative = false;
  if (body[0] == '+' || body[0] == '-') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "Infinity") return negative ? -INFINITY : INFINITY;
  // StrUnsignedDecimalLiteral: digits [. digits] or . digits, then an
  // optional exponent.
  size_t i = 0, int_digits = 0, frac_digits = 0;
  auto digit = [&](size_t k) {
    return k < body.size() && body[k] >= '0' && body[k] <= '9';
  };
  while (digit(i)) ++i, ++int_digits;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (digit(i)) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return NAN;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    if (!digit(i)) return NAN;
    while (digit(i)) ++i;
  }
  if (i != body.size()) return NAN;
  return std::strtod(std::string(s).c_str(), nullptr);
}

// JavaScript ToNumber for the values an op count or a version counter can
// hold (objects count as NaN).
double ToNumber(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNumber:
      return v.as_number();
    case Value::Kind::kBool:
      return v.as_bool() ? 1 : 0;
    case Value::Kind::kNull:
      return 0;
    case Value::Kind::kString:
      return StringToNumber(v.as_string());
    default:
      return NAN;
  }
}

// An op's count as `index += op.count` uses it. A string count would make
// JavaScript concatenate strings; it is taken as NaN here.
double OpCount(const Value& count) {
  return count.is_string() ? NAN : ToNumber(count);
}

// `text.length` for an insert op's text.
double JsLength(const Value& v) {
  if (v.is_string()) return static_cast<double>(Utf16Length(v.as_string()));
  if (v.is_array()) return static_cast<double>(v.as_array().items.size());
  if (v.is_object() && v["length"].is_number()) return v["length"].as_number();
  return NAN;
}

// A JavaScript string under edit: ASCII bytes while everything seen is
// ASCII (index = byte), UTF-16 code units otherwise.
class EditBuffer {
 public:
  explicit EditBuffer(std::string s) : ascii_(IsAscii(s)) {
    if (ascii_) {
      bytes_ = std::move(s);
    } else {
      units_ = ToUtf16(s);
    }
  }

  size_t size() const { return ascii_ ? bytes_.size() : units_.size(); }

  // str.slice(0, index) + text + str.slice(index + delete_count), unless
  // the result would be longer than `max_length`.
  bool Splice(double index, double delete_count, const std::string& text,
              size_t max_length) {
    size_t len = size();
    size_t a = ClampIndex(index, len);
    size_t b = ClampIndex(index + delete_count, len);
    if (ascii_ && !IsAscii(text)) {
      units_ = ToUtf16(bytes_);
      bytes_.clear();
      ascii_ = false;
    }
    if (ascii_) return SpliceIn(bytes_, a, b, text, max_length);
    return SpliceIn(units_, a, b, ToUtf16(text), max_length);
  }

  std::string Take() { return ascii_ ? std::move(bytes_) : FromUtf16(units_); }

 private:
  template <typename S>
  static bool SpliceIn(S& s, size_t a, size_t b, const S& text,
                       size_t max_length) {
    // b < a happens for negative delete counts: s[b, a) is repeated.
    size_t result = a + text.size() + (s.size() - b);
    if (result > max_length) return false;
    if (b >= a) {
      s.replace(a, b - a, text);
    } else {
      S inserted = text;
      inserted.append(s, b, a - b);
      s.insert(a, inserted);
    }
    return true;
  }

  bool ascii_;
  std::string bytes_;
  std::u16string units_;
};

Value TaggedEdit(Value version, Value operations) {
  Value e = Value::NewObject();
  Object& o = e.as_object();
  o.Set(kTagEditMarker, true);
  o.Set("version", std::move(version));
  o.Set("operations", std::move(operations));
  return e;
}

Value ArrayFrom(std::vector<Value> items) {
  return Value(std::make_shared<Array>(std::move(items)));
}

bool IsSafeInteger(double d) {
  return std::isfinite(d) && std::trunc(d) == d &&
         std::fabs(d) <= 9007199254740991.0;
}

}  // namespace

bool IsTagEdit(const Value& v) {
  if (!v.is_object()) return false;
  const Value& marker = v.as_object().Get(kTagEditMarker);
  return marker.is_bool() && marker.as_bool();
}

Value Preserve(double count) {
  return MakeObject({{"type", "preserve"}, {"count", count}});
}

Value Insert(std::string_view text) {
  return MakeObject({{"type", "insert"}, {"text", text}});
}

Value Del(double count) {
  return MakeObject({{"type", "delete"}, {"count", count}});
}

Value Edit(Value version, std::vector<Value> ops) {
  return TaggedEdit(std::move(version), MakeArray({ArrayFrom(std::move(ops))}));
}

Value Edits(Value version, std::vector<Value> sequences) {
  return TaggedEdit(std::move(version), ArrayFrom(std::move(sequences)));
}

Value RemoteEdit(Value version, std::vector<Value> ops) {
  Value e = Edit(std::move(version), std::move(ops));
  e.as_object().Set("isRemote", true);
  return e;
}

Value RemoteEdits(Value version, std::vector<Value> sequences) {
  Value e = Edits(std::move(version), std::move(sequences));
  e.as_object().Set("isRemote", true);
  return e;
}

Value MergeVersions(const Value& a, const Value& b) {
  Value merged = internal::ShallowCopy(a);
  Object& o = merged.as_object();
  auto counter = [](const Value& v) {
    return IsTruthy(v) ? ToNumber(v) : 0.0;  // `v || 0`
  };
  for (const std::string& site : internal::ForInKeys(b)) {
    double x = counter(o.Get(site));
    double y = counter(internal::GetProp(b, site));
    // Math.max: NaN wins; +0 over -0 cannot arise after `|| 0`.
    double m = std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y);
    o.Set(site, m);
  }
  return merged;
}

Value MergeEdits(const Value& a, const Value& b) {
  std::vector<Value> sequences;
  for (const Value* e : {&a, &b}) {
    const Value& ops = (*e)["operations"];
    if (!ops.is_array()) continue;
    for (const Value& seq : ops.as_array().items) sequences.push_back(seq);
  }
  Value result =
      Edits(MergeVersions(a["version"], b["version"]), std::move(sequences));
  if (IsTruthy(a["isRemote"]) || IsTruthy(b["isRemote"])) {
    result.as_object().Set("isRemote", true);
  }
  return result;
}

absl::StatusOr<std::string> TryApplyEdit(const Value& value, const Value& edit,
                                         size_t max_length) {
  EditBuffer text(ConvertToString(value));
  if (text.size() > max_length) {
    return absl::ResourceExhaustedError("tag edit: value too long");
  }
  const Value& operations = edit["operations"];
  if (!operations.is_array()) return text.Take();
  size_t seq_index = 0;
  for (const Value& ops : operations.as_array().items) {
    double index = 0;
    size_t op_index = 0;
    if (ops.is_array()) {
      for (const Value& op : ops.as_array().items) {
        if (!op.is_object()) {
          ++op_index;
          continue;
        }
        const Value& type = op["type"];
        bool ok = true;
        if (type.is_string() && type.as_string() == "preserve") {
          index += OpCount(op["count"]);
        } else if (type.is_string() && type.as_string() == "insert") {
          const Value& t = op["text"];
          ok = text.Splice(index, 0, ToJsString(t), max_length);
          index += JsLength(t);
        } else {
          // Everything else deletes, as upstream's final `else` does.
          ok = text.Splice(index, OpCount(op["count"]), "", max_length);
        }
        if (!ok) {
          return absl::ResourceExhaustedError(
              absl::StrCat("tag edit: operations[", seq_index, "][", op_index,
                           "] makes the text longer than ", max_length,
                           " UTF-16 code units"));
        }
        ++op_index;
      }
    }
    ++seq_index;
  }
  return text.Take();
}

std::string ApplyEdit(const Value& value, const Value& edit) {
  absl::StatusOr<std::string> result =
      TryApplyEdit(value, edit, kMaxJsStringLength);
  if (result.ok()) return *std::move(result);
  // JavaScript throws a RangeError here; the value is left as it was.
  return ConvertToString(value);
}

Value ApplyTagEdit(const Value& value, const Value& edit) {
  std::string result = ApplyEdit(value, edit);
  if (result.empty()) return Value(nullptr);
  return Value(std::move(result));
}

absl::Status ValidateTagEdit(const Value& edit, std::string_view path) {
  auto fail = [&](std::string_view field, std::string_view what) {
    std::string message(path);
    message += field;
    message += ": ";
    message += what;
    return absl::InvalidArgumentError(message);
  };
  if (!IsTagEdit(edit)) return fail("", "not a tag edit");
  const Object& o = edit.as_object();
  const Value& version = o.Get("version");
  if (!version.is_undefined()) {
    if (!version.is_object()) return fail(".version", "must be an object");
    absl::Status status;
    version.as_object().ForEach([&](const std::string& site, const Value& v) {
      if (status.ok() && !(v.is_number() && std::isfinite(v.as_number()))) {
        status = fail(absl::StrCat(".version[\"", site, "\"]"),
                      "must be a finite number");
      }
    });
    if (!status.ok()) return status;
  }
  const Value& is_remote = o.Get("isRemote");
  if (!is_remote.is_undefined() && !is_remote.is_bool()) {
    return fail(".isRemote", "must be a boolean");
  }
  const Value& operations = o.Get("operations");
  if (!operations.is_array()) return fail(".operations", "must be an array");
  const auto& sequences = operations.as_array().items;
  for (size_t i = 0; i < sequences.size(); ++i) {
    std::string seq_path = absl::StrCat(".operations[", i, "]");
    if (!sequences[i].is_array()) return fail(seq_path, "must be an array");
    const auto& ops = sequences[i].as_array().items;
    for (size_t j = 0; j < ops.size(); ++j) {
      std::string op_path = absl::StrCat(seq_path, "[", j, "]");
      const Value& op = ops[j];
      if (!op.is_object()) return fail(op_path, "must be an object");
      const Value& type = op["type"];
      if (!type.is_string()) return fail(op_path + ".type", "must be a string");
      const std::string& t = type.as_string();
      if (t == "insert") {
        if (!op["text"].is_string()) {
          return fail(op_path + ".text", "must be a string");
        }
      } else if (t == "preserve" || t == "delete") {
        const Value& count = op["count"];
        if (!count.is_number() || !IsSafeInteger(count.as_number())) {
          return fail(op_path + ".count", "must be an integer");
        }
      } else {
        return fail(op_path + ".type",
                    absl::StrCat("unknown operation \"", t, "\""));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace auxsync::bots
