// Integrating a decoded update's runs of structs that name their parent (a
// map's entries, the first item of a type: all of an initialization
// update), and what that path shares with integrate.cc's loop. Private to
// the engine.
#ifndef AUXSYNC_CRDT_INTERNAL_NAMED_RUN_H_
#define AUXSYNC_CRDT_INTERNAL_NAMED_RUN_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "auxsync/crdt/internal/engine.h"

namespace auxsync::crdt::engine {

// One client's decoded structs while an update is integrated, with the
// hints its next structs are resolved from.
struct ClientRefs {
  uint64_t client = 0;
  std::vector<DecodedStruct> refs;
  size_t i = 0;
  bool present = true;
  bool reserved = false;  // the store's list has room for refs (IntegrateRun)
  uint64_t state = 0;     // the store's state of the client
  // The client's last integrated item and the item its right origin named:
  // the next struct of a decoded state often continues there (same origin
  // end, same right origin), and then needs no lookup.
  Item* last = nullptr;
  Item* last_right = nullptr;
  // The items the last structs naming their parent by id had as parent,
  // newest first: a map's entries follow one another (a parent is a type
  // item, length 1, never split: found again by its id), and a nested
  // type's own entries come between two of them (a bot's Y.Text tag and
  // its string, between the bot's other tags).
  Item* last_parent = nullptr;
  Item* prev_parent = nullptr;
  // The root the last struct naming its parent by name had (a view of
  // the root's own name), and that struct's view of the name: decoding
  // gives a run of structs under one root the same view (ShareRootName),
  // which is then matched by its address, without reading the update's
  // bytes again (cold by now: one cache miss per bot map of an
  // initialization update).
  TypeImpl* last_root = nullptr;
  std::string_view last_root_name;
  std::string_view last_root_view;
};

// Appends `it` (its client's next struct) to the store.
inline __attribute__((always_inline)) void AddStruct(Transaction& tr,
                                                     Item* it) {
  // (Before the cleanup no struct loses its origin or becomes GC without a
  // delete, which the cleanup sees.)
  if (it->has_origin || it->gc) DocAccess::AddedMergeable(tr) = true;
  auto& v = tr.doc().store().ClientOrCreate(it->id.client);
  assert(v.empty() || v.back()->EndClock() == it->id.clock);
  v.push_back(it);
}

// yjs's content.integrate for `item`, placed under `parent`.
[[gnu::always_inline]] inline void IntegrateContent(Transaction& tr, Item* item,
                                                    TypeImpl* parent) {
  switch (item->content.ref) {
    case kRefDeleted:
      DocAccess::Ds(tr).AddCollected(item->id.client, item->id.clock,
                                     item->length);
      item->deleted = true;
      break;
    case kRefFormat:
      parent->has_formatting = true;
      break;
    case kRefType: {
      TypeImpl* t = item->content.type();
      t->doc = &tr.doc();
      t->item = item;
      if (t->has_prelim()) IntegrateTypeContent(tr, t);
      break;
    }
    default:
      break;
  }
}

// Whether `s` (its item `it`) names as its parent an item of another client
// that `store` does not have yet (the decoder checked the own client's).
inline bool NamesMissingParent(const DecodedStruct& s, const Item& it,
                               const StructStore& store) {
  if (s.parent_kind() != 2) return false;
  const Id p = s.parent_id();
  return p.client != it.id.client && p.clock >= store.State(p.client);
}

// The type a decoded struct names as its parent (s.parent_kind() 1 or 2), or
// null when the named item is not a type (it is gone or GC). A root the
// update names is made, as yjs does; the hints in `cr` are updated.
[[gnu::always_inline]] inline TypeImpl* NamedParent(Doc& doc,
                                                    const DecodedStruct& s,
                                                    ClientRefs& cr) {
  if (s.parent_kind() == 1) {
    // Roots never go away: the last one named is kept with its name.
    const std::string_view name = s.parent_name();
    if (cr.last_root == nullptr || name.data() != cr.last_root_view.data() ||
        name.size() != cr.last_root_view.size()) {
      if (cr.last_root == nullptr || cr.last_root_name != name) {
        cr.last_root = DocAccess::RootForRemote(doc, name);
        cr.last_root_name = cr.last_root->root_name();
      }
      cr.last_root_view = name;
    }
    return cr.last_root;
  }
  const Id id = s.parent_id();
  // A stored struct whose first clock is the parent id's is the one Find
  // would return: the previous struct (a text's first string names the
  // text made just before) or the last parent.
  Item* p;
  if (cr.last_parent != nullptr && cr.last_parent->id == id) {
    p = cr.last_parent;
  } else {
    if (cr.last != nullptr && cr.last->id == id) {
      p = cr.last;
    } else if (cr.prev_parent != nullptr && cr.prev_parent->id == id) {
      p = cr.prev_parent;
    } else {
      p = doc.store().Find(id);
    }
    cr.prev_parent = cr.last_parent;
    cr.last_parent = p;
  }
  if (p == nullptr || p->gc || p->content.ref != kRefType) return nullptr;
  return p->content.type();
}

// Integrates `cr`'s structs from `head` (taken from cr.refs, cr.i past it)
// on while each names its parent, has no origins, comes at its client's
// next clock and is the first item of its key (or of its empty list) in a
// type of the store: the steps of yjs's Item.integrate that such an item
// takes. Returns the first struct it did not take (cr.i past it; the
// general path integrates it), or null when the client has no structs
// left. Adds the structs taken to *taken.
DecodedStruct* IntegrateNamedRun(Transaction& tr, ClientRefs& cr,
                                 DecodedStruct* head, size_t* taken);

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_NAMED_RUN_H_
