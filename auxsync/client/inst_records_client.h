// InstRecordsClient: the branch-level client of the inst protocol on one
// ConnectionClient (aux-common's InstRecordsClient; spec/inst-protocol.md
// 8.3-8.4, spec/partitions.md 9.5, 9.11 and 10.3). It watches branches and
// their devices, sends local updates with client-wide ids and re-sends the
// unacknowledged ones, and answers connection counts and time samples.
//
// Threading: belongs to the event loop of its connection. Every method must
// be called, and every callback fires, on that loop's thread, synchronously
// from the connection callback (state change, message, error) that caused
// it. Callbacks may call back into the client and may drop their own handle.

#ifndef AUXSYNC_CLIENT_INST_RECORDS_CLIENT_H_
#define AUXSYNC_CLIENT_INST_RECORDS_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "auxsync/client/connection_client.h"
#include "auxsync/inst/frame.h"
#include "auxsync/inst/messages.h"
#include "auxsync/rx/subject.h"
#include "auxsync/rx/subscription.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace auxsync::client {

// The options of an InstRecordsClient. The defaults are upstream's client
// without timed resend; CasualOS's partition factories turn it on
// (resend_updates = true with 5000 / 1000 ms).
struct InstRecordsClientOptions {
  // Timed resend of unacknowledged updates (8.4 trigger b). An entry is
  // re-sent once now >= last try + resend_after_ms * 2^min(tries - 1, 3).
  bool resend_updates = false;
  double resend_after_ms = 5000;
  // How often the resend check runs on `io`.
  double check_interval_ms = 1000;
  // The loop the resend timer runs on; null = no timer (call CheckResends()
  // yourself, as the unit tests do). Not owned; must outlive the client.
  boost::asio::io_context* io = nullptr;
  // Wall clock in epoch milliseconds (send and retry times, sync/time);
  // empty = the system clock.
  std::function<double()> now;
  // Upstream keeps a branch's known-device table over a socket loss, so
  // after a reconnect the server's listing of players who stayed is dropped
  // as already known (partitions.md 10.3, checklist N48). true clears the
  // table on socket loss instead (after the synthesised disconnects), so
  // such players are reported again. Default false = upstream behaviour.
  bool clear_known_devices_on_disconnect = false;
};

// The updates a branch watch delivers: the initial snapshot (merged with any
// live updates that arrived before it, those first) or one live
// repo/add_updates. `timestamps` is set when the server sent them.
struct BranchUpdates {
  std::vector<std::string> updates;
  std::optional<std::vector<double>> timestamps;
  // True for the first delivery after each (re)connection: the snapshot.
  bool initial = false;
};

// What a watched branch reports. Every member may be empty (= ignored).
struct BranchWatchCallbacks {
  // repo/add_updates for the branch, after the initial-snapshot hold-back
  // (8.3): nothing before the initial message of a connection arrives.
  std::function<void(const BranchUpdates&)> on_updates;
  // repo/receive_action for the branch.
  std::function<void(const inst::ReceiveActionMessage&)> on_action;
  // repo/updates_received for the branch carrying max_size_reached.
  std::function<void(const inst::UpdatesReceivedMessage&)> on_max_size;
  // A connection-level Error event whose recordName, inst and branch equal
  // the branch's (8.3; other errors are not routed to a branch).
  std::function<void(const inst::ErrorInfo&)> on_error;
  // Every repo/watch_branch_result for the branch, success or failure, after
  // the client has re-sent the pending updates of a successful one.
  std::function<void(const inst::WatchBranchResultMessage&)> on_watch_result;
};

// The client's per-branch delivery state of local updates (9.11):
// "syncing" when a branch's pending set becomes non-empty, "synced" after an
// acknowledgement leaves it empty (also for an unknown updateId, N61).
struct SyncUpdatesEvent {
  enum class Type { kSyncing, kSynced };
  Type type = Type::kSyncing;
  inst::BranchNamespace ns;
  friend bool operator==(const SyncUpdatesEvent&,
                         const SyncUpdatesEvent&) = default;
};

// A presence event of a watched branch (repo/connected_to_branch or
// repo/disconnected_from_branch), after de-duplication against the branch's
// known-device table; `synthesized` marks the disconnects the client makes
// up for every known device when the socket is lost.
struct DeviceEvent {
  bool connected = false;
  inst::ConnectionInfo connection;
  bool synthesized = false;
};

// The result of one sync/time exchange, in epoch ms (`current_time` is the
// client clock when the response arrived).
struct ServerTimeSample {
  double client_request_time = 0;
  double current_time = 0;
  double server_receive_time = 0;
  double server_transmit_time = 0;
};

// The outcome of AddUpdates: the id the updates were queued under (0 when
// `updates` was empty and nothing happened) and what the connection said
// to the send. A failed send still leaves the updates queued for resend.
struct AddUpdatesResult {
  int64_t update_id = 0;
  absl::Status send_status;
};

class InstRecordsClient {
 public:
  // `connection` is not owned and must outlive the client; the client must
  // outlive every subscription it hands out.
  explicit InstRecordsClient(ConnectionClient& connection,
                             InstRecordsClientOptions options = {});
  InstRecordsClient(const InstRecordsClient&) = delete;
  InstRecordsClient& operator=(const InstRecordsClient&) = delete;
  ~InstRecordsClient();

  ConnectionClient& connection() const { return connection_; }

  // Watches a branch (8.3). On every "connected" state (the current one
  // included) it sends repo/unwatch_branch first if a watch result was
  // received for the branch since the last unwatch, then
  // {type, recordName, inst, branch, temporary?, markers?} (`temporary` only
  // when true, `markers` only when given), and restarts the initial-snapshot
  // hold-back. After every successful watch result it re-sends the branch's
  // pending updates with their original ids. Acknowledgements for the branch
  // are processed only while some watch of it is active, and never drop
  // entries of a temporary watch. Dropping the subscription stops the
  // callbacks and sends repo/unwatch_branch if the connection is connected.
  // Like upstream, the watch takes a new place in the delivery order of
  // messages at every "connected" state (so of two watches of one branch,
  // the one renewed last hears a message last); nothing is routed to it
  // before its first "connected" state.
  [[nodiscard]] rx::Subscription WatchBranch(
      const inst::BranchNamespace& ns, bool temporary,
      std::optional<std::vector<std::string>> markers,
      BranchWatchCallbacks callbacks);

  // Queues `updates` (ignored when empty) under the next client-wide id
  // (from 1, never reset) and sends {type:"repo/add_updates", recordName,
  // inst, branch, updates, updateId} at once, whatever the connection state
  // (8.4). Emits "syncing" when the branch's pending set was empty.
  AddUpdatesResult AddUpdates(const inst::BranchNamespace& ns,
                              std::vector<std::string> updates);

  // Delivery state of local updates per branch (see SyncUpdatesEvent).
  [[nodiscard]] rx::Subscription OnSyncUpdates(
      std::function<void(const SyncUpdatesEvent&)> callback);

  // One-shot history request: at the first "connected" state sends
  // repo/get_updates, then reports the first repo/add_updates for the
  // branch (whatever its kind) and stops.
  [[nodiscard]] rx::Subscription GetUpdates(
      const inst::BranchNamespace& ns,
      std::function<void(const inst::AddUpdatesMessage&)> callback);

  // Connection count of a record / inst / branch (nullopt = null on the
  // wire). Stays subscribed: sends repo/connection_count on every
  // "connected" state and reports the first matching reply after each send
  // (so a count is re-requested after every reconnect, N46).
  [[nodiscard]] rx::Subscription ConnectionCount(
      inst::RecordName record_name, std::optional<std::string> inst,
      std::optional<std::string> branch, std::function<void(double)> callback);

  // Watches the devices of a branch (10.3). On every "connected" state sends
  // repo/watch_branch_devices, after repo/unwatch_branch_devices when the
  // previous state was also "connected" or another watch of the branch is
  // in force (the flag is per branch, client-wide, as upstream); reports
  // non-broadcast
  // connected/disconnected events for the branch, de-duplicated by the
  // branch's known-device table (client-wide; a connect for a known id or a
  // disconnect for an unknown one is dropped). On socket loss reports a
  // synthesised disconnect for every known device (see
  // clear_known_devices_on_disconnect). Dropping the subscription sends
  // repo/unwatch_branch_devices if connected and watching.
  [[nodiscard]] rx::Subscription WatchBranchDevices(
      const inst::BranchNamespace& ns,
      std::function<void(const DeviceEvent&)> callback);

  // Sends {type:"repo/send_action", recordName, inst, branch, action}.
  absl::Status SendAction(const inst::BranchNamespace& ns,
                          const inst::RemoteAction& action);

  // Every rate_limit_exceeded message from the first "connected" state on.
  [[nodiscard]] rx::Subscription OnRateLimitExceeded(
      std::function<void(const inst::RateLimitExceededMessage&)> callback);

  // One time sample: at the first "connected" state sends
  // {type:"sync/time", id, clientRequestTime} (ids count from 1 per client)
  // and reports the response with that id.
  [[nodiscard]] rx::Subscription SampleServerTime(
      std::function<void(const ServerTimeSample&)> callback);

  // Passes through to the connection's forced_offline (true disconnects and
  // stops reconnecting, false connects again).
  bool forced_offline() const { return connection_.forced_offline(); }
  void set_forced_offline(bool offline);

  // Runs one timed-resend check now (what the timer does every
  // check_interval_ms): re-sends each due entry, counting the try.
  void CheckResends();

  // The number of unacknowledged updates of a branch (for tests and stats).
  size_t PendingCount(const inst::BranchNamespace& ns) const;

 private:
  struct Pending;
  struct PendingBranch;
  struct KnownDevices;
  struct Timer;
  class BranchWatch;
  class DeviceWatch;
  friend class BranchWatch;
  friend class DeviceWatch;

  using NsKey = std::tuple<inst::RecordName, std::string, std::string>;
  static NsKey KeyOf(const inst::BranchNamespace& ns);

  double Now() const;
  PendingBranch& PendingFor(const inst::BranchNamespace& ns);
  void SendPending(const inst::BranchNamespace& ns, int64_t id,
                   const std::vector<std::string>& updates);
  void ResendAll(const inst::BranchNamespace& ns);
  void Acknowledge(const inst::BranchNamespace& ns,
                   std::optional<double> update_id);
  KnownDevices& DevicesFor(const inst::BranchNamespace& ns);
  void ScheduleTimer();

  ConnectionClient& connection_;
  InstRecordsClientOptions options_;
  int64_t update_counter_ = 0;
  double time_sync_counter_ = 0;
  // Pending updates, in the order their branches first got one.
  std::vector<std::unique_ptr<PendingBranch>> pending_;
  // Branches for which a watch result arrived since the last unwatch.
  std::set<NsKey> watch_answered_;
  // Branches whose devices some DeviceWatch is watching on this connection.
  std::set<NsKey> device_watched_;
  std::map<NsKey, std::unique_ptr<KnownDevices>> devices_;
  rx::Subject<SyncUpdatesEvent> sync_events_;
  std::unique_ptr<Timer> timer_;
};

// The display form "recordName/inst/branch" of a namespace (for logs).
std::string NamespaceToString(const inst::BranchNamespace& ns);

}  // namespace auxsync::client

#endif  // AUXSYNC_CLIENT_INST_RECORDS_CLIENT_H_
