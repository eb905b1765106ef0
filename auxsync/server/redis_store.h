// A Store in Redis, for several `auxsync serve` nodes sharing insts
// (spec/inst-protocol.md 9.1, 9.3): `auxsync serve --store redis
// --redis-url redis://host:port/db`.
//
// Branches use the key layout of the CasualOS Redis inst stores (9.3):
// non-temporary branches under the inst namespace ("/insts" by default),
// temporary ones under the temporary namespace ("/tempInsts"), each with
// `N/updates/<rec>/<inst>/<branch>` (a list of "<base64>:<epoch ms>"),
// `N/branchInfo/...` (JSON), `N/branchSize/...`, `N/instSize/<rec>/<inst>`
// and `N/branches/<rec>/<inst>`. Sessions and the bookkeeping of which node
// watches which temporary branch live under an own prefix ("/auxsync").
// docs/server.md says what a CasualOS Node server on the same Redis can
// read.
//
// Every write is one Lua script, so it is atomic against other nodes; a
// write returns once Redis has applied it (Redis's own persistence settings
// decide what survives a Redis crash). Errors from Redis are statuses (see
// internal/redis_connection.h); a dropped connection is re-established by
// the next call. Not thread-safe (see store.h).

#ifndef AUXSYNC_SERVER_REDIS_STORE_H_
#define AUXSYNC_SERVER_REDIS_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auxsync/server/internal/redis_connection.h"
#include "auxsync/server/store.h"

namespace auxsync::server {

struct RedisStoreOptions {
  internal::RedisAddress address;
  // Key prefixes (9.3): non-temporary branches, temporary branches, and
  // what only auxsync uses (sessions, temporary-branch claims).
  std::string inst_prefix = "/insts";
  std::string temp_prefix = "/tempInsts";
  std::string own_prefix = "/auxsync";
  // Names this server node among the nodes sharing the Redis. A node that
  // restarts with the same id releases the temporary branches its previous
  // process watched (DeleteTemporaryBranches). Empty: a random id, so a
  // restart cannot tell its old claims from another node's.
  std::string node_id;
  // Temporary branches expire this long after their last write or watch
  // (CasualOS: 24 h); 0 = never. A backstop for branches whose nodes died
  // for good.
  int64_t temporary_ttl_seconds = 24 * 60 * 60;
  // Public insts (null record name) expire this long after their first
  // write (CasualOS: 24 h, "NX"); 0 = never (like the other stores).
  int64_t public_ttl_seconds = 0;
};

// Parses "redis://[[user]:password@]host[:port][/db]" (host may be
// "[v6addr]") or "unix:///path/to/redis.sock[?db=N]" into an address.
// "rediss://" (TLS) is refused: hiredis is built without TLS here.
absl::StatusOr<internal::RedisAddress> ParseRedisUrl(std::string_view url);

class RedisStore : public Store {
 public:
  // Connects (so a wrong address fails here, not at the first client);
  // Unavailable when Redis cannot be reached.
  static absl::StatusOr<std::unique_ptr<RedisStore>> Open(
      RedisStoreOptions options);
  ~RedisStore() override;
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  absl::StatusOr<std::optional<BranchInfo>> GetBranch(
      const inst::BranchNamespace& ns) override;
  // A temporary branch (or a watch of an existing one) is also claimed by
  // this node, so that another node's restart does not delete it.
  absl::Status CreateBranch(const inst::BranchNamespace& ns,
                            bool temporary) override;
  absl::Status AppendUpdates(const inst::BranchNamespace& ns,
                             const std::vector<std::string>& updates,
                             int64_t timestamp_ms) override;
  absl::StatusOr<std::vector<StoredUpdate>> GetUpdates(
      const inst::BranchNamespace& ns) override;
  absl::StatusOr<bool> ReplaceUpdates(const inst::BranchNamespace& ns,
                                      size_t expected_count,
                                      const StoredUpdate& merged) override;
  // Deletes the branch, except a temporary one that other live nodes still
  // claim (a node with a fan-out mark and no heartbeat is dead, see
  // redis_fanout.h): then only this node's claim goes, and the last node to
  // let go deletes it. (InstServer deletes a temporary branch when its last
  // local watcher leaves; this makes that "the last watcher on any node".)
  absl::Status DeleteBranch(const inst::BranchNamespace& ns) override;
  absl::StatusOr<int64_t> InstSize(const inst::RecordName& record_name,
                                   std::string_view inst) override;
  // Scoped to this node: releases this node's claims on temporary branches
  // and deletes those no other node claims. Other nodes' live temporary
  // branches stay; unclaimed ones written by others (e.g. a CasualOS Node
  // server) are left to their expiry.
  absl::Status DeleteTemporaryBranches() override;
  absl::StatusOr<std::optional<Session>> GetSession(
      std::string_view user_id, std::string_view session_id) override;
  absl::Status PutSession(const Session& session) override;
  // Any branch of the record inst in either namespace, with or without
  // updates (the `branches` sets, entries checked against their keys).
  absl::StatusOr<bool> InstExists(std::string_view record_name,
                                  std::string_view inst) override;
  // Grants: one hash per record, user id -> "r", "w" or "rw".
  absl::StatusOr<std::optional<RecordGrant>> GetGrant(
      std::string_view record_name, std::string_view user_id) override;
  absl::Status PutGrant(const RecordGrant& grant) override;

  const std::string& node_id() const { return options_.node_id; }
  internal::RedisConnection& connection() { return connection_; }

 private:
  explicit RedisStore(RedisStoreOptions options);
  // KEYS of the branch scripts: the five keys of the branch in the inst
  // namespace, the same five in the temporary namespace, the branch's set
  // of claiming nodes and this node's set of claimed branches.
  std::vector<std::string> BranchKeys(const inst::BranchNamespace& ns) const;
  std::string SessionKey(std::string_view user_id,
                         std::string_view session_id) const;

  RedisStoreOptions options_;
  internal::RedisConnection connection_;
  internal::RedisScript get_branch_;
  internal::RedisScript create_branch_;
  internal::RedisScript append_;
  internal::RedisScript get_updates_;
  internal::RedisScript replace_;
  internal::RedisScript delete_branch_;
  internal::RedisScript release_;
  internal::RedisScript put_session_;
  internal::RedisScript inst_exists_;
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_REDIS_STORE_H_
