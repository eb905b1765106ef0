#include "auxsync/client/inst_records_client.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <list>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"

namespace auxsync::client {

namespace {

using inst::BranchNamespace;

// Runs `fn` on the operation behind `weak` if it is still alive and not
// stopped. The lock keeps it alive for the call, so a callback inside `fn`
// may drop the operation's handle.
template <typename Op, typename Fn>
void WithOp(const std::weak_ptr<Op>& weak, Fn&& fn) {
  std::shared_ptr<Op> self = weak.lock();
  if (self != nullptr && !self->stopped) fn(*self);
}

// The handle of an operation: dropping it stops the operation.
template <typename Op>
rx::Subscription Handle(std::shared_ptr<Op> op) {
  return rx::Subscription([op = std::move(op)]() { op->Stop(); });
}

}  // namespace

struct InstRecordsClient::Pending {
  std::vector<std::string> updates;
  double sent_time = 0;
  double last_try = 0;
  int tries = 1;
};

struct InstRecordsClient::PendingBranch {
  BranchNamespace ns;
  std::map<int64_t, Pending> entries;  // by updateId, i.e. send order
};

// A branch's known devices in the order they connected (the synthesised
// disconnects follow it).
struct InstRecordsClient::KnownDevices {
  std::list<inst::ConnectionInfo> order;
  absl::flat_hash_map<std::string, std::list<inst::ConnectionInfo>::iterator>
      by_id;

  bool Has(const std::string& id) const { return by_id.contains(id); }
  void Add(const inst::ConnectionInfo& info) {
    order.push_back(info);
    by_id[info.connection_id] = std::prev(order.end());
  }
  void Remove(const std::string& id) {
    auto it = by_id.find(id);
    if (it == by_id.end()) return;
    order.erase(it->second);
    by_id.erase(it);
  }
  void Clear() {
    order.clear();
    by_id.clear();
  }
};

struct InstRecordsClient::Timer {
  explicit Timer(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  // Cleared when the client dies, so a late completion touches nothing.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  ~Timer() { *alive = false; }
};

// --- Branch watch -----------------------------------------------------------

class InstRecordsClient::BranchWatch
    : public std::enable_shared_from_this<BranchWatch> {
 public:
  BranchWatch(InstRecordsClient& client, BranchNamespace ns, bool temporary,
              std::optional<std::vector<std::string>> markers,
              BranchWatchCallbacks callbacks)
      : client_(client),
        ns_(std::move(ns)),
        temporary_(temporary),
        markers_(std::move(markers)),
        callbacks_(std::move(callbacks)) {}

  void Start() {
    std::weak_ptr<BranchWatch> weak = weak_from_this();
    state_sub_ = client_.connection_.OnConnectionState(
        [weak](const ClientConnectionState& s) {
          WithOp(weak, [&](BranchWatch& w) { w.OnState(s); });
        });
  }

  void Stop() {
    if (stopped) return;
    stopped = true;
    state_sub_.Unsubscribe();
    message_sub_.Unsubscribe();
    error_sub_.Unsubscribe();
    client_.watch_answered_.erase(KeyOf(ns_));
    if (client_.connection_.is_connected()) {
      (void)client_.connection_.Send(inst::UnwatchBranchMessage{ns_});
    }
  }

  bool stopped = false;

 private:
  enum class Phase { kNone, kWaiting, kFlowing };

  void OnState(const ClientConnectionState& state) {
    // As upstream, a disconnected state changes nothing here: the watch
    // keeps listening, and the next connected state starts over.
    if (!state.connected) return;
    NsKey key = KeyOf(ns_);
    if (client_.watch_answered_.erase(key) > 0) {
      (void)client_.connection_.Send(inst::UnwatchBranchMessage{ns_});
    }
    inst::WatchBranchMessage watch{
        .ns = ns_, .temporary = std::nullopt, .markers = markers_};
    if (temporary_) watch.temporary = true;
    (void)client_.connection_.Send(watch);
    phase_ = Phase::kNone;
    held_.clear();
    // Upstream subscribes to the branch's messages anew on every connected
    // state (a switchMap), which moves this watch behind the others in
    // delivery order; subscribing again here keeps that order.
    std::weak_ptr<BranchWatch> weak = weak_from_this();
    ConnectionClient& conn = client_.connection_;
    message_sub_ = conn.OnMessage([weak](const inst::Message& m) {
      WithOp(weak, [&](BranchWatch& w) { w.OnMessage(m); });
    });
    error_sub_ = conn.OnError([weak](const inst::ErrorInfo& e) {
      WithOp(weak, [&](BranchWatch& w) { w.OnError(e); });
    });
  }

  void OnMessage(const inst::Message& message) {
    if (const auto* m = std::get_if<inst::AddUpdatesMessage>(&message)) {
      if (m->ns == ns_) OnAddUpdates(*m);
    } else if (const auto* m =
                   std::get_if<inst::WatchBranchResultMessage>(&message)) {
      if (m->ns != ns_) return;
      client_.watch_answered_.insert(KeyOf(ns_));
      if (m->success) client_.ResendAll(ns_);
      if (!stopped && callbacks_.on_watch_result)
        callbacks_.on_watch_result(*m);
    } else if (const auto* m =
                   std::get_if<inst::UpdatesReceivedMessage>(&message)) {
      if (m->ns != ns_) return;
      if (!temporary_) client_.Acknowledge(ns_, m->update_id);
      if (!stopped && m->error_code == "max_size_reached" &&
          callbacks_.on_max_size) {
        callbacks_.on_max_size(*m);
      }
    } else if (const auto* m =
                   std::get_if<inst::ReceiveActionMessage>(&message)) {
      if (m->ns == ns_ && callbacks_.on_action) callbacks_.on_action(*m);
    }
  }

  void OnAddUpdates(const inst::AddUpdatesMessage& m) {
    bool initial = m.initial.value_or(false);
    switch (phase_) {
      case Phase::kFlowing:
        Emit(BranchUpdates{m.updates, m.timestamps, false});
        return;
      case Phase::kNone:
        if (initial) {
          phase_ = Phase::kFlowing;
          Emit(BranchUpdates{m.updates, m.timestamps, true});
        } else {
          phase_ = Phase::kWaiting;
          held_.push_back(m.updates);
        }
        return;
      case Phase::kWaiting:
        if (!initial) {
          held_.push_back(m.updates);
          return;
        }
        phase_ = Phase::kFlowing;
        BranchUpdates merged;
        merged.initial = true;
        for (std::vector<std::string>& h : held_) {
          for (std::string& u : h) merged.updates.push_back(std::move(u));
        }
        held_.clear();
        merged.updates.insert(merged.updates.end(), m.updates.begin(),
                              m.updates.end());
        Emit(merged);
        return;
    }
  }

  void Emit(const BranchUpdates& updates) {
    if (callbacks_.on_updates) callbacks_.on_updates(updates);
  }

  void OnError(const inst::ErrorInfo& error) {
    std::optional<BranchNamespace> ns = error.branch();
    if (ns.has_value() && *ns == ns_ && callbacks_.on_error) {
      callbacks_.on_error(error);
    }
  }

  InstRecordsClient& client_;
  const BranchNamespace ns_;
  const bool temporary_;
  const std::optional<std::vector<std::string>> markers_;
  BranchWatchCallbacks callbacks_;
  Phase phase_ = Phase::kNone;
  std::vector<std::vector<std::string>> held_;
  rx::Subscription state_sub_;
  rx::Subscription message_sub_;
  rx::Subscription error_sub_;
};

// --- Device watch -----------------------------------------------------------

class InstRecordsClient::DeviceWatch
    : public std::enable_shared_from_this<DeviceWatch> {
 public:
  DeviceWatch(InstRecordsClient& client, BranchNamespace ns,
              std::function<void(const DeviceEvent&)> callback)
      : client_(client), ns_(std::move(ns)), callback_(std::move(callback)) {}

  void Start() {
    std::weak_ptr<DeviceWatch> weak = weak_from_this();
    state_sub_ = client_.connection_.OnConnectionState(
        [weak](const ClientConnectionState& s) {
          WithOp(weak, [&](DeviceWatch& w) { w.OnState(s); });
        });
  }

  void Stop() {
    if (stopped) return;
    stopped = true;
    state_sub_.Unsubscribe();
    EndWatch();
  }

  bool stopped = false;

 private:
  // Ends the watch of the previous connected state (upstream's finalize of
  // the inner watch): the branch no longer counts as device-watched, and
  // the server is told so if the socket is open.
  void EndWatch() {
    if (!watching_) return;
    watching_ = false;
    message_sub_.Unsubscribe();
    client_.device_watched_.erase(KeyOf(ns_));
    if (client_.connection_.is_connected()) {
      (void)client_.connection_.Send(inst::UnwatchBranchDevicesMessage{ns_});
    }
  }

  void OnState(const ClientConnectionState& state) {
    // Each state replaces the previous one's work (a switchMap upstream).
    EndWatch();
    if (state.connected) {
      // The device-watched flag is per branch and client-wide: a second
      // watch of a branch that is already watched unwatches first.
      NsKey key = KeyOf(ns_);
      if (client_.device_watched_.contains(key)) {
        (void)client_.connection_.Send(inst::UnwatchBranchDevicesMessage{ns_});
      }
      client_.device_watched_.insert(key);
      watching_ = true;
      (void)client_.connection_.Send(inst::WatchBranchDevicesMessage{ns_});
      std::weak_ptr<DeviceWatch> weak = weak_from_this();
      message_sub_ =
          client_.connection_.OnMessage([weak](const inst::Message& m) {
            WithOp(weak, [&](DeviceWatch& w) { w.OnMessage(m); });
          });
      return;
    }
    KnownDevices& known = client_.DevicesFor(ns_);
    std::vector<inst::ConnectionInfo> devices(known.order.begin(),
                                              known.order.end());
    if (client_.options_.clear_known_devices_on_disconnect) known.Clear();
    for (const inst::ConnectionInfo& device : devices) {
      if (stopped) return;
      callback_(DeviceEvent{
          .connected = false, .connection = device, .synthesized = true});
    }
  }

  void OnMessage(const inst::Message& message) {
    if (!watching_) return;
    if (const auto* m = std::get_if<inst::ConnectedToBranchMessage>(&message)) {
      if (m->broadcast || m->branch.ns != ns_) return;
      KnownDevices& known = client_.DevicesFor(ns_);
      if (known.Has(m->connection.connection_id)) return;
      known.Add(m->connection);
      callback_(DeviceEvent{.connected = true,
                            .connection = m->connection,
                            .synthesized = false});
    } else if (const auto* m =
                   std::get_if<inst::DisconnectedFromBranchMessage>(&message)) {
      if (m->broadcast || m->ns != ns_) return;
      KnownDevices& known = client_.DevicesFor(ns_);
      if (!known.Has(m->connection.connection_id)) return;
      known.Remove(m->connection.connection_id);
      callback_(DeviceEvent{.connected = false,
                            .connection = m->connection,
                            .synthesized = false});
    }
  }

  InstRecordsClient& client_;
  const BranchNamespace ns_;
  std::function<void(const DeviceEvent&)> callback_;
  // True while the watch of the current connected state is in force.
  bool watching_ = false;
  rx::Subscription state_sub_;
  rx::Subscription message_sub_;
};

// --- Small one-purpose operations -------------------------------------------

namespace {

// Repeating request: sends on every connected state, reports the first
// matching reply after each send.
struct CountOp : std::enable_shared_from_this<CountOp> {
  ConnectionClient* conn = nullptr;
  inst::ConnectionCountMessage request;
  std::function<void(double)> callback;
  bool stopped = false;
  rx::Subscription state_sub;
  rx::Subscription message_sub;

  void Start() {
    std::weak_ptr<CountOp> weak = weak_from_this();
    state_sub = conn->OnConnectionState([weak](const ClientConnectionState& s) {
      WithOp(weak, [&](CountOp& op) {
        if (!s.connected) return;
        (void)op.conn->Send(op.request);
        op.Listen(weak);
      });
    });
  }
  // Waits for the first matching reply (subscribing anew, as upstream's
  // switchMap does after every send).
  void Listen(const std::weak_ptr<CountOp>& weak) {
    message_sub = conn->OnMessage([weak](const inst::Message& message) {
      WithOp(weak, [&](CountOp& op) {
        const auto* m = std::get_if<inst::ConnectionCountMessage>(&message);
        if (m == nullptr || m->record_name != op.request.record_name ||
            m->inst != op.request.inst || m->branch != op.request.branch) {
          return;
        }
        op.message_sub.Unsubscribe();
        op.callback(m->count.value_or(0));
      });
    });
  }
  void Stop() {
    stopped = true;
    state_sub.Unsubscribe();
    message_sub.Unsubscribe();
  }
};

// One-shot request: sends at the first connected state, reports the first
// matching reply, then does nothing more.
template <typename Request, typename Reply>
struct OneShotOp : std::enable_shared_from_this<OneShotOp<Request, Reply>> {
  ConnectionClient* conn = nullptr;
  Request request;
  std::function<bool(const Reply&)> matches;
  std::function<void(const Reply&)> callback;
  // Fills in the request just before it is sent (may be empty).
  std::function<void(Request&)> before_send;
  bool sent = false;
  bool done = false;
  bool stopped = false;
  rx::Subscription state_sub;
  rx::Subscription message_sub;

  void Start() {
    std::weak_ptr<OneShotOp> weak = this->weak_from_this();
    state_sub = conn->OnConnectionState([weak](const ClientConnectionState& s) {
      WithOp(weak, [&](OneShotOp& op) {
        if (!s.connected || op.sent) return;
        op.sent = true;
        op.state_sub.Unsubscribe();
        if (op.before_send) op.before_send(op.request);
        (void)op.conn->Send(op.request);
        op.message_sub =
            op.conn->OnMessage([weak](const inst::Message& message) {
              WithOp(weak, [&](OneShotOp& op) {
                const auto* m = std::get_if<Reply>(&message);
                if (op.done || m == nullptr || !op.matches(*m)) return;
                op.done = true;
                op.message_sub.Unsubscribe();
                op.callback(*m);
              });
            });
      });
    });
  }
  void Stop() {
    stopped = true;
    state_sub.Unsubscribe();
    message_sub.Unsubscribe();
  }
};

// Stream of rate_limit_exceeded messages from the first connected state on.
struct RateLimitOp : std::enable_shared_from_this<RateLimitOp> {
  ConnectionClient* conn = nullptr;
  std::function<void(const inst::RateLimitExceededMessage&)> callback;
  bool stopped = false;
  rx::Subscription state_sub;
  rx::Subscription message_sub;

  void Start() {
    std::weak_ptr<RateLimitOp> weak = weak_from_this();
    state_sub = conn->OnConnectionState([weak](const ClientConnectionState& s) {
      WithOp(weak, [&](RateLimitOp& op) {
        if (!s.connected) return;
        op.message_sub =
            op.conn->OnMessage([weak](const inst::Message& message) {
              WithOp(weak, [&](RateLimitOp& op) {
                const auto* m =
                    std::get_if<inst::RateLimitExceededMessage>(&message);
                if (m != nullptr) op.callback(*m);
              });
            });
      });
    });
  }
  void Stop() {
    stopped = true;
    state_sub.Unsubscribe();
    message_sub.Unsubscribe();
  }
};

}  // namespace

// --- InstRecordsClient ------------------------------------------------------

InstRecordsClient::InstRecordsClient(ConnectionClient& connection,
                                     InstRecordsClientOptions options)
    : connection_(connection), options_(std::move(options)) {
  if (options_.resend_updates && options_.io != nullptr) {
    timer_ = std::make_unique<Timer>(*options_.io);
    ScheduleTimer();
  }
}

InstRecordsClient::~InstRecordsClient() = default;

InstRecordsClient::NsKey InstRecordsClient::KeyOf(const BranchNamespace& ns) {
  return NsKey(ns.record_name, ns.inst, ns.branch);
}

double InstRecordsClient::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void InstRecordsClient::ScheduleTimer() {
  timer_->timer.expires_after(std::chrono::microseconds(
      static_cast<int64_t>(std::max(1.0, options_.check_interval_ms) * 1000)));
  std::weak_ptr<bool> alive = timer_->alive;
  timer_->timer.async_wait([this, alive](const boost::system::error_code& ec) {
    std::shared_ptr<bool> a = alive.lock();
    if (ec || a == nullptr || !*a) return;
    CheckResends();
    ScheduleTimer();
  });
}

rx::Subscription InstRecordsClient::WatchBranch(
    const BranchNamespace& ns, bool temporary,
    std::optional<std::vector<std::string>> markers,
    BranchWatchCallbacks callbacks) {
  auto watch = std::make_shared<BranchWatch>(
      *this, ns, temporary, std::move(markers), std::move(callbacks));
  watch->Start();
  return Handle(std::move(watch));
}

InstRecordsClient::PendingBranch& InstRecordsClient::PendingFor(
    const BranchNamespace& ns) {
  for (std::unique_ptr<PendingBranch>& p : pending_) {
    if (p->ns == ns) return *p;
  }
  pending_.push_back(std::make_unique<PendingBranch>());
  pending_.back()->ns = ns;
  return *pending_.back();
}

size_t InstRecordsClient::PendingCount(const BranchNamespace& ns) const {
  for (const std::unique_ptr<PendingBranch>& p : pending_) {
    if (p->ns == ns) return p->entries.size();
  }
  return 0;
}

void InstRecordsClient::SendPending(const BranchNamespace& ns, int64_t id,
                                    const std::vector<std::string>& updates) {
  (void)connection_.Send(
      inst::AddUpdatesMessage{.ns = ns,
                              .updates = updates,
                              .update_id = static_cast<double>(id),
                              .initial = std::nullopt,
                              .timestamps = std::nullopt});
}

AddUpdatesResult InstRecordsClient::AddUpdates(
    const BranchNamespace& ns, std::vector<std::string> updates) {
  AddUpdatesResult result;
  if (updates.empty()) return result;
  PendingBranch& branch = PendingFor(ns);
  int64_t id = ++update_counter_;
  double now = Now();
  Pending& entry = branch.entries[id];
  entry.updates = std::move(updates);
  entry.sent_time = now;
  entry.last_try = now;
  entry.tries = 1;
  result.update_id = id;
  result.send_status = connection_.Send(
      inst::AddUpdatesMessage{.ns = ns,
                              .updates = entry.updates,
                              .update_id = static_cast<double>(id),
                              .initial = std::nullopt,
                              .timestamps = std::nullopt});
  if (branch.entries.size() == 1) {
    sync_events_.Next(
        SyncUpdatesEvent{.type = SyncUpdatesEvent::Type::kSyncing, .ns = ns});
  }
  return result;
}

void InstRecordsClient::ResendAll(const BranchNamespace& ns) {
  PendingBranch& branch = PendingFor(ns);
  // Copy first: Send() must not see the map change under it.
  std::vector<std::pair<int64_t, std::vector<std::string>>> entries;
  for (const auto& [id, entry] : branch.entries) {
    entries.emplace_back(id, entry.updates);
  }
  for (const auto& [id, updates] : entries) SendPending(ns, id, updates);
}

void InstRecordsClient::Acknowledge(const BranchNamespace& ns,
                                    std::optional<double> update_id) {
  PendingBranch& branch = PendingFor(ns);
  if (update_id.has_value() && std::isfinite(*update_id) &&
      *update_id == std::floor(*update_id)) {
    branch.entries.erase(static_cast<int64_t>(*update_id));
  }
  if (branch.entries.empty()) {
    sync_events_.Next(
        SyncUpdatesEvent{.type = SyncUpdatesEvent::Type::kSynced, .ns = ns});
  }
}

void InstRecordsClient::CheckResends() {
  struct Due {
    BranchNamespace ns;
    int64_t id;
    std::vector<std::string> updates;
  };
  std::vector<Due> due;
  for (std::unique_ptr<PendingBranch>& branch : pending_) {
    for (auto& [id, entry] : branch->entries) {
      double retry_after = options_.resend_after_ms *
                           std::pow(2.0, std::min(entry.tries - 1, 3));
      double now = Now();
      if (entry.last_try + retry_after <= now) {
        entry.tries += 1;
        entry.last_try = now;
        due.push_back(Due{branch->ns, id, entry.updates});
      }
    }
  }
  for (const Due& d : due) SendPending(d.ns, d.id, d.updates);
}

rx::Subscription InstRecordsClient::OnSyncUpdates(
    std::function<void(const SyncUpdatesEvent&)> callback) {
  return sync_events_.Subscribe(std::move(callback));
}

rx::Subscription InstRecordsClient::GetUpdates(
    const BranchNamespace& ns,
    std::function<void(const inst::AddUpdatesMessage&)> callback) {
  using Op = OneShotOp<inst::GetUpdatesMessage, inst::AddUpdatesMessage>;
  auto op = std::make_shared<Op>();
  op->conn = &connection_;
  op->request = inst::GetUpdatesMessage{ns};
  op->matches = [ns](const inst::AddUpdatesMessage& m) { return m.ns == ns; };
  op->callback = std::move(callback);
  op->Start();
  return Handle(std::move(op));
}

rx::Subscription InstRecordsClient::ConnectionCount(
    inst::RecordName record_name, std::optional<std::string> inst,
    std::optional<std::string> branch, std::function<void(double)> callback) {
  auto op = std::make_shared<CountOp>();
  op->conn = &connection_;
  op->request = inst::ConnectionCountMessage{.record_name = record_name,
                                             .inst = inst,
                                             .branch = branch,
                                             .count = std::nullopt};
  op->callback = std::move(callback);
  op->Start();
  return Handle(std::move(op));
}

InstRecordsClient::KnownDevices& InstRecordsClient::DevicesFor(
    const BranchNamespace& ns) {
  std::unique_ptr<KnownDevices>& slot = devices_[KeyOf(ns)];
  if (slot == nullptr) slot = std::make_unique<KnownDevices>();
  return *slot;
}

rx::Subscription InstRecordsClient::WatchBranchDevices(
    const BranchNamespace& ns,
    std::function<void(const DeviceEvent&)> callback) {
  auto watch = std::make_shared<DeviceWatch>(*this, ns, std::move(callback));
  watch->Start();
  return Handle(std::move(watch));
}

absl::Status InstRecordsClient::SendAction(const BranchNamespace& ns,
                                           const inst::RemoteAction& action) {
  return connection_.Send(inst::SendActionMessage{.ns = ns, .action = action});
}

rx::Subscription InstRecordsClient::OnRateLimitExceeded(
    std::function<void(const inst::RateLimitExceededMessage&)> callback) {
  auto op = std::make_shared<RateLimitOp>();
  op->conn = &connection_;
  op->callback = std::move(callback);
  op->Start();
  return Handle(std::move(op));
}

rx::Subscription InstRecordsClient::SampleServerTime(
    std::function<void(const ServerTimeSample&)> callback) {
  using Op = OneShotOp<inst::SyncTimeMessage, inst::SyncTimeResponseMessage>;
  double id = ++time_sync_counter_;
  auto op = std::make_shared<Op>();
  op->conn = &connection_;
  op->request.id = id;
  op->matches = [id](const inst::SyncTimeResponseMessage& m) {
    return m.id == id;
  };
  op->callback = [this, callback = std::move(callback)](
                     const inst::SyncTimeResponseMessage& r) {
    callback(ServerTimeSample{.client_request_time = r.client_request_time,
                              .current_time = Now(),
                              .server_receive_time = r.server_receive_time,
                              .server_transmit_time = r.server_transmit_time});
  };
  // The request time is the time of sending, which may be later.
  op->before_send = [this](inst::SyncTimeMessage& request) {
    request.client_request_time = Now();
  };
  op->Start();
  return Handle(std::move(op));
}

void InstRecordsClient::set_forced_offline(bool offline) {
  connection_.set_forced_offline(offline);
}

std::string NamespaceToString(const BranchNamespace& ns) {
  return absl::StrCat(ns.record_name.value_or(""), "/", ns.inst, "/",
                      ns.branch);
}

}  // namespace auxsync::client
