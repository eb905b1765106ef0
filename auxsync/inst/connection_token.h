// vCT1 connection tokens (spec/inst-protocol.md 3.2, 3.3): what a client
// sends in `login` to prove a session for one (recordName, inst) pair.
//
//   vCT1.<b64 userId>.<b64 sessionId>.<b64 connectionId>.<b64 recordName or
//   empty>.<b64 inst>.<b64 hashHex>
//
// hashHex is the lowercase hex HMAC-SHA256, keyed with the base64-decoded
// connection secret of the session, of connectionId ‖ recordName ‖ inst
// (UTF-8, no separators; nothing for a null recordName). Each part is
// standard base64 of the UTF-8 text, as aux-common writes it.

#ifndef AUXSYNC_INST_CONNECTION_TOKEN_H_
#define AUXSYNC_INST_CONNECTION_TOKEN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auxsync/inst/messages.h"

namespace auxsync::inst {

struct ConnectionToken {
  std::string user_id;
  std::string session_id;
  std::string connection_id;
  RecordName record_name;  // nullopt = public inst (empty part)
  std::string inst;
  std::string hash_hex;  // as carried; compare with VerifyConnectionToken
  friend bool operator==(const ConnectionToken&,
                         const ConnectionToken&) = default;
};

// Parses a token as aux-common's parseV1ConnectionToken does: the "vCT1."
// prefix, six dot-separated base64 parts, userId/sessionId/connectionId/
// inst/hash non-empty, an empty record part meaning null. Errors
// (kInvalidArgument) name the part. Invalid UTF-8 inside a part decodes to
// U+FFFD as JavaScript's TextDecoder does.
absl::StatusOr<ConnectionToken> ParseConnectionToken(std::string_view token);

// The token text of `token` (its hash_hex is written as given).
std::string FormatConnectionToken(const ConnectionToken& token);

// The lowercase hex HMAC-SHA256 of connectionId ‖ recordName ‖ inst keyed by
// the bytes of `connection_secret` (base64). Fails only when the secret is
// not base64.
absl::StatusOr<std::string> ConnectionTokenHmacHex(
    std::string_view connection_secret, std::string_view connection_id,
    const RecordName& record_name, std::string_view inst);

// A complete token for a session (what a client derives from its connection
// key).
absl::StatusOr<ConnectionToken> MakeConnectionToken(
    std::string_view user_id, std::string_view session_id,
    std::string_view connection_secret, std::string_view connection_id,
    const RecordName& record_name, std::string_view inst);

// True when the token's hash is the HMAC of its own fields under
// `connection_secret` (compared in constant time). False for a malformed
// secret.
bool VerifyConnectionToken(const ConnectionToken& token,
                           std::string_view connection_secret);

// vCK1.<b64 userId>.<b64 sessionId>.<b64 connectionSecret>.<b64 expiry>:
// the connection key the records API hands to a signed-in user (3.2).
// `expire_time_ms` is the decimal text or "Infinity".
std::string FormatConnectionKey(std::string_view user_id,
                                std::string_view session_id,
                                std::string_view connection_secret,
                                std::string_view expire_time_ms);

// Standard base64 with padding, as aux-common's toBase64String writes it.
std::string Base64Encode(std::string_view bytes);
// base64-js's toByteArray, quirks included: the length (in UTF-16 code
// units) must be a multiple of 4, the standard and URL-safe alphabets are
// both read, a foreign character reads as zero bits, and everything from the
// first '=' on is padding. Fails only on the length.
absl::StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace auxsync::inst

#endif  // AUXSYNC_INST_CONNECTION_TOKEN_H_
