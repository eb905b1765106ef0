// The Fanout of `auxsync serve --store redis`: several server nodes on one
// Redis behave as one server for clients (spec 9.1; docs/server.md "Live
// fan-out across nodes").
//
// * Updates and presence travel on a pub/sub channel per branch
//   (`<prefix>/bus/branch/<rec>/<inst>/<branch>`) that a node listens to
//   while a local socket watches the branch. Update messages carry a
//   per-branch sequence number that one Lua script increments and publishes
//   with, so every listener sees 1, 2, 3, ... in Redis's order; a listener
//   that sees a jump, or whose subscriber connection was re-established,
//   re-reads the branch from the store and sends it to its watchers (the
//   store holds everything acknowledged; Yjs ignores duplicates).
// * Branch-mode watch registrations of every node are in a hash per branch
//   (`<prefix>/watchers/<rec>/<inst>/<branch>`), for device listings,
//   connection counts and remote-action targets; frames for sockets of
//   another node go on that node's channel (`<prefix>/bus/node/<node>`).
// * Liveness: Heartbeat() refreshes `<prefix>/nodes/<node>/alive` and the
//   node's logged-in socket count with a TTL; registrations and counts of
//   nodes whose key expired (crashed) are ignored, and the first live
//   node's next heartbeat removes them and announces their departures. A
//   node that starts with the same id does so for its previous process.
//
// Threading: all calls on the server's thread; bus messages are handed to
// `post` (e.g. asio::post to the server's io_context) from the bus's reader
// thread and handled when the posted function runs. Redis errors are
// logged and never crash; a lost update message is repaired by the next
// gap check (see PublishUpdates).

#ifndef AUXSYNC_SERVER_REDIS_FANOUT_H_
#define AUXSYNC_SERVER_REDIS_FANOUT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

struct redisReply;
#include "auxsync/server/fanout.h"
#include "auxsync/server/internal/redis_connection.h"
#include "auxsync/server/redis_bus.h"

namespace auxsync::server {

struct RedisFanoutOptions {
  internal::RedisAddress address;
  std::string prefix = "/auxsync";
  // Unique among live nodes, the same after a restart (RedisStore's node
  // id).
  std::string node_id;
  // A node whose heartbeat is older than this is dead. Heartbeat() should
  // run at least every third of it.
  int64_t node_ttl_seconds = 15;
  // Runs a function on the server's thread (later, in order).
  std::function<void(std::function<void()>)> post;
  // Error lines (Redis unreachable and the like); may be empty.
  std::function<void(std::string_view)> log;
};

class RedisFanout : public Fanout {
 public:
  // Connects, removes this node's registrations left by a previous process,
  // subscribes to the node's channel and sends the first heartbeat.
  // Unavailable when Redis is unreachable.
  static absl::StatusOr<std::unique_ptr<RedisFanout>> Start(
      RedisFanoutOptions options);
  // Stops the bus reader (functions it posted that have not run yet do
  // nothing when they run afterwards) and removes the node's liveness key.
  ~RedisFanout() override;
  RedisFanout(const RedisFanout&) = delete;
  RedisFanout& operator=(const RedisFanout&) = delete;

  // Refreshes this node's liveness and socket count, and re-announces the
  // branches whose update messages could not be published.
  void Heartbeat();

  void SetReceiver(FanoutReceiver* receiver) override { receiver_ = receiver; }
  void Listen(const inst::BranchNamespace& ns) override;
  void StopListening(const inst::BranchNamespace& ns) override;
  void AddWatcher(const inst::BranchNamespace& ns, const std::string& socket,
                  const inst::ConnectionInfo& identity,
                  bool temporary) override;
  void RemoveWatcher(const inst::BranchNamespace& ns,
                     const std::string& socket) override;
  std::vector<RemoteWatcher> RemoteWatchers(
      const inst::BranchNamespace& ns) override;
  int64_t RemoteSocketCount() override;
  void SetLocalSocketCount(int64_t count) override;
  // When the message cannot be published, the branch's sequence is bumped
  // by two at the next Heartbeat, so every listener sees a jump and
  // re-reads the branch.
  void PublishUpdates(const inst::BranchNamespace& ns,
                      const std::string& frame) override;
  void PublishPresence(const inst::BranchNamespace& ns,
                       const std::string& frame) override;
  void SendToSockets(const std::string& node,
                     const std::vector<std::string>& sockets,
                     const std::string& frame) override;

  const std::string& node_id() const { return options_.node_id; }
  // For tests and logs.
  uint64_t resyncs() const { return resyncs_; }
  uint64_t errors() const { return errors_; }

 private:
  explicit RedisFanout(RedisFanoutOptions options);
  struct Listening {
    inst::BranchNamespace ns;
    int64_t last_seq = 0;  // every update up to it was delivered or read
  };
  std::string BranchPath(const inst::BranchNamespace& ns) const;
  std::string BranchChannel(const inst::BranchNamespace& ns) const;
  std::string NodeChannel(const std::string& node) const;
  std::string SeqKey(const inst::BranchNamespace& ns) const;
  std::string WatchersKey(const inst::BranchNamespace& ns) const;
  std::string NodeKey(const std::string& node, std::string_view what) const;
  std::string FieldOf(const std::string& socket) const;
  void Fail(std::string_view what, const absl::Status& status);
  int64_t ReadSeq(const inst::BranchNamespace& ns);
  // Server thread: one bus message / a reconnected bus.
  void OnMessage(const RedisBus::Message& message);
  void OnGap();
  // Publishes disconnected_from_branch for each registration JSON of the
  // array reply (of forgotten nodes).
  void AnnounceGone(const redisReply& registrations);
  bool PublishSeq(const inst::BranchNamespace& ns, const std::string& payload,
                  int64_t increment);

  RedisFanoutOptions options_;
  internal::RedisConnection connection_;
  std::unique_ptr<RedisBus> bus_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  FanoutReceiver* receiver_ = nullptr;
  std::map<std::string, Listening> listening_;  // by channel
  // Branches (by channel) whose update message could not be published.
  std::map<std::string, inst::BranchNamespace> unpublished_;
  int64_t local_sockets_ = 0;
  uint64_t beats_ = 0;
  // This node's registrations ((hash, field) -> value), to register them
  // again after the node was taken for dead.
  std::map<std::pair<std::string, std::string>, std::string> registered_;
  uint64_t resyncs_ = 0;
  uint64_t errors_ = 0;
  internal::RedisScript publish_seq_;
  internal::RedisScript add_watcher_;
  internal::RedisScript list_watchers_;
  internal::RedisScript count_sockets_;
  internal::RedisScript forget_node_;
  internal::RedisScript reap_nodes_;
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_REDIS_FANOUT_H_
