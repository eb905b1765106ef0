#include "auxsync/partitions/partition_utils.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace auxsync::partitions {

using bots::Value;

namespace {

// Own properties of Object.prototype and Array.prototype (Node 20). Every
// one of them holds a function or an object, so `in` finds them and their
// value is truthy.
constexpr std::array<std::string_view, 12> kObjectPrototypeKeys = {
    "constructor",      "__defineGetter__",
    "__defineSetter__", "hasOwnProperty",
    "__lookupGetter__", "__lookupSetter__",
    "isPrototypeOf",    "propertyIsEnumerable",
    "toString",         "valueOf",
    "__proto__",        "toLocaleString"};
constexpr std::array<std::string_view, 39> kArrayPrototypeMethods = {
    "at",        "concat",        "copyWithin",
    "fill",      "find",          "findIndex",
    "findLast",  "findLastIndex", "lastIndexOf",
    "pop",       "push",          "reverse",
    "shift",     "unshift",       "slice",
    "sort",      "splice",        "includes",
    "indexOf",   "join",          "keys",
    "entries",   "values",        "forEach",
    "filter",    "flat",          "flatMap",
    "map",       "every",         "some",
    "reduce",    "reduceRight",   "toLocaleString",
    "toString",  "toReversed",    "toSorted",
    "toSpliced", "with",          "constructor"};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& keys,
              std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// `key in config` and, when true, the truthiness of `config[key] ?? false`.
// nullopt when `key` is not a property of config.
std::optional<bool> InProperty(const Value& config, const std::string& key) {
  if (config.is_object()) {
    if (const Value* own = config.as_object().Find(key)) {
      return bots::IsTruthy(*own);
    }
  } else if (config.is_array()) {
    const std::vector<Value>& items = config.as_array().items;
    if (key == "length") return !items.empty();
    if (bots::IsArrayIndexKey(key)) {
      const uint64_t index = std::strtoull(key.c_str(), nullptr, 10);
      if (index < items.size()) return bots::IsTruthy(items[index]);
      return std::nullopt;
    }
    if (Contains(kArrayPrototypeMethods, key)) return true;
  }
  if (Contains(kObjectPrototypeKeys, key)) return true;
  return std::nullopt;
}

}  // namespace

int PartitionOrderRank(std::string_view key) {
  if (key == "shared") return 0;
  if (key == "tempLocal") return 1;
  if (key == "local") return 2;
  if (key == "tempShared") return 3;
  if (key == "remoteTempShared") return 4;
  if (key == "bootstrap") return 5;
  return 6;
}

std::vector<PartitionEntry> IteratePartitions(
    std::span<const PartitionEntry> properties) {
  // A JavaScript object gives the property order: each key maps to the
  // index of its last assignment.
  bots::Object object;
  for (size_t i = 0; i < properties.size(); ++i) {
    object.Set(properties[i].first, Value(i));
  }
  std::vector<PartitionEntry> entries;
  entries.reserve(object.size());
  object.ForEach([&](const std::string& key, const Value& index) {
    entries.emplace_back(
        key, properties[static_cast<size_t>(index.as_number())].second);
  });
  std::stable_sort(entries.begin(), entries.end(),
                   [](const PartitionEntry& a, const PartitionEntry& b) {
                     return PartitionOrderRank(a.first) <
                            PartitionOrderRank(b.first);
                   });
  std::erase_if(entries,
                [](const PartitionEntry& e) { return e.second == nullptr; });
  return entries;
}

absl::StatusOr<bool> SupportsRemoteEvent(const Value& config,
                                         const Value& action) {
  if (config.is_bool() && config.as_bool()) return true;
  if (config.is_bool()) return false;
  if (action.is_nullish()) {
    return absl::InvalidArgumentError(
        "supportsRemoteEvent: the action is null or undefined");
  }
  const Value& type = action["type"];
  if (type.is_string() && type.as_string() == "remote") {
    const Value& event = action["event"];
    if (event.is_nullish()) {
      return absl::InvalidArgumentError(
          "supportsRemoteEvent: the remote action has no event");
    }
    if (!config.is_object() && !config.is_array() && !config.is_host()) {
      return absl::InvalidArgumentError(
          "supportsRemoteEvent: the remote events config must be a boolean "
          "or an object");
    }
    if (std::optional<bool> supported =
            InProperty(config, bots::ToJsString(event["type"]))) {
      return *supported;
    }
  } else if (config.is_nullish()) {
    return absl::InvalidArgumentError(
        "supportsRemoteEvent: the remote events config is null or undefined");
  }
  // `config.remoteActions ?? false`: only an object can have it.
  return bots::IsTruthy(config["remoteActions"]);
}

}  // namespace auxsync::partitions
