// RemoteJoin: what a command-line client needs to join an inst branch as a
// RemoteYjsPartition over a real websocket - the auth source (with the
// indicator given on the command line), the WebsocketConnectionClient, the
// InstRecordsClient and the partition, wired as CasualOS wires them.
// Shared by `auxsync watch` and `auxsync bench client`.

#ifndef AUXSYNC_CLI_REMOTE_JOIN_H_
#define AUXSYNC_CLI_REMOTE_JOIN_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auxsync/client/inst_records_client.h"
#include "auxsync/client/remote_yjs_partition.h"
#include "auxsync/client/websocket_connection_client.h"
#include "auxsync/inst/messages.h"
#include "auxsync/partitions/partition_auth_source.h"
#include "boost/asio/io_context.hpp"

namespace auxsync::cli {

struct RemoteJoinOptions {
  // ws://, wss://, http:// or https:// (the host's /websocket endpoint).
  std::string url;
  inst::BranchNamespace ns;
  // The login indicator: a vCT1 connection token when not empty, else the
  // connection id (a fresh UUID when empty).
  std::string connection_token;
  std::string connection_id;
  // The space the partition's bots get (and mask updates address).
  std::optional<std::string> space = "shared";
  // Transport log lines (nullptr = silent).
  std::function<void(std::string_view)> log;
  // Reconnect delay of the websocket (2.7).
  int reconnect_delay_ms = 5000;
};

// Owns the four layers; destroys them partition first. Single-threaded on
// the io_context given to Create(), which must outlive it.
class RemoteJoin {
 public:
  // Builds the layers (nothing connects yet). Errors: a bad URL.
  static absl::StatusOr<std::unique_ptr<RemoteJoin>> Create(
      boost::asio::io_context& io, RemoteJoinOptions options);
  ~RemoteJoin();
  RemoteJoin(const RemoteJoin&) = delete;
  RemoteJoin& operator=(const RemoteJoin&) = delete;

  // Connects the partition, then the socket.
  void Start();

  client::RemoteYjsPartition& partition() { return *partition_; }
  client::WebsocketConnectionClient& connection() { return *connection_; }
  partitions::PartitionAuthSource& auth() { return auth_; }

 private:
  RemoteJoin() = default;

  partitions::PartitionAuthSource auth_;
  std::unique_ptr<client::WebsocketConnectionClient> connection_;
  std::unique_ptr<client::InstRecordsClient> records_;
  std::unique_ptr<client::RemoteYjsPartition> partition_;
};

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_REMOTE_JOIN_H_
