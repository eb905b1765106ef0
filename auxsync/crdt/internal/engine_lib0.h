// Minimal lib0 byte primitives used by the document engine to write and read
// v1 structs. Kept private to the engine so that it builds on its own; the
// codec layer (lib0_encoder.h / lib0_decoder.h) is the public equivalent.
#ifndef AUXSYNC_CRDT_INTERNAL_ENGINE_LIB0_H_
#define AUXSYNC_CRDT_INTERNAL_ENGINE_LIB0_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace auxsync::crdt::engine {

inline constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

// Appends lib0-encoded values to a growing byte buffer. Not thread-safe.
class Writer {
 public:
  void U8(uint8_t b) { buf_.push_back(b); }
  void VarUint(uint64_t n) {
    while (n > 127) {
      buf_.push_back(static_cast<uint8_t>(0x80 | (n & 0x7f)));
      n >>= 7;
    }
    buf_.push_back(static_cast<uint8_t>(n));
  }
  // Sign-magnitude varInt; `negative` allows writing -0.
  void VarIntSM(uint64_t mag, bool negative) {
    uint8_t b = static_cast<uint8_t>((mag > 63 ? 0x80 : 0) |
                                     (negative ? 0x40 : 0) | (mag & 0x3f));
    buf_.push_back(b);
    mag >>= 6;
    while (mag > 0) {
      buf_.push_back(
          static_cast<uint8_t>((mag > 127 ? 0x80 : 0) | (mag & 0x7f)));
      mag >>= 7;
    }
  }
  void VarInt(int64_t v) {
    VarIntSM(v < 0 ? static_cast<uint64_t>(-v) : static_cast<uint64_t>(v),
             v < 0);
  }
  void Bytes(std::span<const uint8_t> b) {
    buf_.insert(buf_.end(), b.begin(), b.end());
  }
  void Raw(std::string_view s) { buf_.insert(buf_.end(), s.begin(), s.end()); }
  void VarBytes(std::string_view s) {
    VarUint(s.size());
    Raw(s);
  }
  // Writes a UTF-8 string (already valid UTF-8) with its byte length.
  void VarString(std::string_view utf8) { VarBytes(utf8); }
  void BigEndian(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i)
      buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t>& buf() { return buf_; }
  std::vector<uint8_t> Take() { return std::move(buf_); }

 private:
  std::vector<uint8_t> buf_;
};

// Reads lib0 values from borrowed bytes. Every read checks bounds; the first
// failure sets `failed()` and later reads return zeros.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b)
      : p_(b.data()), end_(b.data() + b.size()), begin_(b.data()) {}
  bool failed() const { return failed_; }
  bool AtEnd() const { return p_ >= end_; }
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  void Fail() {
    failed_ = true;
    p_ = end_;
  }
  uint8_t U8() {
    if (p_ >= end_) {
      Fail();
      return 0;
    }
    return *p_++;
  }
  uint64_t VarUint() {
    uint64_t n = 0;
    for (int shift = 0;; shift += 7) {
      if (p_ >= end_ || shift > 49) {
        Fail();
        return 0;
      }
      uint8_t b = *p_++;
      n |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (n > kMaxSafeInteger) {
        Fail();
        return 0;
      }
      if (b < 0x80) return n;
    }
  }
  // Returns the magnitude of a sign-magnitude varInt; sets *negative.
  uint64_t VarIntSM(bool* negative) {
    if (p_ >= end_) {
      Fail();
      return 0;
    }
    uint8_t b = *p_++;
    *negative = (b & 0x40) != 0;
    uint64_t n = b & 0x3f;
    for (int shift = 6; b & 0x80; shift += 7) {
      if (p_ >= end_ || shift > 48) {
        Fail();
        return 0;
      }
      b = *p_++;
      n |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (n > kMaxSafeInteger) {
        Fail();
        return 0;
      }
    }
    return n;
  }
  std::string_view RawView(uint64_t n) {
    if (n > remaining()) {
      Fail();
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  std::string_view VarBytes() { return RawView(VarUint()); }
  uint64_t BigEndian(int n) {
    if (remaining() < static_cast<size_t>(n)) {
      Fail();
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | *p_++;
    return v;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
  bool failed_ = false;
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
