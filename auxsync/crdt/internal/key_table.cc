#include "auxsync/crdt/internal/key_table.h"

namespace auxsync::crdt::engine {

ItemKey KeyTable::InternSlow(std::string_view k, size_t slot) {
  const uint64_t h = MapTable::Hash(k);
  if (index_ == nullptr || 2 * (store_.size() + 1) > mask_ + 1) Grow();
  size_t pos = h & mask_;
  for (; index_[pos].key != nullptr; pos = (pos + 1) & mask_) {
    const InternedKey* key = index_[pos].key;
    if (index_[pos].hash == h && key->text.size() == k.size() &&
        SameBytes(key->text.data(), k.data(), k.size())) {
      recent_[slot] = key;
      return ItemKey(key);
    }
  }
  // A new key is not cached: many are used once (the bots' ids), and they
  // would evict the repeated ones.
  const InternedKey* key = &store_.emplace_back(InternedKey{std::string(k), h});
  index_[pos] = {h, key};
  return ItemKey(key);
}

void KeyTable::Grow() {
  const size_t slots = index_ == nullptr ? 64 : 2 * (mask_ + 1);
  auto grown = std::make_unique<Slot[]>(slots);  // zeroed: all empty
  const size_t mask = slots - 1;
  if (index_ != nullptr) {
    for (size_t i = 0; i <= mask_; ++i) {
      const Slot& s = index_[i];
      if (s.key == nullptr) continue;
      size_t pos = s.hash & mask;
      while (grown[pos].key != nullptr) pos = (pos + 1) & mask;
      grown[pos] = s;
    }
  }
  index_ = std::move(grown);
  mask_ = mask;
}

}  // namespace auxsync::crdt::engine
