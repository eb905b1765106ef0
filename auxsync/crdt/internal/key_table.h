// A Doc's map keys, one copy of each (the ItemKeys its items hold).
// Private to the engine.
#ifndef AUXSYNC_CRDT_INTERNAL_KEY_TABLE_H_
#define AUXSYNC_CRDT_INTERNAL_KEY_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "auxsync/crdt/internal/map_table.h"

namespace auxsync::crdt::engine {

// Interns map keys: Intern gives the same ItemKey for the same text for as
// long as the table lives (keys are never dropped: a map keeps its keys
// anyway). Not thread-safe.
class KeyTable {
 public:
  KeyTable() = default;
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;

  // The table's copy of `k`, made on first use.
  ItemKey Intern(std::string_view k) {
    // A map's entries come in runs of the same few keys (every bot's
    // tags): a direct-mapped cache on the length and the end characters
    // answers those without hashing the key.
    const size_t slot =
        k.empty() ? 0
                  : (k.size() * 7 + static_cast<uint8_t>(k.front()) * 3 +
                     static_cast<uint8_t>(k.back())) &
                        (kRecent - 1);
    const InternedKey* r = recent_[slot];
    if (r != nullptr && r->text.size() == k.size() &&
        SameBytes(r->text.data(), k.data(), k.size())) {
      return ItemKey(r);
    }
    return InternSlow(k, slot);
  }

 private:
  static constexpr size_t kRecent = 64;  // a power of two
  // An index slot: the key's hash beside it, so that growing the index
  // reads no key (a document brings its bots' ids by the ten thousand).
  struct Slot {
    uint64_t hash;
    const InternedKey* key;  // null: empty
  };

  // Intern past the cache (`slot`: the key's cache slot).
  ItemKey InternSlow(std::string_view k, size_t slot);
  // Doubles the index (or makes its first one).
  void Grow();
  // Whether the `n` bytes at `a` and `b` are equal: a key of up to 16
  // bytes (most are) in two overlapping loads a side, without the call
  // memcmp costs.
  static bool SameBytes(const char* a, const char* b, size_t n) {
    if (n >= 8 && n <= 16) {
      uint64_t a0, a1, b0, b1;
      std::memcpy(&a0, a, 8);
      std::memcpy(&b0, b, 8);
      std::memcpy(&a1, a + n - 8, 8);
      std::memcpy(&b1, b + n - 8, 8);
      return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n >= 4 && n < 8) {
      uint32_t a0, a1, b0, b1;
      std::memcpy(&a0, a, 4);
      std::memcpy(&b0, b, 4);
      std::memcpy(&a1, a + n - 4, 4);
      std::memcpy(&b1, b + n - 4, 4);
      return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    // (An empty key's view may have no data: memcmp takes no null.)
    return n == 0 || std::memcmp(a, b, n) == 0;
  }

  // The keys: stable addresses, a block per 16 keys (not a node each).
  std::deque<InternedKey> store_;
  // Open addressing, linear probing, at most half full.
  std::unique_ptr<Slot[]> index_;
  size_t mask_ = 0;  // index_ slots - 1 (index_ made)
  std::array<const InternedKey*, kRecent> recent_{};  // see Intern
};

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_KEY_TABLE_H_
