// The decoded-update path for runs of structs that name their parent
// (named_run.h): a file of its own, so that its code takes nothing from the
// inlining GCC allows integrate.cc, whose text path it would otherwise
// slow down.
#include "auxsync/crdt/internal/named_run.h"

namespace auxsync::crdt::engine {

namespace {

// One struct of IntegrateNamedRun: false, having changed nothing the
// general path would not (the parent hints; a root the update names, which
// that path makes too), for a struct it does not take.
[[gnu::always_inline]] inline bool IntegrateNamed(Transaction& tr,
                                                  DecodedStruct& s,
                                                  ClientRefs& cr) {
  Item* it = s.item();
  if (s.parent_kind() == 0 || it->gc || it->has_origin ||
      it->has_right_origin || it->id.clock != cr.state) {
    return false;
  }
  Doc& doc = tr.doc();
  if (NamesMissingParent(s, *it, doc.store())) return false;
  TypeImpl* const parent = NamedParent(doc, s, cr);
  if (parent == nullptr) return false;
  if (it->has_parent_sub) {
    // Made here as the general path makes it; a key with items already
    // has its slot (nothing added) and goes there for its conflicts.
    MapTable::Entry& slot = parent->KeySlot(it->parent_sub);
    if (slot.current != nullptr || slot.first != nullptr) return false;
    slot.first = it;
    slot.current = it;
  } else {
    if (parent->start != nullptr) return false;
    parent->start = it;
    if (it->Countable() && !it->deleted) parent->length += it->length;
    parent->cache_item = nullptr;
  }
  s.Take();
  it->parent = parent;
  it->left = nullptr;
  it->right = nullptr;
  cr.state = it->id.clock + it->length;
  cr.last = it;
  AddStruct(tr, it);
  IntegrateContent(tr, it, parent);
  DocAccess::AddChanged(tr, parent,
                        it->has_parent_sub ? &it->parent_sub.get() : nullptr);
  if (parent->item != nullptr && parent->item->deleted) DeleteItem(tr, it);
  return true;
}

}  // namespace

DecodedStruct* IntegrateNamedRun(Transaction& tr, ClientRefs& cr,
                                 DecodedStruct* head, size_t* taken) {
  const size_t n = cr.refs.size();
  // The items were written while decoding, long before: fetch the ones a
  // dozen structs ahead (each spans two cache lines; see kItemsAhead in
  // IntegrateStructs).
  constexpr size_t kAhead = 12;
  size_t count = 0;
  while (IntegrateNamed(tr, *head, cr)) {
    ++count;
    if (cr.i == n) {
      head = nullptr;
      break;
    }
    if (cr.i + kAhead < n) {
      const char* ahead =
          reinterpret_cast<const char*>(cr.refs[cr.i + kAhead].item());
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + 64);
    }
    head = &cr.refs[cr.i++];
  }
  *taken += count;
  return head;
}

}  // namespace auxsync::crdt::engine
