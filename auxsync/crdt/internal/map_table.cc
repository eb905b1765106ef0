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
    if (2 * size_t{size_} > index_mask_ + size_t{1}) {
      Rehash(2 * size_t{size_});
    } else {
      IndexPut(Hash(key.view()), i);
    }
  } else if (size_ > kLinear) {
    Rehash(size_);
  }
  return entries_[i];
}

MapTable::Entry* MapTable::IndexedFind(std::string_view key,
                                       const std::string* address) {
  const uint64_t h = Hash(key);
  const uint64_t tag = h >> 32;
  for (uint64_t pos = h & index_mask_;; pos = (pos + 1) & index_mask_) {
    const uint64_t slot = index_[pos];
    if (slot == 0) return nullptr;
    if ((slot >> 32) != tag) continue;
    Entry& e = entries_[static_cast<uint32_t>(slot) - 1];
    if (address != nullptr ? e.key.address() == address : e.key.view() == key) {
      return &e;
    }
  }
}

void MapTable::IndexPut(uint64_t h, uint32_t i) {
  uint64_t pos = h & index_mask_;
  while (index_[pos] != 0) pos = (pos + 1) & index_mask_;
  index_[pos] = ((h >> 32) << 32) | (uint64_t{i} + 1);
}

void MapTable::Rehash(size_t n) {
  const size_t slots = std::bit_ceil(2 * n);
  index_ = std::make_unique<uint64_t[]>(slots);  // zeroed: all empty
  index_mask_ = static_cast<uint32_t>(slots - 1);
  for (uint32_t i = 0; i < size_; ++i) {
    IndexPut(Hash(entries_[i].key.view()), i);
  }
}

}  // namespace auxsync::crdt::engine
