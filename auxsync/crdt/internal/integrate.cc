// YATA integration, splitting, deletion and update application, following
// yjs 13.6 step by step where the steps are observable on the wire.
#include <algorithm>
#include <cassert>
#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "auxsync/crdt/internal/conflict_scan.h"
#include "auxsync/crdt/internal/deleted_ranges.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/internal/named_run.h"
#include "auxsync/crdt/internal/prefetch.h"
#include "auxsync/crdt/update_utils.h"

namespace auxsync::crdt::engine {

bool AddedBy(const Transaction& tr, const Item* it) {
  return it->id.clock >= DocAccess::Before(tr, it->id.client);
}

bool DeletedBy(const Transaction& tr, const Item* it) {
  return DocAccess::Ds(const_cast<Transaction&>(tr)).Contains(it->id);
}

Item* SplitItem(Transaction& tr, Item* left, uint64_t diff) {
  Doc& doc = tr.doc();
  Item* right = doc.pool().New();
  right->id = {left->id.client, left->id.clock + diff};
  right->length = left->length - diff;
  right->SetOrigin({left->id.client, left->id.clock + diff - 1});
  right->right_origin = left->right_origin;
  right->has_right_origin = left->has_right_origin;
  right->left = left;
  right->right = left->right;
  right->parent = left->parent;
  right->parent_sub = left->parent_sub;
  right->has_parent_sub = left->has_parent_sub;
  right->deleted = left->deleted;
  right->keep = left->keep;
  right->content = left->content.Splice(diff);
  left->length = diff;
  left->right = right;
  if (right->right != nullptr) right->right->left = right;
  DocAccess::MergeStructs(tr).push_back(right);
  if (right->has_parent_sub && right->right == nullptr &&
      right->parent != nullptr) {
    right->parent->SetMap(right->parent_sub, right);
  }
  auto& v = *doc.store().Client(left->id.client);
  size_t idx = StructStore::FindIndex(v, left->id.clock);
  v.InsertAt(idx + 1, right);
  return right;
}

Item* GetItemCleanStart(Transaction& tr, Id id) {
  auto& v = *tr.doc().store().Client(id.client);
  size_t idx = StructStore::FindIndex(v, id.clock);
  Item* s = v[idx];
  if (s->id.clock < id.clock && !s->gc)
    return SplitItem(tr, s, id.clock - s->id.clock);
  return s;
}

Item* GetItemCleanEnd(Transaction& tr, Id id) {
  auto& v = *tr.doc().store().Client(id.client);
  size_t idx = StructStore::FindIndex(v, id.clock);
  Item* s = v[idx];
  if (id.clock != s->id.clock + s->length - 1 && !s->gc)
    SplitItem(tr, s, id.clock - s->id.clock + 1);
  return s;
}

namespace {

// IntegrateItem's body, inlined into the decoded-struct loop (a call's
// register saves and restores per struct cost more than its branches).
[[gnu::always_inline]] inline void IntegrateItemInline(Transaction& tr,
                                                       Item* item,
                                                       uint64_t offset) {
  Doc& doc = tr.doc();
  StructStore& store = doc.store();
  if (offset > 0) {
    item->id.clock += offset;
    item->left = GetItemCleanEnd(tr, {item->id.client, item->id.clock - 1});
    item->SetOrigin(item->left->LastId());
    if (!item->gc) item->content = item->content.Splice(offset);
    item->length -= offset;
  }
  if (item->gc) {
    AddStruct(tr, item);
    return;
  }
  TypeImpl* parent = item->parent;
  if (parent == nullptr) {
    // The parent is gone: the item becomes a GC struct.
    item->gc = true;
    item->deleted = true;
    item->content = Content();
    item->left = item->right = nullptr;
    item->has_parent_sub = false;
    item->parent_sub.clear();
    AddStruct(tr, item);
    return;
  }
  Item* left = item->left;
  Item* right = item->right;
  // A map item's key slot, found (or made, where yjs's map.set would add
  // the key) once: the scan's start, the chain's first item and the key's
  // current item are all in it. Made up front: an item of a key that has a
  // chain already finds its slot there (the chain's first item made it),
  // so making it here adds no key yjs would not have. No other key is
  // added to the parent's map while it is used.
  MapTable::Entry* const slot =
      item->has_parent_sub ? &parent->KeySlot(item->parent_sub) : nullptr;
  if ((left == nullptr && (right == nullptr || right->left != nullptr)) ||
      (left != nullptr && left->right != right)) {
    Item* o;
    if (left != nullptr) {
      o = left->right;
    } else if (slot != nullptr) {
      o = TypeImpl::ChainStart(*slot);
    } else {
      o = parent->start;
    }
    if (o != nullptr && o != right) {
      left = ConflictScan(store, item, o, left, right);
    }
    item->left = left;
  }
  if (item->left != nullptr) {
    item->right = item->left->right;
    item->left->right = item;
    // (See TypeImpl::pinned.)
    if (item->left->parent != parent) parent->pinned = true;
  } else {
    Item* r;
    if (slot != nullptr) {
      r = TypeImpl::ChainStart(*slot);
      // The item becomes the start of its key's chain.
      slot->first = item;
    } else {
      r = parent->start;
      parent->start = item;
    }
    item->right = r;
  }
  if (item->right != nullptr) {
    item->right->left = item;
  } else if (slot != nullptr) {
    slot->current = item;
    if (item->left != nullptr) DeleteItem(tr, item->left);
  }
  if (!item->has_parent_sub && item->Countable() && !item->deleted)
    parent->length += item->length;
  if (!item->has_parent_sub) parent->cache_item = nullptr;
  AddStruct(tr, item);
  IntegrateContent(tr, item, parent);
  DocAccess::AddChanged(
      tr, parent, item->has_parent_sub ? &item->parent_sub.get() : nullptr);
  if ((parent->item != nullptr && parent->item->deleted) ||
      (item->has_parent_sub && item->right != nullptr)) {
    DeleteItem(tr, item);
  }
}

}  // namespace

void IntegrateItem(Transaction& tr, Item* item, uint64_t offset) {
  IntegrateItemInline(tr, item, offset);
}

void IntegrateTypeContent(Transaction& tr, TypeImpl* t) {
  auto ops = std::move(t->prelim());
  t->prelim().clear();
  for (auto& op : ops) op(tr, t);
}

namespace {

// The non-recursive part of yjs Item.delete: returns false if the item was
// already deleted.
bool DeleteOne(Transaction& tr, Item* item) {
  if (item->deleted || item->gc) return false;
  TypeImpl* parent = item->parent;
  if (item->Countable() && !item->has_parent_sub) {
    parent->length -= item->length;
    parent->cache_item = nullptr;
  }
  item->deleted = true;
  DocAccess::Ds(tr).Add(item->id.client, item->id.clock, item->length);
  DocAccess::AddChanged(
      tr, parent, item->has_parent_sub ? &item->parent_sub.get() : nullptr);
  return true;
}

}  // namespace

// yjs Item.delete + ContentType.delete, with an explicit stack (a peer can
// nest types arbitrarily deep) visiting children in the recursive order.
void DeleteItem(Transaction& tr, Item* item) {
  if (!DeleteOne(tr, item)) return;
  // The cleanup looks the deleted struct up in its client's list (to
  // collect and merge it): that list's lines are cold by then, and asked
  // for now they arrive while the transaction goes on.
  if (const StructList* list = tr.doc().store().Client(item->id.client)) {
    list->PrefetchFind(item->id.clock);
  }
  if (item->content.ref != kRefType) return;
  struct Frame {
    TypeImpl* t;
    Item* cur;
    size_t key;
    bool in_list;
  };
  // Inline room for the usual depth (a map holding texts): deleting a
  // map key's old text value is on the hot path of every string write.
  absl::InlinedVector<Frame, 4> stack;
  TypeImpl* t0 = item->content.type();
  stack.push_back({t0, t0->start, 0, true});
  while (!stack.empty()) {
    Frame& f = stack.back();
    Item* c = nullptr;
    if (f.in_list) {
      if (f.cur != nullptr) {
        c = f.cur;
        f.cur = c->right;
      } else {
        f.in_list = false;
      }
    }
    if (c == nullptr && !f.in_list) {
      while (c == nullptr && f.key < f.t->map.size()) {
        c = f.t->map.begin()[f.key++].current;
      }
      if (c == nullptr) {
        DocAccess::RemoveChanged(tr, f.t);
        stack.pop_back();
        continue;
      }
    }
    if (!c->deleted) {
      if (DeleteOne(tr, c) && c->content.ref == kRefType) {
        TypeImpl* ct = c->content.type();
        stack.push_back({ct, ct->start, 0, true});  // invalidates f
      }
    } else if (c->id.clock < DocAccess::Before(tr, c->id.client)) {
      DocAccess::MergeStructs(tr).push_back(c);
    }
  }
}

Item* AppendLocalText(Transaction& tr, TypeImpl* parent, Item* left,
                      Item* right, std::u16string_view text) {
  if (!tr.doc().append_local_typing() || left == nullptr ||
      left->right != right || left->gc || left->deleted || left->keep ||
      left->has_parent_sub || left->parent != parent ||
      left->content.ref != kRefString || text.empty() ||
      left->content.str.empty()) {
    return nullptr;
  }
  if (right == nullptr
          ? left->has_right_origin
          : !(left->has_right_origin && left->right_origin == right->id)) {
    return nullptr;
  }
  if (parent->item != nullptr && parent->item->deleted) return nullptr;
  // A split between the two parts must not cut a surrogate pair (a split
  // there would replace both halves).
  char16_t last = left->content.str.back();
  char16_t first = text.front();
  if ((last >= 0xD800 && last <= 0xDBFF) ||
      (first >= 0xDC00 && first <= 0xDFFF))
    return nullptr;
  Doc& doc = tr.doc();
  uint64_t client = doc.client_id();
  if (left->id.client != client) return nullptr;
  StructList* v = doc.store().Client(client);
  if (v == nullptr || v->back() != left) return nullptr;
  uint64_t len = text.size();
  doc.pool().AppendLocalText(left->content.str, text);
  left->length += len;
  parent->length += len;
  parent->cache_item = nullptr;
  DocAccess::NoteAppendedLocal(tr);
  DocAccess::AddChanged(tr, parent, nullptr);
  return left;
}

namespace {
// NewLocalItem with its key (if any) already the Doc's.
Item* NewLocalItemKeyed(Transaction& tr, TypeImpl* parent, Item* left,
                        Item* right, const ItemKey* key, Content content) {
  Doc& doc = tr.doc();
  Item* it = doc.pool().New();
  uint64_t client = doc.client_id();
  it->id = {client, doc.store().State(client)};
  it->left = left;
  it->right = right;
  if (left != nullptr) it->SetOrigin(left->LastId());
  if (right != nullptr) it->SetRightOrigin(right->id);
  it->parent = parent;
  if (key != nullptr) {
    it->has_parent_sub = true;
    it->parent_sub = *key;
  }
  it->content = std::move(content);
  it->length = it->content.Length();
  IntegrateItem(tr, it, 0);
  return it;
}
}  // namespace

Item* NewLocalItem(Transaction& tr, TypeImpl* parent, Item* left, Item* right,
                   const std::string* parent_sub, Content content) {
  if (parent_sub == nullptr) {
    return NewLocalItemKeyed(tr, parent, left, right, nullptr,
                             std::move(content));
  }
  const ItemKey key = tr.doc().pool().Key(*parent_sub);
  return NewLocalItemKeyed(tr, parent, left, right, &key, std::move(content));
}

Item* NewLocalMapItem(Transaction& tr, TypeImpl* parent, Item* left,
                      ItemKey key, Content content) {
  return NewLocalItemKeyed(tr, parent, left, nullptr, &key, std::move(content));
}

// ---- applying updates
// ----------------------------------------------------------

namespace {

// Whether a decoded struct depends on a struct of another client the store
// does not have yet (yjs getMissing's first half); sets *missing_client.
bool MissingDependency(const DecodedStruct& s, const StructStore& store,
                       uint64_t* missing) {
  const Item* it = s.item();
  if (it->gc) return false;
  if (it->has_origin && it->origin.client != it->id.client &&
      it->origin.clock >= store.State(it->origin.client)) {
    *missing = it->origin.client;
    return true;
  }
  if (it->has_right_origin && it->right_origin.client != it->id.client &&
      it->right_origin.clock >= store.State(it->right_origin.client)) {
    *missing = it->right_origin.client;
    return true;
  }
  if (NamesMissingParent(s, *it, store)) {
    *missing = s.parent_id().client;
    return true;
  }
  return false;
}

// The neighbours a decoded struct's hints give without a lookup: `left`
// ends at its origin, `right` starts at its right origin; either may be
// null. An item ending exactly at the origin is what GetItemCleanEnd finds
// (nothing to split), and one starting at the right origin what
// GetItemCleanStart finds (a stored item's first clock never changes).
// The hints are the client's last integrated item, the item its previous
// struct had on its right, and each other's neighbour (when a client's
// structs come in the order they were made, as in a loaded state, nothing
// was integrated between a struct's origin and its right origin yet).
// Neither a hit nor a miss splits anything before GetItemCleanEnd would.
struct Neighbours {
  Item* left = nullptr;
  Item* right = nullptr;
};
inline Neighbours HintedNeighbours(const Item& it, const ClientRefs& cr) {
  Neighbours n;
  if (it.has_origin) {
    Item* c = cr.last;
    if (c != nullptr && c->LastId() == it.origin) n.left = c;
  }
  if (it.has_right_origin) {
    Item* c = cr.last_right;
    if (c != nullptr && c->id == it.right_origin) {
      n.right = c;
    } else if (n.left != nullptr && n.left->right != nullptr &&
               n.left->right->id == it.right_origin) {
      n.right = n.left->right;
    }
  }
  return n;
}

// The item starting at a decoded struct's right origin, given the hinted
// one (`r`, may be null) and the resolved left neighbour `l`. A lookup sets
// the right origin to the found item's id, as yjs does (they differ only
// for a GC struct).
inline Item* ResolveRightNeighbour(Transaction& tr, Item* it, Item* l,
                                   Item* r) {
  if (r != nullptr) return r;
  if (l != nullptr && l->right != nullptr && l->right->id == it->right_origin) {
    return l->right;
  }
  Item* found = GetItemCleanStart(tr, it->right_origin);
  it->right_origin = found->id;
  return found;
}

// Resolves a decoded struct's neighbours and parent (yjs getMissing's
// second half); returns its item.
Item* Materialize(Transaction& tr, DecodedStruct& s, ClientRefs& cr) {
  Doc& doc = tr.doc();
  Item* it = s.item();
  if (it->gc) return it;
  if (s.parent_kind() != 0) {
    // No origins (the update names the parent instead): nothing to link,
    // and the parent is read before its place in the item is cleared.
    TypeImpl* const parent = NamedParent(doc, s, cr);
    s.ClearParent();
    it->parent = parent;
    return it;
  }
  auto [l, r] = HintedNeighbours(*it, cr);
  // yjs sets the origins to the found neighbours' ids; they differ from
  // the decoded ones only for a GC struct found by a lookup (a hint's item
  // ends, or starts, exactly there).
  if (it->has_origin) {
    if (l == nullptr) {
      if (r != nullptr && r->left != nullptr &&
          r->left->LastId() == it->origin) {
        l = r->left;
      } else {
        l = GetItemCleanEnd(tr, it->origin);
        it->origin = l->LastId();
      }
    }
    it->left = l;
  }
  if (it->has_right_origin) {
    r = ResolveRightNeighbour(tr, it, l, r);
    it->right = r;
    cr.last_right = r;
  }
  if ((it->left != nullptr && it->left->gc) ||
      (it->right != nullptr && it->right->gc)) {
    it->parent = nullptr;
  } else if (Item* src = it->left != nullptr ? it->left : it->right;
             src != nullptr) {
    it->parent = src->parent;
    it->has_parent_sub = src->has_parent_sub;
    it->parent_sub = src->parent_sub;
  }
  return it;
}

// Hands an IntegrateRun's deleted ranges to the transaction's delete set,
// before anything else can add to it (see IntegrateInOrder): the set gets
// the ranges per-struct AddCollectedNext calls would give, in the same
// order.
struct CollectDeleted {
  DeleteSet* ds;
  uint64_t client;
  void operator()(uint64_t clock, uint64_t length) const {
    ds->AddCollectedNext(client, clock, length);
  }
};
using DeletedRuns = DeletedRanges<CollectDeleted>;

// The common struct of a decoded text on its own path, integrated fully
// (IntegrateStructs' loop then Materialize and IntegrateItemInline would
// do the same steps with more checks): a string or deleted struct at its
// client's next clock, placed by its origins (no parent named), whose
// other clients' dependencies are in the store. Returns false, having
// changed nothing, for any other struct. Past the dependency checks it
// integrates the struct, through the general steps where its neighbours
// are unusual (a GC neighbour, a map entry, a conflict to scan).
[[gnu::always_inline]] inline bool IntegrateInOrder(Transaction& tr,
                                                    DecodedStruct& s,
                                                    ClientRefs& cr,
                                                    DeletedRuns& deleted) {
  Item* it = s.item();
  if (s.parent_kind() != 0 || it->gc) return false;
  const uint8_t ref = it->content.ref;
  // (One test for both kinds: which of the two it is, is random.)
  constexpr uint32_t kKinds = (1u << kRefString) | (1u << kRefDeleted);
  if (((kKinds >> ref) & 1) == 0 || it->id.clock != cr.state) {
    return false;
  }
  StructStore& store = tr.doc().store();
  const uint64_t client = it->id.client;
  // The decoder checked that own-client origins come before the struct.
  if ((it->has_origin && it->origin.client != client &&
       it->origin.clock >= store.State(it->origin.client)) ||
      (it->has_right_origin && it->right_origin.client != client &&
       it->right_origin.clock >= store.State(it->right_origin.client))) {
    return false;
  }
  // Materialize's neighbours and origin updates, found without its hints:
  // whether a hint holds is random for a loaded state's structs (each miss
  // a mispredicted branch), and the lookup, whose steps do not branch on
  // the data, finds the item a hint would have. The right neighbour is
  // nearly always the left one's (nothing was integrated between the
  // origins yet). A struct placed by its origins has at least one.
  Item* l = nullptr;
  Item* r = nullptr;
  if (it->has_origin) {
    // GetItemCleanEnd, its lookup inline: the item ending at the origin
    // (a decoded state's origins mostly end a stored struct) needs no
    // split, and its last id is the origin.
    const Id o = it->origin;
    Item* found = store.Client(o.client)->FindItem(o.clock);
    if (found->id.clock + found->length - 1 == o.clock || found->gc) {
      l = found;
    } else {
      l = GetItemCleanEnd(tr, o);
    }
    it->origin = l->LastId();
  }
  it->left = l;
  if (it->has_right_origin) {
    r = ResolveRightNeighbour(tr, it, l, nullptr);
    cr.last_right = r;
  }
  it->right = r;
  s.Take();
  cr.state = it->id.clock + it->length;
  cr.last = it;
  if ((l != nullptr && l->gc) || (r != nullptr && r->gc)) {
    it->parent = nullptr;
  } else if (Item* src = l != nullptr ? l : r; src != nullptr) {
    it->parent = src->parent;
    it->has_parent_sub = src->has_parent_sub;
    it->parent_sub = src->parent_sub;
  }
  TypeImpl* const parent = it->parent;
  // Nothing between the origins, in a list: the link is all there is to
  // the placement (IntegrateItemInline skips its scan there too).
  if (l == nullptr || l->right != r || parent == nullptr ||
      it->has_parent_sub) {
    deleted.Flush();
    IntegrateItemInline(tr, it, 0);
    return true;
  }
  l->right = it;
  if (r != nullptr) r->left = it;
  parent->cache_item = nullptr;
  AddStruct(tr, it);
  // A string counts; deleted content is deleted (no branch: see
  // DeletedRanges).
  const bool del = ref == kRefDeleted;
  parent->length += it->length & (uint64_t{del} - 1);
  it->deleted = del;
  deleted.Note(del, it->id.clock, it->length);
  DocAccess::AddListChanged(tr, parent);
  if (parent->item != nullptr && parent->item->deleted) {
    deleted.Flush();
    DeleteItem(tr, it);
  }
  return true;
}

// IntegrateInOrder over `cr`'s structs from `head` (taken from cr.refs,
// cr.i past it) on: returns the first struct it did not take (cr.i past
// it), or null when the client has no structs left. Adds the structs
// taken to *taken. Out of line: its own inlining budget (the general
// loop's appends stay inline).
[[gnu::noinline]] DecodedStruct* IntegrateRun(Transaction& tr, ClientRefs& cr,
                                              DecodedStruct* head,
                                              size_t* taken) {
  const size_t n = cr.refs.size();
  if (!cr.reserved && cr.state > 0) {
    // Once per client, when its list has a struct (the index's start): room
    // for the structs still to come (`head` is refs[cr.i - 1]).
    cr.reserved = true;
    const Item* last = cr.refs.back().item();
    tr.doc().store().Client(cr.client)->ReserveAppend(n - cr.i + 1,
                                                      last->EndClock());
  }
  size_t count = 0;
  DeletedRuns deleted(CollectDeleted{&DocAccess::Ds(tr), cr.client});
  while (IntegrateInOrder(tr, *head, cr, deleted)) {
    ++count;
    if (cr.i == n) {
      head = nullptr;
      break;
    }
    // The items were written while decoding, long before: fetch the ones
    // a few structs ahead (each spans two cache lines).
    if (cr.i + 4 < n) {
      const char* ahead =
          reinterpret_cast<const char*>(cr.refs[cr.i + 4].item());
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + 64);
    }
    head = &cr.refs[cr.i++];
  }
  deleted.Flush();
  *taken += count;
  return head;
}

// The rest of an update (structs that cannot be integrated yet) as a v2
// update: clients descending, each from its first rest struct, no deletes.
// Frees the rest's items.
std::vector<uint8_t> EncodeRest(
    absl::flat_hash_map<uint64_t, std::vector<DecodedStruct>>& rest,
    ItemPool& pool) {
  auto w = NewWriter(true);
  std::vector<uint64_t> cs;
  for (auto& [c, v] : rest) {
    if (!v.empty()) cs.push_back(c);
  }
  std::sort(cs.begin(), cs.end(), std::greater<>());
  w->rest().VarUint(cs.size());
  for (uint64_t c : cs) {
    auto& v = rest[c];
    w->rest().VarUint(v.size());
    w->WriteClient(c);
    w->rest().VarUint(v[0].taken() ? v[0].taken_clock()
                                   : v[0].item()->id.clock);
    for (DecodedStruct& s : v) {
      WireStruct ws;
      if (s.taken()) {
        // Integrated before yjs put it back into the rest: WriteWireStruct
        // writes it as GC of its clock range.
        ws.ref = kRefGC;
        ws.id = {c, s.taken_clock()};
        ws.length = s.taken_length();
        WriteWireStruct(*w, ws, 0);
        continue;
      }
      Item* it = s.item();
      ws.ref = s.ref();
      ws.id = it->id;
      ws.length = it->length;
      ws.origin = it->Origin();
      ws.right_origin = it->RightOrigin();
      ws.parent_kind = s.parent_kind();
      if (ws.parent_kind == 1) ws.parent_name = std::string(s.parent_name());
      if (ws.parent_kind == 2) ws.parent_id = s.parent_id();
      ws.has_parent_sub = it->has_parent_sub;
      if (it->has_parent_sub) ws.parent_sub = it->parent_sub.get();
      ws.content = std::move(it->content);
      WriteWireStruct(*w, ws, 0);
    }
  }
  w->rest().VarUint(0);
  for (auto& [c, v] : rest) {
    for (DecodedStruct& s : v) {
      if (Item* it = s.held()) pool.Free(it);
    }
  }
  return w->Finish();
}

}  // namespace

// Returns true if there is a rest (stored into `rest`/`missing`).
[[gnu::noinline]] static bool IntegrateStructs(
    Transaction& tr,
    std::vector<std::pair<uint64_t, std::vector<DecodedStruct>>>& in,
    absl::flat_hash_map<uint64_t, std::vector<DecodedStruct>>* rest,
    absl::flat_hash_map<uint64_t, uint64_t>* missing_sv) {
  Doc& doc = tr.doc();
  StructStore& store = doc.store();
  if (in.empty()) return false;
  constexpr size_t kItemsAhead = 12;  // see the prefetch in the loop
  // The update's clients, ascending (processed from the back, as yjs's
  // sorted client list); `in` is descending. Each keeps the store's state
  // of its client (only this loop changes it), so that no struct pays a
  // table lookup.
  std::vector<ClientRefs> refs(in.size());
  if (in.size() > 1) store.ReserveClients(in.size());
  size_t structs = 0;  // in all of `refs`
  for (size_t k = 0; k < in.size(); ++k) {
    ClientRefs& cr = refs[in.size() - 1 - k];
    cr.client = in[k].first;
    cr.refs = std::move(in[k].second);
    cr.state = store.State(cr.client);
    structs += cr.refs.size();
  }
  auto find_refs = [&](uint64_t c) -> ClientRefs* {
    auto it = std::lower_bound(
        refs.begin(), refs.end(), c,
        [](const ClientRefs& r, uint64_t x) { return r.client < x; });
    return it != refs.end() && it->client == c ? &*it : nullptr;
  };
  size_t next = refs.size();  // refs[0, next) may still have structs
  auto next_target = [&]() -> ClientRefs* {
    while (next > 0) {
      ClientRefs& cr = refs[next - 1];
      if (cr.present && cr.i < cr.refs.size()) return &cr;
      --next;
    }
    return nullptr;
  };
  ClientRefs* cur = next_target();
  if (cur == nullptr) return false;
  auto update_missing = [&](uint64_t c, uint64_t clock) {
    auto it = missing_sv->find(c);
    if (it == missing_sv->end() || it->second > clock) (*missing_sv)[c] = clock;
  };
  struct Pending {
    DecodedStruct* s;
    ClientRefs* cr;
  };
  std::vector<Pending> stack;
  DecodedStruct* head = &cur->refs[cur->i++];
  ClientRefs* head_cr = cur;
  // A client's rest replaces an earlier one (as in yjs). The structs moved
  // into rests stay in `refs` as well: which items a rest dropped, or no
  // rest took, is settled once at the end.
  auto set_rest = [&](uint64_t client, std::vector<DecodedStruct> v) {
    (*rest)[client] = std::move(v);
  };
  // Integrated or dropped: the store or the pool has the item now.
  size_t taken = 0;
  auto take = [&taken](DecodedStruct& s) {
    s.Take();
    ++taken;
  };
  auto add_stack_to_rest = [&]() {
    for (const Pending& p : stack) {
      uint64_t client = p.s->item()->id.client;
      ClientRefs* cr = p.cr;
      if (cr->present) {
        cr->i--;
        std::vector<DecodedStruct> r(cr->refs.begin() + cr->i, cr->refs.end());
        set_rest(client, std::move(r));
        cr->present = false;
      } else {
        std::vector<DecodedStruct> one(1, *p.s);
        set_rest(client, std::move(one));
      }
    }
    stack.clear();
  };
  while (true) {
    if (stack.empty() && head_cr == cur && cur->present) {
      // A run of the current client's structs on one of the common paths:
      // a text's (here) or one naming parents (named_run.cc, its own file
      // so that its code changes nothing of this one's).
      const bool named = head->parent_kind() != 0;
      DecodedStruct* const first = head;
      head = named ? IntegrateNamedRun(tr, *cur, head, &taken)
                   : IntegrateRun(tr, *cur, head, &taken);
      if (head == nullptr) {
        cur = next_target();
        if (cur == nullptr) break;
        head = &cur->refs[cur->i++];
        head_cr = cur;
        continue;
      }
      // A run stopped at a struct of the other path (a text's first item,
      // then its others): that path may take it.
      if (head != first && (head->parent_kind() != 0) != named) continue;
    }
    if (head->skip()) {
      // Stays in `refs`: yjs puts a skip back into a rest like any struct.
    } else {
      const uint64_t local = head_cr->state;
      const Id id = head->item()->id;
      if (local < id.clock) {
        stack.push_back({head, head_cr});
        update_missing(id.client, id.clock - 1);
        add_stack_to_rest();
      } else {
        uint64_t offset = local - id.clock;
        uint64_t missing;
        if (MissingDependency(*head, store, &missing)) {
          stack.push_back({head, head_cr});
          ClientRefs* m = find_refs(missing);
          if (m == nullptr || !m->present || m->i == m->refs.size()) {
            update_missing(missing, store.State(missing));
            add_stack_to_rest();
          } else {
            head = &m->refs[m->i++];
            head_cr = m;
            continue;
          }
        } else {
          Item* item = Materialize(tr, *head, *head_cr);
          take(*head);
          if (offset == 0 || offset < item->length) {
            IntegrateItemInline(tr, item, offset);
            head_cr->state = item->id.clock + item->length;
            head_cr->last = item;
          } else {
            doc.pool().Free(item);
          }
        }
      }
    }
    if (!stack.empty()) {
      head = stack.back().s;
      head_cr = stack.back().cr;
      stack.pop_back();
    } else if (cur != nullptr && cur->present && cur->i < cur->refs.size()) {
      // The items were written while decoding, long before: fetch the
      // ones kItemsAhead structs ahead (each spans two cache lines). Four
      // ahead left the first read of each item of an initialization
      // update (maps and their first items, ~100 ns of work a struct)
      // waiting; 12 hides it, 8 and 16 measured slower than 12.
      if (cur->i + kItemsAhead < cur->refs.size()) {
        const char* ahead = reinterpret_cast<const char*>(
            cur->refs[cur->i + kItemsAhead].item());
        PrefetchLine(ahead);
        PrefetchLine(ahead + 64);
      }
      head = &cur->refs[cur->i++];
      head_cr = cur;
    } else {
      cur = next_target();
      if (cur == nullptr) break;
      head = &cur->refs[cur->i++];
      head_cr = cur;
    }
  }
  // Every struct taken (a whole update integrated): no item is held, and
  // the pass below would only read the structs again.
  if (taken == structs) return !rest->empty();
  // Every item still held is in a rest or goes back to the pool; `refs`
  // holds each decoded struct once, a rest only copies of some of them.
  absl::flat_hash_set<const Item*> in_rest;
  for (const auto& [c, v] : *rest) {
    for (const DecodedStruct& d : v) {
      if (const Item* it = d.held()) in_rest.insert(it);
    }
  }
  for (ClientRefs& cr : refs) {
    for (DecodedStruct& d : cr.refs) {
      if (Item* it = d.held(); it != nullptr && !in_rest.contains(it)) {
        doc.pool().Free(it);
      }
      d.set_item(nullptr);
    }
  }
  return !rest->empty();
}

using OrderedDs = std::vector<
    std::pair<uint64_t, std::vector<std::pair<uint64_t, uint64_t>>>>;

static DeleteSet ApplyDeleteSet(Transaction& tr, const OrderedDs& ds) {
  DeleteSet unapplied;
  StructStore& store = tr.doc().store();
  for (const auto& [client, ranges] : ds) {
    uint64_t state = store.State(client);
    // What this transaction deleted of the client (a decoded state's
    // deleted structs, in clock order, next to its delete set's ranges): a
    // range inside one of those needs no lookup. Read until the first
    // range that changes something (which may reallocate the table).
    const std::vector<std::pair<uint64_t, uint64_t>>* done = nullptr;
    if (auto f = DocAccess::Ds(tr).clients.find(client);
        f != DocAccess::Ds(tr).clients.end()) {
      done = &f->second;
    }
    size_t k = 0;  // the first of *done not ending at or before `clock`
    for (auto [clock, len] : ranges) {
      uint64_t end = clock + len;
      if (clock < state) {
        if (done != nullptr) {
          const auto& d = *done;
          while (k < d.size() && d[k].first + d[k].second <= clock) ++k;
          if (k < d.size() && d[k].first <= clock &&
              end <= d[k].first + d[k].second) {
            continue;
          }
          done = nullptr;
        }
        if (state < end) unapplied.Add(client, state, end - state);
        auto& v = *store.Client(client);
        size_t idx = StructStore::FindIndex(v, clock);
        Item* s = v[idx];
        // A deleted struct holding the whole range (a loaded state's
        // deleted content and its delete set): nothing to do, and no need
        // to load the next struct to see where the range stops.
        if (s->deleted && end <= s->EndClock()) continue;
        if (!s->deleted && s->id.clock < clock) {
          SplitItem(tr, s, clock - s->id.clock);
          ++idx;
        }
        while (idx < v.size()) {
          s = v[idx++];
          if (s->id.clock >= end) break;
          if (!s->deleted) {
            if (end < s->EndClock()) SplitItem(tr, s, end - s->id.clock);
            DeleteItem(tr, s);
          }
        }
      } else {
        unapplied.Add(client, clock, len);
      }
    }
  }
  return unapplied;
}

void ApplyDecoded(Transaction& tr, DecodedUpdate upd) {
  Doc& doc = tr.doc();
  PendingStore& pending = DocAccess::Pending(doc);
  absl::flat_hash_map<uint64_t, std::vector<DecodedStruct>> rest;
  absl::flat_hash_map<uint64_t, uint64_t> missing;
  bool has_rest = IntegrateStructs(tr, upd.clients, &rest, &missing);
  bool retry = false;
  if (pending.HasStructs()) {
    for (auto& [c, clock] : pending.missing) {
      if (clock < doc.store().State(c)) {
        retry = true;
        break;
      }
    }
    if (has_rest) {
      for (auto& [c, clock] : missing) {
        auto it = pending.missing.find(c);
        if (it == pending.missing.end() || it->second > clock)
          pending.missing[c] = clock;
      }
      std::vector<uint8_t> rest_update = EncodeRest(rest, doc.pool());
      std::vector<std::span<const uint8_t>> parts = {pending.update,
                                                     rest_update};
      absl::StatusOr<std::vector<uint8_t>> merged =
          MergeUpdatesV2(parts, TrustedReadOptions());
      // Both inputs were written by the engine; a failure would be a bug.
      assert(merged.ok());
      if (merged.ok()) pending.update = *std::move(merged);
    }
  } else if (has_rest) {
    pending.update = EncodeRest(rest, doc.pool());
    pending.missing = std::move(missing);
  }
  DeleteSet unapplied = ApplyDeleteSet(tr, upd.ds);
  if (!pending.ds.Empty()) {
    // The pending deletes are kept as yjs keeps them: an encoded update,
    // i.e. clients in descending order.
    OrderedDs old;
    for (uint64_t c : pending.ds.SortedClientsDesc())
      old.emplace_back(c, pending.ds.clients[c]);
    pending.ds = DeleteSet();
    DeleteSet unapplied2 = ApplyDeleteSet(tr, old);
    for (auto& [c, v] : unapplied2.clients) {
      for (auto& r : v) unapplied.Add(c, r.first, r.second);
    }
  }
  unapplied.SortAndMerge();
  pending.ds = std::move(unapplied);
  if (retry) {
    std::vector<uint8_t> update = std::move(pending.update);
    pending.update.clear();
    pending.missing.clear();
    absl::StatusOr<DecodedUpdate> again =
        DecodeUpdate(update, /*v2=*/true, doc.pool(), TrustedReadOptions());
    assert(again.ok());
    if (again.ok()) ApplyDecoded(tr, *std::move(again));
  }
}

}  // namespace auxsync::crdt::engine
