// Core engine data: IDs, item contents, items (structs), shared types and
// delete sets (the struct store is in struct_store.h). Private to the engine.
//
// Memory model: every Item lives in its Doc's ItemPool (stable addresses,
// recycled through a free list), so links (left/right, store entries, map
// slots) are plain pointers. A GC struct is an Item with `gc` set; a
// collected item is converted in place, so its address stays valid.
#ifndef AUXSYNC_CRDT_INTERNAL_ITEM_H_
#define AUXSYNC_CRDT_INTERNAL_ITEM_H_

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "auxsync/crdt/internal/engine_any.h"
#include "auxsync/crdt/internal/key_table.h"
#include "auxsync/crdt/internal/map_table.h"
#include "auxsync/crdt/internal/slab_pool.h"
#include "auxsync/crdt/internal/text16.h"

namespace auxsync::crdt {
class Doc;
class Transaction;
struct YEvent;
}  // namespace auxsync::crdt

namespace auxsync::crdt::engine {

struct Id {
  uint64_t client = 0;
  uint64_t clock = 0;
  bool operator==(const Id& o) const {
    return client == o.client && clock == o.clock;
  }
};

// A nullable Id (origin, right origin).
struct OptId {
  Id id;
  bool has = false;
  bool operator==(const OptId& o) const {
    return has == o.has && (!has || id == o.id);
  }
};

enum ContentRef : uint8_t {
  kRefGC = 0,
  kRefDeleted = 1,
  kRefJson = 2,
  kRefBinary = 3,
  kRefString = 4,
  kRefEmbed = 5,
  kRefFormat = 6,
  kRefType = 7,
  kRefAny = 8,
  kRefDoc = 9,
  kRefSkip = 10,
};

enum class TypeKind : uint8_t {
  kArray = 0,
  kMap = 1,
  kText = 2,
  kXmlElement = 3,
  kXmlFragment = 4,
  kXmlHook = 5,
  kXmlText = 6,
  kUnknown = 255,  // a root created by a remote update, typed on first Get*
};

class TypeImpl;
class ItemPool;

// Item content. One struct for all kinds keeps the hot path (strings) free
// of virtual calls; rare kinds only use their own fields. A deleted
// content's length is its item's (Item::length): the content holds none.
//
// Laid out so that Item can put its flags in the tail padding (Item holds
// it [[no_unique_address]]): the text, one owned pointer (the Extra of the
// rarer kinds or the TypeImpl of kRefType, never both), then the ref.
struct Content {
  // Fields of the rarer kinds, out of line so that the common string and
  // deleted items stay small.
  // Most kRefAny items hold one value (a map entry's number): inline, so
  // such an item allocates only its Extra.
  using AnyList = absl::InlinedVector<Any, 1>;
  struct Extra {
    AnyList anys;       // kRefAny, kRefJson; [0] for kRefEmbed /
                        // kRefFormat value / kRefDoc opts
    std::string bytes;  // kRefBinary; kRefFormat key; kRefDoc guid
  };
  // kRefString (UTF-16 code units); a decoded string is a view of its
  // update's text block (text16.h).
  Text16 str;

 private:
  void* ptr_ = nullptr;  // Extra, or TypeImpl when (own_ & kOwnType)

 public:
  uint8_t ref = kRefDeleted;

 private:
  // What ptr_ is and who frees it: kOwnType (else an Extra), kOwnPooled
  // (made by its ItemPool: a type in an item slot, an Extra by its
  // SlabPool; freed through it; else the heap).
  static constexpr uint8_t kOwnType = 1;
  static constexpr uint8_t kOwnPooled = 2;
  uint8_t own_ = 0;

 public:
  Content() = default;
  Content(Content&& o) noexcept
      : str(std::move(o.str)), ptr_(o.ptr_), ref(o.ref), own_(o.own_) {
    o.ptr_ = nullptr;
    o.own_ = 0;
  }
  Content(const Content&) = delete;
  Content& operator=(const Content&) = delete;
  ~Content() {
    if (ptr_ != nullptr) FreePtr();
  }
  // Swaps the strings, so that the text this content had goes with `o`
  // (a collected item, or a pooled free one, does not keep it).
  Content& operator=(Content&& o) noexcept {
    ref = o.ref;
    str.swap(o.str);
    if (this != &o) {
      if (ptr_ != nullptr) FreePtr();
      ptr_ = o.ptr_;
      own_ = o.own_;
      o.ptr_ = nullptr;
      o.own_ = 0;
    }
    return *this;
  }

  // Back to empty deleted content, releasing the string's text.
  void Reset() {
    ref = kRefDeleted;
    str.Release();
    if (ptr_ != nullptr) FreePtr();
  }

  // The shared type of a kRefType content (owned), or null.
  TypeImpl* type() const {
    return (own_ & kOwnType) ? static_cast<TypeImpl*>(ptr_) : nullptr;
  }
  // Makes this content own `t` (dropping what it held out of line).
  void set_type(std::unique_ptr<TypeImpl> t) {
    if (ptr_ != nullptr) FreePtr();
    ptr_ = t.release();
    own_ = ptr_ != nullptr ? kOwnType : 0;
  }
  // The out-of-line fields of the rarer kinds, or null.
  const Extra* extra() const {
    return (own_ & kOwnType) ? nullptr : static_cast<const Extra*>(ptr_);
  }

  // Accessors of the out-of-line fields; the mutable ones allocate them.
  AnyList& anys() { return X().anys; }
  const AnyList& anys() const {
    assert(extra() != nullptr);
    return extra()->anys;
  }
  std::string& bytes() { return X().bytes; }
  const std::string& bytes() const {
    assert(extra() != nullptr);
    return extra()->bytes;
  }
  size_t AnyCount() const {
    const Extra* e = extra();
    return e != nullptr ? e->anys.size() : 0;
  }

  // The length of a content that is not deleted content (whose length is
  // its item's).
  uint64_t Length() const;
  Extra& X() {
    if (ptr_ == nullptr || (own_ & kOwnType)) MakeExtra();
    return *static_cast<Extra*>(ptr_);
  }
  bool Countable() const { return ref != kRefDeleted && ref != kRefFormat; }
  bool Mergeable() const {
    return ref == kRefString || ref == kRefAny || ref == kRefJson ||
           ref == kRefDeleted;
  }
  // Removes and returns units [offset, end) (surrogate fix-up for strings).
  Content Splice(uint64_t offset);
  // Appends `right` (same ref, mergeable).
  void Append(Content&& right);

 private:
  friend class ItemPool;  // gives pooled types and Extras (NewType, Anys)
  void FreePtr();         // item.cc: deletes the Extra or TypeImpl
  void MakeExtra();       // item.cc: replaces ptr_ with a new Extra
  // Takes `p` (from the ItemPool; `own` says what it is).
  void AdoptPooled(void* p, uint8_t own) {
    if (ptr_ != nullptr) FreePtr();
    ptr_ = p;
    own_ = own | kOwnPooled;
  }
};

// A struct of the store. 128 bytes, two cache lines: the first holds
// what the document-order walks read (right, the content's ref and text,
// deleted) and the id; the flags live in the content's tail padding.
struct Item {
  Item* right = nullptr;
  [[no_unique_address]] Content content;
  bool deleted = false;
  bool keep = false;
  bool gc = false;  // a GC struct (no parent, no content)
  bool has_parent_sub = false;
  bool has_origin = false;        // `origin` is set
  bool has_right_origin = false;  // `right_origin` is set
  Id id;
  uint64_t length = 0;
  Id origin;        // valid when has_origin
  Id right_origin;  // valid when has_right_origin
  Item* left = nullptr;
  TypeImpl* parent = nullptr;
  ItemKey parent_sub;

  Id LastId() const { return {id.client, id.clock + length - 1}; }
  uint64_t EndClock() const { return id.clock + length; }
  OptId Origin() const { return {origin, has_origin}; }
  OptId RightOrigin() const { return {right_origin, has_right_origin}; }
  void SetOrigin(Id o) {
    origin = o;
    has_origin = true;
  }
  void SetRightOrigin(Id o) {
    right_origin = o;
    has_right_origin = true;
  }
  // Back to a default Item, releasing what it holds (the pool's free
  // list), without building a temporary Item.
  void Reset() {
    right = nullptr;
    content.Reset();
    has_parent_sub = deleted = keep = gc = false;
    has_origin = has_right_origin = false;
    id = Id();
    length = 0;
    origin = Id();
    right_origin = Id();
    left = nullptr;
    parent = nullptr;
    parent_sub.clear();
  }
  bool Countable() const { return !gc && content.Countable(); }
  bool Visible() const { return !deleted && Countable(); }
};
static_assert(sizeof(Item) == 128, "two cache lines (see Item)");

// Stable-address allocator for items; freed items are reused.
class ItemPool {
 public:
  ItemPool() = default;
  ItemPool(const ItemPool&) = delete;
  ItemPool& operator=(const ItemPool&) = delete;
  ~ItemPool();
  Item* New() {
    if (!free_.empty()) {
      Item* it = free_.back();
      free_.pop_back();
      return it;
    }
    if (block_used_ == block_cap_) Grow();
    ++count_;
    // Constructed when handed out: a new block is not written up front.
    // Default-initialised (not value-initialised, which would zero the
    // whole slot before the member initialisers store their values).
    return ::new (blocks_.back().slots.get()[block_used_++].bytes) Item;
  }
  void Free(Item* it) {
    it->Reset();
    free_.push_back(it);
  }
  // Frees later (at FlushDeferred): merged-away items are still read during
  // the rest of a transaction's cleanup.
  void DeferFree(Item* it) { deferred_.push_back(it); }
  void FlushDeferred() {
    for (Item* it : deferred_) Free(it);
    deferred_.clear();
  }
  size_t live() const { return count_ - aux_slots_ - free_.size(); }
  // Gives `c` a new shared type of this pool (c owns it, and frees it
  // through the pool); returns it. Defined after TypeImpl.
  TypeImpl* NewType(Content& c);
  // Destroys `t` (made by some pool's NewType) and gives its slot back to
  // that pool.
  static void DeleteType(TypeImpl* t);  // item.cc
  // The longest text NewText keeps in one of the pool's slots.
  static constexpr size_t kSlotTextUnits =
      (sizeof(Item) - sizeof(void*)) / sizeof(char16_t) - kText16ReadSlack;
  // `s` as a string item's text: a text longer than Text16's inline room
  // and at most kSlotTextUnits has its units in one of this pool's slots
  // (next to the item made with it, reused warm once freed, no malloc);
  // others are Text16::assign's.
  Text16 NewText(std::u16string_view s) {
    Text16 t;
    if (s.size() <= Text16::kInline || s.size() > kSlotTextUnits) {
      t.assign(s);
      return t;
    }
    auto* units =
        reinterpret_cast<char16_t*>(TakeAuxSlot()->bytes + kAuxOffset);
    std::memcpy(units, s.data(), s.size() * sizeof(char16_t));
    return Text16::Pooled(units, s.size(), kSlotTextUnits);
  }
  // `s` as the text of a new item of the local client: inline when short,
  // else a view of the pool's text log. The log keeps local text in the
  // order it was typed, which is the clock order the encoder reads it in,
  // and typing onto the newest item extends its view in place
  // (AppendLocalText) instead of growing a heap buffer.
  Text16 LocalText(std::u16string_view s);
  // Appends `s` to `t`, the text of the local client's newest item (so no
  // newer local text is in the log): in place when `t` ends the log, else
  // `t` moves to the log's end (or to the heap when long).
  void AppendLocalText(Text16& t, std::u16string_view s);
  // Gives the slot of a NewText buffer back to its pool (FreePooledText16).
  static void FreeText(char16_t* units);  // item.cc
  // The values of a kRefAny/kRefJson content, made from this pool if `c`
  // has no out-of-line fields yet (a decoded number: no malloc).
  Content::AnyList& Anys(Content& c) {
    if (c.ptr_ == nullptr || (c.own_ & Content::kOwnType)) {
      c.AdoptPooled(extras_.New(), 0);
    }
    return c.X().anys;
  }
  // The pool's copy of map key `k` (made on first use, kept while the pool
  // lives: a map keeps its keys anyway).
  ItemKey Key(std::string_view k) { return keys_.Intern(k); }

 private:
  // Items live in blocks that never move (items are referenced by
  // pointer everywhere). Blocks grow from 4 to 256 items: one allocation
  // per block instead of std::deque's one per 512-byte node (two items).
  // A large pool (a long-lived document) then takes 2 MiB blocks on
  // transparent huge pages where the system offers them: such a document
  // grows by new items on every update (deleted items stay as structs),
  // and a page fault per 24 items cost more than the items' own work.
  void Grow();  // item.cc
  // Storage for one Item, constructed by New (uninitialised until then),
  // or an aux slot: something the pool keeps beside the items (a shared
  // type, a text's units), after the pool's address (the next free aux
  // slot while free).
  // 64-byte aligned (the blocks are): an item spans two cache lines.
  struct alignas(64) Slot {
    std::byte bytes[sizeof(Item)];
    Item* item() { return std::launder(reinterpret_cast<Item*>(bytes)); }
  };
  // Where an aux slot's object starts (after the pool's address).
  static constexpr size_t kAuxOffset = sizeof(void*);
  // An aux slot of this pool (a free one, else the blocks' next one),
  // holding the pool's address.
  Slot* TakeAuxSlot() {
    Slot* s = free_aux_;
    if (s != nullptr) {
      std::memcpy(&free_aux_, s->bytes, sizeof(Slot*));
      AUXSYNC_SLAB_UNPOISON(s->bytes + kAuxOffset, sizeof(Slot) - kAuxOffset);
    } else {
      s = NewAuxSlot();
    }
    ItemPool* self = this;
    std::memcpy(s->bytes, &self, sizeof(self));
    return s;
  }
  // The blocks' next slot, marked as an aux slot.
  Slot* NewAuxSlot();  // item.cc
  // Gives the aux slot at `slot` back to the pool whose address it holds.
  static void ReleaseAuxSlot(std::byte* slot);  // item.cc
  struct FreeSlots {
    void operator()(Slot* p) const;  // item.cc
  };
  struct Block {
    std::unique_ptr<Slot, FreeSlots> slots;
    // Bit i set: slot i was handed out as an aux slot (never holds an
    // Item; the destructor skips it).
    std::unique_ptr<uint64_t[]> aux_bits;
    size_t cap = 0;  // slots the block holds
  };
  // The keys, declared first so that they outlive the items (destroyed
  // last).
  KeyTable keys_;
  // Pooled Extras (see SlabPool): also outlive the items.
  SlabPool<Content::Extra> extras_;
  std::vector<Block> blocks_;  // all full but the last
  size_t block_used_ = 0;      // slots handed out from blocks_.back()
  size_t block_cap_ = 0;       // slots in blocks_.back()
  size_t count_ = 0;           // slots handed out from all blocks
  size_t aux_slots_ = 0;       // of which aux slots
  // Shared types and short texts live in the item blocks: each is made
  // right before or after its item (a map entry's text before its map
  // item, a decoded one after it; a string before its item), so it lies
  // next to the item in memory (what PrefetchAround requests together)
  // and on the same huge pages, and a freed one is reused warm, with no
  // malloc/free. Freed aux slots stay aux slots, linked through their
  // first word.
  Slot* free_aux_ = nullptr;
  // Room for `n` units at the end of the text log (a new block when the
  // current one is full); their offset in log_ goes to `offset`.
  char16_t* LogRoom(size_t n, size_t& offset);  // item.cc
  // The text log's current block (one reference held), or null. Blocks
  // are small (item.cc), so that one surviving view keeps little text.
  struct LogRef {
    void operator()(TextBlock* b) const { b->Unref(); }
  };
  std::unique_ptr<TextBlock, LogRef> log_;
  std::vector<Item*> free_;
  std::vector<Item*> deferred_;
};

struct EventHandlers;

// A shared type (AbstractType). Owned by its Doc (roots) or by the
// ContentType of its item.
class TypeImpl {
 public:
  crdt::Doc* doc = nullptr;
  Item* item = nullptr;  // holding item; null for a root (or preliminary)
  Item* start = nullptr;
  // Map key -> the key's current item and the first item of its chain
  // (integration scans a key's chain from its start: without `first` that
  // is a walk over every value the key ever had), in first-integration
  // order (JS Map order).
  MapTable map;
  uint64_t length = 0;
  // Position cache: the last (index, item) found by an index walk.
  Item* cache_item = nullptr;
  uint64_t cache_index = 0;
  // More known positions of the text (as yjs's search markers), so that a
  // jump elsewhere walks from the nearest one instead of from the cache:
  // `index` = visible units before the unit with id `id`, held by `item`
  // when `item->id == id` (an item merged away fails that test). Kept up to
  // date by the local text operations; dropped when anything else changes
  // the list (which clears cache_item).
  struct Marker {
    Item* item;
    Id id;
    uint64_t index;
  };
  std::vector<Marker> markers;
  TypeKind kind = TypeKind::kUnknown;
  bool has_formatting = false;
  // An item of this type was linked after an item of another type (a
  // peer's update can place an item by a neighbour found by its clock while
  // its parent comes from its right origin). Such an item lies outside this
  // type's chains, which collecting the type walks, so it still points here
  // afterwards: a collected pinned type is retired (kept by its Doc, its
  // `item` a detached copy of its holder's id) instead of freed.
  bool pinned = false;

  // The root's name (empty for a nested type).
  std::string_view root_name() const {
    return rare_ != nullptr ? std::string_view(rare_->root_name)
                            : std::string_view();
  }
  void set_root_name(std::string_view name) {
    Rare().root_name.assign(name.data(), name.size());
  }
  // The XML element's node name or the XML hook's name (else empty).
  std::string_view node_name() const {
    return rare_ != nullptr ? std::string_view(rare_->node_name)
                            : std::string_view();
  }
  void set_node_name(std::string_view name) {
    Rare().node_name.assign(name.data(), name.size());
  }
  // The type's observers, or null when none was ever added.
  EventHandlers* handlers() const {
    return rare_ != nullptr ? rare_->handlers.get() : nullptr;
  }
  // The observers' holder (null until the caller makes them).
  std::shared_ptr<EventHandlers>& handlers_holder() { return Rare().handlers; }
  // Preliminary content, applied when the type is integrated.
  using PrelimOp = std::function<void(crdt::Transaction&, TypeImpl*)>;
  bool has_prelim() const { return rare_ != nullptr && !rare_->prelim.empty(); }
  std::vector<PrelimOp>& prelim() { return Rare().prelim; }

  bool IsRoot() const { return item == nullptr; }
  void SetMap(ItemKey key, Item* it) { map.FindOrAdd(key).current = it; }
  Item* GetMap(std::string_view key) const {
    const MapTable::Entry* e = map.Find(key);
    return e == nullptr ? nullptr : e->current;
  }
  Item* GetMap(ItemKey key) const {
    const MapTable::Entry* e = map.Find(key);
    return e == nullptr ? nullptr : e->current;
  }
  // The first item of the key's chain (null if the key never had one).
  Item* MapFirst(std::string_view key) const {
    const MapTable::Entry* e = map.Find(key);
    return e == nullptr ? nullptr : ChainStart(*e);
  }
  // The entry of `key`, made (last in the key order) if the key had none.
  // Valid until the next key is added to `map`.
  MapTable::Entry& KeySlot(ItemKey key) { return map.FindOrAdd(key); }
  // The first item of an entry's chain (null if none).
  static Item* ChainStart(const MapTable::Entry& slot) {
    Item* o = slot.first != nullptr ? slot.first : slot.current;
    while (o != nullptr && o->left != nullptr) o = o->left;
    return o;
  }

 private:
  // What few types use, out of line: the common ones (a bot's map, a
  // tag's text) then take two cache lines instead of four.
  struct RareFields {
    std::string root_name;
    std::string node_name;
    std::shared_ptr<EventHandlers> handlers;
    std::vector<PrelimOp> prelim;
  };
  RareFields& Rare() {
    if (rare_ == nullptr) rare_ = std::make_unique<RareFields>();
    return *rare_;
  }
  std::unique_ptr<RareFields> rare_;
};

static_assert(alignof(TypeImpl) <= sizeof(void*) &&
                  sizeof(void*) + sizeof(TypeImpl) <= sizeof(Item),
              "a TypeImpl and its pool's address fit an item slot");

inline TypeImpl* ItemPool::NewType(Content& c) {
  TypeImpl* t =
      ::new (static_cast<void*>(TakeAuxSlot()->bytes + kAuxOffset)) TypeImpl;
  c.AdoptPooled(t, Content::kOwnType);
  return t;
}

// client -> list of (clock, len) ranges.
struct DeleteSet {
  DeleteSet() = default;
  // Copies and moves do not take the Add cache (it points into the
  // source's table).
  DeleteSet(const DeleteSet& o)
      : clients(o.clients),
        order(o.order),
        spare_ranges(o.spare_ranges),
        has_content_(o.has_content_) {}
  DeleteSet(DeleteSet&& o) noexcept
      : clients(std::move(o.clients)),
        order(std::move(o.order)),
        spare_ranges(std::move(o.spare_ranges)),
        has_content_(o.has_content_) {
    o.last_ = nullptr;
  }
  DeleteSet& operator=(const DeleteSet& o) {
    if (this != &o) {
      clients = o.clients;
      order = o.order;
      spare_ranges = o.spare_ranges;
      has_content_ = o.has_content_;
      last_ = nullptr;
    }
    return *this;
  }
  DeleteSet& operator=(DeleteSet&& o) noexcept {
    clients = std::move(o.clients);
    order = std::move(o.order);
    spare_ranges = std::move(o.spare_ranges);
    has_content_ = o.has_content_;
    last_ = o.last_ = nullptr;
    return *this;
  }

  absl::flat_hash_map<uint64_t, std::vector<std::pair<uint64_t, uint64_t>>>
      clients;
  // Clients in the order Add first saw them: yjs's Map order, in which
  // formatting cleanup visits a transaction's deletions (and the order
  // decides what it deletes). Only Add and Clear keep it.
  std::vector<uint64_t> order;
  // Emptied range lists of cleared clients, reused by Add: a transaction's
  // delete set is cleared after every transaction, and a small one then
  // allocates nothing. Not part of the set's value.
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> spare_ranges;
  // Records a deletion of structs that may hold content (the cleanup
  // collects it).
  void Add(uint64_t client, uint64_t clock, uint64_t len) {
    has_content_ = true;
    Push(client, clock, len);
  }
  // Records structs whose content is deleted content already (a decoded
  // state's deleted structs): nothing to collect.
  [[gnu::always_inline]] void AddCollected(uint64_t client, uint64_t clock,
                                           uint64_t len) {
    Push(client, clock, len);
  }
  // AddCollected for a range that often starts where the last one recorded
  // ends (a decoded state's deleted structs, integrated in clock order):
  // that one grows instead (SortAndMerge would merge the two).
  [[gnu::always_inline]] void AddCollectedNext(uint64_t client, uint64_t clock,
                                               uint64_t len) {
    if (last_ != nullptr && last_client_ == client &&
        last_size_ == clients.size() && !last_->empty() &&
        last_->back().first + last_->back().second == clock) {
      last_->back().second += len;
      return;
    }
    Push(client, clock, len);
  }
  // False when every range was recorded with AddCollected since the last
  // Clear (the cleanup's collection pass has nothing to do).
  bool MayHoldContent() const { return has_content_; }
  [[gnu::always_inline]] void Push(uint64_t client, uint64_t clock,
                                   uint64_t len) {
    if (len == 0) return;
    // Deletions come in runs of one client (a decoded state's deleted
    // structs, a deleted range's items): no table lookup for those, and no
    // call (a decoded state records a range per deleted struct).
    if (last_ != nullptr && last_client_ == client &&
        last_size_ == clients.size() && last_->size() < last_->capacity())
        [[likely]] {
      last_->push_back({clock, len});
      return;
    }
    PushSlow(client, clock, len);
  }
  // Push past its cache (another client, or the list is full).
  [[gnu::noinline]] void PushSlow(uint64_t client, uint64_t clock,
                                  uint64_t len) {
    if (last_ != nullptr && last_client_ == client &&
        last_size_ == clients.size()) {
      last_->push_back({clock, len});
      return;
    }
    auto [it, inserted] = clients.try_emplace(client);
    if (inserted) {
      order.push_back(client);
      if (!spare_ranges.empty()) {
        it->second = std::move(spare_ranges.back());
        spare_ranges.pop_back();
      }
    }
    it->second.push_back({clock, len});
    last_ = &it->second;
    last_client_ = client;
    last_size_ = clients.size();
  }
  void Clear() {
    last_ = nullptr;
    has_content_ = false;
    for (auto& [client, ranges] : clients) {
      // A few small lists are kept (a large one would stay as memory).
      if (spare_ranges.size() >= 4) break;
      if (ranges.capacity() == 0 || ranges.capacity() > 64) continue;
      ranges.clear();
      spare_ranges.push_back(std::move(ranges));
    }
    clients.clear();
    order.clear();
  }
  bool Empty() const {
    // A cleared table keeps its capacity: iterating it scans every slot.
    if (clients.empty()) return true;
    for (auto& [c, v] : clients) {
      if (!v.empty()) return false;
    }
    return true;
  }
  void SortAndMerge();
  bool Contains(Id id) const;  // requires SortAndMerge
  absl::InlinedVector<uint64_t, 4> SortedClientsDesc() const;

 private:
  // Add's cache: the ranges of the client it added to last, valid while
  // the table has the size it had then (only inserting rehashes, and
  // nothing but Clear empties the table).
  std::vector<std::pair<uint64_t, uint64_t>>* last_ = nullptr;
  uint64_t last_client_ = 0;
  size_t last_size_ = 0;
  bool has_content_ = false;  // see MayHoldContent
};

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_ITEM_H_
