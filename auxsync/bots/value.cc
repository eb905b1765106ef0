#include "auxsync/bots/value.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "auxsync/bots/js_number.h"

namespace auxsync::bots {
namespace {

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
  return std::memcmp(a, b, n) == 0;
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
  return static_cast<uint32_t>(h ^ (h >> 32));
}

// The large-object path of Object::Lookup, kept out of line so that the
// small-object scan has no register spills for it.
template <typename Index>
[[gnu::noinline]] int FindInIndex(const Index& index, std::string_view key,
                                  uint32_t hash) {
  auto it = index.find(key, hash);  // the index hashes with HashKey
  return it == index.end() ? -1 : static_cast<int>(it->second);
}

const Value& UndefinedValue() {
  static const Value kUndefined;
  return kUndefined;
}

}  // namespace

Value::Value(ObjectRef object) : rep_(std::move(object)) {
  assert(std::get<ObjectRef>(rep_) != nullptr);
}

Value::Value(ArrayRef array) : rep_(std::move(array)) {
  assert(std::get<ArrayRef>(rep_) != nullptr);
}

Value::Value(HostRef host) : rep_(std::move(host)) {
  assert(std::get<HostRef>(rep_) != nullptr);
}

Value Value::NewObject() { return Value(std::make_shared<Object>()); }
Value Value::NewArray() { return Value(std::make_shared<Array>()); }

const Value& Value::operator[](std::string_view key) const {
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
      return a.as_string() == b.as_string();
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

int Object::Lookup(std::string_view key, uint32_t hash) const {
  const size_t count = slots_.size();
  // An object of at most kSmallSlots slots is searched through hashes_ even
  // when it still has an index (it shrank), so its index is not read.
  if (count > kSmallSlots && !lookup_.empty()) {
    return FindInIndex(lookup_, key, hash);
  }
  const Slot* slots = slots_.data();
  const size_t small = std::min(count, kSmallSlots);
#if defined(__SSE2__)
  if (small > 4) {
    // Larger small objects (a bot's tags) compare their hashes four at a
    // time. Smaller ones take the loop below, which reads no hash past the
    // last used slot (a 16-byte load may reach into another cache line).
    static_assert(kSmallSlots == 12);
    const __m128i wanted = _mm_set1_epi32(static_cast<int>(hash));
    auto lanes = [&](int first) {
      __m128i h =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(hashes_ + first));
      return static_cast<uint32_t>(
          _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(h, wanted))));
    };
    // Lanes past `small` hold stale or unset hashes and are masked off.
    uint32_t matches = lanes(0) | lanes(4) << 4;
    if (small > 8) matches |= lanes(8) << 8;
    matches &= (1u << small) - 1;
    while (matches != 0) {
      const int i = std::countr_zero(matches);
      const Slot& s = slots[i];
      if (s.live && SameKey(s.entry.key, key)) return i;
      matches &= matches - 1;
    }
  } else {
    for (size_t i = 0; i < small; ++i) {
      if (hashes_[i] == hash) {
        const Slot& s = slots[i];
        if (s.live && SameKey(s.entry.key, key)) return static_cast<int>(i);
      }
    }
  }
#else
  for (size_t i = 0; i < small; ++i) {
    if (hashes_[i] == hash) {
      const Slot& s = slots[i];
      if (s.live && SameKey(s.entry.key, key)) return static_cast<int>(i);
    }
  }
#endif
  // Small objects whose tombstones pushed them past kSmallSlots.
  for (size_t i = small; i < count; ++i) {
    const Slot& s = slots[i];
    if (s.hash == hash && s.live && SameKey(s.entry.key, key)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

[[gnu::flatten]] const Value* Object::Find(std::string_view key) const {
  int slot = Lookup(key, HashKey(key));
  return slot < 0 ? nullptr : &slots_[slot].entry.value;
}

[[gnu::flatten]] Value* Object::Find(std::string_view key) {
  int slot = Lookup(key, HashKey(key));
  return slot < 0 ? nullptr : &slots_[slot].entry.value;
}

const Value& Object::Get(std::string_view key) const {
  const Value* v = Find(key);
  return v ? *v : UndefinedValue();
}

void Object::Set(std::string_view key, Value value) {
  const uint32_t hash = HashKey(key);
  int existing = Lookup(key, hash);
  if (existing >= 0) {
    slots_[existing].entry.value = std::move(value);
    return;
  }
  uint32_t slot = static_cast<uint32_t>(slots_.size());
  bool index_key =
      !key.empty() && key[0] >= '0' && key[0] <= '9' && IsArrayIndexKey(key);
  // Built in place: no temporary slot to move from and destroy.
  Slot& added = slots_.emplace_back();
  added.hash = hash;
  added.index_key = index_key;
  added.entry.key.assign(key.data(), key.size());
  added.entry.value = std::move(value);
  if (slot < kSmallSlots) hashes_[slot] = hash;
  ++live_;
  if (index_key) {
    uint32_t n = ArrayIndexOf(key);
    auto pos = std::lower_bound(index_order_.begin(), index_order_.end(), n,
                                [&](uint32_t s, uint32_t v) {
                                  return ArrayIndexOf(slots_[s].entry.key) < v;
                                });
    index_order_.insert(pos, slot);
  }
  if (!lookup_.empty()) {
    lookup_.emplace(std::string(key), slot);
  } else if (live_ > kSmallSlots) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].live) lookup_.emplace(slots_[i].entry.key, i);
    }
  }
}

bool Object::Erase(std::string_view key) {
  int slot = Lookup(key, HashKey(key));
  if (slot < 0) return false;
  Slot& s = slots_[slot];
  if (s.index_key) {
    index_order_.erase(
        std::find(index_order_.begin(), index_order_.end(), slot));
  }
  if (!lookup_.empty()) lookup_.erase(s.entry.key);  // std::string key
  s.live = false;
  s.entry.value = Value();
  --live_;
  if (slots_.size() > 16 && live_ * 2 < slots_.size()) Compact();
  return true;
}

void Object::Compact() {
  SlotVector kept;
  kept.reserve(live_);
  std::vector<uint32_t> remap(slots_.size(), 0);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].live) continue;
    remap[i] = static_cast<uint32_t>(kept.size());
    kept.push_back(std::move(slots_[i]));
  }
  for (uint32_t& s : index_order_) s = remap[s];
  slots_ = std::move(kept);
  RebuildHashes();
  if (!lookup_.empty()) {
    for (auto& [k, s] : lookup_) s = remap[s];
  }
}

void Object::RebuildHashes() {
  const size_t small = std::min(slots_.size(), kSmallSlots);
  for (size_t i = 0; i < small; ++i) hashes_[i] = slots_[i].hash;
}

ObjectRef Object::ShallowCopy() const {
  auto copy = std::make_shared<Object>();
  copy->AssignShallowCopy(*this);
  return copy;
}

void Object::AssignShallowCopy(const Object& other) {
  assert(&other != this);
  if (other.live_ == other.slots_.size()) {
    slots_ = other.slots_;  // reuses this object's slot storage
    index_order_ = other.index_order_;
    if (!lookup_.empty() || !other.lookup_.empty()) lookup_ = other.lookup_;
    live_ = other.live_;
    RebuildHashes();
    return;
  }
  // Leave the tombstones behind.
  Clear();
  slots_.reserve(other.live_);
  for (const Slot& s : other.slots_) {
    if (s.live) slots_.push_back(s);
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.index_key) index_order_.push_back(static_cast<uint32_t>(i));
    if (!other.lookup_.empty()) lookup_.emplace(s.entry.key, i);
  }
  std::sort(index_order_.begin(), index_order_.end(),
            [&](uint32_t a, uint32_t b) {
              return ArrayIndexOf(slots_[a].entry.key) <
                     ArrayIndexOf(slots_[b].entry.key);
            });
  live_ = other.live_;
  RebuildHashes();
}

void Object::Clear() {
  // Not clear(), which would give up the slot storage.
  slots_.erase(slots_.begin(), slots_.end());
  index_order_.clear();
  if (!lookup_.empty()) lookup_.clear();
  live_ = 0;
}

void Object::Reserve(size_t n) {
  slots_.reserve(n);
  if (n > kSmallSlots && !lookup_.empty()) lookup_.reserve(n);
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

}  // namespace auxsync::bots
