// Connection identities and the remote-action envelopes of the inst
// protocol (spec/inst-protocol.md section 6): what a client sends in
// repo/send_action (remote, remote_result, remote_error with top-level
// selector fields) and what the targeted sockets receive in
// repo/receive_action (device, device_result, device_error with the
// sender's ConnectionInfo).

#ifndef AUXSYNC_INST_REMOTE_ENVELOPES_H_
#define AUXSYNC_INST_REMOTE_ENVELOPES_H_

#include <optional>
#include <string>

#include "auxsync/bots/value.h"

namespace auxsync::inst {

// Who a socket is, as the server reports it to other clients: the
// client-chosen connectionId plus the session's ids (both null for an
// anonymous socket).
struct ConnectionInfo {
  std::string connection_id;
  std::optional<std::string> session_id;
  std::optional<std::string> user_id;
  friend bool operator==(const ConnectionInfo&,
                         const ConnectionInfo&) = default;
};

// The three remote kinds and their payload key ("event", "result",
// "error").
enum class RemoteKind { kRemote, kResult, kError };

// An action a client asks the server to deliver (6.1). `payload` is the
// event / result / error, any JSON, undefined when absent. `task_id` is
// undefined, a string or a number. Selector fields are never null on the
// wire; an unset selector means "one random watcher" (6.2).
struct RemoteAction {
  RemoteKind kind = RemoteKind::kRemote;
  bots::Value payload;
  std::optional<bool> allow_batching;  // kRemote only
  bots::Value task_id;
  std::optional<std::string> connection_id;
  std::optional<std::string> session_id;
  std::optional<std::string> user_id;
  std::optional<bool> broadcast;

  // True when the selector names its targets (6.2 step 2): a non-empty
  // connectionId, sessionId or userId, or any broadcast value.
  bool HasSelector() const;
};

// What a targeted socket receives (6.3): the sender's identity from the
// server's records, the payload, and the task id when the sender gave one.
struct DeviceAction {
  RemoteKind kind = RemoteKind::kRemote;  // device/device_result/device_error
  ConnectionInfo connection;
  bots::Value payload;
  bots::Value task_id;
};

// The envelope the server forwards for `action` sent by `sender` (6.3):
// selector fields and allowBatching are dropped.
DeviceAction ToDeviceAction(const RemoteAction& action,
                            const ConnectionInfo& sender);

// Whether a socket with identity `candidate` is a target of `action`
// (6.2 step 3): broadcast true, or an equal non-absent connectionId,
// sessionId or userId. An absent selector field never matches.
bool IsActionForDevice(const RemoteAction& action,
                       const ConnectionInfo& candidate);

// Wire names: "remote"/"remote_result"/"remote_error" and
// "device"/"device_result"/"device_error"; payload keys "event"/"result"/
// "error".
std::string_view RemoteTypeName(RemoteKind kind);
std::string_view DeviceTypeName(RemoteKind kind);
std::string_view PayloadKey(RemoteKind kind);

}  // namespace auxsync::inst

#endif  // AUXSYNC_INST_REMOTE_ENVELOPES_H_
