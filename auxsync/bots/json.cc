#include "auxsync/bots/json.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/js_number.h"
#include "auxsync/bots/js_string.h"

namespace auxsync::bots {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendEscapedString(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0xED) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\b':
        out += "\\b";
        ++i;
        continue;
      case '\f':
        out += "\\f";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
      continue;
    }
    // 0xED starts the three-byte forms of U+D000..U+DFFF; the surrogates
    // among them are unpaired (a pair is always stored as four bytes) and
    // JSON.stringify escapes them.
    if (i + 2 < s.size() + 0 &&
        (static_cast<uint8_t>(s[i + 1]) & 0xE0) == 0xA0) {
      uint32_t cp = ((c & 0x0F) << 12) |
                    ((static_cast<uint8_t>(s[i + 1]) & 0x3F) << 6) |
                    (static_cast<uint8_t>(s[i + 2]) & 0x3F);
      out += "\\u";
      out += kHex[(cp >> 12) & 0xF];
      out += kHex[(cp >> 8) & 0xF];
      out += kHex[(cp >> 4) & 0xF];
      out += kHex[cp & 0xF];
      i += 3;
      continue;
    }
    out += static_cast<char>(c);
    ++i;
  }
  out += '"';
}

void AppendTaggedNumber(std::string& out, std::string_view what) {
  out += R"({"$type":"number","value":")";
  out += what;
  out += "\"}";
}

void AppendNumber(std::string& out, double d, bool tagged) {
  if (std::isfinite(d) && !(d == 0 && std::signbit(d) && tagged)) {
    AppendJsNumber(out, d);
  } else if (!tagged) {
    out += std::isfinite(d) ? "0" : "null";
  } else if (std::isnan(d)) {
    AppendTaggedNumber(out, "NaN");
  } else if (std::isinf(d)) {
    AppendTaggedNumber(out, d > 0 ? "Infinity" : "-Infinity");
  } else {
    AppendTaggedNumber(out, "-0");
  }
}

constexpr std::string_view kTaggedUndefined = R"({"$type":"undefined"})";

}  // namespace

void AppendJson(std::string& out, const Value& value,
                JsonWriteOptions options) {
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      out += options.tagged ? kTaggedUndefined : "null";
      return;
    case Value::Kind::kNull:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += value.as_bool() ? "true" : "false";
      return;
    case Value::Kind::kNumber:
      AppendNumber(out, value.as_number(), options.tagged);
      return;
    case Value::Kind::kString:
      AppendEscapedString(out, value.as_string());
      return;
    case Value::Kind::kArray: {
      out += '[';
      bool first = true;
      for (const Value& item : value.as_array().items) {
        if (!first) out += ',';
        first = false;
        AppendJson(out, item, options);
      }
      out += ']';
      return;
    }
    case Value::Kind::kObject: {
      out += '{';
      bool first = true;
      value.as_object().ForEach([&](const std::string& key, const Value& v) {
        // A host value is written as its toJSON() result, so a function
        // (whose result is undefined) drops its key like undefined does.
        Value host_json;
        const Value* effective = &v;
        while (effective->is_host()) {
          host_json = effective->as_host().ToJsonValue();
          effective = &host_json;
        }
        if (effective->is_undefined() && !options.tagged) return;
        if (!first) out += ',';
        first = false;
        AppendEscapedString(out, key);
        out += ':';
        AppendJson(out, *effective, options);
      });
      out += '}';
      return;
    }
    case Value::Kind::kHost:
      AppendJson(out, value.as_host().ToJsonValue(), options);
      return;
  }
}

std::string ToJson(const Value& value, JsonWriteOptions options) {
  std::string out;
  AppendJson(out, value, options);
  return out;
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, JsonParseOptions options)
      : s_(text), options_(options) {}

  absl::StatusOr<Value> ParseDocument() {
    SkipSpace();
    Value v;
    if (!ParseValue(v, 0)) return error_;
    SkipSpace();
    if (pos_ != s_.size()) {
      // Fail() returns bool, which would convert to an ok Value(false).
      Fail("unexpected text after the JSON value");
      return error_;
    }
    return v;
  }

 private:
  bool Fail(std::string_view what) {
    if (error_.ok()) {
      error_ = absl::InvalidArgumentError(
          absl::StrCat("invalid JSON at byte ", pos_, ": ", std::string(what)));
    }
    return false;
  }

  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                                s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return Fail("unknown literal");
    pos_ += word.size();
    return true;
  }

  bool ParseValue(Value& out, int depth) {
    if (pos_ >= s_.size()) return Fail("unexpected end of input");
    switch (s_[pos_]) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"': {
        std::string str;
        if (!ParseString(str)) return false;
        out = Value(std::move(str));
        return true;
      }
      case 't':
        out = Value(true);
        return Literal("true");
      case 'f':
        out = Value(false);
        return Literal("false");
      case 'n':
        out = Value(nullptr);
        return Literal("null");
      default:
        return ParseNumber(out);
    }
  }

  bool ParseNumber(Value& out) {
    size_t start = pos_;
    auto digit = [&] {
      return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9';
    };
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (!digit()) return Fail("expected a value");
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digit()) return Fail("expected a digit after '.'");
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digit()) return Fail("expected an exponent");
      while (digit()) ++pos_;
    }
    double d = 0;
    auto res = std::from_chars(s_.data() + start, s_.data() + pos_, d);
    if (res.ec == std::errc::result_out_of_range) {
      // from_chars refuses overflow and underflow; JSON.parse gives
      // +-Infinity and +-0.
      bool neg = s_[start] == '-';
      bool huge = false;
      // The exponent's sign tells overflow from underflow.
      size_t e = s_.find_first_of("eE", start);
      if (e == std::string_view::npos || e >= pos_) {
        huge = true;
      } else {
        huge = s_[e + 1] != '-';
      }
      d = huge ? (neg ? -INFINITY : INFINITY) : (neg ? -0.0 : 0.0);
    } else if (res.ec != std::errc()) {
      return Fail("bad number");
    }
    out = Value(d);
    return true;
  }

  bool Hex4(uint32_t& cp) {
    if (pos_ + 4 > s_.size()) return Fail("truncated \\u escape");
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[pos_++];
      cp <<= 4;
      if (c >= '0' && c <= '9') {
        cp |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        cp |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        cp |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        --pos_;
        return Fail("bad hex digit in \\u escape");
      }
    }
    return true;
  }

  bool ParseString(std::string& out) {
    ++pos_;  // opening quote
    size_t run = pos_;
    while (true) {
      if (pos_ >= s_.size()) return Fail("unterminated string");
      uint8_t c = static_cast<uint8_t>(s_[pos_]);
      if (c == '"') {
        if (!AppendRaw(out, run, pos_)) return false;
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("control character in string");
      if (c != '\\') {
        ++pos_;
        continue;
      }
      if (!AppendRaw(out, run, pos_)) return false;
      ++pos_;
      if (pos_ >= s_.size()) return Fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(pos_, 2) == "\\u") {
            size_t save = pos_;
            pos_ += 2;
            uint32_t low = 0;
            if (!Hex4(low)) return false;
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              pos_ = save;  // the next escape stands on its own
            }
          }
          AppendCodePoint(out, cp);
          break;
        }
        default:
          --pos_;
          return Fail("bad escape");
      }
      run = pos_;
    }
  }

  bool AppendRaw(std::string& out, size_t from, size_t to) {
    std::string_view raw = s_.substr(from, to - from);
    if (!IsValidUtf8(raw)) {
      pos_ = from;
      return Fail("string is not valid UTF-8");
    }
    out.append(raw);
    return true;
  }

  bool ParseArray(Value& out, int depth) {
    if (depth > options_.max_depth) return Fail("nesting too deep");
    ++pos_;
    auto array = std::make_shared<Array>();
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      out = Value(std::move(array));
      return true;
    }
    while (true) {
      SkipSpace();
      Value item;
      if (!ParseValue(item, depth)) return false;
      array->items.push_back(std::move(item));
      SkipSpace();
      if (pos_ >= s_.size()) return Fail("unterminated array");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        break;
      }
      return Fail("expected ',' or ']'");
    }
    out = Value(std::move(array));
    return true;
  }

  bool ParseObject(Value& out, int depth) {
    if (depth > options_.max_depth) return Fail("nesting too deep");
    ++pos_;
    Value obj = Value::NewObject();
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      out = std::move(obj);
      return true;
    }
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Fail("expected a key");
      std::string key;
      if (!ParseString(key)) return false;
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      SkipSpace();
      Value v;
      if (!ParseValue(v, depth)) return false;
      obj.as_object().Set(key, std::move(v));
      SkipSpace();
      if (pos_ >= s_.size()) return Fail("unterminated object");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        break;
      }
      return Fail("expected ',' or '}'");
    }
    if (options_.decode_tags) obj = DecodeTag(std::move(obj));
    out = std::move(obj);
    return true;
  }

  static Value DecodeTag(Value obj) {
    const Object& o = obj.as_object();
    const Value& type = o.Get("$type");
    if (!type.is_string()) return obj;
    if (type.as_string() == "undefined" && o.size() == 1) return Value();
    if (type.as_string() == "number" && o.size() == 2) {
      const Value& v = o.Get("value");
      if (!v.is_string()) return obj;
      const std::string& s = v.as_string();
      if (s == "NaN") return Value(NAN);
      if (s == "Infinity") return Value(INFINITY);
      if (s == "-Infinity") return Value(-INFINITY);
      if (s == "-0") return Value(-0.0);
    }
    return obj;
  }

  std::string_view s_;
  JsonParseOptions options_;
  size_t pos_ = 0;
  absl::Status error_;
};

}  // namespace

absl::StatusOr<Value> ParseJson(std::string_view text,
                                JsonParseOptions options) {
  return Parser(text, options).ParseDocument();
}

}  // namespace auxsync::bots
