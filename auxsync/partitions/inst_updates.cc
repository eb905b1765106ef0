#include "auxsync/partitions/inst_updates.h"

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/update_utils.h"
#include "auxsync/partitions/yjs_partition.h"

namespace auxsync::partitions {

using bots::Value;

Value InstUpdate::ToValue() const {
  Value out = Value::NewObject();
  out.as_object().Set("id", Value(id));
  out.as_object().Set("timestamp", Value(timestamp));
  out.as_object().Set("update", Value(update));
  return out;
}

absl::StatusOr<InstUpdate> InstUpdate::FromValue(const Value& value,
                                                 std::string_view path) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(path), ": must be an object {id, timestamp, update}"));
  }
  InstUpdate out;
  const Value& update = value["update"];
  if (!update.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(path), ".update: must be a base64 string"));
  }
  out.update = update.as_string();
  // id and timestamp are carried, not interpreted: absent or odd values
  // read as 0.
  if (value["id"].is_number()) out.id = value["id"].as_number();
  if (value["timestamp"].is_number()) {
    out.timestamp = value["timestamp"].as_number();
  }
  return out;
}

absl::StatusOr<std::vector<InstUpdate>> InstUpdatesFromValue(
    const Value& value, std::string_view path) {
  if (!value.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(path), ": must be an array of updates"));
  }
  std::vector<InstUpdate> out;
  const auto& items = value.as_array().items;
  for (size_t i = 0; i < items.size(); ++i) {
    absl::StatusOr<InstUpdate> u = InstUpdate::FromValue(
        items[i], absl::StrCat(std::string(path), "[", i, "]"));
    if (!u.ok()) return u.status();
    out.push_back(std::move(*u));
  }
  return out;
}

Value InstUpdatesToValue(std::span<const InstUpdate> updates) {
  std::vector<Value> items;
  for (const InstUpdate& u : updates) items.push_back(u.ToValue());
  return Value(std::make_shared<bots::Array>(std::move(items)));
}

double NowMs() {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::string ToBase64(std::span<const uint8_t> bytes) {
  return absl::Base64Escape(absl::string_view(
      reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

absl::StatusOr<std::vector<uint8_t>> FromBase64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        "Invalid string. Length must be a multiple of 4");
  }
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' ||
              c == '-' || c == '_';
    if (!ok) return absl::InvalidArgumentError("invalid base64 character");
  }
  std::string out;
  absl::string_view in(text.data(), text.size());
  if (!absl::Base64Unescape(in, &out) &&
      !absl::WebSafeBase64Unescape(in, &out)) {
    return absl::InvalidArgumentError("invalid base64 string");
  }
  return std::vector<uint8_t>(out.begin(), out.end());
}

namespace {

// A fresh partition as PartitionUtils makes them ({type:"yjs"}).
std::unique_ptr<YjsPartition> FreshPartition() {
  return std::make_unique<YjsPartition>(YjsPartitionConfig{});
}

// applyUpdate of each update (plain, no origin), as PartitionUtils does.
absl::Status ApplyAll(YjsPartition& partition,
                      std::span<const InstUpdate> updates) {
  for (size_t i = 0; i < updates.size(); ++i) {
    absl::StatusOr<std::vector<uint8_t>> bytes = FromBase64(updates[i].update);
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "]: ", bytes.status().message()));
    }
    absl::Status s = crdt::ApplyUpdate(partition.doc(), *bytes);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "]: ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<InstUpdate>> ConstructInitializationUpdate(
    const std::vector<Value>& bots, double timestamp) {
  std::unique_ptr<YjsPartition> partition = FreshPartition();
  std::optional<InstUpdate> result;
  crdt::Subscription sub = partition->doc().OnUpdate(
      [&](std::span<const uint8_t> update, const crdt::Transaction&) {
        result = InstUpdate{0, timestamp, ToBase64(update)};
      });
  std::vector<Value> actions;
  for (const Value& b : bots) {
    actions.push_back(bots::BotAdded(
        bots::CreateBot(b["id"].is_string() ? b["id"].as_string()
                                            : bots::ConvertToString(b["id"]),
                        b["tags"])));
  }
  absl::StatusOr<std::vector<Value>> applied = partition->ApplyEvents(actions);
  if (!applied.ok()) return applied.status();
  return result;
}

absl::StatusOr<Value> GetStateFromUpdates(std::span<const InstUpdate> updates) {
  std::unique_ptr<YjsPartition> partition = FreshPartition();
  if (absl::Status s = ApplyAll(*partition, updates); !s.ok()) return s;
  return partition->state();
}

absl::StatusOr<std::optional<InstUpdate>>
ConstructInitializationUpdateFromPreviousUpdates(
    std::span<const InstUpdate> previous, const std::vector<Value>& bots,
    double timestamp) {
  std::unique_ptr<YjsPartition> partition = FreshPartition();
  if (absl::Status s = ApplyAll(*partition, previous); !s.ok()) return s;
  const Value& state = partition->state();
  std::vector<std::string> remaining = state.as_object().Keys();
  absl::flat_hash_set<std::string> targeted;
  std::vector<Value> actions;
  for (const Value& b : bots) {
    std::string id = b["id"].is_string() ? b["id"].as_string()
                                         : bots::ConvertToString(b["id"]);
    const Value& old_bot = state[id];
    if (bots::IsTruthy(old_bot)) {
      Value tags = b["tags"].is_object()
                       ? Value(b["tags"].as_object().ShallowCopy())
                       : Value::NewObject();
      const Value& old_tags = old_bot["tags"];
      if (old_tags.is_object()) {
        for (const std::string& tag : old_tags.as_object().Keys()) {
          if (!bots::HasValue(tags[tag]))
            tags.as_object().Set(tag, Value(nullptr));
        }
      }
      Value update = Value::NewObject();
      update.as_object().Set("tags", std::move(tags));
      actions.push_back(bots::BotUpdated(id, std::move(update)));
    } else {
      actions.push_back(bots::BotAdded(bots::CreateBot(id, b["tags"])));
    }
    targeted.insert(id);
  }
  for (const std::string& id : remaining) {
    if (!targeted.contains(id)) actions.push_back(bots::BotRemoved(id));
  }
  std::optional<InstUpdate> result;
  crdt::Subscription sub = partition->doc().OnUpdate(
      [&](std::span<const uint8_t>, const crdt::Transaction&) {
        result = InstUpdate{0, timestamp, partition->EncodeStateBase64()};
      });
  absl::StatusOr<std::vector<Value>> applied = partition->ApplyEvents(actions);
  if (!applied.ok()) return applied.status();
  return result;
}

absl::StatusOr<std::optional<InstUpdate>> UpdateToNewStateUpdate(
    std::span<const InstUpdate> previous, std::span<const InstUpdate> new_state,
    double timestamp) {
  absl::StatusOr<Value> state = GetStateFromUpdates(new_state);
  if (!state.ok()) return state.status();
  return ConstructInitializationUpdateFromPreviousUpdates(
      previous, bots::GetActiveObjects(*state), timestamp);
}

absl::StatusOr<InstUpdate> MergeInstUpdates(std::span<const InstUpdate> updates,
                                            std::optional<double> id,
                                            double timestamp) {
  std::vector<std::vector<uint8_t>> decoded;
  for (size_t i = 0; i < updates.size(); ++i) {
    absl::StatusOr<std::vector<uint8_t>> bytes = FromBase64(updates[i].update);
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "]: ", bytes.status().message()));
    }
    decoded.push_back(std::move(*bytes));
  }
  std::vector<crdt::BytesView> views(decoded.begin(), decoded.end());
  absl::StatusOr<crdt::Bytes> merged = crdt::MergeUpdates(views);
  if (!merged.ok()) return merged.status();
  return InstUpdate{id.value_or(static_cast<double>(updates.size())), timestamp,
                    ToBase64(*merged)};
}

}  // namespace auxsync::partitions
