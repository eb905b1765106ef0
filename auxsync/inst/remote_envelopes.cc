#include "auxsync/inst/remote_envelopes.h"

namespace auxsync::inst {

bool RemoteAction::HasSelector() const {
  // The server tests truthiness: an empty string selects nothing.
  return (connection_id && !connection_id->empty()) ||
         (session_id && !session_id->empty()) ||
         (user_id && !user_id->empty()) || broadcast.has_value();
}

DeviceAction ToDeviceAction(const RemoteAction& action,
                            const ConnectionInfo& sender) {
  return DeviceAction{.kind = action.kind,
                      .connection = sender,
                      .payload = action.payload,
                      .task_id = action.task_id};
}

bool IsActionForDevice(const RemoteAction& action,
                       const ConnectionInfo& candidate) {
  if (action.broadcast.value_or(false)) return true;
  if (action.user_id && candidate.user_id &&
      *action.user_id == *candidate.user_id) {
    return true;
  }
  if (action.connection_id &&
      *action.connection_id == candidate.connection_id) {
    return true;
  }
  if (action.session_id && candidate.session_id &&
      *action.session_id == *candidate.session_id) {
    return true;
  }
  return false;
}

std::string_view RemoteTypeName(RemoteKind kind) {
  switch (kind) {
    case RemoteKind::kRemote:
      return "remote";
    case RemoteKind::kResult:
      return "remote_result";
    case RemoteKind::kError:
      return "remote_error";
  }
  return "remote";
}

std::string_view DeviceTypeName(RemoteKind kind) {
  switch (kind) {
    case RemoteKind::kRemote:
      return "device";
    case RemoteKind::kResult:
      return "device_result";
    case RemoteKind::kError:
      return "device_error";
  }
  return "device";
}

std::string_view PayloadKey(RemoteKind kind) {
  switch (kind) {
    case RemoteKind::kRemote:
      return "event";
    case RemoteKind::kResult:
      return "result";
    case RemoteKind::kError:
      return "error";
  }
  return "event";
}

}  // namespace auxsync::inst
