// OtherPlayersPartition: the bots of every other player on a branch, as one
// read-only space (spec/partitions.md section 10; aux-common's
// OtherPlayersPartitionImpl). It discovers players by watching the branch's
// devices and shows the temporary branch of each one
// ("<branch>-player-<connectionId>") through a child partition.

#ifndef AUXSYNC_CLIENT_OTHER_PLAYERS_PARTITION_H_
#define AUXSYNC_CLIENT_OTHER_PLAYERS_PARTITION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"
#include "auxsync/bots/version.h"
#include "auxsync/client/inst_records_client.h"
#include "auxsync/inst/messages.h"
#include "auxsync/partitions/partition.h"
#include "auxsync/partitions/partition_auth_source.h"
#include "auxsync/partitions/partition_factories.h"
#include "auxsync/rx/behavior_subject.h"
#include "auxsync/rx/subject.h"

namespace auxsync::client {

// The settings of {"type":"other_players_repo" | "other_players_client",
// recordName, inst, branch, childPartitionType?, skipInitialLoad?}. The
// repo form's `host` (and the client form's `client`) choose the
// InstRecordsClient, which the caller passes separately.
struct OtherPlayersPartitionConfig {
  inst::RecordName record_name;
  std::string inst;
  std::string branch;
  // Upstream accepts only "yjs_client" (also its default); kept for echo.
  std::string child_partition_type = "yjs_client";
  bool skip_initial_load = false;
  // Reads the fields above from a config object; errors name the field.
  // Unknown keys (type, host, client, private, ...) are ignored.
  static absl::StatusOr<OtherPlayersPartitionConfig> FromValue(
      const bots::Value& config);
};

// Makes the child partition that shows one player's branch: upstream a
// RemoteYjsPartition ({type:"yjs_client", recordName, inst, branch: `ns`'s,
// temporary: true, readOnly: true}) on the same InstRecordsClient and auth
// source. Its Connect() must watch `ns`, and its Unsubscribe() must stop
// the watch (sending repo/unwatch_branch while connected).
using ChildPartitionFactory =
    std::function<absl::StatusOr<std::unique_ptr<partitions::Partition>>(
        const inst::BranchNamespace& ns)>;

struct OtherPlayersPartitionOptions {
  // Runs `task` later, where upstream resumes after an `await` (loading and
  // unloading a child, section 10.5). The owner normally posts to its event
  // loop (e.g. boost::asio::post(io, task)), so a task runs after the
  // connection callback that queued it has finished, as a microtask runs
  // after the current JavaScript task. Empty: tasks run when the outermost
  // call into this partition returns (a connection callback counts as one);
  // a connection state change counts as one call (the work of the
  // partition's handler waits for the client's synthesised disconnects).
  // Tasks queued before the partition is destroyed are dropped.
  std::function<void(std::function<void()> task)> defer;
  // Empty: a RemoteYjsPartition as described at ChildPartitionFactory.
  ChildPartitionFactory child_factory;
};

// Single-threaded (see Partition); belongs to the loop of its client. The
// client (and the auth source, if any) must outlive the partition.
//
// Behaviour as upstream 3.10.5: realtime strategy "delayed"; ApplyEvents
// ignores everything; the own connection (from login) is never a player;
// join/leave shouts onRemoteJoined/onRemotePlayerSubscribed and
// onRemoteLeave/onRemotePlayerUnsubscribed; get_remotes answered locally
// with the sorted connection ids; a socket loss forgets every player (and
// the client's synthesised disconnects count as presence events, so a
// partition that knew players reports sync false then sync true).
//
// Setting the space also sets it on every loaded player partition.
class OtherPlayersPartition final : public partitions::Partition {
 public:
  OtherPlayersPartition(InstRecordsClient& client,
                        partitions::PartitionAuthSource& auth_source,
                        OtherPlayersPartitionConfig config,
                        OtherPlayersPartitionOptions options = {});
  ~OtherPlayersPartition() override;
  OtherPlayersPartition(const OtherPlayersPartition&) = delete;
  OtherPlayersPartition& operator=(const OtherPlayersPartition&) = delete;

  std::string_view type() const override { return "other_players"; }
  // Also sets it on every loaded player partition (upstream's setter).
  void set_space(std::optional<std::string> space) override;
  // Upstream never sets `private` on this partition.
  std::optional<bool> is_private() const override { return std::nullopt; }
  partitions::RealtimeStrategy realtime_strategy() const override {
    return partitions::RealtimeStrategy::kDelayed;
  }
  // The aggregated state of every loaded player branch. A new object after
  // each child state event; unloading a player deletes its entries in place.
  const bots::Value& state() const override { return state_; }

  // Ignores every event and returns [] (the partition is read-only).
  absl::StatusOr<std::vector<bots::Value>> ApplyEvents(
      const std::vector<bots::Value>& events) override;
  bool supports_remote_events() const override { return true; }
  // Answers `remote` get_remotes envelopes on onEvents with
  // async_result(taskId, sorted ids of the own connection and every known
  // player); ignores everything else and sends nothing. FailedPrecondition
  // (upstream's TypeError) when the connection has no identity yet.
  absl::StatusOr<std::vector<bots::Value>> SendRemoteEvents(
      const std::vector<bots::Value>& events) override;

  // skipInitialLoad: reports connection, authentication, authorization and
  // sync (all true) and sends nothing; otherwise watches the devices.
  void Connect() override;
  // Leaves skip-initial-load mode: marks unsynced, watches the devices and
  // calls `on_synced` (if set) at the next sync true status.
  void EnableCollaboration(std::function<void()> on_synced = nullptr);
  // Forgets every player (leave shouts, child unloads) and stops watching.
  void Unsubscribe() override;
  bool closed() const override { return closed_; }

  // The client's forced_offline (true disconnects, false reconnects).
  bool forced_offline() const { return client_.forced_offline(); }
  void set_forced_offline(bool offline) { client_.set_forced_offline(offline); }

  rx::Subscription OnBotsAdded(partitions::BotsCallback callback) override;
  rx::Subscription OnBotsRemoved(partitions::IdsCallback callback) override;
  rx::Subscription OnBotsUpdated(
      partitions::UpdatedBotsCallback callback) override;
  rx::Subscription OnStateUpdated(partitions::StateCallback callback) override;
  rx::Subscription OnVersionUpdated(
      partitions::VersionCallback callback) override;
  rx::Subscription OnError(partitions::ValueCallback callback) override;
  rx::Subscription OnEvents(partitions::ActionsCallback callback) override;
  rx::Subscription OnStatusUpdated(partitions::ValueCallback callback) override;

  // The connection ids of the known players, in join order (for tests).
  std::vector<std::string> DeviceIds() const;

 private:
  class CallScope;
  struct Child;
  struct Device {
    inst::ConnectionInfo info;
    int count = 0;
  };

  void LoadWithoutConnecting();
  void WatchDevices();
  void CloseSpan();
  void OnConnectionState(const ClientConnectionState& state);
  void OnDeviceEvent(const DeviceEvent& event);
  void UpdateSynced(bool synced);
  void RegisterDevice(const inst::ConnectionInfo& device);
  void UnregisterDevice(const inst::ConnectionInfo& device);
  void CleanupAllDevices();
  void TryLoadBranch(const inst::ConnectionInfo& device);
  void TryUnloadBranch(const inst::ConnectionInfo& device);
  void FinishLoad(const std::shared_ptr<Child>& child);
  void FinishUnload(const std::shared_ptr<Child>& child);
  void OnChildState(const bots::StateUpdatedEvent& event);
  absl::StatusOr<std::unique_ptr<partitions::Partition>> MakeChild(
      const inst::BranchNamespace& ns);
  void Defer(std::function<void()> task);
  void FlushDeferred();
  Device* FindDevice(const std::string& id);
  std::string MaskSpaceKey() const;

  InstRecordsClient& client_;
  partitions::PartitionAuthSource& auth_source_;
  OtherPlayersPartitionConfig config_;
  OtherPlayersPartitionOptions options_;
  bool skip_initial_load_;
  bool synced_ = false;
  bool closed_ = false;
  std::optional<std::string> current_connection_id_;
  // Known players in join order (JavaScript Map order).
  std::vector<Device> devices_;
  // Player branch -> its child (loading or loaded).
  absl::flat_hash_map<std::string, std::shared_ptr<Child>> children_;
  // The loaded children in the order their loads finished (upstream's
  // _partitionSubs Map order, which Unsubscribe() follows).
  std::vector<std::shared_ptr<Child>> loaded_;
  bots::Value state_ = bots::Value::NewObject();
  std::vector<rx::Subscription> watch_subs_;
  // A connection state emission in progress across this partition's
  // handlers holds one call level (see WatchDevices()).
  bool span_open_ = false;
  int span_latest_ = 0;
  std::vector<std::function<void()>> on_synced_;

  int call_depth_ = 0;
  std::vector<std::function<void()>> deferred_;
  // Cleared on destruction so that tasks handed to options_.defer do
  // nothing afterwards.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  rx::Subject<std::vector<bots::Value>> on_bots_added_;
  rx::Subject<std::vector<std::string>> on_bots_removed_;
  rx::Subject<std::vector<bots::UpdatedBot>> on_bots_updated_;
  rx::Subject<bots::StateUpdatedEvent> on_state_updated_;
  rx::BehaviorSubject<bots::CurrentVersion> on_version_;
  rx::Subject<bots::Value> on_error_;
  rx::Subject<std::vector<bots::Value>> on_events_;
  rx::Subject<bots::Value> on_status_;
};

// createOtherPlayersClientPartition (and the repo form): a partition for an
// "other_players_client" or "other_players_repo" config on `client`,
// nullptr (OK) for other types, an error for a malformed config. For the
// repo form the caller makes `client` for the config's `host`.
absl::StatusOr<std::unique_ptr<OtherPlayersPartition>>
CreateOtherPlayersPartition(const bots::Value& config,
                            InstRecordsClient& client,
                            partitions::PartitionAuthSource& auth_source,
                            OtherPlayersPartitionOptions options = {});

// CreateOtherPlayersPartition as a PartitionFactory for CreateAuxPartition:
// every "other_players_client" / "other_players_repo" config gets a
// partition on `client` (not owned; must outlive the partitions) and on
// services.auth_source (FailedPrecondition when that is null).
partitions::PartitionFactory OtherPlayersPartitionFactory(
    InstRecordsClient& client, OtherPlayersPartitionOptions options = {});

}  // namespace auxsync::client

#endif  // AUXSYNC_CLIENT_OTHER_PLAYERS_PARTITION_H_
