#include "auxsync/partitions/partition_factories.h"

#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "auxsync/partitions/memory_partition.h"
#include "auxsync/partitions/yjs_partition.h"

namespace auxsync::partitions {

using bots::Value;

namespace {

bool TypeIs(const Value& config, std::string_view type) {
  const Value& t = config["type"];
  return t.is_string() && t.as_string() == type;
}

}  // namespace

std::string InjectedPartitions::Add(std::unique_ptr<Partition> partition) {
  assert(partition != nullptr);
  std::string name;
  do {
    name = absl::StrCat("injected-", next_id_++);
  } while (partitions_.contains(name));
  partitions_.emplace(name, std::move(partition));
  return name;
}

absl::Status InjectedPartitions::Add(std::string_view name,
                                     std::unique_ptr<Partition> partition) {
  assert(partition != nullptr);
  std::string key(name);
  if (partitions_.contains(key)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a partition named \"", key, "\" is already injected"));
  }
  partitions_.emplace(std::move(key), std::move(partition));
  return absl::OkStatus();
}

std::unique_ptr<Partition> InjectedPartitions::Take(std::string_view name) {
  auto it = partitions_.find(absl::string_view(name.data(), name.size()));
  if (it == partitions_.end()) return nullptr;
  std::unique_ptr<Partition> partition = std::move(it->second);
  partitions_.erase(it);
  return partition;
}

Value InjectedPartitionConfig(std::string_view name) {
  return bots::MakeObject({{"type", "injected"}, {"partition", name}});
}

absl::StatusOr<std::unique_ptr<Partition>> TakeConfigPartition(
    const Value& config, PartitionServices& services) {
  const Value& name = config["partition"];
  if (name.is_nullish()) return std::unique_ptr<Partition>();
  if (!name.is_string()) {
    return absl::InvalidArgumentError(
        "partition config: \"partition\" must be the name of an injected "
        "partition");
  }
  if (services.injected == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("partition config names the injected partition \"",
                     name.as_string(), "\" but no InjectedPartitions is set"));
  }
  std::unique_ptr<Partition> partition =
      services.injected->Take(name.as_string());
  if (partition == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no injected partition named \"", name.as_string(), "\""));
  }
  return partition;
}

absl::StatusOr<std::unique_ptr<Partition>> CreateAuxPartition(
    const Value& config, PartitionServices& services,
    const std::vector<PartitionFactory>& factories) {
  if (config.is_nullish()) {
    return absl::InvalidArgumentError(
        "partition config must not be null or undefined");
  }
  if (TypeIs(config, "injected")) return TakeConfigPartition(config, services);
  for (const PartitionFactory& factory : factories) {
    absl::StatusOr<std::unique_ptr<Partition>> result =
        factory(config, services);
    if (!result.ok() || *result != nullptr) return result;
  }
  return std::unique_ptr<Partition>();
}

PartitionFactory CreateMemoryPartitionFactory() {
  return [](const Value& config, PartitionServices& services)
             -> absl::StatusOr<std::unique_ptr<Partition>> {
    if (!TypeIs(config, "memory")) return std::unique_ptr<Partition>();
    // `'initialState' in config`: the key counts even when undefined.
    if (!config.as_object().Has("initialState")) {
      return TakeConfigPartition(config, services);
    }
    absl::StatusOr<std::unique_ptr<MemoryPartition>> partition =
        CreateMemoryPartition(config);
    if (!partition.ok()) return partition.status();
    return std::unique_ptr<Partition>(*std::move(partition));
  };
}

PartitionFactory CreateYjsPartitionFactory(
    YjsPersistenceFactory persistence, std::optional<uint64_t> client_id,
    std::optional<uint64_t> remote_client_id) {
  return [persistence = std::move(persistence), client_id, remote_client_id](
             const Value& config, PartitionServices& services)
             -> absl::StatusOr<std::unique_ptr<Partition>> {
    if (!TypeIs(config, "yjs")) return std::unique_ptr<Partition>();
    absl::StatusOr<YjsPartitionConfig> parsed =
        YjsPartitionConfig::FromValue(config);
    if (!parsed.ok()) return parsed.status();
    if (persistence) {
      parsed->persistence_factory = persistence;
    } else if (!services.local_persistence_dir.empty()) {
      parsed->persistence_factory = MakeYjsSqlitePersistenceFactory(
          services.local_persistence_dir, services.local_persistence_options);
    }
    parsed->client_id = client_id;
    parsed->remote_client_id = remote_client_id;
    return std::unique_ptr<Partition>(
        std::make_unique<YjsPartition>(*std::move(parsed)));
  };
}

std::vector<PartitionFactory> DefaultFactories() {
  return {CreateMemoryPartitionFactory(), CreateYjsPartitionFactory()};
}

}  // namespace auxsync::partitions
