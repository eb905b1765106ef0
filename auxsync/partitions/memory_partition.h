// MemoryPartition: bots kept in memory (spec/partitions.md section 7).

#ifndef AUXSYNC_PARTITIONS_MEMORY_PARTITION_H_
#define AUXSYNC_PARTITIONS_MEMORY_PARTITION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"
#include "auxsync/bots/version.h"
#include "auxsync/partitions/partition.h"
#include "auxsync/rx/behavior_subject.h"
#include "auxsync/rx/subject.h"

namespace auxsync::partitions {

// The settings of a memory partition ({"type":"memory", ...}).
struct MemoryPartitionConfig {
  // The initial bots; the partition adopts this object as its state.
  bots::Value initial_state = bots::Value::NewObject();
  std::optional<std::string> local_site_id;   // a new UUID when absent
  std::optional<std::string> remote_site_id;  // a new UUID when absent
  bool is_private = false;

  // Reads {"type":"memory","initialState":{...},"localSiteId"?,
  // "remoteSiteId"?,"private"?}. Errors name the offending field.
  static absl::StatusOr<MemoryPartitionConfig> FromValue(
      const bots::Value& config);
};

// Keeps bots in memory and reports every change, with exactly the events,
// payloads and quirks of aux-common's MemoryPartition, except that batches
// upstream rejects with a TypeError are applied instead (listed in
// docs/compatibility.md). Single-threaded (see Partition).
class MemoryPartition final : public Partition {
 public:
  explicit MemoryPartition(MemoryPartitionConfig config);
  ~MemoryPartition() override;

  std::string_view type() const override { return "memory"; }
  std::optional<bool> is_private() const override { return private_; }
  RealtimeStrategy realtime_strategy() const override {
    return RealtimeStrategy::kImmediate;
  }
  const bots::Value& state() const override { return state_; }

  absl::StatusOr<std::vector<bots::Value>> ApplyEvents(
      const std::vector<bots::Value>& events) override;
  void Connect() override;
  void Unsubscribe() override { closed_ = true; }
  bool closed() const override { return closed_; }

  // onBotsAdded and onStateUpdated replay the current state to each new
  // subscriber; onVersionUpdated replays the current version.
  rx::Subscription OnBotsAdded(BotsCallback callback) override;
  rx::Subscription OnBotsRemoved(IdsCallback callback) override;
  rx::Subscription OnBotsUpdated(UpdatedBotsCallback callback) override;
  rx::Subscription OnStateUpdated(StateCallback callback) override;
  rx::Subscription OnVersionUpdated(VersionCallback callback) override;
  rx::Subscription OnError(ValueCallback callback) override;
  rx::Subscription OnEvents(ActionsCallback callback) override;
  rx::Subscription OnStatusUpdated(ValueCallback callback) override;

  // The latest published version.
  const bots::CurrentVersion& version() const { return on_version_.value(); }

  // Hooks the Yjs partitions use to stamp their own versions (section 7.1):
  // the version put on state events and replays, and the version of an edit.
  void set_current_version_hook(std::function<bots::CurrentVersion()> hook) {
    current_version_hook_ = std::move(hook);
  }
  void set_next_version_hook(
      std::function<bots::CurrentVersion(const bots::Value& edit)> hook) {
    next_version_hook_ = std::move(hook);
  }

 private:
  struct Batch;

  void Apply(Batch& batch, const bots::Value& action);
  void AddBot(Batch& batch, const bots::Value& action);
  void RemoveBot(Batch& batch, const bots::Value& action);
  void UpdateBot(Batch& batch, const bots::Value& action);
  // `entry` is the bot's entry in the state; `update_tags` is update.tags.
  // Returns true when the bot's partial entry is known to end with a
  // non-empty `tags` object (false: unknown).
  bool UpdateTags(Batch& batch, const std::string& id, const bots::Value& entry,
                  const bots::Value& update, const bots::Value& update_tags);
  // A batch of one update_bot (given by its `id` and `update`) of an
  // existing bot with a tags object, done with the same emissions as the
  // general path but without its batch-wide maps. Returns false, having
  // changed nothing, for any other shape.
  bool SingleUpdate(Batch& batch, const bots::Value& id,
                    const bots::Value& update);
  // Writes `update_tags` into the bot's `tags_object` and into the partial
  // entry's `partial_tags` (upstream's tag loop), appending the names of
  // changed tags to `changed`. `last_partial` is the bot's partial entry
  // from earlier in the batch (undefined when none).
  void WriteTags(Batch& batch, bots::Object& update_tags,
                 bots::Object* tags_object, bots::Object& partial_tags,
                 const bots::Value& last_partial,
                 std::vector<std::string>& changed);
  // WriteTags for an update of one tag to a primitive value, in the bot's
  // `tags` (not the update's own tags object) with the update's tags as the
  // partial entry's, in two steps: FindOneTag reads the tag and finds its
  // slot (`tag` is nullptr for any other input), WriteOneTag writes it, with
  // nothing changing either object in between, and makes `changed` the
  // list of the changed tag names.
  struct OneTag {
    const std::string* tag = nullptr;
    const bots::Value* given = nullptr;
    bots::Value* slot = nullptr;
  };
  static OneTag FindOneTag(bots::Object& update_tags, bots::Object& tags);
  static void WriteOneTag(const OneTag& one, bots::Object& update_tags,
                          bots::Object& tags,
                          std::vector<std::string>& changed);
  void UpdateMasks(Batch& batch, const std::string& id,
                   const bots::Value& update, const std::string& space);
  // Applies a tag edit to `target` (a bot's tags or masks) and records the
  // edit to report in `emitted`, combined with `last_emitted` when that was
  // an earlier edit of the same tag in this batch. `last_emitted` is taken
  // by value: it may live in `target`, which the edit changes first.
  void ApplyEdit(Batch& batch, const std::string& tag, const bots::Value& edit,
                 const bots::Value& old_value, bots::Value last_emitted,
                 bots::Object& target, bots::Object& emitted);
  void Emit(Batch& batch);
  // Empties `batch` for the next call, keeping what may be reused.
  void EndBatch(Batch& batch);
  // A list of tag names from the batch's spares, or a new one; and giving
  // one back.
  static std::vector<std::string> TakeTagList(Batch& batch);
  static void KeepTagList(Batch& batch, std::vector<std::string>&& list);
  // A shallow copy of `source` ({...source}) in a spare object if the batch
  // has one.
  static bots::Value NewShallowCopy(Batch& batch, const bots::Object& source);

  // An entry to write an update into, and whether it is the stored object
  // itself.
  struct Writable {
    bots::Value value;
    bool in_place;
  };
  Writable WritableCopy(const std::string& id);
  Writable WritableCopy(const bots::Value* entry);
  void StoreBack(const std::string& id, Writable& bot);
  bots::CurrentVersion NextVersion(const bots::Value& edit);

  bots::Value state_;
  std::string site_id_;
  std::string remote_site_id_;
  bool private_;
  bool closed_ = false;
  double update_counter_ = 0;
  std::function<bots::CurrentVersion()> current_version_hook_;
  std::function<bots::CurrentVersion(const bots::Value&)> next_version_hook_;

  rx::Subject<std::vector<bots::Value>> on_bots_added_;
  rx::Subject<std::vector<std::string>> on_bots_removed_;
  rx::Subject<std::vector<bots::UpdatedBot>> on_bots_updated_;
  rx::Subject<bots::StateUpdatedEvent> on_state_updated_;
  rx::BehaviorSubject<bots::CurrentVersion> on_version_;
  rx::Subject<bots::Value> on_error_;
  rx::Subject<std::vector<bots::Value>> on_events_;
  rx::Subject<bots::Value> on_status_;
  // on_version_'s value as JSON-shaped Value, kept to stamp state events.
  bots::Value version_value_;
  // The containers of the last batch, cleared, kept to reuse their storage.
  std::unique_ptr<Batch> spare_batch_;
  // UpdateTags' list of tag names, kept to reuse its capacity.
  std::vector<std::string> tag_scratch_;
};

// createMemoryPartition: a MemoryPartition for {"type":"memory"} configs
// with "initialState"; nullptr (with OK status) for any other config. A
// memory config without initialState names an existing partition, which
// the factory chain handles (see partition_factories.h).
absl::StatusOr<std::unique_ptr<MemoryPartition>> CreateMemoryPartition(
    const bots::Value& config);

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_MEMORY_PARTITION_H_
