// YjsPartition: bots kept in a Yjs document (spec/partitions.md section 8;
// aux-common's YjsPartitionImpl on YjsSharedDocument).

#ifndef AUXSYNC_PARTITIONS_YJS_PARTITION_H_
#define AUXSYNC_PARTITIONS_YJS_PARTITION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"
#include "auxsync/bots/version.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/types.h"
#include "auxsync/partitions/inst_updates.h"
#include "auxsync/partitions/memory_partition.h"
#include "auxsync/partitions/partition.h"
#include "auxsync/rx/behavior_subject.h"
#include "auxsync/rx/subject.h"

namespace auxsync::partitions {

// Local persistence of a Yjs document (the seam where CasualOS uses
// IndexedDB, section 8.10-8.11). Open() is called by YjsPartition::Connect()
// before it reports sync: it loads what is stored into `doc` (as a
// non-local transaction, so the partition reports the loaded bots as
// ordinary events) and from then on stores every update of `doc` itself
// (e.g. through Doc::OnUpdate). The object lives as long as the partition
// and is destroyed before the document.
class YjsLocalPersistence {
 public:
  virtual ~YjsLocalPersistence() = default;
  // Loads the stored updates into `doc`. An error is reported on the
  // partition's onError and the partition then reports sync anyway.
  virtual absl::Status Open(crdt::Doc& doc) = 0;
  // Applies what other writers (other partitions, other processes) stored
  // since the last load, as a non-local transaction like Open(). Called by
  // YjsPartition::PollPersistence() after Open() succeeded; the default
  // has nothing to pick up.
  virtual absl::Status Poll() { return absl::OkStatus(); }
};

// Makes the persistence for a partition whose config asks for it
// (`localPersistence.saveToIndexedDb` true and `branch` set): gets the
// branch and the localPersistence object of the config.
using YjsPersistenceFactory =
    std::function<absl::StatusOr<std::unique_ptr<YjsLocalPersistence>>(
        const std::string& branch, const bots::Value& local_persistence)>;

// The settings of a yjs partition ({"type":"yjs", ...}).
struct YjsPartitionConfig {
  std::optional<std::string> branch;
  // The localPersistence object ({saveToIndexedDb, encryptionKey}) or
  // undefined.
  bots::Value local_persistence;
  // remoteEvents as given (undefined = disabled): true/false or an object
  // of action type -> bool, see SupportsRemoteEvent.
  bots::Value remote_events;
  // connectionId as given (answered to get_remotes when truthy).
  bots::Value connection_id;
  bool is_private = false;
  // Yjs client ids of the document (local edits) and of edits marked
  // isRemote; unset = a random uint32, as upstream. Not part of the
  // upstream config: scenarios set them to make bytes reproducible.
  std::optional<uint64_t> client_id;
  std::optional<uint64_t> remote_client_id;
  // Milliseconds since the epoch for the timestamps of InstUpdates; the
  // system clock when empty.
  std::function<double()> now;
  // Makes the local persistence; without it a config asking for
  // persistence runs without (as if saveToIndexedDb were false).
  YjsPersistenceFactory persistence_factory;

  // Reads {"type":"yjs","branch"?,"localPersistence"?,"remoteEvents"?,
  // "connectionId"?,"private"?} (unknown keys are ignored, as upstream).
  // Errors name the offending field.
  static absl::StatusOr<YjsPartitionConfig> FromValue(
      const bots::Value& config);
};

// A partition whose bots live in a Yjs document, with exactly the events,
// versions and document bytes of aux-common 3.10.5's YjsPartition (sections
// 8.1-8.10). Events that upstream delivers one microtask later (the
// onVersionUpdated emissions after each transaction) are delivered at the
// end of the public call that caused them, which is when a JavaScript
// caller awaiting that call would see them. Single-threaded (see
// Partition).
class YjsPartition final : public Partition {
 public:
  explicit YjsPartition(YjsPartitionConfig config);
  ~YjsPartition() override;

  std::string_view type() const override { return "yjs"; }
  std::optional<bool> is_private() const override { return private_; }
  RealtimeStrategy realtime_strategy() const override {
    return RealtimeStrategy::kImmediate;
  }
  const bots::Value& state() const override { return internal_->state(); }

  // Applies add/remove/update/apply_state actions in one Yjs transaction.
  // An error status mirrors an upstream rejection (a TypeError for a tag
  // update of an entry without tags); the changes made before it stay.
  absl::StatusOr<std::vector<bots::Value>> ApplyEvents(
      const std::vector<bots::Value>& events) override;
  bool supports_remote_events() const override { return true; }
  // Answers the remote actions of section 8.8 on onEvents; returns [].
  absl::StatusOr<std::vector<bots::Value>> SendRemoteEvents(
      const std::vector<bots::Value>& events) override;
  void Connect() override;
  void Unsubscribe() override { closed_ = true; }
  bool closed() const override { return closed_; }

  rx::Subscription OnBotsAdded(BotsCallback callback) override;
  rx::Subscription OnBotsRemoved(IdsCallback callback) override;
  rx::Subscription OnBotsUpdated(UpdatedBotsCallback callback) override;
  rx::Subscription OnStateUpdated(StateCallback callback) override;
  rx::Subscription OnVersionUpdated(VersionCallback callback) override;
  rx::Subscription OnError(ValueCallback callback) override;
  rx::Subscription OnEvents(ActionsCallback callback) override;
  rx::Subscription OnStatusUpdated(ValueCallback callback) override;

  // Call from the owning loop (each turn, or from a timer) to pick up
  // updates other partitions or processes wrote to the same local
  // persistence branch since the last load; where CasualOS re-reads on a
  // BroadcastChannel message, we have no channel. The new bots are reported
  // as ordinary remote events before this returns. OK (and a no-op) without
  // local persistence or when it failed to open; an error (also emitted on
  // onError) when the stored updates cannot be read or decrypted.
  absl::Status PollPersistence();

  // The document (for tests and the inst-update utilities). Writing to it
  // directly is reported like any other transaction.
  crdt::Doc& doc() { return *doc_; }
  // The latest document version (section 8.4).
  const bots::CurrentVersion& current_version() const {
    return current_version_;
  }

  // applyUpdates / applyStateUpdates (section 8.7): applies each base64 v1
  // update in its own transaction as remote updates. Stops at the first
  // undecodable update (earlier ones stay applied).
  absl::Status ApplyUpdates(const std::vector<std::string>& base64_updates);
  // getStateUpdate: {id:0, timestamp, update: base64 of the whole state}.
  bots::Value GetStateUpdate();
  // base64 of encodeStateAsUpdate(doc).
  std::string EncodeStateBase64() const;

 private:
  class CallScope;

  void ApplyActions(const std::vector<bots::Value>& actions,
                    absl::Status* error);
  // The value-update rule of section 8.3; an error mirrors a TypeError
  // upstream throws (it ends the batch).
  absl::Status UpdateValueInMap(crdt::YMap map, const std::string& key,
                                bots::Value value);
  void ProcessTransaction(const crdt::Transaction& tr);
  // Converts the event of a tag map, mask map or text; false when a mask
  // key cannot be parsed (upstream throws and drops the transaction).
  bool HandleValueUpdates(const crdt::YEvent& event, bool masks,
                          std::vector<bots::Value>& actions,
                          const bots::Value& version, int& text_events);
  bots::CurrentVersion NextVersion(const bots::Value& edit);
  void SyncSpace();
  void FlushDeferred();
  void Answer(bots::Value action);
  // Answers one remote action on onEvents (section 8.8).
  void HandleRemote(const bots::Value& task_id, const bots::Value& event);
  // install_aux_file (section 8.9); answers on onEvents.
  void InstallAuxFile(const bots::Value& task_id, const bots::Value& action);
  double Now() const;

  std::unique_ptr<crdt::Doc> doc_;
  crdt::YMap bots_;
  crdt::YMap masks_;
  uint64_t local_id_;
  uint64_t remote_id_;
  std::string current_site_;
  std::string remote_site_;
  bool private_;
  bool closed_ = false;
  bots::Value remote_events_;
  bots::Value connection_id_;
  std::optional<std::string> branch_;
  bots::Value local_persistence_config_;
  std::function<double()> now_;
  YjsPersistenceFactory persistence_factory_;
  std::unique_ptr<YjsLocalPersistence> persistence_;
  bool persistence_open_ = false;  // Open() succeeded; Poll() may run

  bool is_local_transaction_ = true;
  bool is_remote_update_ = false;
  bots::CurrentVersion current_version_;
  // Emissions upstream makes one microtask later, flushed when the
  // outermost public call returns.
  int pending_versions_ = 0;
  int call_depth_ = 0;

  struct InstalledAux {
    bots::Value version;
    std::vector<InstUpdate> updates;
    bool broken = false;  // upstream stored [undefined] (section 8.9)
  };
  // install_aux_file sources; the key of a missing source is "undefined".
  absl::flat_hash_map<std::string, InstalledAux> installed_;

  std::unique_ptr<MemoryPartition> internal_;
  rx::BehaviorSubject<bots::CurrentVersion> on_version_;
  rx::Subject<bots::Value> on_error_;
  rx::Subject<std::vector<bots::Value>> on_events_;
  rx::Subject<bots::Value> on_status_;
  crdt::Subscription after_transaction_;
};

// createYjsPartition: a YjsPartition for {"type":"yjs"} configs, nullptr
// (OK) for any other config; errors for a yjs config with wrongly typed
// fields. `persistence` is used when the config asks for local persistence.
absl::StatusOr<std::unique_ptr<YjsPartition>> CreateYjsPartition(
    const bots::Value& config, YjsPersistenceFactory persistence = nullptr);

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_YJS_PARTITION_H_
