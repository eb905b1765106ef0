#include "auxsync/inst/connection_token.h"

#include <sodium.h>

#include <array>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "auxsync/bots/js_string.h"
#include "auxsync/inst/internal/strings.h"

namespace auxsync::inst {
namespace {

constexpr std::string_view kTokenPrefix = "vCT1.";

int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// TextDecoder('utf-8') without `fatal` (the WHATWG UTF-8 decoder): every
// maximal invalid subsequence becomes one U+FFFD.
std::string DecodeUtf8Lossy(std::string_view bytes) {
  if (bots::IsValidUtf8(bytes)) return std::string(bytes);
  std::string out;
  uint32_t cp = 0;
  int needed = 0;
  int seen = 0;
  unsigned lower = 0x80;
  unsigned upper = 0xBF;
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned b = static_cast<unsigned char>(bytes[i]);
    if (needed == 0) {
      if (b <= 0x7F) {
        out.push_back(static_cast<char>(b));
      } else if (b >= 0xC2 && b <= 0xDF) {
        needed = 1;
        cp = b & 0x1F;
      } else if (b >= 0xE0 && b <= 0xEF) {
        if (b == 0xE0) lower = 0xA0;
        if (b == 0xED) upper = 0x9F;
        needed = 2;
        cp = b & 0xF;
      } else if (b >= 0xF0 && b <= 0xF4) {
        if (b == 0xF0) lower = 0x90;
        if (b == 0xF4) upper = 0x8F;
        needed = 3;
        cp = b & 0x7;
      } else {
        bots::AppendCodePoint(out, 0xFFFD);
      }
      continue;
    }
    if (b < lower || b > upper) {
      cp = 0;
      needed = seen = 0;
      lower = 0x80;
      upper = 0xBF;
      bots::AppendCodePoint(out, 0xFFFD);
      --i;  // the byte starts the next sequence
      continue;
    }
    lower = 0x80;
    upper = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
    if (++seen == needed) {
      bots::AppendCodePoint(out, cp);
      cp = 0;
      needed = seen = 0;
    }
  }
  if (needed != 0) bots::AppendCodePoint(out, 0xFFFD);
  return out;
}

absl::StatusOr<std::string> DecodePart(std::string_view part,
                                       std::string_view name) {
  absl::StatusOr<std::string> bytes = Base64Decode(part);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(internal::Cat(
        "connection token: ", name, ": ", bytes.status().message()));
  }
  return DecodeUtf8Lossy(*bytes);
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  return absl::Base64Escape(internal::Sv(bytes));
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  // base64-js works on UTF-16 code units: lengths count them, and a unit
  // outside the alphabets (also any non-ASCII one) reads as zero bits.
  std::u16string units = bots::ToUtf16(text);
  const size_t len = units.size();
  if (len % 4 != 0) {
    return absl::InvalidArgumentError(
        "Invalid string. Length must be a multiple of 4");
  }
  size_t valid_len = units.find(u'=');
  if (valid_len == std::u16string::npos) valid_len = len;
  const size_t placeholders = valid_len == len ? 0 : 4 - (valid_len % 4);
  auto digit = [&](size_t i) -> uint32_t {
    if (i >= len || units[i] > 0x7F) return 0;
    int d = Base64Digit(static_cast<char>(units[i]));
    return d < 0 ? 0 : static_cast<uint32_t>(d);
  };
  std::string out;
  out.reserve((valid_len + placeholders) * 3 / 4);
  const int64_t full = placeholders > 0 ? static_cast<int64_t>(valid_len) - 4
                                        : static_cast<int64_t>(valid_len);
  size_t i = 0;
  for (; static_cast<int64_t>(i) < full; i += 4) {
    uint32_t n = (digit(i) << 18) | (digit(i + 1) << 12) | (digit(i + 2) << 6) |
                 digit(i + 3);
    out.push_back(static_cast<char>((n >> 16) & 0xFF));
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>(n & 0xFF));
  }
  if (placeholders == 2) {
    uint32_t n = (digit(i) << 2) | (digit(i + 1) >> 4);
    out.push_back(static_cast<char>(n & 0xFF));
  } else if (placeholders == 1) {
    uint32_t n = (digit(i) << 10) | (digit(i + 1) << 4) | (digit(i + 2) >> 2);
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>(n & 0xFF));
  }
  // base64-js sizes its array as (validLen + placeholders) * 3 / 4 -
  // placeholders and leaves unwritten bytes zero; a negative size (a string
  // starting with "=") makes it throw.
  const int64_t size =
      static_cast<int64_t>((valid_len + placeholders) * 3 / 4) -
      static_cast<int64_t>(placeholders);
  if (size < 0) return absl::InvalidArgumentError("Invalid typed array length");
  out.resize(static_cast<size_t>(size), '\0');
  return out;
}

absl::StatusOr<ConnectionToken> ParseConnectionToken(std::string_view token) {
  if (!token.starts_with(kTokenPrefix)) {
    return absl::InvalidArgumentError(
        "connection token: expected the prefix vCT1.");
  }
  // base64 never contains '.', so the last part (the hash) simply takes the
  // rest, as in aux-common.
  std::vector<absl::string_view> split = absl::StrSplit(
      internal::Sv(token.substr(kTokenPrefix.size())), absl::MaxSplits('.', 5));
  std::vector<std::string_view> parts;
  for (absl::string_view p : split) parts.emplace_back(p.data(), p.size());
  if (parts.size() != 6) {
    return absl::InvalidArgumentError(internal::Cat(
        "connection token: expected 6 parts, found ", parts.size()));
  }
  static constexpr std::array<std::string_view, 6> kNames = {
      "userId", "sessionId", "connectionId", "recordName", "inst", "hash"};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i != 3 && parts[i].empty()) {
      return absl::InvalidArgumentError(
          internal::Cat("connection token: ", kNames[i], " is empty"));
    }
  }
  ConnectionToken t;
  absl::StatusOr<std::string> s;
  std::string* fields[] = {&t.user_id, &t.session_id, &t.connection_id,
                           nullptr,    &t.inst,       &t.hash_hex};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i == 3) continue;
    s = DecodePart(parts[i], kNames[i]);
    if (!s.ok()) return s.status();
    *fields[i] = *std::move(s);
  }
  if (!parts[3].empty()) {
    s = DecodePart(parts[3], kNames[3]);
    if (!s.ok()) return s.status();
    t.record_name = *std::move(s);
  }
  return t;
}

std::string FormatConnectionToken(const ConnectionToken& t) {
  return internal::Cat(kTokenPrefix, Base64Encode(t.user_id), ".",
                       Base64Encode(t.session_id), ".",
                       Base64Encode(t.connection_id), ".",
                       Base64Encode(t.record_name.value_or("")), ".",
                       Base64Encode(t.inst), ".", Base64Encode(t.hash_hex));
}

absl::StatusOr<std::string> ConnectionTokenHmacHex(
    std::string_view connection_secret, std::string_view connection_id,
    const RecordName& record_name, std::string_view inst) {
  absl::StatusOr<std::string> key = Base64Decode(connection_secret);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        internal::Cat("connection secret: ", key.status().message()));
  }
  if (sodium_init() < 0) return absl::InternalError("libsodium init failed");
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(
      &state, reinterpret_cast<const unsigned char*>(key->data()), key->size());
  auto update = [&](std::string_view s) {
    crypto_auth_hmacsha256_update(
        &state, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  update(connection_id);
  if (record_name) update(*record_name);
  update(inst);
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> digest;
  crypto_auth_hmacsha256_final(&state, digest.data());
  std::string hex(digest.size() * 2, '\0');
  sodium_bin2hex(hex.data(), hex.size() + 1, digest.data(), digest.size());
  return hex;
}

absl::StatusOr<ConnectionToken> MakeConnectionToken(
    std::string_view user_id, std::string_view session_id,
    std::string_view connection_secret, std::string_view connection_id,
    const RecordName& record_name, std::string_view inst) {
  absl::StatusOr<std::string> hash = ConnectionTokenHmacHex(
      connection_secret, connection_id, record_name, inst);
  if (!hash.ok()) return hash.status();
  return ConnectionToken{std::string(user_id),       std::string(session_id),
                         std::string(connection_id), record_name,
                         std::string(inst),          *std::move(hash)};
}

bool VerifyConnectionToken(const ConnectionToken& token,
                           std::string_view connection_secret) {
  absl::StatusOr<std::string> expected = ConnectionTokenHmacHex(
      connection_secret, token.connection_id, token.record_name, token.inst);
  if (!expected.ok() || expected->size() != token.hash_hex.size()) {
    return false;
  }
  return sodium_memcmp(expected->data(), token.hash_hex.data(),
                       expected->size()) == 0;
}

std::string FormatConnectionKey(std::string_view user_id,
                                std::string_view session_id,
                                std::string_view connection_secret,
                                std::string_view expire_time_ms) {
  return internal::Cat(
      "vCK1.", Base64Encode(user_id), ".", Base64Encode(session_id), ".",
      Base64Encode(connection_secret), ".", Base64Encode(expire_time_ms));
}

}  // namespace auxsync::inst
