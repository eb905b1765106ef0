// RFC 6455 framing for the server side of `auxsync serve`'s websocket
// transport: the reader of a client's frames (masked, possibly fragmented,
// control frames between fragments) and the header of the server's own
// frames (never masked, never fragmented). No I/O: websocket_server.cc feeds
// the bytes it reads and writes the bytes this produces.
//
// Threading: a WsFrameReader belongs to one socket; not thread-safe.

#ifndef AUXSYNC_SERVER_INTERNAL_WEBSOCKET_FRAME_H_
#define AUXSYNC_SERVER_INTERNAL_WEBSOCKET_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace auxsync::server::internal {

enum class WsOpcode : uint8_t {
  kContinuation = 0,
  kText = 1,
  kBinary = 2,
  kClose = 8,
  kPing = 9,
  kPong = 10,
};

// Close codes the server sends (RFC 6455 7.4.1).
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseProtocolError = 1002;
inline constexpr uint16_t kWsCloseBadPayload = 1007;  // bad UTF-8
inline constexpr uint16_t kWsCloseTooBig = 1009;

// The longest frame header a server writes (2 + 8 length bytes).
inline constexpr size_t kWsMaxServerHeader = 10;

// Writes the header of one unmasked, final server frame carrying
// `payload_size` bytes with `opcode` to `out`; returns its length (2..10).
size_t EncodeWsFrameHeader(WsOpcode opcode, uint64_t payload_size,
                           char out[kWsMaxServerHeader]);

// A whole unmasked server frame (header + payload).
std::string EncodeWsFrame(WsOpcode opcode, std::string_view payload);

// The payload of a close frame: the code in network order, then `reason`.
std::string WsClosePayload(uint16_t code, std::string_view reason = {});

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// What the reader hands on; the views are valid during the call only.
class WsFrameHandler {
 public:
  virtual ~WsFrameHandler() = default;
  // One complete message (all its fragments joined). Text messages are
  // valid UTF-8.
  virtual void OnWsMessage(bool text, std::string_view payload) = 0;
  virtual void OnWsPing(std::string_view payload) = 0;
  virtual void OnWsPong() = 0;
};

// Reads the frames of one client. Enforces what a server must: every frame
// masked, no reserved bits (no extension is negotiated), known opcodes,
// control frames final and at most 125 bytes, continuations only inside a
// fragmented message, minimal length encodings, messages at most
// `max_message_bytes`, valid UTF-8 in text messages and close reasons,
// valid close codes.
class WsFrameReader {
 public:
  struct Result {
    enum class Kind : uint8_t {
      kNeedMore,  // every complete frame handled; waiting for more bytes
      kClosed,    // the client sent a close frame (`code`, 1005 if none)
      kFailed,    // the client broke the protocol: close with `code`
    };
    Kind kind = Kind::kNeedMore;
    uint16_t code = 0;
  };

  // Handles every complete frame of the bytes received so far plus `data`
  // (which it may modify: payloads are unmasked in place) and keeps the
  // incomplete rest. Messages above `max_message_bytes` fail with 1009.
  // After kClosed or kFailed nothing more may be fed.
  Result Feed(char* data, size_t size, size_t max_message_bytes,
              WsFrameHandler& handler);

  // Bytes held between calls (an incomplete frame, a fragmented message's
  // parts); 0 (and no allocation) for an idle socket.
  size_t buffered_bytes() const {
    return held_ ? held_->partial.size() + held_->message.size() : 0;
  }

 private:
  // Handles the complete frames at the front of [data, data + size);
  // `*used` gets the bytes consumed, `*incomplete_frame` the size of the
  // incomplete frame after them once its header is known.
  Result Parse(char* data, size_t size, size_t max_message_bytes, size_t* used,
               size_t* incomplete_frame, WsFrameHandler& handler);
  // Frees held_ when it holds nothing.
  void ReleaseIfEmpty();

  // The opcode of the fragmented message in progress; kContinuation = none.
  WsOpcode message_opcode() const {
    return held_ ? held_->message_opcode : WsOpcode::kContinuation;
  }

  struct Held {
    std::string partial;  // an incomplete frame
    std::string message;  // the parts of a fragmented message so far
    WsOpcode message_opcode = WsOpcode::kContinuation;
  };
  // Exists only while a frame or message is incomplete: idle sockets are
  // many, so the reader is one pointer.
  std::unique_ptr<Held> held_;
};

}  // namespace auxsync::server::internal

#endif  // AUXSYNC_SERVER_INTERNAL_WEBSOCKET_FRAME_H_
