#include "auxsync/server/redis_bus.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

namespace auxsync::server {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

bool IsString(const redisReply* r) {
  return r != nullptr &&
         (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

std::string_view Text(const redisReply* r) {
  return std::string_view(r->str, r->len);
}

void AppendCommand(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  redisAppendCommandArgv(c, static_cast<int>(args.size()), argv.data(),
                         argvlen.data());
}

}  // namespace

RedisBus::RedisBus(internal::RedisAddress address, MessageHandler on_message,
                   GapHandler on_gap)
    : address_(std::move(address)),
      on_message_(std::move(on_message)),
      on_gap_(std::move(on_gap)),
      publisher_(address_) {}

absl::StatusOr<std::unique_ptr<RedisBus>> RedisBus::Start(
    internal::RedisAddress address, MessageHandler on_message,
    GapHandler on_gap) {
  std::unique_ptr<RedisBus> bus(new RedisBus(
      std::move(address), std::move(on_message), std::move(on_gap)));
  if (absl::Status s = bus->publisher_.Connect(); !s.ok()) return s;
  bus->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (bus->wake_fd_ < 0) return absl::InternalError("eventfd failed");
  bus->reader_ = std::thread([raw = bus.get()] { raw->Run(); });
  return bus;
}

RedisBus::~RedisBus() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  confirmed_cv_.notify_all();
  if (reader_.joinable()) {
    Wake();
    reader_.join();
  }
  if (subscriber_ != nullptr) redisFree(subscriber_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void RedisBus::Wake() {
  uint64_t one = 1;
  ssize_t written = write(wake_fd_, &one, sizeof(one));
  (void)written;  // a full counter already wakes the reader
}

int RedisBus::subscriber_connects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connects_;
}

absl::Status RedisBus::Subscribe(const std::string& channel) {
  std::unique_lock<std::mutex> lock(mu_);
  if (active_.contains(channel)) return absl::OkStatus();
  wanted_.insert(channel);
  queue_.emplace_back(true, channel);
  Wake();
  bool done = confirmed_cv_.wait_for(lock, address_.command_timeout, [&] {
    return stopping_ || active_.contains(channel);
  });
  if (!done || stopping_) {
    return absl::DeadlineExceededError("redis " + address_.Describe() +
                                       ": SUBSCRIBE " + channel +
                                       ": not confirmed in time");
  }
  return absl::OkStatus();
}

void RedisBus::Unsubscribe(const std::string& channel) {
  std::lock_guard<std::mutex> lock(mu_);
  wanted_.erase(channel);
  active_.erase(channel);
  queue_.emplace_back(false, channel);
  Wake();
}

absl::StatusOr<int64_t> RedisBus::Publish(const std::string& channel,
                                          const std::string& payload) {
  // PUBLISH is not retried after an in-flight failure: a duplicate would be
  // delivered twice.
  absl::StatusOr<internal::RedisReply> reply =
      publisher_.Command({"PUBLISH", channel, payload}, false);
  if (!reply.ok()) return reply.status();
  return internal::ReplyInteger(**reply, "PUBLISH");
}

bool RedisBus::ConnectSubscriber() {
  timeval tv = ToTimeval(address_.connect_timeout);
  redisContext* c =
      address_.unix_socket.empty()
          ? redisConnectWithTimeout(address_.host.c_str(), address_.port, tv)
          : redisConnectUnixWithTimeout(address_.unix_socket.c_str(), tv);
  if (c == nullptr || c->err != 0) {
    if (c != nullptr) redisFree(c);
    return false;
  }
  // A subscriber waits without a timeout: TCP keep-alive notices a Redis
  // that vanished without closing the connection.
  if (address_.unix_socket.empty()) redisEnableKeepAlive(c);
  if (!address_.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!address_.username.empty()) auth.push_back(address_.username);
    auth.push_back(address_.password);
    AppendCommand(c, auth);
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr ||
        static_cast<redisReply*>(raw)->type == REDIS_REPLY_ERROR) {
      if (raw != nullptr) freeReplyObject(raw);
      redisFree(c);
      return false;
    }
    freeReplyObject(raw);
  }
  subscriber_ = c;
  std::lock_guard<std::mutex> lock(mu_);
  ++connects_;
  // Everything wanted is subscribed afresh; queued commands are superseded.
  queue_.clear();
  active_.clear();
  for (const std::string& channel : wanted_) {
    queue_.emplace_back(true, channel);
  }
  return true;
}

bool RedisBus::FlushCommands() {
  std::deque<std::pair<bool, std::string>> commands;
  {
    std::lock_guard<std::mutex> lock(mu_);
    commands.swap(queue_);
  }
  if (commands.empty()) return true;
  for (const auto& [subscribe, channel] : commands) {
    AppendCommand(subscriber_,
                  {subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE", channel});
  }
  int done = 0;
  while (!done) {
    if (redisBufferWrite(subscriber_, &done) != REDIS_OK) return false;
  }
  return true;
}

bool RedisBus::ReadReplies() {
  if (redisBufferRead(subscriber_) != REDIS_OK) return false;
  while (true) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(subscriber_, &raw) != REDIS_OK) return false;
    if (raw == nullptr) return true;
    internal::RedisReply reply(static_cast<redisReply*>(raw));
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
        !IsString(reply->element[0]) || !IsString(reply->element[1])) {
      continue;
    }
    std::string_view kind = Text(reply->element[0]);
    std::string channel(Text(reply->element[1]));
    if (kind == "message" && IsString(reply->element[2])) {
      on_message_(
          Message{std::move(channel), std::string(Text(reply->element[2]))});
    } else if (kind == "subscribe") {
      bool all_confirmed = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (wanted_.contains(channel)) active_.insert(channel);
        all_confirmed = active_.size() == wanted_.size();
      }
      confirmed_cv_.notify_all();
      if (gap_pending_ && all_confirmed) {
        gap_pending_ = false;
        if (on_gap_) on_gap_();
      }
    }
  }
}

void RedisBus::Run() {
  auto backoff = std::chrono::milliseconds(50);
  bool connected_before = false;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (subscriber_ == nullptr) {
      if (!ConnectSubscriber()) {
        pollfd wait{wake_fd_, POLLIN, 0};
        poll(&wait, 1, static_cast<int>(backoff.count()));
        backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
        continue;
      }
      backoff = std::chrono::milliseconds(50);
      if (connected_before) {
        // Messages may have been lost while disconnected: tell the owner
        // once every channel is subscribed again (ReadReplies).
        bool none_wanted = false;
        {
          std::lock_guard<std::mutex> lock(mu_);
          none_wanted = wanted_.empty();
        }
        gap_pending_ = !none_wanted;
        if (none_wanted && on_gap_) on_gap_();
      }
      connected_before = true;
    }
    bool ok = FlushCommands();
    if (ok) {
      pollfd fds[2] = {{subscriber_->fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      poll(fds, 2, -1);
      if (fds[1].revents != 0) {
        uint64_t count = 0;
        ssize_t got = read(wake_fd_, &count, sizeof(count));
        (void)got;
      }
      if (fds[0].revents != 0) ok = ReadReplies();
    }
    if (!ok) {
      redisFree(subscriber_);
      subscriber_ = nullptr;
    }
  }
}

}  // namespace auxsync::server
