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

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/partitions/partition.h"
#include "auxsync/partitions/yjs_partition_core.h"

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
// Partition). The document machinery is YjsPartitionCore's.
class YjsPartition final : public YjsPartitionCore {
 public:
  explicit YjsPartition(YjsPartitionConfig config);
  ~YjsPartition() override;

  std::string_view type() const override { return "yjs"; }
  RealtimeStrategy realtime_strategy() const override {
    return RealtimeStrategy::kImmediate;
  }

  // Applies add/remove/update/apply_state actions in one Yjs transaction.
  // An error status mirrors an upstream rejection (a TypeError for a tag
  // update of an entry without tags); the changes made before it stay.
  absl::StatusOr<std::vector<bots::Value>> ApplyEvents(
      const std::vector<bots::Value>& events) override;
  // Answers the remote actions of section 8.8 on onEvents; returns [].
  absl::StatusOr<std::vector<bots::Value>> SendRemoteEvents(
      const std::vector<bots::Value>& events) override;
  void Connect() override;
  void Unsubscribe() override { closed_ = true; }
  bool closed() const override { return closed_; }

  // Call from the owning loop (each turn, or from a timer) to pick up
  // updates other partitions or processes wrote to the same local
  // persistence branch since the last load; where CasualOS re-reads on a
  // BroadcastChannel message, we have no channel. The new bots are reported
  // as ordinary remote events before this returns. OK (and a no-op) without
  // local persistence or when it failed to open; an error (also emitted on
  // onError) when the stored updates cannot be read or decrypted.
  absl::Status PollPersistence();

 private:
  // Answers one remote action on onEvents (section 8.8).
  void HandleRemote(const bots::Value& task_id, const bots::Value& event);

  bool closed_ = false;
  bots::Value remote_events_;
  bots::Value connection_id_;
  std::optional<std::string> branch_;
  bots::Value local_persistence_config_;
  YjsPersistenceFactory persistence_factory_;
  std::unique_ptr<YjsLocalPersistence> persistence_;
  bool persistence_open_ = false;  // Open() succeeded; Poll() may run
};

// createYjsPartition: a YjsPartition for {"type":"yjs"} configs, nullptr
// (OK) for any other config; errors for a yjs config with wrongly typed
// fields. `persistence` is used when the config asks for local persistence.
absl::StatusOr<std::unique_ptr<YjsPartition>> CreateYjsPartition(
    const bots::Value& config, YjsPersistenceFactory persistence = nullptr);

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_YJS_PARTITION_H_
