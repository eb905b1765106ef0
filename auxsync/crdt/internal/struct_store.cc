#include "auxsync/crdt/internal/struct_store.h"

#include <algorithm>

namespace auxsync::crdt::engine {

void StructList::Reindex() {
  size_t n = 0;
  for (EntryChunk& ch : chunks_) {
    ch.start = n;
    ch.first_clock = ch.front().clock;
    n += ch.size();
  }
  size_ = n;
}

void StructList::NewChunk(uint64_t clock) {
  // No reserve for the first chunk (a doc with many clients has many
  // short lists); a list that fills one will likely fill the next.
  EntryChunk& ch = chunks_.emplace_back();
  ch.start = size_;
  ch.first_clock = clock;
  if (chunks_.size() > 1) ch.reserve(kChunk);
}

void StructList::ReserveAppend(size_t n, uint64_t end_clock) {
  // A short run fits the first chunk and index blocks (a document with
  // many clients has many short lists: no allocations for those).
  if (n < kChunk) return;
  const size_t chunks = (size_ + n) / kChunk + 1;
  chunks_.reserve(chunks);
  // An empty list starts its index at its first struct's clock: unknown
  // here, and the index's room is sized by its first push.
  if (!regular_ || size_ == 0 || end_clock <= index_base_) return;
  // The blocks up to end_clock at the current granularity, within the
  // bound push_back keeps (it coarsens past it).
  const uint64_t blocks = ((end_clock - index_base_) >> index_shift_) + 1;
  const uint64_t bound = 2 * (size_ + n) + 64;
  index_.reserve(static_cast<size_t>(std::min(blocks, bound)));
}

void StructList::InsertAt(size_t pos, Item* it) {
  if (pos == size_) {
    push_back(it);
    return;
  }
  if (regular_) Irregular();
  size_t c = Chunk(pos);
  auto& ch = chunks_[c];
  ch.insert(ch.begin() + static_cast<std::ptrdiff_t>(pos - ch.start),
            Entry{it->id.clock, it});
  ch.first_clock = ch.front().clock;
  if (ch.size() >= 2 * kChunk) {
    EntryChunk tail;
    tail.assign(ch.begin() + static_cast<std::ptrdiff_t>(kChunk), ch.end());
    ch.resize(kChunk);
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(c + 1),
                   std::move(tail));
    Reindex();
    return;
  }
  for (size_t k = c + 1; k < chunks_.size(); ++k) ++chunks_[k].start;
  ++size_;
}

void StructList::Erase(size_t first, size_t last) {
  // Merging typing erases the newest structs: the tail of the last chunk.
  if (last == size_ && first > chunks_.back().start) {
    chunks_.back().resize(first - chunks_.back().start);
    size_ = first;
    if (regular_) {
      // Blocks past the new last struct's clock are not covered any more.
      index_size_ =
          ((chunks_.back().back().clock - index_base_) >> index_shift_) + 1;
    }
    return;
  }
  if (regular_) Irregular();
  while (first < last) {
    size_t c = Chunk(first);
    auto& ch = chunks_[c];
    size_t j = first - ch.start;
    size_t n = std::min(last - first, ch.size() - j);
    ch.erase(ch.begin() + static_cast<std::ptrdiff_t>(j),
             ch.begin() + static_cast<std::ptrdiff_t>(j + n));
    if (ch.empty()) {
      chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c));
      Reindex();
    } else {
      if (j == 0) ch.first_clock = ch.front().clock;
      for (size_t k = c + 1; k < chunks_.size(); ++k) chunks_[k].start -= n;
      size_ -= n;
    }
    last -= n;
  }
}

size_t StructList::ChunkSearch(size_t i) const {
  if (i >= chunks_.back().start) return chunks_.size() - 1;
  return static_cast<size_t>(
             std::upper_bound(
                 chunks_.begin(), chunks_.end(), i,
                 [](size_t v, const EntryChunk& ch) { return v < ch.start; }) -
             chunks_.begin()) -
         1;
}

namespace {

// The last of the n (>= 1) positions from `first` on, whose keys
// (`key_at(p)`) ascend, whose key is <= `key`, given that the first one's
// is. Branch-free halving (a struct lookup is a random search whose
// branches the CPU cannot predict): each step moves by a select, and the
// step count depends on n only.
template <typename At>
size_t LastPositionAtOrBefore(size_t first, size_t n, uint64_t key, At key_at) {
  while (n > 1) {
    const size_t half = n / 2;
    const size_t right = key_at(first + half) <= key;
    first += half & (0 - right);
    n -= half;
  }
  return first;
}

// LastPositionAtOrBefore over the n values at `base`: an index into them.
template <typename T, typename K>
size_t LastAtOrBefore(const T* base, size_t n, uint64_t key, K k) {
  return LastPositionAtOrBefore(0, n, key,
                                [&](size_t i) { return k(base[i]); });
}

}  // namespace

void StructList::CoarsenIndex() {
  ++index_shift_;
  // New block k starts where old block 2k did.
  const size_t n = (index_size_ + 1) / 2;
  for (size_t k = 0; k < n; ++k) index_[k] = index_[2 * k];
  index_size_ = n;
}

void StructList::RefineIndex(uint64_t off) {
  unsigned shift = kMinIndexShift;
  while ((off >> shift) >= 2 * size_) ++shift;
  if (shift >= index_shift_) return;
  index_shift_ = shift;
  index_.clear();
  // Block b holds the last struct starting at or before its first clock.
  uint64_t next = 0;  // offset of the next block to fill
  size_t p = 0;
  for (const std::vector<Entry>& ch : chunks_) {
    for (const Entry& e : ch) {
      const uint64_t o = e.clock - index_base_;
      while (next < o) {
        index_.push_back(static_cast<uint32_t>(p - 1));
        next += uint64_t{1} << shift;
      }
      if (next == o) {
        index_.push_back(static_cast<uint32_t>(p));
        next += uint64_t{1} << shift;
      }
      ++p;
    }
  }
  index_size_ = index_.size();
}

size_t StructList::IndexedFind(uint64_t clock) const {
  // The answer lies between the structs holding this block's first clock
  // and the next block's (usually the same or the next struct).
  const uint64_t b = (clock - index_base_) >> index_shift_;
  size_t lo = index_[b];
  const size_t hi = b + 1 < index_size_ ? index_[b + 1] : size_ - 1;
  auto clock_at = [this](size_t p) {
    return chunks_[p >> kChunkBits][p & (kChunk - 1)].clock;
  };
  // The last position in [lo, hi] starting at or before `clock` (lo
  // does).
  lo = LastPositionAtOrBefore(lo, hi - lo + 1, clock, clock_at);
  hint_chunk_ = lo >> kChunkBits;
  return hint_pos_ = lo;
}

size_t StructList::SearchIndex(uint64_t clock) const {
  // Typing appends: most lookups hit the last struct.
  const auto& lastc = chunks_.back();
  if (lastc.back().clock <= clock) return size_ - 1;
  // Walks over delete ranges (forwards or backwards) look up structs a few
  // positions from the last one found: a few steps from it within its
  // chunk, or a search of that chunk only.
  const size_t hp = hint_pos_;
  if (hp < size_) {
    const size_t c = Chunk(hp);
    const EntryChunk& ch = chunks_[c];
    const size_t n = ch.size();
    const uint64_t end =
        c + 1 < chunks_.size() ? chunks_[c + 1].first_clock : UINT64_MAX;
    if (ch[0].clock <= clock && clock < end) {
      constexpr size_t kSteps = 4;
      size_t j = hp - ch.start;
      if (ch[j].clock <= clock) {
        for (size_t k = 0; k < kSteps; ++k, ++j) {
          if (j + 1 == n || clock < ch[j + 1].clock) {
            return hint_pos_ = ch.start + j;
          }
        }
      } else {
        // ch[0] starts at or before `clock`: j stays above zero.
        for (size_t k = 0; k < kSteps; ++k) {
          if (ch[--j].clock <= clock) return hint_pos_ = ch.start + j;
        }
      }
      return hint_pos_ = ch.start +
                         LastAtOrBefore(ch.data(), n, clock,
                                        [](const Entry& e) { return e.clock; });
    }
  }
  // Recent structs (the last chunk) are the next most common target.
  size_t lo = chunks_.size() - 1;
  if (chunks_[lo].first_clock > clock) {
    lo = LastAtOrBefore(chunks_.data(), lo, clock,
                        [](const EntryChunk& ch) { return ch.first_clock; });
  }
  const auto& ch = chunks_[lo];
  hint_chunk_ = lo;
  return hint_pos_ =
             ch.start + LastAtOrBefore(ch.data(), ch.size(), clock,
                                       [](const Entry& e) { return e.clock; });
}

const StructList* StructStore::ClientSlow(uint64_t c) const {
  auto it = clients_.find(c);
  if (it == clients_.end()) return nullptr;
  last_client_ = c;
  last_list_ = const_cast<StructList*>(&it->second);
  return last_list_;
}

StructList& StructStore::ClientOrCreateSlow(uint64_t c) {
  // An insertion may move every list (rehash): the cache is reset to the
  // list returned.
  StructList& v = clients_[c];
  last_client_ = c;
  last_list_ = &v;
  return v;
}

void StructStore::ReserveClients(size_t n) {
  clients_.reserve(clients_.size() + n);
  last_list_ = nullptr;  // a rehash moves the lists
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
