// The lib0 byte writer of the document engine and its UTF-16 helpers. The
// engine writes with the codec's Lib0Encoder (one encoder, one Any); reading
// goes through the codec's decoders only (see update_read.cc).
#ifndef AUXSYNC_CRDT_INTERNAL_ENGINE_LIB0_H_
#define AUXSYNC_CRDT_INTERNAL_ENGINE_LIB0_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auxsync/crdt/id.h"
#include "auxsync/crdt/internal/lib0_encoder.h"

namespace auxsync::crdt::engine {

// Appends lib0-encoded values to a growing byte buffer: the codec's encoder
// under the short names the engine's writers use. Not thread-safe.
class Writer : public internal::Lib0Encoder {
 public:
  void U8(uint8_t b) { WriteUint8(b); }
  void VarUint(uint64_t n) { WriteVarUint(n); }
  // Sign-magnitude varInt; `negative` allows writing -0.
  void VarIntSM(uint64_t mag, bool negative) {
    WriteVarIntSignMagnitude(negative, mag);
  }
  void VarInt(int64_t v) { WriteVarInt(v); }
  void Bytes(std::span<const uint8_t> b) { WriteRaw(b); }
  void Raw(std::string_view s) { WriteRaw(s); }
  void VarBytes(std::string_view s) {
    VarUint(s.size());
    Raw(s);
  }
  // Writes a UTF-8 string (already valid UTF-8) with its byte length.
  void VarString(std::string_view utf8) { VarBytes(utf8); }
};

// UTF-16 -> UTF-8 as TextEncoder does it (lone surrogates become U+FFFD).
void AppendUtf8(std::u16string_view s, std::string* out);
inline std::string ToUtf8(std::u16string_view s) {
  std::string out;
  AppendUtf8(s, &out);
  return out;
}
// UTF-8 -> UTF-16 as a non-fatal TextDecoder does it (bad bytes -> U+FFFD).
void AppendUtf16(std::string_view s, std::u16string* out);
inline std::u16string ToUtf16(std::string_view s) {
  std::u16string out;
  AppendUtf16(s, &out);
  return out;
}

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_ENGINE_LIB0_H_
