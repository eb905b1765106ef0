#include "auxsync/server/inst_server.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/inst/connection_token.h"
#include "auxsync/inst/errors.h"
#include "auxsync/inst/remote_envelopes.h"

namespace auxsync::server {
namespace {

// Bound of InstServer::compaction_failed_at_.
constexpr size_t kMaxRememberedCompactionFailures = 10'000;

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inst::ErrorEvent ServerError() {
  return inst::ErrorEvent{
      inst::kServerFrameId,
      inst::MakeErrorInfo(inst::kServerError, "A server error occurred.")};
}

void Erase(std::vector<uint64_t>& ids, uint64_t id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

}  // namespace

InstServer::InstServer(Store& store, InstServerOptions options, Clock clock)
    : store_(store),
      options_(std::move(options)),
      fanout_(options_.fanout ? *options_.fanout : single_node_),
      clock_(clock ? std::move(clock) : Clock(SystemNowMs)),
      random_(std::random_device{}()),
      rate_limiter_(options_.rate_limit_frames, options_.rate_limit_window_ms) {
  fanout_.SetReceiver(this);
}

InstServer::~InstServer() { fanout_.SetReceiver(nullptr); }

InstServer::NsKey InstServer::KeyOf(const inst::BranchNamespace& ns) {
  return NsKey(ns.record_name.has_value(), ns.record_name.value_or(""), ns.inst,
               ns.branch);
}

std::string InstServer::NewServerConnectionId() {
  // A uuid v4, like the Node server's serverConnectionId.
  uint64_t hi = random_(), lo = random_();
  hi = (hi & ~uint64_t{0xF000}) | 0x4000;
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);
  char text[37];
  std::snprintf(text, sizeof(text), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF),
                static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return text;
}

InstServer::SocketExtras& InstServer::Extras(Socket& socket) {
  if (!socket.extras) socket.extras = std::make_unique<SocketExtras>();
  return *socket.extras;
}

InstServer::SocketId InstServer::Connect(Connection* connection,
                                         std::string address) {
  SocketId id = next_id_++;
  Socket& socket = sockets_[id];
  socket.connection = connection;
  socket.address = std::move(address);
  const std::string server_connection_id = NewServerConnectionId();
  std::copy_n(
      server_connection_id.begin(),
      std::min(server_connection_id.size(), socket.server_connection_id.size()),
      socket.server_connection_id.begin());
  by_server_connection_id_[ServerConnectionId(socket)] = id;
  return id;
}

bool InstServer::HasLocalWatchers(const NsKey& key) const {
  return branch_watchers_.contains(key) || device_watchers_.contains(key);
}

void InstServer::MaybeStopListening(const inst::BranchNamespace& ns) {
  if (!HasLocalWatchers(KeyOf(ns))) fanout_.StopListening(ns);
}

void InstServer::EmitToAll(std::vector<SocketId> ids,
                           const std::string& frame) {
  for (SocketId id : ids) Emit(id, frame);
}

void InstServer::DeliverToBranchWatchers(const inst::BranchNamespace& ns,
                                         const std::string& frame) {
  if (auto it = branch_watchers_.find(KeyOf(ns)); it != branch_watchers_.end())
    EmitToAll(it->second, frame);
}

void InstServer::DeliverToDeviceWatchers(const inst::BranchNamespace& ns,
                                         const std::string& frame) {
  if (auto it = device_watchers_.find(KeyOf(ns)); it != device_watchers_.end())
    EmitToAll(it->second, frame);
}

void InstServer::DeliverToSockets(const std::vector<std::string>& sockets,
                                  const std::string& frame) {
  for (const std::string& s : sockets) {
    if (auto it = by_server_connection_id_.find(s);
        it != by_server_connection_id_.end()) {
      Emit(it->second, frame);
    }
  }
}

void InstServer::ResyncBranch(const inst::BranchNamespace& ns) {
  auto watchers = branch_watchers_.find(KeyOf(ns));
  if (watchers == branch_watchers_.end()) return;
  absl::StatusOr<std::vector<StoredUpdate>> updates = store_.GetUpdates(ns);
  // Unreadable now: the next gap or watch reads it again; nothing
  // acknowledged is lost, it stays in the store.
  if (!updates.ok() || updates->empty()) return;
  inst::AddUpdatesMessage all;
  all.ns = ns;
  all.updates.reserve(updates->size());
  for (StoredUpdate& u : *updates) all.updates.push_back(std::move(u.update));
  EmitToAll(watchers->second, inst::EncodeMessageFrame(all));
}

void InstServer::Emit(SocketId id, std::string frame) {
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return;
  ++stats_.frames_out;
  if (batch_open_) {
    held_.push_back(HeldFrame{id, std::move(frame), false});
  } else {
    it->second.connection->Send(std::move(frame));
  }
}

void InstServer::EmitShared(SocketId id,
                            const std::shared_ptr<const std::string>& frame) {
  if (batch_open_) {
    Emit(id, *frame);  // held back as a copy, like every held frame
    return;
  }
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return;
  ++stats_.frames_out;
  it->second.connection->SendShared(frame);
}

void InstServer::CloseSocket(SocketId id) {
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return;
  if (batch_open_) {
    held_.push_back(HeldFrame{id, std::string(), true});
  } else {
    it->second.connection->Close();
  }
}

void InstServer::OpenBatch() {
  if (batch_open_ || !options_.schedule_flush) return;
  // Without a batch the write simply commits on its own.
  if (!store_.BeginBatch().ok()) return;
  batch_open_ = true;
  options_.schedule_flush([this] { Flush(); });
}

void InstServer::Flush() {
  if (!batch_open_) return;
  absl::Status committed = store_.CommitBatch();
  batch_open_ = false;
  std::vector<HeldFrame> held = std::move(held_);
  held_.clear();
  std::vector<std::pair<inst::BranchNamespace, std::string>> publications =
      std::move(held_publications_);
  held_publications_.clear();
  if (committed.ok()) {
    ++stats_.group_commits;
    for (const auto& [ns, frame] : publications) {
      fanout_.PublishUpdates(ns, frame);
    }
  } else {
    ++stats_.group_commit_failures;
  }
  std::set<SocketId> closed;
  for (HeldFrame& h : held) {
    // Sockets that closed meanwhile are gone (ids are never reused).
    auto it = sockets_.find(h.id);
    if (it == sockets_.end()) continue;
    if (!committed.ok()) {
      // Nothing of the batch is stored: whatever these frames said about
      // it is untrue, so the socket is closed instead.
      if (closed.insert(h.id).second) it->second.connection->Close();
    } else if (h.close) {
      it->second.connection->Close();
    } else {
      it->second.connection->Send(std::move(h.frame));
    }
  }
}

void InstServer::Send(SocketId id, const inst::Message& message) {
  Emit(id, inst::EncodeMessageFrame(message));
}

void InstServer::SendError(SocketId id, const inst::ErrorEvent& error) {
  Emit(id, inst::EncodeFrame(inst::Event(error)));
}

void InstServer::HandleFrame(SocketId id, std::string_view text) {
  int64_t receive_time = clock_();
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return;
  ++stats_.frames_in;
  if (rate_limiter_.enabled()) {
    RateLimitResult hit = rate_limiter_.Hit(it->second.address, receive_time);
    if (!hit.allowed) {
      // Dropped unprocessed; told only when a second has passed since the
      // socket's previous dropped frame (5.15).
      ++stats_.rate_limited_frames;
      std::optional<int64_t>& last = Extras(it->second).last_dropped_ms;
      bool notify = !last || receive_time - *last >= 1000;
      last = receive_time;
      if (notify) {
        inst::RateLimitExceededMessage m;
        m.retry_after = hit.retry_after_seconds;
        m.total_hits = static_cast<double>(hit.total_hits);
        Send(id, m);
      }
      return;
    }
  }
  absl::StatusOr<inst::Event> event = inst::DecodeFrame(
      text, inst::Direction::kClientToServer, options_.limits);
  if (!event.ok()) {
    ++stats_.bad_frames;
    if (std::optional<std::string> reply =
            inst::ServerReplyToBadFrame(event.status())) {
      Emit(id, std::move(*reply));
    }
    return;
  }
  if (auto* m = std::get_if<inst::MessageEvent>(&*event)) {
    OnMessage(id, m->id, std::move(m->message), receive_time);
  } else if (auto* up = std::get_if<inst::UploadRequestEvent>(&*event)) {
    Emit(id, inst::UploadNotSupportedFrame(up->id));
  } else if (auto* down = std::get_if<inst::DownloadRequestEvent>(&*event)) {
    Emit(id, inst::DownloadNotFoundFrame(down->id));
  }
  // Upload responses and errors from a client are ignored (2.2 step 3).
}

void InstServer::OnMessage(SocketId id, double request_id,
                           inst::Message message, int64_t receive_time) {
  (void)request_id;
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, inst::LoginMessage>) {
          OnLogin(id, m);
        } else if constexpr (std::is_same_v<T, inst::WatchBranchMessage>) {
          OnWatchBranch(id, m);
        } else if constexpr (std::is_same_v<T, inst::UnwatchBranchMessage>) {
          OnUnwatchBranch(id, m);
        } else if constexpr (std::is_same_v<T, inst::AddUpdatesMessage>) {
          OnAddUpdates(id, m);
        } else if constexpr (std::is_same_v<T, inst::GetUpdatesMessage>) {
          OnGetUpdates(id, m);
        } else if constexpr (std::is_same_v<T,
                                            inst::WatchBranchDevicesMessage>) {
          OnWatchDevices(id, m);
        } else if constexpr (std::is_same_v<
                                 T, inst::UnwatchBranchDevicesMessage>) {
          OnUnwatchDevices(id, m);
        } else if constexpr (std::is_same_v<T, inst::ConnectionCountMessage>) {
          OnConnectionCount(id, m);
        } else if constexpr (std::is_same_v<T, inst::SendActionMessage>) {
          OnSendAction(id, m);
        } else if constexpr (std::is_same_v<T, inst::SyncTimeMessage>) {
          inst::SyncTimeResponseMessage r;
          r.id = m.id;
          r.client_request_time = m.client_request_time;
          r.server_receive_time = static_cast<double>(receive_time);
          r.server_transmit_time = static_cast<double>(clock_());
          Send(id, r);
        } else if constexpr (std::is_same_v<T, inst::HttpRequestMessage>) {
          Send(id, inst::HttpNotSupportedResponse(m.id));
        } else if constexpr (std::is_same_v<
                                 T, inst::RequestMissingPermissionMessage>) {
          OnRequestMissingPermission(id, m);
        } else if constexpr (
            std::is_same_v<T, inst::RequestMissingPermissionResponseMessage>) {
          OnRespondMissingPermission(id, m);
        }
        // Other types do not decode in the client direction.
      },
      message);
}

bool InstServer::RequireLogin(SocketId id, Socket& socket,
                              const std::optional<inst::BranchNamespace>& ns) {
  if (socket.identity) return true;
  SendError(id,
            ns ? inst::InvalidConnectionState(*ns, ServerConnectionId(socket))
               : inst::InvalidConnectionState(ServerConnectionId(socket)));
  CloseSocket(id);
  return false;
}

std::optional<InstServer::Denial> InstServer::CheckAccess(
    const Socket& socket, const inst::BranchNamespace& ns, const Needs& needs) {
  using Kind = Denial::Kind;
  // Public insts are open to everyone (4.3).
  if (!ns.record_name) return std::nullopt;
  // Every record inst is private (no publicRead marker in this model), so
  // an anonymous socket is refused as the policy engine refuses it.
  if (!socket.identity || !socket.identity->user_id) {
    return Denial{Kind::kNotLoggedIn};
  }
  // The token scope first (3.5), then the inst's existence, then the
  // policy: the order the real controller checks them in.
  if (!socket.extras ||
      !socket.extras->token_scopes.contains({*ns.record_name, ns.inst})) {
    return Denial{Kind::kTokenScope};
  }
  absl::StatusOr<bool> exists = store_.InstExists(*ns.record_name, ns.inst);
  if (!exists.ok()) return Denial{Kind::kServerError};
  if (!*exists && needs.missing_not_found) return Denial{Kind::kInstNotFound};
  const std::vector<InstAction>& actions =
      *exists ? needs.if_exists : needs.if_missing;
  if (actions.empty()) return std::nullopt;
  const std::string& user_id = *socket.identity->user_id;
  std::optional<RecordGrant> grant;
  if (user_id != *ns.record_name) {
    absl::StatusOr<std::optional<RecordGrant>> stored =
        store_.GetGrant(*ns.record_name, user_id);
    if (!stored.ok()) return Denial{Kind::kServerError};
    grant = std::move(*stored);
  }
  for (InstAction action : actions) {
    if (!PermitsInstAction(user_id, *ns.record_name, grant, action)) {
      return Denial{Kind::kMissingPermission, action};
    }
  }
  return std::nullopt;
}

inst::ErrorEvent InstServer::DenialError(const Socket& socket,
                                         const Denial& denial,
                                         const inst::BranchNamespace& ns,
                                         bool with_namespace) const {
  using Kind = Denial::Kind;
  switch (denial.kind) {
    case Kind::kNotLoggedIn:
      return inst::ErrorEvent{
          inst::kServerFrameId,
          with_namespace
              ? inst::MakeBranchErrorInfo(inst::kNotLoggedIn,
                                          inst::kNotLoggedInMessage, ns)
              : inst::MakeErrorInfo(inst::kNotLoggedIn,
                                    inst::kNotLoggedInMessage)};
    case Kind::kTokenScope:
      return inst::TokenScopeDenied(ns);
    case Kind::kInstNotFound:
      return with_namespace ? inst::InstNotFound(ns) : inst::InstNotFound();
    case Kind::kMissingPermission: {
      // The policy failure spread into the error: {success, errorCode,
      // errorMessage, reason} then the namespace when the handler adds it
      // (checked against the Node reference server).
      inst::ErrorInfo info = inst::MakeErrorInfo(inst::kNotAuthorized,
                                                 inst::kNotAuthorizedMessage);
      bots::Object& o = info.fields.as_object();
      o.Set("reason", inst::MissingPermissionReasonValue(
                          ns.record_name.value_or(""), "user",
                          socket.identity->user_id.value_or(""), "inst",
                          ns.inst, InstActionName(denial.action)));
      if (with_namespace) {
        o.Set("recordName", ns.record_name.value_or(""));
        o.Set("inst", ns.inst);
        o.Set("branch", ns.branch);
      }
      return inst::ErrorEvent{inst::kServerFrameId, std::move(info)};
    }
    case Kind::kServerError:
      break;
  }
  return ServerError();
}

InstServer::Registration* InstServer::FindRegistration(
    Socket& socket, bool devices, const inst::BranchNamespace& ns) {
  for (Registration& r : socket.registrations) {
    if (r.devices == devices && r.ns == ns) return &r;
  }
  return nullptr;
}

void InstServer::OnLogin(SocketId id, const inst::LoginMessage& m) {
  Socket& socket = sockets_.at(id);
  const bool had_identity = socket.identity != nullptr;
  if (!m.connection_token || m.connection_token->empty()) {
    if (!m.connection_id || m.connection_id->empty()) {
      Send(id, inst::LoginFailure(inst::kUnacceptableConnectionId));
      return;
    }
    socket.identity = std::make_shared<const inst::ConnectionInfo>(
        inst::ConnectionInfo{*m.connection_id, std::nullopt, std::nullopt});
  } else {
    absl::StatusOr<inst::ConnectionToken> token =
        inst::ParseConnectionToken(*m.connection_token);
    if (!token.ok()) {
      Send(id, inst::LoginFailure(inst::kUnacceptableConnectionToken));
      return;
    }
    absl::StatusOr<std::optional<Session>> session =
        store_.GetSession(token->user_id, token->session_id);
    if (!session.ok()) {
      Send(id, inst::LoginFailure(inst::kServerError));
      return;
    }
    if (!*session ||
        !inst::VerifyConnectionToken(*token, (*session)->connection_secret) ||
        (*session)->revoked) {
      Send(id, inst::LoginFailure(inst::kInvalidToken));
      return;
    }
    if ((*session)->expire_time_ms && *(*session)->expire_time_ms <= clock_()) {
      Send(id, inst::LoginFailure(inst::kSessionExpired));
      return;
    }
    socket.identity =
        std::make_shared<const inst::ConnectionInfo>(inst::ConnectionInfo{
            token->connection_id, token->session_id, token->user_id});
    if (token->record_name) {
      Extras(socket).token_scopes.insert({*token->record_name, token->inst});
    }
  }
  if (!had_identity) fanout_.SetLocalSocketCount(++logged_in_);
  inst::LoginResultMessage result;
  result.success = true;
  result.info = *socket.identity;
  Send(id, result);
}

void InstServer::OnWatchBranch(SocketId id, const inst::WatchBranchMessage& m) {
  Socket& socket = sockets_.at(id);
  if (!RequireLogin(id, socket, m.ns)) return;
  // An existing inst needs read; a new one is created, which needs create
  // (4.2).
  if (std::optional<Denial> denied =
          CheckAccess(socket, m.ns,
                      Needs{{InstAction::kRead},
                            {InstAction::kCreate, InstAction::kRead}})) {
    switch (denied->kind) {
      case Denial::Kind::kNotLoggedIn:
      case Denial::Kind::kMissingPermission: {
        // A policy failure: spread before `type` (as the real server
        // writes it, checked against the Node reference server).
        inst::WatchBranchResultMessage result =
            denied->kind == Denial::Kind::kNotLoggedIn
                ? inst::WatchDenied(m.ns, inst::kNotLoggedIn,
                                    inst::kNotLoggedInMessage)
                : inst::WatchDenied(
                      m.ns, inst::kNotAuthorized, inst::kNotAuthorizedMessage,
                      inst::MissingPermissionReasonValue(
                          *m.ns.record_name, "user", *socket.identity->user_id,
                          "inst", m.ns.inst, InstActionName(denied->action)));
        result.key_order = {"success", "errorCode",  "errorMessage", "reason",
                            "type",    "recordName", "inst",         "branch"};
        if (denied->kind == Denial::Kind::kNotLoggedIn) {
          result.key_order.erase(result.key_order.begin() + 3);
        }
        Send(id, result);
        break;
      }
      case Denial::Kind::kTokenScope:
        Send(id, inst::TokenScopeDeniedWatchResult(m.ns));
        break;
      case Denial::Kind::kInstNotFound:
      case Denial::Kind::kServerError:
        SendError(id, ServerError());
        break;
    }
    return;
  }
  bool temporary = m.temporary.value_or(false);
  const NsKey key = KeyOf(m.ns);
  // Listening starts before the store is read, so an update another node
  // stores after the read is heard of.
  if (!HasLocalWatchers(key)) fanout_.Listen(m.ns);
  // One branch per name (7.4 allows it): a watch of an existing branch
  // keeps its temporary flag as stored.
  if (absl::Status s = store_.CreateBranch(m.ns, temporary); !s.ok()) {
    MaybeStopListening(m.ns);
    SendError(id, ServerError());
    return;
  }
  absl::StatusOr<std::vector<StoredUpdate>> updates = store_.GetUpdates(m.ns);
  if (!updates.ok()) {
    MaybeStopListening(m.ns);
    SendError(id, ServerError());
    return;
  }
  if (Registration* r = FindRegistration(socket, false, m.ns)) {
    r->temporary = temporary;
    r->identity = socket.identity;
  } else {
    socket.registrations.push_back(
        Registration{false, temporary, m.ns, socket.identity});
    branch_watchers_[key].push_back(id);
  }
  fanout_.AddWatcher(m.ns, std::string(ServerConnectionId(socket)),
                     *socket.identity, temporary);
  // 7.7: presence to the device-watchers (the watcher too, and those of
  // other nodes), then the snapshot, then the result.
  inst::ConnectedToBranchMessage presence;
  presence.branch = m;
  presence.connection = *socket.identity;
  const std::string presence_frame = inst::EncodeMessageFrame(presence);
  DeliverToDeviceWatchers(m.ns, presence_frame);
  fanout_.PublishPresence(m.ns, presence_frame);
  inst::AddUpdatesMessage initial;
  initial.ns = m.ns;
  initial.initial = true;
  initial.updates.reserve(updates->size());
  for (StoredUpdate& u : *updates)
    initial.updates.push_back(std::move(u.update));
  Send(id, initial);
  inst::WatchBranchResultMessage result;
  result.ns = m.ns;
  result.success = true;
  Send(id, result);
}

void InstServer::RemoveBranchWatch(SocketId id, Socket& socket,
                                   const inst::BranchNamespace& ns) {
  auto reg = std::find_if(
      socket.registrations.begin(), socket.registrations.end(),
      [&](const Registration& r) { return !r.devices && r.ns == ns; });
  if (reg == socket.registrations.end()) return;
  Registration removed = std::move(*reg);
  socket.registrations.erase(reg);
  NsKey key = KeyOf(ns);
  auto watchers = branch_watchers_.find(key);
  bool orphaned = true;
  if (watchers != branch_watchers_.end()) {
    Erase(watchers->second, id);
    orphaned = watchers->second.empty();
    if (orphaned) branch_watchers_.erase(watchers);
  }
  fanout_.RemoveWatcher(ns, std::string(ServerConnectionId(socket)));
  // The Node server checks the leaving registration's flag too, because a
  // non-temporary watch of the name there reads another branch (7.4). With
  // one branch per name, the stored flag alone decides: a temporary
  // branch never outlives its watchers.
  if (orphaned) {
    absl::StatusOr<std::optional<BranchInfo>> info = store_.GetBranch(ns);
    if (info.ok() && *info && (*info)->temporary) {
      store_.DeleteBranch(ns).IgnoreError();
    }
  }
  inst::DisconnectedFromBranchMessage gone;
  gone.ns = ns;
  gone.connection = *removed.identity;
  const std::string gone_frame = inst::EncodeMessageFrame(gone);
  DeliverToDeviceWatchers(ns, gone_frame);
  fanout_.PublishPresence(ns, gone_frame);
  MaybeStopListening(ns);
}

void InstServer::OnUnwatchBranch(SocketId id,
                                 const inst::UnwatchBranchMessage& m) {
  Socket& socket = sockets_.at(id);
  if (!socket.identity) return;  // 4.1: nothing happens
  RemoveBranchWatch(id, socket, m.ns);
}

void InstServer::OnAddUpdates(SocketId id, const inst::AddUpdatesMessage& m) {
  Socket& socket = sockets_.at(id);
  if (!RequireLogin(id, socket, m.ns)) return;
  if (std::optional<Denial> denied =
          CheckAccess(socket, m.ns,
                      Needs{{InstAction::kRead, InstAction::kUpdateData},
                            {InstAction::kCreate, InstAction::kRead,
                             InstAction::kUpdateData}})) {
    SendError(id, DenialError(socket, *denied, m.ns, true));
    return;
  }
  if (options_.max_inst_bytes) {
    int64_t incoming = 0;
    for (const std::string& u : m.updates) {
      incoming += static_cast<int64_t>(u.size());
    }
    absl::StatusOr<int64_t> current =
        store_.InstSize(m.ns.record_name, m.ns.inst);
    if (!current.ok()) {
      SendError(id, ServerError());
      return;
    }
    if (*current + incoming > *options_.max_inst_bytes) {
      Send(id,
           inst::MaxSizeReached(m.ns, m.update_id,
                                static_cast<double>(*options_.max_inst_bytes),
                                static_cast<double>(*current + incoming)));
      return;
    }
  }
  // Durable before anyone hears of it (with group commit: every frame from
  // here on waits for the batch's commit).
  OpenBatch();
  if (absl::Status s = store_.AppendUpdates(m.ns, m.updates, clock_());
      !s.ok()) {
    SendError(id, ServerError());
    return;
  }
  stats_.updates_stored += m.updates.size();
  if (!m.updates.empty()) {
    inst::AddUpdatesMessage broadcast;
    broadcast.ns = m.ns;
    broadcast.updates = m.updates;
    // Encoded once; the watchers' queues share the bytes.
    const auto shared = std::make_shared<const std::string>(
        inst::EncodeMessageFrame(broadcast));
    const std::string& frame = *shared;
    if (auto it = branch_watchers_.find(KeyOf(m.ns));
        it != branch_watchers_.end()) {
      for (SocketId watcher : it->second) {
        if (watcher != id) EmitShared(watcher, shared);
      }
    }
    // Other nodes hear of it after the durable write (with group commit:
    // after Flush committed it), before the ack.
    if (batch_open_) {
      held_publications_.emplace_back(m.ns, frame);
    } else {
      fanout_.PublishUpdates(m.ns, frame);
    }
  }
  if (m.update_id) {
    inst::UpdatesReceivedMessage ack;
    ack.ns = m.ns;
    ack.update_id = m.update_id;
    Send(id, ack);
  }
  MaybeCompact(m.ns);
}

void InstServer::MaybeCompact(const inst::BranchNamespace& ns) {
  if (options_.compact_after_updates <= 0) return;
  absl::StatusOr<std::optional<BranchInfo>> info = store_.GetBranch(ns);
  if (!info.ok() || !*info || (*info)->temporary ||
      (*info)->update_count < options_.compact_after_updates) {
    return;
  }
  const NsKey key = KeyOf(ns);
  if (auto failed = compaction_failed_at_.find(key);
      failed != compaction_failed_at_.end()) {
    if ((*info)->update_count <
        failed->second + options_.compact_after_updates) {
      return;
    }
    compaction_failed_at_.erase(failed);
  }
  auto give_up = [&] {
    ++stats_.compaction_failures;
    if (compaction_failed_at_.size() >= kMaxRememberedCompactionFailures) {
      compaction_failed_at_.clear();
    }
    compaction_failed_at_[key] = (*info)->update_count;
  };
  absl::StatusOr<std::vector<StoredUpdate>> updates = store_.GetUpdates(ns);
  if (!updates.ok() || updates->size() < 2) return;
  // As the CasualOS server does (spec 7.6): the updates applied in their
  // stored order to a fresh document, whose state is the snapshot. That is
  // what a watcher loading the updates would see; a merge of the updates
  // themselves can let a later update's struct take the place of an
  // earlier one of the same id (docs/compatibility.md).
  crdt::DocOptions doc_options;
  doc_options.client_id = 1;
  crdt::Doc doc(doc_options);
  for (const StoredUpdate& u : *updates) {
    absl::StatusOr<std::string> bytes = inst::Base64Decode(u.update);
    if (!bytes.ok() ||
        !crdt::ApplyUpdate(
             doc, std::span(reinterpret_cast<const uint8_t*>(bytes->data()),
                            bytes->size()))
             .ok()) {
      // A client stored bytes that are no Yjs update; keep them as they are.
      give_up();
      return;
    }
  }
  absl::StatusOr<std::vector<uint8_t>> state = crdt::EncodeStateAsUpdate(doc);
  if (!state.ok()) {
    give_up();
    return;
  }
  StoredUpdate snapshot{
      inst::Base64Encode(std::string_view(
          reinterpret_cast<const char*>(state->data()), state->size())),
      updates->back().timestamp_ms};
  absl::StatusOr<bool> replaced =
      store_.ReplaceUpdates(ns, updates->size(), snapshot);
  if (replaced.ok() && *replaced) ++stats_.compactions;
}

void InstServer::OnGetUpdates(SocketId id, const inst::GetUpdatesMessage& m) {
  Socket& socket = sockets_.at(id);
  if (!RequireLogin(id, socket, m.ns)) return;
  if (m.ns.branch.empty()) return;  // 5.8: no reply at all
  if (std::optional<Denial> denied =
          CheckAccess(socket, m.ns, Needs{{InstAction::kRead}, {}, true})) {
    SendError(id, DenialError(socket, *denied, m.ns, true));
    return;
  }
  inst::AddUpdatesMessage reply;
  reply.ns = m.ns;
  reply.timestamps.emplace();
  absl::StatusOr<std::optional<BranchInfo>> info = store_.GetBranch(m.ns);
  if (!info.ok()) {
    SendError(id, ServerError());
    return;
  }
  // Temporary branches are invisible to the history (5.8).
  if (*info && !(*info)->temporary) {
    absl::StatusOr<std::vector<StoredUpdate>> updates = store_.GetUpdates(m.ns);
    if (!updates.ok()) {
      SendError(id, ServerError());
      return;
    }
    for (StoredUpdate& u : *updates) {
      reply.updates.push_back(std::move(u.update));
      reply.timestamps->push_back(static_cast<double>(u.timestamp_ms));
    }
  }
  Send(id, reply);
}

void InstServer::OnWatchDevices(SocketId id,
                                const inst::WatchBranchDevicesMessage& m) {
  Socket& socket = sockets_.at(id);
  if (!RequireLogin(id, socket, m.ns)) return;
  // read when the inst exists; nothing to check when it does not (4.2).
  if (std::optional<Denial> denied =
          CheckAccess(socket, m.ns, Needs{{InstAction::kRead}, {}})) {
    SendError(id, DenialError(socket, *denied, m.ns, false));
    return;
  }
  NsKey key = KeyOf(m.ns);
  if (!FindRegistration(socket, true, m.ns)) {
    // Listening first, so that nobody joining on another node after the
    // listing below is missed.
    if (!HasLocalWatchers(key)) fanout_.Listen(m.ns);
    socket.registrations.push_back(
        Registration{true, false, m.ns, socket.identity});
    device_watchers_[key].push_back(id);
  }
  auto listed = [&](const inst::ConnectionInfo& identity, bool temporary) {
    inst::ConnectedToBranchMessage listing;
    listing.listing = true;
    listing.branch.ns = m.ns;
    listing.branch.temporary = temporary;
    listing.connection = identity;
    Send(id, listing);
  };
  if (auto it = branch_watchers_.find(key); it != branch_watchers_.end()) {
    for (SocketId watcher : it->second) {
      const Registration* r =
          FindRegistration(sockets_.at(watcher), false, m.ns);
      if (r != nullptr) listed(*r->identity, r->temporary);
    }
  }
  // The sockets of other nodes after the local ones.
  for (const RemoteWatcher& r : fanout_.RemoteWatchers(m.ns)) {
    listed(r.identity, r.temporary);
  }
}

void InstServer::OnUnwatchDevices(SocketId id,
                                  const inst::UnwatchBranchDevicesMessage& m) {
  Socket& socket = sockets_.at(id);
  auto reg = std::find_if(
      socket.registrations.begin(), socket.registrations.end(),
      [&](const Registration& r) { return r.devices && r.ns == m.ns; });
  if (reg == socket.registrations.end()) return;
  socket.registrations.erase(reg);
  auto it = device_watchers_.find(KeyOf(m.ns));
  if (it != device_watchers_.end()) {
    Erase(it->second, id);
    if (it->second.empty()) device_watchers_.erase(it);
  }
  MaybeStopListening(m.ns);
}

void InstServer::OnConnectionCount(SocketId id,
                                   const inst::ConnectionCountMessage& m) {
  Socket& socket = sockets_.at(id);
  inst::ConnectionCountMessage reply = m;
  if (!m.branch) {
    // Every logged-in socket of the server (5.13).
    reply.count = static_cast<double>(logged_in_ + fanout_.RemoteSocketCount());
  } else {
    inst::BranchNamespace ns{m.record_name, m.inst.value_or(""), *m.branch};
    // No namespace on these errors but the token scope's, as the real
    // server sends them.
    if (std::optional<Denial> denied =
            CheckAccess(socket, ns, Needs{{InstAction::kRead}, {}, true})) {
      inst::ErrorEvent error = DenialError(socket, *denied, ns, false);
      if (denied->kind == Denial::Kind::kTokenScope && !m.inst) {
        error.info.fields.as_object().Set("inst", nullptr);
      }
      SendError(id, error);
      return;
    }
    auto it = branch_watchers_.find(KeyOf(ns));
    size_t local = it == branch_watchers_.end() ? 0 : it->second.size();
    reply.count =
        static_cast<double>(local + fanout_.RemoteWatchers(ns).size());
  }
  Send(id, reply);
}

void InstServer::OnSendAction(SocketId id, const inst::SendActionMessage& m) {
  Socket& socket = sockets_.at(id);
  if (!RequireLogin(id, socket, m.ns)) return;
  auto it = branch_watchers_.find(KeyOf(m.ns));
  std::vector<SocketId> candidates;
  if (it != branch_watchers_.end()) candidates = it->second;
  // The watchers on other nodes are candidates too (6.2 across nodes).
  std::vector<RemoteWatcher> remote = fanout_.RemoteWatchers(m.ns);
  inst::RemoteAction action = m.action;
  if (!action.HasSelector()) {
    // 6.2 step 2: one random watcher; none means the action is dropped
    // before any check.
    size_t total = candidates.size() + remote.size();
    if (total == 0) return;
    std::uniform_int_distribution<size_t> pick(0, total - 1);
    size_t picked = pick(random_);
    if (picked < candidates.size()) {
      const Registration* r =
          FindRegistration(sockets_.at(candidates[picked]), false, m.ns);
      if (r == nullptr) return;
      action.connection_id = r->identity->connection_id;
    } else {
      action.connection_id =
          remote[picked - candidates.size()].identity.connection_id;
    }
  }
  if (std::optional<Denial> denied = CheckAccess(
          socket, m.ns,
          Needs{{InstAction::kRead, InstAction::kSendAction}, {}, true})) {
    SendError(id, DenialError(socket, *denied, m.ns, false));
    return;
  }
  inst::ReceiveActionMessage out;
  out.ns = m.ns;
  out.action = inst::ToDeviceAction(action, *socket.identity);
  const std::string frame = inst::EncodeMessageFrame(out);
  for (SocketId candidate : candidates) {
    const Registration* r =
        FindRegistration(sockets_.at(candidate), false, m.ns);
    if (r != nullptr && inst::IsActionForDevice(action, *r->identity)) {
      Emit(candidate, frame);
    }
  }
  // One message per node with targets there.
  std::map<std::string, std::vector<std::string>> by_node;
  for (const RemoteWatcher& r : remote) {
    if (inst::IsActionForDevice(action, r.identity)) {
      by_node[r.node].push_back(r.socket);
    }
  }
  for (const auto& [node, sockets] : by_node) {
    fanout_.SendToSockets(node, sockets, frame);
  }
}

void InstServer::OnRequestMissingPermission(
    SocketId id, const inst::RequestMissingPermissionMessage& m) {
  Socket& socket = sockets_.at(id);
  if (!RequireLogin(id, socket, std::nullopt)) return;
  // 3.7 step 2 (the reason's type is checked by the codec).
  if (m.reason.resource_kind != "inst") {
    Send(id, inst::PermissionRequestRefused(
                 m.reason, inst::PermissionRefusal::kNotAnInst));
    return;
  }
  if (m.reason.subject_type != "user" ||
      m.reason.subject_id != socket.identity->user_id.value_or("")) {
    Send(id, inst::PermissionRequestRefused(
                 m.reason, inst::PermissionRefusal::kNotCurrentUser));
    return;
  }
  // Step 3: the users in the inst's default branch can answer.
  auto watchers = branch_watchers_.find(KeyOf(inst::BranchNamespace{
      m.reason.record_name, m.reason.resource_id, "default"}));
  if (watchers == branch_watchers_.end() || watchers->second.empty()) {
    Send(id, inst::PermissionRequestRefused(
                 m.reason, inst::PermissionRefusal::kNoGranters));
    return;
  }
  NsKey key(true, m.reason.record_name,
            absl::StrCat("inst/", m.reason.resource_id),
            absl::StrCat("user/", m.reason.subject_id));
  std::vector<SocketId>& waiters = permission_waiters_[key];
  if (std::find(waiters.begin(), waiters.end(), id) == waiters.end()) {
    waiters.push_back(id);
    Extras(socket).permission_waits.push_back(key);
  }
  inst::RequestMissingPermissionMessage forward;
  forward.reason = m.reason;
  forward.connection = *socket.identity;
  // The requester's public user info: this server keeps no names or
  // addresses, so only the id is known.
  forward.user = bots::MakeObject({{"userId", *socket.identity->user_id},
                                   {"email", nullptr},
                                   {"displayName", nullptr}});
  std::vector<SocketId> targets = watchers->second;
  for (SocketId target : targets) Send(target, forward);
}

void InstServer::OnRespondMissingPermission(
    SocketId id, const inst::RequestMissingPermissionResponseMessage& m) {
  Socket& socket = sockets_.at(id);
  if (!RequireLogin(id, socket, std::nullopt)) return;
  // Forwarded to the waiting requesters, who are then forgotten; the
  // responder hears nothing. Granting is the operator's (docs/records.md).
  NsKey key(true, m.record_name,
            absl::StrCat(m.resource_kind, "/", m.resource_id),
            absl::StrCat(m.subject_type, "/", m.subject_id));
  auto waiters = permission_waiters_.find(key);
  if (waiters == permission_waiters_.end()) return;
  std::vector<SocketId> targets = std::move(waiters->second);
  permission_waiters_.erase(waiters);
  inst::RequestMissingPermissionResponseMessage forward = m;
  forward.connection = *socket.identity;
  for (SocketId target : targets) {
    auto it = sockets_.find(target);
    if (it == sockets_.end()) continue;
    if (it->second.extras) std::erase(it->second.extras->permission_waits, key);
    Send(target, forward);
  }
}

void InstServer::Disconnect(SocketId id) {
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return;
  Socket& socket = it->second;
  // Device watches first, so the socket is not told about itself.
  for (const Registration& r : socket.registrations) {
    if (!r.devices) continue;
    auto watchers = device_watchers_.find(KeyOf(r.ns));
    if (watchers == device_watchers_.end()) continue;
    Erase(watchers->second, id);
    if (watchers->second.empty()) device_watchers_.erase(watchers);
  }
  std::vector<inst::BranchNamespace> device_namespaces;
  for (const Registration& r : socket.registrations) {
    if (r.devices) device_namespaces.push_back(r.ns);
  }
  std::erase_if(socket.registrations,
                [](const Registration& r) { return r.devices; });
  for (const inst::BranchNamespace& ns : device_namespaces) {
    MaybeStopListening(ns);
  }
  while (!socket.registrations.empty()) {
    inst::BranchNamespace ns = socket.registrations.front().ns;
    RemoveBranchWatch(id, socket, ns);
  }
  for (const NsKey& key :
       socket.extras ? socket.extras->permission_waits : std::vector<NsKey>{}) {
    auto waiters = permission_waiters_.find(key);
    if (waiters == permission_waiters_.end()) continue;
    Erase(waiters->second, id);
    if (waiters->second.empty()) permission_waiters_.erase(waiters);
  }
  if (socket.identity) fanout_.SetLocalSocketCount(--logged_in_);
  by_server_connection_id_.erase(ServerConnectionId(socket));
  sockets_.erase(it);
}

}  // namespace auxsync::server
