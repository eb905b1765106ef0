// Making values safe to store and to send across threads
// (spec/partitions.md section 4).

#ifndef AUXSYNC_BOTS_SERIALIZATION_H_
#define AUXSYNC_BOTS_SERIALIZATION_H_

#include "auxsync/bots/value.h"

namespace auxsync::bots {

// ensureTagIsSerializable: DateTime / Vector2 / Vector3 / Rotation become
// their string forms, a runtime wrapper its original object; anything else
// is returned as is (same identity).
Value EnsureTagIsSerializable(const Value& value);

// ensureBotIsSerializable: the same bot object when no tag needs
// converting; otherwise a new createBot(id, converted tags, space), which
// drops masks and signatures, as upstream does. A plain object or array tag
// that holds a wrapper at any depth (up to 1000) is converted whole with
// ConvertToCopiableValue.
Value EnsureBotIsSerializable(const Value& bot);

// convertToCopiableValue: a copy that can cross threads (functions and
// errors become strings, bots {id, tags[, space]}, nesting deeper than 1000
// becomes "[Nested object]", shared references stay shared).
Value ConvertToCopiableValue(const Value& value);

// convertErrorToCopiableValue: {message, name, stack} (+ response) for an
// Error; anything else unchanged.
Value ConvertErrorToCopiableValue(const Value& value);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_SERIALIZATION_H_
