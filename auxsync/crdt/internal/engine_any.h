// The engine's value type for ContentAny / embeds / formats: a JavaScript
// value as lib0's writeAny sees it. Kept inside the engine so it has no
// build dependency on the codec layer (whose crdt::Any is the public form).
#ifndef AUXSYNC_CRDT_INTERNAL_ENGINE_ANY_H_
#define AUXSYNC_CRDT_INTERNAL_ENGINE_ANY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auxsync/crdt/internal/engine_lib0.h"

namespace auxsync::crdt::engine {

enum class AnyKind : uint8_t {
  kUndefined,
  kNull,
  kBool,
  kNumber,
  kBigInt,
  kString,
  kBytes,
  kArray,
  kObject
};

// A JS value. Numbers are doubles (see spec §0.2); strings are UTF-8; object
// keys keep insertion order and are written in JS property order.
struct Any {
  AnyKind kind = AnyKind::kUndefined;
  bool boolean = false;
  double number = 0;
  int64_t bigint = 0;
  std::string str;  // kString (UTF-8) or kBytes (raw)
  std::vector<Any> array;
  std::vector<std::string> keys;  // kObject: keys[i] -> array[i]
  static Any Undefined() { return Any{}; }
  static Any Null() {
    Any a;
    a.kind = AnyKind::kNull;
    return a;
  }
  static Any Bool(bool b) {
    Any a;
    a.kind = AnyKind::kBool;
    a.boolean = b;
    return a;
  }
  static Any Number(double d) {
    Any a;
    a.kind = AnyKind::kNumber;
    a.number = d;
    return a;
  }
  static Any BigInt(int64_t v) {
    Any a;
    a.kind = AnyKind::kBigInt;
    a.bigint = v;
    return a;
  }
  static Any String(std::string s) {
    Any a;
    a.kind = AnyKind::kString;
    a.str = std::move(s);
    return a;
  }
  static Any Bytes(std::string b) {
    Any a;
    a.kind = AnyKind::kBytes;
    a.str = std::move(b);
    return a;
  }
  static Any Array(std::vector<Any> v) {
    Any a;
    a.kind = AnyKind::kArray;
    a.array = std::move(v);
    return a;
  }
  static Any Object() {
    Any a;
    a.kind = AnyKind::kObject;
    return a;
  }
  // Sets an object key as a JS assignment does (existing keys keep their
  // place).
  void Set(std::string key, Any v);
  const Any* Find(std::string_view key) const;
  bool operator==(const Any& o) const;  // deep equality (NaN != NaN as in JS)
};

// lib0 writeAny.
void WriteAny(Writer& w, const Any& v);
// lib0 readAny; bounded recursion depth. Sets r.Fail() on malformed input.
Any ReadAny(Reader& r, int depth = 0);
// JSON.stringify (used for v1 embeds, formats and ContentJSON).
std::string JsonStringify(const Any& v);
// JSON.parse; returns false on invalid JSON.
bool JsonParse(std::string_view text, Any* out);
// JS Number.prototype.toString.
std::string JsNumberToString(double d);

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_ENGINE_ANY_H_
