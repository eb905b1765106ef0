// A shared type's map keys: the key handle items hold (ItemKey) and the
// table from key to the key's items (MapTable). Private to the engine.
#ifndef AUXSYNC_CRDT_INTERNAL_MAP_TABLE_H_
#define AUXSYNC_CRDT_INTERNAL_MAP_TABLE_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace auxsync::crdt::engine {

struct Item;

// A map key's one copy in its Doc (KeyTable) with its MapTable::Hash,
// computed once when the key is interned: no table hashes the key's text
// again (a document's bots map takes its ids by the ten thousand).
struct InternedKey {
  std::string text;
  uint64_t hash = 0;
};

// A map key held by an item: a pointer to the key's one copy in its Doc's
// ItemPool (ItemPool::Key), so that the many entries of a key (every bot's
// "color") share one string and an item allocates nothing for its key.
// Two keys of one Doc are equal exactly when their addresses are. Copies
// share; get() requires a key (has_parent_sub). Valid while the pool lives
// (items never move between pools).
class ItemKey {
 public:
  ItemKey() = default;
  explicit ItemKey(const InternedKey* k) : k_(k) {}
  const std::string& get() const {
    assert(k_ != nullptr);
    return k_->text;
  }
  operator const std::string&() const { return get(); }  // NOLINT
  std::string_view view() const { return get(); }
  // The key's MapTable::Hash.
  uint64_t hash() const {
    assert(k_ != nullptr);
    return k_->hash;
  }
  // The key's identity within its Doc (see the class comment).
  const std::string* address() const {
    return k_ == nullptr ? nullptr : &k_->text;
  }
  // Whether both are the same key (or both none): address() equality.
  bool operator==(const ItemKey& o) const { return k_ == o.k_; }
  void clear() { k_ = nullptr; }

 private:
  const InternedKey* k_ = nullptr;
};

// Map key -> the key's current item and the first item of its chain, in the
// order the keys were first added (a JavaScript Map's order, which yjs's
// events and JSON follow). Keys are never removed one by one (a key keeps
// its chain of deleted items); Clear drops them all.
//
// Most maps hold a handful of keys (a bot's tags): the entries are one
// array, searched by the keys' addresses (ItemKey) without hashing. A map
// past kLinear keys (the bots of a document) also gets a hash index.
// Not thread-safe.
class MapTable {
 public:
  struct Entry {
    ItemKey key;
    Item* current = nullptr;  // the key's current (last) item
    // The first item of the key's chain once an item was put before the
    // current one's chain start, else null (see TypeImpl::ChainStart).
    Item* first = nullptr;
  };

  MapTable() = default;
  MapTable(const MapTable&) = delete;
  MapTable& operator=(const MapTable&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The entries in key order.
  Entry* begin() { return entries_.get(); }
  Entry* end() { return entries_.get() + size_; }
  const Entry* begin() const { return entries_.get(); }
  const Entry* end() const { return entries_.get() + size_; }

  // The entry of `key` (a key of this table's Doc), or null.
  Entry* Find(ItemKey key) {
    if (index_ == nullptr) {
      for (size_t i = 0; i < size_; ++i) {
        if (entries_[i].key == key) return &entries_[i];
      }
      return nullptr;
    }
    return IndexedFind(key.hash(), key, {});
  }
  const Entry* Find(ItemKey key) const {
    return const_cast<MapTable*>(this)->Find(key);
  }
  // The entry of the key with text `key`, or null.
  Entry* Find(std::string_view key) {
    if (index_ == nullptr) {
      for (size_t i = 0; i < size_; ++i) {
        if (entries_[i].key.view() == key) return &entries_[i];
      }
      return nullptr;
    }
    return IndexedFind(Hash(key), ItemKey(), key);
  }
  const Entry* Find(std::string_view key) const {
    return const_cast<MapTable*>(this)->Find(key);
  }
  // Find(key) for a key that is usually its Doc's own copy (a key
  // ChangedMapKeys lists): that entry is found by its address, without
  // comparing texts; any other string by its text.
  const Entry* FindInterned(const std::string& key) const {
    if (index_ == nullptr) {
      for (size_t i = 0; i < size_; ++i) {
        if (entries_[i].key.address() == &key) return &entries_[i];
      }
    }
    return Find(std::string_view(key));
  }
  // The entry of `key` (a key of this table's Doc), added last with no
  // items if the table has none. Valid until the next key is added.
  Entry& FindOrAdd(ItemKey key) {
    if (index_ == nullptr) {
      for (uint32_t i = 0; i < size_; ++i) {
        if (entries_[i].key == key) return entries_[i];
      }
      // A new key of a small table with room (most adds): appended here.
      if (size_ < cap_ && size_ < kLinear) {
        Entry& e = entries_[size_++];
        e = Entry{key, nullptr, nullptr};
        return e;
      }
    } else if (Entry* e = IndexedFind(key.hash(), key, {})) {
      return *e;
    }
    return Add(key);
  }
  // Room for `n` keys in all, so that adding them allocates nothing more.
  void Reserve(size_t n);
  // Drops every key.
  void Clear();
  // The hash of a key's text that InternedKey::hash holds.
  static uint64_t Hash(std::string_view key);

 private:
  // Past this many keys a search by address costs more than hashing.
  static constexpr size_t kLinear = 16;
  Entry& Add(ItemKey key);
  // Find through the index (`h`: the key's Hash): by `key` when it is
  // set, else by `text`.
  Entry* IndexedFind(uint64_t h, ItemKey key, std::string_view text);
  // Puts entry `i` (hash `h`) into the index, which has room.
  void IndexPut(uint64_t h, uint32_t i);
  // Sizes the index for `n` keys and puts every entry into it.
  void Rehash(size_t n);

  std::unique_ptr<Entry[]> entries_;
  // Open addressing, linear probing: a slot is 0 (empty) or the key's hash
  // in the high 32 bits and its entry's position + 1 in the low ones. A
  // key's first probe is its high 32 bits masked: growing the index moves
  // its slots without reading a key or its hash.
  std::unique_ptr<uint64_t[]> index_;
  uint32_t size_ = 0;
  uint32_t cap_ = 0;         // entries_ slots
  uint32_t index_mask_ = 0;  // index_ slots - 1
};

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_MAP_TABLE_H_
