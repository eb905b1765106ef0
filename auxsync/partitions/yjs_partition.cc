#include "auxsync/partitions/yjs_partition.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/bots/runtime_values.h"
#include "auxsync/partitions/partition_utils.h"
#include "auxsync/partitions/status_update.h"

namespace auxsync::partitions {

using bots::IsTruthy;
using bots::Value;

absl::StatusOr<YjsPartitionConfig> YjsPartitionConfig::FromValue(
    const Value& config) {
  if (!config.is_object()) {
    return absl::InvalidArgumentError("partition config must be an object");
  }
  YjsPartitionConfig out;
  const Value& branch = config["branch"];
  if (branch.is_string()) {
    out.branch = branch.as_string();
  } else if (!branch.is_nullish()) {
    return absl::InvalidArgumentError("branch: must be a string");
  }
  out.local_persistence = config["localPersistence"];
  out.remote_events = config["remoteEvents"];
  out.connection_id = config["connectionId"];
  out.is_private = IsTruthy(config["private"]);
  return out;
}

YjsPartition::YjsPartition(YjsPartitionConfig config)
    : YjsPartitionCore(YjsPartitionCoreOptions{
          .client_id = config.client_id,
          .remote_client_id = config.remote_client_id,
          .is_private = config.is_private,
          .now = std::move(config.now),
          .local_flag_only_during_writes = false,
          .answer_empty_initialization = true,
      }),
      remote_events_(config.remote_events),
      connection_id_(config.connection_id),
      branch_(config.branch),
      local_persistence_config_(config.local_persistence),
      persistence_factory_(std::move(config.persistence_factory)) {}

// The persistence may listen to the document: it goes first (members of
// the subclass are destroyed before the core's document).
YjsPartition::~YjsPartition() { persistence_.reset(); }

absl::StatusOr<std::vector<Value>> YjsPartition::ApplyEvents(
    const std::vector<Value>& events) {
  absl::Status error = ApplyBotEvents(events);
  if (!error.ok()) return error;
  return std::vector<Value>{};
}

// ---------------------------------------------------------------------------
// Connect and observables

void YjsPartition::Connect() {
  CallScope scope(this);
  if (IsTruthy(local_persistence_config_["saveToIndexedDb"]) &&
      branch_.has_value() && !branch_->empty() && persistence_factory_) {
    absl::StatusOr<std::unique_ptr<YjsLocalPersistence>> p =
        persistence_factory_(*branch_, local_persistence_config_);
    if (p.ok()) {
      persistence_ = std::move(*p);
    } else {
      EmitError(bots::MakeError("Error", std::string(p.status().message())));
    }
  }
  EmitStatus(ConnectionStatus(true));
  EmitStatus(AuthenticationStatus(true));
  EmitStatus(AuthorizationStatus(true));
  if (persistence_ != nullptr) {
    absl::Status s = persistence_->Open(doc());
    if (!s.ok()) {
      EmitError(bots::MakeError("Error", std::string(s.message())));
    } else {
      persistence_open_ = true;
    }
  }
  EmitStatus(SyncStatus(true));
}

absl::Status YjsPartition::PollPersistence() {
  if (persistence_ == nullptr || !persistence_open_) return absl::OkStatus();
  CallScope scope(this);
  absl::Status s = persistence_->Poll();
  if (!s.ok()) {
    EmitError(bots::MakeError("Error", std::string(s.message())));
  }
  return s;
}

absl::StatusOr<std::vector<Value>> YjsPartition::SendRemoteEvents(
    const std::vector<Value>& events) {
  CallScope scope(this);
  if (!IsTruthy(remote_events_)) return std::vector<Value>{};
  for (const Value& event : events) {
    absl::StatusOr<bool> supported = SupportsRemoteEvent(remote_events_, event);
    if (!supported.ok()) return supported.status();
    if (!*supported) continue;
    if (!bots::HasType(event, "remote")) continue;
    HandleRemote(event["taskId"], event["event"]);
  }
  return std::vector<Value>{};
}

void YjsPartition::HandleRemote(const Value& task_id, const Value& event) {
  const Value& type = event["type"];
  if (!type.is_string()) return;
  const std::string& t = type.as_string();
  if (t == "get_remote_count") {
    Answer(bots::AsyncResult(task_id, Value(1)));
  } else if (t == "get_remotes") {
    std::vector<Value> ids;
    if (IsTruthy(connection_id_)) ids.push_back(connection_id_);
    Answer(bots::AsyncResult(task_id, bots::MakeArray(std::move(ids))));
  } else if (t == "list_inst_updates") {
    Answer(bots::AsyncResult(task_id, bots::MakeArray({GetStateUpdate()}),
                             Value(false)));
  } else {
    HandleLocalRemote(task_id, event);
  }
}

absl::StatusOr<std::unique_ptr<YjsPartition>> CreateYjsPartition(
    const Value& config, YjsPersistenceFactory persistence) {
  if (!bots::HasType(config, "yjs")) return std::unique_ptr<YjsPartition>();
  absl::StatusOr<YjsPartitionConfig> parsed =
      YjsPartitionConfig::FromValue(config);
  if (!parsed.ok()) return parsed.status();
  parsed->persistence_factory = std::move(persistence);
  return std::make_unique<YjsPartition>(*std::move(parsed));
}

}  // namespace auxsync::partitions
