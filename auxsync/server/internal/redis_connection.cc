#include "auxsync/server/internal/redis_connection.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace auxsync::server::internal {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

absl::string_view View(const redisReply& reply) {
  return absl::string_view(reply.str, reply.len);
}

// Debian's absl::string_view is not std::string_view.
absl::string_view A(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace

std::string RedisAddress::Describe() const {
  if (!unix_socket.empty()) return absl::StrCat("unix:", unix_socket);
  if (host.find(':') != std::string::npos) {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

void RedisReplyDeleter::operator()(redisReply* reply) const {
  freeReplyObject(reply);
}

RedisConnection::RedisConnection(RedisAddress address)
    : address_(std::move(address)) {}

RedisConnection::~RedisConnection() { Drop(); }

void RedisConnection::Drop() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

absl::Status RedisConnection::ContextError(std::string_view what) {
  std::string detail =
      context_ != nullptr ? std::string(context_->errstr) : "out of memory";
  bool timed_out = context_ != nullptr && context_->err == REDIS_ERR_IO &&
                   (errno == EAGAIN || errno == EWOULDBLOCK ||
                    absl::StrContains(detail, "temporarily unavailable"));
  // A context that failed once is unusable (hiredis): the next call
  // reconnects.
  Drop();
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(
        "redis ", address_.Describe(), ": ", A(what), ": no answer within ",
        address_.command_timeout.count(), " ms"));
  }
  return absl::UnavailableError(
      absl::StrCat("redis ", address_.Describe(), ": ", A(what), ": ",
                   detail.empty() ? "connection lost" : detail));
}

absl::Status RedisConnection::Connect() {
  Drop();
  timeval connect_tv = ToTimeval(address_.connect_timeout);
  context_ = address_.unix_socket.empty()
                 ? redisConnectWithTimeout(address_.host.c_str(), address_.port,
                                           connect_tv)
                 : redisConnectUnixWithTimeout(address_.unix_socket.c_str(),
                                               connect_tv);
  if (context_ == nullptr || context_->err != 0) {
    return ContextError("connect");
  }
  if (redisSetTimeout(context_, ToTimeval(address_.command_timeout)) !=
      REDIS_OK) {
    return ContextError("set timeout");
  }
  // TCP keep-alive notices a peer that vanished without closing.
  if (address_.unix_socket.empty()) redisEnableKeepAlive(context_);
  ++connects_;
  std::vector<std::vector<std::string>> setup;
  if (!address_.password.empty()) {
    if (address_.username.empty()) {
      setup.push_back({"AUTH", address_.password});
    } else {
      setup.push_back({"AUTH", address_.username, address_.password});
    }
  }
  if (address_.db != 0) {
    setup.push_back({"SELECT", std::to_string(address_.db)});
  }
  for (const std::vector<std::string>& args : setup) {
    bool maybe_ran = false;
    absl::StatusOr<RedisReply> reply = Send(args, maybe_ran);
    if (!reply.ok()) {
      Drop();
      return absl::UnavailableError(absl::StrCat(
          reply.status().message(), " (while setting up the connection)"));
    }
  }
  return absl::OkStatus();
}

void RedisConnection::DropIfStale() {
  if (context_ == nullptr) return;
  // Between commands nothing may arrive on a synchronous connection: a
  // readable or hung-up socket means the server closed it (restart,
  // CLIENT KILL, idle timeout), so reconnect before sending anything.
  pollfd p{context_->fd, POLLIN, 0};
  if (poll(&p, 1, 0) != 0) Drop();
}

absl::StatusOr<RedisReply> RedisConnection::Send(
    const std::vector<std::string>& args, bool& maybe_ran) {
  maybe_ran = false;
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  void* raw = redisCommandArgv(context_, static_cast<int>(argv.size()),
                               argv.data(), argvlen.data());
  if (raw == nullptr) {
    maybe_ran = true;
    return ContextError(args.empty() ? "command" : args[0]);
  }
  RedisReply reply(static_cast<redisReply*>(raw));
  if (reply->type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat("redis ", address_.Describe(), ": ",
                                            args[0], ": ", View(*reply)));
  }
  return reply;
}

absl::StatusOr<RedisReply> RedisConnection::Command(
    const std::vector<std::string>& args, bool retry_safe) {
  if (args.empty()) return absl::InvalidArgumentError("empty redis command");
  DropIfStale();
  for (int attempt = 0;; ++attempt) {
    if (context_ == nullptr) {
      if (absl::Status s = Connect(); !s.ok()) return s;
    }
    bool maybe_ran = false;
    absl::StatusOr<RedisReply> reply = Send(args, maybe_ran);
    if (reply.ok() || !maybe_ran || !retry_safe || attempt > 0 ||
        absl::IsDeadlineExceeded(reply.status())) {
      return reply;
    }
  }
}

absl::StatusOr<RedisReply> RedisConnection::Eval(
    RedisScript& script, const std::vector<std::string>& keys,
    const std::vector<std::string>& args, bool retry_safe) {
  for (int attempt = 0;; ++attempt) {
    if (script.sha.empty()) {
      absl::StatusOr<RedisReply> loaded =
          Command({"SCRIPT", "LOAD", script.body}, true);
      if (!loaded.ok()) return loaded.status();
      absl::StatusOr<std::string> sha = ReplyText(**loaded, "SCRIPT LOAD");
      if (!sha.ok()) return sha.status();
      script.sha = *std::move(sha);
    }
    std::vector<std::string> command = {"EVALSHA", script.sha,
                                        std::to_string(keys.size())};
    command.insert(command.end(), keys.begin(), keys.end());
    command.insert(command.end(), args.begin(), args.end());
    absl::StatusOr<RedisReply> reply = Command(command, retry_safe);
    // NOSCRIPT: the server forgot the script (restart, SCRIPT FLUSH, or
    // another server after a reconnect); nothing ran, so load and retry.
    if (!reply.ok() && attempt == 0 &&
        absl::StrContains(reply.status().message(), "NOSCRIPT")) {
      script.sha.clear();
      continue;
    }
    return reply;
  }
}

absl::StatusOr<std::string> ReplyText(const redisReply& reply,
                                      std::string_view what) {
  if (reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS) {
    return std::string(View(reply));
  }
  return absl::InternalError(absl::StrCat(
      "redis: ", A(what), ": expected a string reply, got type ", reply.type));
}

absl::StatusOr<int64_t> ReplyInteger(const redisReply& reply,
                                     std::string_view what) {
  if (reply.type == REDIS_REPLY_INTEGER) return reply.integer;
  int64_t value = 0;
  if (reply.type == REDIS_REPLY_STRING &&
      absl::SimpleAtoi(absl::string_view(reply.str, reply.len), &value)) {
    return value;
  }
  if (reply.type == REDIS_REPLY_NIL) return 0;
  return absl::InternalError(
      absl::StrCat("redis: ", A(what), ": expected an integer reply"));
}

}  // namespace auxsync::server::internal
