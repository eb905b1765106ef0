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
// property order (null -> removed, no value -> ignored, id equal to the key
// -> added, otherwise updated). Keeps a reference to `state`.
StateUpdatedEvent MakeStateUpdatedEvent(Value state, Value version = nullptr);

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
// the partial state `update` merged in (section 2.3). Never modifies
// `update`.
Value Apply(const Value& state, const Value& update);

// applyUpdates(state, event): event.state itself when `state` is nullish,
// else Apply(state, event.state).
Value ApplyUpdates(const Value& state, const StateUpdatedEvent& event);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_STATE_UPDATED_EVENT_H_
