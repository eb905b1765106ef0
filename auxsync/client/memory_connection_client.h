// MemoryConnectionClient: an in-process ConnectionClient for tests, the C++
// form of aux-common's MemoryConnectionClient. Nothing goes over a network:
// test code sets the connection state, delivers server messages and errors,
// and reads back every message the layers above handed to Send().

#ifndef AUXSYNC_CLIENT_MEMORY_CONNECTION_CLIENT_H_
#define AUXSYNC_CLIENT_MEMORY_CONNECTION_CLIENT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "auxsync/client/connection_client.h"
#include "auxsync/rx/behavior_subject.h"
#include "auxsync/rx/subject.h"

namespace auxsync::client {

// Single-threaded like every ConnectionClient: the test drives it from the
// thread its subscribers live on, and every callback fires synchronously
// inside the call that caused it (SetState, Connect, Deliver, ...).
//
// Starts disconnected. As upstream, Send() records the message whatever the
// state (so tests can see what a client hands over while offline).
class MemoryConnectionClient : public ConnectionClient {
 public:
  // The key order of the info object partitions report (info_value()).
  // aux-common's MemoryConnectionClient hands through the object its test
  // built, so a test picks the order that object had: upstream's
  // RemoteYjsPartition tests write {connectionId, sessionId, userId}, its
  // OtherPlayersPartition tests (and real servers) {userId, sessionId,
  // connectionId}.
  enum class InfoOrder { kConnectionIdFirst, kLoginResult };

  // `info` is the identity Connect() reports (nullopt = none).
  explicit MemoryConnectionClient(
      std::optional<inst::ConnectionInfo> info = std::nullopt,
      InfoOrder order = InfoOrder::kConnectionIdFirst);
  MemoryConnectionClient(const MemoryConnectionClient&) = delete;
  MemoryConnectionClient& operator=(const MemoryConnectionClient&) = delete;
  ~MemoryConnectionClient() override;

  // --- ConnectionClient ---
  [[nodiscard]] rx::Subscription OnConnectionState(
      ConnectionStateCallback callback) override;
  [[nodiscard]] rx::Subscription OnMessage(MessageCallback callback) override;
  [[nodiscard]] rx::Subscription OnError(
      ConnectionErrorCallback callback) override;
  const ClientConnectionState& state() const override;
  // The info in the order chosen at construction.
  bots::Value info_value() const override;
  bots::Value indicator() const override { return indicator_; }
  std::string_view origin() const override { return origin_; }
  // Records `message` in sent() and returns send_status() (OK unless a test
  // set a failure, e.g. to act as a socket that is still connecting).
  absl::Status Send(const inst::Message& message) override;
  // Reports {connected: true, info: <the configured info>}.
  void Connect() override;
  // Reports {connected: false} (no info). A repeated disconnect while
  // already disconnected is not reported again (ConnectionClient contract).
  void Disconnect() override;
  bool forced_offline() const override { return forced_offline_; }
  // true: Disconnect(); false: Connect(). A no-op when unchanged.
  void set_forced_offline(bool offline) override;

  // --- Test controls ---
  // Reports `state` to the OnConnectionState observers (a disconnected state
  // equal to the current one is dropped).
  void SetState(ClientConnectionState state);
  // The identity the next Connect() reports.
  void set_info(std::optional<inst::ConnectionInfo> info) {
    info_ = std::move(info);
  }
  void set_indicator(bots::Value indicator) {
    indicator_ = std::move(indicator);
  }
  void set_origin(std::string origin) { origin_ = std::move(origin); }
  // What Send() returns from now on (the message is recorded either way).
  void set_send_status(absl::Status status) {
    send_status_ = std::move(status);
  }
  // Delivers a server message to the OnMessage observers.
  void Deliver(const inst::Message& message);
  // Delivers a connection-level error to the OnError observers.
  void DeliverError(const inst::ErrorInfo& error);
  // Every message handed to Send(), in order.
  const std::vector<inst::Message>& sent() const { return sent_; }
  // sent() as the compact JSON of each message (inst::EncodeMessage).
  std::vector<std::string> SentJson() const;
  void ClearSent() { sent_.clear(); }

 private:
  std::optional<inst::ConnectionInfo> info_;
  InfoOrder info_order_;
  bots::Value indicator_;  // undefined until set
  std::string origin_ = "http://localhost";
  bool forced_offline_ = false;
  absl::Status send_status_;
  std::vector<inst::Message> sent_;
  rx::BehaviorSubject<ClientConnectionState> state_;
  rx::Subject<inst::Message> messages_;
  rx::Subject<inst::ErrorInfo> errors_;
};

}  // namespace auxsync::client

#endif  // AUXSYNC_CLIENT_MEMORY_CONNECTION_CLIENT_H_
