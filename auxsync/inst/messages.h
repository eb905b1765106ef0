// The messages of the CasualOS websocket inst protocol
// (spec/inst-protocol.md section 5) as typed values.
//
// Field names follow the wire spelling; optional fields are std::optional
// (absent on the wire when empty). Free-form JSON (action events, denial
// reasons, validation issues, public user info) is kept as a bots::Value so
// it passes through unchanged. The JSON codec is in message_codec.h; the
// event framing around a message is in frame.h.

#ifndef AUXSYNC_INST_MESSAGES_H_
#define AUXSYNC_INST_MESSAGES_H_

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "auxsync/bots/value.h"
#include "auxsync/inst/remote_envelopes.h"

namespace auxsync::inst {

// A record name: a non-empty string, or nullopt for a public inst (JSON
// null; never omitted and never "" on the wire).
using RecordName = std::optional<std::string>;

// The (recordName, inst, branch) triple that every repo message carries.
// Clients match responses on all three, so they are echoed exactly.
struct BranchNamespace {
  RecordName record_name;
  std::string inst;
  std::string branch;
  friend bool operator==(const BranchNamespace&,
                         const BranchNamespace&) = default;
};

// login (C->S). A non-empty token wins over connectionId.
struct LoginMessage {
  std::optional<std::string> connection_token;
  std::optional<std::string> connection_id;
};

// login_result (S->C). On success `info` is set; on failure `error_code`,
// `error_message` and maybe `reason` (a denial reason object).
struct LoginResultMessage {
  bool success = false;
  ConnectionInfo info;  // written as {userId, sessionId, connectionId}
  std::string error_code;
  std::string error_message;
  bots::Value reason;  // undefined = absent
};

// repo/watch_branch (C->S); also the `branch` object of
// repo/connected_to_branch.
struct WatchBranchMessage {
  BranchNamespace ns;
  std::optional<bool> temporary;
  std::optional<std::vector<std::string>> markers;
};

// repo/watch_branch_result (S->C). Failures carry errorCode, errorMessage,
// maybe a reason, and maybe further policy fields (kept in `extra`, an
// object, written after the reason).
struct WatchBranchResultMessage {
  BranchNamespace ns;
  bool success = true;
  std::string error_code;
  std::string error_message;
  bots::Value reason;  // undefined = absent
  bots::Value extra;   // undefined or an object
  // The server writes its own denials as {type, success, errorCode,
  // errorMessage, recordName, inst, branch, reason?}, but a policy failure
  // as {...failure, type, recordName, inst, branch}. A decoded message keeps
  // the order it came in here so that it re-encodes byte for byte; empty
  // means the first order.
  std::vector<std::string> key_order;
};

// repo/unwatch_branch, repo/watch_branch_devices,
// repo/unwatch_branch_devices, repo/get_updates (C->S): only a namespace.
struct UnwatchBranchMessage {
  BranchNamespace ns;
};
struct WatchBranchDevicesMessage {
  BranchNamespace ns;
};
struct UnwatchBranchDevicesMessage {
  BranchNamespace ns;
};
struct GetUpdatesMessage {
  BranchNamespace ns;
};

// repo/add_updates, both directions (5.4, 5.5): a client write carries
// `update_id`; the server's initial snapshot carries `initial: true`, its
// history reply `timestamps`, its live broadcast neither. `updates` are
// base64 strings of v1 Yjs updates, kept as text (never re-encoded).
struct AddUpdatesMessage {
  BranchNamespace ns;
  std::vector<std::string> updates;
  std::optional<double> update_id;
  std::optional<bool> initial;
  std::optional<std::vector<double>> timestamps;
};

// repo/updates_received (S->C). `update_id` is absent only in a
// max_size_reached reply to a write that had none.
struct UpdatesReceivedMessage {
  BranchNamespace ns;
  std::optional<double> update_id;
  std::optional<std::string> error_code;  // max_size_reached, ...
  std::optional<double> max_branch_size_in_bytes;
  std::optional<double> needed_branch_size_in_bytes;
};

// repo/send_action (C->S).
struct SendActionMessage {
  BranchNamespace ns;
  RemoteAction action;
};

// repo/receive_action (S->C): normally a device envelope; the legacy webhook
// path delivers a bare action object, kept as a Value.
struct ReceiveActionMessage {
  BranchNamespace ns;
  std::variant<DeviceAction, bots::Value> action;
};

// repo/connected_to_branch (S->C). The server writes two key orders: after a
// watch {type, broadcast, branch, connection}; in a device listing
// {type, broadcast, connection, branch}. `listing` selects the second.
struct ConnectedToBranchMessage {
  bool broadcast = false;
  WatchBranchMessage branch;
  ConnectionInfo connection;
  bool listing = false;
};

// repo/disconnected_from_branch (S->C): flat namespace fields.
struct DisconnectedFromBranchMessage {
  bool broadcast = false;
  BranchNamespace ns;
  ConnectionInfo connection;
};

// repo/connection_count, both directions: `inst` and `branch` may be null
// (null branch = every logged-in socket of the server); the reply adds
// `count`.
struct ConnectionCountMessage {
  RecordName record_name;
  std::optional<std::string> inst;
  std::optional<std::string> branch;
  std::optional<double> count;
};

// sync/time (C->S) and sync/time/response (S->C); times in epoch ms.
struct SyncTimeMessage {
  double id = 0;
  double client_request_time = 0;
};
struct SyncTimeResponseMessage {
  double id = 0;
  double client_request_time = 0;
  double server_receive_time = 0;
  double server_transmit_time = 0;
};

// rate_limit_exceeded (S->C); retryAfter in seconds.
struct RateLimitExceededMessage {
  double retry_after = 0;
  double total_hits = 0;
};

// The `reason` of a permission request (3.7). Every field is required; the
// enumerated ones are checked against the records permission model.
struct MissingPermissionReason {
  std::string record_name;
  std::string resource_kind;
  std::string resource_id;
  std::string action;
  std::string subject_type;
  std::string subject_id;
};

// permission/request/missing: C->S with only `reason`; S->C (forwarded to
// the inst's users) also with the requester's `connection` and `user`
// (public user info object, or null).
struct RequestMissingPermissionMessage {
  MissingPermissionReason reason;
  std::optional<ConnectionInfo> connection;
  bots::Value user;  // undefined = absent
};

// permission/request/missing/response, both directions; the forwarded copy
// adds the responder's `connection`.
struct RequestMissingPermissionResponseMessage {
  bool success = false;
  std::string record_name;
  std::string resource_kind;
  std::string resource_id;
  std::string subject_type;
  std::string subject_id;
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
  std::optional<ConnectionInfo> connection;
};

// The tunnelled HTTP request of http_request (5.17).
struct HttpRequest {
  std::string path;
  std::string method;  // GET POST PUT DELETE HEAD OPTIONS
  std::vector<std::pair<std::string, std::string>> path_params;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> body;  // nullopt = null
};

// http_request (C->S).
struct HttpRequestMessage {
  double id = 0;
  HttpRequest request;
};

// http_response (S->C): `response` is {statusCode, headers, body}.
struct HttpResponseMessage {
  double id = 0;
  bots::Value response;
};

// http_partial_response (S->C): one chunk of a streamed response.
struct HttpPartialResponseMessage {
  double id = 0;
  double index = 0;
  std::optional<bool> final;
  bots::Value response;
};

// Any message of section 5. The alternatives are distinct types, so
// std::holds_alternative / std::get_if select by kind.
using Message = std::variant<
    LoginMessage, LoginResultMessage, WatchBranchMessage,
    WatchBranchResultMessage, UnwatchBranchMessage, AddUpdatesMessage,
    UpdatesReceivedMessage, GetUpdatesMessage, SendActionMessage,
    ReceiveActionMessage, WatchBranchDevicesMessage,
    UnwatchBranchDevicesMessage, ConnectedToBranchMessage,
    DisconnectedFromBranchMessage, ConnectionCountMessage, SyncTimeMessage,
    SyncTimeResponseMessage, RateLimitExceededMessage,
    RequestMissingPermissionMessage, RequestMissingPermissionResponseMessage,
    HttpRequestMessage, HttpResponseMessage, HttpPartialResponseMessage>;

// The wire `type` of a message ("login", "repo/add_updates", ...).
std::string_view MessageType(const Message& message);

// The branch a repo message is about (the `branch` object of
// repo/connected_to_branch; nothing for repo/connection_count, whose inst
// and branch may be null, and for the messages without a namespace).
std::optional<BranchNamespace> NamespaceOf(const Message& message);

}  // namespace auxsync::inst

#endif  // AUXSYNC_INST_MESSAGES_H_
