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
// ConvertToCopiableValue. Upstream throws (uncaught DeepObjectError) when a
// tag nests deeper than 1000 levels; here the deeper levels are not
// searched and the tag is left as it is.
Value EnsureBotIsSerializable(const Value& bot);

// convertToCopiableValue: a copy that can cross threads. In upstream's
// order of checks: functions -> "[Function <name>]", Errors -> "<name>:
// <message>", runtime bots -> {id, tags[, space]}, bot-like objects (truthy
// id and tags) -> {id, tags} with the tags object kept as it is, arrays and
// plain objects converted recursively, Dates and binary data unchanged,
// DateTime / vectors / rotations -> their strings, wrappers -> their
// original (not converted further). Shared references and cycles stay
// shared; a value more than 1000 levels deep turns the whole result into
// "[Nested object]".
Value ConvertToCopiableValue(const Value& value);

// convertErrorToCopiableValue: {message, name, stack} (that order) for an
// Error, plus response: {data, headers, status, statusText} when its
// response is truthy; anything else unchanged.
Value ConvertErrorToCopiableValue(const Value& value);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_SERIALIZATION_H_
