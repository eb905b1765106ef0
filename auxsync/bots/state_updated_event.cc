#include "auxsync/bots/state_updated_event.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/internal/js_ops.h"
#include "auxsync/bots/tag_edit.h"

namespace auxsync::bots {
namespace {

using internal::ForInKeys;
using internal::GetProp;
using internal::HasProp;
using internal::OwnKeyCount;
using internal::ShallowCopy;

Value StringArray(const std::vector<std::string>& items) {
  Value a = Value::NewArray();
  a.as_array().items.reserve(items.size());
  for (const std::string& s : items) a.as_array().items.emplace_back(s);
  return a;
}

// Applies the tag values of `updates` (tags or one space of masks) to
// `target`, which is already a copy owned by the result.
void ApplyTagValues(Object& target, const Value& updates, bool is_new_bot) {
  for (const std::string& tag : ForInKeys(updates)) {
    Value val = GetProp(updates, tag);
    if (IsTagEdit(val)) {
      target.Set(tag,
                 ApplyTagEdit(is_new_bot ? Value("") : target.Get(tag), val));
    } else {
      target.Set(tag, std::move(val));
    }
  }
}

void ApplyBot(Object& result, const Value& state, const std::string& id,
              const Value& bot_update) {
  if (!IsTruthy(bot_update)) {
    result.Erase(id);
    return;
  }
  bool is_new_bot = !HasProp(state, id);
  const Value& existing = result.Get(id);
  Value bot_value = ShallowCopy(IsTruthy(existing) ? existing : bot_update);
  result.Set(id, bot_value);
  Object& bot = bot_value.as_object();

  Value update_tags = GetProp(bot_update, "tags");
  if (IsTruthy(update_tags)) {
    Value tags = ShallowCopy(bot.Get("tags"));
    bot.Set("tags", tags);
    ApplyTagValues(tags.as_object(), update_tags, is_new_bot);
  }

  Value update_signatures = GetProp(bot_update, "signatures");
  if (IsTruthy(update_signatures)) {
    Value signatures = ShallowCopy(bot.Get("signatures"));
    internal::AssignFrom(signatures.as_object(), update_signatures);
    bot.Set("signatures", signatures);
  }

  if (HasProp(bot_update, "values")) {
    Value values = ShallowCopy(bot.Get("values"));
    internal::AssignFrom(values.as_object(), GetProp(bot_update, "values"));
    bot.Set("values", values);
  }

  Value update_masks = GetProp(bot_update, "masks");
  if (IsTruthy(update_masks)) {
    Value masks = ShallowCopy(bot.Get("masks"));
    bot.Set("masks", masks);
    for (const std::string& space : ForInKeys(update_masks)) {
      Value space_tags = ShallowCopy(masks.as_object().Get(space));
      masks.as_object().Set(space, space_tags);
      ApplyTagValues(space_tags.as_object(), GetProp(update_masks, space),
                     is_new_bot);
    }
  }

  // Cleanup. `update_tags` is only iterable when it was truthy, so
  // bot.tags is then our own copy.
  for (const std::string& tag : ForInKeys(update_tags)) {
    Object& tags = bot.Find("tags")->as_object();
    if (tags.Get(tag).is_null()) {
      tags.Erase(tag);
      if (bot.Has("values")) {
        // Deletes from bot.values even when it is still the object of the
        // previous state (the update had no `values`), as upstream does.
        // JavaScript throws when bot.values is null/undefined; skipped.
        const Value& values = bot.Get("values");
        if (values.is_object()) values.as_object().Erase(tag);
      }
    }
  }

  // bot.signatures is always a fresh copy here, so the update's own
  // signatures object is never modified.
  for (const std::string& hash : ForInKeys(update_signatures)) {
    const Value& signatures = bot.Get("signatures");
    if (signatures.is_object() && signatures.as_object().Get(hash).is_null()) {
      signatures.as_object().Erase(hash);
    }
  }
  if (IsTruthy(bot.Get("signatures")) &&
      OwnKeyCount(bot.Get("signatures")) == 0) {
    bot.Erase("signatures");
  }

  for (const std::string& space : ForInKeys(update_masks)) {
    Object& masks = bot.Find("masks")->as_object();
    Object& space_tags = masks.Find(space)->as_object();
    for (const std::string& tag : ForInKeys(GetProp(update_masks, space))) {
      if (space_tags.Get(tag).is_null()) space_tags.Erase(tag);
    }
    if (space_tags.empty()) masks.Erase(space);
  }
  if (IsTruthy(bot.Get("masks")) && OwnKeyCount(bot.Get("masks")) == 0) {
    bot.Erase("masks");
  }
}

}  // namespace

Value StateUpdatedEvent::ToValue() const {
  return MakeObject({{"addedBots", StringArray(added_bots)},
                     {"removedBots", StringArray(removed_bots)},
                     {"updatedBots", StringArray(updated_bots)},
                     {"state", state},
                     {"version", version}});
}

StateUpdatedEvent MakeStateUpdatedEvent(Value state, Value version) {
  // Every member given, so `state` is not first set to a new empty object.
  StateUpdatedEvent event{Value(), {}, {}, {}, Value()};
  AssignStateUpdatedEvent(event, std::move(state), std::move(version));
  return event;
}

void AssignStateUpdatedEvent(StateUpdatedEvent& event, Value state,
                             Value version) {
  event.added_bots.clear();
  event.removed_bots.clear();
  event.updated_bots.clear();
  auto classify = [&](const std::string& id, const Value& bot) {
    if (bot.is_null()) {
      event.removed_bots.push_back(id);
    } else if (!HasValue(bot)) {
      // undefined or "": incorrectly formatted state; no list.
    } else {
      const Value& bot_id = bot.is_object() ? bot.as_object().Get("id") : bot;
      if (bot.is_object() && bot_id.is_string() && bot_id.as_string() == id) {
        event.added_bots.push_back(id);
      } else {
        event.updated_bots.push_back(id);
      }
    }
  };
  if (state.is_object()) {
    // The common case, without copying the key list.
    state.as_object().ForEach(classify);
  } else {
    for (const std::string& id : ForInKeys(state)) {
      classify(id, GetProp(state, id));
    }
  }
  event.state = std::move(state);
  event.version = std::move(version);
}

Value UpdatedBot::ToValue() const {
  Value v = MakeObject({{"bot", bot}, {"tags", StringArray(tags)}});
  if (signatures) v.as_object().Set("signatures", StringArray(*signatures));
  return v;
}

UpdatedBot MakeUpdatedBot(const Value& partial, Value current_bot) {
  UpdatedBot result;
  result.bot = std::move(current_bot);
  absl::flat_hash_set<std::string> seen;
  auto add = [&](const std::string& tag) {
    if (seen.insert(tag).second) result.tags.push_back(tag);
  };
  Value tags = GetProp(partial, "tags");
  if (IsTruthy(tags)) {
    for (const std::string& tag : ForInKeys(tags)) add(tag);
  }
  std::vector<std::string> signatures;
  Value sigs = GetProp(partial, "signatures");
  if (IsTruthy(sigs)) signatures = ForInKeys(sigs);
  Value masks = GetProp(partial, "masks");
  if (IsTruthy(masks)) {
    for (const std::string& space : ForInKeys(masks)) {
      for (const std::string& tag : ForInKeys(GetProp(masks, space))) add(tag);
    }
  }
  if (!signatures.empty()) result.signatures = std::move(signatures);
  return result;
}

Value Apply(const Value& state, const Value& update) {
  Value result = ShallowCopy(state);
  for (const std::string& id : ForInKeys(update)) {
    ApplyBot(result.as_object(), state, id, GetProp(update, id));
  }
  return result;
}

Value ApplyUpdates(const Value& state, const StateUpdatedEvent& event) {
  if (!IsTruthy(state)) return event.state;
  return Apply(state, event.state);
}

}  // namespace auxsync::bots
