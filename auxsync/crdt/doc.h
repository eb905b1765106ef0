// The Yjs-compatible document: client id, gc flag, root types, transactions
// and update events. Byte-identical with yjs 13.6 for everything it emits.
//
// Threading: a Doc and everything reached through it belong to one thread.
#ifndef AUXSYNC_CRDT_DOC_H_
#define AUXSYNC_CRDT_DOC_H_

#include <any>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "auxsync/crdt/events.h"
#include "auxsync/crdt/internal/item.h"
#include "auxsync/crdt/internal/struct_store.h"
#include "auxsync/crdt/types.h"

namespace auxsync::crdt {

namespace engine {
struct PendingStore;
class DocAccess;
}  // namespace engine

// The user-supplied origin of a transaction (yjs `transaction.origin`).
using Origin = std::any;

// A running transaction. Valid only inside Doc::Transact / the callbacks it
// hands it to. Holds yjs's bookkeeping (before/after state, delete set,
// changed types).
class Transaction {
 public:
  Doc& doc() const { return *doc_; }
  const Origin& origin() const { return origin_; }
  bool local() const { return local_; }
  // State vector at the start / at cleanup (client -> clock).
  const absl::flat_hash_map<uint64_t, uint64_t>& before_state() const {
    return before_state_;
  }
  const absl::flat_hash_map<uint64_t, uint64_t>& after_state() const {
    return after_state_;
  }
  // Types whose list part or map keys changed, in first-change order.
  std::vector<engine::TypeImpl*> ChangedTypes() const;
  // The same list without a copy (valid until the transaction's handlers
  // return; at cleanup it still names types deleted by the transaction).
  const std::vector<engine::TypeImpl*>& changed_types() const {
    return changed_order_;
  }
  // Types that received events (own or descendants'), in yjs order. Filled
  // at cleanup when observers or afterTransaction handlers exist (update
  // handlers alone do not see events). When no type has an observer, the
  // events are built on the first call of ChangedParentTypes,
  // changed_parent_types or EventsOf from an afterTransaction handler (the
  // same events, in the same order).
  std::vector<engine::TypeImpl*> ChangedParentTypes() const;
  // The same list without a copy; valid until the transaction's handlers
  // return.
  const std::vector<engine::TypeImpl*>& changed_parent_types() const {
    if (events_deferred_) BuildDeferredEvents();
    return changed_parent_order_;
  }
  // The events of `type` and its descendants (yjs changedParentTypes.get);
  // null if none. Valid until the transaction's handlers return.
  const std::vector<YEvent*>* EventsOf(engine::TypeImpl* type) const;

  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  friend class Doc;
  friend class engine::DocAccess;
  Transaction(Doc* doc, Origin origin, bool local)
      : doc_(doc), origin_(std::move(origin)), local_(local) {}
  uint64_t Before(uint64_t client) const {
    // Nearly every lookup of a small transaction asks for the same client
    // (the local one): a one-entry cache saves the hash lookups.
    if (before_cached_ && before_cached_client_ == client) {
      return before_cached_clock_;
    }
    auto it = before_state_.find(client);
    const uint64_t clock = it == before_state_.end() ? 0 : it->second;
    before_cached_ = true;
    before_cached_client_ = client;
    before_cached_clock_ = clock;
    return clock;
  }

  Doc* doc_;
  Origin origin_;
  bool local_;
  absl::flat_hash_map<uint64_t, uint64_t> before_state_;
  // Before()'s cache; reset whenever before_state_ is written (Transact).
  mutable bool before_cached_ = false;
  mutable uint64_t before_cached_client_ = 0;
  mutable uint64_t before_cached_clock_ = 0;
  absl::flat_hash_map<uint64_t, uint64_t> after_state_;
  engine::DeleteSet delete_set_;
  // changed type -> changed keys (list change recorded as has_list).
  struct Changed {
    bool list = false;
    // The changed keys in first-change order, as their Doc's one copy of
    // each (ItemPool::Key; the same key is the same pointer, kept as long as
    // the Doc): searched linearly up to kKeysLinear (a
    // typical transaction changes one key: no hash table), then through
    // key_set. No copies of the texts (an initialization changes 10,000).
    std::vector<const std::string*> key_ids;
    absl::flat_hash_set<const std::string*> key_set;
  };
  static constexpr size_t kKeysLinear = 8;
  std::vector<engine::TypeImpl*> changed_order_;
  // The changes of changed_order_[i] (same order, same length). A typical
  // transaction changes one or two types: those are found by a linear
  // search; past kChangedLinear, through changed_index_ (type -> index,
  // built lazily, dropped when an entry is removed).
  std::vector<Changed> changed_;
  // Emptied entries of earlier transactions, reused by AddChanged (their
  // key vectors keep their capacity: no allocation per small transaction).
  std::vector<Changed> changed_spare_;
  static constexpr size_t kChangedLinear = 8;
  mutable absl::flat_hash_map<engine::TypeImpl*, size_t> changed_index_;
  // Index of `type` in changed_order_, or -1.
  ptrdiff_t ChangedIndex(const engine::TypeImpl* type) const;
  // The type whose list change was recorded last (AddChanged fast path).
  engine::TypeImpl* last_list_changed_ = nullptr;
  std::vector<engine::TypeImpl*> changed_parent_order_;
  // The events of changed_parent_order_[i]; entries past its length are
  // emptied lists of earlier transactions kept for their capacity (a small
  // observed transaction allocates no list). Found like changed_: linear up
  // to kChangedLinear, then through changed_parent_index_ (built lazily).
  std::vector<std::vector<YEvent*>> changed_parent_events_;
  mutable absl::flat_hash_map<engine::TypeImpl*, size_t> changed_parent_index_;
  // Index of `type` in changed_parent_order_, or -1.
  ptrdiff_t ChangedParentIndex(const engine::TypeImpl* type) const;
  // The event list of `type`, appended to changed_parent_order_ if new.
  std::vector<YEvent*>& ParentEvents(engine::TypeImpl* type);
  // Events wait for their first reader (see ChangedParentTypes); the doc's
  // cleanup builds them before anything can change what they describe.
  mutable bool events_deferred_ = false;
  void BuildDeferredEvents() const;
  std::vector<engine::Item*> merge_structs_;
  // A local string was appended to the item left of it at creation
  // (engine::AppendLocalText): events must split it off again first.
  bool appended_local_ = false;
  // A struct added since the last cleanup could merge with its left one:
  // it has an origin or is a GC struct (a struct without either, as a map
  // entry or a type's first item, never does). Without it, no deletes and
  // no splits, the cleanup's merge pass over the new structs is skipped
  // (engine::TryGcAndMerge; an old struct extended by AppendLocalText asks
  // for no pass: DocAccess::NoteAppendedLocal).
  bool added_mergeable_ = false;
};

// Callback of update events: the encoded update of one transaction.
using UpdateHandler =
    std::function<void(std::span<const uint8_t> update, const Transaction& tr)>;
// Callback of per-transaction events.
using TransactionHandler = std::function<void(const Transaction& tr)>;

// Options of a new Doc.
struct DocOptions {
  uint64_t client_id = 0;  // 0 = pick a random uint32
  bool gc = true;
  std::string guid;
};

// A Yjs document. Owns its struct store, root types and all items.
// Not copyable or movable (types and items point back at it).
class Doc {
 public:
  explicit Doc(DocOptions options = {});
  ~Doc();
  Doc(const Doc&) = delete;
  Doc& operator=(const Doc&) = delete;

  uint64_t client_id() const { return client_id_; }
  // Switches the id under which local changes are created (CasualOS does).
  void set_client_id(uint64_t id) { client_id_ = id; }
  bool gc() const { return gc_; }
  void set_gc(bool gc) { gc_ = gc; }
  const std::string& guid() const { return guid_; }
  // Whether plain local typing is appended to the local client's previous
  // item when it is created (on by default). yjs keeps each insert its own
  // item until the transaction ends and then merges them: the update bytes,
  // events and the state after a transaction are the same either way, but
  // code that walks the items in the middle of a transaction and judges an
  // item by its first clock (the YjsPartition's version-relative tag edit
  // positions) must turn it off to see yjs's item boundaries.
  bool append_local_typing() const { return append_local_typing_; }
  void set_append_local_typing(bool on) { append_local_typing_ = on; }
  // Whether a transaction without observers builds its events only when an
  // afterTransaction handler first asks for them (off by default). For docs
  // whose afterTransaction handlers read events, if at all, before they
  // change the doc (a change made from a handler runs at once): the events
  // are then the same, and a handler that needs none (it reads the changed
  // types and keys itself) does not pay for them.
  bool lazy_events() const { return lazy_events_; }
  void set_lazy_events(bool on) { lazy_events_ = on; }

  // Root types by name; created on first use (no struct is written).
  YMap GetMap(std::string_view name);
  YArray GetArray(std::string_view name);
  YText GetText(std::string_view name);
  YXmlFragment GetXmlFragment(std::string_view name);
  // Root names in creation order.
  std::vector<std::string> RootNames() const;
  // The root type of that name or null.
  engine::TypeImpl* FindRoot(std::string_view name) const;
  // The type `id` names, or an empty handle if no such type exists (an
  // unknown root or id, an item that holds no type, a collected type). A
  // deleted type that is not collected (yet, or ever in a doc without gc)
  // still resolves, as yjs keeps it. Never creates a root.
  YType Resolve(const TypeId& id) const;

  // Runs fn in a transaction (joins the running one when nested). Observers
  // and update handlers run when the outermost transaction ends.
  void Transact(absl::FunctionRef<void(Transaction&)> fn, Origin origin = {},
                bool local = true);

  // Update events (v1 / v2 bytes of each transaction that changed something).
  Subscription OnUpdate(UpdateHandler h);
  Subscription OnUpdateV2(UpdateHandler h);
  Subscription OnAfterTransaction(TransactionHandler h);

  // Whether structs / deletes wait for missing dependencies.
  bool HasPendingStructs() const;
  bool HasPendingDeletes() const;
  // Next clock of a client (0 if unknown).
  uint64_t State(uint64_t client) const { return store_.State(client); }

  // Engine internals (for the engine's own files and white-box tests).
  engine::StructStore& store() { return store_; }
  const engine::StructStore& store() const { return store_; }
  engine::ItemPool& pool() { return pool_; }
  // The running transaction (null outside Transact).
  Transaction* current_transaction() { return tr_.get(); }

 private:
  friend class engine::DocAccess;
  friend class Transaction;
  engine::TypeImpl* GetRoot(std::string_view name, engine::TypeKind kind);
  void Cleanup();
  // The events of every changed type of `tr` (the one being cleaned up)
  // that has no observer: what Cleanup builds for afterTransaction handlers.
  void BuildEvents(Transaction& tr);
  // Computes the event of changed type `t` into cleanup_events_ (from the
  // recycled events) and lists it under `t` and its ancestors.
  YEvent* RecordEvent(Transaction& tr, engine::TypeImpl* t, bool with_delta);

  uint64_t client_id_;
  bool gc_;
  bool append_local_typing_ = true;
  bool lazy_events_ = false;
  std::string guid_;
  engine::ItemPool pool_;
  // Collected types that items may still name as their parent (see
  // engine::TypeImpl::pinned; their detached holder items are pool_'s), and
  // the parentless type those holders name as theirs (made on first use).
  // Declared after pool_: the types go back to it.
  struct Retired {
    std::vector<engine::Content> types;
    std::unique_ptr<engine::TypeImpl> limbo;
  };
  Retired retired_;
  engine::StructStore store_;
  std::vector<std::unique_ptr<engine::TypeImpl>> roots_;
  absl::flat_hash_map<std::string, engine::TypeImpl*> root_by_name_;
  std::unique_ptr<Transaction> tr_;
  std::unique_ptr<Transaction> spare_;       // recycled transaction
  std::unique_ptr<Transaction> cleanup_tr_;  // the one being cleaned up
  bool cleaning_ = false;
  std::vector<std::unique_ptr<Transaction>> queued_;
  std::unique_ptr<engine::PendingStore> pending_;
  // The bytes of the last v1 update event, reused by the next one.
  std::vector<uint8_t> update_buf_;
  // Events of finished cleanups, emptied, reused by the next (their
  // vectors keep their capacity: a small observed transaction allocates
  // no event).
  std::vector<std::unique_ptr<YEvent>> event_pool_;
  // The events of the running cleanup (empty between cleanups, which never
  // nest): a member so that its storage serves every transaction.
  std::vector<std::unique_ptr<YEvent>> cleanup_events_;
  // Handler lists live in a shared block so that a Subscription dropped
  // after the Doc is harmless (it holds a weak reference).
  // A handler may unsubscribe itself (or others) while it runs: removals
  // during a dispatch are deferred (see CallAll in doc.cc).
  struct Handlers {
    int next_id = 1;
    int dispatching = 0;       // running CallAll calls
    bool has_removed = false;  // entries removed during a dispatch (id 0)
    std::vector<std::pair<int, std::shared_ptr<UpdateHandler>>> update;
    std::vector<std::pair<int, std::shared_ptr<UpdateHandler>>> update_v2;
    std::vector<std::pair<int, std::shared_ptr<TransactionHandler>>> after_tr;
  };
  std::shared_ptr<Handlers> handlers_ = std::make_shared<Handlers>();
};

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_DOC_H_
