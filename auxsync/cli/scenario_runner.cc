#include "auxsync/cli/scenario_runner.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/runtime_values.h"
#include "auxsync/bots/state_updated_event.h"
#include "auxsync/client/inst_records_client.h"
#include "auxsync/client/other_players_partition.h"
#include "auxsync/client/remote_yjs_partition.h"
#include "auxsync/client/websocket_connection_client.h"
#include "auxsync/partitions/partition.h"
#include "auxsync/partitions/partition_auth_source.h"
#include "auxsync/partitions/partition_factories.h"
#include "auxsync/partitions/yjs_partition.h"
#include "auxsync/partitions/yjs_partition_core.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"

namespace auxsync::cli {
namespace {

using bots::Value;

// The longest wait a scenario may ask for.
constexpr double kMaxWaitMs = 10 * 60 * 1000;
// How long a waitFor step waits unless it says otherwise.
constexpr double kDefaultWaitForMs = 10000;

absl::Status Invalid(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status ValidateActions(const Value& actions, const std::string& path,
                             bool remote) {
  if (!actions.is_array()) return Invalid(path, "must be an array of actions");
  const auto& items = actions.as_array().items;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string item_path = absl::StrCat(path, "[", i, "]");
    if (remote) {
      if (!items[i].is_object() || !items[i]["type"].is_string()) {
        return Invalid(item_path, "must be an action object with a type");
      }
      continue;
    }
    const Value& type = items[i]["type"];
    if (type.is_string() && type.as_string() != "add_bot" &&
        type.as_string() != "remove_bot" && type.as_string() != "update_bot" &&
        type.as_string() != "apply_state") {
      return Invalid(
          absl::StrCat(item_path, ".type"),
          absl::StrCat("unknown bot action \"", type.as_string(), "\""));
    }
    if (absl::Status s = bots::ValidateBotAction(items[i], item_path);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Partition types that hold a Yjs document and so take binary updates.
bool TakesUpdates(const Value& partition_config) {
  const std::string& type = partition_config["type"].as_string();
  return type == "yjs" || type == "remote_yjs" || type == "yjs_client";
}

// Partition types that talk to an inst server (given by the config's host).
bool IsRemote(const Value& partition_config) {
  const std::string& type = partition_config["type"].as_string();
  return type == "remote_yjs" || type == "yjs_client" ||
         type == "other_players_repo" || type == "other_players_client";
}

// The statuses a waitFor step can wait for.
bool IsWaitForTarget(const Value& v) {
  if (!v.is_string()) return false;
  const std::string& s = v.as_string();
  return s == "synced" || s == "connected" || s == "disconnected";
}

// The step's kind: its one key other than a waitFor step's timeoutMs.
std::string StepKind(const Value& step) {
  for (const std::string& key : step.as_object().Keys()) {
    if (key != "timeoutMs") return key;
  }
  return "timeoutMs";
}

absl::Status ValidateStep(const Value& step, const std::string& path,
                          const Value& partition_config) {
  const bool waits_for = step.is_object() && step.as_object().size() == 2 &&
                         step.as_object().Find("waitFor") != nullptr &&
                         step.as_object().Find("timeoutMs") != nullptr;
  if (!step.is_object() || (step.as_object().size() != 1 && !waits_for)) {
    return Invalid(path,
                   "must be an object with exactly one of applyEvents, "
                   "sendRemoteEvents, applyUpdates, wait, waitFor, "
                   "forcedOffline");
  }
  const std::string kind = StepKind(step);
  const Value& body = step[kind];
  std::string body_path = absl::StrCat(path, ".", kind);
  if (kind == "waitFor" || kind == "forcedOffline") {
    if (!IsRemote(partition_config)) {
      return Invalid(body_path,
                     absl::StrCat("a ", partition_config["type"].as_string(),
                                  " partition has no server connection"));
    }
    if (kind == "forcedOffline") {
      if (!body.is_bool()) return Invalid(body_path, "must be true or false");
      return absl::OkStatus();
    }
    if (!IsWaitForTarget(body)) {
      return Invalid(body_path,
                     "must be \"synced\", \"connected\" or \"disconnected\"");
    }
    const Value& timeout = step["timeoutMs"];
    if (!timeout.is_undefined() &&
        (!timeout.is_number() || !(timeout.as_number() >= 0) ||
         timeout.as_number() > kMaxWaitMs)) {
      return Invalid(absl::StrCat(path, ".timeoutMs"),
                     "must be a number of milliseconds from 0 to 600000");
    }
    return absl::OkStatus();
  }
  if (kind == "applyEvents") return ValidateActions(body, body_path, false);
  if (kind == "sendRemoteEvents") return ValidateActions(body, body_path, true);
  if (kind == "applyUpdates") {
    if (!TakesUpdates(partition_config)) {
      return Invalid(body_path,
                     absl::StrCat("a ", partition_config["type"].as_string(),
                                  " partition takes no Yjs updates"));
    }
    if (!body.is_array()) return Invalid(body_path, "must be an array");
    const auto& items = body.as_array().items;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) {
        return Invalid(absl::StrCat(body_path, "[", i, "]"),
                       "must be a base64 string");
      }
    }
    return absl::OkStatus();
  }
  if (kind == "wait") {
    const Value& ms = body["ms"];
    if (!body.is_object() || !ms.is_number() || !(ms.as_number() >= 0) ||
        ms.as_number() > kMaxWaitMs) {
      return Invalid(absl::StrCat(body_path, ".ms"),
                     "must be a number of milliseconds from 0 to 600000");
    }
    return absl::OkStatus();
  }
  return Invalid(path, absl::StrCat("unknown step \"", kind, "\""));
}

// Records emissions as JSON text at the moment they fire.
class Recorder {
 public:
  explicit Recorder(bool tagged) : options_{tagged} {}

  void Record(const std::string& type, const Value& payload) {
    std::string entry = absl::StrCat(R"({"type":")", type, R"(","value":)");
    bots::AppendJson(entry, payload, options_);
    entry += '}';
    pending_.push_back(std::move(entry));
  }

  // The emissions since the last call, as a JSON array.
  std::string Take() {
    std::string out = "[";
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (i > 0) out += ',';
      out += pending_[i];
    }
    out += ']';
    pending_.clear();
    return out;
  }

  const bots::JsonWriteOptions& options() const { return options_; }

 private:
  bots::JsonWriteOptions options_;
  std::vector<std::string> pending_;
};

// "<name>: <message>" of an Error value, its JSON otherwise.
std::string ErrorText(const Value& error) {
  const auto* e = error.is_host()
                      ? dynamic_cast<const bots::ErrorObject*>(&error.as_host())
                      : nullptr;
  if (e == nullptr) return bots::ToJson(error);
  return absl::StrCat(e->name(), ": ", e->message());
}

// Subscribes `recorder` to every observable (docs/scenarios.md, Run step 2);
// `on_error` (may be empty) also gets the text of each onError emission.
std::vector<rx::Subscription> SubscribeAll(
    partitions::Partition& partition, Recorder& recorder,
    const std::function<void(const std::string&)>& on_error) {
  std::vector<rx::Subscription> subs;
  subs.push_back(partition.OnBotsAdded([&](const std::vector<Value>& bots) {
    recorder.Record("onBotsAdded", bots::MakeArray(bots));
  }));
  subs.push_back(
      partition.OnBotsRemoved([&](const std::vector<std::string>& ids) {
        std::vector<Value> items(ids.begin(), ids.end());
        recorder.Record("onBotsRemoved", bots::MakeArray(std::move(items)));
      }));
  subs.push_back(partition.OnBotsUpdated(
      [&](const std::vector<bots::UpdatedBot>& updated) {
        std::vector<Value> items;
        for (const auto& u : updated) items.push_back(u.ToValue());
        recorder.Record("onBotsUpdated", bots::MakeArray(std::move(items)));
      }));
  subs.push_back(
      partition.OnStateUpdated([&](const bots::StateUpdatedEvent& event) {
        recorder.Record("onStateUpdated", event.ToValue());
      }));
  subs.push_back(
      partition.OnVersionUpdated([&](const bots::CurrentVersion& version) {
        recorder.Record("onVersionUpdated", version.ToValue());
      }));
  subs.push_back(partition.OnError([&](const Value& error) {
    recorder.Record("onError", error);
    if (on_error) on_error(ErrorText(error));
  }));
  subs.push_back(partition.OnEvents([&](const std::vector<Value>& events) {
    recorder.Record("onEvents", bots::MakeArray(events));
  }));
  subs.push_back(partition.OnStatusUpdated([&](const Value& status) {
    recorder.Record("onStatusUpdated", status);
  }));
  return subs;
}

// The server side of a scenario with a remote partition: one websocket
// connection and InstRecordsClient per host (as upstream keeps one client
// per host), all on one event loop that the runner turns during waitFor and
// wait steps. Declared before the partition so that it outlives it.
class RemoteSession {
 public:
  // `indicator` (undefined = none) is given to the auth source for each
  // host's origin before anything connects, as CasualOS's auth coordinator
  // would answer need_indicator; without one the login asks for it.
  RemoteSession(partitions::PartitionAuthSource& auth, Value indicator,
                int reconnect_delay_ms)
      : auth_(auth),
        indicator_(std::move(indicator)),
        reconnect_delay_ms_(reconnect_delay_ms) {}
  ~RemoteSession() {
    // Records clients first: they hold subscriptions on their connection.
    for (auto& [host, entry] : hosts_) entry.records.reset();
  }

  // The client of `host`, created on first use; null after recording the
  // error (see error()) for a host that is not an http(s)/ws(s) origin.
  client::InstRecordsClient* ForHost(const std::string& host) {
    auto it = hosts_.find(host);
    if (it != hosts_.end()) return it->second.records.get();
    client::WebsocketConnectionOptions options;
    options.reconnect_delay = std::chrono::milliseconds(reconnect_delay_ms_);
    absl::StatusOr<std::unique_ptr<client::WebsocketConnectionClient>>
        connection = client::WebsocketConnectionClient::Create(io_, host, auth_,
                                                               options);
    if (!connection.ok()) {
      error_ = absl::InvalidArgumentError(
          absl::StrCat("host \"", host, "\": ", connection.status().message()));
      return nullptr;
    }
    if (!indicator_.is_undefined()) {
      auth_.SendAuthResponse(
          partitions::AuthResponseSuccess((*connection)->origin(), indicator_));
    }
    Entry& entry = hosts_[host];
    entry.connection = *std::move(connection);
    // CasualOS's partition factories turn the timed resend on (8.4).
    client::InstRecordsClientOptions records_options;
    records_options.resend_updates = true;
    records_options.io = &io_;
    entry.records = std::make_unique<client::InstRecordsClient>(
        *entry.connection, std::move(records_options));
    return entry.records.get();
  }

  const absl::Status& error() const { return error_; }

  // Opens every socket (after the partition has connected, as upstream).
  void Connect() {
    for (auto& [host, entry] : hosts_) entry.connection->Connect();
  }

  void SetForcedOffline(bool offline) {
    for (auto& [host, entry] : hosts_) {
      entry.records->set_forced_offline(offline);
    }
  }

  // Turns the loop until `done` holds or `ms` passed; returns done().
  bool RunUntil(const std::function<bool()>& done, double ms) {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::microseconds(static_cast<int64_t>(ms * 1000));
    while (!done()) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      io_.restart();
      io_.run_one_for(std::min<std::chrono::steady_clock::duration>(
          deadline - now, std::chrono::milliseconds(20)));
    }
    return true;
  }

  // Queues `task` as upstream queues a microtask: it runs before the loop
  // turns again (a drain is posted) or when the runner drains the queue at
  // the end of a step, whichever comes first; never inside the call that
  // queued it.
  void Defer(std::function<void()> task) {
    microtasks_.push_back(std::move(task));
    boost::asio::post(io_, [this] { DrainMicrotasks(); });
  }

  // Runs the queued tasks (and those they queue), without any I/O, so that
  // what the network delivers is recorded only in waitFor and wait steps.
  void DrainMicrotasks() {
    while (!microtasks_.empty()) {
      std::function<void()> task = std::move(microtasks_.front());
      microtasks_.pop_front();
      task();
    }
  }

 private:
  struct Entry {
    std::unique_ptr<client::WebsocketConnectionClient> connection;
    std::unique_ptr<client::InstRecordsClient> records;
  };

  boost::asio::io_context io_{1};
  partitions::PartitionAuthSource& auth_;
  Value indicator_;
  int reconnect_delay_ms_;
  absl::Status error_;
  std::map<std::string, Entry> hosts_;
  std::deque<std::function<void()>> microtasks_;
};

// Creates the scenario's partition through the factory chain. `auth` must
// outlive the partition.
// `client_id` / `remote_client_id` (unset = random) pin the Yjs client ids of
// a yjs partition; `persistence_dir` (empty = none) is where yjs configs
// asking for local persistence keep their files.
absl::StatusOr<std::unique_ptr<partitions::Partition>> CreatePartition(
    const Value& config, partitions::PartitionAuthSource& auth,
    std::optional<uint64_t> client_id, std::optional<uint64_t> remote_client_id,
    const std::string& persistence_dir, RemoteSession* remote) {
  partitions::PartitionServices services;
  services.auth_source = &auth;
  services.local_persistence_dir = persistence_dir;
  std::vector<partitions::PartitionFactory> factories = {
      partitions::CreateMemoryPartitionFactory(),
      partitions::CreateYjsPartitionFactory(nullptr, client_id,
                                            remote_client_id)};
  if (remote != nullptr) {
    client::InstClientForHost for_host = [remote](const std::string& host) {
      return remote->ForHost(host);
    };
    factories.push_back(client::CreateRemoteYjsPartitionFactory(
        for_host, nullptr, client_id, remote_client_id));
    factories.push_back(
        [remote](const Value& config, partitions::PartitionServices& services)
            -> absl::StatusOr<std::unique_ptr<partitions::Partition>> {
          const std::string& type = config["type"].as_string();
          if (type != "other_players_repo" && type != "other_players_client") {
            return std::unique_ptr<partitions::Partition>();
          }
          client::InstRecordsClient* records =
              remote->ForHost(config["host"].as_string());
          if (records == nullptr) return remote->error();
          client::OtherPlayersPartitionOptions options;
          // Upstream resumes after its awaits in a later microtask.
          options.defer = [remote](std::function<void()> task) {
            remote->Defer(std::move(task));
          };
          absl::StatusOr<std::unique_ptr<client::OtherPlayersPartition>> made =
              client::CreateOtherPlayersPartition(
                  config, *records, *services.auth_source, std::move(options));
          if (!made.ok()) return made.status();
          return std::unique_ptr<partitions::Partition>(*std::move(made));
        });
  }
  absl::StatusOr<std::unique_ptr<partitions::Partition>> partition =
      partitions::CreateAuxPartition(config, services, factories);
  if (remote != nullptr && !remote->error().ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("partition: ", remote->error().message()));
  }
  if (!partition.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("partition: ", partition.status().message()));
  }
  if (*partition == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("partition: no partition can be made from type ",
                     bots::ToJson(config["type"])));
  }
  return partition;
}

// The "returned" or "error" member of a step.
std::string Outcome(const absl::StatusOr<std::vector<Value>>& result,
                    const bots::JsonWriteOptions& options) {
  if (result.ok()) {
    return absl::StrCat(R"("returned":)",
                        bots::ToJson(bots::MakeArray(*result), options));
  }
  return absl::StrCat(
      R"("error":)",
      bots::ToJson(Value(std::string(result.status().message())), options));
}

std::vector<Value> Items(const Value& array) { return array.as_array().items; }

// The "returned" member for a call that resolved to undefined: null, or the
// undefined tag under --tagged (as interop/lib/tagged_json.mjs writes it).
std::string UndefinedOutcome(const bots::JsonWriteOptions& options) {
  return options.tagged ? R"("returned":{"$type":"undefined"})"
                        : R"("returned":null)";
}

}  // namespace

absl::Status ValidateScenario(const Value& scenario) {
  if (!scenario.is_object()) return Invalid("scenario", "must be an object");
  const Value& partition = scenario["partition"];
  if (!partition.is_object() || !partition["type"].is_string()) {
    return Invalid("partition", "must be an object with a string type");
  }
  const Value& space = scenario["space"];
  if (!space.is_undefined() && !space.is_string()) {
    return Invalid("space", "must be a string");
  }
  for (const char* key : {"clientId", "remoteClientId"}) {
    const Value& id = scenario[key];
    if (!id.is_undefined() &&
        (!id.is_number() || id.as_number() < 0 ||
         id.as_number() > 4294967295.0 ||
         id.as_number() !=
             static_cast<double>(static_cast<uint64_t>(id.as_number())))) {
      return Invalid(key, "must be an unsigned 32-bit integer");
    }
  }
  if (IsRemote(partition)) {
    if (!partition["host"].is_string()) {
      return Invalid("partition.host",
                     "must be a string (an http(s):// or ws(s):// origin)");
    }
    const Value& id = scenario["connectionId"];
    if (!id.is_undefined() && !id.is_null() && !id.is_string()) {
      return Invalid("connectionId", "must be a string or null");
    }
    const Value& token = scenario["connectionToken"];
    if (!token.is_undefined() && !token.is_string()) {
      return Invalid("connectionToken", "must be a string");
    }
    const Value& delay = scenario["reconnectDelayMs"];
    if (!delay.is_undefined() &&
        (!delay.is_number() || !(delay.as_number() >= 0) ||
         delay.as_number() > kMaxWaitMs)) {
      return Invalid("reconnectDelayMs",
                     "must be a number of milliseconds from 0 to 600000");
    }
  }
  const Value& steps = scenario["steps"];
  if (!steps.is_array()) return Invalid("steps", "must be an array");
  const auto& items = steps.as_array().items;
  for (size_t i = 0; i < items.size(); ++i) {
    absl::Status s =
        ValidateStep(items[i], absl::StrCat("steps[", i, "]"), partition);
    if (!s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RunScenario(const Value& scenario,
                                        const ScenarioOptions& options) {
  if (!options.persistence_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.persistence_dir, ec);
    if (ec || !std::filesystem::is_directory(options.persistence_dir)) {
      return absl::InvalidArgumentError(
          absl::StrCat("persistence directory ", options.persistence_dir, ": ",
                       ec ? ec.message() : "not a directory"));
    }
  }
  partitions::PartitionAuthSource auth;
  auto client_id = [&](const char* key) -> std::optional<uint64_t> {
    const Value& id = scenario[key];
    if (!id.is_number()) return std::nullopt;
    return static_cast<uint64_t>(id.as_number());
  };
  // Remote configs: the login indicator and the connections (which must
  // outlive the partition, so they are made first).
  std::unique_ptr<RemoteSession> remote;
  if (IsRemote(scenario["partition"])) {
    Value indicator = Value::NewObject();
    if (scenario["connectionToken"].is_string()) {
      indicator.as_object().Set("connectionToken", scenario["connectionToken"]);
    } else if (scenario["connectionId"].is_string()) {
      indicator.as_object().Set("connectionId", scenario["connectionId"]);
    } else if (scenario["connectionId"].is_null()) {
      indicator = Value();  // no indicator: the login asks for one
    } else {
      indicator.as_object().Set("connectionId", bots::NewUuid());
    }
    const Value& delay = scenario["reconnectDelayMs"];
    remote = std::make_unique<RemoteSession>(
        auth, std::move(indicator),
        delay.is_number() ? static_cast<int>(delay.as_number()) : 5000);
  }
  absl::StatusOr<std::unique_ptr<partitions::Partition>> created =
      CreatePartition(scenario["partition"], auth, client_id("clientId"),
                      client_id("remoteClientId"), options.persistence_dir,
                      remote.get());
  if (!created.ok()) return created.status();
  partitions::Partition& partition = **created;
  auto* yjs = dynamic_cast<partitions::YjsPartition*>(&partition);
  auto* yjs_core = dynamic_cast<partitions::YjsPartitionCore*>(&partition);
  if (scenario["space"].is_string()) {
    partition.set_space(scenario["space"].as_string());
  }
  Recorder recorder(options.tagged);
  std::vector<rx::Subscription> subs =
      SubscribeAll(partition, recorder, options.on_partition_error);
  // The last connection and sync statuses (for waitFor steps).
  bool connected = false;
  bool synced = false;
  if (remote != nullptr) {
    subs.push_back(partition.OnStatusUpdated([&](const Value& status) {
      const Value& type = status["type"];
      if (!type.is_string()) return;
      if (type.as_string() == "connection") {
        connected = IsTruthy(status["connected"]);
      } else if (type.as_string() == "sync") {
        synced = IsTruthy(status["synced"]);
      }
    }));
    // The auth requests of the login (need_indicator, invalid_indicator,
    // not_authorized, ...), which a host would show its user.
    subs.push_back(auth.OnAuthRequest([&](const Value& request) {
      recorder.Record("authRequest", request);
    }));
  }
  partition.Connect();
  if (remote != nullptr) {
    remote->Connect();
    remote->DrainMicrotasks();
  }

  std::string out =
      absl::StrCat(R"({"initial":)", recorder.Take(), R"(,"steps":[)");
  const auto& steps = scenario["steps"].as_array().items;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string kind = StepKind(steps[i]);
    const Value& body = steps[i][kind];
    std::string outcome = R"("returned":null)";
    if (kind == "applyEvents") {
      outcome = Outcome(partition.ApplyEvents(Items(body)), recorder.options());
    } else if (kind == "sendRemoteEvents") {
      if (partition.supports_remote_events()) {
        absl::StatusOr<std::vector<Value>> result =
            partition.SendRemoteEvents(Items(body));
        outcome = Outcome(result, recorder.options());
        // YjsPartition.sendRemoteEvents resolves to undefined upstream, so
        // do those of RemoteYjsPartition and OtherPlayersPartition.
        if ((yjs != nullptr || remote != nullptr) && result.ok()) {
          outcome = UndefinedOutcome(recorder.options());
        }
      }
    } else if (kind == "applyUpdates") {
      if (yjs_core != nullptr) {
        std::vector<std::string> updates;
        for (const Value& u : body.as_array().items) {
          updates.push_back(u.as_string());
        }
        absl::Status s = yjs_core->ApplyUpdates(updates);
        if (!s.ok()) {
          outcome = absl::StrCat(
              R"("error":)",
              bots::ToJson(Value(absl::StrCat("Error: ", s.message())),
                           recorder.options()));
        }
      }
    } else if (kind == "wait") {
      double ms = body["ms"].as_number();
      if (remote != nullptr) {
        // Turn the loop instead of sleeping, so that what arrives meanwhile
        // is processed (and recorded as this step's emissions).
        remote->RunUntil([] { return false; }, ms);
      } else {
        std::this_thread::sleep_for(
            std::chrono::microseconds(static_cast<int64_t>(ms * 1000)));
      }
    } else if (kind == "waitFor") {
      const std::string& target = body.as_string();
      double timeout = steps[i]["timeoutMs"].is_number()
                           ? steps[i]["timeoutMs"].as_number()
                           : kDefaultWaitForMs;
      bool reached = remote->RunUntil(
          [&] {
            if (target == "synced") return synced;
            if (target == "connected") return connected;
            return !connected;
          },
          timeout);
      if (!reached) {
        outcome = absl::StrCat(
            R"("error":)",
            bots::ToJson(Value(absl::StrCat("Error: timed out after ", timeout,
                                            " ms waiting for ", target)),
                         recorder.options()));
      }
    } else if (kind == "forcedOffline") {
      remote->SetForcedOffline(body.as_bool());
    }
    if (remote != nullptr) remote->DrainMicrotasks();
    if (i > 0) out += ',';
    absl::StrAppend(&out, R"({"kind":")", kind, R"(",)", outcome,
                    R"(,"emissions":)", recorder.Take(), R"(,"state":)",
                    bots::ToJson(partition.state(), recorder.options()), "}");
  }
  absl::StrAppend(&out, R"(],"final":{"state":)",
                  bots::ToJson(partition.state(), recorder.options()));
  if (yjs_core != nullptr) {
    absl::StrAppend(&out, R"(,"update":)",
                    bots::ToJson(Value(yjs_core->EncodeStateBase64())));
  }
  out += "}}";
  // Unsubscribe before the partition and the connections go.
  subs.clear();
  created->reset();
  return out;
}

absl::StatusOr<std::string> RunScenarioText(std::string_view text,
                                            const ScenarioOptions& options) {
  bots::JsonParseOptions parse;
  parse.decode_tags = true;
  absl::StatusOr<Value> scenario = bots::ParseJson(text, parse);
  if (!scenario.ok()) return scenario.status();
  if (absl::Status s = ValidateScenario(*scenario); !s.ok()) return s;
  return RunScenario(*scenario, options);
}

}  // namespace auxsync::cli
