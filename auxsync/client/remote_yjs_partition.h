// RemoteYjsPartition: a yjs partition kept in sync with an inst server
// through an InstRecordsClient (spec/partitions.md section 9; aux-common's
// RemoteYjsPartitionImpl on RemoteYjsSharedDocument).

#ifndef AUXSYNC_CLIENT_REMOTE_YJS_PARTITION_H_
#define AUXSYNC_CLIENT_REMOTE_YJS_PARTITION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"
#include "auxsync/client/inst_records_client.h"
#include "auxsync/inst/messages.h"
#include "auxsync/partitions/partition_auth_source.h"
#include "auxsync/partitions/partition_factories.h"
#include "auxsync/partitions/yjs_partition.h"
#include "auxsync/partitions/yjs_partition_core.h"
#include "auxsync/rx/subject.h"
#include "auxsync/rx/subscription.h"

namespace auxsync::client {

// The settings of a remote yjs partition: {"type":"remote_yjs", recordName?,
// inst, branch, host, static?, skipInitialLoad?, temporary?, markers?,
// readOnly?, remoteEvents?, localPersistence?, private?} or the same with
// "type":"yjs_client" (whose `client` field is the caller's business: the
// InstRecordsClient is passed to the constructor either way).
struct RemoteYjsPartitionConfig {
  inst::BranchNamespace ns;  // recordName (null when absent), inst, branch
  std::string host;
  bool is_static = false;
  bool skip_initial_load = false;
  bool temporary = false;
  std::optional<std::vector<std::string>> markers;
  // config.readOnly || static (9.1).
  bool read_only = false;
  // remoteEvents as given, true when the key is absent (9.1).
  bots::Value remote_events = bots::Value(true);
  // The localPersistence object ({saveToIndexedDb, encryptionKey}) or
  // undefined; used only when not temporary.
  bots::Value local_persistence;
  bool is_private = false;
  // Yjs client ids of the document and of isRemote edits; unset = random
  // uint32s, as upstream. Not upstream config: for reproducible bytes.
  std::optional<uint64_t> client_id;
  std::optional<uint64_t> remote_client_id;
  // Epoch milliseconds for InstUpdate timestamps; empty = system clock.
  std::function<double()> now;
  // Makes the local persistence (given the name "<recordName or
  // ''>/<inst>/<branch>"); without it a config asking for persistence runs
  // without.
  partitions::YjsPersistenceFactory persistence_factory;

  // Reads a "remote_yjs" or "yjs_client" config (unknown keys are ignored).
  // Errors name the offending field: inst and branch must be strings,
  // recordName a string or null/absent, markers an array of strings.
  static absl::StatusOr<RemoteYjsPartitionConfig> FromValue(
      const bots::Value& config);
};

// A yjs partition (same document layout, events, versions and remote
// actions as partitions::YjsPartition) whose document is the server's
// branch: it watches the branch (or loads it once when static), applies the
// server's updates as remote updates, sends local transactions (and those of
// apply_updates_to_inst / install_aux_file) with AddUpdates unless
// read-only, and forwards remote actions.
//
// Single-threaded: lives on the event loop of its client. Emissions that
// upstream makes one microtask later (sync status, versions) are delivered
// at the end of the outermost call into the partition, a message delivery
// from the connection included.
class RemoteYjsPartition final : public partitions::YjsPartitionCore {
 public:
  // `client` and `auth_source` are not owned and must outlive the partition.
  RemoteYjsPartition(InstRecordsClient& client,
                     partitions::PartitionAuthSource& auth_source,
                     RemoteYjsPartitionConfig config);
  ~RemoteYjsPartition() override;

  // "yjs", as upstream's RemoteYjsPartitionImpl reports.
  std::string_view type() const override { return "yjs"; }
  // delayed when static, else immediate (9).
  partitions::RealtimeStrategy realtime_strategy() const override;

  // Applies bot actions locally (and sends them when watching and not
  // read-only); does nothing and returns [] when static.
  absl::StatusOr<std::vector<bots::Value>> ApplyEvents(
      const std::vector<bots::Value>& events) override;
  // The table of section 9.7; always returns [] (answers on OnEvents).
  absl::StatusOr<std::vector<bots::Value>> SendRemoteEvents(
      const std::vector<bots::Value>& events) override;
  // Opens the persistence, then skip-initial-load, static or watch mode.
  void Connect() override;
  // Stops every subscription (the client then unwatches the branch).
  void Unsubscribe() override;
  bool closed() const override { return closed_; }

  // enableCollaboration (9.3): leaves static/skip-initial-load mode, arms
  // the one-time push of the whole document and starts watch mode.
  // `on_synced` (may be empty) runs once when a sync:true status is emitted.
  void EnableCollaboration(std::function<void()> on_synced = nullptr);

  // The outgoing updates (onUpdates): the full state (one base64 string)
  // replayed on subscription, then every update sent to the server.
  [[nodiscard]] rx::Subscription OnUpdates(
      std::function<void(const std::vector<std::string>&)> callback);
  // The document's client errors (max_size_reached messages, every time).
  [[nodiscard]] rx::Subscription OnClientError(
      std::function<void(const inst::UpdatesReceivedMessage&)> callback);

  const inst::BranchNamespace& ns() const { return config_.ns; }
  bool is_static() const { return static_; }
  bool read_only() const { return config_.read_only; }
  bool synced() const { return synced_; }

 private:
  void StartWatching();
  void RequestBranch();
  void InitializeWithoutLoading();
  void UpdateSynced(bool synced);
  void OnBranchUpdates(const BranchUpdates& updates);
  void HoldForListRequests();
  void ReleaseStaleHolds();
  void OnReceiveAction(const inst::ReceiveActionMessage& message);
  void OnMaxSize(const inst::UpdatesReceivedMessage& message);
  void OnRateLimit(const inst::RateLimitExceededMessage& message);
  void HandleNotAuthorized(const bots::Value& error);
  void OnDocUpdate(std::span<const uint8_t> update,
                   const crdt::Transaction& tr);
  void SendRemote(const bots::Value& event);

  InstRecordsClient& client_;
  partitions::PartitionAuthSource& auth_source_;
  RemoteYjsPartitionConfig config_;
  bool static_;
  bool skip_initial_load_;
  bool send_initial_updates_ = false;
  bool synced_ = false;
  bool authorized_ = false;
  bool watching_ = false;
  bool closed_ = false;
  bool emitted_max_size_ = false;
  std::vector<std::function<void()>> on_synced_;

  std::unique_ptr<partitions::YjsLocalPersistence> persistence_;
  std::vector<rx::Subscription> subs_;
  // The static load and the get_remote_count / list_inst_updates
  // requests: upstream does not tie them to the partition's subscription, so
  // they outlive Unsubscribe() (still re-sent after reconnects and answered);
  // dropped on destruction.
  std::vector<rx::Subscription> request_subs_;
  // list_inst_updates requests not yet answered. Their answer comes from
  // the same add_updates message as the watch's (or static load's) update
  // event; upstream emits it synchronously while the sync status and
  // versions of that event wait for a microtask, so the deferred emissions
  // are held until the answer is out.
  int pending_list_requests_ = 0;
  int held_for_list_ = 0;
  // Of those, the ones made while disconnected and not yet sent.
  int unsent_list_requests_ = 0;
  rx::Subscription list_state_sub_;
  crdt::Subscription doc_updates_;
  rx::Subject<std::vector<std::string>> on_updates_;
  rx::Subject<inst::UpdatesReceivedMessage> on_client_error_;
};

// createRemoteYjsPartition / createRemoteClientYjsPartition: a partition for
// a "remote_yjs" or "yjs_client" config on `client`, nullptr (OK) for other
// types, an error for a malformed config.
absl::StatusOr<std::unique_ptr<RemoteYjsPartition>> CreateRemoteYjsPartition(
    const bots::Value& config, InstRecordsClient& client,
    partitions::PartitionAuthSource& auth_source,
    partitions::YjsPersistenceFactory persistence = nullptr);

// Picks the client a config's `host` talks to (upstream makes one client
// per host); null = no client for that host.
using InstClientForHost =
    std::function<InstRecordsClient*(const std::string& host)>;

// createRemoteYjsPartition as a partitions::PartitionFactory: makes a
// RemoteYjsPartition for "remote_yjs" and "yjs_client" configs, nullptr for
// any other. The client comes from `client_for_host` (a "yjs_client"
// config's `client` object cannot travel in JSON; its host picks the client
// too), the auth source from services.auth_source; either missing is
// FailedPrecondition. Local persistence: `persistence`, else
// services.local_persistence_dir when set. Given client ids replace the
// random ones (reproducible documents).
partitions::PartitionFactory CreateRemoteYjsPartitionFactory(
    InstClientForHost client_for_host,
    partitions::YjsPersistenceFactory persistence = nullptr,
    std::optional<uint64_t> client_id = std::nullopt,
    std::optional<uint64_t> remote_client_id = std::nullopt);

}  // namespace auxsync::client

#endif  // AUXSYNC_CLIENT_REMOTE_YJS_PARTITION_H_
