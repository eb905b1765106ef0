// Shortcuts into the engine for callers on a hot path (the yjs partition's
// write path), where the public handles of types.h would copy what the
// caller already owns. Each one writes exactly what its public equivalent
// writes (same items, ids, update bytes and events).
//
// Threading: like the Doc they act on, single-threaded.
#ifndef AUXSYNC_CRDT_INTERNAL_FAST_ACCESS_H_
#define AUXSYNC_CRDT_INTERNAL_FAST_ACCESS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/internal/map_table.h"
#include "auxsync/crdt/types.h"

namespace auxsync::crdt::engine {

struct Item;

// YMap::Set(key, Input::Text(text)): sets `key` of `map` to a new Y.Text
// holding `text` (UTF-16 code units, taken over), in the current
// transaction or a new one. The text is inserted right after the text's own
// item is integrated, as the preliminary content would be, without copying
// it into a preliminary closure first. Returns the key's new item (its
// content is the text), or null when the map's own item is deleted (the
// public path then wrote it).
Item* SetMapText(YMap map, std::string_view key, std::u16string_view text);

// YMap::Set(key, Input(value)) for a plain value that is not bytes (bytes
// go through YMap::Set, which stores them as binary content). Returns the
// key's new item, or null for bytes.
Item* SetMapValue(YMap map, std::string_view key, JsValue value);

// The key of `map`'s Doc with text `key` (made on first use, as the first
// write of the key makes it): a lookup of a small map by it compares
// addresses instead of texts (map->GetMap(ItemKey)).
ItemKey MapKeyOf(const TypeImpl* map, std::string_view key);

// SetMapText and SetMapValue of a key the caller has looked up: `key` is a
// key of the map's Doc (MapKeyOf) and `current` the key's current item
// (map->GetMap(key), null when it has none) with nothing written since.
// Same writes, without looking the key up again.
Item* SetMapText(YMap map, ItemKey key, Item* current,
                 std::u16string_view text);
Item* SetMapValue(YMap map, ItemKey key, Item* current, JsValue value);

// Ask the CPU to bring in every cache line of `item` / `type` (null: no-op),
// for callers that know which cold structs a write will touch before it
// starts (a map key's old value): the loads then overlap other work.
// Change nothing.
void PrefetchItem(const Item* item);
// Also the item slots on either side of `type` (a pooled type lies next to
// its item, which writes read with it).
void PrefetchType(const TypeImpl* type);
// PrefetchItem of `item` and of the pool slots on either side of it: the
// structs one client made one after the other sit next to each other in the
// pool's blocks, and those are the ones deleting and collecting `item`
// reads (a text's string item, made right after the text's map item; the
// struct before it, which a merge tries). A guess about memory, never a
// read: wrong neighbours cost only the requests.
void PrefetchAround(const Item* item);
// Every line of the pool slots from `from` up to `to` when `to` follows
// within 4 KiB (the items made between two items, e.g. a bot map's tags
// and their texts between its item and the next bot's: a text's kind lies
// in its slot's second line); else nothing.
void PrefetchSlotsBetween(const Item* from, const Item* to);
// Asks for the line at each `step` bytes from `from` up to `to`. Addresses
// as integers: a guess about memory (neighbouring pool slots may lie
// outside a block, a caller's objects near another), never a read; a
// prefetch of any address is harmless.
void PrefetchLines(uintptr_t from, uintptr_t to, size_t step);

// What a transaction did to one key of a map, as its event records it.
enum class MapKeyAction : uint8_t { kNone, kAdd, kUpdate, kDelete };

// The change of `key` of `map` that ComputeEvent records in `tr`'s event
// of `map` (kNone: no entry for the key), read from the items and `tr`'s
// delete set without building the event. Valid until `tr` is collected
// (inside its observers and afterTransaction handlers). A key that
// ChangedMapKeys gave is found by its address (no text compared).
MapKeyAction MapKeyChange(const Transaction& tr, const TypeImpl* map,
                          const std::string& key);
// MapKeyChange that also gives the key's current item (null when the map
// has none), for callers that read it next: one lookup instead of two.
MapKeyAction MapKeyChange(const Transaction& tr, const TypeImpl* map,
                          const std::string& key, const Item** current);

// The keys of `type` that `tr` recorded as changed, in first-change order
// (what its event's keys are computed from), as the Doc's interned keys
// (valid as long as the Doc); null when none.
const std::vector<const std::string*>* ChangedMapKeys(const Transaction& tr,
                                                      TypeImpl* type);

// MapKeyChange of a key whose current item is `current` (its map entry's,
// possibly null), for a caller that holds the entry: no lookup.
MapKeyAction MapKeyChangeOfCurrent(const Transaction& tr, const Item* current);

// The entries of `map` of the keys ChangedMapKeys(tr, map) gives, in that
// order, when those keys are the map's last ones in key order (as when the
// transaction added every one of them: an initialization update's bots);
// else null. Found by the keys' addresses, without a lookup or hashing per
// key. Valid until the map gets a new key.
const MapTable::Entry* ChangedKeysAtEnd(const Transaction& tr, TypeImpl* map);

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_FAST_ACCESS_H_
