#include "auxsync/client/other_players_partition.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/js_string.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/bots/state_updated_event.h"
#include "auxsync/client/remote_yjs_partition.h"
#include "auxsync/inst/connection_token.h"
#include "auxsync/partitions/status_update.h"

namespace auxsync::client {

namespace {

using bots::Value;

// JavaScript's default sort order: by UTF-16 code units.
bool Utf16Less(const std::string& a, const std::string& b) {
  return bots::ToUtf16(a) < bots::ToUtf16(b);
}

absl::StatusOr<std::optional<std::string>> OptionalString(
    const Value& config, std::string_view key) {
  const Value& v = config[key];
  if (v.is_nullish()) return std::nullopt;
  if (!v.is_string()) {
    return absl::InvalidArgumentError(std::string(key) + ": must be a string");
  }
  return std::optional<std::string>(v.as_string());
}

}  // namespace

absl::StatusOr<OtherPlayersPartitionConfig>
OtherPlayersPartitionConfig::FromValue(const Value& config) {
  if (!config.is_object()) {
    return absl::InvalidArgumentError("partition config must be an object");
  }
  OtherPlayersPartitionConfig out;
  absl::StatusOr<std::optional<std::string>> record =
      OptionalString(config, "recordName");
  if (!record.ok()) return record.status();
  // A record name is never "" on the wire: "" means a public inst.
  if (*record && !(*record)->empty()) out.record_name = **record;
  for (std::string_view key : {"inst", "branch"}) {
    absl::StatusOr<std::optional<std::string>> s = OptionalString(config, key);
    if (!s.ok()) return s.status();
    if (!s->has_value()) {
      return absl::InvalidArgumentError(std::string(key) + ": required");
    }
    (key == "inst" ? out.inst : out.branch) = **s;
  }
  absl::StatusOr<std::optional<std::string>> child =
      OptionalString(config, "childPartitionType");
  if (!child.ok()) return child.status();
  if (child->has_value()) out.child_partition_type = **child;
  out.skip_initial_load = bots::IsTruthy(config["skipInitialLoad"]);
  return out;
}

// Counts nested entries (public calls and callbacks from the client or a
// child); the outermost one runs the tasks queued meanwhile when it ends.
class OtherPlayersPartition::CallScope {
 public:
  explicit CallScope(OtherPlayersPartition* p) : p_(p) { ++p_->call_depth_; }
  ~CallScope() {
    if (--p_->call_depth_ == 0) p_->FlushDeferred();
  }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  OtherPlayersPartition* p_;
};

// One player's branch: upstream's entries of _partitionPromises,
// _partitions and _partitionSubs together. Shared with the queued load and
// unload tasks, which may outlive its place in children_.
struct OtherPlayersPartition::Child {
  std::string branch;
  std::unique_ptr<partitions::Partition> partition;
  std::vector<rx::Subscription> subs;
  bool loaded = false;        // the load task has run
  bool unsubscribed = false;  // subs and partition were stopped
  // Unloads waiting for the load (upstream: awaiting its promise).
  std::vector<std::function<void()>> waiters;
};

OtherPlayersPartition::OtherPlayersPartition(
    InstRecordsClient& client, partitions::PartitionAuthSource& auth_source,
    OtherPlayersPartitionConfig config, OtherPlayersPartitionOptions options)
    : client_(client),
      auth_source_(auth_source),
      config_(std::move(config)),
      options_(std::move(options)),
      skip_initial_load_(config_.skip_initial_load),
      on_version_(bots::CurrentVersion{}) {}

void OtherPlayersPartition::set_space(std::optional<std::string> space) {
  Partition::set_space(space);
  for (auto& [branch, child] : children_) {
    if (child->partition != nullptr) child->partition->set_space(space);
  }
}

OtherPlayersPartition::~OtherPlayersPartition() {
  *alive_ = false;
  // Stop every callback into this object before its members go.
  watch_subs_.clear();
  for (auto& [branch, child] : children_) {
    child->subs.clear();
    child->partition.reset();
  }
  children_.clear();
  loaded_.clear();
  deferred_.clear();
}

void OtherPlayersPartition::Defer(std::function<void()> task) {
  if (options_.defer) {
    std::weak_ptr<bool> alive = alive_;
    options_.defer([this, alive, task = std::move(task)]() {
      std::shared_ptr<bool> a = alive.lock();
      if (a == nullptr || !*a) return;
      CallScope scope(this);
      task();
    });
    return;
  }
  deferred_.push_back(std::move(task));
}

void OtherPlayersPartition::FlushDeferred() {
  // Hold a level so tasks that enter the partition do not flush
  // recursively; tasks they queue run in this loop, in order.
  ++call_depth_;
  for (size_t i = 0; i < deferred_.size(); ++i) {
    std::function<void()> task = std::move(deferred_[i]);
    task();
  }
  deferred_.clear();
  --call_depth_;
}

absl::StatusOr<std::vector<Value>> OtherPlayersPartition::ApplyEvents(
    const std::vector<Value>&) {
  return std::vector<Value>{};
}

absl::StatusOr<std::vector<Value>> OtherPlayersPartition::SendRemoteEvents(
    const std::vector<Value>& events) {
  CallScope scope(this);
  for (const Value& event : events) {
    if (!event.is_object() || !event["type"].is_string() ||
        event["type"].as_string() != "remote") {
      continue;
    }
    const Value& inner = event["event"];
    if (!inner.is_object() || !inner["type"].is_string() ||
        inner["type"].as_string() != "get_remotes") {
      continue;
    }
    const std::optional<inst::ConnectionInfo>& info =
        client_.connection().info();
    if (!info.has_value()) {
      return absl::FailedPreconditionError(
          "TypeError: Cannot read properties of null (reading "
          "'connectionId')");
    }
    std::vector<std::string> ids;
    ids.push_back(info->connection_id);
    for (const Device& d : devices_) ids.push_back(d.info.connection_id);
    std::stable_sort(ids.begin(), ids.end(), Utf16Less);
    Value list = Value::NewArray();
    for (std::string& id : ids) list.as_array().items.push_back(Value(id));
    on_events_.Next({bots::AsyncResult(event["taskId"], list)});
  }
  return std::vector<Value>{};
}

void OtherPlayersPartition::Connect() {
  CallScope scope(this);
  if (skip_initial_load_) {
    LoadWithoutConnecting();
  } else {
    WatchDevices();
  }
}

void OtherPlayersPartition::EnableCollaboration(
    std::function<void()> on_synced) {
  CallScope scope(this);
  skip_initial_load_ = false;
  synced_ = false;
  if (on_synced) on_synced_.push_back(std::move(on_synced));
  WatchDevices();
}

void OtherPlayersPartition::LoadWithoutConnecting() {
  const ConnectionClient& conn = client_.connection();
  on_status_.Next(partitions::ConnectionStatus(true));
  Value info;
  if (conn.info().has_value()) {
    info = conn.info_value();
  } else {
    Value indicator = conn.indicator();
    Value id = bots::IsTruthy(indicator) ? ConnectionIdOf(indicator)
                                         : Value("missing-connection-id");
    info = bots::MakeObject(
        {{"connectionId", id}, {"sessionId", nullptr}, {"userId", nullptr}});
  }
  on_status_.Next(partitions::AuthenticationStatus(true, info));
  on_status_.Next(partitions::AuthorizationStatus(true));
  UpdateSynced(true);
}

void OtherPlayersPartition::WatchDevices() {
  // One connection state change is one call into the partition: the work
  // its own handler queues (unloads) runs only after the client's device
  // watch, subscribed after it, has reported its synthesised disconnects
  // too, as upstream's microtasks run after both. The span opens in the
  // first handler and closes in the closing subscription of the latest
  // WatchDevices() (several calls add several handler triples).
  int index = ++span_latest_;
  // The partition's own state subscription comes first, so on a socket
  // loss it forgets its players before the client's synthesised
  // disconnects arrive (as upstream's subscription order has it).
  watch_subs_.push_back(client_.connection().OnConnectionState(
      [this](const ClientConnectionState& state) {
        if (!span_open_) {
          span_open_ = true;
          ++call_depth_;
        }
        CallScope scope(this);
        OnConnectionState(state);
      }));
  inst::BranchNamespace ns{.record_name = config_.record_name,
                           .inst = config_.inst,
                           .branch = config_.branch};
  watch_subs_.push_back(
      client_.WatchBranchDevices(ns, [this](const DeviceEvent& event) {
        CallScope scope(this);
        OnDeviceEvent(event);
      }));
  watch_subs_.push_back(client_.connection().OnConnectionState(
      [this, index](const ClientConnectionState&) {
        if (index == span_latest_) CloseSpan();
      }));
}

void OtherPlayersPartition::CloseSpan() {
  if (!span_open_) return;
  span_open_ = false;
  if (--call_depth_ == 0) FlushDeferred();
}

void OtherPlayersPartition::OnConnectionState(
    const ClientConnectionState& state) {
  on_status_.Next(partitions::ConnectionStatus(state.connected));
  if (state.connected) {
    current_connection_id_.reset();
    if (state.info.has_value()) {
      current_connection_id_ = state.info->connection_id;
    }
    on_status_.Next(partitions::AuthenticationStatus(
        true, state.info ? client_.connection().info_value() : Value(nullptr)));
    on_status_.Next(partitions::AuthorizationStatus(true));
  } else {
    CleanupAllDevices();
    current_connection_id_.reset();
    UpdateSynced(false);
  }
}

void OtherPlayersPartition::OnDeviceEvent(const DeviceEvent& event) {
  if (!synced_) UpdateSynced(true);
  const std::optional<inst::ConnectionInfo>& own = client_.connection().info();
  if (own.has_value() && event.connection.connection_id == own->connection_id) {
    return;
  }
  if (event.connected) {
    RegisterDevice(event.connection);
    TryLoadBranch(event.connection);
  } else {
    UnregisterDevice(event.connection);
    TryUnloadBranch(event.connection);
  }
}

void OtherPlayersPartition::UpdateSynced(bool synced) {
  synced_ = synced;
  on_status_.Next(partitions::SyncStatus(synced));
  if (synced && !on_synced_.empty()) {
    std::vector<std::function<void()>> waiting = std::move(on_synced_);
    on_synced_.clear();
    for (std::function<void()>& f : waiting) Defer(std::move(f));
  }
}

OtherPlayersPartition::Device* OtherPlayersPartition::FindDevice(
    const std::string& id) {
  for (Device& d : devices_) {
    if (d.info.connection_id == id) return &d;
  }
  return nullptr;
}

std::vector<std::string> OtherPlayersPartition::DeviceIds() const {
  std::vector<std::string> ids;
  for (const Device& d : devices_) ids.push_back(d.info.connection_id);
  return ids;
}

void OtherPlayersPartition::RegisterDevice(const inst::ConnectionInfo& device) {
  if (current_connection_id_ == device.connection_id) return;
  if (Device* known = FindDevice(device.connection_id)) {
    known->count += 1;
    return;
  }
  devices_.push_back(Device{.info = device, .count = 1});
  on_events_.Next(
      {bots::Action("onRemoteJoined",
                    bots::MakeObject({{"remoteId", device.connection_id}})),
       bots::Action("onRemotePlayerSubscribed",
                    bots::MakeObject({{"playerId", device.connection_id}}))});
}

void OtherPlayersPartition::UnregisterDevice(
    const inst::ConnectionInfo& device) {
  Device* known = FindDevice(device.connection_id);
  if (known == nullptr) return;
  known->count -= 1;
  if (known->count > 0) return;
  devices_.erase(devices_.begin() + (known - devices_.data()));
  on_events_.Next(
      {bots::Action("onRemoteLeave",
                    bots::MakeObject({{"remoteId", device.connection_id}})),
       bots::Action("onRemotePlayerUnsubscribed",
                    bots::MakeObject({{"playerId", device.connection_id}}))});
}

void OtherPlayersPartition::CleanupAllDevices() {
  std::vector<Device> devices = devices_;
  for (const Device& d : devices) {
    UnregisterDevice(d.info);
    TryUnloadBranch(d.info);
  }
  devices_.clear();
}

void OtherPlayersPartition::TryLoadBranch(const inst::ConnectionInfo& device) {
  std::string branch =
      bots::PlayerBranchName(config_.branch, device.connection_id);
  if (children_.contains(branch)) return;
  auto child = std::make_shared<Child>();
  child->branch = branch;
  children_[branch] = child;
  Defer([this, child]() { FinishLoad(child); });
}

absl::StatusOr<std::unique_ptr<partitions::Partition>>
OtherPlayersPartition::MakeChild(const inst::BranchNamespace& ns) {
  if (options_.child_factory) return options_.child_factory(ns);
  // Upstream builds a "yjs_client" whatever childPartitionType says.
  RemoteYjsPartitionConfig config;
  config.ns = ns;
  config.temporary = true;
  config.read_only = true;
  return std::unique_ptr<partitions::Partition>(
      std::make_unique<RemoteYjsPartition>(client_, auth_source_,
                                           std::move(config)));
}

void OtherPlayersPartition::FinishLoad(const std::shared_ptr<Child>& child) {
  inst::BranchNamespace ns{.record_name = config_.record_name,
                           .inst = config_.inst,
                           .branch = child->branch};
  absl::StatusOr<std::unique_ptr<partitions::Partition>> made = MakeChild(ns);
  if (made.ok()) {
    child->partition = std::move(*made);
    partitions::Partition& p = *child->partition;
    child->subs.push_back(p.OnBotsAdded([this](const std::vector<Value>& b) {
      CallScope scope(this);
      on_bots_added_.Next(b);
    }));
    child->subs.push_back(
        p.OnBotsRemoved([this](const std::vector<std::string>& ids) {
          CallScope scope(this);
          on_bots_removed_.Next(ids);
        }));
    child->subs.push_back(
        p.OnBotsUpdated([this](const std::vector<bots::UpdatedBot>& u) {
          CallScope scope(this);
          on_bots_updated_.Next(u);
        }));
    child->subs.push_back(p.OnError([this](const Value& error) {
      CallScope scope(this);
      on_error_.Next(error);
    }));
    auto replayed = std::make_shared<bool>(false);
    child->subs.push_back(p.OnStateUpdated(
        [this, replayed](const bots::StateUpdatedEvent& event) {
          // The child's replay is skipped (upstream's skip(1)).
          if (!*replayed) {
            *replayed = true;
            return;
          }
          CallScope scope(this);
          OnChildState(event);
        }));
    loaded_.push_back(child);
    p.set_space(space());
    p.Connect();
  } else {
    on_error_.Next(Value(std::string(made.status().message())));
  }
  child->loaded = true;
  std::vector<std::function<void()>> waiters = std::move(child->waiters);
  child->waiters.clear();
  for (std::function<void()>& w : waiters) Defer(std::move(w));
}

void OtherPlayersPartition::OnChildState(const bots::StateUpdatedEvent& event) {
  state_ = bots::ApplyUpdates(state_, event);
  bots::StateUpdatedEvent out = event;
  out.version = nullptr;
  on_state_updated_.Next(out);
}

void OtherPlayersPartition::TryUnloadBranch(
    const inst::ConnectionInfo& device) {
  std::string branch =
      bots::PlayerBranchName(config_.branch, device.connection_id);
  auto it = children_.find(branch);
  if (it == children_.end()) return;
  std::shared_ptr<Child> child = it->second;
  auto unload = [this, child]() { FinishUnload(child); };
  if (child->loaded) {
    Defer(std::move(unload));
  } else {
    child->waiters.push_back(std::move(unload));
  }
}

std::string OtherPlayersPartition::MaskSpaceKey() const {
  // Upstream indexes masks with `this.space`; undefined -> "undefined".
  return space().value_or("undefined");
}

void OtherPlayersPartition::FinishUnload(const std::shared_ptr<Child>& child) {
  auto it = children_.find(child->branch);
  if (it != children_.end() && it->second == child) children_.erase(it);
  std::erase(loaded_, child);
  if (!child->unsubscribed) {
    child->unsubscribed = true;
    if (child->partition) child->partition->Unsubscribe();
    child->subs.clear();
  }
  if (child->partition == nullptr) return;

  std::vector<std::string> ids = child->partition->state().as_object().Keys();
  Value update = Value::NewObject();
  std::vector<std::string> deleted;
  const std::string space_key = MaskSpaceKey();
  for (const std::string& id : ids) {
    const Value* entry = state_.as_object().Find(id);
    if (entry == nullptr || entry->is_nullish()) {
      // Upstream reads `bot.id` of undefined here: a TypeError that ends the
      // unload silently; the entries already deleted stay deleted.
      return;
    }
    Value bot = *entry;
    if (bots::IsTruthy(bot["id"])) {
      deleted.push_back(id);
      update.as_object().Set(id, Value(nullptr));
    } else if (bots::IsTruthy(bot["masks"])) {
      const Value& tags = bot["masks"][space_key];
      if (tags.is_object()) {
        for (const std::string& tag : tags.as_object().Keys()) {
          if (!update.as_object().Has(id)) {
            update.as_object().Set(id, Value::NewObject());
          }
          Value updated = update[id];
          if (!updated.as_object().Has("masks")) {
            updated.as_object().Set("masks", Value::NewObject());
          }
          Value masks = updated["masks"];
          if (!masks.as_object().Has(space_key)) {
            masks.as_object().Set(space_key, Value::NewObject());
          }
          masks[space_key].as_object().Set(tag, Value(nullptr));
        }
      }
    }
    state_.as_object().Erase(id);
  }
  on_bots_removed_.Next(deleted);
  bots::StateUpdatedEvent event = bots::MakeStateUpdatedEvent(update, nullptr);
  if (!event.added_bots.empty() || !event.removed_bots.empty() ||
      !event.updated_bots.empty()) {
    on_state_updated_.Next(event);
  }
}

void OtherPlayersPartition::Unsubscribe() {
  CallScope scope(this);
  CleanupAllDevices();
  watch_subs_.clear();
  // A span left open by an unsubscription from inside a state callback
  // would hold the queued work forever; this call's scope flushes it.
  CloseSpan();
  for (const std::shared_ptr<Child>& child : loaded_) {
    if (child->unsubscribed) continue;
    child->unsubscribed = true;
    if (child->partition) child->partition->Unsubscribe();
    child->subs.clear();
  }
  closed_ = true;
}

rx::Subscription OtherPlayersPartition::OnBotsAdded(
    partitions::BotsCallback callback) {
  callback(bots::GetActiveObjects(state_));
  return on_bots_added_.Subscribe(std::move(callback));
}

rx::Subscription OtherPlayersPartition::OnBotsRemoved(
    partitions::IdsCallback callback) {
  return on_bots_removed_.Subscribe(std::move(callback));
}

rx::Subscription OtherPlayersPartition::OnBotsUpdated(
    partitions::UpdatedBotsCallback callback) {
  return on_bots_updated_.Subscribe(std::move(callback));
}

rx::Subscription OtherPlayersPartition::OnStateUpdated(
    partitions::StateCallback callback) {
  callback(bots::MakeStateUpdatedEvent(state_, on_version_.value().ToValue()));
  return on_state_updated_.Subscribe(std::move(callback));
}

rx::Subscription OtherPlayersPartition::OnVersionUpdated(
    partitions::VersionCallback callback) {
  return on_version_.Subscribe(std::move(callback));
}

rx::Subscription OtherPlayersPartition::OnError(
    partitions::ValueCallback callback) {
  return on_error_.Subscribe(std::move(callback));
}

rx::Subscription OtherPlayersPartition::OnEvents(
    partitions::ActionsCallback callback) {
  return on_events_.Subscribe(std::move(callback));
}

rx::Subscription OtherPlayersPartition::OnStatusUpdated(
    partitions::ValueCallback callback) {
  return on_status_.Subscribe(std::move(callback));
}

absl::StatusOr<std::unique_ptr<OtherPlayersPartition>>
CreateOtherPlayersPartition(const Value& config, InstRecordsClient& client,
                            partitions::PartitionAuthSource& auth_source,
                            OtherPlayersPartitionOptions options) {
  if (!config.is_object() || !config["type"].is_string()) return nullptr;
  const std::string& type = config["type"].as_string();
  if (type != "other_players_client" && type != "other_players_repo") {
    return nullptr;
  }
  absl::StatusOr<OtherPlayersPartitionConfig> parsed =
      OtherPlayersPartitionConfig::FromValue(config);
  if (!parsed.ok()) return parsed.status();
  return std::make_unique<OtherPlayersPartition>(
      client, auth_source, *std::move(parsed), std::move(options));
}

partitions::PartitionFactory OtherPlayersPartitionFactory(
    InstRecordsClient& client, OtherPlayersPartitionOptions options) {
  return [&client, options](const Value& config,
                            partitions::PartitionServices& services)
             -> absl::StatusOr<std::unique_ptr<partitions::Partition>> {
    if (!config.is_object() || !config["type"].is_string()) return nullptr;
    const std::string& type = config["type"].as_string();
    if (type != "other_players_client" && type != "other_players_repo") {
      return nullptr;
    }
    if (services.auth_source == nullptr) {
      return absl::FailedPreconditionError(
          "other players partitions need an auth source");
    }
    absl::StatusOr<std::unique_ptr<OtherPlayersPartition>> made =
        CreateOtherPlayersPartition(config, client, *services.auth_source,
                                    options);
    if (!made.ok()) return made.status();
    return std::unique_ptr<partitions::Partition>(*std::move(made));
  };
}

}  // namespace auxsync::client
