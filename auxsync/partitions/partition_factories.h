// Creating partitions from their JSON configs (spec/partitions.md section
// 6.6; aux-common's createAuxPartition and the partition factories).

#ifndef AUXSYNC_PARTITIONS_PARTITION_FACTORIES_H_
#define AUXSYNC_PARTITIONS_PARTITION_FACTORIES_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "auxsync/bots/value.h"
#include "auxsync/partitions/partition.h"
#include "auxsync/partitions/partition_auth_source.h"
#include "auxsync/partitions/yjs_local_persistence.h"
#include "auxsync/partitions/yjs_partition.h"

namespace auxsync::partitions {

// Partitions that already exist, handed to CreateAuxPartition by name.
//
// Upstream a config can carry a live partition object ({"type":"injected",
// "partition": p}, or a memory config without "initialState"). Our configs
// are JSON values, so the object travels beside them: the caller registers
// it here and puts its name in the config's "partition" field as a string.
// Creating the partition hands ownership to the caller of
// CreateAuxPartition, so a registered partition can be taken only once.
// Single-threaded.
class InjectedPartitions {
 public:
  InjectedPartitions() = default;
  InjectedPartitions(const InjectedPartitions&) = delete;
  InjectedPartitions& operator=(const InjectedPartitions&) = delete;

  // Registers `partition` (not null) under a new unique name and returns
  // the name.
  std::string Add(std::unique_ptr<Partition> partition);
  // Registers `partition` (not null) under `name`; AlreadyExists if the
  // name is taken.
  absl::Status Add(std::string_view name, std::unique_ptr<Partition> partition);

  // Removes and returns the partition registered under `name`, or nullptr.
  std::unique_ptr<Partition> Take(std::string_view name);

  [[nodiscard]] bool Contains(std::string_view name) const {
    return partitions_.contains(absl::string_view(name.data(), name.size()));
  }
  [[nodiscard]] size_t size() const { return partitions_.size(); }

 private:
  absl::flat_hash_map<std::string, std::unique_ptr<Partition>> partitions_;
  uint64_t next_id_ = 1;
};

// {"type":"injected","partition":name}
bots::Value InjectedPartitionConfig(std::string_view name);

// What factories may use (upstream's AuxPartitionServices). The pointers
// are borrowed and may be null when the caller has no such service.
struct PartitionServices {
  PartitionAuthSource* auth_source = nullptr;
  // Where configs that name an existing partition find it.
  InjectedPartitions* injected = nullptr;
  // The directory (which must exist) where yjs partitions whose config asks
  // for local persistence (`localPersistence.saveToIndexedDb` and a
  // `branch`) keep their SQLite file, one per branch; the embedding
  // application chooses it, as the browser chooses IndexedDB's place.
  // Empty: no local persistence, such configs run without (as upstream
  // where IndexedDB is missing).
  std::string local_persistence_dir;
  // Settings of those files other than the config's encryptionKey.
  YjsSqlitePersistenceOptions local_persistence_options;
};

// Creates a partition for the configs it understands. Returns nullptr (OK)
// for a config that is not its own, so the next factory gets a turn; an
// error status for a config of its type that it cannot use.
using PartitionFactory =
    std::function<absl::StatusOr<std::unique_ptr<Partition>>(
        const bots::Value& config, PartitionServices& services)>;

// The partition an injected-style config names: nullptr (OK) when its
// "partition" field is absent or null (upstream then yields undefined);
// InvalidArgument when the field is not a string; FailedPrecondition when
// `services` has no InjectedPartitions; NotFound when no partition of that
// name is registered (or it was already taken).
absl::StatusOr<std::unique_ptr<Partition>> TakeConfigPartition(
    const bots::Value& config, PartitionServices& services);

// createAuxPartition: for {"type":"injected"} returns the named partition
// (TakeConfigPartition) without consulting any factory; otherwise asks the
// factories in order and returns the first non-null result, or nullptr (OK)
// when none takes the config. A factory error is returned at once. The
// factories run synchronously (upstream awaits each in turn). A null or
// undefined config is InvalidArgument (upstream throws a TypeError).
absl::StatusOr<std::unique_ptr<Partition>> CreateAuxPartition(
    const bots::Value& config, PartitionServices& services,
    const std::vector<PartitionFactory>& factories);

// createMemoryPartition as a factory: {"type":"memory"} with an
// "initialState" key makes a new MemoryPartition (CreateMemoryPartition);
// {"type":"memory"} without one yields the partition named by its
// "partition" field (TakeConfigPartition); any other config -> nullptr.
PartitionFactory CreateMemoryPartitionFactory();

// createYjsPartition as a factory: {"type":"yjs"} makes a new YjsPartition
// (see YjsPartitionConfig::FromValue); any other config -> nullptr.
// `persistence` serves configs that ask for local persistence; when it is
// null, services.local_persistence_dir (if set) does, through
// MakeYjsSqlitePersistenceFactory. Given client ids replace the random ones
// (reproducible documents).
PartitionFactory CreateYjsPartitionFactory(
    YjsPersistenceFactory persistence = nullptr,
    std::optional<uint64_t> client_id = std::nullopt,
    std::optional<uint64_t> remote_client_id = std::nullopt);

// The factories of this build, in the order CreateAuxPartition should try
// them: memory, yjs.
std::vector<PartitionFactory> DefaultFactories();

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_PARTITION_FACTORIES_H_
