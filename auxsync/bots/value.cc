#include "auxsync/bots/value.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "auxsync/bots/js_number.h"

namespace auxsync::bots {
namespace {

// The allocator of Object::WithCapacity's std::allocate_shared: each
// allocation has `extra` bytes more after its objects, whose address it
// stores in *trailing (for the object constructed there next).
template <typename T>
class TrailingAllocator {
 public:
  using value_type = T;
  TrailingAllocator(size_t extra, std::byte** trailing)
      : extra_(extra), trailing_(trailing) {}
  template <typename U>
  TrailingAllocator(const TrailingAllocator<U>& other)  // NOLINT (rebind)
      : extra_(other.extra_), trailing_(other.trailing_) {}

  T* allocate(size_t n) {
    std::byte* p = std::allocator<std::byte>().allocate(Head(n) + extra_);
    *trailing_ = p + Head(n);
    return reinterpret_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    std::allocator<std::byte>().deallocate(reinterpret_cast<std::byte*>(p),
                                           Head(n) + extra_);
  }
  template <typename U>
  bool operator==(const TrailingAllocator<U>& other) const {
    return extra_ == other.extra_ && trailing_ == other.trailing_;
  }

 private:
  template <typename U>
  friend class TrailingAllocator;
  static size_t Head(size_t n) {
    constexpr size_t kAlign = alignof(std::max_align_t);
    return (n * sizeof(T) + kAlign - 1) / kAlign * kAlign;
  }
  size_t extra_;
  std::byte** trailing_;
};

uint32_t ArrayIndexOf(std::string_view key) {
  uint64_t n = 0;
  for (char c : key) n = n * 10 + static_cast<uint64_t>(c - '0');
  return static_cast<uint32_t>(n);
}

// Key equality once the hashes matched: short keys (almost all of them)
// are compared a word at a time without a call to memcmp.
[[gnu::always_inline]] inline bool SameKey(const std::string& stored,
                                           std::string_view key) {
  const size_t n = key.size();
  if (stored.size() != n) return false;
  const char* a = stored.data();
  const char* b = key.data();
  if (n >= 8 && n <= 16) {
    uint64_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 8);
    std::memcpy(&y0, b, 8);
    std::memcpy(&x1, a + n - 8, 8);
    std::memcpy(&y1, b + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  if (n >= 4 && n < 8) {
    uint32_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 4);
    std::memcpy(&y0, b, 4);
    std::memcpy(&x1, a + n - 4, 4);
    std::memcpy(&y1, b + n - 4, 4);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  if (n < 4) {
    // "id" and other very short keys: no call.
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  return std::memcmp(a, b, n) == 0;
}

// Copies n <= 16 bytes without a call (a short key into a key's storage).
[[gnu::always_inline]] inline void CopyShortKey(char* to, const char* from,
                                                size_t n) {
  if (n >= 8) {
    uint64_t x0, x1;
    std::memcpy(&x0, from, 8);
    std::memcpy(&x1, from + n - 8, 8);
    std::memcpy(to, &x0, 8);
    std::memcpy(to + n - 8, &x1, 8);
  } else if (n >= 4) {
    uint32_t x0, x1;
    std::memcpy(&x0, from, 4);
    std::memcpy(&x1, from + n - 4, 4);
    std::memcpy(to, &x0, 4);
    std::memcpy(to + n - 4, &x1, 4);
  } else {
    for (size_t i = 0; i < n; ++i) to[i] = from[i];
  }
}

// Object::KeyHash, defined here so that the lookups in this file inline it.
inline uint32_t HashKey(std::string_view key) {
  // Word-at-a-time multiply-xorshift: keys are mostly shorter than 16 bytes,
  // so this is a handful of instructions, and distinct short keys of equal
  // length ("tag0".."tag9") differ in their hash.
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = (n + 1) * kMul;
  auto mix = [&](uint64_t w) {
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  };
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    mix(w);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    mix((static_cast<uint64_t>(a) << 32) | b);
  } else if (n > 0) {
    mix(static_cast<uint64_t>(static_cast<unsigned char>(p[0])) |
        static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8 |
        static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
  }
  // The last mix only moves bits of a word upwards (and 29 down): fold the
  // high half in and take the high half of one more product, so that every
  // byte reaches the low bits the tables use ("init1234" ids of one length
  // differed only above bit 15 and probed ~50 slots per lookup).
  h ^= h >> 32;
  h *= kMul;
  return static_cast<uint32_t>(h >> 32);
}

// Empties an object's index, keeping its storage.
template <typename Extra>
void ClearIndex(Extra& extra) {
  extra.index.clear();
  extra.index_used = 0;
}

const Value& UndefinedValue() {
  static const Value kUndefined;
  return kUndefined;
}

}  // namespace

Value::Value(std::string s) : kind_(Kind::kString) {
  str_ = std::allocator<StringNode>().allocate(1);
  // Built in place from `s` (no temporary node to move from and destroy;
  // braces, since clang 14 has no parenthesized aggregate initialization).
  ::new (static_cast<void*>(str_)) StringNode{std::move(s)};
}

Value::Value(std::string_view s) : Value(std::string(s)) {}

StringBatch::StringBatch(size_t capacity) {
  assert(capacity >= 1 && capacity <= kMaxCapacity);
  block_ = std::allocator<StringNode>().allocate(capacity + 1);
  // The header lives in the first node's storage.
  std::construct_at(reinterpret_cast<Header*>(block_),
                    Header{1, static_cast<uint32_t>(capacity)});
}

StringBatch::~StringBatch() { DropShare(reinterpret_cast<Header*>(block_)); }

void StringBatch::DropShare(Header* header) noexcept {
  if (!internal::RefCountDrop(header->live)) return;
  const size_t capacity = header->capacity;
  std::destroy_at(header);
  std::allocator<StringNode>().deallocate(reinterpret_cast<StringNode*>(header),
                                          capacity + 1);
}

StringBatch::StringNode* StringBatch::Next() {
  Header& header = *reinterpret_cast<Header*>(block_);
  if (used_ == header.capacity) return nullptr;
  ++used_;
  internal::RefCountAdd(header.live);
  return block_ + used_;
}

template <typename Text>
Value StringBatch::Adopt(StringNode* node, Text&& text) {
  // (The node's string is the prvalue itself: no temporary to move from.)
  ::new (static_cast<void*>(node))
      StringNode{std::string(std::forward<Text>(text))};
  node->batch_slot = used_;
  Value v;
  v.kind_ = Value::Kind::kString;
  v.str_ = node;
  return v;
}

Value StringBatch::Make(std::string text) {
  StringNode* node = Next();
  if (node == nullptr) return Value(std::move(text));
  return Adopt(node, std::move(text));
}

Value StringBatch::Make(std::string_view text) {
  StringNode* node = Next();
  if (node == nullptr) return Value(text);
  return Adopt(node, text);
}

Value::Value(const char* s) : Value(std::string(s)) {}

Value::Value(ObjectRef object) : kind_(Kind::kObject) {
  assert(object != nullptr);
  std::construct_at(&object_, std::move(object));
}

Value::Value(ArrayRef array) : kind_(Kind::kArray) {
  assert(array != nullptr);
  std::construct_at(&array_, std::move(array));
}

Value::Value(HostRef host) : kind_(Kind::kHost) {
  assert(host != nullptr);
  std::construct_at(&host_, std::move(host));
}

void Value::FreeNode(StringNode* node) noexcept {
  const uint32_t slot = node->batch_slot;
  std::destroy_at(node);
  if (slot == 0) {
    std::allocator<StringNode>().deallocate(node, 1);
  } else {
    StringBatch::DropShare(reinterpret_cast<StringBatch::Header*>(node - slot));
  }
}

void Value::Release() noexcept {
  switch (kind_) {
    case Kind::kString:
      if (internal::RefCountDrop(str_->refs)) FreeNode(str_);
      break;
    case Kind::kArray:
      std::destroy_at(&array_);
      break;
    case Kind::kObject:
      std::destroy_at(&object_);
      break;
    case Kind::kHost:
      std::destroy_at(&host_);
      break;
    default:
      break;
  }
}

Value Value::NewObject() { return Value(std::make_shared<Object>()); }
Value Value::NewObject(size_t capacity) {
  return Value(Object::WithCapacity(capacity));
}
Value Value::NewArray() { return Value(std::make_shared<Array>()); }

[[gnu::flatten]] const Value& Value::operator[](std::string_view key) const {
  if (!is_object()) return UndefinedValue();
  return as_object().Get(key);
}

Value Value::Clone() const {
  switch (kind()) {
    case Kind::kArray: {
      auto copy = std::make_shared<Array>();
      copy->items.reserve(as_array().items.size());
      for (const Value& item : as_array().items) {
        copy->items.push_back(item.Clone());
      }
      return Value(std::move(copy));
    }
    case Kind::kObject: {
      ObjectRef copy = as_object().ShallowCopy();
      copy->ForEach([](const std::string&, const Value& value) {
        // The copy is ours alone, so its values may be replaced in place.
        const_cast<Value&>(value) = value.Clone();
      });
      return Value(std::move(copy));
    }
    default:
      return *this;
  }
}

std::string ToJsString(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "undefined";
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return v.as_bool() ? "true" : "false";
    case Value::Kind::kNumber:
      return NumberToJsString(v.as_number());
    case Value::Kind::kString:
      return v.as_string();
    case Value::Kind::kArray: {
      std::string out;
      bool first = true;
      for (const Value& item : v.as_array().items) {
        if (!first) out += ',';
        first = false;
        if (!item.is_nullish()) out += ToJsString(item);
      }
      return out;
    }
    default:
      return "[object Object]";
  }
}

bool IsTruthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNull:
      return false;
    case Value::Kind::kBool:
      return v.as_bool();
    case Value::Kind::kNumber:
      return v.as_number() != 0 && !std::isnan(v.as_number());
    case Value::Kind::kString:
      return !v.as_string().empty();
    default:
      return true;
  }
}

bool StrictEquals(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
      return a.as_bool() == b.as_bool();
    case Value::Kind::kNumber:
      return a.as_number() == b.as_number();
    case Value::Kind::kString:
      // Copies of one string value share its text: equal without reading it.
      return &a.as_string() == &b.as_string() ||
             SameKey(a.as_string(), b.as_string());
    case Value::Kind::kArray:
      return a.array_ref() == b.array_ref();
    case Value::Kind::kObject:
      return a.object_ref() == b.object_ref();
    case Value::Kind::kHost:
      return a.host_ref() == b.host_ref();
  }
  return false;
}

bool DeepEquals(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kNumber: {
      double x = a.as_number(), y = b.as_number();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
      return x == y && std::signbit(x) == std::signbit(y);
    }
    case Value::Kind::kArray: {
      const auto& x = a.as_array().items;
      const auto& y = b.as_array().items;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!DeepEquals(x[i], y[i])) return false;
      }
      return true;
    }
    case Value::Kind::kObject: {
      const Object& x = a.as_object();
      const Object& y = b.as_object();
      if (x.size() != y.size()) return false;
      std::vector<std::string> xk = x.Keys(), yk = y.Keys();
      if (xk != yk) return false;
      for (const std::string& k : xk) {
        if (!DeepEquals(x.Get(k), y.Get(k))) return false;
      }
      return true;
    }
    default:
      return StrictEquals(a, b);
  }
}

bool IsArrayIndexKey(std::string_view key) {
  if (key.empty() || key.size() > 10) return false;
  if (key.size() > 1 && key[0] == '0') return false;
  for (char c : key) {
    if (c < '0' || c > '9') return false;
  }
  uint64_t n = 0;
  for (char c : key) n = n * 10 + static_cast<uint64_t>(c - '0');
  return n <= 4294967294ull;
}

uint32_t Object::KeyHash(std::string_view key) { return HashKey(key); }

// Inlined into every caller (all in this file): a lookup is a handful of
// instructions on small objects, and most calls are lookups.
[[gnu::always_inline]] inline int Object::Lookup(std::string_view key,
                                                 uint32_t hash) const {
  const size_t count = slots_.size();
  // An object of at most kSmallSlots slots is searched through hashes_ even
  // when it still has an index (it shrank), so its index is not read.
  if (count > kSmallSlots && has_index()) return IndexFind(key, hash);
  const Slot* slots = slots_.data();
  const size_t small = std::min(count, kSmallSlots);
  const uint16_t h16 = static_cast<uint16_t>(hash);
#if defined(__SSE2__)
  static_assert(kSmallSlots == 16);
  // Lanes past `small` hold stale hashes and are masked off; the loads stay
  // inside hashes_.
  const __m128i wanted = _mm_set1_epi16(static_cast<short>(h16));
  const __m128i lo = _mm_cmpeq_epi16(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(hashes_)), wanted);
  uint32_t matches = static_cast<uint32_t>(_mm_movemask_epi8(lo));
  if (small > 8) {
    const __m128i hi = _mm_cmpeq_epi16(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(hashes_ + 8)), wanted);
    matches |= static_cast<uint32_t>(_mm_movemask_epi8(hi)) << 16;
  }
  // One bit per 16-bit lane.
  matches &= 0x55555555u;
  if (small < 16) matches &= (1u << (2 * small)) - 1;
  while (matches != 0) {
    const int i = std::countr_zero(matches) >> 1;
    const Slot& s = slots[i];
    if ((s.flags & kDead) == 0 && SameKey(s.key, key)) return i;
    matches &= matches - 1;
  }
#else
  for (size_t i = 0; i < small; ++i) {
    if (hashes_[i] == h16) {
      const Slot& s = slots[i];
      if ((s.flags & kDead) == 0 && SameKey(s.key, key)) {
        return static_cast<int>(i);
      }
    }
  }
#endif
  // Small objects whose tombstones pushed them past kSmallSlots.
  for (size_t i = small; i < count; ++i) {
    const Slot& s = slots[i];
    if ((s.flags & kDead) == 0 && SameKey(s.key, key)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

[[gnu::flatten]] const Value* Object::Find(std::string_view key) const {
  int slot = Lookup(key, HashKey(key));
  return slot < 0 ? nullptr : &slots_[slot].value;
}

[[gnu::flatten]] Value* Object::Find(std::string_view key) {
  int slot = Lookup(key, HashKey(key));
  return slot < 0 ? nullptr : &slots_[slot].value;
}

[[gnu::flatten]] const Value& Object::Get(std::string_view key) const {
  const Value* v = Find(key);
  return v ? *v : UndefinedValue();
}

// The large-object path of Lookup, kept out of line so that the
// small-object scan has no register spills for it.
[[gnu::noinline]] int Object::IndexFind(std::string_view key,
                                        uint32_t hash) const {
  const std::vector<uint64_t>& index = extra_->index;
  const size_t mask = index.size() - 1;
  const Slot* slots = slots_.data();
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const uint64_t word = index[i];
    if (word == 0) return -1;
    if ((word >> 32) == hash && static_cast<uint32_t>(word) != kIndexErased) {
      const uint32_t slot = static_cast<uint32_t>(word) - 1;
      if (SameKey(slots[slot].key, key)) return static_cast<int>(slot);
    }
  }
}

void Object::IndexInsert(uint32_t hash, uint32_t slot) {
  Extra& extra = *extra_;
  if (2 * (extra.index_used + 1) > extra.index.size()) {
    // Rebuilt with the new slot in it (its key is set already).
    RebuildIndex(live_);
    return;
  }
  const size_t mask = extra.index.size() - 1;
  size_t i = hash & mask;
  while (extra.index[i] != 0 &&
         static_cast<uint32_t>(extra.index[i]) != kIndexErased) {
    i = (i + 1) & mask;
  }
  if (extra.index[i] == 0) ++extra.index_used;
  extra.index[i] = static_cast<uint64_t>(hash) << 32 | (slot + 1);
}

void Object::IndexErase(uint32_t hash, uint32_t slot) {
  std::vector<uint64_t>& index = extra_->index;
  const size_t mask = index.size() - 1;
  const uint64_t word = static_cast<uint64_t>(hash) << 32 | (slot + 1);
  for (size_t i = hash & mask; index[i] != 0; i = (i + 1) & mask) {
    if (index[i] == word) {
      index[i] = kIndexErased;
      return;
    }
  }
}

void Object::RebuildIndex(size_t n) {
  Extra& extra = MutableExtra();
  size_t size = 32;
  while (size < 4 * std::max<size_t>(n, 1)) size *= 2;
  extra.index.assign(size, 0);
  extra.index_used = 0;
  const size_t mask = size - 1;
  for (size_t s = 0; s < slots_.size(); ++s) {
    if (slots_[s].flags & kDead) continue;
    const uint32_t hash = HashKey(slots_[s].key);
    size_t i = hash & mask;
    while (extra.index[i] != 0) i = (i + 1) & mask;
    extra.index[i] = static_cast<uint64_t>(hash) << 32 | (s + 1);
    ++extra.index_used;
  }
}

Object::Slot* Object::SlotAllocator::allocate(size_t n) {
  if (spare_ != nullptr && !spare_->in_use && n <= spare_->capacity) {
    spare_->in_use = true;
    return spare_slots();
  }
  return std::allocator<Slot>().allocate(n);
}

void Object::SlotAllocator::deallocate(Slot* p, size_t n) {
  if (spare_ != nullptr && p == spare_slots()) {
    spare_->in_use = false;
    return;
  }
  std::allocator<Slot>().deallocate(p, n);
}

Object::Object(SpareKey key)
    : slots_(SlotAllocator(
          std::construct_at(reinterpret_cast<Spare*>(*key.trailing),
                            Spare{key.capacity, false}))) {
  slots_.reserve(key.capacity);
}

ObjectRef Object::WithCapacity(size_t capacity) {
  if (capacity <= kInlineSlots) return std::make_shared<Object>();
  // The slot vector's first allocation asks for at least twice its inline
  // capacity.
  capacity = std::max(capacity, 2 * kInlineSlots);
  std::byte* trailing = nullptr;
  return std::allocate_shared<Object>(
      TrailingAllocator<Object>(sizeof(Spare) + capacity * sizeof(Slot),
                                &trailing),
      SpareKey(&trailing, capacity));
}

Object::Extra& Object::MutableExtra() {
  if (extra_ == nullptr) extra_ = std::make_unique<Extra>();
  return *extra_;
}

// Inlined into its callers (all in this file), so that the value a caller
// hands over by value is moved once, into the slot.
[[gnu::always_inline]] inline Value& Object::Append(std::string_view key,
                                                    uint32_t hash, Value value,
                                                    bool unindexed) {
  uint32_t slot = static_cast<uint32_t>(slots_.size());
  bool index_key =
      !key.empty() && key[0] >= '0' && key[0] <= '9' && IsArrayIndexKey(key);
  // Built in place: no temporary slot to move from and destroy.
  Slot& added = slots_.emplace_back();
  // append() into the empty key skips assign()'s general replace.
  added.key.append(key.data(), key.size());
  // The new slot's value is undefined (nothing to release): constructed
  // from `value` in place rather than assigned.
  std::construct_at(&added.value, std::move(value));
  added.flags = index_key ? kIndexKey : 0;
  if (slot < kSmallSlots) hashes_[slot] = static_cast<uint16_t>(hash);
  ++live_;
  if (index_key) {
    std::vector<uint32_t>& order = MutableExtra().index_order;
    uint32_t n = ArrayIndexOf(key);
    auto pos = std::lower_bound(order.begin(), order.end(), n,
                                [&](uint32_t s, uint32_t v) {
                                  return ArrayIndexOf(slots_[s].key) < v;
                                });
    order.insert(pos, slot);
  }
  if (unindexed) return added.value;
  if (has_index()) {
    IndexInsert(hash, slot);
  } else if (live_ > kSmallSlots) {
    RebuildIndex(live_);
  }
  return added.value;
}

bool Object::PrepareMany(size_t n) {
  slots_.reserve(slots_.size() + n);
  if (live_ + n <= kSmallSlots) return false;
  // Rebuilt by FinishMany.
  if (has_index()) ClearIndex(*extra_);
  return true;
}

void Object::AppendOne(std::string_view key, Value value, bool unindexed) {
  assert(Lookup(key) < 0);
  Append(key, HashKey(key), std::move(value), unindexed);
}

void Object::FinishMany() {
  if (live_ > kSmallSlots) RebuildIndex(live_);
}

void Object::Set(std::string_view key, Value value) {
  const uint32_t hash = HashKey(key);
  int existing = Lookup(key, hash);
  if (existing >= 0) {
    slots_[existing].value = std::move(value);
    return;
  }
  Append(key, hash, std::move(value));
}

// Flattened: the slot vector's append is inlined (a call of its own
// otherwise, a good part of a key's cost when a bot's tags are built).
[[gnu::flatten]] void Object::AddNew(std::string_view key, Value value) {
  assert(Lookup(key) < 0);
  Append(key, HashKey(key), std::move(value));
}

Value& Object::FindOrAdd(std::string_view key, bool& added) {
  const uint32_t hash = HashKey(key);
  const int existing = Lookup(key, hash);
  added = existing < 0;
  if (!added) return slots_[existing].value;
  return Append(key, hash, Value());
}

bool Object::Erase(std::string_view key) {
  const uint32_t hash = HashKey(key);
  int slot = Lookup(key, hash);
  if (slot < 0) return false;
  Slot& s = slots_[slot];
  if (s.flags & kIndexKey) {
    std::vector<uint32_t>& order = extra_->index_order;
    order.erase(std::find(order.begin(), order.end(), slot));
  }
  if (has_index()) IndexErase(hash, static_cast<uint32_t>(slot));
  s.flags = kDead;
  s.value = Value();
  --live_;
  if (slots_.size() > 16 && live_ * 2 < slots_.size()) Compact();
  return true;
}

void Object::Compact() {
  SlotVector kept;
  kept.reserve(live_);
  std::vector<uint32_t> remap(slots_.size(), 0);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].flags & kDead) continue;
    remap[i] = static_cast<uint32_t>(kept.size());
    kept.push_back(std::move(slots_[i]));
  }
  slots_ = std::move(kept);
  RebuildHashes();
  if (extra_ != nullptr) {
    for (uint32_t& s : extra_->index_order) s = remap[s];
    if (!extra_->index.empty()) RebuildIndex(live_);
  }
}

void Object::RebuildHashes() {
  const size_t small = std::min(slots_.size(), kSmallSlots);
  for (size_t i = 0; i < small; ++i) {
    hashes_[i] = static_cast<uint16_t>(HashKey(slots_[i].key));
  }
}

ObjectRef Object::ShallowCopy() const {
  auto copy = std::make_shared<Object>();
  copy->AssignShallowCopy(*this);
  return copy;
}

void Object::AssignShallowCopy(const Object& other) {
  assert(&other != this);
  if (other.live_ == other.slots_.size()) {
    // Slot by slot: reuses this object's slot storage, and an emptied
    // (recycled) object takes plain copies.
    const size_t n = other.slots_.size();
    while (slots_.size() > n) slots_.pop_back();
    const size_t kept = slots_.size();
    for (size_t i = 0; i < kept; ++i) slots_[i] = other.slots_[i];
    if (n > kept) slots_.reserve(n);
    for (size_t i = kept; i < n; ++i) slots_.push_back(other.slots_[i]);
    std::memcpy(hashes_, other.hashes_, sizeof(hashes_));
    if (other.extra_ != nullptr &&
        (!other.extra_->index_order.empty() || !other.extra_->index.empty())) {
      // The slots are the same, so the index is too.
      Extra& extra = MutableExtra();
      extra.index_order = other.extra_->index_order;
      extra.index = other.extra_->index;
      extra.index_used = other.extra_->index_used;
    } else if (extra_ != nullptr) {
      extra_->index_order.clear();
      ClearIndex(*extra_);
    }
    live_ = other.live_;
    return;
  }
  // Leave the tombstones behind.
  Clear();
  slots_.reserve(other.live_);
  for (const Slot& s : other.slots_) {
    if ((s.flags & kDead) == 0) slots_.push_back(s);
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].flags & kIndexKey) {
      MutableExtra().index_order.push_back(static_cast<uint32_t>(i));
    }
  }
  if (other.has_index()) RebuildIndex(other.live_);
  if (extra_ != nullptr) {
    std::sort(extra_->index_order.begin(), extra_->index_order.end(),
              [&](uint32_t a, uint32_t b) {
                return ArrayIndexOf(slots_[a].key) <
                       ArrayIndexOf(slots_[b].key);
              });
  }
  live_ = other.live_;
  RebuildHashes();
}

void Object::Clear() {
  // Not clear(), which would give up the slot storage.
  while (!slots_.empty()) slots_.pop_back();
  if (extra_ != nullptr) {
    extra_->index_order.clear();
    ClearIndex(*extra_);
  }
  live_ = 0;
}

void Object::AssignSingle(std::string_view key, Value value) {
  const bool index_key =
      !key.empty() && key[0] >= '0' && key[0] <= '9' && IsArrayIndexKey(key);
  if (slots_.empty()) slots_.emplace_back();
  Slot& first = slots_[0];
  // The key first: it may view a slot that the pops below destroy.
  const uintptr_t own = reinterpret_cast<uintptr_t>(first.key.data());
  const uintptr_t begin = reinterpret_cast<uintptr_t>(key.data());
  if (key.size() == first.key.size() && key.size() <= 16) {
    // The usual re-key from one id to another of the same length: the
    // bytes are overwritten in place without a call. A view of first.key
    // of its own length is first.key itself, so the ranges never overlap
    // in part.
    CopyShortKey(first.key.data(), key.data(), key.size());
  } else if (begin + key.size() <= own || begin >= own + first.key.size()) {
    // Not a view of first.key: truncate and append, which skips assign()'s
    // general replace (aliasing checks, a call) on the usual short key.
    first.key.clear();
    first.key.append(key.data(), key.size());
  } else if (begin != own || key.size() != first.key.size()) {
    first.key.assign(key.data(), key.size());  // copes with the overlap
  }
  hashes_[0] = static_cast<uint16_t>(HashKey(first.key));
  while (slots_.size() > 1) slots_.pop_back();
  first.value = std::move(value);
  first.flags = index_key ? kIndexKey : 0;
  live_ = 1;
  if (extra_ != nullptr) {
    extra_->index_order.clear();
    ClearIndex(*extra_);
  }
  if (index_key) MutableExtra().index_order.push_back(0);
}

void Object::Reserve(size_t n) {
  slots_.reserve(n);
  if (n > kSmallSlots && has_index() && extra_->index.size() < 2 * n) {
    RebuildIndex(n);
  }
}

std::vector<std::string> Object::Keys() const {
  std::vector<std::string> keys;
  keys.reserve(live_);
  ForEach([&](const std::string& key, const Value&) { keys.push_back(key); });
  return keys;
}

Value MakeObject(std::initializer_list<std::pair<std::string_view, Value>> kv) {
  Value v = Value::NewObject();
  for (const auto& [k, value] : kv) v.as_object().Set(k, value);
  return v;
}

Value MakeArray(std::initializer_list<Value> items) {
  return Value(std::make_shared<Array>(std::vector<Value>(items)));
}

Value MakeArray(std::vector<Value> items) {
  return Value(std::make_shared<Array>(std::move(items)));
}

bool HasType(const Value& v, std::string_view type) {
  const Value& t = v["type"];
  return t.is_string() && t.as_string() == type;
}

// Kept after the others: a function added in between would move the
// hot lookups' code (their alignment) for every caller.
ObjectRef Object::WithKeysOf(const Object& like) {
  assert(like.live_ == like.slots_.size());
  ObjectRef out = WithCapacity(like.live_);
  Object& o = *out;
  for (const Slot& s : like.slots_) {
    // The key copied (constructed, not assigned), the value left undefined,
    // the flags (array index or not) kept.
    o.slots_.emplace_back(s.key, s.flags);
  }
  std::memcpy(o.hashes_, like.hashes_, sizeof(hashes_));
  o.live_ = like.live_;
  if (like.extra_ != nullptr &&
      (!like.extra_->index_order.empty() || !like.extra_->index.empty())) {
    // The slots are the same, so the index and the order are too.
    o.extra_ = std::make_unique<Extra>(*like.extra_);
  }
  return out;
}

}  // namespace auxsync::bots
