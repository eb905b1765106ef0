// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/internal/json.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auxsync/crdt/internal/utf8.h"

namespace auxsync::crdt::internal {

namespace {

constexpr int kMaxJsonDepth = 1000;

// Recursive-descent JSON.parse over UTF-8 text.
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  absl::StatusOr<Any> Parse() {
    Any v = Value(0);
    SkipWs();
    if (ok_ && i_ != s_.size()) Error("unexpected trailing characters");
    if (!ok_) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid JSON at byte ", err_pos_, ": ", err_));
    }
    return v;
  }

 private:
  void Error(const char* what) {
    if (ok_) {
      ok_ = false;
      err_ = what;
      err_pos_ = i_;
    }
  }
  void SkipWs() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' ||
                              s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) == word) {
      i_ += word.size();
      return true;
    }
    Error("unexpected token");
    return false;
  }

  Any Value(int depth) {
    SkipWs();
    if (i_ >= s_.size()) {
      Error("unexpected end of JSON input");
      return Any();
    }
    if (depth > kMaxJsonDepth) {
      Error("nesting too deep");
      return Any();
    }
    char c = s_[i_];
    switch (c) {
      case '{':
        return Object(depth);
      case '[':
        return ArrayValue(depth);
      case '"': {
        std::string str;
        if (!String(&str)) return Any();
        return Any::MakeString(std::move(str));
      }
      case 't':
        return Literal("true") ? Any::MakeBool(true) : Any();
      case 'f':
        return Literal("false") ? Any::MakeBool(false) : Any();
      case 'n':
        return Literal("null") ? Any::MakeNull() : Any();
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return Number();
        Error("unexpected token");
        return Any();
    }
  }

  Any Number() {
    size_t start = i_;
    auto digit = [&] {
      return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9';
    };
    if (s_[i_] == '-') ++i_;
    if (!digit()) {
      Error("bad number");
      return Any();
    }
    if (s_[i_] == '0') {
      ++i_;
    } else {
      while (digit()) ++i_;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digit()) {
        Error("bad number");
        return Any();
      }
      while (digit()) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digit()) {
        Error("bad number");
        return Any();
      }
      while (digit()) ++i_;
    }
    // from_chars rounds correctly and, unlike strtod, ignores the locale.
    const char* first = s_.data() + start;
    const char* last = s_.data() + i_;
    double d = 0;
    auto [ptr, ec] = std::from_chars(first, last, d);
    if (ec == std::errc::result_out_of_range) {
      // JS gives ±Infinity on overflow and ±0 on underflow.
      d = MagnitudeExponent(
              std::string_view(first, static_cast<size_t>(last - first))) > 0
              ? std::numeric_limits<double>::infinity()
              : 0.0;
      if (*first == '-') d = -d;
    } else if (ec != std::errc() || ptr != last) {
      Error("bad number");
      return Any();
    }
    return Any::MakeNumber(d);
  }

  // Roughly the decimal exponent of a JSON number's magnitude: positive for
  // huge values, negative for tiny ones (only its sign is used).
  static int64_t MagnitudeExponent(std::string_view num) {
    size_t i = (num[0] == '-') ? 1 : 0;
    int64_t e10 = 0;
    bool seen_nonzero = false;
    bool after_point = false;
    int64_t leading_fraction_zeros = 0;
    for (; i < num.size() && num[i] != 'e' && num[i] != 'E'; ++i) {
      char c = num[i];
      if (c == '.') {
        after_point = true;
      } else if (!seen_nonzero) {
        if (c != '0') {
          seen_nonzero = true;
          if (!after_point) ++e10;
        } else if (after_point) {
          ++leading_fraction_zeros;
        }
      } else if (!after_point) {
        ++e10;
      }
    }
    if (!seen_nonzero) return -1;
    if (e10 == 0) e10 = -leading_fraction_zeros;
    int64_t exp = 0;
    if (i < num.size()) {
      ++i;
      bool neg = false;
      if (i < num.size() && (num[i] == '+' || num[i] == '-'))
        neg = num[i++] == '-';
      for (; i < num.size() && exp < 100000; ++i)
        exp = exp * 10 + (num[i] - '0');
      if (neg) exp = -exp;
    }
    return e10 + exp;
  }

  int Hex4() {
    if (s_.size() - i_ < 4) return -1;
    int v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_ + k];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return -1;
      }
      v = v * 16 + d;
    }
    i_ += 4;
    return v;
  }

  bool String(std::string* out) {
    ++i_;  // opening quote
    while (true) {
      size_t run = i_;
      while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\' &&
             static_cast<unsigned char>(s_[i_]) >= 0x20) {
        ++i_;
      }
      out->append(s_.data() + run, i_ - run);
      if (i_ >= s_.size()) {
        Error("unterminated string");
        return false;
      }
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c != '\\') {
        Error("control character in string");
        return false;
      }
      ++i_;
      if (i_ >= s_.size()) {
        Error("unterminated string");
        return false;
      }
      char e = s_[i_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          int u = Hex4();
          if (u < 0) {
            Error("bad \\u escape");
            return false;
          }
          uint32_t cp = static_cast<uint32_t>(u);
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(i_, 2) == "\\u") {
            size_t save = i_;
            i_ += 2;
            int lo = Hex4();
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) +
                   (static_cast<uint32_t>(lo) - 0xDC00);
            } else {
              i_ = save;  // the next escape stands on its own
            }
          }
          // A lone surrogate would be written as U+FFFD by lib0 anyway.
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          AppendCodePoint(cp, out);
          break;
        }
        default:
          --i_;
          Error("bad escape");
          return false;
      }
    }
  }

  Any ArrayValue(int depth) {
    ++i_;
    Any::Array elems;
    SkipWs();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return Any::MakeArray(std::move(elems));
    }
    while (ok_) {
      elems.push_back(Value(depth + 1));
      SkipWs();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        break;
      }
      Error("expected , or ]");
    }
    return Any::MakeArray(std::move(elems));
  }

  Any Object(int depth) {
    ++i_;
    Any::Map entries;
    SkipWs();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return Any::MakeMap(std::move(entries));
    }
    while (ok_) {
      SkipWs();
      if (i_ >= s_.size() || s_[i_] != '"') {
        Error("expected string key");
        break;
      }
      std::string key;
      if (!String(&key)) break;
      SkipWs();
      if (i_ >= s_.size() || s_[i_] != ':') {
        Error("expected :");
        break;
      }
      ++i_;
      Any v = Value(depth + 1);
      entries.emplace_back(std::move(key), std::move(v));
      SkipWs();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        break;
      }
      Error("expected , or }");
    }
    return Any::MakeMap(std::move(entries));
  }

  std::string_view s_;
  size_t i_ = 0;
  bool ok_ = true;
  const char* err_ = "";
  size_t err_pos_ = 0;
};

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

bool Stringify(const Any& v, std::string* out) {
  switch (v.kind()) {
    case Any::Kind::kUndefined:
      return false;
    case Any::Kind::kNull:
      out->append("null");
      return true;
    case Any::Kind::kBool:
      out->append(v.bool_value() ? "true" : "false");
      return true;
    case Any::Kind::kNumber:
      if (std::isfinite(v.number())) {
        AppendJsNumber(v.number(), out);
      } else {
        out->append("null");
      }
      return true;
    case Any::Kind::kBigInt:
      return false;
    case Any::Kind::kString:
      AppendJsonString(v.string(), out);
      return true;
    case Any::Kind::kBytes: {
      out->push_back('{');
      const auto& b = v.bytes();
      for (size_t i = 0; i < b.size(); ++i) {
        if (i > 0) out->push_back(',');
        absl::StrAppend(out, "\"", i, "\":", b[i]);
      }
      out->push_back('}');
      return true;
    }
    case Any::Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Any& e : v.array()) {
        if (!first) out->push_back(',');
        first = false;
        if (e.is_undefined()) {
          out->append("null");
        } else if (!Stringify(e, out)) {
          return false;
        }
      }
      out->push_back(']');
      return true;
    }
    case Any::Kind::kMap: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.map()) {
        if (e.is_undefined()) continue;
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(k, out);
        out->push_back(':');
        if (!Stringify(e, out)) return false;
      }
      out->push_back('}');
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<Any> ParseJson(std::string_view text) {
  return JsonParser(text).Parse();
}

bool StringifyJson(const Any& value, std::string* out) {
  return Stringify(value, out);
}

void AppendJsNumber(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("NaN");
    return;
  }
  if (d == 0) {
    out->push_back('0');
    return;
  }
  if (std::isinf(d)) {
    out->append(d > 0 ? "Infinity" : "-Infinity");
    return;
  }
  if (d < 0) {
    out->push_back('-');
    d = -d;
  }
  // Shortest round-trip digits, as V8's Number::toString picks them.
  char buf[64];
  auto res =
      std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  size_t epos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, epos)) {
    if (c != '.') digits.push_back(c);
  }
  int exp10 = 0;
  std::from_chars(sci.data() + epos + 1 + (sci[epos + 1] == '+'),
                  sci.data() + sci.size(), exp10);
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // value = 0.digits * 10^n
  if (k <= n && n <= 21) {
    out->append(digits);
    out->append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out->append(digits, 0, static_cast<size_t>(n));
    out->push_back('.');
    out->append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-n), '0');
    out->append(digits);
  } else {
    out->push_back(digits[0]);
    if (k > 1) {
      out->push_back('.');
      out->append(digits, 1);
    }
    out->push_back('e');
    out->push_back(n - 1 >= 0 ? '+' : '-');
    absl::StrAppend(out, std::abs(n - 1));
  }
}

}  // namespace auxsync::crdt::internal
