#include "auxsync/server/internal/redis_test_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace auxsync::server::internal {
namespace {

bool OnPath(std::string_view program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(
        dir, "/", absl::string_view(program.data(), program.size()));
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return true;
  }
  return false;
}

// A TCP port that was free a moment ago (the kernel's pick).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisTestServer>> RedisTestServer::Start(
    bool tcp) {
  if (!OnPath("redis-server")) {
    return absl::NotFoundError("redis-server is not on PATH");
  }
  std::unique_ptr<RedisTestServer> server(new RedisTestServer());
  std::string pattern =
      (std::filesystem::temp_directory_path() / "auxsync_redis_XXXXXX")
          .string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::UnavailableError("mkdtemp failed");
  }
  server->dir_ = pattern;
  server->socket_ = server->dir_ + "/redis.sock";
  server->port_ = tcp ? FreePort() : 0;
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(server->port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--unixsocket",
                                   server->socket_,
                                   "--unixsocketperm",
                                   "700",
                                   "--dir",
                                   server->dir_,
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--logfile",
                                   server->dir_ + "/redis.log"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, "redis-server", nullptr, nullptr, argv.data(),
                   environ) != 0) {
    return absl::UnavailableError("cannot start redis-server");
  }
  server->pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      server->pid_ = -1;
      return absl::UnavailableError(absl::StrCat(
          "redis-server exited at start; see ", server->dir_, "/redis.log"));
    }
    RedisAddress address = server->address();
    address.connect_timeout = std::chrono::milliseconds(200);
    RedisConnection probe(address);
    if (probe.Command({"PING"}, true).ok()) return server;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::UnavailableError("redis-server did not answer within 10 s");
}

RedisTestServer::~RedisTestServer() {
  Stop();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

void RedisTestServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGCONT);
  kill(pid_, SIGTERM);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

RedisAddress RedisTestServer::address() const {
  RedisAddress address;
  address.unix_socket = socket_;
  return address;
}

std::string RedisTestServer::url() const {
  if (port_ != 0) return absl::StrCat("redis://127.0.0.1:", port_);
  return absl::StrCat("unix://", socket_);
}

void RedisTestServer::Pause() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisTestServer::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

}  // namespace auxsync::server::internal
