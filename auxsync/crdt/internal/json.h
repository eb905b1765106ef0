// Copyright 2025 The auxsync Authors.
//
// JSON as yjs uses it in format v1: JSON.parse for embeds, format values and
// legacy ContentJSON elements, JSON.stringify to write them back.

#ifndef AUXSYNC_CRDT_INTERNAL_JSON_H_
#define AUXSYNC_CRDT_INTERNAL_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auxsync/crdt/any.h"

namespace auxsync::crdt::internal {

// JSON.parse: numbers become doubles, objects maps in JS property order
// (a repeated key keeps its first place and last value). A \u escape of a
// lone surrogate becomes U+FFFD (lib0 would write it so anyway). Nesting is
// limited to 1000 levels. Errors name the byte offset within `text`.
absl::StatusOr<Any> ParseJson(std::string_view text);

// JSON.stringify as V8 prints it: shortest round-trip numbers in JS
// formatting, NaN/Infinity as null, -0 as 0, undefined members skipped and
// undefined array elements as null, bytes as an object of their indices.
// Returns false (appending nothing useful) where JS would throw (bigint) or
// return undefined (undefined at the top level).
bool StringifyJson(const Any& value, std::string* out);

// JS Number.prototype.toString() of `d` (radix 10).
void AppendJsNumber(double d, std::string* out);

}  // namespace auxsync::crdt::internal

#endif  // AUXSYNC_CRDT_INTERNAL_JSON_H_
