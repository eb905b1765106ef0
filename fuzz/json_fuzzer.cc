// Fuzzes the JSON parser and writer of the bot layer: any input either
// fails with a status or parses to a value whose JSON text parses again to
// an equal value.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auxsync/bots/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auxsync::bots::JsonParseOptions options;
  options.decode_tags = size > 0 && (data[0] & 1) != 0;
  absl::StatusOr<auxsync::bots::Value> v =
      auxsync::bots::ParseJson(text, options);
  if (!v.ok()) return 0;
  auxsync::bots::JsonWriteOptions tagged;
  tagged.tagged = true;
  std::string once = auxsync::bots::ToJson(*v, tagged);
  auxsync::bots::JsonParseOptions reread;
  reread.decode_tags = true;
  absl::StatusOr<auxsync::bots::Value> again =
      auxsync::bots::ParseJson(once, reread);
  // Tagged output always parses back, to the same text.
  if (!again.ok() || auxsync::bots::ToJson(*again, tagged) != once) abort();
  return 0;
}
