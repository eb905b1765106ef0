#include "auxsync/inst/errors.h"

#include <string>

#include "auxsync/inst/internal/strings.h"

namespace auxsync::inst {
namespace {

constexpr std::string_view kTokenScopeMessage =
    "You are not authorized to access this inst.";
constexpr std::string_view kInstNotFoundMessage = "The inst was not found.";

bots::Value InvalidTokenReason() {
  return bots::MakeObject({{"type", "invalid_token"}});
}

}  // namespace

LoginResultMessage LoginFailure(std::string_view error_code) {
  std::string_view message = "A server error occurred.";
  if (error_code == kUnacceptableConnectionId) {
    message =
        "A connection ID must be specified when logging in without a "
        "connection token.";
  } else if (error_code == kUnacceptableConnectionToken) {
    message =
        "The given connection token is invalid. It must be a correctly "
        "formatted string.";
  } else if (error_code == kInvalidToken) {
    message = "The connection token is invalid.";
  } else if (error_code == kSessionExpired) {
    message = "The session has expired.";
  } else if (error_code == kUserIsBanned) {
    message = "The user has been banned.";
  }
  LoginResultMessage m;
  m.success = false;
  m.error_code = std::string(error_code);
  m.error_message = std::string(message);
  return m;
}

ErrorEvent LoginServerError(double request_id) {
  return ErrorEvent{
      request_id,
      MakeErrorInfo(kServerError, "A server error occurred while logging in.")};
}

ErrorEvent InvalidConnectionState(const BranchNamespace& ns,
                                  std::string_view server_connection_id) {
  std::string message = internal::Cat(
      "A server error occurred. (namespace: ",
      ns.record_name ? std::string_view(*ns.record_name) : "null", "/", ns.inst,
      "/", ns.branch, ", connectionId: ", server_connection_id, ")");
  return ErrorEvent{kServerFrameId,
                    MakeBranchErrorInfo(kInvalidConnectionState, message, ns)};
}

ErrorEvent InvalidConnectionState(std::string_view server_connection_id) {
  return ErrorEvent{
      kServerFrameId,
      MakeErrorInfo(kInvalidConnectionState,
                    internal::Cat("A server error occurred. (connectionId: ",
                                  server_connection_id, ")"))};
}

WatchBranchResultMessage TokenScopeDeniedWatchResult(
    const BranchNamespace& ns) {
  return WatchDenied(ns, kNotAuthorized, kTokenScopeMessage,
                     InvalidTokenReason());
}

ErrorEvent TokenScopeDenied(const BranchNamespace& ns) {
  return ErrorEvent{kServerFrameId,
                    MakeBranchErrorInfo(kNotAuthorized, kTokenScopeMessage, ns,
                                        InvalidTokenReason())};
}

WatchBranchResultMessage WatchDenied(const BranchNamespace& ns,
                                     std::string_view error_code,
                                     std::string_view error_message,
                                     bots::Value reason) {
  WatchBranchResultMessage m;
  m.ns = ns;
  m.success = false;
  m.error_code = std::string(error_code);
  m.error_message = std::string(error_message);
  m.reason = std::move(reason);
  return m;
}

bots::Value MissingPermissionReasonValue(std::string_view record_name,
                                         std::string_view subject_type,
                                         std::string_view subject_id,
                                         std::string_view resource_kind,
                                         std::string_view resource_id,
                                         std::string_view action) {
  return bots::MakeObject({{"type", "missing_permission"},
                           {"recordName", record_name},
                           {"subjectType", subject_type},
                           {"subjectId", subject_id},
                           {"resourceKind", resource_kind},
                           {"resourceId", resource_id},
                           {"action", action}});
}

ErrorEvent InstNotFound() {
  return ErrorEvent{kServerFrameId,
                    MakeErrorInfo(kInstNotFound, kInstNotFoundMessage)};
}

ErrorEvent InstNotFound(const BranchNamespace& ns) {
  return ErrorEvent{
      kServerFrameId,
      MakeBranchErrorInfo(kInstNotFound, kInstNotFoundMessage, ns)};
}

UpdatesReceivedMessage MaxSizeReached(const BranchNamespace& ns,
                                      std::optional<double> update_id,
                                      double max_bytes, double needed_bytes) {
  return UpdatesReceivedMessage{.ns = ns,
                                .update_id = update_id,
                                .error_code = std::string(kMaxSizeReached),
                                .max_branch_size_in_bytes = max_bytes,
                                .needed_branch_size_in_bytes = needed_bytes};
}

RequestMissingPermissionResponseMessage PermissionRequestRefused(
    const MissingPermissionReason& reason, PermissionRefusal refusal) {
  std::string_view message;
  switch (refusal) {
    case PermissionRefusal::kNotMissingPermission:
      message = "It is only possible to request missing permissions.";
      break;
    case PermissionRefusal::kNotAnInst:
      message = "Permissions can only be requested to access insts.";
      break;
    case PermissionRefusal::kNotCurrentUser:
      message = "Permissions can only be requested for the current user.";
      break;
    case PermissionRefusal::kNoGranters:
      message =
          "There are no currently no users available that can grant access "
          "to the inst.";
      break;
  }
  RequestMissingPermissionResponseMessage m;
  m.success = false;
  m.record_name = reason.record_name;
  m.resource_kind = reason.resource_kind;
  m.resource_id = reason.resource_id;
  m.subject_type = reason.subject_type;
  m.subject_id = reason.subject_id;
  m.error_code = std::string(kUnacceptableRequest);
  m.error_message = std::string(message);
  return m;
}

}  // namespace auxsync::inst
