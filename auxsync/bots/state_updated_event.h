// StateUpdatedEvent, UpdatedBot and applying partial states
// (spec/partitions.md section 2).

#ifndef AUXSYNC_BOTS_STATE_UPDATED_EVENT_H_
#define AUXSYNC_BOTS_STATE_UPDATED_EVENT_H_

#include <optional>
#include <string>
#include <vector>

#include "auxsync/bots/value.h"

namespace auxsync::bots {

// The difference between two states, as partitions report it.
struct StateUpdatedEvent {
  Value state = Value::NewObject();  // id -> partial bot, full bot or null
  std::vector<std::string> added_bots;
  std::vector<std::string> removed_bots;
  std::vector<std::string> updated_bots;
  Value version = nullptr;  // a CurrentVersion object, or null

  // {"addedBots","removedBots","updatedBots","state","version"}, the key
  // order of aux-common. Shares `state` and `version`.
  Value ToValue() const;
};

// stateUpdatedEvent(state, version): classifies every key of `state` in
// property order (null -> removed, undefined or "" -> ignored, an `id`
// equal to the key -> added, anything else, including false and 0 ->
// updated). Keeps a reference to `state`.
StateUpdatedEvent MakeStateUpdatedEvent(Value state, Value version = nullptr);
// The same, written into `event` so that its lists keep their storage (for
// a partition that publishes one event per batch).
void AssignStateUpdatedEvent(StateUpdatedEvent& event, Value state,
                             Value version);

// A bot whose tags changed, with the names of the changed tags.
struct UpdatedBot {
  Value bot;
  std::vector<std::string> tags;
  std::optional<std::vector<std::string>> signatures;

  // {"bot","tags"} plus "signatures" when present.
  Value ToValue() const;
};

// updatedBot(partial, bot): the tags of partial.tags, then of every space of
// partial.masks, without duplicates; signatures when partial has any.
UpdatedBot MakeUpdatedBot(const Value& partial, Value current_bot);

// apply(state, update): a new state object (shallow copy of `state`) with
// the partial state `update` merged in (section 2.3), with upstream's
// quirks, all checked against aux-common 3.10.5:
//  - any falsy entry (null, undefined, false, 0, "") removes the bot;
//  - a bot is "new" (its edits apply to "") only when its key is absent
//    from `state`; a key present with null is not new, and its edits apply
//    to the copied update's own tag value (the edit object, stringified);
//  - an undefined tag value is stored as undefined, not deleted;
//  - an empty `signatures` or `masks` object is dropped from every updated
//    bot, even when the update does not mention it;
//  - deleting a null tag also deletes it from `values`, and when the update
//    has no `values` that is the previous state's own `values` object, which
//    is modified in place (as upstream does).
// Bots not in the update are shared with `state`. Never modifies `update`.
// Where JavaScript would throw (a primitive entry, `values` null) the step
// is skipped instead.
Value Apply(const Value& state, const Value& update);

// applyUpdates(state, event): event.state itself when `state` is falsy,
// else Apply(state, event.state).
Value ApplyUpdates(const Value& state, const StateUpdatedEvent& event);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_STATE_UPDATED_EVENT_H_
