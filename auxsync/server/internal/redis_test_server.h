// A private redis-server for tests: started from PATH in a fresh temporary
// directory, listening on a unix socket there (and on a free TCP port when
// asked), without persistence; stopped and removed by the destructor.

#ifndef AUXSYNC_SERVER_INTERNAL_REDIS_TEST_SERVER_H_
#define AUXSYNC_SERVER_INTERNAL_REDIS_TEST_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "auxsync/server/internal/redis_connection.h"

namespace auxsync::server::internal {

class RedisTestServer {
 public:
  // Starts redis-server and waits (up to 10 s) until it answers PING.
  // NotFound when no redis-server is on PATH (tests then skip), Unavailable
  // when it does not come up.
  static absl::StatusOr<std::unique_ptr<RedisTestServer>> Start(
      bool tcp = false);
  ~RedisTestServer();
  RedisTestServer(const RedisTestServer&) = delete;
  RedisTestServer& operator=(const RedisTestServer&) = delete;

  // An address for RedisConnection/RedisStore (the unix socket).
  RedisAddress address() const;
  // "unix:///tmp/.../redis.sock", or "redis://127.0.0.1:PORT" with tcp.
  std::string url() const;
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  // SIGSTOP / SIGCONT: a server that accepts connections but never answers
  // (for timeout tests).
  void Pause();
  void Resume();

 private:
  RedisTestServer() = default;
  void Stop();

  std::string dir_;
  std::string socket_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace auxsync::server::internal

#endif  // AUXSYNC_SERVER_INTERNAL_REDIS_TEST_SERVER_H_
