// Shortcuts into the engine for callers on a hot path (the yjs partition's
// write path), where the public handles of types.h would copy what the
// caller already owns. Each one writes exactly what its public equivalent
// writes (same items, ids, update bytes and events).
//
// Threading: like the Doc they act on, single-threaded.
#ifndef AUXSYNC_CRDT_INTERNAL_FAST_ACCESS_H_
#define AUXSYNC_CRDT_INTERNAL_FAST_ACCESS_H_

#include <string>
#include <string_view>

#include "auxsync/crdt/types.h"

namespace auxsync::crdt::engine {

// YMap::Set(key, Input::Text(text)): sets `key` of `map` to a new Y.Text
// holding `text` (UTF-16 code units, taken over), in the current
// transaction or a new one. The text is inserted right after the text's own
// item is integrated, as the preliminary content would be, without copying
// it into a preliminary closure first.
void SetMapText(YMap map, std::string_view key, std::u16string text);

// YMap::Set(key, Input(value)) for a plain value that is not bytes (bytes
// go through YMap::Set, which stores them as binary content).
void SetMapValue(YMap map, std::string_view key, JsValue value);

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_FAST_ACCESS_H_
