#include "auxsync/cli/remote_join.h"

#include <chrono>
#include <utility>

#include "auxsync/bots/bot.h"
#include "auxsync/bots/value.h"

namespace auxsync::cli {

absl::StatusOr<std::unique_ptr<RemoteJoin>> RemoteJoin::Create(
    boost::asio::io_context& io, RemoteJoinOptions options) {
  std::unique_ptr<RemoteJoin> join(new RemoteJoin());
  client::WebsocketConnectionOptions ws_options;
  ws_options.log = options.log;
  ws_options.reconnect_delay =
      std::chrono::milliseconds(options.reconnect_delay_ms);
  absl::StatusOr<std::unique_ptr<client::WebsocketConnectionClient>>
      connection = client::WebsocketConnectionClient::Create(
          io, options.url, join->auth_, std::move(ws_options));
  if (!connection.ok()) return connection.status();
  join->connection_ = *std::move(connection);

  // The indicator CasualOS's auth coordinator would answer need_indicator
  // with, given up front so that the first login needs no request.
  bots::Value indicator = bots::Value::NewObject();
  if (!options.connection_token.empty()) {
    indicator.as_object().Set("connectionToken", options.connection_token);
  } else {
    indicator.as_object().Set("connectionId", options.connection_id.empty()
                                                  ? bots::NewUuid()
                                                  : options.connection_id);
  }
  join->auth_.SendAuthResponse(partitions::AuthResponseSuccess(
      join->connection_->origin(), std::move(indicator)));

  // CasualOS's partition factories turn the timed resend on (8.4).
  client::InstRecordsClientOptions records_options;
  records_options.resend_updates = true;
  records_options.io = &io;
  join->records_ = std::make_unique<client::InstRecordsClient>(
      *join->connection_, std::move(records_options));

  client::RemoteYjsPartitionConfig config;
  config.ns = options.ns;
  config.host = options.url;
  join->partition_ = std::make_unique<client::RemoteYjsPartition>(
      *join->records_, join->auth_, std::move(config));
  join->partition_->set_space(options.space);
  return join;
}

RemoteJoin::~RemoteJoin() {
  // Partition first: it unwatches through the records client.
  partition_.reset();
  records_.reset();
  connection_.reset();
}

void RemoteJoin::Start() {
  partition_->Connect();
  connection_->Connect();
}

}  // namespace auxsync::cli
