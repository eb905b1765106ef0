// Copyright 2025 The auxsync Authors.
//
// UTF-16 -> UTF-8 for the update writers, with the ASCII text of a typical
// document converted eight units per step and without a length pass first.

#ifndef AUXSYNC_CRDT_INTERNAL_UTF16_ASCII_H_
#define AUXSYNC_CRDT_INTERNAL_UTF16_ASCII_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "auxsync/crdt/internal/utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace auxsync::crdt::internal {

// Writes `s` as UTF-8 (as TextEncoder does: a lone surrogate becomes
// U+FFFD) to `out`, which has room for 3 * s.size() bytes, and returns the
// end of what it wrote. ASCII is converted in steps of eight units (the
// last step overlaps the one before instead of going unit by unit); from
// the first step holding a non-ASCII unit on, WriteUtf16AsUtf8 does the
// rest.
[[gnu::always_inline]] inline uint8_t* WriteUtf16AsUtf8Fast(
    std::u16string_view s, uint8_t* out) {
  const char16_t* d = s.data();
  const size_t n = s.size();
#ifdef __SSE2__
  const __m128i high = _mm_set1_epi16(static_cast<int16_t>(0xFF80));
  const __m128i zero = _mm_setzero_si128();
  if (n >= 8) {
    size_t i = 0;
    for (;;) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
      if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(v, high), zero)) !=
          0xFFFF) {
        return WriteUtf16AsUtf8(s.substr(i), out + i);
      }
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i),
                       _mm_packus_epi16(v, v));
      if (i + 8 == n) return out + n;
      // The last step starts at n - 8: it redoes units already written
      // (the same bytes) instead of a unit-by-unit tail.
      i = i + 16 <= n ? i + 8 : n - 8;
    }
  }
  if (n >= 4) {
    // Two overlapping steps of four units.
    __m128i a = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(d));
    __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(d + n - 4));
    __m128i v = _mm_unpacklo_epi64(a, b);
    if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(v, high), zero)) !=
        0xFFFF) {
      return WriteUtf16AsUtf8(s, out);
    }
    uint8_t b8[8];
    _mm_storel_epi64(reinterpret_cast<__m128i*>(b8), _mm_packus_epi16(v, v));
    std::memcpy(out, b8, 4);
    std::memcpy(out + n - 4, b8 + 4, 4);
    return out + n;
  }
#endif
  for (size_t i = 0; i < n; ++i) {
    if (d[i] >= 0x80) return WriteUtf16AsUtf8(s.substr(i), out + i);
    out[i] = static_cast<uint8_t>(d[i]);
  }
  return out + n;
}

// Short strings (most of an edited text's structs hold a few units) in
// one step, without the length-dependent branches of the loop above:
// when the `n` <= 16 units at `d` are all ASCII, writes them as UTF-8 to
// `out` (room for 16 bytes; bytes from n on are garbage) and returns true,
// else returns false having written nothing meaningful. It reads the 32
// bytes at `d`, past the end of the string for n < 16 (the units past n
// are ignored): the caller guarantees they are readable, as every Text16's
// are (kText16ReadSlack, text16.h).
inline bool WriteAsciiUpTo16(const char16_t* d, size_t n, uint8_t* out) {
#ifdef __SSE2__
  const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d));
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + 8));
  const __m128i high = _mm_set1_epi16(static_cast<int16_t>(0xFF80));
  const __m128i zero = _mm_setzero_si128();
  // Two bits per ASCII unit; the first n units' must all be set.
  const uint32_t ascii =
      static_cast<uint32_t>(
          _mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(a, high), zero))) |
      static_cast<uint32_t>(
          _mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(b, high), zero)))
          << 16;
  const uint32_t want = static_cast<uint32_t>((uint64_t{1} << (2 * n)) - 1);
  if ((ascii & want) != want) return false;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(a, b));
  return true;
#else
  (void)d;
  (void)n;
  (void)out;
  return false;
#endif
}

}  // namespace auxsync::crdt::internal

#endif  // AUXSYNC_CRDT_INTERNAL_UTF16_ASCII_H_
