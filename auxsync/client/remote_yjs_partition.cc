#include "auxsync/client/remote_yjs_partition.h"

#include <any>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/bots/runtime_values.h"
#include "auxsync/inst/connection_token.h"
#include "auxsync/inst/message_codec.h"
#include "auxsync/partitions/inst_updates.h"
#include "auxsync/partitions/partition_utils.h"
#include "auxsync/partitions/status_update.h"
#include "auxsync/partitions/yjs_local_persistence.h"

namespace auxsync::client {

using bots::IsTruthy;
using bots::Value;
using partitions::RealtimeStrategy;

namespace {

Value RecordNameValue(const inst::RecordName& name) {
  return name.has_value() ? Value(*name) : Value(nullptr);
}

std::optional<std::string> OptionalString(const Value& v) {
  if (v.is_string()) return v.as_string();
  return std::nullopt;
}

// The error codes that make the partition ask for authorization (9.5).
bool IsNotAuthorizedCode(std::string_view code) {
  for (std::string_view c :
       {"not_authorized", "subscription_limit_reached", "inst_not_found",
        "record_not_found", "invalid_record_key", "invalid_token",
        "unacceptable_connection_id", "unacceptable_connection_token",
        "user_is_banned", "not_logged_in", "session_expired"}) {
    if (code == c) return true;
  }
  return false;
}

Value ErrorOf(const absl::Status& s) {
  return bots::MakeError("Error", std::string(s.message()));
}

}  // namespace

absl::StatusOr<RemoteYjsPartitionConfig> RemoteYjsPartitionConfig::FromValue(
    const Value& config) {
  if (!config.is_object()) {
    return absl::InvalidArgumentError("partition config must be an object");
  }
  RemoteYjsPartitionConfig out;
  const Value& record_name = config["recordName"];
  if (record_name.is_string()) {
    out.ns.record_name = record_name.as_string();
  } else if (!record_name.is_nullish()) {
    return absl::InvalidArgumentError("recordName: must be a string or null");
  }
  if (!config["inst"].is_string()) {
    return absl::InvalidArgumentError("inst: must be a string");
  }
  out.ns.inst = config["inst"].as_string();
  if (!config["branch"].is_string()) {
    return absl::InvalidArgumentError("branch: must be a string");
  }
  out.ns.branch = config["branch"].as_string();
  if (config["host"].is_string()) out.host = config["host"].as_string();
  out.is_static = IsTruthy(config["static"]);
  out.skip_initial_load = IsTruthy(config["skipInitialLoad"]);
  out.temporary = IsTruthy(config["temporary"]);
  const Value& markers = config["markers"];
  if (markers.is_array()) {
    std::vector<std::string> list;
    for (const Value& m : markers.as_array().items) {
      if (!m.is_string()) {
        return absl::InvalidArgumentError("markers: must be strings");
      }
      list.push_back(m.as_string());
    }
    out.markers = std::move(list);
  } else if (!markers.is_nullish()) {
    return absl::InvalidArgumentError("markers: must be an array");
  }
  out.read_only = IsTruthy(config["readOnly"]) || out.is_static;
  // 'remoteEvents' in config: a present key counts even when undefined.
  if (config.as_object().Find("remoteEvents") != nullptr) {
    out.remote_events = config["remoteEvents"];
  }
  out.local_persistence = config["localPersistence"];
  out.is_private = IsTruthy(config["private"]);
  return out;
}

RemoteYjsPartition::RemoteYjsPartition(
    InstRecordsClient& client, partitions::PartitionAuthSource& auth_source,
    RemoteYjsPartitionConfig config)
    : YjsPartitionCore(partitions::YjsPartitionCoreOptions{
          .client_id = config.client_id,
          .remote_client_id = config.remote_client_id,
          .is_private = config.is_private,
          .now = config.now,
          .local_flag_only_during_writes = true,
          .answer_empty_initialization = false,
      }),
      client_(client),
      auth_source_(auth_source),
      config_(std::move(config)),
      static_(config_.is_static),
      skip_initial_load_(config_.skip_initial_load) {}

RemoteYjsPartition::~RemoteYjsPartition() {
  doc_updates_.Reset();
  subs_.clear();
  request_subs_.clear();
  list_state_sub_.Unsubscribe();
  persistence_.reset();
}

RealtimeStrategy RemoteYjsPartition::realtime_strategy() const {
  return static_ ? RealtimeStrategy::kDelayed : RealtimeStrategy::kImmediate;
}

absl::StatusOr<std::vector<Value>> RemoteYjsPartition::ApplyEvents(
    const std::vector<Value>& events) {
  ReleaseStaleHolds();
  CallScope scope(this);
  if (static_) return std::vector<Value>{};
  absl::Status error = ApplyBotEvents(events);
  if (!error.ok()) return error;
  return std::vector<Value>{};
}

// ---------------------------------------------------------------------------
// Connect and the three modes (9.2-9.5)

void RemoteYjsPartition::Connect() {
  CallScope scope(this);
  if (!config_.temporary &&
      IsTruthy(config_.local_persistence["saveToIndexedDb"]) &&
      config_.persistence_factory) {
    std::string name = absl::StrCat(config_.ns.record_name.value_or(""), "/",
                                    config_.ns.inst, "/", config_.ns.branch);
    absl::StatusOr<std::unique_ptr<partitions::YjsLocalPersistence>> p =
        config_.persistence_factory(name, config_.local_persistence);
    if (p.ok()) {
      persistence_ = std::move(*p);
      // Loaded as a non-local transaction: reported, never sent.
      if (absl::Status s = persistence_->Open(doc()); !s.ok()) {
        EmitError(ErrorOf(s));
      }
    } else {
      EmitError(ErrorOf(p.status()));
    }
  }
  if (skip_initial_load_) {
    InitializeWithoutLoading();
  } else if (static_) {
    RequestBranch();
  } else {
    StartWatching();
  }
}

void RemoteYjsPartition::Unsubscribe() {
  closed_ = true;
  doc_updates_.Reset();
  subs_.clear();
}

void RemoteYjsPartition::EnableCollaboration(std::function<void()> on_synced) {
  CallScope scope(this);
  static_ = false;
  skip_initial_load_ = false;
  send_initial_updates_ = true;
  synced_ = false;
  if (on_synced) on_synced_.push_back(std::move(on_synced));
  StartWatching();
}

void RemoteYjsPartition::InitializeWithoutLoading() {
  EmitStatus(partitions::ConnectionStatus(true));
  Value info;
  if (client_.connection().info().has_value()) {
    info = client_.connection().info_value();
  } else {
    Value indicator = client_.connection().indicator();
    Value id = IsTruthy(indicator) ? ConnectionIdOf(indicator)
                                   : Value("missing-connection-id");
    info = bots::MakeObject({{"connectionId", id},
                             {"sessionId", Value(nullptr)},
                             {"userId", Value(nullptr)}});
  }
  EmitStatus(partitions::AuthenticationStatus(true, info));
  UpdateSynced(true);
}

void RemoteYjsPartition::RequestBranch() {
  // Like the requests of SendRemoteEvents, not part of what Unsubscribe()
  // stops upstream.
  request_subs_.push_back(client_.GetUpdates(
      config_.ns, [this](const inst::AddUpdatesMessage& message) {
        CallScope scope(this);
        EmitStatus(partitions::ConnectionStatus(true));
        // connection.info: null while the connection is not logged in.
        const std::optional<inst::ConnectionInfo>& info =
            client_.connection().info();
        EmitStatus(partitions::AuthenticationStatus(
            true, info.has_value() ? client_.connection().info_value()
                                   : Value(nullptr)));
        UpdateSynced(true);
        HoldForListRequests();
        if (absl::Status s = ApplyUpdatesWithOrigin(message.updates, false);
            !s.ok()) {
          EmitError(ErrorOf(s));
        }
        // Unlocked (enableCollaboration) while the branch was loading.
        if (!static_) StartWatching();
      }));
}

void RemoteYjsPartition::StartWatching() {
  if (watching_) return;
  watching_ = true;
  subs_.push_back(client_.connection().OnConnectionState(
      [this](const ClientConnectionState& state) {
        ReleaseStaleHolds();
        CallScope scope(this);
        EmitStatus(partitions::ConnectionStatus(state.connected));
        if (state.connected) {
          EmitStatus(partitions::AuthenticationStatus(
              true, state.info.has_value() ? client_.connection().info_value()
                                           : Value()));
        } else {
          UpdateSynced(false);
        }
      }));
  BranchWatchCallbacks callbacks;
  callbacks.on_updates = [this](const BranchUpdates& u) { OnBranchUpdates(u); };
  callbacks.on_action = [this](const inst::ReceiveActionMessage& m) {
    OnReceiveAction(m);
  };
  callbacks.on_max_size = [this](const inst::UpdatesReceivedMessage& m) {
    OnMaxSize(m);
  };
  callbacks.on_error = [this](const inst::ErrorInfo& error) {
    if (IsNotAuthorizedCode(error.error_code())) {
      CallScope scope(this);
      HandleNotAuthorized(error.fields);
    }
  };
  callbacks.on_watch_result = [this](const inst::WatchBranchResultMessage& m) {
    if (m.success || !IsNotAuthorizedCode(m.error_code)) return;
    CallScope scope(this);
    Value error = inst::MessageToValue(inst::Message(m));
    error.as_object().Erase("type");
    HandleNotAuthorized(error);
  };
  subs_.push_back(client_.WatchBranch(config_.ns, config_.temporary,
                                      config_.markers, std::move(callbacks)));
  subs_.push_back(client_.OnRateLimitExceeded(
      [this](const inst::RateLimitExceededMessage& m) { OnRateLimit(m); }));
  if (closed_) {
    // Upstream adds these to its already closed subscription, which ends
    // each at once: the statuses and the watch (then unwatch) message go
    // out, nothing else ever happens.
    subs_.clear();
    return;
  }
  doc_updates_ = doc().OnUpdate(
      [this](std::span<const uint8_t> update, const crdt::Transaction& tr) {
        OnDocUpdate(update, tr);
      });
}

void RemoteYjsPartition::UpdateSynced(bool synced) {
  if (synced && !authorized_) {
    authorized_ = true;
    EmitStatus(partitions::AuthorizationStatus(true));
  }
  synced_ = synced;
  Defer([this, synced] {
    EmitStatus(partitions::SyncStatus(synced));
    if (synced && !on_synced_.empty()) {
      std::vector<std::function<void()>> waiting = std::move(on_synced_);
      on_synced_.clear();
      for (auto& fn : waiting) fn();
    }
  });
}

void RemoteYjsPartition::ReleaseStaleHolds() {
  // A hold that outlived the delivery it was made in (the answer did not
  // come with it): deliver what it kept back.
  while (held_for_list_ > 0) {
    --held_for_list_;
    ReleaseDeferred();
  }
}

void RemoteYjsPartition::HoldForListRequests() {
  // Only requests already sent take this message too.
  // One hold per request: each answer releases one.
  while (pending_list_requests_ - unsent_list_requests_ > held_for_list_) {
    ++held_for_list_;
    HoldDeferred();
  }
}

void RemoteYjsPartition::OnBranchUpdates(const BranchUpdates& updates) {
  ReleaseStaleHolds();
  CallScope scope(this);
  HoldForListRequests();
  if (!synced_) {
    if (send_initial_updates_) {
      send_initial_updates_ = false;
      client_.AddUpdates(config_.ns, {EncodeStateBase64()});
    }
    UpdateSynced(true);
  }
  if (absl::Status s = ApplyUpdatesWithOrigin(updates.updates, false);
      !s.ok()) {
    EmitError(ErrorOf(s));
  }
}

void RemoteYjsPartition::OnDocUpdate(std::span<const uint8_t> update,
                                     const crdt::Transaction& tr) {
  if (config_.read_only) return;
  const std::string* origin = std::any_cast<std::string>(&tr.origin());
  const bool apply_origin =
      origin != nullptr && *origin == partitions::kApplyUpdatesToInstOrigin;
  if (!tr.local() && !apply_origin) return;
  std::vector<std::string> updates = {partitions::ToBase64(update)};
  client_.AddUpdates(config_.ns, updates);
  on_updates_.Next(updates);
}

// ---------------------------------------------------------------------------
// Incoming actions, limits and denials (9.8-9.10)

void RemoteYjsPartition::OnReceiveAction(
    const inst::ReceiveActionMessage& message) {
  CallScope scope(this);
  Value action = inst::MessageToValue(inst::Message(message))["action"];
  if (!bots::HasType(action, "device")) {
    EmitEvents({action});
    return;
  }
  const Value& event = action["event"];
  const Value& connection_id = action["connection"]["connectionId"];
  if (bots::HasType(event, "action")) {
    EmitEvents({
        bots::Action("onRemoteData", Value(nullptr), Value(nullptr),
                     bots::MakeObject({{"name", event["eventName"]},
                                       {"that", event["argument"]},
                                       {"remoteId", connection_id}}),
                     Value()),
        bots::Action("onRemoteWhisper", Value(nullptr), Value(nullptr),
                     bots::MakeObject({{"name", event["eventName"]},
                                       {"that", event["argument"]},
                                       {"playerId", connection_id}}),
                     Value()),
    });
  } else if (bots::HasValue(action["taskId"])) {
    Value copy = Value::NewObject();
    if (event.is_object()) {
      event.as_object().ForEach([&](const std::string& key, const Value& v) {
        copy.as_object().Set(key, v);
      });
    }
    copy.as_object().Set("taskId", action["taskId"]);
    copy.as_object().Set("playerId", connection_id);
    EmitEvents({bots::Device(action["connection"], copy, action["taskId"])});
  } else {
    EmitEvents({action});
  }
}

void RemoteYjsPartition::OnMaxSize(const inst::UpdatesReceivedMessage& m) {
  CallScope scope(this);
  on_client_error_.Next(m);
  if (emitted_max_size_) return;
  emitted_max_size_ = true;
  auto number = [](const std::optional<double>& d) {
    return d.has_value() ? Value(*d) : Value();
  };
  EmitEvents({bots::Action(
      "onSpaceMaxSizeReached", Value(nullptr), Value(nullptr),
      bots::MakeObject(
          {{"space", space().has_value() ? Value(*space()) : Value()},
           {"maxSizeInBytes", number(m.max_branch_size_in_bytes)},
           {"neededSizeInBytes", number(m.needed_branch_size_in_bytes)}}),
      Value())});
}

void RemoteYjsPartition::OnRateLimit(const inst::RateLimitExceededMessage&) {
  CallScope scope(this);
  EmitEvents({bots::Action(
      "onSpaceRateLimitExceeded", Value(nullptr), Value(nullptr),
      bots::MakeObject(
          {{"space", space().has_value() ? Value(*space()) : Value()}}),
      Value())});
}

void RemoteYjsPartition::HandleNotAuthorized(const Value& error) {
  EmitStatus(partitions::AuthorizationStatus(false, error));
  auth_source_.SendAuthRequest(partitions::NotAuthorizedRequest(
      client_.connection().origin(), error["errorCode"], error["errorMessage"],
      error["reason"],
      partitions::InstResource(RecordNameValue(config_.ns.record_name),
                               config_.ns.inst, config_.ns.branch)));
}

// ---------------------------------------------------------------------------
// Remote events (9.7)

absl::StatusOr<std::vector<Value>> RemoteYjsPartition::SendRemoteEvents(
    const std::vector<Value>& events) {
  ReleaseStaleHolds();
  CallScope scope(this);
  if (config_.read_only || !IsTruthy(config_.remote_events)) {
    return std::vector<Value>{};
  }
  for (const Value& event : events) {
    absl::StatusOr<bool> supported =
        partitions::SupportsRemoteEvent(config_.remote_events, event);
    if (!supported.ok()) return supported.status();
    if (!*supported) continue;
    if (!bots::HasType(event, "remote")) {
      SendRemote(event);
      continue;
    }
    const Value& inner = event["event"];
    const Value task_id = event["taskId"];
    if (bots::HasType(inner, "get_remotes")) {
      // Answered by the other-players partition.
    } else if (bots::HasType(inner, "get_remote_count")) {
      request_subs_.push_back(client_.ConnectionCount(
          OptionalString(inner["recordName"]), OptionalString(inner["inst"]),
          OptionalString(inner["branch"]), [this, task_id](double count) {
            CallScope scope(this);
            Answer(bots::AsyncResult(task_id, Value(count)));
          }));
    } else if (bots::HasType(inner, "list_inst_updates")) {
      ++pending_list_requests_;
      if (!client_.connection().is_connected()) {
        // Sent by the client at the next "connected" state.
        ++unsent_list_requests_;
        if (!list_state_sub_.active()) {
          list_state_sub_ = client_.connection().OnConnectionState(
              [this](const ClientConnectionState& state) {
                if (state.connected) unsent_list_requests_ = 0;
              });
        }
      }
      request_subs_.push_back(client_.GetUpdates(
          config_.ns, [this, task_id](const inst::AddUpdatesMessage& m) {
            CallScope scope(this);
            --pending_list_requests_;
            if (held_for_list_ > 0) {
              // Released when this answer's scope ends.
              --held_for_list_;
              ReleaseDeferred();
            }
            std::vector<Value> list;
            for (size_t i = 0; i < m.updates.size(); ++i) {
              Value ts;
              if (m.timestamps.has_value() && i < m.timestamps->size()) {
                ts = Value((*m.timestamps)[i]);
              }
              list.push_back(
                  bots::MakeObject({{"id", Value(static_cast<double>(i))},
                                    {"update", Value(m.updates[i])},
                                    {"timestamp", ts}}));
            }
            Answer(
                bots::AsyncResult(task_id, bots::MakeArray(std::move(list))));
          }));
    } else if (!HandleLocalRemote(task_id, inner)) {
      SendRemote(event);
    }
  }
  return std::vector<Value>{};
}

void RemoteYjsPartition::SendRemote(const Value& event) {
  Value message =
      bots::MakeObject({{"type", "repo/send_action"},
                        {"recordName", RecordNameValue(config_.ns.record_name)},
                        {"inst", config_.ns.inst},
                        {"branch", config_.ns.branch},
                        {"action", event}});
  // Through JSON, as the message would travel (undefined keys vanish).
  absl::StatusOr<Value> json = bots::ParseJson(bots::ToJson(message));
  absl::StatusOr<inst::Message> decoded =
      json.ok() ? inst::DecodeMessage(*json, inst::Direction::kClientToServer)
                : absl::StatusOr<inst::Message>(json.status());
  if (!decoded.ok()) {
    EmitError(ErrorOf(decoded.status()));
    return;
  }
  absl::Status s = client_.SendAction(
      config_.ns, std::get<inst::SendActionMessage>(*decoded).action);
  if (!s.ok()) EmitError(ErrorOf(s));
}

rx::Subscription RemoteYjsPartition::OnUpdates(
    std::function<void(const std::vector<std::string>&)> callback) {
  callback({EncodeStateBase64()});
  return on_updates_.Subscribe(std::move(callback));
}

rx::Subscription RemoteYjsPartition::OnClientError(
    std::function<void(const inst::UpdatesReceivedMessage&)> callback) {
  return on_client_error_.Subscribe(std::move(callback));
}

absl::StatusOr<std::unique_ptr<RemoteYjsPartition>> CreateRemoteYjsPartition(
    const Value& config, InstRecordsClient& client,
    partitions::PartitionAuthSource& auth_source,
    partitions::YjsPersistenceFactory persistence) {
  if (!bots::HasType(config, "remote_yjs") &&
      !bots::HasType(config, "yjs_client")) {
    return std::unique_ptr<RemoteYjsPartition>();
  }
  absl::StatusOr<RemoteYjsPartitionConfig> parsed =
      RemoteYjsPartitionConfig::FromValue(config);
  if (!parsed.ok()) return parsed.status();
  parsed->persistence_factory = std::move(persistence);
  return std::make_unique<RemoteYjsPartition>(client, auth_source,
                                              *std::move(parsed));
}

partitions::PartitionFactory CreateRemoteYjsPartitionFactory(
    InstClientForHost client_for_host,
    partitions::YjsPersistenceFactory persistence,
    std::optional<uint64_t> client_id,
    std::optional<uint64_t> remote_client_id) {
  return [client_for_host = std::move(client_for_host),
          persistence = std::move(persistence), client_id, remote_client_id](
             const Value& config, partitions::PartitionServices& services)
             -> absl::StatusOr<std::unique_ptr<partitions::Partition>> {
    if (!bots::HasType(config, "remote_yjs") &&
        !bots::HasType(config, "yjs_client")) {
      return std::unique_ptr<partitions::Partition>();
    }
    absl::StatusOr<RemoteYjsPartitionConfig> parsed =
        RemoteYjsPartitionConfig::FromValue(config);
    if (!parsed.ok()) return parsed.status();
    InstRecordsClient* client =
        client_for_host ? client_for_host(parsed->host) : nullptr;
    if (client == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("no inst client for host \"", parsed->host, "\""));
    }
    if (services.auth_source == nullptr) {
      return absl::FailedPreconditionError(
          "a remote partition needs services.auth_source");
    }
    if (persistence) {
      parsed->persistence_factory = persistence;
    } else if (!services.local_persistence_dir.empty()) {
      parsed->persistence_factory = partitions::MakeYjsSqlitePersistenceFactory(
          services.local_persistence_dir, services.local_persistence_options);
    }
    parsed->client_id = client_id;
    parsed->remote_client_id = remote_client_id;
    return std::unique_ptr<partitions::Partition>(
        std::make_unique<RemoteYjsPartition>(*client, *services.auth_source,
                                             *std::move(parsed)));
  };
}

}  // namespace auxsync::client
