// YjsPartitionCore: the machinery YjsPartition and RemoteYjsPartition share
// (spec/partitions.md 8.1-8.9): the bot document, the write path, the
// transaction -> bot event conversion, versions, binary updates and the
// remote actions both answer locally. A partition is a subclass that adds
// its connect sequence and its handling of the other remote actions.

#ifndef AUXSYNC_PARTITIONS_YJS_PARTITION_CORE_H_
#define AUXSYNC_PARTITIONS_YJS_PARTITION_CORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "auxsync/bots/state_updated_event.h"
#include "auxsync/bots/value.h"
#include "auxsync/bots/version.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/types.h"
#include "auxsync/partitions/inst_updates.h"
#include "auxsync/partitions/memory_partition.h"
#include "auxsync/partitions/partition.h"
#include "auxsync/partitions/yjs_helpers.h"
#include "auxsync/rx/behavior_subject.h"
#include "auxsync/rx/subject.h"

namespace auxsync::crdt::engine {
struct Item;
}  // namespace auxsync::crdt::engine

namespace auxsync::partitions {

// The transaction origin of applyUpdates / apply_updates_to_inst.
inline constexpr std::string_view kApplyUpdatesToInstOrigin =
    "__apply_updates_to_inst";

// What a subclass chooses about the shared core.
struct YjsPartitionCoreOptions {
  // Yjs client ids of the document and of isRemote edits (unset = random).
  std::optional<uint64_t> client_id;
  std::optional<uint64_t> remote_client_id;
  bool is_private = false;
  // Epoch milliseconds for InstUpdate timestamps; empty = system clock.
  std::function<double()> now;
  // The "local transaction" flag (8.4) is cleared after every write batch
  // (RemoteYjsPartition, 9) instead of staying set (YjsPartition).
  bool local_flag_only_during_writes = false;
  // create_initialization_update with no bots answers an undefined result
  // (YjsPartition) or nothing at all (RemoteYjsPartition, N45).
  bool answer_empty_initialization = true;
};

// Not thread-safe; see Partition. Events that upstream delivers one
// microtask later are queued (Defer) and delivered, in order, at the end of
// the outermost call into the partition (a CallScope).
class YjsPartitionCore : public Partition {
 public:
  ~YjsPartitionCore() override;

  std::optional<bool> is_private() const override { return private_; }
  const bots::Value& state() const override { return internal_->state(); }
  bool supports_remote_events() const override { return true; }

  rx::Subscription OnBotsAdded(BotsCallback callback) override;
  rx::Subscription OnBotsRemoved(IdsCallback callback) override;
  rx::Subscription OnBotsUpdated(UpdatedBotsCallback callback) override;
  rx::Subscription OnStateUpdated(StateCallback callback) override;
  rx::Subscription OnVersionUpdated(VersionCallback callback) override;
  rx::Subscription OnError(ValueCallback callback) override;
  rx::Subscription OnEvents(ActionsCallback callback) override;
  rx::Subscription OnStatusUpdated(ValueCallback callback) override;

  // The document (for tests and the inst-update utilities). Writing to it
  // directly is reported like any other transaction.
  crdt::Doc& doc() { return *doc_; }
  // The latest document version (section 8.4).
  const bots::CurrentVersion& current_version() const {
    return current_version_;
  }

  // applyUpdates / applyStateUpdates (section 8.7): applies each base64 v1
  // update in its own transaction (origin "__apply_updates_to_inst") as
  // remote updates. Stops at the first undecodable update (earlier ones
  // stay applied).
  absl::Status ApplyUpdates(const std::vector<std::string>& base64_updates);
  // getStateUpdate: {id:0, timestamp, update: base64 of the whole state}.
  bots::Value GetStateUpdate();
  // base64 of encodeStateAsUpdate(doc).
  std::string EncodeStateBase64() const;

 protected:
  explicit YjsPartitionCore(YjsPartitionCoreOptions options);

  // Counts nested calls; the outermost one delivers the deferred emissions
  // when it ends. Every public entry point of a subclass opens one.
  class CallScope {
   public:
    explicit CallScope(YjsPartitionCore* p) : p_(p) { ++p_->call_depth_; }
    ~CallScope() {
      if (--p_->call_depth_ == 0) p_->FlushDeferred();
    }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

   private:
    YjsPartitionCore* p_;
  };

  // Expands apply_state and applies add/remove/update actions in one Yjs
  // transaction (8.3). An error mirrors an upstream rejection.
  absl::Status ApplyBotEvents(const std::vector<bots::Value>& events);
  // Applies base64 updates as remote updates with the given origin (none
  // for the server's updates).
  absl::Status ApplyUpdatesWithOrigin(
      const std::vector<std::string>& base64_updates, bool apply_origin);
  // ApplyUpdatesWithOrigin of texts the caller holds until it returns.
  absl::Status ApplyUpdateTexts(
      absl::Span<const std::string_view> base64_updates, bool apply_origin);
  // Answers one of the remote actions both partitions compute locally
  // (get_inst_state_from_updates, create_initialization_update,
  // apply_updates_to_inst, get_current_inst_update, install_aux_file) on
  // onEvents; false for any other type (nothing done).
  bool HandleLocalRemote(const bots::Value& task_id, const bots::Value& event);
  // Emits one action on onEvents.
  void Answer(bots::Value action);
  void EmitEvents(const std::vector<bots::Value>& actions) {
    on_events_.Next(actions);
  }
  void EmitStatus(const bots::Value& status) { on_status_.Next(status); }
  void EmitError(const bots::Value& error) { on_error_.Next(error); }
  // Queues `fn` behind the pending deferred emissions (an empty one is
  // ignored).
  void Defer(std::function<void()> fn);
  // Holds the deferred emissions past the current call (as an open
  // CallScope would) until the matching ReleaseDeferred(), for a subclass
  // whose JavaScript original would reach another observer of the same
  // event before its microtasks run.
  void HoldDeferred() { ++call_depth_; }
  void ReleaseDeferred() {
    if (--call_depth_ == 0) FlushDeferred();
  }
  double Now() const;
  bool in_call() const { return call_depth_ > 0; }
  const std::string& current_site() const { return current_site_; }

 private:
  // The fields of one action the write path reads (defined in the .cc).
  struct WriteAction;
  // Applies add/remove/update actions in one transaction; `read` holds
  // WriteAction::Of of each action when the caller has them (or is null).
  void ApplyActions(const std::vector<bots::Value>& actions,
                    const WriteAction* read, absl::Status* error);
  // The value-update rule of section 8.3; an error mirrors a TypeError
  // upstream throws (it ends the batch).
  absl::Status UpdateValueInMap(crdt::YMap map, const std::string& key,
                                bots::Value value);
  // One plain tag value the write path set.
  struct NotedWrite {
    crdt::engine::TypeImpl* map = nullptr;  // the bot's tag map
    crdt::engine::Item* item = nullptr;     // the tag's new item
    bots::Value* entry = nullptr;           // the bot in the state
    bots::Object* tags = nullptr;           // the bot's tags object
    bots::Value* slot = nullptr;            // the tag in `tags`, or null
    bots::Value value;                      // the value written
  };
  void ProcessTransaction(const crdt::Transaction& tr);
  // The read path without the internal MemoryPartition for the two common
  // transaction shapes: only new bots, or only plain tag values of existing
  // bot maps. Updates the state and emits exactly what the MemoryPartition
  // would for the same actions. False (nothing done) for any other shape.
  // Takes `version` (the new state vector) only when it returns true.
  bool ProcessDirect(const crdt::Transaction& tr, bots::Value& version);
  // The write path's plain tag values (tag_write_) reported without
  // reading the transaction back: when `tr` is the transaction that wrote
  // them, changed nothing else, and the state is as the write path saw it
  // (one value: EmitOneTagUpdate; more: ProcessTagWrites).
  // Same emissions as ProcessDirect; false (nothing done) otherwise. Takes
  // `version` only when it returns true.
  bool ProcessTagWrite(const crdt::Transaction& tr, bots::Value& version);
  // Whether noted write `w` is all that `tr` did to its bot map (whose
  // change the caller checked): then its value as the document reads it
  // goes to *value (the value written when it reads the same).
  bool NotedWriteHolds(const crdt::Transaction& tr, NotedWrite& w,
                       bots::Value* value);
  // ProcessTagWrite of several noted writes, one per bot (a batch of
  // single-tag updates): reported through EmitTagUpdates with the bots'
  // state entries, tags objects and slots the write path found.
  bool ProcessTagWrites(const crdt::Transaction& tr, bots::Value& version);
  // EmitTagUpdates of {id: {tags: {tag: value}}} for the bot the write path
  // found (`tag_write_.first`), with partial-state objects kept between
  // calls.
  void EmitOneTagUpdate(const std::string& id, const std::string& tag,
                        bots::Value value);
  // A new bot of a transaction: its id (a key of the bots map) and the
  // key's current item.
  struct NewBot {
    const std::string* id;
    const crdt::engine::Item* item;
  };
  // MemoryPartition's addBot for the new bots `ids` (distinct), each read
  // from the document, then its emission.
  void EmitAdded(absl::Span<const NewBot> ids);
  // current_version_.ToValue() for a state event; the object of the last
  // event is reused when no one kept it (only its vector changes).
  bots::Value VersionValue();
  // What the caller knows of a partial state's entries: kAllUpdated, every
  // one is an object without an `id`; kAllAdded, every one is a bot whose
  // `id` is its key (the classification is then known).
  enum class PartialKind : uint8_t { kMixed, kAllUpdated, kAllAdded };
  // Emits `partial` on onStateUpdated (when it names any bot), through a
  // StateUpdatedEvent whose lists keep their storage between calls.
  void EmitStateUpdate(bots::Value partial,
                       PartialKind kind = PartialKind::kMixed);
  // An empty object for a partial state (the spare one if there is one).
  bots::Value TakePartial();
  // {tags}: a partial-state entry, the spare one if there is one.
  bots::Value TakeEntry(const bots::Value& tags);
  // An empty object (a spare one if there is one); ReturnSpareObject keeps
  // a small object nothing else holds, emptied, for a later TakeSpareObject.
  bots::Value TakeSpareObject();
  void ReturnSpareObject(bots::Value object);
  // Emits the tag updates of `updates` (bot id -> changed tags; the ids
  // are distinct). `found`, when given, holds for each update its bot's
  // state entry, tags object and the tag's slot (updates of one tag each),
  // which are then not looked up.
  void EmitTagUpdates(absl::Span<std::pair<std::string, bots::Value>> updates,
                      const NotedWrite* found = nullptr);
  // A cleared list for UpdatedBot::tags, with the storage of an earlier one
  // when there is one; ReturnTagList keeps a list's storage for later.
  std::vector<std::string> TakeTagList();
  void ReturnTagList(std::vector<std::string> tags);
  // Converts the event of a tag map, mask map or text; false when a mask
  // key cannot be parsed (upstream throws and drops the transaction).
  bool HandleValueUpdates(const crdt::YEvent& event, bool masks,
                          std::vector<bots::Value>& actions,
                          const bots::Value& version, int& text_events);
  bots::CurrentVersion NextVersion(const bots::Value& edit);
  void SyncSpace();
  void QueueVersions(int count);
  void FlushDeferred();
  // Invalidates every BotRef (moves the epoch), and empties bot_refs_ when
  // it holds many more ids than there are bots.
  void DropBotRefs();
  // install_aux_file (section 8.9); answers on onEvents.
  void InstallAuxFile(const bots::Value& task_id, const bots::Value& action);

  std::unique_ptr<crdt::Doc> doc_;
  crdt::YMap bots_;
  crdt::YMap masks_;
  uint64_t local_id_;
  uint64_t remote_id_;
  std::string current_site_;
  std::string remote_site_;
  bool private_;
  std::function<double()> now_;
  bool local_flag_only_during_writes_;
  bool answer_empty_initialization_;

  bool is_local_transaction_ = true;
  bool is_remote_update_ = false;
  bots::CurrentVersion current_version_;
  // Emissions upstream makes one microtask later, in order, delivered when
  // the outermost call returns; an empty function is onVersionUpdated of
  // the version current then.
  std::vector<std::function<void()>> deferred_;
  int call_depth_ = 0;

  struct InstalledAux {
    bots::Value version;
    std::vector<InstUpdate> updates;
    bool broken = false;  // upstream stored [undefined] (section 8.9)
  };
  // install_aux_file sources; the key of a missing source is "undefined".
  absl::flat_hash_map<std::string, InstalledAux> installed_;

  // Keeps the state; applies what ProcessDirect does not handle.
  std::unique_ptr<MemoryPartition> internal_;
  // The bot observables: the direct read path emits here, and internal_'s
  // emissions are forwarded here (forward_).
  rx::Subject<std::vector<bots::Value>> on_bots_added_;
  rx::Subject<std::vector<std::string>> on_bots_removed_;
  rx::Subject<std::vector<bots::UpdatedBot>> on_bots_updated_;
  rx::Subject<bots::StateUpdatedEvent> on_state_updated_;
  std::vector<rx::Subscription> forward_;
  // See VersionValue(); spare_event_ is null while an emission uses it.
  bots::Value version_value_;
  bots::Value* version_vector_ = nullptr;  // its "vector", once found
  std::unique_ptr<bots::StateUpdatedEvent> spare_event_;
  bots::Value
      spare_partial_;  // an empty object nothing else holds, or undefined
  std::unique_ptr<std::vector<bots::UpdatedBot>> spare_updated_;
  // EmitTagUpdates' list of dropped tag names (no callbacks run while it is
  // used) and the storage of earlier UpdatedBot tag lists.
  std::vector<std::string> tag_scratch_;
  std::vector<std::vector<std::string>> spare_tag_lists_;
  // {tags} partial-state entries nothing else holds (tags undefined), at
  // most kSpareEntries; empty objects nothing else holds.
  static constexpr size_t kSpareEntries = 128;
  std::vector<bots::Value> spare_entries_;
  std::vector<bots::Value> spare_objects_;
  // A plain tag value the write path set, noted for ProcessTagWrite. Every
  // pointer is valid only while state_epoch_ is `epoch` (nothing changed the
  // state since) and the transaction `tr` is being reported.
  // The plain tag values written in transaction `tr`, in order, unless
  // something else was written there too (`other`): `count` of them, the
  // first in `first` (a single-tag update reads nothing else), the others
  // in `more`.
  struct TagWrite {
    const crdt::Transaction* tr = nullptr;  // null: nothing noted
    uint64_t epoch = 0;
    bool other = false;
    size_t count = 0;
    NotedWrite first;
    std::vector<NotedWrite> more;
  };
  TagWrite tag_write_;
  // What the write path finds for a bot id before it writes one of its
  // tags (its state entry, the entry's tags object, its map in the
  // document), kept across batches: a single-tag update then makes one
  // lookup (and touches two cache lines) instead of three (a state index,
  // the entry's object, the document's bots map and its key). An entry is
  // valid while `epoch` is bot_refs_epoch_; the epoch moves whenever a
  // transaction may have added, removed or replaced bots in the state or
  // the document (ProcessDirect's new bots, the general path), and the
  // write path checks that the map's item is still live (a batch that
  // replaced the bot before this write). The item is kept beside the map
  // (it is map->item) so that the check does not wait for the map's line
  // before it can ask for the item's.
  struct BotRef {
    uint64_t epoch = 0;
    bots::Value* entry = nullptr;
    bots::Object* tags = nullptr;
    crdt::engine::TypeImpl* map = nullptr;
    const crdt::engine::Item* item = nullptr;
  };
  absl::flat_hash_map<std::string, BotRef> bot_refs_;
  uint64_t bot_refs_epoch_ = 1;
  // Changes whenever a transaction was reported (the state may have
  // changed): what invalidates tag_write_'s pointers.
  uint64_t state_epoch_ = 0;
  // EmitOneTagUpdate's partial-state entry {tags} and tags {tag: value}
  // (the partial state {id: entry} is one_event_.state), reused while no
  // one else holds them; its UpdatedBot list and state event; whether an
  // emission is using them.
  bots::Value one_entry_;
  bots::Value one_tags_;
  std::vector<bots::UpdatedBot> one_updated_;
  bots::StateUpdatedEvent one_event_;
  bool one_busy_ = false;
  // The state vector value of every transaction.
  StateVectorValueCache state_vector_cache_;
  rx::BehaviorSubject<bots::CurrentVersion> on_version_;
  rx::Subject<bots::Value> on_error_;
  rx::Subject<std::vector<bots::Value>> on_events_;
  rx::Subject<bots::Value> on_status_;
  crdt::Subscription after_transaction_;
};

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_YJS_PARTITION_CORE_H_
