#include "auxsync/crdt/internal/engine_any.h"

#include <cmath>

#include "auxsync/crdt/internal/json.h"
#include "auxsync/crdt/internal/utf8.h"

namespace auxsync::crdt::engine {

void AppendUtf8(std::u16string_view s, std::string* out) {
  size_t old = out->size();
  out->resize(old + internal::Utf8LengthOfUtf16(s));
  internal::WriteUtf16AsUtf8(s, reinterpret_cast<uint8_t*>(out->data()) + old);
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

bool JsEquals(const Any& a, const Any& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case AnyKind::kUndefined:
    case AnyKind::kNull:
      return true;
    case AnyKind::kBool:
      return a.bool_value() == b.bool_value();
    case AnyKind::kNumber:
      return a.number() == b.number();
    case AnyKind::kBigInt:
      return a.bigint() == b.bigint();
    case AnyKind::kString:
      return a.string() == b.string();
    case AnyKind::kBytes:
      return a.bytes() == b.bytes();
    case AnyKind::kArray: {
      const Any::Array& x = a.array();
      const Any::Array& y = b.array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsEquals(x[i], y[i])) return false;
      }
      return true;
    }
    case AnyKind::kMap: {
      if (a.map().size() != b.map().size()) return false;
      for (const auto& [k, v] : a.map()) {
        const Any* other = b.Find(k);
        if (other == nullptr || !JsEquals(v, *other)) return false;
      }
      return true;
    }
  }
  return false;
}

std::string JsonStringify(const Any& v) {
  std::string out;
  if (!internal::StringifyJson(v, &out)) return "null";
  return out;
}

bool JsonParse(std::string_view text, Any* out) {
  absl::StatusOr<Any> v = internal::ParseJson(text);
  if (!v.ok()) return false;
  *out = *std::move(v);
  return true;
}

std::string JsNumberToString(double d) {
  std::string out;
  internal::AppendJsNumber(d, &out);
  return out;
}

}  // namespace auxsync::crdt::engine
