// Bot state actions and their expansion (spec/partitions.md section 5.1).
//
// Actions are JavaScript objects with a "type"; builders produce exactly
// aux-common's shapes and key order.

#ifndef AUXSYNC_BOTS_BOT_ACTIONS_H_
#define AUXSYNC_BOTS_BOT_ACTIONS_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "auxsync/bots/value.h"

namespace auxsync::bots {

// {"type":"add_bot","id":bot.id,"bot":bot}; the "id" key is always present
// and holds undefined when the bot has no id (a partial bot).
Value BotAdded(Value bot);
// {"type":"remove_bot","id":id}
Value BotRemoved(std::string_view id);
// {"type":"update_bot","id":id,"update":update}
Value BotUpdated(std::string_view id, Value update);
// {"type":"apply_state","state":state}
Value AddState(Value state);

// breakIntoIndividualEvents(state, apply_state): for each key of
// action.state in property order, add_bot / remove_bot / update_bot against
// `state` (section 5.1). The produced actions share the action's objects.
std::vector<Value> BreakIntoIndividualEvents(const Value& state,
                                             const Value& apply_state_action);

// Checks an action that came from outside (a scenario file, a frame) before
// a partition sees it: it must be an object with a string `type`; add_bot
// needs an object `bot` whose `id` is a string (and a string or absent
// action `id`); update_bot a string `id` and an object `update`; remove_bot
// a string `id`; apply_state an object `state` whose entries are null or
// objects. In every bot, update and state entry, `tags` (if present) must be
// an object, `masks` (if present) an object of objects, and TagEdit values
// in them must be well formed (ValidateTagEdit). Other action types are
// accepted as they are (partitions ignore them). The message names the
// field, prefixed with `path` (e.g. "steps[2][0].bot.tags").
absl::Status ValidateBotAction(const Value& action, std::string_view path);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_BOT_ACTIONS_H_
