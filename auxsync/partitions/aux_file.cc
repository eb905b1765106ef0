#include "auxsync/partitions/aux_file.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"

namespace auxsync::partitions {

namespace {

using bots::Value;

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": ", std::string(what)));
}

}  // namespace

absl::StatusOr<StoredAux> ParseStoredAux(std::string_view text,
                                         const AuxReadLimits& limits) {
  if (text.size() > limits.max_file_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the aux file is larger than ", limits.max_file_bytes, " bytes"));
  }
  bots::JsonParseOptions opts;
  opts.max_depth = limits.max_json_depth;
  absl::StatusOr<Value> json = bots::ParseJson(text, opts);
  if (!json.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not JSON: ", json.status().message()));
  }
  if (!json->is_object()) {
    return absl::InvalidArgumentError(
        "an aux file must hold a JSON object ({\"version\":1,\"state\":...} "
        "or {\"version\":2,\"updates\":[...]})");
  }
  const bots::Object& root = json->as_object();
  StoredAux aux;
  const Value* version = root.Find("version");
  if (version == nullptr) {
    // aux-common's getUploadState takes such an object as the state itself.
    aux.bare_state = true;
    aux.state = *json;
  } else if (version->is_number() && version->as_number() == 1) {
    const Value& state = root.Get("state");
    if (!state.is_object()) {
      return Invalid("state", "must be an object of bot id -> bot");
    }
    aux.state = state;
  } else if (version->is_number() && version->as_number() == 2) {
    const Value& updates = root.Get("updates");
    if (!updates.is_array()) {
      return Invalid("updates", "must be an array of {id, timestamp, update}");
    }
    if (updates.as_array().items.size() > limits.max_updates) {
      return absl::ResourceExhaustedError(
          absl::StrCat("updates: more than ", limits.max_updates, " entries"));
    }
    absl::StatusOr<std::vector<InstUpdate>> list =
        InstUpdatesFromValue(updates, "updates");
    if (!list.ok()) return list.status();
    // Check the base64 now, so that a bad file fails on reading, with the
    // index of the bad entry.
    for (size_t i = 0; i < list->size(); ++i) {
      absl::StatusOr<std::vector<uint8_t>> bytes =
          FromBase64((*list)[i].update);
      if (!bytes.ok()) {
        return Invalid(absl::StrCat("updates[", i, "].update"),
                       absl::StrCat("not base64: ", bytes.status().message()));
      }
    }
    aux.version = 2;
    aux.state = Value::NewObject();
    aux.updates = std::move(*list);
  } else {
    return Invalid("version",
                   absl::StrCat("unsupported aux version ",
                                bots::ToJson(*version), " (expected 1 or 2)"));
  }
  return aux;
}

absl::StatusOr<StoredAux> ReadAuxFile(const std::string& path,
                                      const AuxReadLimits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot read: ", ec.message()));
  }
  if (size > limits.max_file_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": larger than ", limits.max_file_bytes, " bytes"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  absl::StatusOr<StoredAux> aux = ParseStoredAux(text, limits);
  if (!aux.ok()) {
    return absl::Status(aux.status().code(),
                        absl::StrCat(path, ": ", aux.status().message()));
  }
  return aux;
}

std::string SerializeStoredAux(const StoredAux& aux) {
  Value root = Value::NewObject();
  if (aux.version == 2) {
    root.as_object().Set("version", Value(2));
    root.as_object().Set("updates", InstUpdatesToValue(aux.updates));
  } else {
    root.as_object().Set("version", Value(1));
    root.as_object().Set("state", aux.state);
  }
  return bots::ToJson(root);
}

absl::Status WriteAuxFile(const std::string& path, const StoredAux& aux) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      return absl::PermissionDeniedError(absl::StrCat(tmp, ": cannot create"));
    const std::string text = SerializeStoredAux(aux);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return absl::InternalError(absl::StrCat(tmp, ": write failed"));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat(path, ": cannot replace"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Value> GetBotsStateFromStoredAux(const StoredAux& aux) {
  if (aux.version != 2) return aux.state;
  return GetStateFromUpdates(aux.updates);
}

absl::StatusOr<StoredAux> ConvertStoredAux(const StoredAux& aux, int to_version,
                                           double timestamp) {
  if (to_version != 1 && to_version != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot convert to aux version ", to_version, " (expected 1 or 2)"));
  }
  StoredAux out;
  out.version = to_version;
  if (to_version == 1) {
    absl::StatusOr<Value> state = GetBotsStateFromStoredAux(aux);
    if (!state.ok()) return state.status();
    out.state = std::move(*state);
    return out;
  }
  if (aux.version == 2) {
    out.updates = aux.updates;
    return out;
  }
  // Object.values(state): every entry, as createBot(id, tags) takes it.
  std::vector<Value> bots;
  absl::Status bad = absl::OkStatus();
  aux.state.as_object().ForEach([&](const std::string& key, const Value& bot) {
    if (!bad.ok()) return;
    if (!bot.is_object() || !bot["id"].is_string()) {
      // aux-records would throw on a null entry and invent a random id for
      // one without an id.
      bad = Invalid(absl::StrCat("state.", key),
                    "a bot must be an object with a string id");
      return;
    }
    bots.push_back(bot);
  });
  if (!bad.ok()) return bad;
  absl::StatusOr<std::optional<InstUpdate>> update =
      ConstructInitializationUpdate(bots, timestamp);
  if (!update.ok()) return update.status();
  if (update->has_value()) out.updates.push_back(std::move(**update));
  return out;
}

}  // namespace auxsync::partitions
