// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/internal/conflict_scan.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"

namespace auxsync::crdt::engine {

Item* ConflictScan(const StructStore& store, Item* item, Item* o, Item* left,
                   Item* right) {
  // yjs keeps two sets: the items before the origin (every item scanned)
  // and the conflicting ones (those scanned since the set was last
  // cleared). Scanned items are distinct, so the second is a suffix of the
  // first: `seen` in scan order, conflicting from `mark` on. Usually a
  // handful of items, searched in place; past kLinear (many clients
  // inserting at one place) a table of positions keeps each step O(1)
  // where searching would make the scan quadratic.
  constexpr size_t kLinear = 16;
  constexpr size_t kAbsent = SIZE_MAX;
  absl::InlinedVector<Item*, kLinear> seen;
  absl::flat_hash_map<const Item*, size_t> positions;  // once past kLinear
  size_t mark = 0;
  // The table is made by the first search past kLinear and catches up
  // with the items scanned since at each search (scans of many items
  // sharing the item's origin search nothing).
  auto position = [&](const Item* x) -> size_t {
    if (seen.size() <= kLinear) {
      auto it = std::find(seen.begin(), seen.end(), x);
      return it != seen.end() ? static_cast<size_t>(it - seen.begin())
                              : kAbsent;
    }
    for (size_t k = positions.size(); k < seen.size(); ++k) {
      positions.emplace(seen[k], k);
    }
    auto it = positions.find(x);
    return it != positions.end() ? it->second : kAbsent;
  };
  while (o != nullptr && o != right) {
    seen.push_back(o);
    if (item->Origin() == o->Origin()) {
      if (o->id.client < item->id.client) {
        left = o;
        mark = seen.size();  // conflicting cleared
      } else if (item->RightOrigin() == o->RightOrigin()) {
        break;
      }
    } else if (o->has_origin) {
      Item* oo = store.Find(o->origin);
      const size_t at = oo != nullptr ? position(oo) : kAbsent;
      if (at == kAbsent) break;  // not before the origin
      if (at < mark) {           // not conflicting
        left = o;
        mark = seen.size();
      }
    } else {
      break;
    }
    o = o->right;
  }
  return left;
}

}  // namespace auxsync::crdt::engine
