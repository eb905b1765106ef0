// Helpers over partitions and their configs (spec/partitions.md sections
// 6.5 and 12.7; aux-common's AuxPartition.ts and PartitionUtils.ts).

#ifndef AUXSYNC_PARTITIONS_PARTITION_UTILS_H_
#define AUXSYNC_PARTITIONS_PARTITION_UTILS_H_

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"
#include "auxsync/partitions/partition.h"

namespace auxsync::partitions {

// A property of a partitions object: its key and its partition. A null
// pointer stands for any falsy JavaScript value (null, undefined, 0, "").
using PartitionEntry = std::pair<std::string, Partition*>;

// The rank iteratePartitions sorts by: shared 0, tempLocal 1, local 2,
// tempShared 3, remoteTempShared 4, bootstrap 5, any other key 6.
int PartitionOrderRank(std::string_view key);

// iteratePartitions: the entries of a partitions object in the order
// CasualOS visits them. `properties` lists the object's property
// assignments in program order; they are first put in JavaScript property
// order (array-index keys first in ascending numeric order, then the rest in
// first-assignment order; a repeated key keeps its first place and takes its
// last value), then stably sorted by PartitionOrderRank. Entries whose
// partition is null are skipped.
// Example: {"5", zeta, shared, "1", tempLocal: null, local} ->
// shared, local, "1", "5", zeta.
std::vector<PartitionEntry> IteratePartitions(
    std::span<const PartitionEntry> properties);

// getPartitionState: the partition's current state.
inline const bots::Value& GetPartitionState(const Partition& partition) {
  return partition.state();
}

// supportsRemoteEvent(config, action): whether a partition whose
// "remoteEvents" setting is `config` handles the remote action `action`.
//   - config true -> true, false -> false;
//   - a "remote" action whose event type (JavaScript ToString of
//     action.event.type) is a property of config (`in`) -> that property
//     (null/undefined count as false);
//   - otherwise config.remoteActions (absent counts as false).
// Upstream returns the property's value itself; callers only test its
// truthiness, which is what this returns. As with `in`, inherited
// properties count: for an object config an event type such as "toString"
// or "constructor" finds the Object.prototype method, which is truthy.
// Errors (upstream throws a TypeError): config null/undefined; action
// null/undefined; a "remote" action whose event is null/undefined; a
// "remote" action with a config that is neither an object nor an array
// (`in` needs an object). Callers check that remote events are enabled
// (config truthy) before calling.
absl::StatusOr<bool> SupportsRemoteEvent(const bots::Value& config,
                                         const bots::Value& action);

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_PARTITION_UTILS_H_
