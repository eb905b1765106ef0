// The struct store: every client's structs in clock order (yjs's
// StructStore). Private to the engine.
#ifndef AUXSYNC_CRDT_INTERNAL_STRUCT_STORE_H_
#define AUXSYNC_CRDT_INTERNAL_STRUCT_STORE_H_

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "auxsync/crdt/internal/item.h"
#include "auxsync/crdt/internal/prefetch.h"

namespace auxsync::crdt::engine {

// The structs of one client, sorted by clock, as a chunked array: index and
// clock lookups are O(log n), and inserting a split half or erasing a merged
// struct moves at most one chunk instead of the whole array. While a list
// has only grown at its end (a document loaded from an update, a client
// whose structs were never split or merged in the middle) it is "regular"
// and keeps a clock index, and a lookup is O(1): see IndexedFind.
class StructList {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Item* back() const { return chunks_.back().back().item; }
  Item* front() const { return chunks_.front().front().item; }
  Item* operator[](size_t i) const {
    if (regular_) return chunks_[i >> kChunkBits][i & (kChunk - 1)].item;
    const EntryChunk& ch = chunks_[Chunk(i)];
    return ch[i - ch.start].item;
  }
  [[gnu::always_inline]] void push_back(Item* it) {
    const uint64_t clock = it->id.clock;
    if (chunks_.empty() || chunks_.back().size() >= kChunk) [[unlikely]] {
      NewChunk(clock);
    }
    // Most structs start inside a block the index covers already or a
    // block or two past it, which IndexFillAhead writes inline; the rest
    // (no room yet, a long struct, the index to coarsen or refine) go
    // through IndexPush.
    if (regular_) {
      const uint64_t off = clock - index_base_;
      const uint64_t b = off >> index_shift_;
      if (size_ != 0 && index_size_ + kFillAhead <= index_.size() &&
          b < index_size_ + kFillAhead && b < IndexBound() &&
          (index_shift_ == kMinIndexShift || size_ < refine_at_)) {
        IndexFillAhead(off, b);
      } else if (size_ == 0 || b >= index_size_) {
        IndexPush(clock);
      }
    }
    chunks_.back().push_back({clock, it});
    ++size_;
  }
  // Room for `n` more structs that push_back will append, the last of them
  // starting before `end_clock` (a decoded update's structs of this
  // client): the chunk tables and the clock index get their size once
  // instead of growing by doubling (which copies the index each time).
  void ReserveAppend(size_t n, uint64_t end_clock);
  // Inserts before position `pos` (pos <= size()).
  void InsertAt(size_t pos, Item* it);
  // Erases positions [first, last).
  void Erase(size_t first, size_t last);
  // Index of the struct containing `clock` (must exist).
  size_t FindIndex(uint64_t clock) const {
    if (regular_ && clock >= index_base_) {
      // Typing appends: many lookups hit the last struct.
      if (chunks_.back().back().clock <= clock) return size_ - 1;
      return IndexedFind(clock);
    }
    return SearchIndex(clock);
  }
  // The struct holding `clock` (it must exist): (*this)[FindIndex(clock)],
  // with the common case of a regular list (a few neighbouring entries of
  // one chunk) inline and without updating the lookup hints.
  [[gnu::always_inline]] Item* FindItem(uint64_t clock) const {
    if (regular_ && clock >= index_base_) {
      const Entry& last = chunks_.back().back();
      if (last.clock <= clock) return last.item;
      const uint64_t b = (clock - index_base_) >> index_shift_;
      const size_t lo = index_[b];
      const size_t hi = b + 1 < index_size_ ? index_[b + 1] : size_ - 1;
      if (hi - lo <= 4 && (lo >> kChunkBits) == (hi >> kChunkBits)) {
        // The answer is lo plus how many of the next hi - lo entries start
        // at or before `clock` (their clocks ascend), counted without a
        // branch: a loaded document's lookups take 0 to 4 steps at random.
        const Entry* e = chunks_[lo >> kChunkBits].data() + (lo & (kChunk - 1));
        const size_t d = hi - lo;
        size_t k = 0;
        for (size_t j = 1; j <= 4; ++j) {
          const size_t at = j <= d ? j : d;
          k += static_cast<size_t>(j <= d) &
               static_cast<size_t>(e[at].clock <= clock);
        }
        return e[k].item;
      }
    }
    return (*this)[FindIndex(clock)];
  }
  // Reads the clock-index entry of `clock` (a struct of this list) and asks
  // for the list entry it points to, without waiting for that one: what
  // FindIndex(clock) will read. A transaction that deletes a struct calls
  // this, so that its cleanup (which looks the struct up to collect and
  // merge it) finds both lines cached. Regular lists only (the others
  // search their chunks).
  void PrefetchFind(uint64_t clock) const {
    if (!regular_ || clock < index_base_) return;
    const uint64_t b = (clock - index_base_) >> index_shift_;
    if (b >= index_size_) return;
    const size_t lo = index_[b];
    const Entry* entry = chunks_[lo >> kChunkBits].data() + (lo & (kChunk - 1));
    PrefetchLine(entry);
  }
  // The last position p in [first, last] (1 <= first, last < size()) for
  // which pred(struct p - 1, struct p) holds, or size() if none: a walk
  // backwards over the chunks' entries, without a lookup per position (a
  // cleanup tries every new struct against its left one, and most fail).
  // The items further on are asked for ahead: a loaded document's new
  // structs are all cold by its cleanup.
  template <typename P>
  size_t LastPairWhere(size_t first, size_t last, P&& pred) const {
    size_t c = Chunk(last);
    const Entry* e = chunks_[c].data();
    size_t j = last - chunks_[c].start;
    Item* right = e[j].item;
    for (size_t p = last; p >= first; --p) {
      while (j == 0) {
        e = chunks_[--c].data();
        j = chunks_[c].size();
      }
      // The item kWalkAhead positions on, when the walk gets there (both
      // of its lines: the tests read its origins too).
      if (j > kWalkAhead && p >= first + kWalkAhead) {
        const char* ahead =
            reinterpret_cast<const char*>(e[j - 1 - kWalkAhead].item);
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + 64);
      }
      Item* left = e[--j].item;
      if (pred(left, right)) return p;
      right = left;
    }
    return size_;
  }
  // Calls f(Item*) for the structs at positions [from, size()) in order,
  // chunk by chunk (no per-position search). `f` must not change the list.
  template <typename F>
  void ForEachFrom(size_t from, F&& f) const {
    if (from >= size_) return;
    for (size_t c = Chunk(from); c < chunks_.size(); ++c) {
      const EntryChunk& ch = chunks_[c];
      for (size_t j = from > ch.start ? from - ch.start : 0; j < ch.size();
           ++j) {
        f(ch[j].item);
      }
    }
  }

 private:
  // The clock is kept beside the pointer (a stored struct's first clock
  // never changes), so searches touch no Item.
  struct Entry {
    uint64_t clock;
    Item* item;
  };
  static constexpr size_t kChunkBits = 8;
  // How many positions ahead LastPairWhere asks for an item.
  static constexpr size_t kWalkAhead = 32;
  static constexpr size_t kChunk = size_t{1} << kChunkBits;
  // Clock index blocks are 2^index_shift_ clocks, at least 2^4 (a little
  // shorter than the average text struct of an edited document).
  static constexpr unsigned kMinIndexShift = 4;
  // The chunk holding position i. Walks (the cleanup's merge pass, delete
  // ranges) visit neighbouring positions: the chunk of the last lookup and
  // its neighbours are tried before a search.
  size_t Chunk(size_t i) const {
    const size_t h = hint_chunk_;
    if (h < chunks_.size()) {
      const size_t s = chunks_[h].start;
      if (i >= s) {
        if (i - s < chunks_[h].size()) return h;
        if (h + 1 < chunks_.size() &&
            i - chunks_[h + 1].start < chunks_[h + 1].size())
          return hint_chunk_ = h + 1;
      } else if (h > 0 && i >= chunks_[h - 1].start) {
        return hint_chunk_ = h - 1;
      }
    }
    return hint_chunk_ = ChunkSearch(i);
  }
  size_t ChunkSearch(size_t i) const;
  void Reindex();
  // push_back's start of a new last chunk (first clock `clock`).
  void NewChunk(uint64_t clock);
  // Records a struct starting at `clock` about to be appended at position
  // size_ in the clock index (regular lists only).
  [[gnu::noinline]] void IndexPush(uint64_t clock) {
    if (size_ == 0) {
      // No index yet: every lookup in a one-struct list is its last struct
      // (and most clients of a document edited by many sessions have one
      // or two structs). The second push makes it, covering block 0 too.
      index_base_ = clock;
      index_shift_ = kMinIndexShift;
      index_.clear();
      index_size_ = 0;
      return;
    }
    // (push_back calls this only for a struct starting past the covered
    // blocks: one starting in a covered block holds no block's first
    // clock.)
    const uint64_t off = clock - index_base_;
    if ((off >> index_shift_) >= IndexBound()) {
      // Bounded memory (a peer may send a struct spanning a huge clock
      // range): coarser blocks.
      do {
        CoarsenIndex();
      } while ((off >> index_shift_) >= IndexBound());
    } else if (index_shift_ > kMinIndexShift && size_ >= refine_at_) {
      // Blocks coarsened while the list was short (long first structs):
      // finer again each time the list doubles, if that is worth it.
      refine_at_ = 2 * size_;
      RefineIndex(off);
    }
    const uint64_t b = off >> index_shift_;
    // Room first (rarely), then plain stores through a pointer (no size
    // bookkeeping per entry).
    if (index_.size() <= b) {
      // Doubling, but not past room ReserveAppend made if b fits there.
      size_t want = std::max<size_t>({b + 1, 2 * index_.size(), 16});
      if (want > index_.capacity() && b < index_.capacity()) {
        want = index_.capacity();
      }
      index_.resize(want);
    }
    IndexFill(off, b);
  }
  // IndexPush's blocks up to block `b` (< index_.size()), for a struct at
  // offset `off` from index_base_ (b == off >> index_shift_).
  [[gnu::always_inline]] void IndexFill(uint64_t off, uint64_t b) {
    // Blocks starting before the struct lie in the last struct; a block
    // starting exactly at it (not covered yet), in the new one.
    const uint32_t last = static_cast<uint32_t>(size_ - 1);
    uint32_t* const d = index_.data();
    for (size_t k = index_size_; k <= b; ++k) d[k] = last;
    index_size_ = b + 1;
    if ((b << index_shift_) == off) d[b] = last + 1;
  }
  // IndexFill for a struct starting at most kFillAhead - 1 blocks past the
  // covered ones (or inside them), with room for kFillAhead more entries:
  // the same entries, written without a branch on how many (a loaded
  // document's structs start 0, 1 or 2 blocks on at random). Entries past
  // the covered ones hold nothing yet, so the spare writes are harmless.
  [[gnu::always_inline]] void IndexFillAhead(uint64_t off, uint64_t b) {
    const uint32_t last = static_cast<uint32_t>(size_ - 1);
    const size_t from = index_size_;
    uint32_t* const d = index_.data();
    for (size_t k = 0; k < kFillAhead; ++k) d[from + k] = last;
    // A block starting exactly at the struct is not covered yet (the
    // struct starts past the last one), so it is at or past `from`.
    // (Selects by mask: compilers branch on a plain ?: here.)
    const bool at = (b << index_shift_) == off;
    const size_t past = b >= from;
    const size_t w = from + ((b - from) & (0 - past));  // max(b, from)
    d[w] = last + static_cast<uint32_t>(at);
    index_size_ = w + past;
  }
  static constexpr size_t kFillAhead = 4;
  size_t IndexBound() const { return 2 * size_ + 64; }
  void CoarsenIndex();
  void RefineIndex(uint64_t off);
  // The list stops being regular (a struct was inserted or erased before
  // its end): the clock index is dropped, lookups search.
  void Irregular() {
    regular_ = false;
    std::vector<uint32_t>().swap(index_);
    index_size_ = 0;
  }
  // FindIndex of a regular list (clock below the last struct's first).
  size_t IndexedFind(uint64_t clock) const;
  // FindIndex of any list, without the clock index.
  size_t SearchIndex(uint64_t clock) const;
  // A chunk's entries with its place in the list (kept beside them: one
  // allocation for the three, which a list of one or two structs, most
  // clients of a document many sessions edited, pays once). first_clock
  // repeats front().clock so that a search over the chunks reads no
  // entries; every change of a chunk's first entry sets it again.
  struct EntryChunk : std::vector<Entry> {
    size_t start = 0;          // position of the chunk's first struct
    uint64_t first_clock = 0;  // clock of the chunk's first struct
  };
  std::vector<EntryChunk> chunks_;
  size_t size_ = 0;
  // Lookup hints (no meaning of their own: every use checks them against
  // the current chunks). Mutable: const lookups update them; a StructList
  // is never read from two threads at once (the Doc is not thread-safe).
  mutable size_t hint_chunk_ = 0;
  mutable size_t hint_pos_ = 0;  // position of the last FindIndex answer
  // Regular: every chunk but the last holds kChunk structs (only push_back
  // and erases at the end since the list was created), and index_[b] is
  // the position of the struct holding clock index_base_ + (b <<
  // index_shift_), for every block starting at or before back()'s clock
  // (at most IndexBound() entries); none while the list holds only the
  // struct it was created with (see IndexPush).
  bool regular_ = true;
  unsigned index_shift_ = kMinIndexShift;
  size_t refine_at_ = 256;  // list size of the next RefineIndex
  uint64_t index_base_ = 0;
  // The clock index: its first index_size_ entries are the blocks; the
  // vector's size is the room for more (written without a size check).
  std::vector<uint32_t> index_;
  size_t index_size_ = 0;
};

// Per-client clock-sorted struct arrays (yjs StructStore).
class StructStore {
 public:
  StructStore() = default;
  // Copies and moves do not take the lookup cache (it points into the
  // source's table).
  StructStore(const StructStore& o) : clients_(o.clients_) {}
  StructStore(StructStore&& o) noexcept : clients_(std::move(o.clients_)) {
    o.last_list_ = nullptr;
  }
  StructStore& operator=(const StructStore& o) {
    clients_ = o.clients_;
    last_list_ = nullptr;
    return *this;
  }
  StructStore& operator=(StructStore&& o) noexcept {
    clients_ = std::move(o.clients_);
    last_list_ = nullptr;
    o.last_list_ = nullptr;
    return *this;
  }

  StructList* Client(uint64_t c) {
    return const_cast<StructList*>(std::as_const(*this).Client(c));
  }
  [[gnu::always_inline]] const StructList* Client(uint64_t c) const {
    // Most lookups in a row are for the same client (the local one): no
    // call for those.
    if (last_list_ != nullptr && last_client_ == c) [[likely]] {
      return last_list_;
    }
    return ClientSlow(c);
  }
  // Client past its one-entry cache.
  const StructList* ClientSlow(uint64_t c) const;
  [[gnu::always_inline]] StructList& ClientOrCreate(uint64_t c) {
    if (last_list_ != nullptr && last_client_ == c) [[likely]] {
      return *last_list_;
    }
    return ClientOrCreateSlow(c);
  }
  // ClientOrCreate past its one-entry cache.
  StructList& ClientOrCreateSlow(uint64_t c);
  // Room for `n` more clients (an update naming many new ones), so that
  // adding them moves the lists once at most, not at every doubling.
  void ReserveClients(size_t n);
  uint64_t State(uint64_t c) const {
    const auto* v = Client(c);
    if (v == nullptr || v->empty()) return 0;
    return v->back()->EndClock();
  }
  // Index of the struct containing `clock` in `v` (must exist).
  static size_t FindIndex(const StructList& v, uint64_t clock) {
    return v.FindIndex(clock);
  }
  // The struct containing id, or null.
  Item* Find(Id id) const;
  const absl::flat_hash_map<uint64_t, StructList>& clients() const {
    return clients_;
  }
  absl::flat_hash_map<uint64_t, StructList>& clients() {
    last_list_ = nullptr;  // the caller may insert or erase
    return clients_;
  }
  std::vector<std::pair<uint64_t, uint64_t>> StateVector()
      const;  // descending client

 private:
  absl::flat_hash_map<uint64_t, StructList> clients_;
  // The last list looked up (valid until the table changes: only
  // ClientOrCreate and the mutable clients() can change it).
  mutable uint64_t last_client_ = 0;
  mutable StructList* last_list_ = nullptr;
};

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_STRUCT_STORE_H_
