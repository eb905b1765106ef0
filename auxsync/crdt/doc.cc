#include "auxsync/crdt/doc.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/internal/local_update.h"

namespace auxsync::crdt {

using engine::DocAccess;
using engine::Item;
using engine::TypeImpl;
using engine::TypeKind;

namespace {
uint64_t RandomClientId() {
  std::random_device rd;
  return rd() & 0xffffffffu;
}
}  // namespace

std::vector<TypeImpl*> Transaction::ChangedTypes() const {
  return changed_order_;
}
namespace {
// The position of `type` in `order`: a linear search up to
// Transaction::kChangedLinear entries, past that through `index`, which is
// extended with the entries appended since the last lookup (and rebuilt
// when `order` was emptied).
ptrdiff_t IndexInOrder(const std::vector<TypeImpl*>& order,
                       absl::flat_hash_map<TypeImpl*, size_t>& index,
                       size_t linear, const TypeImpl* type) {
  const size_t n = order.size();
  if (n <= linear) {
    for (size_t i = 0; i < n; ++i) {
      if (order[i] == type) return static_cast<ptrdiff_t>(i);
    }
    return -1;
  }
  if (index.size() != n) {
    if (index.size() > n) index.clear();
    for (size_t i = index.size(); i < n; ++i) index[order[i]] = i;
  }
  auto it = index.find(const_cast<TypeImpl*>(type));
  return it == index.end() ? -1 : static_cast<ptrdiff_t>(it->second);
}
}  // namespace

ptrdiff_t Transaction::ChangedIndex(const TypeImpl* type) const {
  return IndexInOrder(changed_order_, changed_index_, kChangedLinear, type);
}

std::vector<TypeImpl*> Transaction::ChangedParentTypes() const {
  return changed_parent_types();
}

void Transaction::BuildDeferredEvents() const {
  events_deferred_ = false;
  // Only the doc's cleanup defers events, for its own transaction.
  doc_->BuildEvents(const_cast<Transaction&>(*this));
}

ptrdiff_t Transaction::ChangedParentIndex(const TypeImpl* type) const {
  return IndexInOrder(changed_parent_order_, changed_parent_index_,
                      kChangedLinear, type);
}

const std::vector<YEvent*>* Transaction::EventsOf(TypeImpl* type) const {
  if (events_deferred_) BuildDeferredEvents();
  const ptrdiff_t i = ChangedParentIndex(type);
  return i < 0 ? nullptr : &changed_parent_events_[static_cast<size_t>(i)];
}

std::vector<YEvent*>& Transaction::ParentEvents(TypeImpl* type) {
  ptrdiff_t i = ChangedParentIndex(type);
  if (i < 0) {
    i = static_cast<ptrdiff_t>(changed_parent_order_.size());
    changed_parent_order_.push_back(type);
    // An emptied list of an earlier transaction when there is one.
    if (changed_parent_events_.size() < changed_parent_order_.size()) {
      changed_parent_events_.emplace_back();
    }
  }
  return changed_parent_events_[static_cast<size_t>(i)];
}

Doc::Doc(DocOptions options)
    : client_id_(options.client_id != 0 ? options.client_id : RandomClientId()),
      gc_(options.gc),
      guid_(std::move(options.guid)),
      pending_(std::make_unique<engine::PendingStore>()) {}

Doc::~Doc() = default;

TypeImpl* Doc::GetRoot(std::string_view name, TypeKind kind) {
  auto it = root_by_name_.find(absl::string_view(name.data(), name.size()));
  if (it != root_by_name_.end()) {
    TypeImpl* t = it->second;
    if (t->kind == TypeKind::kUnknown) t->kind = kind;
    return t;
  }
  auto t = std::make_unique<TypeImpl>();
  t->doc = this;
  t->set_root_name(name);
  t->kind = kind;
  TypeImpl* raw = t.get();
  roots_.push_back(std::move(t));
  root_by_name_[std::string(raw->root_name())] = raw;
  return raw;
}

YMap Doc::GetMap(std::string_view name) {
  return YMap(GetRoot(name, TypeKind::kMap));
}
YArray Doc::GetArray(std::string_view name) {
  return YArray(GetRoot(name, TypeKind::kArray));
}
YText Doc::GetText(std::string_view name) {
  return YText(GetRoot(name, TypeKind::kText));
}
YXmlFragment Doc::GetXmlFragment(std::string_view name) {
  return YXmlFragment(GetRoot(name, TypeKind::kXmlFragment));
}

std::vector<std::string> Doc::RootNames() const {
  std::vector<std::string> out;
  for (const auto& r : roots_) out.push_back(std::string(r->root_name()));
  return out;
}

TypeImpl* Doc::FindRoot(std::string_view name) const {
  auto it = root_by_name_.find(absl::string_view(name.data(), name.size()));
  return it == root_by_name_.end() ? nullptr : it->second;
}

YType Doc::Resolve(const TypeId& id) const {
  if (!id.item) return YType(FindRoot(id.root));
  // A type's item has length 1 and never merges, so the struct holding the
  // clock is the type's own item; a collected one holds no type any more
  // (Content::type() is null for every other content).
  const Item* it = store_.Find({id.item->client, id.item->clock});
  return YType(it == nullptr ? nullptr : it->content.type());
}

bool Doc::HasPendingStructs() const { return pending_->HasStructs(); }
bool Doc::HasPendingDeletes() const { return !pending_->ds.Empty(); }

namespace {
template <typename H, typename L>
Subscription AddHandler(
    const std::shared_ptr<L>& block,
    std::vector<std::pair<int, std::shared_ptr<H>>> L::*list, H h) {
  int id = block->next_id++;
  ((*block).*list).push_back({id, std::make_shared<H>(std::move(h))});
  std::weak_ptr<L> weak = block;
  return Subscription([weak, list, id]() {
    if (auto b = weak.lock()) {
      auto& l = (*b).*list;
      if (b->dispatching > 0) {
        // A handler is running (maybe this one): keep the function alive,
        // drop the entry when the dispatch ends.
        for (auto& p : l) {
          if (p.first == id) {
            p.first = 0;
            b->has_removed = true;
          }
        }
      } else {
        std::erase_if(l, [id](auto& p) { return p.first == id; });
      }
    }
  });
}
// Calls every handler of `list` as it is when the call starts (handlers
// added or removed by a handler take effect next time, as with lib0's
// observable, which iterates a copy). Neither the list nor the handlers
// are copied: removals during the dispatch are deferred (entries with id
// 0, erased at the end), additions are past the first `n` entries.
template <typename L, typename H, typename... Args>
void CallAll(L& block, std::vector<std::pair<int, std::shared_ptr<H>>>& list,
             Args&... args) {
  ++block.dispatching;
  const size_t n = list.size();
  for (size_t i = 0; i < n; ++i) {
    // The entry may move (a handler adding one grows the vector); the
    // function it owns does not.
    H* h = list[i].second.get();
    (*h)(args...);
  }
  if (--block.dispatching == 0 && block.has_removed) {
    block.has_removed = false;
    auto removed = [](auto& p) { return p.first == 0; };
    std::erase_if(block.update, removed);
    std::erase_if(block.update_v2, removed);
    std::erase_if(block.after_tr, removed);
  }
}

}  // namespace

Subscription Doc::OnUpdate(UpdateHandler h) {
  return AddHandler(handlers_, &Handlers::update, std::move(h));
}
Subscription Doc::OnUpdateV2(UpdateHandler h) {
  return AddHandler(handlers_, &Handlers::update_v2, std::move(h));
}
Subscription Doc::OnAfterTransaction(TransactionHandler h) {
  return AddHandler(handlers_, &Handlers::after_tr, std::move(h));
}

void Doc::Transact(absl::FunctionRef<void(Transaction&)> fn, Origin origin,
                   bool local) {
  if (tr_ != nullptr) {
    fn(*tr_);
    return;
  }
  std::unique_ptr<Transaction> tr;
  // Transactions are recycled: their containers keep their capacity, so a
  // keystroke allocates (almost) nothing.
  if (spare_ != nullptr) {
    tr = std::move(spare_);
    tr->origin_ = std::move(origin);
    tr->local_ = local;
  } else {
    tr = std::unique_ptr<Transaction>(
        new Transaction(this, std::move(origin), local));
  }
  // A recycled transaction keeps the previous state vector: the store's
  // clients never go away, so overwriting each entry in place gives the
  // same map without clearing and re-inserting it (a hash table rebuild per
  // keystroke).
  for (const auto& [c, v] : std::as_const(store_).clients()) {
    if (!v.empty()) tr->before_state_[c] = v.back()->EndClock();
  }
  tr->before_cached_ = false;
  tr_ = std::move(tr);
  fn(*tr_);
  // As in yjs, a transaction started by an observer or update handler runs
  // its function at once but is cleaned up after the current one.
  queued_.push_back(std::move(tr_));
  if (cleaning_) return;
  cleaning_ = true;
  for (size_t i = 0; i < queued_.size(); ++i) {
    cleanup_tr_ = std::move(queued_[i]);
    Cleanup();
  }
  queued_.clear();
  cleaning_ = false;
}

void Doc::BuildEvents(Transaction& tr) {
  // Cleanup's event loop for a transaction without observers: same events,
  // same order, no observer calls.
  for (size_t ci = 0; ci < tr.changed_order_.size(); ++ci) {
    TypeImpl* t = tr.changed_order_[ci];
    if (t->item != nullptr && t->item->deleted) continue;
    RecordEvent(tr, t, /*with_delta=*/false);
  }
}

YEvent* Doc::RecordEvent(Transaction& tr, TypeImpl* t, bool with_delta) {
  std::unique_ptr<YEvent> ev;
  if (!event_pool_.empty()) {
    ev = std::move(event_pool_.back());
    event_pool_.pop_back();
  } else {
    ev = std::make_unique<YEvent>();
  }
  ev->target = t;
  ev->local = tr.local_;
  engine::ComputeEvent(tr, t, ev.get(), with_delta);
  YEvent* raw = ev.get();
  cleanup_events_.push_back(std::move(ev));
  for (TypeImpl* p = t;;) {
    tr.ParentEvents(p).push_back(raw);
    if (p->item == nullptr) break;
    p = p->item->parent;
  }
  return raw;
}

void Doc::Cleanup() {
  Transaction& tr = *cleanup_tr_;
  tr.delete_set_.SortAndMerge();
  // Whether a client's state moved is judged here, in the same pass (the
  // two state tables do not change until the update is written).
  bool state_moved = false;
  for (const auto& [c, v] : std::as_const(store_).clients()) {
    if (v.empty()) continue;
    const uint64_t end = v.back()->EndClock();
    tr.after_state_[c] = end;
    if (!state_moved && tr.Before(c) != end) state_moved = true;
  }
  // Observers: per changed type, then deep observers per ancestor.
  std::vector<std::unique_ptr<YEvent>>& events =
      cleanup_events_;  // empty unless observed
  bool need_formatting_cleanup = false;
  auto has_listeners = [](TypeImpl* t) {
    for (; t != nullptr; t = t->item != nullptr ? t->item->parent : nullptr) {
      if (t->handlers() &&
          (!t->handlers()->observe.empty() || !t->handlers()->deep.empty()))
        return true;
      if (t->item == nullptr || t->item->gc) break;
    }
    return false;
  };
  // Events (and changed parent types) are only built when some handler can
  // see them: observers on the type or an ancestor, or afterTransaction
  // handlers (which read them from the transaction). Update handlers alone
  // do not need them: building a list delta walks the whole type, which
  // would make every keystroke O(document) for a doc that is only synced.
  const bool doc_handlers = !handlers_->after_tr.empty();
  if (tr.appended_local_) {
    // Local typing was appended to existing items (AppendLocalText): events
    // tell added from old content by item, so the part added by this
    // transaction becomes its own item again, as in yjs before its merge.
    tr.appended_local_ = false;
    bool events = doc_handlers;
    for (TypeImpl* t : tr.changed_order_) events = events || has_listeners(t);
    if (events) {
      uint64_t before = tr.Before(client_id_);
      if (before > 0 && before < store_.State(client_id_)) {
        engine::GetItemCleanStart(tr, {client_id_, before});
      }
    }
  }
  // Without any observer, only afterTransaction handlers can read events:
  // they are built when one asks (a handler that reads the changed types
  // and keys itself never pays for them).
  bool observed = false;
  for (TypeImpl* t : tr.changed_order_) {
    if (t->item != nullptr && t->item->deleted) continue;
    if (!tr.local_ && t->has_formatting &&
        (t->kind == TypeKind::kText || t->kind == TypeKind::kXmlText)) {
      need_formatting_cleanup = true;
    }
    if (!observed && has_listeners(t)) observed = true;
  }
  const bool defer_events = lazy_events_ && doc_handlers && !observed;
  tr.events_deferred_ = defer_events;
  // Index loop: observers may not add to changed_order_, but stay safe.
  for (size_t ci = 0; !defer_events && ci < tr.changed_order_.size(); ++ci) {
    TypeImpl* t = tr.changed_order_[ci];
    if (t->item != nullptr && t->item->deleted) continue;
    const bool listeners = has_listeners(t);
    if (!listeners && !doc_handlers) continue;
    YEvent* raw = RecordEvent(tr, t, /*with_delta=*/listeners);
    if (t->handlers()) {
      raw->current_target = t;
      auto handlers = t->handlers()->observe;
      for (auto& [id, h] : handlers) h(*raw, tr);
    }
  }
  for (TypeImpl* t : tr.changed_parent_order_) {
    if (!t->handlers() || t->handlers()->deep.empty()) continue;
    if (t->item != nullptr && t->item->deleted) continue;
    std::vector<YEvent*> evs;
    for (YEvent* e : *tr.EventsOf(t)) {
      if (e->target->item == nullptr || !e->target->item->deleted)
        evs.push_back(e);
    }
    for (YEvent* e : evs) {
      e->current_target = t;
      e->path = engine::PathTo(t, e->target);
    }
    std::stable_sort(evs.begin(), evs.end(), [](YEvent* a, YEvent* b) {
      return a->path.size() < b->path.size();
    });
    std::vector<const YEvent*> cevs(evs.begin(), evs.end());
    auto handlers = t->handlers()->deep;
    for (auto& [id, h] : handlers) h(cevs, tr);
  }
  if (!handlers_->after_tr.empty()) {
    CallAll(*handlers_, handlers_->after_tr, tr);
  }
  if (tr.events_deferred_) {
    // Update handlers get the transaction after the collection below, when
    // its events could no longer be built: build them now if one may ask.
    if (!handlers_->update.empty() || !handlers_->update_v2.empty()) {
      tr.BuildDeferredEvents();
    } else {
      tr.events_deferred_ = false;
    }
  }
  if (need_formatting_cleanup) engine::CleanupYTextAfterTransaction(tr);
  engine::TryGcAndMerge(tr, *this);
  if (!tr.local_) {
    auto a = tr.after_state_.find(client_id_);
    uint64_t after = a == tr.after_state_.end() ? 0 : a->second;
    if (after != tr.Before(client_id_)) client_id_ = RandomClientId();
  }
  const bool changed = state_moved || !tr.delete_set_.Empty();
  if (changed) {
    for (bool v2 : {false, true}) {
      auto& list = v2 ? handlers_->update_v2 : handlers_->update;
      if (list.empty()) continue;
      // v1 of plain content goes through the direct writer into a buffer
      // the doc reuses (no allocation per keystroke); the rest through the
      // codec's templated store writer.
      std::vector<uint8_t> bytes;
      std::span<const uint8_t> view;
      // (The clients' clocks through the transaction's one-entry cache: the
      // loop above asked for the same client.)
      size_t n = v2 ? 0
                    : engine::WriteTransactionUpdateV1(
                          store_, [&tr](uint64_t c) { return tr.Before(c); },
                          tr.delete_set_, &update_buf_);
      if (n > 0) {
        view = std::span<const uint8_t>(update_buf_.data(), n);
      } else {
        absl::StatusOr<std::vector<uint8_t>> enc = engine::EncodeStoreUpdate(
            store_, tr.before_state_, &tr.delete_set_, v2);
        // An update the format cannot hold (v1: a bigint or undefined
        // embed or format value, where yjs throws from the transaction)
        // is not emitted rather than emitted altered; the other format's
        // event still is, and EncodeStateAsUpdate reports the error.
        if (!enc.ok()) continue;
        bytes = *std::move(enc);
        view = bytes;
      }
      CallAll(*handlers_, list, view, tr);
    }
    // A large update's buffer is not kept (it would count as the doc's
    // memory); a keystroke's is.
    if (update_buf_.capacity() > 4096) std::vector<uint8_t>().swap(update_buf_);
  }
  tr.origin_.reset();
  // absl's clear() rewrites the whole control array even of an empty
  // table: skip it where there is nothing to clear (most keystrokes).
  auto clear = [](auto& map) {
    if (!map.empty()) map.clear();
  };
  // before_state_ / after_state_ are kept (see Transact): every entry is
  // overwritten by the next transaction, and the store's clients only grow.
  if (!tr.delete_set_.clients.empty() || !tr.delete_set_.order.empty()) {
    tr.delete_set_.Clear();
  }
  tr.changed_order_.clear();
  for (Transaction::Changed& ch : tr.changed_) {
    if (tr.changed_spare_.size() >= 16) break;
    // A list-only record owns nothing: keeping it would only cost moves
    // (typing records one per keystroke).
    if (ch.key_ids.capacity() == 0) continue;
    ch.list = false;
    ch.key_ids.clear();
    if (!ch.key_set.empty()) ch.key_set = {};  // rare: drop the table
    tr.changed_spare_.push_back(std::move(ch));
  }
  tr.changed_.clear();
  clear(tr.changed_index_);
  tr.last_list_changed_ = nullptr;
  // Event lists are emptied, not freed (a few small ones are kept).
  const size_t parents = tr.changed_parent_order_.size();
  for (size_t i = 0; i < parents && i < 16; ++i) {
    std::vector<YEvent*>& list = tr.changed_parent_events_[i];
    if (list.capacity() > 64) {
      std::vector<YEvent*>().swap(list);
    } else {
      list.clear();
    }
  }
  if (tr.changed_parent_events_.size() > 16) {
    tr.changed_parent_events_.resize(16);
  }
  tr.changed_parent_order_.clear();
  clear(tr.changed_parent_index_);
  tr.merge_structs_.clear();
  for (auto& ev : events) {
    if (event_pool_.size() >= 16) break;
    ev->target = ev->current_target = nullptr;
    // A large event's vectors are not kept (they would count as the doc's
    // memory); a small one's are.
    if (ev->keys.capacity() > 64 || ev->delta.capacity() > 64 ||
        ev->path.capacity() > 64) {
      *ev = YEvent();
    }
    ev->path.clear();
    ev->keys.clear();
    ev->delta.clear();
    ev->local = false;
    event_pool_.push_back(std::move(ev));
  }
  events.clear();
  spare_ = std::move(cleanup_tr_);
}

}  // namespace auxsync::crdt

namespace auxsync::crdt::engine {

PendingStore& DocAccess::Pending(Doc& d) { return *d.pending_; }

void DocAccess::Retire(Doc& d, Item* holder) {
  TypeImpl* t = holder->content.type();
  Item* copy = d.pool_.New();
  copy->id = holder->id;
  copy->length = holder->length;
  copy->deleted = true;
  copy->has_parent_sub = holder->has_parent_sub;
  copy->parent_sub = holder->parent_sub;
  // A root outlives everything; another parent may be collected (and
  // freed) later, so the copy names a type that never is.
  TypeImpl* parent = holder->parent;
  if (parent == nullptr || parent->item != nullptr) {
    if (d.retired_.limbo == nullptr) {
      d.retired_.limbo = std::make_unique<TypeImpl>();
      d.retired_.limbo->doc = &d;
    }
    parent = d.retired_.limbo.get();
  }
  copy->parent = parent;
  t->item = copy;
  d.retired_.types.push_back(std::move(holder->content));
}

void DocAccess::AddChangedSlow(Transaction& t, TypeImpl* type,
                               const std::string* key) {
  Item* item = type->item;
  if (item != nullptr &&
      !(item->id.clock < t.Before(item->id.client) && !item->deleted))
    return;
  // A transaction's first change (every keystroke's) needs no search.
  ptrdiff_t i = t.changed_order_.empty() ? -1 : t.ChangedIndex(type);
  if (i < 0) {
    i = static_cast<ptrdiff_t>(t.changed_order_.size());
    t.changed_order_.push_back(type);
    if (key != nullptr && !t.changed_spare_.empty()) {
      t.changed_.push_back(std::move(t.changed_spare_.back()));
      t.changed_spare_.pop_back();
    } else {
      t.changed_.emplace_back();
    }
  }
  auto& ch = t.changed_[static_cast<size_t>(i)];
  if (key == nullptr) {
    ch.list = true;
    t.last_list_changed_ = type;
    return;
  }
  // Keys are their pool's one copy (see Changed::key_ids).
  if (ch.key_ids.size() < Transaction::kKeysLinear) {
    if (std::find(ch.key_ids.begin(), ch.key_ids.end(), key) !=
        ch.key_ids.end()) {
      return;
    }
  } else {
    if (ch.key_set.empty())
      ch.key_set.insert(ch.key_ids.begin(), ch.key_ids.end());
    if (!ch.key_set.insert(key).second) return;
  }
  ch.key_ids.push_back(key);
}

void DocAccess::RemoveChanged(Transaction& t, TypeImpl* type) {
  if (t.last_list_changed_ == type) t.last_list_changed_ = nullptr;
  ptrdiff_t i = t.ChangedIndex(type);
  if (i >= 0) {
    t.changed_order_.erase(t.changed_order_.begin() + i);
    t.changed_.erase(t.changed_.begin() + i);
    t.changed_index_.clear();  // indices moved: rebuilt on the next lookup
  }
}

TypeImpl* DocAccess::RootForRemote(Doc& d, std::string_view name) {
  return d.GetRoot(name, TypeKind::kUnknown);
}

}  // namespace auxsync::crdt::engine
