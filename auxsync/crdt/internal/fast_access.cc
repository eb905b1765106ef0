#include "auxsync/crdt/internal/fast_access.h"

#include <cstdint>
#include <memory>
#include <utility>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/internal/prefetch.h"

namespace auxsync::crdt::engine {

namespace {

// Deletes a map key's current value before the key gets a new one: what
// IntegrateItem's DeleteItem of the new item's left would do right after
// linking it, done first (no step reads the new item's links), so that
// DeleteItem then finds it deleted and returns. Not when the current value
// has a right neighbour, which only a malformed update can link there (an
// item of another type whose origin it is): the new item then lands before
// that neighbour and is itself deleted, as in yjs, and the old value stays.
void DeleteOldMapValue(Transaction& tr, Item* old) {
  if (old != nullptr && old->right == nullptr) DeleteItem(tr, old);
}

// Asks for the first item of the key's old value when it is a type (a
// bot's replaced Y.Text), which deleting it reads next: the request runs
// while the new content is allocated.
void PrefetchOldContent(const Item* old) {
  if (old != nullptr && old->content.ref == kRefType &&
      old->content.type() != nullptr && old->content.type()->start != nullptr) {
    PrefetchItem(old->content.type()->start);
  }
}

// Requests every cache line of `*obj` (nothing for null).
template <typename T>
void PrefetchObject(const T* obj) {
  if (obj == nullptr) return;
  const char* p = reinterpret_cast<const char*>(obj);
  for (size_t off = 0; off < sizeof(T); off += 64) PrefetchLine(p + off);
  PrefetchLine(p + sizeof(T) - 1);
}

}  // namespace

void PrefetchLines(uintptr_t from, uintptr_t to, size_t step) {
  for (uintptr_t q = from; q < to; q += step) {
    PrefetchLine(reinterpret_cast<const void*>(q));
  }
}

void PrefetchItem(const Item* item) { PrefetchObject(item); }

void PrefetchType(const TypeImpl* type) {
  if (type == nullptr) return;
  // A pooled type shares the item blocks and was made right before or
  // after its item (ItemPool::NewType): the slots on either side are
  // requested too, so that the type's item (what a write reads next: its
  // deleted flag, its id) arrives with it (a heap type's neighbours cost
  // only the requests).
  const uintptr_t p = reinterpret_cast<uintptr_t>(type);
  PrefetchLines(p - sizeof(Item), p + 2 * sizeof(Item), 64);
}

void PrefetchAround(const Item* item) {
  if (item == nullptr) return;
  const uintptr_t p = reinterpret_cast<uintptr_t>(item);
  PrefetchLines(p - sizeof(Item), p + 3 * sizeof(Item), 64);
}

void PrefetchSlotsBetween(const Item* from, const Item* to) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(from);
  const uintptr_t b = reinterpret_cast<uintptr_t>(to);
  if (b <= a || b - a > 4096) return;
  PrefetchLines(a, b, 64);
}

ItemKey MapKeyOf(const TypeImpl* map, std::string_view key) {
  return map->doc->pool().Key(key);
}

Item* SetMapText(YMap map, std::string_view key, std::u16string_view text) {
  const ItemKey k = MapKeyOf(map.impl(), key);
  return SetMapText(map, k, map.impl()->GetMap(k), text);
}

Item* SetMapText(YMap map, ItemKey key, Item* current,
                 std::u16string_view text) {
  TypeImpl* t = map.impl();
  if (t->item != nullptr && t->item->deleted) {
    // The new item is deleted at once, after its preliminary content was
    // integrated: keep that order.
    map.Set(key.get(), Input::Text(std::u16string(text)));
    return nullptr;
  }
  Item* out = nullptr;
  t->doc->Transact([&](Transaction& tr) {
    // The same left neighbour YMap::Set uses: the key's current item.
    Item* left = current;
    PrefetchOldContent(left);
    Content c;
    c.ref = kRefType;
    // From the Doc's pool: the text it replaces went back there.
    t->doc->pool().NewType(c);
    c.type()->doc = t->doc;
    c.type()->kind = TypeKind::kText;
    DeleteOldMapValue(tr, left);
    Item* item = NewLocalMapItem(tr, t, left, key, std::move(c));
    out = item;
    // A new type is never among the transaction's changed types (its item
    // is newer than the transaction's start), so inserting its content now
    // rather than inside IntegrateItem changes no event; the ids follow the
    // same order (the text's item, then its string).
    if (!text.empty()) {
      // YText::Insert(0, text) into the new, empty text: no position to
      // find, no formats, nothing left of it to append to; one string item.
      TypeImpl* type = item->content.type();
      Content s;
      s.ref = kRefString;
      s.str = t->doc->pool().NewText(text);
      Item* str =
          NewLocalItem(tr, type, nullptr, nullptr, nullptr, std::move(s));
      // The position cache as the text insert leaves it.
      if (!str->deleted) {
        type->cache_item = str;
        type->cache_index = 0;
      }
    }
  });
  return out;
}

Item* SetMapValue(YMap map, std::string_view key, JsValue value) {
  const ItemKey k = MapKeyOf(map.impl(), key);
  return SetMapValue(map, k, map.impl()->GetMap(k), std::move(value));
}

Item* SetMapValue(YMap map, ItemKey key, Item* current, JsValue value) {
  if (value.kind() == AnyKind::kBytes) {
    map.Set(key.get(), Input(std::move(value)));
    return nullptr;
  }
  TypeImpl* t = map.impl();
  Item* out = nullptr;
  t->doc->Transact([&](Transaction& tr) {
    Item* left = current;
    PrefetchOldContent(left);
    // ContentForValue of a plain value: one Any.
    Content c;
    c.ref = kRefAny;
    t->doc->pool().Anys(c).push_back(std::move(value));
    DeleteOldMapValue(tr, left);
    out = NewLocalMapItem(tr, t, left, key, std::move(c));
  });
  return out;
}

MapKeyAction MapKeyChange(const Transaction& tr, const TypeImpl* map,
                          const std::string& key) {
  const Item* item;
  return MapKeyChange(tr, map, key, &item);
}

MapKeyAction MapKeyChange(const Transaction& tr, const TypeImpl* map,
                          const std::string& key, const Item** current) {
  const MapTable::Entry* e = map->map.FindInterned(key);
  const Item* item = e == nullptr ? nullptr : e->current;
  *current = item;
  return MapKeyChangeOfCurrent(tr, item);
}

MapKeyAction MapKeyChangeOfCurrent(const Transaction& tr, const Item* item) {
  KeyChange::Action action;
  const Item* old;
  if (item == nullptr || !MapKeyEventOf(tr, item, &action, &old)) {
    return MapKeyAction::kNone;
  }
  switch (action) {
    case KeyChange::Action::kAdd:
      return MapKeyAction::kAdd;
    case KeyChange::Action::kUpdate:
      return MapKeyAction::kUpdate;
    case KeyChange::Action::kDelete:
      return MapKeyAction::kDelete;
  }
  return MapKeyAction::kNone;
}

const std::vector<const std::string*>* ChangedMapKeys(const Transaction& tr,
                                                      TypeImpl* type) {
  const auto* changed = DocAccess::Changed(tr, type);
  return changed == nullptr ? nullptr : &changed->key_ids;
}

const MapTable::Entry* ChangedKeysAtEnd(const Transaction& tr, TypeImpl* map) {
  const auto* changed = DocAccess::Changed(tr, map);
  if (changed == nullptr) return nullptr;
  const std::vector<const std::string*>& ids = changed->key_ids;
  const size_t n = ids.size();
  if (n == 0 || n > map->map.size()) return nullptr;
  const MapTable::Entry* first = map->map.end() - n;
  for (size_t i = 0; i < n; ++i) {
    if (first[i].key.address() != ids[i]) return nullptr;
  }
  return first;
}

}  // namespace auxsync::crdt::engine
