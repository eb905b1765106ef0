#include "auxsync/cli/scenario_runner.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/runtime_values.h"
#include "auxsync/bots/state_updated_event.h"
#include "auxsync/partitions/partition.h"
#include "auxsync/partitions/partition_auth_source.h"
#include "auxsync/partitions/partition_factories.h"
#include "auxsync/partitions/yjs_partition.h"

namespace auxsync::cli {
namespace {

using bots::Value;

// The longest wait a scenario may ask for.
constexpr double kMaxWaitMs = 10 * 60 * 1000;

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

absl::Status ValidateStep(const Value& step, const std::string& path,
                          const Value& partition_config) {
  if (!step.is_object() || step.as_object().size() != 1) {
    return Invalid(path,
                   "must be an object with exactly one of applyEvents, "
                   "sendRemoteEvents, applyUpdates, wait");
  }
  const std::string kind = step.as_object().Keys()[0];
  const Value& body = step[kind];
  std::string body_path = absl::StrCat(path, ".", kind);
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

Value ArrayOf(std::vector<Value> items) {
  return Value(std::make_shared<bots::Array>(std::move(items)));
}

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
    recorder.Record("onBotsAdded", ArrayOf(bots));
  }));
  subs.push_back(
      partition.OnBotsRemoved([&](const std::vector<std::string>& ids) {
        std::vector<Value> items(ids.begin(), ids.end());
        recorder.Record("onBotsRemoved", ArrayOf(std::move(items)));
      }));
  subs.push_back(partition.OnBotsUpdated(
      [&](const std::vector<bots::UpdatedBot>& updated) {
        std::vector<Value> items;
        for (const auto& u : updated) items.push_back(u.ToValue());
        recorder.Record("onBotsUpdated", ArrayOf(std::move(items)));
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
    recorder.Record("onEvents", ArrayOf(events));
  }));
  subs.push_back(partition.OnStatusUpdated([&](const Value& status) {
    recorder.Record("onStatusUpdated", status);
  }));
  return subs;
}

// Creates the scenario's partition through the factory chain. `auth` must
// outlive the partition.
// `client_id` / `remote_client_id` (unset = random) pin the Yjs client ids of
// a yjs partition; `persistence_dir` (empty = none) is where yjs configs
// asking for local persistence keep their files.
absl::StatusOr<std::unique_ptr<partitions::Partition>> CreatePartition(
    const Value& config, partitions::PartitionAuthSource& auth,
    std::optional<uint64_t> client_id, std::optional<uint64_t> remote_client_id,
    const std::string& persistence_dir) {
  partitions::PartitionServices services;
  services.auth_source = &auth;
  services.local_persistence_dir = persistence_dir;
  std::vector<partitions::PartitionFactory> factories = {
      partitions::CreateMemoryPartitionFactory(),
      partitions::CreateYjsPartitionFactory(nullptr, client_id,
                                            remote_client_id)};
  absl::StatusOr<std::unique_ptr<partitions::Partition>> partition =
      partitions::CreateAuxPartition(config, services, factories);
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
                        bots::ToJson(ArrayOf(*result), options));
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
  absl::StatusOr<std::unique_ptr<partitions::Partition>> created =
      CreatePartition(scenario["partition"], auth, client_id("clientId"),
                      client_id("remoteClientId"), options.persistence_dir);
  if (!created.ok()) return created.status();
  partitions::Partition& partition = **created;
  auto* yjs = dynamic_cast<partitions::YjsPartition*>(&partition);
  if (scenario["space"].is_string()) {
    partition.set_space(scenario["space"].as_string());
  }
  Recorder recorder(options.tagged);
  std::vector<rx::Subscription> subs =
      SubscribeAll(partition, recorder, options.on_partition_error);
  partition.Connect();

  std::string out =
      absl::StrCat(R"({"initial":)", recorder.Take(), R"(,"steps":[)");
  const auto& steps = scenario["steps"].as_array().items;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string kind = steps[i].as_object().Keys()[0];
    const Value& body = steps[i][kind];
    std::string outcome = R"("returned":null)";
    if (kind == "applyEvents") {
      outcome = Outcome(partition.ApplyEvents(Items(body)), recorder.options());
    } else if (kind == "sendRemoteEvents") {
      if (partition.supports_remote_events()) {
        absl::StatusOr<std::vector<Value>> result =
            partition.SendRemoteEvents(Items(body));
        outcome = Outcome(result, recorder.options());
        // YjsPartition.sendRemoteEvents resolves to undefined upstream.
        if (yjs != nullptr && result.ok()) {
          outcome = UndefinedOutcome(recorder.options());
        }
      }
    } else if (kind == "applyUpdates") {
      if (yjs != nullptr) {
        std::vector<std::string> updates;
        for (const Value& u : body.as_array().items) {
          updates.push_back(u.as_string());
        }
        absl::Status s = yjs->ApplyUpdates(updates);
        if (!s.ok()) {
          outcome = absl::StrCat(
              R"("error":)",
              bots::ToJson(Value(absl::StrCat("Error: ", s.message())),
                           recorder.options()));
        }
      }
    } else if (kind == "wait") {
      std::this_thread::sleep_for(std::chrono::microseconds(
          static_cast<int64_t>(body["ms"].as_number() * 1000)));
    }
    if (i > 0) out += ',';
    absl::StrAppend(&out, R"({"kind":")", kind, R"(",)", outcome,
                    R"(,"emissions":)", recorder.Take(), R"(,"state":)",
                    bots::ToJson(partition.state(), recorder.options()), "}");
  }
  absl::StrAppend(&out, R"(],"final":{"state":)",
                  bots::ToJson(partition.state(), recorder.options()));
  if (yjs != nullptr) {
    absl::StrAppend(&out, R"(,"update":)",
                    bots::ToJson(Value(yjs->EncodeStateBase64())));
  }
  out += "}}";
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
