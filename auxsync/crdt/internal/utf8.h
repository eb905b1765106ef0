// Copyright 2025 The auxsync Authors.
//
// UTF-8 helpers for the codecs: validation as WHATWG's fatal TextDecoder
// does it, and UTF-16 lengths, which count Yjs clocks.

#ifndef AUXSYNC_CRDT_INTERNAL_UTF8_H_
#define AUXSYNC_CRDT_INTERNAL_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace auxsync::crdt::internal {

// True if `s` is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
// When valid and `utf16_len` is set, stores the UTF-16 length.
bool ValidateUtf8(std::string_view s, uint64_t* utf16_len);

// UTF-16 length of valid UTF-8 text.
uint64_t Utf16Length(std::string_view utf8);

// The UTF-8 form of what JS's `str.slice(utf16_offset)` then TextEncoder
// would give for valid UTF-8 `utf8`: if the offset falls between the two
// halves of a surrogate pair, the orphaned low half becomes U+FFFD. Appends
// to `out`. `utf16_offset` must be <= Utf16Length(utf8).
void AppendUtf16Suffix(std::string_view utf8, uint64_t utf16_offset,
                       std::string* out);

// Byte offset of UTF-16 position `utf16_offset` in valid UTF-8 `utf8`, and
// whether that position splits a surrogate pair (then the offset is that of
// the 4-byte sequence being split). Requires utf16_offset <= length.
size_t Utf8OffsetOfUtf16(std::string_view utf8, uint64_t utf16_offset,
                         bool* splits_pair);

// Appends the UTF-8 encoding of code point `cp` (< 0x110000, not a
// surrogate).
void AppendCodePoint(uint32_t cp, std::string* out);

// ---- UTF-16 (the document engine's text) ---------------------------------

// Bytes of the UTF-8 form of UTF-16 `s` as TextEncoder writes it (a lone
// surrogate becomes U+FFFD).
size_t Utf8LengthOfUtf16(std::u16string_view s);

// Writes that form to `out`, which has room for Utf8LengthOfUtf16(s) bytes;
// returns the end of what it wrote.
uint8_t* WriteUtf16AsUtf8(std::u16string_view s, uint8_t* out);

// The same for a short string (inline ASCII loop; the rest as above).
inline uint8_t* WriteUtf16AsUtf8Short(std::u16string_view s, uint8_t* out) {
  if (s.size() > 8) return WriteUtf16AsUtf8(s, out);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] >= 0x80) return WriteUtf16AsUtf8(s.substr(i), out);
    *out++ = static_cast<uint8_t>(s[i]);
  }
  return out;
}

// Appends the UTF-16 form of valid UTF-8 `utf8` (ValidateUtf8 accepted it)
// to `out`.
void AppendValidUtf8AsUtf16(std::string_view utf8, std::u16string* out);

// Writes the UTF-16 form of valid UTF-8 `utf8` whose UTF-16 length
// ValidateUtf8 gave as `utf16_len` to `out` (room for utf16_len units):
// ASCII text (as long as its bytes) is widened without looking for
// multi-byte sequences.
void WriteValidUtf8AsUtf16(std::string_view utf8, uint64_t utf16_len,
                           char16_t* out);

// Writes the bytes of `s` as UTF-16 units to `out` (room for s.size()
// units) and returns true when they are all ASCII (then that is its UTF-16
// form); else what it wrote means nothing. One pass for both.
bool WidenIfAscii(std::string_view s, char16_t* out);

// WidenIfAscii in whole steps of 16: reads RoundUp16(n) bytes from `p` and
// writes RoundUp16(n) units to `out` (both must have that room); the units
// past n mean nothing. One loop exit per string, whatever its length (a
// decoded document's strings have lengths at random).
bool WidenIfAsciiInSteps(const unsigned char* p, size_t n, char16_t* out);

// Sets `*out` to the UTF-16 form of valid UTF-8 `utf8` whose UTF-16 length
// ValidateUtf8 gave as `utf16_len`: ASCII text (as long as its bytes) is
// widened without looking for multi-byte sequences.
void AssignValidUtf8AsUtf16(std::string_view utf8, uint64_t utf16_len,
                            std::u16string* out);

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

}  // namespace auxsync::crdt::internal

#endif  // AUXSYNC_CRDT_INTERNAL_UTF8_H_
