#include "auxsync/server/internal/websocket_frame.h"

#include <cstring>

namespace auxsync::server::internal {
namespace {

using Result = WsFrameReader::Result;

Result Fail(uint16_t code) { return {Result::Kind::kFailed, code}; }

// RFC 6455 7.4: codes a peer may send in a close frame.
bool IsValidCloseCode(uint16_t code) {
  if (code < 1000) return false;
  if (code >= 1004 && code <= 1006) return false;  // reserved, never sent
  if (code >= 1014 && code <= 2999) return false;  // reserved for the RFC
  return true;
}

}  // namespace

size_t EncodeWsFrameHeader(WsOpcode opcode, uint64_t payload_size,
                           char out[kWsMaxServerHeader]) {
  out[0] = static_cast<char>(0x80 | static_cast<uint8_t>(opcode));
  if (payload_size < 126) {
    out[1] = static_cast<char>(payload_size);
    return 2;
  }
  if (payload_size <= 0xffff) {
    out[1] = 126;
    out[2] = static_cast<char>(payload_size >> 8);
    out[3] = static_cast<char>(payload_size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) {
    out[2 + i] = static_cast<char>(payload_size >> (56 - 8 * i));
  }
  return 10;
}

std::string EncodeWsFrame(WsOpcode opcode, std::string_view payload) {
  char header[kWsMaxServerHeader];
  size_t n = EncodeWsFrameHeader(opcode, payload.size(), header);
  std::string frame;
  frame.reserve(n + payload.size());
  frame.append(header, n);
  frame.append(payload);
  return frame;
}

std::string WsClosePayload(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xff));
  payload.append(reason);
  return payload;
}

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  while (p < end) {
    // ASCII runs are the common case: skip 8 bytes at a time.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if (word & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p == end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t length;
    unsigned char low = 0x80, high = 0xbf;  // allowed second byte
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c == 0xe0) low = 0xa0;   // overlong
      if (c == 0xed) high = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c == 0xf0) low = 0x90;   // overlong
      if (c == 0xf4) high = 0x8f;  // above U+10FFFF
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < length) return false;
    if (p[1] < low || p[1] > high) return false;
    for (size_t i = 2; i < length; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
    }
    p += length;
  }
  return true;
}

WsFrameReader::Result WsFrameReader::Feed(char* data, size_t size,
                                          size_t max_message_bytes,
                                          WsFrameHandler& handler) {
  size_t used = 0;
  size_t incomplete_frame = 0;
  Result result;
  if (!held_ || held_->partial.empty()) {
    result =
        Parse(data, size, max_message_bytes, &used, &incomplete_frame, handler);
    if (result.kind == Result::Kind::kNeedMore && used < size) {
      if (!held_) held_ = std::make_unique<Held>();
      held_->partial.assign(data + used, size - used);
    }
  } else {
    std::string& partial = held_->partial;
    partial.append(data, size);
    result = Parse(partial.data(), partial.size(), max_message_bytes, &used,
                   &incomplete_frame, handler);
    if (used == partial.size()) {
      std::string().swap(partial);
    } else {
      partial.erase(0, used);
    }
  }
  // Room for the whole incomplete frame at once rather than growing in
  // steps (its size was checked against the limit).
  if (held_ && incomplete_frame > held_->partial.capacity()) {
    held_->partial.reserve(incomplete_frame);
  }
  ReleaseIfEmpty();
  return result;
}

void WsFrameReader::ReleaseIfEmpty() {
  if (held_ && held_->partial.empty() && held_->message.empty() &&
      held_->message_opcode == WsOpcode::kContinuation) {
    held_.reset();
  }
}

WsFrameReader::Result WsFrameReader::Parse(char* data, size_t size,
                                           size_t max_message_bytes,
                                           size_t* used,
                                           size_t* incomplete_frame,
                                           WsFrameHandler& handler) {
  size_t pos = 0;
  while (size - pos >= 2) {
    const auto* p = reinterpret_cast<unsigned char*>(data + pos);
    const size_t available = size - pos;
    const bool fin = p[0] & 0x80;
    const auto opcode = static_cast<WsOpcode>(p[0] & 0x0f);
    const bool control = (p[0] & 0x08) != 0;
    const bool masked = p[1] & 0x80;
    const uint8_t length7 = p[1] & 0x7f;
    // No extension is negotiated, so the reserved bits must be clear; a
    // client must mask every frame (RFC 6455 5.1).
    if ((p[0] & 0x70) != 0 || !masked) return Fail(kWsCloseProtocolError);
    switch (opcode) {
      case WsOpcode::kContinuation:
        if (message_opcode() == WsOpcode::kContinuation) {
          return Fail(kWsCloseProtocolError);  // nothing to continue
        }
        break;
      case WsOpcode::kText:
      case WsOpcode::kBinary:
        if (message_opcode() != WsOpcode::kContinuation) {
          return Fail(kWsCloseProtocolError);  // the last one is unfinished
        }
        break;
      case WsOpcode::kClose:
      case WsOpcode::kPing:
      case WsOpcode::kPong:
        if (!fin || length7 > 125) return Fail(kWsCloseProtocolError);
        break;
      default:
        return Fail(kWsCloseProtocolError);  // reserved opcode
    }
    size_t header = 2 + 4;
    if (length7 == 126) header += 2;
    if (length7 == 127) header += 8;
    if (available < header) break;
    uint64_t length = length7;
    if (length7 == 126) {
      length = (uint64_t{p[2]} << 8) | p[3];
      if (length < 126) return Fail(kWsCloseProtocolError);  // not minimal
    } else if (length7 == 127) {
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
      if (length >> 63) return Fail(kWsCloseProtocolError);
      if (length <= 0xffff) return Fail(kWsCloseProtocolError);  // not minimal
    }
    const size_t before = held_ ? held_->message.size() : 0;
    if (!control &&
        (length > max_message_bytes || before > max_message_bytes - length)) {
      return Fail(kWsCloseTooBig);  // before reading any of it
    }
    if (available - header < length) {
      *incomplete_frame = header + length;
      break;
    }
    const unsigned char* mask = p + header - 4;
    char* payload = data + pos + header;
    for (uint64_t i = 0; i < length; ++i) payload[i] ^= mask[i & 3];
    std::string_view body(payload, length);
    pos += header + length;

    if (control) {
      if (opcode == WsOpcode::kPing) {
        handler.OnWsPing(body);
      } else if (opcode == WsOpcode::kPong) {
        handler.OnWsPong();
      } else {  // close
        *used = pos;
        if (length == 0) return {Result::Kind::kClosed, 1005};
        if (length == 1) return Fail(kWsCloseProtocolError);
        const auto* b = reinterpret_cast<const unsigned char*>(payload);
        uint16_t code = static_cast<uint16_t>((b[0] << 8) | b[1]);
        if (!IsValidCloseCode(code)) return Fail(kWsCloseProtocolError);
        if (!IsValidUtf8(body.substr(2))) return Fail(kWsCloseBadPayload);
        return {Result::Kind::kClosed, code};
      }
      continue;
    }
    if (fin && opcode != WsOpcode::kContinuation) {
      // A whole message in one frame: hand it on without copying.
      bool text = opcode == WsOpcode::kText;
      if (text && !IsValidUtf8(body)) return Fail(kWsCloseBadPayload);
      handler.OnWsMessage(text, body);
      continue;
    }
    // (`data` may be held_->partial's buffer: creating held_ here cannot
    // move it, since held_ exists whenever partial is not empty.)
    if (!held_) held_ = std::make_unique<Held>();
    if (opcode != WsOpcode::kContinuation) held_->message_opcode = opcode;
    held_->message.append(body);
    if (fin) {
      bool text = held_->message_opcode == WsOpcode::kText;
      held_->message_opcode = WsOpcode::kContinuation;
      std::string message;
      message.swap(held_->message);  // an idle socket keeps no buffer
      if (text && !IsValidUtf8(message)) return Fail(kWsCloseBadPayload);
      handler.OnWsMessage(text, message);
    }
  }
  *used = pos;
  return {};
}

}  // namespace auxsync::server::internal
