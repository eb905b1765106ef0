#include "auxsync/bots/bot_actions.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/internal/js_ops.h"
#include "auxsync/bots/tag_edit.h"

namespace auxsync::bots {

namespace {

// The action types, one string each that every action of the type shares
// (strings are immutable; as JavaScript shares a literal): reading an
// action's type, which every partition does first, then touches a node
// that stays in cache instead of one cold node per action.
const Value& AddBotType() {
  static const Value type("add_bot");
  return type;
}
const Value& RemoveBotType() {
  static const Value type("remove_bot");
  return type;
}
const Value& UpdateBotType() {
  static const Value type("update_bot");
  return type;
}
const Value& ApplyStateType() {
  static const Value type("apply_state");
  return type;
}

}  // namespace

Value BotAdded(Value bot) {
  Value id = internal::GetProp(bot, "id");
  return MakeObject(
      {{"type", AddBotType()}, {"id", std::move(id)}, {"bot", bot}});
}

Value BotRemoved(std::string_view id) {
  return MakeObject({{"type", RemoveBotType()}, {"id", id}});
}

Value BotUpdated(std::string_view id, Value update) {
  return MakeObject(
      {{"type", UpdateBotType()}, {"id", id}, {"update", std::move(update)}});
}

Value AddState(Value state) {
  return MakeObject({{"type", ApplyStateType()}, {"state", std::move(state)}});
}

std::vector<Value> BreakIntoIndividualEvents(const Value& state,
                                             const Value& apply_state_action) {
  std::vector<Value> actions;
  Value update = internal::GetProp(apply_state_action, "state");
  for (const std::string& id : internal::ForInKeys(update)) {
    Value bot_update = internal::GetProp(update, id);
    bool has_current = IsTruthy(internal::GetProp(state, id));
    bool has_update = IsTruthy(bot_update);
    if (!has_current && has_update) {
      actions.push_back(BotAdded(std::move(bot_update)));
    } else if (has_current && !has_update) {
      actions.push_back(BotRemoved(id));
    } else if (has_current && has_update) {
      actions.push_back(BotUpdated(id, std::move(bot_update)));
    }
  }
  return actions;
}

namespace {

absl::Status Fail(std::string_view path, std::string_view field,
                  std::string_view what) {
  std::string message(path);
  message += field;
  message += ": ";
  message += what;
  return absl::InvalidArgumentError(message);
}

// Checks a tag map (tags, or one space of masks): an object whose TagEdit
// values are well formed.
absl::Status ValidateTagMap(const Value& tags, std::string_view path,
                            std::string_view field) {
  if (!tags.is_object()) return Fail(path, field, "must be an object");
  absl::Status status;
  tags.as_object().ForEach([&](const std::string& tag, const Value& v) {
    if (status.ok() && IsTagEdit(v)) {
      status = ValidateTagEdit(
          v, std::string(path) + std::string(field) + "[\"" + tag + "\"]");
    }
  });
  return status;
}

// Checks the parts of a (partial) bot that partitions read: `tags` and
// `masks` (space -> tag map) when present.
absl::Status ValidatePartialBot(const Value& bot, std::string_view path) {
  const Object& o = bot.as_object();
  const Value& tags = o.Get("tags");
  if (!tags.is_undefined()) {
    absl::Status s = ValidateTagMap(tags, path, ".tags");
    if (!s.ok()) return s;
  }
  const Value& masks = o.Get("masks");
  if (!masks.is_undefined()) {
    if (!masks.is_object()) return Fail(path, ".masks", "must be an object");
    absl::Status status;
    masks.as_object().ForEach([&](const std::string& space, const Value& v) {
      if (status.ok()) {
        status =
            ValidateTagMap(v, path, absl::StrCat(".masks[\"", space, "\"]"));
      }
    });
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateBotAction(const Value& action, std::string_view path) {
  if (!action.is_object()) return Fail(path, "", "action must be an object");
  const Value& type = action["type"];
  if (!type.is_string()) return Fail(path, ".type", "must be a string");
  const std::string& t = type.as_string();
  const Value& id = action["id"];
  if (t == "add_bot") {
    const Value& bot = action["bot"];
    if (!bot.is_object()) return Fail(path, ".bot", "must be an object");
    if (!bot["id"].is_string())
      return Fail(path, ".bot.id", "must be a string");
    if (!id.is_undefined() && !id.is_string()) {
      return Fail(path, ".id", "must be a string");
    }
    return ValidatePartialBot(bot, std::string(path) + ".bot");
  }
  if (t == "update_bot") {
    if (!id.is_string()) return Fail(path, ".id", "must be a string");
    const Value& update = action["update"];
    if (!update.is_object()) return Fail(path, ".update", "must be an object");
    return ValidatePartialBot(update, std::string(path) + ".update");
  }
  if (t == "remove_bot") {
    if (!id.is_string()) return Fail(path, ".id", "must be a string");
    return absl::OkStatus();
  }
  if (t == "apply_state") {
    const Value& state = action["state"];
    if (!state.is_object()) return Fail(path, ".state", "must be an object");
    absl::Status status;
    state.as_object().ForEach([&](const std::string& key, const Value& bot) {
      if (!status.ok() || bot.is_nullish()) return;
      std::string bot_path = std::string(path) + ".state[\"" + key + "\"]";
      if (!bot.is_object()) {
        status = Fail(bot_path, "", "must be an object or null");
      } else {
        status = ValidatePartialBot(bot, bot_path);
      }
    });
    return status;
  }
  return absl::OkStatus();
}

}  // namespace auxsync::bots
