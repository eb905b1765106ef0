// One synchronous connection to a Redis server (hiredis), for RedisStore and
// RedisBus: commands as argument vectors, Lua scripts by SHA with the body
// as fallback, and reconnection after a dropped connection.
//
// Errors are absl::Status values, never crashes: a refused or lost
// connection is Unavailable, a command that outlives its timeout is
// DeadlineExceeded, an error reply (a wrong type, a failing script) is
// Internal; each message names the server. Not thread-safe: one thread
// uses one connection.

#ifndef AUXSYNC_SERVER_INTERNAL_REDIS_CONNECTION_H_
#define AUXSYNC_SERVER_INTERNAL_REDIS_CONNECTION_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct redisContext;
struct redisReply;

namespace auxsync::server::internal {

// Where a Redis server is and how to talk to it (parsed from a URL by
// ParseRedisUrl in redis_store.h).
struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string unix_socket;  // when set, used instead of host and port
  std::string username;     // AUTH username (Redis 6 ACL), may be empty
  std::string password;     // AUTH when non-empty
  int db = 0;               // SELECT when non-zero
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};

  // "unix:/path" or "host:port" (for messages).
  std::string Describe() const;
};

// A reply owned by the caller.
struct RedisReplyDeleter {
  void operator()(redisReply* reply) const;
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

// A Lua script: its body and, once loaded on the current server, its SHA1.
struct RedisScript {
  explicit RedisScript(std::string_view text) : body(text) {}
  std::string body;
  std::string sha;
};

class RedisConnection {
 public:
  explicit RedisConnection(RedisAddress address);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects now (otherwise the first command does): fails with
  // Unavailable when the server cannot be reached or refuses AUTH/SELECT.
  absl::Status Connect();

  // Runs one command. An error reply becomes an Internal status. When the
  // connection turns out dead before the command was sent it reconnects
  // first; when it breaks while the command is in flight the command may or
  // may not have run, so it is retried once only if `retry_safe` (reads and
  // idempotent writes), else the call fails with Unavailable.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args,
                                     bool retry_safe);

  // EVALSHA of `script` (loading it when this server does not know it yet,
  // e.g. after a restart or SCRIPT FLUSH) with `keys` and `args`.
  absl::StatusOr<RedisReply> Eval(RedisScript& script,
                                  const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args,
                                  bool retry_safe);

  const RedisAddress& address() const { return address_; }
  // How many times a connection was (re)established; for tests.
  int connects() const { return connects_; }

 private:
  // One attempt on the current context; `maybe_ran` tells whether a
  // failure happened after the command may have reached the server.
  absl::StatusOr<RedisReply> Send(const std::vector<std::string>& args,
                                  bool& maybe_ran);
  // Drops a connection whose peer closed it while idle.
  void DropIfStale();
  void Drop();
  absl::Status ContextError(std::string_view what);

  RedisAddress address_;
  redisContext* context_ = nullptr;
  int connects_ = 0;
};

// The reply as text (string or status replies), or an Internal error naming
// `what` when it is of another type.
absl::StatusOr<std::string> ReplyText(const redisReply& reply,
                                      std::string_view what);
// The reply as an integer (integer replies, decimal string replies; a nil
// reply, a missing counter, is 0).
absl::StatusOr<int64_t> ReplyInteger(const redisReply& reply,
                                     std::string_view what);

}  // namespace auxsync::server::internal

#endif  // AUXSYNC_SERVER_INTERNAL_REDIS_CONNECTION_H_
