// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/internal/utf8.h"

#include <cassert>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace auxsync::crdt::internal {

namespace {

// Number of leading ASCII bytes of [p, end), eight at a time.
inline size_t AsciiPrefix(const unsigned char* p, const unsigned char* end) {
  const unsigned char* start = p;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (w & 0x8080808080808080ull) break;
    p += 8;
  }
  while (p < end && *p < 0x80) ++p;
  return static_cast<size_t>(p - start);
}

}  // namespace

namespace {

// True if every byte of [p, p + n) is ASCII; word-at-a-time, with one
// overlapping word for the tail.
inline bool AllAscii(const unsigned char* p, size_t n) {
  if (n >= 8) {
    uint64_t acc = 0;
    uint64_t w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      acc |= w;
    }
    std::memcpy(&w, p + n - 8, 8);
    acc |= w;
    return (acc & 0x8080808080808080ull) == 0;
  }
  unsigned char acc = 0;
  for (size_t i = 0; i < n; ++i) acc |= p[i];
  return acc < 0x80;
}

}  // namespace

bool ValidateUtf8(std::string_view s, uint64_t* utf16_len) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  if (AllAscii(p, s.size())) {
    if (utf16_len != nullptr) *utf16_len = s.size();
    return true;
  }
  uint64_t units = 0;
  while (p < end) {
    size_t n = AsciiPrefix(p, end);
    p += n;
    units += n;
    if (p >= end) break;
    unsigned char b = *p;
    if (b >= 0xC2 && b <= 0xDF) {
      if (end - p < 2 || (p[1] & 0xC0) != 0x80) return false;
      p += 2;
      units += 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      if (end - p < 3) return false;
      unsigned char lo = 0x80, hi = 0xBF;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
      if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80) return false;
      p += 3;
      units += 1;
    } else if (b >= 0xF0 && b <= 0xF4) {
      if (end - p < 4) return false;
      unsigned char lo = 0x80, hi = 0xBF;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
      if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 ||
          (p[3] & 0xC0) != 0x80) {
        return false;
      }
      p += 4;
      units += 2;
    } else {
      return false;
    }
  }
  if (utf16_len != nullptr) *utf16_len = units;
  return true;
}

uint64_t Utf16Length(std::string_view utf8) {
  uint64_t units = 0;
  for (char c : utf8) {
    auto b = static_cast<unsigned char>(c);
    // Every non-continuation byte starts a code point; 4-byte ones need two
    // UTF-16 units.
    units += ((b & 0xC0) != 0x80) + (b >= 0xF0);
  }
  return units;
}

size_t Utf8OffsetOfUtf16(std::string_view utf8, uint64_t utf16_offset,
                         bool* splits_pair) {
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  const size_t n = utf8.size();
  size_t i = 0;
  uint64_t units = 0;
  *splits_pair = false;
  while (units < utf16_offset && i < n) {
    unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      ++units;
    } else if (b < 0xE0) {
      i += 2;
      ++units;
    } else if (b < 0xF0) {
      i += 3;
      ++units;
    } else {
      if (units + 1 == utf16_offset) {
        *splits_pair = true;
        return i;
      }
      i += 4;
      units += 2;
    }
  }
  return i < n ? i : n;
}

void AppendUtf16Suffix(std::string_view utf8, uint64_t utf16_offset,
                       std::string* out) {
  bool split = false;
  size_t i = Utf8OffsetOfUtf16(utf8, utf16_offset, &split);
  if (split) {
    out->append(kReplacementChar);
    i += 4;
  }
  out->append(utf8.substr(i));
}

void AppendCodePoint(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {

inline bool IsHigh(uint32_t c) { return c >= 0xD800 && c <= 0xDBFF; }
inline bool IsLow(uint32_t c) { return c >= 0xDC00 && c <= 0xDFFF; }

// Number of leading units of `s` below 0x80, eight at a time.
inline size_t AsciiPrefix16(std::u16string_view s) {
  size_t i = 0;
  const size_t n = s.size();
#ifdef __SSE2__
  const __m128i high = _mm_set1_epi16(static_cast<int16_t>(0xFF80));
  const __m128i zero = _mm_setzero_si128();
  while (n - i >= 8) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(v, high), zero)) !=
        0xFFFF) {
      break;
    }
    i += 8;
  }
#endif
  while (i < n && s[i] < 0x80) ++i;
  return i;
}

// Writes the ASCII units s[0, n) as bytes.
inline void NarrowAscii(const char16_t* s, size_t n, uint8_t* out) {
  size_t i = 0;
#ifdef __SSE2__
  for (; n - i >= 8; i += 8) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i),
                     _mm_packus_epi16(v, v));
  }
#endif
  for (; i < n; ++i) out[i] = static_cast<uint8_t>(s[i]);
}

}  // namespace

size_t Utf8LengthOfUtf16(std::u16string_view s) {
  size_t i = AsciiPrefix16(s);
  size_t bytes = i;
  const size_t n = s.size();
  for (; i < n; ++i) {
    const uint32_t c = s[i];
    if (c < 0x80) {
      bytes += 1;
    } else if (c < 0x800) {
      bytes += 2;
    } else if (IsHigh(c) && i + 1 < n && IsLow(s[i + 1])) {
      bytes += 4;
      ++i;
    } else {
      bytes += 3;  // BMP, or a lone surrogate written as U+FFFD
    }
  }
  return bytes;
}

uint8_t* WriteUtf16AsUtf8(std::u16string_view s, uint8_t* out) {
  const size_t n = s.size();
  for (size_t i = 0; i < n; ++i) {
    uint32_t c = s[i];
    if (c < 0x80) {
      // A run of ASCII (most text): copied eight units at a time.
      const size_t run = AsciiPrefix16(s.substr(i));
      NarrowAscii(s.data() + i, run, out);
      out += run;
      i += run - 1;
      continue;
    }
    if (c < 0x800) {
      *out++ = static_cast<uint8_t>(0xC0 | (c >> 6));
      *out++ = static_cast<uint8_t>(0x80 | (c & 0x3f));
      continue;
    }
    if (IsHigh(c) && i + 1 < n && IsLow(s[i + 1])) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[++i] - 0xDC00);
      *out++ = static_cast<uint8_t>(0xF0 | (c >> 18));
      *out++ = static_cast<uint8_t>(0x80 | ((c >> 12) & 0x3f));
      *out++ = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3f));
      *out++ = static_cast<uint8_t>(0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;
    *out++ = static_cast<uint8_t>(0xE0 | (c >> 12));
    *out++ = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3f));
    *out++ = static_cast<uint8_t>(0x80 | (c & 0x3f));
  }
  return out;
}

namespace {

// Writes the UTF-16 form of valid UTF-8 [p, p + n) to `o` (room for n
// units); returns the end of what it wrote.
char16_t* WidenValidUtf8(const unsigned char* p, size_t n, char16_t* o) {
  size_t i = 0;
  while (i < n) {
    const size_t run = AsciiPrefix(p + i, p + n);
    size_t k = 0;
#ifdef __SSE2__
    for (; run - k >= 16; k += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + k));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k),
                       _mm_unpacklo_epi8(v, _mm_setzero_si128()));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k + 8),
                       _mm_unpackhi_epi8(v, _mm_setzero_si128()));
    }
#endif
    for (; k < run; ++k) o[k] = p[i + k];
    o += run;
    i += run;
    if (i >= n) break;
    const uint32_t b = p[i];
    uint32_t cp;
    if (b < 0xE0) {
      cp = ((b & 0x1f) << 6) | (p[i + 1] & 0x3f);
      i += 2;
    } else if (b < 0xF0) {
      cp = ((b & 0x0f) << 12) | ((p[i + 1] & 0x3f) << 6) | (p[i + 2] & 0x3f);
      i += 3;
    } else {
      cp = ((b & 0x07) << 18) | ((p[i + 1] & 0x3f) << 12) |
           ((p[i + 2] & 0x3f) << 6) | (p[i + 3] & 0x3f);
      i += 4;
      cp -= 0x10000;
      *o++ = static_cast<char16_t>(0xD800 + (cp >> 10));
      *o++ = static_cast<char16_t>(0xDC00 + (cp & 0x3ff));
      continue;
    }
    *o++ = static_cast<char16_t>(cp);
  }
  return o;
}

}  // namespace

void WriteValidUtf8AsUtf16(std::string_view utf8, uint64_t utf16_len,
                           char16_t* o) {
  const size_t n = utf8.size();
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  if (utf16_len != n) {
    WidenValidUtf8(p, n, o);
    return;
  }
#ifdef __SSE2__
  if (n >= 8) {
    // Sixteen bytes a step, then eight, the last eight overlapping what was
    // written (same values).
    const __m128i zero = _mm_setzero_si128();
    size_t k = 0;
    for (; n - k >= 16; k += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k),
                       _mm_unpacklo_epi8(v, zero));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k + 8),
                       _mm_unpackhi_epi8(v, zero));
    }
    if (n - k >= 8) {
      __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + k));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k),
                       _mm_unpacklo_epi8(v, zero));
      k += 8;
    }
    if (k < n) {
      __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + n - 8));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + n - 8),
                       _mm_unpacklo_epi8(v, zero));
    }
    return;
  }
#endif
  for (size_t k = 0; k < n; ++k) o[k] = p[k];
}

bool WidenIfAscii(std::string_view s, char16_t* o) {
  const size_t n = s.size();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
#ifdef __SSE2__
  if (n >= 8) {
    // Sixteen bytes a step, then eight, the last eight overlapping what was
    // written (same values); the sign bits of every byte read collected.
    const __m128i zero = _mm_setzero_si128();
    __m128i acc = zero;
    size_t k = 0;
    for (; n - k >= 16; k += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
      acc = _mm_or_si128(acc, v);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k),
                       _mm_unpacklo_epi8(v, zero));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k + 8),
                       _mm_unpackhi_epi8(v, zero));
    }
    if (n - k >= 8) {
      __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + k));
      acc = _mm_or_si128(acc, v);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k),
                       _mm_unpacklo_epi8(v, zero));
      k += 8;
    }
    if (k < n) {
      __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + n - 8));
      acc = _mm_or_si128(acc, v);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + n - 8),
                       _mm_unpacklo_epi8(v, zero));
    }
    return _mm_movemask_epi8(acc) == 0;
  }
#endif
  unsigned acc = 0;
  for (size_t k = 0; k < n; ++k) {
    acc |= p[k];
    o[k] = p[k];
  }
  return acc < 0x80;
}

bool WidenIfAsciiInSteps(const unsigned char* p, size_t n, char16_t* o) {
#ifdef __SSE2__
  const __m128i zero = _mm_setzero_si128();
  // Lane i counts while i < the bytes left (the last step's tail not).
  const __m128i lanes =
      _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m128i acc = zero;
  for (size_t k = 0; k < n; k += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
    const size_t left = n - k < 16 ? n - k : 16;
    const __m128i counted =
        _mm_cmplt_epi8(lanes, _mm_set1_epi8(static_cast<char>(left)));
    acc = _mm_or_si128(acc, _mm_and_si128(v, counted));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k),
                     _mm_unpacklo_epi8(v, zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k + 8),
                     _mm_unpackhi_epi8(v, zero));
  }
  return _mm_movemask_epi8(acc) == 0;
#else
  return WidenIfAscii(std::string_view(reinterpret_cast<const char*>(p), n), o);
#endif
}

void AssignValidUtf8AsUtf16(std::string_view utf8, uint64_t utf16_len,
                            std::u16string* out) {
  out->resize(static_cast<size_t>(utf16_len));
  WriteValidUtf8AsUtf16(utf8, utf16_len, out->data());
}

void AppendValidUtf8AsUtf16(std::string_view utf8, std::u16string* out) {
  const size_t base = out->size();
  // At most one unit per byte; shrunk to what was written at the end.
  out->resize(base + utf8.size());
  char16_t* o =
      WidenValidUtf8(reinterpret_cast<const unsigned char*>(utf8.data()),
                     utf8.size(), out->data() + base);
  out->resize(static_cast<size_t>(o - out->data()));
}

}  // namespace auxsync::crdt::internal
