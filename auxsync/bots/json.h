// JSON for Values, written exactly as JavaScript's JSON.stringify writes it
// and read by a strict, bounded parser that is safe on untrusted input.

#ifndef AUXSYNC_BOTS_JSON_H_
#define AUXSYNC_BOTS_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"

namespace auxsync::bots {

struct JsonWriteOptions {
  // Write NaN, the infinities, -0 and undefined (as a property value or an
  // array item) in the tagged forms {"$type":"number","value":"NaN"} and
  // {"$type":"undefined"} instead of JSON.stringify's lossy forms.
  bool tagged = false;
};

// Appends the JSON text of `value`: compact, JavaScript property order,
// JSON.stringify's string escapes (lone surrogates as \udxxx), undefined
// properties dropped, non-finite numbers as null. A top-level undefined is
// written as null.
void AppendJson(std::string& out, const Value& value,
                JsonWriteOptions options = {});
std::string ToJson(const Value& value, JsonWriteOptions options = {});

struct JsonParseOptions {
  // Nesting deeper than this is an error (the parser never recurses deeper).
  int max_depth = 512;
  // Decode the tagged forms above into the values they stand for.
  bool decode_tags = false;
};

// Parses one JSON text (RFC 8259; UTF-8 input, surrounding white space
// allowed). Duplicate keys behave as in JSON.parse: the last value wins at
// the first key's position. Errors name the byte offset and what was wrong.
absl::StatusOr<Value> ParseJson(std::string_view text,
                                JsonParseOptions options = {});

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_JSON_H_
