// Redis pub/sub between server nodes (docs/server.md, "Design: live fan-out
// across nodes"): publish on a channel; receive the messages of subscribed
// channels on a reader thread of the bus. The transport only; RedisFanout
// (redis_fanout.h) decides what InstServer's nodes send over it.
//
// Delivery is Redis pub/sub's: in order per publisher connection, at most
// once. When the subscriber connection drops, the bus reconnects (with
// backoff), subscribes to every channel again and then calls the gap
// handler, because messages published meanwhile are lost: the owner
// re-reads what it needs from the store.
//
// Threading: Subscribe, Unsubscribe and Publish are for one owner thread;
// the handlers run on the bus's reader thread (post to the owner's
// io_context from there). The destructor stops and joins the reader.

#ifndef AUXSYNC_SERVER_REDIS_BUS_H_
#define AUXSYNC_SERVER_REDIS_BUS_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/server/internal/redis_connection.h"

struct redisContext;

namespace auxsync::server {

class RedisBus {
 public:
  struct Message {
    std::string channel;
    std::string payload;  // any bytes
  };
  // Run on the reader thread, one at a time, in arrival order; they must
  // not call Subscribe (it waits for the reader thread).
  using MessageHandler = std::function<void(Message)>;
  using GapHandler = std::function<void()>;

  // Connects the publisher and the subscriber (Unavailable when Redis is
  // unreachable) and starts the reader thread.
  static absl::StatusOr<std::unique_ptr<RedisBus>> Start(
      internal::RedisAddress address, MessageHandler on_message,
      GapHandler on_gap);
  ~RedisBus();
  RedisBus(const RedisBus&) = delete;
  RedisBus& operator=(const RedisBus&) = delete;

  // Subscribes and returns once Redis confirmed it, so every message
  // published after the return is delivered (read the store after this, not
  // before). DeadlineExceeded when no confirmation comes within the
  // address's command timeout (the bus keeps trying).
  absl::Status Subscribe(const std::string& channel);
  // Stops delivery of the channel (asynchronously: messages already on the
  // way may still arrive).
  void Unsubscribe(const std::string& channel);
  // Publishes; returns how many subscriber connections received it.
  absl::StatusOr<int64_t> Publish(const std::string& channel,
                                  const std::string& payload);

  // How many times the subscriber connection was (re)established.
  int subscriber_connects() const;

 private:
  RedisBus(internal::RedisAddress address, MessageHandler on_message,
           GapHandler on_gap);
  void Run();
  // Reader thread: (re)connects and subscribes to every wanted channel.
  bool ConnectSubscriber();
  void Wake();
  // Reader thread: sends queued SUBSCRIBE/UNSUBSCRIBE commands.
  bool FlushCommands();
  // Reader thread: handles every complete reply in the read buffer.
  bool ReadReplies();

  internal::RedisAddress address_;
  MessageHandler on_message_;
  GapHandler on_gap_;
  internal::RedisConnection publisher_;

  // Reader thread only.
  redisContext* subscriber_ = nullptr;
  bool gap_pending_ = false;  // reconnected, resubscriptions unconfirmed
  int wake_fd_ = -1;

  mutable std::mutex mu_;
  std::condition_variable confirmed_cv_;
  std::set<std::string> wanted_;                    // guarded by mu_
  std::set<std::string> active_;                    // confirmed; guarded by mu_
  std::deque<std::pair<bool, std::string>> queue_;  // (subscribe?, channel)
  bool stopping_ = false;                           // guarded by mu_
  int connects_ = 0;                                // guarded by mu_

  std::thread reader_;
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_REDIS_BUS_H_
