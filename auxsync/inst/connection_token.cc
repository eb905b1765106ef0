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

// TextDecoder('utf-8') without `fatal`: every maximal invalid subsequence
// becomes U+FFFD (approximated per byte for truncated sequences).
std::string DecodeUtf8Lossy(std::string_view bytes) {
  if (bots::IsValidUtf8(bytes)) return std::string(bytes);
  std::string out;
  size_t i = 0;
  while (i < bytes.size()) {
    unsigned char c = bytes[i];
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len != 0 && i + len <= bytes.size() &&
        bots::IsValidUtf8(bytes.substr(i, len))) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
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
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        "invalid base64: length must be a multiple of 4");
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t n = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      int d = 0;
      if (c == '=' && i + j >= text.size() - padding) {
        d = 0;
      } else {
        d = Base64Digit(c);
        if (d < 0) {
          return absl::InvalidArgumentError(
              internal::Cat("invalid base64: character at offset ", i + j));
        }
      }
      n = (n << 6) | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<char>((n >> 16) & 0xFF));
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>(n & 0xFF));
  }
  out.resize(out.size() - padding);
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
