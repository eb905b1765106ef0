// Fuzzes the .aux file reader: any text either fails with a status or
// parses to a file that writes back to text that parses to the same text,
// and whose bots state and conversions to both versions are computed
// without crashing.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auxsync/partitions/aux_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace auxsync::partitions;  // NOLINT: a fuzz target
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<StoredAux> aux = ParseStoredAux(text);
  if (!aux.ok()) return 0;
  const std::string once = SerializeStoredAux(*aux);
  absl::StatusOr<StoredAux> again = ParseStoredAux(once);
  if (!again.ok() || SerializeStoredAux(*again) != once) abort();
  (void)GetBotsStateFromStoredAux(*aux);
  for (int version : {1, 2}) {
    absl::StatusOr<StoredAux> converted =
        ConvertStoredAux(*aux, version, /*timestamp=*/1);
    if (converted.ok()) (void)SerializeStoredAux(*converted);
  }
  return 0;
}
