#include "auxsync/crdt/internal/engine_any.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

namespace auxsync::crdt::engine {

void AppendUtf8(std::u16string_view s, std::string* out) {
  out->reserve(out->size() + s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    uint32_t c = s[i];
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      continue;
    }
    if (c >= 0xD800 && c <= 0xDFFF) {
      if (c <= 0xDBFF && i + 1 < s.size() && s[i + 1] >= 0xDC00 &&
          s[i + 1] <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
        ++i;
      } else {
        c = 0xFFFD;
      }
    }
    if (c < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (c >> 6)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (c >> 12)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (c >> 18)));
      out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
}

// WHATWG UTF-8 decoder with replacement (maximal subpart rule).
void AppendUtf16(std::string_view s, std::u16string* out) {
  out->reserve(out->size() + s.size());
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    uint8_t b = p[i];
    if (b < 0x80) {
      out->push_back(b);
      ++i;
      continue;
    }
    int need;
    uint32_t cp;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      cp = b & 0x0f;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      cp = b & 0x07;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      out->push_back(0xFFFD);
      ++i;
      continue;
    }
    size_t j = i + 1;
    bool ok = true;
    for (int k = 0; k < need; ++k, ++j) {
      if (j >= n || p[j] < lo || p[j] > hi) {
        ok = false;
        break;
      }
      lo = 0x80;
      hi = 0xBF;
      cp = (cp << 6) | (p[j] & 0x3f);
    }
    if (!ok) {
      out->push_back(0xFFFD);
      i = j;
      continue;
    }
    i = j;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3ff)));
    } else {
      out->push_back(static_cast<char16_t>(cp));
    }
  }
}

namespace {

// A canonical array index: decimal without leading zeros, < 2^32 - 1.
bool IsArrayIndex(std::string_view k, uint64_t* v) {
  if (k.empty() || k.size() > 10) return false;
  if (k.size() > 1 && k[0] == '0') return false;
  uint64_t n = 0;
  for (char c : k) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n >= 4294967295ull) return false;
  *v = n;
  return true;
}

// Indices of the object's keys in JS own-property order.
std::vector<size_t> JsKeyOrder(const Any& o) {
  std::vector<std::pair<uint64_t, size_t>> idx;
  std::vector<size_t> rest;
  for (size_t i = 0; i < o.keys.size(); ++i) {
    uint64_t v;
    if (IsArrayIndex(o.keys[i], &v))
      idx.push_back({v, i});
    else
      rest.push_back(i);
  }
  std::vector<size_t> out;
  if (idx.empty()) return rest;
  std::sort(idx.begin(), idx.end());
  for (auto& p : idx) out.push_back(p.second);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

void WriteDouble(Writer& w, double d) {
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 2147483647.0) {
    w.U8(125);
    w.VarIntSM(static_cast<uint64_t>(std::fabs(d)), std::signbit(d));
    return;
  }
  float f = static_cast<float>(d);
  if (static_cast<double>(f) == d) {  // false for NaN
    w.U8(124);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    w.BigEndian(bits, 4);
    return;
  }
  w.U8(123);
  uint64_t bits;
  if (std::isnan(d)) {
    bits = 0x7ff8000000000000ull;
  } else {
    std::memcpy(&bits, &d, 8);
  }
  w.BigEndian(bits, 8);
}

void JsonQuote(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void Stringify(const Any& v, std::string* out) {
  switch (v.kind) {
    case AnyKind::kUndefined:
    case AnyKind::kNull:
      *out += "null";
      return;
    case AnyKind::kBool:
      *out += v.boolean ? "true" : "false";
      return;
    case AnyKind::kNumber:
      *out += std::isfinite(v.number) ? JsNumberToString(v.number) : "null";
      return;
    case AnyKind::kBigInt:
      *out += std::to_string(v.bigint);
      return;
    case AnyKind::kString:
      JsonQuote(v.str, out);
      return;
    case AnyKind::kBytes: {
      // A Uint8Array stringifies as an object of its indices.
      *out += '{';
      for (size_t i = 0; i < v.str.size(); ++i) {
        if (i) *out += ',';
        *out += '"' + std::to_string(i) +
                "\":" + std::to_string(static_cast<uint8_t>(v.str[i]));
      }
      *out += '}';
      return;
    }
    case AnyKind::kArray:
      *out += '[';
      for (size_t i = 0; i < v.array.size(); ++i) {
        if (i) *out += ',';
        Stringify(v.array[i], out);
      }
      *out += ']';
      return;
    case AnyKind::kObject: {
      *out += '{';
      bool first = true;
      for (size_t i : JsKeyOrder(v)) {
        if (v.array[i].kind == AnyKind::kUndefined) continue;
        if (!first) *out += ',';
        first = false;
        JsonQuote(v.keys[i], out);
        *out += ':';
        Stringify(v.array[i], out);
      }
      *out += '}';
      return;
    }
  }
}

Any FromJson(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Any::Null();
    case nlohmann::ordered_json::value_t::boolean:
      return Any::Bool(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned:
    case nlohmann::ordered_json::value_t::number_float:
      return Any::Number(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Any::String(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Any a = Any::Array({});
      for (const auto& e : j) a.array.push_back(FromJson(e));
      return a;
    }
    case nlohmann::ordered_json::value_t::object: {
      Any a = Any::Object();
      for (auto it = j.begin(); it != j.end(); ++it)
        a.Set(it.key(), FromJson(it.value()));
      return a;
    }
    default:
      return Any::Null();
  }
}

}  // namespace

void Any::Set(std::string key, Any v) {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) {
      array[i] = std::move(v);
      return;
    }
  }
  keys.push_back(std::move(key));
  array.push_back(std::move(v));
}

const Any* Any::Find(std::string_view key) const {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &array[i];
  }
  return nullptr;
}

bool Any::operator==(const Any& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case AnyKind::kUndefined:
    case AnyKind::kNull:
      return true;
    case AnyKind::kBool:
      return boolean == o.boolean;
    case AnyKind::kNumber:
      return number == o.number;
    case AnyKind::kBigInt:
      return bigint == o.bigint;
    case AnyKind::kString:
    case AnyKind::kBytes:
      return str == o.str;
    case AnyKind::kArray:
      return array == o.array;
    case AnyKind::kObject: {
      if (keys.size() != o.keys.size()) return false;
      for (size_t i = 0; i < keys.size(); ++i) {
        const Any* other = o.Find(keys[i]);
        if (other == nullptr || !(*other == array[i])) return false;
      }
      return true;
    }
  }
  return false;
}

void WriteAny(Writer& w, const Any& v) {
  switch (v.kind) {
    case AnyKind::kUndefined:
      w.U8(127);
      return;
    case AnyKind::kNull:
      w.U8(126);
      return;
    case AnyKind::kBool:
      w.U8(v.boolean ? 120 : 121);
      return;
    case AnyKind::kNumber:
      WriteDouble(w, v.number);
      return;
    case AnyKind::kBigInt:
      w.U8(122);
      w.BigEndian(static_cast<uint64_t>(v.bigint), 8);
      return;
    case AnyKind::kString:
      w.U8(119);
      w.VarString(v.str);
      return;
    case AnyKind::kBytes:
      w.U8(116);
      w.VarBytes(v.str);
      return;
    case AnyKind::kArray:
      w.U8(117);
      w.VarUint(v.array.size());
      for (const Any& e : v.array) WriteAny(w, e);
      return;
    case AnyKind::kObject: {
      w.U8(118);
      w.VarUint(v.keys.size());
      for (size_t i : JsKeyOrder(v)) {
        w.VarString(v.keys[i]);
        WriteAny(w, v.array[i]);
      }
      return;
    }
  }
}

namespace {
std::string DecodeUtf8(std::string_view raw) {
  // Round-trip through UTF-16 so invalid bytes become U+FFFD like TextDecoder.
  bool ascii = true;
  for (unsigned char c : raw) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return std::string(raw);
  return ToUtf8(ToUtf16(raw));
}
}  // namespace

Any ReadAny(Reader& r, int depth) {
  if (depth > 256) {
    r.Fail();
    return {};
  }
  uint8_t tag = r.U8();
  if (r.failed()) return {};
  switch (tag) {
    case 127:
      return Any::Undefined();
    case 126:
      return Any::Null();
    case 125: {
      bool neg = false;
      uint64_t m = r.VarIntSM(&neg);
      double d = static_cast<double>(m);
      return Any::Number(neg ? -d : d);
    }
    case 124: {
      uint32_t bits = static_cast<uint32_t>(r.BigEndian(4));
      float f;
      std::memcpy(&f, &bits, 4);
      return Any::Number(f);
    }
    case 123: {
      uint64_t bits = r.BigEndian(8);
      double d;
      std::memcpy(&d, &bits, 8);
      return Any::Number(d);
    }
    case 122:
      return Any::BigInt(static_cast<int64_t>(r.BigEndian(8)));
    case 121:
      return Any::Bool(false);
    case 120:
      return Any::Bool(true);
    case 119:
      return Any::String(DecodeUtf8(r.VarBytes()));
    case 118: {
      uint64_t n = r.VarUint();
      Any o = Any::Object();
      for (uint64_t i = 0; i < n && !r.failed(); ++i) {
        std::string k = DecodeUtf8(r.VarBytes());
        Any v = ReadAny(r, depth + 1);
        if (k == "__proto__") continue;
        o.Set(std::move(k), std::move(v));
      }
      return o;
    }
    case 117: {
      uint64_t n = r.VarUint();
      Any a = Any::Array({});
      // Every element takes at least one byte: bound the reservation.
      if (n > r.remaining()) {
        r.Fail();
        return {};
      }
      a.array.reserve(n);
      for (uint64_t i = 0; i < n && !r.failed(); ++i)
        a.array.push_back(ReadAny(r, depth + 1));
      return a;
    }
    case 116:
      return Any::Bytes(std::string(r.VarBytes()));
    default:
      r.Fail();
      return {};
  }
}

std::string JsonStringify(const Any& v) {
  std::string out;
  Stringify(v, &out);
  return out;
}

bool JsonParse(std::string_view text, Any* out) {
  auto j =
      nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return false;
  *out = FromJson(j);
  return true;
}

std::string JsNumberToString(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return "0";
  char buf[64];
  auto res =
      std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci = [-]D[.DDD]e(+|-)XX
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int k = static_cast<int>(digits.size());
  int n = exp + 1;
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(n - k, '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, n) + "." + digits.substr(n);
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(-n, '0') + digits;
  } else {
    std::string es = (n - 1 >= 0 ? "+" : "-") + std::to_string(std::abs(n - 1));
    out =
        digits.substr(0, 1) + (k > 1 ? "." + digits.substr(1) : "") + "e" + es;
  }
  return neg ? "-" + out : out;
}

}  // namespace auxsync::crdt::engine
