// String helpers for auxsync/inst. Debian's Abseil has its own
// absl::string_view, which absl::StrCat does not accept std::string_view
// for; Cat takes both. Private to auxsync/inst.

#ifndef AUXSYNC_INST_INTERNAL_STRINGS_H_
#define AUXSYNC_INST_INTERNAL_STRINGS_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace auxsync::inst::internal {

inline absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

inline void AppendPiece(std::string& out, const char* s) { out += s; }
inline void AppendPiece(std::string& out, const std::string& s) { out += s; }
inline void AppendPiece(std::string& out, std::string_view s) { out += s; }
inline void AppendPiece(std::string& out, absl::string_view s) {
  out.append(s.data(), s.size());
}
template <typename T>
requires std::is_integral_v<T>
void AppendPiece(std::string& out, T v) { out += std::to_string(v); }

// Concatenates strings (any view type) and integers.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (AppendPiece(out, args), ...);
  return out;
}

}  // namespace auxsync::inst::internal

#endif  // AUXSYNC_INST_INTERNAL_STRINGS_H_
