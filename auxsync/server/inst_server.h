// The protocol core of `auxsync serve`: the inst server of
// spec/inst-protocol.md section 7 without any networking. A transport
// (websocket_server.h) feeds it the text frames of each socket and gives it
// a Connection to write frames to; tests feed it frames directly.
//
// Threading: not thread-safe. One InstServer is driven from one thread (the
// server's io_context thread); the frames of one socket are handled one at a
// time, in arrival order (2.8 allows this stricter behaviour). Every store
// write completes (SqliteStore: commits) before the broadcast and the
// acknowledgement are sent.
//
// What lives where: sockets, their identities and watch registrations are in
// process memory (they die with the socket); everything durable is in the
// Store. With several server nodes (options.fanout, e.g. RedisFanout) the
// events of the local sockets go to the other nodes and theirs come in
// through the FanoutReceiver side.

#ifndef AUXSYNC_SERVER_INST_SERVER_H_
#define AUXSYNC_SERVER_INST_SERVER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "auxsync/inst/frame.h"
#include "auxsync/inst/messages.h"
#include "auxsync/server/fanout.h"
#include "auxsync/server/rate_limiter.h"
#include "auxsync/server/records.h"
#include "auxsync/server/store.h"

namespace auxsync::server {

// The socket side the server writes to. Implementations queue the frame
// (Send must not call back into the InstServer).
class Connection {
 public:
  virtual ~Connection() = default;
  // Queues one text frame.
  virtual void Send(std::string frame) = 0;
  // Queues one text frame whose bytes several sockets share (a broadcast);
  // the default copies them into Send.
  virtual void SendShared(std::shared_ptr<const std::string> frame) {
    Send(*frame);
  }
  // Closes the socket after the queued frames; the transport then calls
  // InstServer::Disconnect.
  virtual void Close() = 0;
};

struct InstServerOptions {
  inst::FrameLimits limits;
  // The largest inst (sum of its stored base64 update lengths, 7.5);
  // nullopt = no limit.
  std::optional<int64_t> max_inst_bytes;
  // A non-temporary branch with this many stored updates is merged into one
  // (Yjs mergeUpdates) after a write; 0 = never. Clients cannot tell: a
  // merged snapshot applies to the same document (7.6).
  int64_t compact_after_updates = 500;
  // Rate limit per client address (5.15): at most this many frames per
  // window; 0 = none. Frames beyond it are dropped unprocessed.
  int64_t rate_limit_frames = 0;
  int64_t rate_limit_window_ms = 60'000;
  // Group commit: when set, the first repo/add_updates of a round opens a
  // store batch (Store::BeginBatch) and calls this with a function that the
  // transport runs once the frames that are ready now are handled (e.g.
  // asio::post); that function is Flush. Until then every frame the server
  // sends is held back, so acknowledgements, broadcasts and snapshots
  // follow the commit. Unset: every write commits on its own.
  std::function<void(std::function<void()>)> schedule_flush;
  // The other server nodes (fanout.h); not owned, must outlive the server.
  // nullptr: this is the only node.
  Fanout* fanout = nullptr;
};

// Counters for logs and tests.
struct InstServerStats {
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  uint64_t updates_stored = 0;
  uint64_t bad_frames = 0;
  uint64_t compactions = 0;
  uint64_t compaction_failures = 0;  // unreadable updates: left as they are
  uint64_t rate_limited_frames = 0;
  uint64_t group_commits = 0;  // batches committed by Flush
  uint64_t group_commit_failures = 0;
};

class InstServer : public FanoutReceiver {
 public:
  using SocketId = uint64_t;
  // Epoch milliseconds; injectable for tests.
  using Clock = std::function<int64_t()>;

  // `store` must outlive the server.
  InstServer(Store& store, InstServerOptions options = {},
             Clock clock = nullptr);
  // Detaches from the fanout (which outlives the server).
  ~InstServer() override;

  // A new socket; `connection` is not owned and must stay valid until
  // Disconnect(id) returned. `address` (the client's IP) keys the rate
  // limit.
  SocketId Connect(Connection* connection, std::string address = "");

  // Handles one text frame of socket `id` (unknown ids are ignored). Bad
  // frames are answered as the real server answers them; never crashes on
  // any input.
  void HandleFrame(SocketId id, std::string_view text);

  // The socket closed: unregisters it everywhere, deletes orphaned temporary
  // branches and announces its departure (7.10).
  void Disconnect(SocketId id);

  // Commits the open store batch (group commit), then sends the frames
  // held back since it opened, in order. If the commit fails, the sockets
  // those frames were for are closed instead (their clients reconnect and
  // re-send what was not acknowledged). No-op without an open batch.
  void Flush();

  // FanoutReceiver: frames from other nodes (options.fanout), delivered to
  // the local sockets through the same path as local frames.
  void DeliverToBranchWatchers(const inst::BranchNamespace& ns,
                               const std::string& frame) override;
  void DeliverToDeviceWatchers(const inst::BranchNamespace& ns,
                               const std::string& frame) override;
  void DeliverToSockets(const std::vector<std::string>& sockets,
                        const std::string& frame) override;
  void ResyncBranch(const inst::BranchNamespace& ns) override;

  size_t socket_count() const { return sockets_.size(); }
  const InstServerStats& stats() const { return stats_; }

 private:
  // (has record name, record name, inst, branch).
  using NsKey = std::tuple<bool, std::string, std::string, std::string>;
  // A socket's identity; shared (not copied) by the registrations made
  // under it, because a later login replaces the socket's but not theirs.
  using Identity = std::shared_ptr<const inst::ConnectionInfo>;
  struct Registration {
    bool devices = false;  // device-watch mode, else branch mode
    bool temporary = false;
    inst::BranchNamespace ns;
    Identity identity;  // as it was when registered
  };
  // What only some sockets use (record-inst tokens, permission requests,
  // rate limiting): allocated on first use, so an idle socket pays one
  // pointer for it.
  struct SocketExtras {
    // (record name, inst) pairs granted by connection tokens.
    std::set<std::pair<std::string, std::string>> token_scopes;
    // Keys of its pending permission requests (3.7, missing_permission
    // mode).
    std::vector<NsKey> permission_waits;
    std::optional<int64_t> last_dropped_ms;  // last rate-limited frame
  };
  // Kept small: per idle socket this is most of the server's memory
  // (docs/performance.md, "Inst server load").
  struct Socket {
    Connection* connection = nullptr;
    // Its serverConnectionId (a UUID: always 36 characters), inline
    // rather than a heap string; read it through ServerConnectionId().
    std::array<char, 36> server_connection_id{};
    Identity identity;  // set once logged in
    std::vector<Registration> registrations;
    std::string address;
    std::unique_ptr<SocketExtras> extras;  // nullptr until needed
  };
  static SocketExtras& Extras(Socket& socket);
  static std::string_view ServerConnectionId(const Socket& socket) {
    return {socket.server_connection_id.data(),
            socket.server_connection_id.size()};
  }

  static NsKey KeyOf(const inst::BranchNamespace& ns);
  // Every frame and close goes through these: held back while a batch is
  // open, else handed to the socket's Connection at once.
  void Emit(SocketId id, std::string frame);
  // Emit of a broadcast's frame: the sockets share its bytes.
  void EmitShared(SocketId id, const std::shared_ptr<const std::string>& frame);
  void CloseSocket(SocketId id);
  // Opens a store batch if group commit is on and none is open.
  void OpenBatch();
  void Send(SocketId id, const inst::Message& message);
  void SendError(SocketId id, const inst::ErrorEvent& error);
  // Sends invalid_connection_state and closes, when `socket` is not logged
  // in; returns whether it was.
  bool RequireLogin(SocketId id, Socket& socket,
                    const std::optional<inst::BranchNamespace>& ns);
  // Why a request on a record inst is refused (3.5, 4.2).
  struct Denial {
    enum class Kind {
      kNotLoggedIn,        // anonymous socket
      kTokenScope,         // no token for (record, inst)
      kInstNotFound,       // the request needs an existing inst
      kMissingPermission,  // `action` is not permitted
      kServerError,        // the store failed
    };
    Kind kind = Kind::kNotLoggedIn;
    InstAction action = InstAction::kRead;
  };
  // What a request needs on a record inst: the actions checked in order
  // when the inst exists, and when it does not (then `missing_not_found`
  // refuses with inst_not_found instead).
  struct Needs {
    std::vector<InstAction> if_exists;
    std::vector<InstAction> if_missing;
    bool missing_not_found = false;
  };
  // The access check of 3.5 and 4.2: nullopt when allowed (always for a
  // public inst).
  std::optional<Denial> CheckAccess(const Socket& socket,
                                    const inst::BranchNamespace& ns,
                                    const Needs& needs);
  // The Error event of a denial, with the namespace (add_updates,
  // get_updates) or without it (devices, counts, actions), in the real
  // server's shapes.
  inst::ErrorEvent DenialError(const Socket& socket, const Denial& denial,
                               const inst::BranchNamespace& ns,
                               bool with_namespace) const;
  Registration* FindRegistration(Socket& socket, bool devices,
                                 const inst::BranchNamespace& ns);
  // Removes the branch-mode registration of `id` on `ns` (if any): deletes
  // an orphaned temporary branch and announces the departure.
  void RemoveBranchWatch(SocketId id, Socket& socket,
                         const inst::BranchNamespace& ns);
  std::string NewServerConnectionId();
  // Whether a local socket watches `key` in either mode.
  bool HasLocalWatchers(const NsKey& key) const;
  // Tells the fanout to stop listening on `ns` when no local socket watches
  // it any more.
  void MaybeStopListening(const inst::BranchNamespace& ns);
  // Sends `frame` to each of `ids` (a copy: the list may change meanwhile).
  void EmitToAll(std::vector<SocketId> ids, const std::string& frame);
  // Merges the branch's updates into one when it has grown past
  // options_.compact_after_updates.
  void MaybeCompact(const inst::BranchNamespace& ns);

  void OnMessage(SocketId id, double request_id, inst::Message message,
                 int64_t receive_time);
  void OnLogin(SocketId id, const inst::LoginMessage& m);
  void OnWatchBranch(SocketId id, const inst::WatchBranchMessage& m);
  void OnUnwatchBranch(SocketId id, const inst::UnwatchBranchMessage& m);
  void OnAddUpdates(SocketId id, const inst::AddUpdatesMessage& m);
  void OnGetUpdates(SocketId id, const inst::GetUpdatesMessage& m);
  void OnWatchDevices(SocketId id, const inst::WatchBranchDevicesMessage& m);
  void OnUnwatchDevices(SocketId id,
                        const inst::UnwatchBranchDevicesMessage& m);
  void OnConnectionCount(SocketId id, const inst::ConnectionCountMessage& m);
  void OnSendAction(SocketId id, const inst::SendActionMessage& m);
  void OnRequestMissingPermission(
      SocketId id, const inst::RequestMissingPermissionMessage& m);
  void OnRespondMissingPermission(
      SocketId id, const inst::RequestMissingPermissionResponseMessage& m);

  Store& store_;
  InstServerOptions options_;
  Fanout single_node_;  // the fanout when options_.fanout is unset
  Fanout& fanout_;
  Clock clock_;
  std::mt19937_64 random_;
  SocketId next_id_ = 1;
  // Hash maps: their nodes are smaller than std::map's, and nothing needs
  // the sockets in order. References to a Socket stay valid until it is
  // erased (Disconnect).
  std::unordered_map<SocketId, Socket> sockets_;
  // serverConnectionId -> socket, for frames from other nodes. The keys
  // view the Socket's own server_connection_id (erased with it).
  std::unordered_map<std::string_view, SocketId> by_server_connection_id_;
  int64_t logged_in_ = 0;  // sockets with an identity
  // Sockets per namespace in registration order (branch mode / devices).
  std::map<NsKey, std::vector<SocketId>> branch_watchers_;
  std::map<NsKey, std::vector<SocketId>> device_watchers_;
  // Sockets waiting for a permission response (3.7) at (record,
  // "inst/<id>", "user/<userId>").
  std::map<NsKey, std::vector<SocketId>> permission_waiters_;
  RateLimiter rate_limiter_;
  // Branches whose stored updates could not be merged, with their update
  // count at that attempt: the next attempt waits for another
  // compact_after_updates writes instead of re-reading the whole branch on
  // every write. A cache only (losing it costs one more attempt), so it is
  // cleared when it grows large.
  std::map<NsKey, int64_t> compaction_failed_at_;
  InstServerStats stats_;
  // Group commit: whether a store batch is open, and the frames (or closes,
  // `close` set) held back until it is committed.
  struct HeldFrame {
    SocketId id;
    std::string frame;
    bool close = false;
  };
  bool batch_open_ = false;
  std::vector<HeldFrame> held_;
  // Update frames for other nodes, published once the batch is committed
  // (dropped with it when the commit fails).
  std::vector<std::pair<inst::BranchNamespace, std::string>> held_publications_;
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_INST_SERVER_H_
