#include "auxsync/client/memory_connection_client.h"

#include <utility>

#include "auxsync/inst/message_codec.h"

namespace auxsync::client {

MemoryConnectionClient::MemoryConnectionClient(
    std::optional<inst::ConnectionInfo> info, InfoOrder order)
    : info_(std::move(info)),
      info_order_(order),
      state_(ClientConnectionState{}) {}

MemoryConnectionClient::~MemoryConnectionClient() = default;

rx::Subscription MemoryConnectionClient::OnConnectionState(
    ConnectionStateCallback callback) {
  return state_.Subscribe(std::move(callback));
}

rx::Subscription MemoryConnectionClient::OnMessage(MessageCallback callback) {
  return messages_.Subscribe(std::move(callback));
}

rx::Subscription MemoryConnectionClient::OnError(
    ConnectionErrorCallback callback) {
  return errors_.Subscribe(std::move(callback));
}

const ClientConnectionState& MemoryConnectionClient::state() const {
  return state_.value();
}

absl::Status MemoryConnectionClient::Send(const inst::Message& message) {
  sent_.push_back(message);
  return send_status_;
}

void MemoryConnectionClient::Connect() {
  SetState(ClientConnectionState{.connected = true, .info = info_});
}

void MemoryConnectionClient::Disconnect() {
  SetState(ClientConnectionState{.connected = false, .info = std::nullopt});
}

void MemoryConnectionClient::set_forced_offline(bool offline) {
  if (offline == forced_offline_) return;
  forced_offline_ = offline;
  if (offline) {
    Disconnect();
  } else {
    Connect();
  }
}

void MemoryConnectionClient::SetState(ClientConnectionState state) {
  if (!state.connected && state_.value() == state) return;
  state_.Next(std::move(state));
}

void MemoryConnectionClient::Deliver(const inst::Message& message) {
  messages_.Next(message);
}

void MemoryConnectionClient::DeliverError(const inst::ErrorInfo& error) {
  errors_.Next(error);
}

std::vector<std::string> MemoryConnectionClient::SentJson() const {
  std::vector<std::string> out;
  out.reserve(sent_.size());
  for (const inst::Message& m : sent_) out.push_back(inst::EncodeMessage(m));
  return out;
}

bots::Value MemoryConnectionClient::info_value() const {
  if (!info()) return bots::Value();
  return info_order_ == InfoOrder::kLoginResult
             ? LoginInfoValue(*info())
             : inst::ConnectionInfoToValue(*info());
}

}  // namespace auxsync::client
