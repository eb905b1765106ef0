// The event framing of the inst protocol (spec/inst-protocol.md 2.2, 2.3,
// 2.5): every websocket text frame is one JSON array [type, id, ...]:
//   [1, id, message]                 Message
//   [2, id]                          UploadRequest   (AWS flavour)
//   [3, id, url, method, headers]    UploadResponse  (AWS flavour)
//   [4, id, url, method, headers]    DownloadRequest (AWS flavour)
//   [5, id, errorInfo]               Error (id null for envelope errors)
// Ids do not correlate requests with responses (responses are matched by
// content); clients number their frames from 1, servers send -1.

#ifndef AUXSYNC_INST_FRAME_H_
#define AUXSYNC_INST_FRAME_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"
#include "auxsync/inst/message_codec.h"
#include "auxsync/inst/messages.h"

namespace auxsync::inst {

// The id the Node server puts on every frame it sends.
inline constexpr double kServerFrameId = -1;

// The object of an Error event: {success:false, errorCode, errorMessage,
// ...}. Kept as the ordered JSON object so that every field (recordName/
// inst/branch of branch errors, reason, issues, policy extras) passes
// through in its order; the accessors read the typed fields.
struct ErrorInfo {
  bots::Value fields;  // a JSON object

  std::string_view error_code() const;
  std::string_view error_message() const;
  // The branch the error is about, when it carries recordName, inst and
  // branch (the client attributes errors to partitions by these).
  std::optional<BranchNamespace> branch() const;
  const bots::Value& reason() const { return fields["reason"]; }
};

// {"success":false,"errorCode","errorMessage"} - the order of the
// server's own errors.
ErrorInfo MakeErrorInfo(std::string_view error_code,
                        std::string_view error_message);
// The same followed by recordName, inst, branch (and `reason` when not
// undefined): the server's branch errors.
ErrorInfo MakeBranchErrorInfo(std::string_view error_code,
                              std::string_view error_message,
                              const BranchNamespace& ns,
                              bots::Value reason = bots::Value());

struct MessageEvent {
  double id = kServerFrameId;
  Message message;
};
struct UploadRequestEvent {
  double id = 0;
};
// UploadResponse (3) and DownloadRequest (4) share their shape.
struct TransferEvent {
  double id = 0;
  std::string url;
  std::string method;
  std::vector<std::pair<std::string, std::string>> headers;
};
struct UploadResponseEvent : TransferEvent {};
struct DownloadRequestEvent : TransferEvent {};
struct ErrorEvent {
  std::optional<double> id;  // nullopt = null (envelope errors)
  ErrorInfo info;
};

using Event =
    std::variant<MessageEvent, UploadRequestEvent, UploadResponseEvent,
                 DownloadRequestEvent, ErrorEvent>;

// Bounds applied to untrusted frames before and while parsing.
struct FrameLimits {
  // Larger frames are rejected unparsed. Initial snapshots of big insts
  // arrive as one frame, so this is generous (the Node server's `ws`
  // accepts 100 MiB).
  size_t max_frame_bytes = 64u << 20;
  // JSON nesting deeper than this is rejected (action payloads are free
  // JSON; CasualOS data stays far below).
  int max_depth = 128;
};

// How a frame failed to decode, and so how a server answers it (2.2):
enum class FrameErrorKind {
  // Not JSON, a JSON number/string/boolean, too large or too deep, or (from
  // a server) an array the CasualOS client would drop: no reply.
  kIgnored,
  // Not an array [type 1-5, numeric id, ...]: [5, null, unacceptable_request].
  kBadEnvelope,
  // The message (or transfer fields) failed validation:
  // [5, id, unacceptable_request].
  kBadMessage,
  // A client sent a server-only event (3 or 5): silently ignored.
  kUnexpectedEvent,
};

struct FrameError {
  FrameErrorKind kind = FrameErrorKind::kIgnored;
  std::optional<double> request_id;  // the frame's id, for kBadMessage
  bots::Value issues;                // zod-style issue list (array)
};

// Decodes one text frame sent in `direction`. Errors are
// kInvalidArgument naming what was wrong (e.g. "message.recordName:
// expected non-empty string or null, received undefined"); FrameErrorOf()
// tells how to answer them. Never crashes on any input; allocation is
// bounded by `limits` and the input size.
absl::StatusOr<Event> DecodeFrame(std::string_view text, Direction direction,
                                  const FrameLimits& limits = {});

// The classification of a DecodeFrame error (kIgnored for other statuses).
FrameError FrameErrorOf(const absl::Status& status);

// The frame a CasualOS server replies to a frame that failed to decode, or
// nullopt when it replies nothing (2.2).
std::optional<std::string> ServerReplyToBadFrame(const absl::Status& status);

// The JSON text of an event: exactly what JSON.stringify writes for the
// array the real peer builds.
std::string EncodeFrame(const Event& event);

// [1, id, message] - the usual frame.
std::string EncodeMessageFrame(const Message& message,
                               double id = kServerFrameId);

// The Node server's answers to the AWS-flavour events it does not
// implement: an upload request gets [5, id, not_supported "Upload requests
// are not supported."], a download request [5, id, message_not_found
// "Message not found."] (its messenger finds no offloaded message).
std::string UploadNotSupportedFrame(double request_id);
std::string DownloadNotFoundFrame(double request_id);

// The answer of a server without the records HTTP API to http_request: an
// http_response with status 501 and a JSON body
// {"success":false,"errorCode":"not_supported","errorMessage":...}.
HttpResponseMessage HttpNotSupportedResponse(double request_id);

}  // namespace auxsync::inst

#endif  // AUXSYNC_INST_FRAME_H_
