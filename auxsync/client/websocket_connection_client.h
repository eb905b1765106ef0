// WebsocketConnectionClient: the ConnectionClient of a real network socket
// (Boost.Beast, ws:// and wss://), with the login flow through a
// PartitionAuthSource built in. It is what aux-common composes from
// WebsocketConnectionClient + AuthenticatedConnectionClient over a
// reconnecting socket (spec/inst-protocol.md 2.1-2.3, 2.6-2.7, 3.4, 3.6,
// 3.7, 8.1).
//
// States (8.1): disconnected -> connecting (resolve, TCP, TLS, websocket
// handshake) -> authenticating (login with the origin's indicator, or a
// need_indicator auth request first; a failed login_result sends an
// invalid_indicator request and logs in again on the same socket with the
// next indicator) -> connected(info). A socket that closes for any reason
// other than Disconnect()/forced offline is reopened after a fixed delay.
//
// Threading: the client lives on the thread that runs the io_context given
// to Create(); every method must be called and every callback fires there.
// It may be destroyed at any time (also with operations pending); sockets
// still open are then closed in the background.

#ifndef AUXSYNC_CLIENT_WEBSOCKET_CONNECTION_CLIENT_H_
#define AUXSYNC_CLIENT_WEBSOCKET_CONNECTION_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/client/connection_client.h"
#include "auxsync/client/internal/websocket_url.h"
#include "auxsync/inst/frame.h"
#include "auxsync/partitions/partition_auth_source.h"
#include "auxsync/rx/behavior_subject.h"
#include "auxsync/rx/subject.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace auxsync::client {

// The errorCode of the errors the transport itself reports on OnError (the
// server's own Error events keep theirs).
// A connection attempt or an open socket failed (DNS, TCP, TLS, handshake,
// read/write); errorMessage says which step and why.
inline constexpr std::string_view kWebsocketErrorCode = "websocket_error";
// A frame from the server that does not decode (not JSON, not an event, a
// message that fails validation, too large or too deep). It is dropped.
inline constexpr std::string_view kBadFrameErrorCode = "unacceptable_event";

struct WebsocketConnectionOptions {
  // Delay before reopening a socket that closed (2.7: 5 s, no backoff).
  std::chrono::milliseconds reconnect_delay{5000};
  // Limit on resolve + TCP connect + TLS + websocket handshake; an attempt
  // that takes longer fails (and is retried after reconnect_delay).
  std::chrono::milliseconds connect_timeout{30000};
  // Websocket pings for dead-peer detection (2.6 allows a client to send
  // them): when set, a ping goes out after half this much silence and the
  // socket is closed when nothing arrived for this long. nullopt = off, as
  // CasualOS clients.
  std::optional<std::chrono::milliseconds> ping_timeout;
  // Bounds on incoming frames.
  inst::FrameLimits limits;
  // The origin the auth source keys indicators by; empty = the websocket
  // URL's origin ("ws://host:port"), as aux-common's socket reports it.
  std::string origin;
  // The TLS settings of wss:// sockets; nullptr = TLS 1.2+ verifying peers
  // against the system's CA certificates. Shared, never modified here.
  std::shared_ptr<boost::asio::ssl::context> tls_context;
  // Receives one readable line per transport event (open, close, errors,
  // dropped frames); nullptr = silent.
  std::function<void(std::string_view)> log;
};

class WebsocketConnectionClient final : public ConnectionClient {
 public:
  // A client for `url` (ws:// or wss://, or http(s):// which maps to the
  // /websocket endpoint of that host, 2.1). Does not connect until
  // Connect(). `io` and `auth` must outlive the client. Errors: the URL is
  // not one of those forms (kInvalidArgument), or the default TLS context
  // cannot be set up.
  static absl::StatusOr<std::unique_ptr<WebsocketConnectionClient>> Create(
      boost::asio::io_context& io, std::string_view url,
      partitions::PartitionAuthSource& auth,
      WebsocketConnectionOptions options = {});

  ~WebsocketConnectionClient() override;
  WebsocketConnectionClient(const WebsocketConnectionClient&) = delete;
  WebsocketConnectionClient& operator=(const WebsocketConnectionClient&) =
      delete;

  // ConnectionClient.
  [[nodiscard]] rx::Subscription OnConnectionState(
      ConnectionStateCallback callback) override;
  [[nodiscard]] rx::Subscription OnMessage(MessageCallback callback) override;
  [[nodiscard]] rx::Subscription OnError(
      ConnectionErrorCallback callback) override;
  const ClientConnectionState& state() const override;
  bots::Value indicator() const override;
  std::string_view origin() const override { return origin_; }
  // Writes [1, id, message] with the next id (1, 2, ...) when the socket is
  // open (logged in or not); drops it (OK) when there is no socket; while
  // the socket is still connecting returns kFailedPrecondition, as the
  // browser's WebSocket throws.
  absl::Status Send(const inst::Message& message) override;
  void Connect() override;
  void Disconnect() override;
  bool forced_offline() const override { return forced_offline_; }
  void set_forced_offline(bool offline) override;

  // The websocket URL actually opened ("ws://host:port/websocket").
  const std::string& url() const { return url_.url; }
  // True while a socket is open (logged in or not).
  bool socket_open() const { return phase_ == Phase::kOpen; }
  // The last transport failure ("" when none yet); for diagnostics.
  const std::string& last_transport_error() const {
    return last_transport_error_;
  }
  // Counters for tests and diagnostics.
  uint64_t sockets_opened() const { return sockets_opened_; }
  uint64_t bad_frames() const { return bad_frames_; }

  // The transport of one socket (defined in the .cc; not for use outside).
  class Socket;

 private:
  enum class Phase { kNone, kConnecting, kOpen };

  WebsocketConnectionClient(boost::asio::io_context& io,
                            internal::WebsocketUrl url,
                            partitions::PartitionAuthSource& auth,
                            WebsocketConnectionOptions options);

  void Log(std::string_view text) const;
  // Opens a new socket (closing any old one).
  void Open();
  // Drops the current socket (closing it in the background).
  void CloseSocket();
  void ScheduleReconnect();
  bool ShouldBeConnected() const { return want_connected_ && !forced_offline_; }
  // Reports a state; consecutive "disconnected" states collapse (8.1).
  void SetState(ClientConnectionState state);
  void ReportTransportError(std::string_view message);

  // Socket events (from the current socket only).
  void OnSocketOpen(uint64_t generation);
  void OnSocketText(uint64_t generation, std::string text);
  void OnSocketClosed(uint64_t generation, std::string reason, bool failed);

  // The login flow of an open socket (3.6).
  void StartLogin();
  void LoginWith(const bots::Value& indicator);
  void OnLoginResult(const inst::LoginResultMessage& result);
  // Forwards missing-permission messages between the auth source and the
  // server (3.7).
  void OnServerPermissionMessage(const inst::Message& message,
                                 std::string_view frame);
  absl::Status SendNow(const inst::Message& message);

  boost::asio::io_context& io_;
  internal::WebsocketUrl url_;
  partitions::PartitionAuthSource& auth_;
  WebsocketConnectionOptions options_;
  std::string origin_;

  rx::BehaviorSubject<ClientConnectionState> state_;
  rx::Subject<inst::Message> messages_;
  rx::Subject<inst::ErrorInfo> errors_;

  Phase phase_ = Phase::kNone;
  std::shared_ptr<Socket> socket_;
  uint64_t generation_ = 0;
  bool want_connected_ = false;
  bool forced_offline_ = false;
  boost::asio::steady_timer reconnect_timer_;
  bool reconnect_scheduled_ = false;
  double next_frame_id_ = 1;

  // While the socket is open: the auth responses for our origin, and
  // whether a login_result is awaited (and for which indicator).
  rx::Subscription auth_responses_;
  bool login_pending_ = false;
  bots::Value login_indicator_;

  rx::Subscription permission_requests_;
  rx::Subscription permission_results_;

  std::string last_transport_error_;
  uint64_t sockets_opened_ = 0;
  uint64_t bad_frames_ = 0;

  // Handlers of timers capture a weak copy: expired = this is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace auxsync::client

#endif  // AUXSYNC_CLIENT_WEBSOCKET_CONNECTION_CLIENT_H_
