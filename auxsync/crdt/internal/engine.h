// Internal operations of the engine shared between its .cc files:
// splitting, integration, deletion, update reading/writing, cleanup.
#ifndef AUXSYNC_CRDT_INTERNAL_ENGINE_H_
#define AUXSYNC_CRDT_INTERNAL_ENGINE_H_

#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/internal/engine_lib0.h"
#include "auxsync/crdt/internal/item.h"
#include "auxsync/crdt/internal/struct_store.h"
#include "auxsync/crdt/internal/update_decoder.h"
#include "auxsync/crdt/wire_struct.h"

namespace auxsync::crdt::engine {

// Observer lists of a type.
struct EventHandlers {
  int next_id = 1;
  std::vector<
      std::pair<int, std::function<void(const YEvent&, const Transaction&)>>>
      observe;
  std::vector<
      std::pair<int, std::function<void(const std::vector<const YEvent*>&,
                                        const Transaction&)>>>
      deep;
};

// ---- update encoders / decoders (v1 and v2 share one interface) ----------

// Sticky error: a field yjs would throw on (an embed or format value
// JSON.stringify cannot print in v1, a delete range of length 0 in v2) is
// recorded in status() and writes nothing; check it once after writing.
class UpdateWriter {
 public:
  virtual ~UpdateWriter() = default;
  Writer& rest() { return rest_; }
  const absl::Status& status() const { return status_; }
  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }
  virtual void WriteClient(uint64_t c) = 0;
  virtual void WriteLeftId(Id id) = 0;
  virtual void WriteRightId(Id id) = 0;
  virtual void WriteInfo(uint8_t info) = 0;
  virtual void WriteString(std::string_view utf8) = 0;
  virtual void WriteString16(std::u16string_view s) = 0;
  virtual void WriteParentInfo(bool is_root) = 0;
  virtual void WriteTypeRef(uint64_t ref) = 0;
  virtual void WriteLen(uint64_t len) = 0;
  virtual void WriteAnyValue(const Any& v) = 0;
  virtual void WriteBuf(std::string_view b) = 0;
  virtual void WriteJson(const Any& v) = 0;
  virtual void WriteKey(std::string_view k) = 0;
  virtual void DsClear() = 0;
  virtual void DsWriteClock(uint64_t clock) = 0;
  virtual void DsWriteLen(uint64_t len) = 0;
  virtual std::vector<uint8_t> Finish() = 0;

 protected:
  Writer rest_;
  absl::Status status_;
};

std::unique_ptr<UpdateWriter> NewWriter(bool v2);

// A struct as decoded from an update (not integrated).
struct WireStruct {
  uint8_t ref = kRefGC;  // kRefGC, kRefSkip or a content ref
  Id id;
  uint64_t length = 0;
  OptId origin, right_origin;
  uint8_t parent_kind = 0;  // 0 none, 1 root name, 2 item id
  std::string parent_name;
  Id parent_id;
  bool has_parent_sub = false;
  std::string parent_sub;
  Content content;
  uint64_t EndClock() const { return id.clock + length; }
};

// A struct decoded straight into an Item of the doc's pool (id, length,
// origins, key, content; a GC struct has `gc` set, a Skip has content ref
// kRefSkip), not linked or integrated, and how the update names its parent.
// 16 bytes: a full document's structs are megabytes of them, written while
// decoding and read again while integrating, after the items themselves.
class DecodedStruct {
 public:
  DecodedStruct() = default;
  // The item, owned by whoever holds the struct (the decoded update, then a
  // pending rest) until it is taken (integrated, or given back to the
  // pool). Only while held.
  Item* item() const {
    assert(!taken());
    return item_;
  }
  // A new item to decode into (or null: the struct holds nothing).
  void set_item(Item* it) {
    item_ = it;
    meta_ = 0;
  }
  // The item while held, else null (taken, or none set).
  Item* held() const { return taken() ? nullptr : item_; }

  // How the update names the parent: 0 none, 1 a root name
  // (parent_name()), 2 an item id (parent_id()). The name or id is kept in
  // the item's `left` and `parent`, which nothing sets before integration
  // resolves the parent (ClearParent, then the real values): a struct that
  // names its parent has no origins, so nothing links it before that.
  uint8_t parent_kind() const {
    return static_cast<uint8_t>(meta_ & kKindMask);
  }
  // `name` points into the update's bytes or DecodedUpdate::strings, which
  // outlive the struct (ApplyDecoded runs while they live).
  void SetParentName(std::string_view name) {
    meta_ = (meta_ & ~kKindMask) | 1;
    const char* data = name.data();
    const size_t size = name.size();
    std::memcpy(&item_->left, &data, sizeof(data));
    std::memcpy(&item_->parent, &size, sizeof(size));
  }
  void SetParentId(Id id) {
    meta_ = (meta_ & ~kKindMask) | 2;
    std::memcpy(&item_->left, &id.client, sizeof(id.client));
    std::memcpy(&item_->parent, &id.clock, sizeof(id.clock));
  }
  std::string_view parent_name() const {
    assert(parent_kind() == 1);
    const char* data;
    size_t size;
    std::memcpy(&data, &item_->left, sizeof(data));
    std::memcpy(&size, &item_->parent, sizeof(size));
    return {data, size};
  }
  Id parent_id() const {
    assert(parent_kind() == 2);
    Id id;
    std::memcpy(&id.client, &item_->left, sizeof(id.client));
    std::memcpy(&id.clock, &item_->parent, sizeof(id.clock));
    return id;
  }
  // The item's `left` and `parent` back to null, once the named parent was
  // read (the struct still names it).
  void ClearParent() const {
    item_->left = nullptr;
    item_->parent = nullptr;
  }

  uint8_t ref() const {
    return item_->gc ? static_cast<uint8_t>(kRefGC) : item_->content.ref;
  }
  bool skip() const { return !item_->gc && item_->content.ref == kRefSkip; }

  // Gives the item up (to the store or the pool), keeping its clock range,
  // which is all a pending rest writes of it (as GC; its client is its
  // section's). The parent is not read any more.
  void Take() {
    const uint64_t clock = item_->id.clock;
    meta_ = (item_->length << kLengthShift) | kTaken;
    taken_clock_ = clock;
  }
  bool taken() const { return (meta_ & kTaken) != 0; }
  uint64_t taken_clock() const {
    assert(taken());
    return taken_clock_;
  }
  uint64_t taken_length() const {
    assert(taken());
    return meta_ >> kLengthShift;
  }

 private:
  static constexpr uint64_t kKindMask = 3;
  static constexpr uint64_t kTaken = 4;
  // A length is below 2^53 (the decoder's limit): it fits above the flags.
  static constexpr int kLengthShift = 3;
  union {
    Item* item_ = nullptr;  // while not taken
    uint64_t taken_clock_;  // once taken
  };
  uint64_t meta_ = 0;
};
static_assert(sizeof(DecodedStruct) == 16, "see DecodedStruct");

struct DecodedUpdate {
  // client -> structs, clients in descending order. Their items belong to
  // the pool given to DecodeUpdate; ApplyDecoded integrates or frees them.
  std::vector<std::pair<uint64_t, std::vector<DecodedStruct>>> clients;
  // Delete ranges per client in wire order (yjs applies them in that order,
  // which decides the order of events).
  std::vector<std::pair<uint64_t, std::vector<std::pair<uint64_t, uint64_t>>>>
      ds;
  // Strings the structs' views point to that are not in the update's bytes
  // (a v2 string cut inside a surrogate pair, normalised JSON).
  internal::StringArena strings;
};

// Reads an update with the codec's reader (its limits, its errors with byte
// offsets); `options` as for ReadUpdate (TrustedReadOptions() for updates
// the engine wrote itself). The structs' items come from `pool` (the doc's:
// no copy when they are integrated); on error they are freed to it again,
// so the doc is unchanged.
absl::StatusOr<DecodedUpdate> DecodeUpdate(std::span<const uint8_t> bytes,
                                           bool v2, ItemPool& pool,
                                           const ReadOptions& options = {});

// Writes content `c` (of a struct of `length` units) from unit `offset`.
void WriteContent(UpdateWriter& w, const Content& c, uint64_t length,
                  uint64_t offset);
void WriteItem(UpdateWriter& w, const Item& it, uint64_t offset);
void WriteWireStruct(UpdateWriter& w, const WireStruct& s, uint64_t offset);
void WriteDeleteSet(UpdateWriter& w, const DeleteSet& ds);
// Structs of the store from `sv` (client -> start clock; missing = 0).
void WriteStoreStructs(UpdateWriter& w, const StructStore& store,
                       const absl::flat_hash_map<uint64_t, uint64_t>& sv);
DeleteSet DeleteSetFromStore(const StructStore& store);
// The update of the store's structs from `sv` and of `ds` (nullptr: the
// store's own delete set, collected in the same pass), v1 or v2: the bytes
// WriteStoreStructs + WriteDeleteSet write, without virtual calls.
// Errors (InvalidArgument): a value the format cannot hold, where yjs
// throws (v1: an embed or format value with a bigint, or undefined).
absl::StatusOr<std::vector<uint8_t>> EncodeStoreUpdate(
    const StructStore& store, const absl::flat_hash_map<uint64_t, uint64_t>& sv,
    const DeleteSet* ds, bool v2);
absl::StatusOr<absl::flat_hash_map<uint64_t, uint64_t>> DecodeStateVector(
    std::span<const uint8_t> b);
std::vector<uint8_t> EncodeStateVectorOf(const StructStore& store);

// Pending structs and deletes of a doc, kept as yjs keeps them: the
// structs as one v2 update (merged with the codec's MergeUpdatesV2, whose
// tie-breaks decide which duplicate survives), the deletes as ranges.
struct PendingStore {
  std::vector<uint8_t> update;  // v2; empty = nothing pending
  absl::flat_hash_map<uint64_t, uint64_t> missing;  // client -> needed clock
  DeleteSet ds;
  bool HasStructs() const { return !update.empty(); }
};

// Friend bridge into Doc / Transaction private state.
class DocAccess {
 public:
  static DeleteSet& Ds(Transaction& t) { return t.delete_set_; }
  static uint64_t Before(const Transaction& t, uint64_t c) {
    return t.Before(c);
  }
  static std::vector<Item*>& MergeStructs(Transaction& t) {
    return t.merge_structs_;
  }
  // Typing onto the end of the client's last item (AppendLocalText) is
  // yjs's new item merged into that one at once: yjs's cleanup then tries
  // no other pair (its leftward merge goes on with the merged-away item,
  // which no struct's end matches), so the merge pass is not asked for.
  static void NoteAppendedLocal(Transaction& t) { t.appended_local_ = true; }
  // See Transaction::added_mergeable_.
  static bool& AddedMergeable(Transaction& t) { return t.added_mergeable_; }
  static PendingStore& Pending(Doc& d);
  // Keeps `holder`'s type (pinned: TypeImpl::pinned), which a collection
  // is about to free: the Doc takes it over and its `item` becomes a
  // detached, deleted copy of `holder` (same id and key; its parent is
  // `holder`'s when that is a root, else a parentless type of the Doc), so
  // that an item naming it is still encoded, and integrated next to, as
  // yjs does.
  static void Retire(Doc& d, Item* holder);
  // Records a change of `type` (of its list when `key` is null). Typing
  // and decoded text record the same type's list once per item: inline
  // when that was the last thing recorded.
  // A type made by this transaction records nothing (yjs: the changed
  // type's item must predate the transaction): inline too, as a decoded
  // document's nested types make most of its changes.
  // `key` is the item's key (ItemPool::Key's copy), compared by pointer.
  static void AddChanged(Transaction& t, TypeImpl* type,
                         const std::string* key) {
    if (key == nullptr && t.last_list_changed_ == type) return;
    const Item* item = type->item;
    if (item != nullptr && item->id.clock >= t.Before(item->id.client)) {
      return;
    }
    AddChangedSlow(t, type, key);
  }
  // AddChanged of `type`'s list with its common case, the list recorded
  // last, inline where it runs per struct (a loaded text's integration,
  // whose call it otherwise stays).
  [[gnu::always_inline]] static void AddListChanged(Transaction& t,
                                                    TypeImpl* type) {
    if (t.last_list_changed_ != type) AddChanged(t, type, nullptr);
  }
  static void AddChangedSlow(Transaction& t, TypeImpl* type,
                             const std::string* key);
  static void RemoveChanged(Transaction& t, TypeImpl* type);
  static TypeImpl* RootForRemote(Doc& d, std::string_view name);
  static const Transaction::Changed* Changed(const Transaction& t,
                                             TypeImpl* type) {
    ptrdiff_t i = t.ChangedIndex(type);
    return i < 0 ? nullptr : &t.changed_[static_cast<size_t>(i)];
  }
};

// ---- integration ------------------------------------------------------------

Item* SplitItem(Transaction& tr, Item* left, uint64_t diff);
Item* GetItemCleanStart(Transaction& tr, Id id);
Item* GetItemCleanEnd(Transaction& tr, Id id);
void IntegrateItem(Transaction& tr, Item* item, uint64_t offset);
void DeleteItem(Transaction& tr, Item* item);
bool AddedBy(const Transaction& tr, const Item* it);
bool DeletedBy(const Transaction& tr, const Item* it);
// yjs's event rule for a changed map key whose current item is `item`:
// false when the key's event lists no change; else the action in *action
// and, for an update or a delete, the item holding the old value in *old.
bool MapKeyEventOf(const Transaction& tr, const Item* item,
                   KeyChange::Action* action, const Item** old);

// Creates and integrates a local item (left/right given).
Item* NewLocalItem(Transaction& tr, TypeImpl* parent, Item* left, Item* right,
                   const std::string* parent_sub, Content content);
// NewLocalItem of a map entry whose key is already the Doc's (an item of the
// same key holds it): the key is not looked up again.
Item* NewLocalMapItem(Transaction& tr, TypeImpl* parent, Item* left,
                      ItemKey key, Content content);
// Plain local typing: when the new string item would be integrated right
// after `left` and yjs's cleanup would merge the two (left is the local
// client's last struct, same right origin, both undeleted strings), appends
// `text` to `left` instead and returns left (the update bytes and the
// merged store are the same); else returns null. Taking the text rather
// than a Content spares typing a Content per keystroke.
// Doc::Cleanup splits the item again when events are built. Does nothing
// when the doc has append_local_typing() off.
Item* AppendLocalText(Transaction& tr, TypeImpl* parent, Item* left,
                      Item* right, std::u16string_view text);
// Integrates the preliminary content of a nested type after its item.
void IntegrateTypeContent(Transaction& tr, TypeImpl* type);

// Applies a decoded update inside `tr`.
void ApplyDecoded(Transaction& tr, DecodedUpdate upd);

// ---- cleanup ---------------------------------------------------------------

void TryGcAndMerge(Transaction& tr, Doc& doc);
// yjs cleanupYTextAfterTransaction: after a remote transaction that touched
// formatted text, deletes redundant format markers in a new transaction.
void CleanupYTextAfterTransaction(Transaction& old_tr);

// ---- events
// -------------------------------------------------------------------

// Builds the event of `type`. With `side_effects` (someone observes the
// type) a text delta deletes redundant format markers in a new transaction,
// as yjs's YTextEvent.delta getter does.
void ComputeEvent(const Transaction& tr, TypeImpl* type, YEvent* ev,
                  bool side_effects);
std::vector<PathElement> PathTo(TypeImpl* parent, TypeImpl* child);
OutValue ItemValue(const Item* it, size_t index);

// ---- local type operations shared by types.cc ------------------------------
Content ContentForValue(const Input& in, Doc& doc);

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_ENGINE_H_
