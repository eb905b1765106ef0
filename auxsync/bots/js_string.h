// JavaScript string helpers: positions and lengths in UTF-16 code units.
//
// Strings are stored as WTF-8 (UTF-8 that may also encode unpaired
// surrogates, which JavaScript strings can hold). Tag edits count in UTF-16
// code units, as JavaScript and Yjs do.

#ifndef AUXSYNC_BOTS_JS_STRING_H_
#define AUXSYNC_BOTS_JS_STRING_H_

#include <string>
#include <string_view>

namespace auxsync::bots {

// Number of UTF-16 code units of a WTF-8 string (JavaScript `s.length`).
size_t Utf16Length(std::string_view wtf8);

// WTF-8 <-> UTF-16 conversions. The input must be well-formed WTF-8 (our
// parsers guarantee it); a malformed byte is taken as U+FFFD.
std::u16string ToUtf16(std::string_view wtf8);
std::string FromUtf16(std::u16string_view utf16);

// Appends code point `cp` (0..0x10FFFF, surrogates allowed) as WTF-8.
void AppendCodePoint(std::string& out, uint32_t cp);

// Whether `bytes` is well-formed UTF-8 (surrogate code points rejected).
bool IsValidUtf8(std::string_view bytes);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_JS_STRING_H_
