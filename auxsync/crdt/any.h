// Copyright 2025 The auxsync Authors.
//
// Any: lib0's dynamic value, the payload of map entries, array elements,
// embeds, format attributes and subdocument options.

#ifndef AUXSYNC_CRDT_ANY_H_
#define AUXSYNC_CRDT_ANY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace auxsync::crdt {

// An immutable lib0 Any value: undefined, null, bool, number (always a
// double, as in JavaScript), bigint (int64), string (valid UTF-8; a lone
// UTF-16 surrogate must already be U+FFFD, as lib0's TextEncoder writes it),
// bytes, array, or map.
//
// Strings, bytes, arrays and maps live in shared immutable nodes, so copying
// an Any is O(1). A map keeps its keys in JavaScript own-property order
// (canonical array-index keys ascending first, then the others in insertion
// order); that is the order lib0's writeAny emits. Not thread-safe to mutate
// concurrently (it is never mutated), safe to share read-only.
class Any {
 public:
  enum class Kind : uint8_t {
    kUndefined,
    kNull,
    kBool,
    kNumber,
    kBigInt,
    kString,
    kBytes,
    kArray,
    kMap,
  };
  using Array = std::vector<Any>;
  using Entry = std::pair<std::string, Any>;
  using Map = std::vector<Entry>;

  // undefined.
  Any() : kind_(Kind::kUndefined), i_(0) {}

  static Any MakeUndefined() { return Any(); }
  static Any MakeNull() { return Any(Kind::kNull); }
  static Any MakeBool(bool b);
  // Any double, including -0, NaN and the infinities.
  static Any MakeNumber(double d);
  static Any MakeBigInt(int64_t v);
  // `utf8` must be valid UTF-8 (checked by assert only).
  static Any MakeString(std::string utf8);
  static Any MakeBytes(std::vector<uint8_t> bytes);
  static Any MakeArray(Array elements);
  // Orders the entries as a JavaScript object would hold them: canonical
  // array-index keys ("0" .. "4294967294") ascending first, then the rest in
  // the given order. A repeated key keeps its first position and the last
  // value, as with repeated assignment in JS.
  static Any MakeMap(Map entries);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_null() const { return kind_ == Kind::kNull; }

  // Accessors; calling one for another kind is a bug (asserted) and returns
  // a default value.
  bool bool_value() const;
  double number() const;
  int64_t bigint() const;
  const std::string& string() const;
  const std::vector<uint8_t>& bytes() const;
  const Array& array() const;
  const Map& map() const;

  // The value stored under `key` in a map, or nullptr (also for non-maps).
  const Any* Find(std::string_view key) const;

  // JavaScript truthiness (undefined, null, false, ±0, NaN, "" and 0n are
  // falsy); needed where yjs tests option values with `if (x)`.
  bool Truthy() const;

  // Structural equality. Numbers compare as their wire encoding would: NaN
  // equals NaN, and -0 differs from 0. Map entries compare in order.
  friend bool operator==(const Any& a, const Any& b);

  // A JSON-like rendering for logs and test failures (undefined, NaN, -0,
  // bigint `5n` and bytes `bytes(0a0b)` are shown in a readable non-JSON
  // form). Not a wire format.
  std::string DebugString() const;

 private:
  struct Node;
  explicit Any(Kind k) : kind_(k), i_(0) {}

  Kind kind_;
  union {
    bool b_;
    double d_;
    int64_t i_;
  };
  std::shared_ptr<const Node> node_;  // string, bytes, array or map
};

// True if `key` is a canonical JS array index: the decimal form, without
// leading zeros, of an integer in [0, 2^32 - 2]. Such keys come first in JS
// property order. On success stores the index in `*index`.
bool IsArrayIndexKey(std::string_view key, uint32_t* index);

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_ANY_H_
