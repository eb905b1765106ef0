#include "auxsync/crdt/internal/map_table.h"

#include <algorithm>
#include <bit>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace auxsync::crdt::engine {

uint64_t MapTable::Hash(std::string_view key) {
  return absl::Hash<absl::string_view>{}(
      absl::string_view(key.data(), key.size()));
}

void MapTable::Reserve(size_t n) {
  if (n > cap_) {
    auto grown = std::make_unique_for_overwrite<Entry[]>(n);
    std::copy(entries_.get(), entries_.get() + size_, grown.get());
    entries_ = std::move(grown);
    cap_ = static_cast<uint32_t>(n);
  }
  // An index at least twice the keys (probes stay short).
  if (n > kLinear && (index_ == nullptr || 2 * n > index_mask_ + size_t{1})) {
    Rehash(n);
  }
}

void MapTable::Clear() {
  entries_.reset();
  index_.reset();
  size_ = cap_ = index_mask_ = 0;
}

MapTable::Entry& MapTable::Add(ItemKey key) {
  if (size_ == cap_) {
    // A bot's map of ten tags: two allocations (4, then 16 entries).
    Reserve(cap_ == 0 ? 4 : cap_ < 16 ? 16 : 2 * size_t{cap_});
  }
  const uint32_t i = size_++;
  entries_[i] = Entry{key, nullptr, nullptr};
  if (index_ != nullptr) {
    // (Rehash moves the index's slots: the new entry is not among them.)
    if (2 * size_t{size_} > index_mask_ + size_t{1}) Rehash(2 * size_t{size_});
    IndexPut(key.hash(), i);
  } else if (size_ > kLinear) {
    Rehash(size_);
  }
  return entries_[i];
}

MapTable::Entry* MapTable::IndexedFind(uint64_t h, ItemKey key,
                                       std::string_view text) {
  const uint64_t tag = h >> 32;
  for (uint64_t pos = tag & index_mask_;; pos = (pos + 1) & index_mask_) {
    const uint64_t slot = index_[pos];
    if (slot == 0) return nullptr;
    if ((slot >> 32) != tag) continue;
    Entry& e = entries_[static_cast<uint32_t>(slot) - 1];
    if (key.address() != nullptr ? e.key == key : e.key.view() == text) {
      return &e;
    }
  }
}

void MapTable::IndexPut(uint64_t h, uint32_t i) {
  uint64_t pos = (h >> 32) & index_mask_;
  while (index_[pos] != 0) pos = (pos + 1) & index_mask_;
  index_[pos] = ((h >> 32) << 32) | (uint64_t{i} + 1);
}

void MapTable::Rehash(size_t n) {
  const size_t slots = std::bit_ceil(2 * n);
  std::unique_ptr<uint64_t[]> old = std::move(index_);
  const size_t old_slots = old == nullptr ? 0 : size_t{index_mask_} + 1;
  index_ = std::make_unique<uint64_t[]>(slots);  // zeroed: all empty
  index_mask_ = static_cast<uint32_t>(slots - 1);
  if (old == nullptr) {
    for (uint32_t i = 0; i < size_; ++i) IndexPut(entries_[i].key.hash(), i);
    return;
  }
  // The old slots hold what a probe needs (the hash's high half): the keys
  // (cold in a large map) are not read.
  for (size_t k = 0; k < old_slots; ++k) {
    const uint64_t slot = old[k];
    if (slot == 0) continue;
    uint64_t pos = (slot >> 32) & index_mask_;
    while (index_[pos] != 0) pos = (pos + 1) & index_mask_;
    index_[pos] = slot;
  }
}

}  // namespace auxsync::crdt::engine
