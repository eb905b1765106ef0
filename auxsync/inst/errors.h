// The error and denial messages of the CasualOS inst server
// (spec/inst-protocol.md 3.4, 3.5, 3.7, 4, 7.11), with the exact codes,
// texts and key orders of aux-records 3.10.5's WebsocketController, so a
// server built on this module answers as the real one does.

#ifndef AUXSYNC_INST_ERRORS_H_
#define AUXSYNC_INST_ERRORS_H_

#include <string_view>

#include "auxsync/bots/value.h"
#include "auxsync/inst/frame.h"
#include "auxsync/inst/messages.h"

namespace auxsync::inst {

// Error codes (7.11).
inline constexpr std::string_view kUnacceptableRequest = "unacceptable_request";
inline constexpr std::string_view kUnacceptableConnectionId =
    "unacceptable_connection_id";
inline constexpr std::string_view kUnacceptableConnectionToken =
    "unacceptable_connection_token";
inline constexpr std::string_view kInvalidToken = "invalid_token";
inline constexpr std::string_view kSessionExpired = "session_expired";
inline constexpr std::string_view kUserIsBanned = "user_is_banned";
inline constexpr std::string_view kInvalidConnectionState =
    "invalid_connection_state";
inline constexpr std::string_view kNotLoggedIn = "not_logged_in";
inline constexpr std::string_view kNotAuthorized = "not_authorized";
inline constexpr std::string_view kSubscriptionLimitReached =
    "subscription_limit_reached";
inline constexpr std::string_view kInstNotFound = "inst_not_found";
inline constexpr std::string_view kRecordNotFound = "record_not_found";
inline constexpr std::string_view kMaxSizeReached = "max_size_reached";
inline constexpr std::string_view kNotSupported = "not_supported";
inline constexpr std::string_view kMessageNotFound = "message_not_found";
inline constexpr std::string_view kServerError = "server_error";

// A failed login_result with the real message for `error_code`
// (unacceptable_connection_id, unacceptable_connection_token,
// invalid_token, session_expired, user_is_banned; any other code gets
// "A server error occurred.").
LoginResultMessage LoginFailure(std::string_view error_code);

// [5, request id, server_error "A server error occurred while logging in."]
ErrorEvent LoginServerError(double request_id);

// A request before login (4.1): [5, -1, invalid_connection_state "A server
// error occurred. (namespace: <rec>/<inst>/<branch>, connectionId: <id>)",
// recordName, inst, branch]; a null record name prints as "null". The
// server closes the socket after sending it.
ErrorEvent InvalidConnectionState(const BranchNamespace& ns,
                                  std::string_view server_connection_id);
// The permission-message variant: "(connectionId: <id>)", no namespace.
ErrorEvent InvalidConnectionState(std::string_view server_connection_id);

// The token-scope denial (3.5): reason {"type":"invalid_token"}, "You are
// not authorized to access this inst.". As the watch result, and as the
// Error event of the other repo requests.
WatchBranchResultMessage TokenScopeDeniedWatchResult(const BranchNamespace& ns);
ErrorEvent TokenScopeDenied(const BranchNamespace& ns);

// A branch-level denial as a failed watch result ({type, success,
// errorCode, errorMessage, recordName, inst, branch, reason?}).
WatchBranchResultMessage WatchDenied(const BranchNamespace& ns,
                                     std::string_view error_code,
                                     std::string_view error_message,
                                     bots::Value reason = bots::Value());

// The missing-permission reason of the policy engine (3.8):
// {type, recordName, subjectType, subjectId, resourceKind, resourceId,
// action}, with "You are not authorized to perform this action.".
bots::Value MissingPermissionReasonValue(std::string_view record_name,
                                         std::string_view subject_type,
                                         std::string_view subject_id,
                                         std::string_view resource_kind,
                                         std::string_view resource_id,
                                         std::string_view action);
inline constexpr std::string_view kNotAuthorizedMessage =
    "You are not authorized to perform this action.";
inline constexpr std::string_view kNotLoggedInMessage =
    "The user must be logged in. Please provide a sessionKey or a recordKey.";
inline constexpr std::string_view kPublicInstsDisabledMessage =
    "Temporary insts are not allowed.";
inline constexpr std::string_view kMaxConnectionsMessage =
    "The maximum number of active connections to this inst has been "
    "reached.";

// inst_not_found "The inst was not found." without the namespace (as sent
// for send_action, watch_branch_devices and connection_count) or with it
// (add_updates, get_updates).
ErrorEvent InstNotFound();
ErrorEvent InstNotFound(const BranchNamespace& ns);

// The max_size_reached acknowledgement (5.6); `update_id` absent when the
// write had none.
UpdatesReceivedMessage MaxSizeReached(const BranchNamespace& ns,
                                      std::optional<double> update_id,
                                      double max_bytes, double needed_bytes);

// The refusals of permission/request/missing (3.7 step 2 and 3), echoing
// the request's reason fields.
enum class PermissionRefusal {
  kNotMissingPermission,  // "It is only possible to request missing ..."
  kNotAnInst,             // "Permissions can only be requested to access ..."
  kNotCurrentUser,        // "Permissions can only be requested for the ..."
  kNoGranters,            // "There are no currently no users available ..."
};
RequestMissingPermissionResponseMessage PermissionRequestRefused(
    const MissingPermissionReason& reason, PermissionRefusal refusal);

}  // namespace auxsync::inst

#endif  // AUXSYNC_INST_ERRORS_H_
