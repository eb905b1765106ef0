#include "auxsync/partitions/partition.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace auxsync::partitions {

std::string_view RealtimeStrategyName(RealtimeStrategy strategy) {
  return strategy == RealtimeStrategy::kImmediate ? "immediate" : "delayed";
}

absl::StatusOr<std::vector<bots::Value>> Partition::SendRemoteEvents(
    const std::vector<bots::Value>&) {
  return absl::UnimplementedError(absl::StrCat(
      "the ", std::string(type()), " partition does not take remote events"));
}

}  // namespace auxsync::partitions
