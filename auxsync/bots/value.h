// The JavaScript value model of the bot layer.
//
// CasualOS keeps bots, tags, masks, partial states and actions as plain
// JavaScript objects, and several of its observable behaviours depend on
// JavaScript semantics: property order, `undefined` versus absent keys,
// strict equality by identity, and objects shared between the state and the
// events of one batch. `Value` reproduces exactly that model so the
// partitions can match aux-common's behaviour and JSON byte for byte.

#ifndef AUXSYNC_BOTS_VALUE_H_
#define AUXSYNC_BOTS_VALUE_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "auxsync/bots/internal/ref_count.h"

namespace auxsync::bots {

class Object;
class Array;
class HostObject;
class StringBatch;
using ObjectRef = std::shared_ptr<Object>;
using ArrayRef = std::shared_ptr<Array>;
using HostRef = std::shared_ptr<const HostObject>;

// A JavaScript value: undefined, null, boolean, number (an IEEE double, so
// NaN, the infinities and -0 are distinct values), string, array or object.
//
// Strings are WTF-8 (UTF-8 that may also hold unpaired surrogates, as
// JavaScript strings can). Arrays and objects are references, as in
// JavaScript: copying a Value shares the object, and a change through one
// copy is seen through all of them. Use Clone() for an independent copy.
// Not thread-safe: a Value graph belongs to one thread.
class Value {
 public:
  enum class Kind : uint8_t {
    kUndefined,
    kNull,
    kBool,
    kNumber,
    kString,
    kArray,
    kObject,
    kHost
  };

  Value() noexcept : bits_(0), kind_(Kind::kUndefined) {}  // undefined
  Value(std::nullptr_t) noexcept : bits_(0), kind_(Kind::kNull) {}
  Value(bool b) noexcept : bits_(0), kind_(Kind::kBool) { bool_ = b; }
  template <typename T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) Value(T number)
  noexcept : kind_(Kind::kNumber) { number_ = static_cast<double>(number); }
  Value(std::string s);
  Value(std::string_view s);
  Value(const char* s);
  Value(ObjectRef object);
  Value(ArrayRef array);
  Value(HostRef host);

  Value(const Value& other) noexcept : kind_(other.kind_) {
    if (kind_ <= Kind::kString) {
      CopyBits(other);
      if (kind_ == Kind::kString) internal::RefCountAdd(str_->refs);
    } else {
      CopyShared(other);
    }
  }
  Value(Value&& other) noexcept : kind_(other.kind_) {
    if (kind_ <= Kind::kString) {
      CopyBits(other);  // a string's node changes owner
    } else {
      MoveShared(other);
    }
    other.kind_ = Kind::kUndefined;
  }
  // Assigning a value reachable only through this one (`v = v["x"]`) is
  // safe: the source is taken before the old content is released.
  Value& operator=(const Value& other) noexcept {
    if (kind_ < Kind::kString) {
      CopyFrom(other);  // nothing to release, so nothing can alias
    } else if (this != &other) {
      Value copy(other);
      Release();
      StealFrom(copy);
    }
    return *this;
  }
  Value& operator=(Value&& other) noexcept {
    if (this == &other) return *this;
    if (kind_ < Kind::kString) {
      StealFrom(other);
    } else {
      Value moved(std::move(other));
      Release();
      StealFrom(moved);
    }
    return *this;
  }
  ~Value() {
    if (kind_ >= Kind::kString) Release();
  }

  // A new empty object / array.
  static Value NewObject();
  static Value NewArray();
  // A new empty object with room for `capacity` keys in the object's own
  // allocation (Object::WithCapacity).
  static Value NewObject(size_t capacity);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_null() const { return kind() == Kind::kNull; }
  // True for null and undefined (JavaScript `== null`).
  bool is_nullish() const { return kind() <= Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_number() const { return kind() == Kind::kNumber; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_object() const { return kind() == Kind::kObject; }
  bool is_host() const { return kind() == Kind::kHost; }

  // Accessors; calling one for another kind is a bug (asserted).
  bool as_bool() const {
    assert(is_bool());
    return bool_;
  }
  double as_number() const {
    assert(is_number());
    return number_;
  }
  const std::string& as_string() const {
    assert(is_string());
    return str_->text;
  }
  Object& as_object() const {
    assert(is_object());
    return *object_;
  }
  Array& as_array() const {
    assert(is_array());
    return *array_;
  }
  const ObjectRef& object_ref() const {
    assert(is_object());
    return object_;
  }
  const ArrayRef& array_ref() const {
    assert(is_array());
    return array_;
  }
  const HostObject& as_host() const {
    assert(is_host());
    return *host_;
  }
  const HostRef& host_ref() const {
    assert(is_host());
    return host_;
  }

  // Property access for object values: the property, or undefined when this
  // is not an object or has no such key (JavaScript `v?.[key]`).
  const Value& operator[](std::string_view key) const;

  // A deep copy: new objects and arrays all the way down. Shared sub-objects
  // are copied once per reference (inputs are trees; cycles are not
  // supported and are a bug).
  Value Clone() const;

 private:
  friend class StringBatch;

  // A string's immutable text, shared by every copy of the value (copying
  // a string value is a reference-count increment, and a value stays 24
  // bytes). Created once per string value and never changed.
  struct StringNode {
    std::string text;
    internal::RefCount refs = 1;
    // 0: the node is its own allocation; k > 0: the k-th node of a
    // StringBatch's block, whose header is k nodes before it (in what was
    // the node's padding: a node stays 40 bytes).
    uint32_t batch_slot = 0;
  };
  static_assert(sizeof(std::string) + 2 * sizeof(uint32_t) <= 40);

  // Destroys a node whose last reference was dropped and frees its
  // storage (or its share of a batch's block).
  static void FreeNode(StringNode* node) noexcept;

  void CopyBits(const Value& other) noexcept {
    std::memcpy(static_cast<void*>(&bits_), &other.bits_, sizeof(bits_));
  }
  // The shared_ptr kinds (array, object, host).
  void CopyShared(const Value& other) noexcept {
    switch (kind_) {
      case Kind::kArray:
        std::construct_at(&array_, other.array_);
        break;
      case Kind::kObject:
        std::construct_at(&object_, other.object_);
        break;
      default:
        std::construct_at(&host_, other.host_);
        break;
    }
  }
  void MoveShared(Value& other) noexcept {
    switch (kind_) {
      case Kind::kArray:
        std::construct_at(&array_, std::move(other.array_));
        std::destroy_at(&other.array_);
        break;
      case Kind::kObject:
        std::construct_at(&object_, std::move(other.object_));
        std::destroy_at(&other.object_);
        break;
      default:
        std::construct_at(&host_, std::move(other.host_));
        std::destroy_at(&other.host_);
        break;
    }
  }
  // Copies `other`'s content; this must hold nothing to release.
  void CopyFrom(const Value& other) noexcept {
    kind_ = other.kind_;
    if (kind_ <= Kind::kString) {
      CopyBits(other);
      if (kind_ == Kind::kString) internal::RefCountAdd(str_->refs);
    } else {
      CopyShared(other);
    }
  }
  // Takes `other`'s content, leaving it undefined; this must hold nothing
  // to release.
  void StealFrom(Value& other) noexcept {
    kind_ = other.kind_;
    if (kind_ <= Kind::kString) {
      CopyBits(other);
    } else {
      MoveShared(other);
    }
    other.kind_ = Kind::kUndefined;
  }
  void Release() noexcept;

  // 16 bytes of payload and the kind: a Value is 24 bytes. Only the member
  // that `kind_` names is live; undefined and null use none.
  union {
    uint64_t bits_;  // the bytes of bool_ / number_ / str_, for copying
    bool bool_;
    double number_;
    StringNode* str_;  // owns one reference
    ArrayRef array_;
    ObjectRef object_;
    HostRef host_;
  };
  Kind kind_;
};

// Makes up to `capacity` string values whose nodes share one allocation,
// for a caller that makes several strings that usually live and die
// together (the tag values and id of a bot read from a document): one
// allocation instead of one per value. Each value is an ordinary string
// value (copies share it, a change of its tag releases it as any); the
// allocation is freed when the batch and every value made from it are
// gone, so a value kept alone holds its batch's few nodes.
class StringBatch {
 public:
  // `capacity` in [1, kMaxCapacity].
  explicit StringBatch(size_t capacity);
  StringBatch(const StringBatch&) = delete;
  StringBatch& operator=(const StringBatch&) = delete;
  ~StringBatch();

  static constexpr size_t kMaxCapacity = 1024;

  // A string value of `text`; Value(text) once the batch is full.
  Value Make(std::string text);
  Value Make(std::string_view text);
  Value Make(const char* text) { return Make(std::string_view(text)); }

 private:
  using StringNode = Value::StringNode;
  // Slot 0 of the block, in place of a node.
  struct Header {
    internal::RefCount live;  // nodes made and not freed, +1 for the batch
    uint32_t capacity;        // nodes after the header
  };
  static_assert(sizeof(Header) <= sizeof(StringNode));
  friend class Value;
  // Drops one share of the block whose header is `header`, freeing the
  // block with the last.
  static void DropShare(Header* header) noexcept;
  // The next node, its reference to the block taken (null when full).
  StringNode* Next();
  // A string value in `node` (just taken by Next) whose text is built in
  // place from `text`: a std::string (moved) or a std::string_view (copied).
  template <typename Text>
  Value Adopt(StringNode* node, Text&& text);

  StringNode* block_;  // the header's slot, then capacity nodes
  uint32_t used_ = 0;
};

// A runtime object that is not plain data: a Date, an Error, a function,
// binary data, or one of the CasualOS runtime types (DateTime, Vector2,
// Vector3, Rotation, a runtime wrapper). They only pass through the bot
// layer's entry points (serialisation, section 4 of spec/partitions.md);
// partitions never store them. Immutable; held by shared reference.
class HostObject {
 public:
  virtual ~HostObject() = default;
  // The JavaScript constructor name ("Date", "Error", "DateTime", ...).
  virtual std::string_view class_name() const = 0;
  // What JSON.stringify writes for it (its toJSON() result; an empty
  // object when it has none).
  virtual Value ToJsonValue() const = 0;
};

// JavaScript String(v) for the values property keys and edit texts come
// from: "undefined", "null", booleans, numbers as JavaScript prints them,
// strings as they are, arrays joined with "," (null items empty), and
// "[object Object]" for objects and host objects.
std::string ToJsString(const Value& v);

// JavaScript ToBoolean: false for undefined, null, false, +-0, NaN and "".
bool IsTruthy(const Value& v);

// JavaScript `===`: primitives by value (NaN is never equal, -0 === 0),
// objects and arrays by identity.
bool StrictEquals(const Value& a, const Value& b);

// Structural equality for tests and comparisons: objects equal when they
// have the same keys in the same order with deep-equal values; numbers are
// compared by bits-and-meaning (NaN equals NaN, -0 differs from 0).
bool DeepEquals(const Value& a, const Value& b);

// True when `key` is a canonical array index ("0" ... "4294967294"), which
// JavaScript orders before every other property key.
bool IsArrayIndexKey(std::string_view key);

// A JavaScript array (dense).
class Array {
 public:
  Array() = default;
  explicit Array(std::vector<Value> items) : items(std::move(items)) {}
  std::vector<Value> items;
};

// A JavaScript plain object: string keys with JavaScript's property order
// (array-index keys first in ascending numeric order, then the other keys in
// insertion order; re-assigning keeps a key's place, delete + add moves it to
// the end). A key may be present with the value undefined.
//
// Lookups are O(1) on large objects. Iteration order is property order.
class Object {
  class SpareKey;

 public:
  struct Entry {
    std::string key;
    Value value;
  };

  Object() = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  // WithCapacity's constructor (public for std::allocate_shared; only
  // Object can make its key).
  explicit Object(SpareKey key);

  // A new empty object with room for `capacity` keys placed in the same
  // allocation as the object and its reference count: one allocation for
  // an object of known size (a bot's tags), where a default object
  // allocates its slots apart once it has more than a few keys. It behaves
  // like any object, growing past `capacity` as usual.
  static ObjectRef WithCapacity(size_t capacity);
  // A new object with the keys of `like` (which has never had a key
  // removed) in the same order, every value undefined, sized for them
  // (WithCapacity): for a caller that builds many objects of the same keys
  // (the tags of bot after bot read from a document), which then sets the
  // values through InsertedValue. The keys are copied with their hashes and
  // index, not looked up or hashed again; the object is then an ordinary
  // one, as if the keys had been added one by one.
  static ObjectRef WithKeysOf(const Object& like);

  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

  // The value of `key`, or nullptr when the key is absent.
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  // The value of `key`, or undefined when absent.
  const Value& Get(std::string_view key) const;

  // Sets `key`; an existing key keeps its position.
  void Set(std::string_view key, Value value);
  // Removes `key`; returns whether it was present.
  bool Erase(std::string_view key);
  // Set of a key the caller knows is absent (the distinct keys of a map it
  // reads, an object it is building): no lookup first. Adding a present key
  // is a bug (asserted in debug builds).
  void AddNew(std::string_view key, Value value);
  // AddNew of `n` keys in order: key_at(i) gives the i-th key (a
  // std::string_view; distinct from the others and absent) and value_at(i)
  // its value. A large object's index is built once after them instead of
  // being kept up to date key by key (thousands of bots into a state).
  template <typename KeyAt, typename ValueAt>
  void AddNewMany(size_t n, KeyAt&& key_at, ValueAt&& value_at) {
    NewKeys adder(*this, n);
    for (size_t i = 0; i < n; ++i) {
      adder.Add(std::string_view(key_at(i)), value_at(i));
    }
  }
  // AddNewMany one key at a time, for a caller that makes each key and
  // value in a loop of its own and adds them while they are in the cache:
  // Add at most `n` keys (distinct and absent), touching the object only
  // through this adder while it lives. The index is built when it dies.
  class NewKeys {
   public:
    NewKeys(Object& object, size_t n)
        : object_(object), defer_(object.PrepareMany(n)) {}
    NewKeys(const NewKeys&) = delete;
    NewKeys& operator=(const NewKeys&) = delete;
    ~NewKeys() {
      if (defer_) object_.FinishMany();
    }
    void Add(std::string_view key, Value value) {
      object_.AppendOne(key, std::move(value), defer_);
    }

   private:
    Object& object_;
    const bool defer_;
  };
  // The value of the i-th key added to this object, which has never had a
  // key removed (i < size()): WithKeysOf's caller sets the values by
  // position.
  Value& InsertedValue(size_t i) {
    assert(i < slots_.size() && live_ == slots_.size());
    return slots_[i].value;
  }
  // The value of `key`, appended as undefined when the key is absent
  // (`added` says which): one lookup where Find then Set take two. The
  // reference is valid until the next change of the object's keys.
  Value& FindOrAdd(std::string_view key, bool& added);

  // A new object with the same keys in the same order and the same values
  // (shared, not copied): JavaScript's `{...object}`.
  ObjectRef ShallowCopy() const;
  // Makes this object what ShallowCopy() of `other` gives, reusing this
  // object's storage (for callers that recycle objects nobody else holds).
  // `other` must not be this object.
  void AssignShallowCopy(const Object& other);
  // Removes every key, keeping the storage for reuse.
  void Clear();
  // Makes this object the one-key object {key: value} in place: what Clear()
  // then Set(key, value) give, but reusing the first slot and its key's
  // storage (for callers that re-key a recycled one-key object): the entry's
  // key and value stay at the addresses of the old first entry's, as
  // ForEach gives them. `key` may view one of this object's keys.
  void AssignSingle(std::string_view key, Value value);
  // Makes room for `n` keys in all, so that building an object of known
  // size (a bot's tags) does not regrow its storage key by key. Changes no
  // key or order; `n` below the current size is a no-op.
  void Reserve(size_t n);

  // Keys in property order (a snapshot, like Object.keys()).
  std::vector<std::string> Keys() const;

  // Calls f(const std::string& key, const Value& value) for each entry in
  // property order. `f` may re-assign existing keys but must not add or
  // remove keys of this object (take Keys() first for that).
  template <typename F>
  void ForEach(F&& f) const {
    if (extra_ != nullptr && !extra_->index_order.empty()) {
      for (uint32_t slot : extra_->index_order) {
        f(slots_[slot].key, slots_[slot].value);
      }
    }
    for (const Slot& s : slots_) {
      if ((s.flags & (kDead | kIndexKey)) == 0) f(s.key, s.value);
    }
  }

 private:
  // Slot flags.
  static constexpr uint8_t kDead = 1;      // erased (a tombstone)
  static constexpr uint8_t kIndexKey = 2;  // an array-index key

  struct Slot {
    Slot() = default;
    // A key with the value left undefined (WithKeysOf's copy of a slot).
    Slot(const std::string& k, uint8_t f) : key(k), flags(f) {}
    std::string key;
    // The flags sit in the value's tail padding: a slot is 56 bytes.
    [[no_unique_address]] Value value;
    uint8_t flags = 0;
  };
  // Slot storage that WithCapacity places after the object in its
  // allocation (this header, then `capacity` slots): the slot vector takes
  // it for an allocation that fits while it is free, and returns it rather
  // than freeing it. It goes with the object's allocation.
  struct Spare {
    size_t capacity;
    bool in_use;
  };
  // The slot vector's allocator: the heap, or the object's Spare when it
  // has one. It stays with its object (an absl::InlinedVector keeps its
  // allocator when it is assigned), and the Spare is never handed to
  // another vector, since objects are neither copied nor moved.
  class SlotAllocator {
   public:
    using value_type = Slot;
    SlotAllocator() = default;
    explicit SlotAllocator(Spare* spare) : spare_(spare) {}
    Slot* allocate(size_t n);
    void deallocate(Slot* p, size_t n);
    friend bool operator==(const SlotAllocator& a, const SlotAllocator& b) {
      return a.spare_ == b.spare_;
    }

   private:
    Slot* spare_slots() const { return reinterpret_cast<Slot*>(spare_ + 1); }
    Spare* spare_ = nullptr;
  };
  // Where WithCapacity's allocation put the Spare (read when the object is
  // constructed, after the allocation) and its capacity.
  class SpareKey {
   private:
    friend class Object;
    SpareKey(std::byte* const* trailing, size_t capacity)
        : trailing(trailing), capacity(capacity) {}
    std::byte* const* trailing;
    size_t capacity;
  };

  // The hash of small-object slots and of the large-object index; cheap on
  // the short keys that dominate (tag names, ids).
  static uint32_t KeyHash(std::string_view key);
  // What only large objects and objects with array-index keys need, kept
  // behind one pointer so that the others stay small.
  struct Extra {
    // Key -> slot, only built once the object is large: an open-addressing
    // table (linear probing, at most half full) of (hash << 32 | slot + 1)
    // words, 0 when empty, kIndexErased when erased. The keys stay in the
    // slots, so a lookup reads one word of the table and then the slot,
    // which holds the key and the value together.
    std::vector<uint64_t> index;
    uint32_t index_used = 0;  // words that are not empty (erased included)
    // Slots of array-index keys in ascending numeric order.
    std::vector<uint32_t> index_order;
  };
  static constexpr uint64_t kIndexErased = 0xFFFFFFFFu;

  // Objects with at most this many slots (tombstones included) are searched
  // through hashes_; larger ones get the index.
  static constexpr size_t kSmallSlots = 16;
  // Slots kept inside the object itself: actions, updates, bots and most
  // partial entries have at most this many keys, and their slots then sit
  // right after the header.
  static constexpr size_t kInlineSlots = 3;
  using SlotVector = absl::InlinedVector<Slot, kInlineSlots, SlotAllocator>;

  int Lookup(std::string_view key, uint32_t hash) const;
  int Lookup(std::string_view key) const { return Lookup(key, KeyHash(key)); }
  // Appends the absent `key` (hashed to `hash`) with `value`: Set's tail.
  // With `unindexed`, the index is left to FinishMany.
  Value& Append(std::string_view key, uint32_t hash, Value value,
                bool unindexed = false);
  // AddNewMany's parts: makes room for `n` more keys and says whether their
  // appends leave the index to FinishMany (the object ends up large), in
  // which case an index it had is dropped; AppendOne is AddNew (without
  // the index when `unindexed`); FinishMany indexes the object.
  bool PrepareMany(size_t n);
  void AppendOne(std::string_view key, Value value, bool unindexed);
  void FinishMany();
  Extra& MutableExtra();
  bool has_index() const { return extra_ != nullptr && !extra_->index.empty(); }
  // The index's slot for `key`, or -1 (large objects; out of line).
  int IndexFind(std::string_view key, uint32_t hash) const;
  // Adds `slot` (whose key is absent from the index) under `hash`.
  void IndexInsert(uint32_t hash, uint32_t slot);
  // Marks the word of `slot` (indexed under `hash`) erased.
  void IndexErase(uint32_t hash, uint32_t slot);
  // Builds the index of the live slots, for at least `n` keys.
  void RebuildIndex(size_t n);
  void Compact();
  void RebuildHashes();

  // What a lookup reads comes first: the count of live keys, the 16-bit
  // hashes of the first kSmallSlots slots (compared 8 at a time) and the
  // slot vector's size and storage, so that a lookup on a cold small object
  // touches its first cache line and the matching slot.
  uint32_t live_ = 0;
  uint16_t hashes_[kSmallSlots] = {};
  std::unique_ptr<Extra> extra_;
  SlotVector slots_;  // insertion order, with tombstones
};

// Convenience builders for tests and callers:
//   MakeObject({{"id", "b"}, {"tags", MakeObject({{"a", 1}})}})
Value MakeObject(std::initializer_list<std::pair<std::string_view, Value>> kv);
Value MakeArray(std::initializer_list<Value> items);
Value MakeArray(std::vector<Value> items);

// Whether `v` is an object whose "type" is the string `type` (how actions,
// statuses and auth messages are told apart).
bool HasType(const Value& v, std::string_view type);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_VALUE_H_
