// Copyright 2025 The auxsync Authors.
//
// yjs's conflict scan (Item.integrate): where an item goes among items
// inserted concurrently between its origins. Private to the engine. Its
// own file: its tables would change what the compiler inlines in
// integrate.cc's hot loops.
#ifndef AUXSYNC_CRDT_INTERNAL_CONFLICT_SCAN_H_
#define AUXSYNC_CRDT_INTERNAL_CONFLICT_SCAN_H_

#include "auxsync/crdt/internal/item.h"
#include "auxsync/crdt/internal/struct_store.h"

namespace auxsync::crdt::engine {

// The left neighbour of `item`, scanning from `o` (neither null nor
// `right`, the item's right neighbour) as yjs does; `left` is the
// neighbour before the scan (its origin's item). Most items (typing, a
// decoded document's structs, a new map key) have nothing between their
// origins and never get here.
Item* ConflictScan(const StructStore& store, Item* item, Item* o, Item* left,
                   Item* right);

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_CONFLICT_SCAN_H_
