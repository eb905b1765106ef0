// The partition contract (spec/partitions.md section 6): a store of bots
// for one space that applies bot actions and reports what changed.

#ifndef AUXSYNC_PARTITIONS_PARTITION_H_
#define AUXSYNC_PARTITIONS_PARTITION_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auxsync/bots/state_updated_event.h"
#include "auxsync/bots/value.h"
#include "auxsync/bots/version.h"
#include "auxsync/rx/subscription.h"

namespace auxsync::partitions {

// How the runtime should treat edits to a partition's bots.
enum class RealtimeStrategy {
  kImmediate,  // edits take effect at once
  kDelayed,    // bots count as unchanged until the partition reports them
};

// "immediate" / "delayed".
std::string_view RealtimeStrategyName(RealtimeStrategy strategy);

// Callbacks receive payloads by reference, valid until the callback
// returns. As in aux-common, objects inside them may be shared with the
// partition's state and change with later batches: Clone() what you keep
// (bots::Value copies share objects). Serialising a payload inside the
// callback gives exactly what aux-common would have emitted.
using BotsCallback = std::function<void(const std::vector<bots::Value>&)>;
using IdsCallback = std::function<void(const std::vector<std::string>&)>;
using UpdatedBotsCallback =
    std::function<void(const std::vector<bots::UpdatedBot>&)>;
using StateCallback = std::function<void(const bots::StateUpdatedEvent&)>;
using VersionCallback = std::function<void(const bots::CurrentVersion&)>;
using ValueCallback = std::function<void(const bots::Value&)>;
using ActionsCallback = std::function<void(const std::vector<bots::Value>&)>;

// A partition. Single-threaded: it belongs to one event loop, and all of
// its methods must be called, and all of its events fire, on that thread.
// Events fire synchronously from the call that caused them, in the order of
// spec/partitions.md section 6.3. Dropping a returned Subscription stops
// its callback.
class Partition {
 public:
  virtual ~Partition() = default;

  // "memory", "yjs", "remote_yjs", "other_players", ...
  virtual std::string_view type() const = 0;
  // Whether the state is excluded from exports; nullopt where upstream
  // leaves the property unset.
  virtual std::optional<bool> is_private() const = 0;
  virtual RealtimeStrategy realtime_strategy() const = 0;

  // The space written into every bot the partition stores; assigned by the
  // owner before Connect(). nullopt = no space.
  const std::optional<std::string>& space() const { return space_; }
  // Partitions made of others pass a change on to them (OtherPlayers sets
  // it on every loaded player partition, as upstream's setter does).
  virtual void set_space(std::optional<std::string> space) {
    space_ = std::move(space);
  }

  // The current state: an object of bot id -> bot (or partial entry). The
  // reference stays valid until the next call that changes the partition.
  virtual const bots::Value& state() const = 0;

  // Applies bot actions (add_bot, remove_bot, update_bot, apply_state; other
  // types are ignored) as one batch and returns the follow-up actions
  // (always empty for the local partitions). An error status means the
  // batch was rejected; its message says why. As in aux-common, objects of
  // the actions (a bot's tags, an update's tags) become part of the state
  // and of the events and may be changed by the partition afterwards: pass
  // copies of anything the caller still uses.
  virtual absl::StatusOr<std::vector<bots::Value>> ApplyEvents(
      const std::vector<bots::Value>& events) = 0;

  // Whether SendRemoteEvents is implemented.
  virtual bool supports_remote_events() const { return false; }
  // Handles remote actions (remote, remote_result, remote_error).
  virtual absl::StatusOr<std::vector<bots::Value>> SendRemoteEvents(
      const std::vector<bots::Value>& events);

  // Starts the partition; reports its progress on OnStatusUpdated.
  virtual void Connect() = 0;
  // Releases the partition's resources; events stop.
  virtual void Unsubscribe() = 0;
  virtual bool closed() const = 0;

  // Observables (the replay rules are per partition, section 6.2).
  virtual rx::Subscription OnBotsAdded(BotsCallback callback) = 0;
  virtual rx::Subscription OnBotsRemoved(IdsCallback callback) = 0;
  virtual rx::Subscription OnBotsUpdated(UpdatedBotsCallback callback) = 0;
  virtual rx::Subscription OnStateUpdated(StateCallback callback) = 0;
  virtual rx::Subscription OnVersionUpdated(VersionCallback callback) = 0;
  virtual rx::Subscription OnError(ValueCallback callback) = 0;
  virtual rx::Subscription OnEvents(ActionsCallback callback) = 0;
  virtual rx::Subscription OnStatusUpdated(ValueCallback callback) = 0;

 private:
  std::optional<std::string> space_;
};

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_PARTITION_H_
