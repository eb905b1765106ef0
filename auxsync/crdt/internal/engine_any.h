// JavaScript semantics the document engine needs on lib0 Any values. The
// engine holds crdt::Any (any.h), the one value type of the engine API
// (JsValue), the codec and the update utilities; this adds what yjs does
// with those values in JavaScript: JSON for v1 embeds, formats and
// ContentJSON, equality of formatting attributes, number printing.
#ifndef AUXSYNC_CRDT_INTERNAL_ENGINE_ANY_H_
#define AUXSYNC_CRDT_INTERNAL_ENGINE_ANY_H_

#include <string>
#include <string_view>
#include <vector>

#include "auxsync/crdt/any.h"
#include "auxsync/crdt/internal/engine_lib0.h"

namespace auxsync::crdt::engine {

using Any = crdt::Any;
using AnyKind = crdt::Any::Kind;

// Deep equality with JavaScript number semantics (NaN != NaN, -0 == 0) and
// map keys compared regardless of order: how the engine compares
// formatting attribute values.
bool JsEquals(const Any& a, const Any& b);

// A bytes value from raw bytes held as a string (the engine keeps binary
// content that way), and back.
inline Any BytesAny(std::string_view raw) {
  return Any::MakeBytes(std::vector<uint8_t>(raw.begin(), raw.end()));
}
inline std::string BytesOf(const Any& v) {
  const std::vector<uint8_t>& b = v.bytes();
  return std::string(b.begin(), b.end());
}

// lib0 writeAny onto an engine writer.
inline void WriteAny(Writer& w, const Any& v) { w.WriteAny(v); }

// JSON.stringify (v1 embeds, formats and ContentJSON). Where JavaScript
// would throw (a bigint) or return undefined (undefined at the top level),
// writes "null" so that encoding never fails.
std::string JsonStringify(const Any& v);
// JSON.parse; returns false on invalid JSON.
bool JsonParse(std::string_view text, Any* out);
// JS Number.prototype.toString.
std::string JsNumberToString(double d);

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_ENGINE_ANY_H_
