// ConnectionClient: one logged-in websocket (or in-process) connection to an
// inst server, as the InstRecordsClient sees it (spec/inst-protocol.md 8.1;
// aux-common's ConnectionClient).
//
// Threading: a client belongs to one event loop. Every method must be called,
// and every callback fires, on that loop's thread. Callbacks fire
// synchronously from the loop turn that received the frame or state change.

#ifndef AUXSYNC_CLIENT_CONNECTION_CLIENT_H_
#define AUXSYNC_CLIENT_CONNECTION_CLIENT_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/bots/value.h"
#include "auxsync/inst/connection_token.h"
#include "auxsync/inst/frame.h"
#include "auxsync/inst/messages.h"
#include "auxsync/inst/remote_envelopes.h"
#include "auxsync/rx/subscription.h"

namespace auxsync::client {

// What the upper layers see of the connection: "connected" means the socket
// is open and logged in, and then `info` is the identity from login_result.
struct ClientConnectionState {
  bool connected = false;
  std::optional<inst::ConnectionInfo> info;
  friend bool operator==(const ClientConnectionState&,
                         const ClientConnectionState&) = default;
};

// The identity of a login as the connection state hands it to partitions:
// {userId, sessionId, connectionId}, the order login_result carries it in
// (missing ids are null).
inline bots::Value LoginInfoValue(const inst::ConnectionInfo& info) {
  auto nullable = [](const std::optional<std::string>& s) {
    return s ? bots::Value(*s) : bots::Value(nullptr);
  };
  return bots::ConnectionInfo(nullable(info.user_id), nullable(info.session_id),
                              bots::Value(info.connection_id));
}

// getConnectionId(indicator): the connection id a login with `indicator`
// claims - the third field of a {connectionToken} (null when the token does
// not parse) or the {connectionId}; null for a missing indicator.
inline bots::Value ConnectionIdOf(const bots::Value& indicator) {
  if (!bots::IsTruthy(indicator)) return bots::Value(nullptr);
  if (indicator.is_object() && indicator.as_object().Has("connectionToken")) {
    const bots::Value& token = indicator["connectionToken"];
    if (!token.is_string()) return bots::Value(nullptr);
    absl::StatusOr<inst::ConnectionToken> parsed =
        inst::ParseConnectionToken(token.as_string());
    return parsed.ok() ? bots::Value(parsed->connection_id)
                       : bots::Value(nullptr);
  }
  return indicator["connectionId"];
}

using ConnectionStateCallback =
    std::function<void(const ClientConnectionState&)>;
using MessageCallback = std::function<void(const inst::Message&)>;
// A connection-level error: the object of an Error event `[5, id, info]`
// (branch errors carry recordName/inst/branch), or one the transport makes
// for its own failures.
using ConnectionErrorCallback = std::function<void(const inst::ErrorInfo&)>;

class ConnectionClient {
 public:
  virtual ~ConnectionClient() = default;

  // Replays the current state to `callback`, then reports every change.
  // Consecutive equal "disconnected" states are reported once (8.1).
  [[nodiscard]] virtual rx::Subscription OnConnectionState(
      ConnectionStateCallback callback) = 0;
  // Every decoded server-to-client message, in arrival order. Frames that
  // do not decode are reported on OnError, never here.
  [[nodiscard]] virtual rx::Subscription OnMessage(
      MessageCallback callback) = 0;
  // Connection-level errors from the server and transport failures.
  [[nodiscard]] virtual rx::Subscription OnError(
      ConnectionErrorCallback callback) = 0;

  // The current state (the last value OnConnectionState reported).
  virtual const ClientConnectionState& state() const = 0;
  bool is_connected() const { return state().connected; }
  // The identity from the last successful login, nullopt before one.
  const std::optional<inst::ConnectionInfo>& info() const {
    return state().info;
  }
  // The connection indicator used to log in ({connectionToken} or
  // {connectionId}), undefined when there is none yet.
  virtual bots::Value indicator() const = 0;
  // The origin (e.g. "http://localhost:2999") the auth source keys
  // indicators by.
  virtual std::string_view origin() const = 0;
  // The identity of the current login as partitions report it in their
  // authentication statuses: upstream passes the info object through as the
  // transport holds it, so its key order is the transport's. Undefined
  // when not logged in. Default: login_result's {userId, sessionId,
  // connectionId}, what a real server sends.
  virtual bots::Value info_value() const {
    return info() ? LoginInfoValue(*info()) : bots::Value();
  }

  // Hands `message` to the connection. As upstream, a message sent while
  // disconnected is dropped silently (OK); an error means the transport
  // refused it outright (upstream throws while the socket is connecting).
  virtual absl::Status Send(const inst::Message& message) = 0;

  // Opens the connection (and keeps it open, reconnecting after failures)
  // unless forced offline.
  virtual void Connect() = 0;
  // Closes the connection; no automatic reconnect until Connect().
  virtual void Disconnect() = 0;

  // Forced offline: true closes the connection and stops reconnecting,
  // false connects again (aux-common's forcedOffline property).
  virtual bool forced_offline() const = 0;
  virtual void set_forced_offline(bool offline) = 0;
};

}  // namespace auxsync::client

#endif  // AUXSYNC_CLIENT_CONNECTION_CLIENT_H_
