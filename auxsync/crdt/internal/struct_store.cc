#include "auxsync/crdt/internal/struct_store.h"

#include <algorithm>

namespace auxsync::crdt::engine {

void StructList::Reindex() {
  starts_.resize(chunks_.size());
  first_clocks_.resize(chunks_.size());
  size_t n = 0;
  for (size_t c = 0; c < chunks_.size(); ++c) {
    starts_[c] = n;
    first_clocks_[c] = chunks_[c].front().clock;
    n += chunks_[c].size();
  }
  size_ = n;
}

void StructList::InsertAt(size_t pos, Item* it) {
  if (pos == size_) {
    push_back(it);
    return;
  }
  size_t c = Chunk(pos);
  auto& ch = chunks_[c];
  ch.insert(ch.begin() + static_cast<std::ptrdiff_t>(pos - starts_[c]),
            Entry{it->id.clock, it});
  first_clocks_[c] = ch.front().clock;
  if (ch.size() >= 2 * kChunk) {
    std::vector<Entry> tail(ch.begin() + static_cast<std::ptrdiff_t>(kChunk),
                            ch.end());
    ch.resize(kChunk);
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(c + 1),
                   std::move(tail));
    Reindex();
    return;
  }
  for (size_t k = c + 1; k < starts_.size(); ++k) ++starts_[k];
  ++size_;
}

void StructList::Erase(size_t first, size_t last) {
  // Merging typing erases the newest structs: the tail of the last chunk.
  if (last == size_ && first > starts_.back()) {
    chunks_.back().resize(first - starts_.back());
    size_ = first;
    return;
  }
  while (first < last) {
    size_t c = Chunk(first);
    auto& ch = chunks_[c];
    size_t j = first - starts_[c];
    size_t n = std::min(last - first, ch.size() - j);
    ch.erase(ch.begin() + static_cast<std::ptrdiff_t>(j),
             ch.begin() + static_cast<std::ptrdiff_t>(j + n));
    if (ch.empty()) {
      chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c));
      Reindex();
    } else {
      if (j == 0) first_clocks_[c] = ch.front().clock;
      for (size_t k = c + 1; k < starts_.size(); ++k) starts_[k] -= n;
      size_ -= n;
    }
    last -= n;
  }
}

size_t StructList::FindIndex(uint64_t clock) const {
  // Typing appends: most lookups hit the last struct.
  const auto& lastc = chunks_.back();
  if (lastc.back().clock <= clock) return size_ - 1;
  // Recent structs (the last chunk) are the next most common target.
  size_t lo = chunks_.size() - 1;
  if (first_clocks_[lo] > clock) {
    lo = static_cast<size_t>(std::upper_bound(first_clocks_.begin(),
                                              first_clocks_.end() - 1, clock) -
                             first_clocks_.begin()) -
         1;
  }
  const auto& ch = chunks_[lo];
  // Last entry starting at or before `clock`.
  auto it =
      std::upper_bound(ch.begin(), ch.end(), clock,
                       [](uint64_t c, const Entry& e) { return c < e.clock; });
  return starts_[lo] + static_cast<size_t>(it - ch.begin()) - 1;
}

Item* StructStore::Find(Id id) const {
  const auto* v = Client(id.client);
  if (v == nullptr || v->empty() || id.clock >= v->back()->EndClock())
    return nullptr;
  return (*v)[FindIndex(*v, id.clock)];
}

std::vector<std::pair<uint64_t, uint64_t>> StructStore::StateVector() const {
  std::vector<std::pair<uint64_t, uint64_t>> sv;
  for (const auto& [c, v] : clients_) {
    if (!v.empty()) sv.push_back({c, v.back()->EndClock()});
  }
  std::sort(sv.begin(), sv.end(),
            [](auto& a, auto& b) { return a.first > b.first; });
  return sv;
}

}  // namespace auxsync::crdt::engine
