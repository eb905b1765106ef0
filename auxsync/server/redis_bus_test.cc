#include "auxsync/server/redis_bus.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auxsync/server/internal/redis_test_server.h"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

using internal::RedisTestServer;

// Collects what a bus hands over on its reader thread.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<RedisBus::Message> messages;
  int gaps = 0;

  RedisBus::MessageHandler OnMessage() {
    return [this](RedisBus::Message m) {
      std::lock_guard<std::mutex> lock(mu);
      messages.push_back(std::move(m));
      cv.notify_all();
    };
  }
  RedisBus::GapHandler OnGap() {
    return [this] {
      std::lock_guard<std::mutex> lock(mu);
      ++gaps;
      cv.notify_all();
    };
  }
  // Waits until `n` messages (and `gaps` gaps) arrived; false after 5 s.
  bool WaitFor(size_t n, int min_gaps = 0) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(5), [&] {
      return messages.size() >= n && gaps >= min_gaps;
    });
  }
  std::vector<std::string> Payloads() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const RedisBus::Message& m : messages) out.push_back(m.payload);
    return out;
  }
};

class RedisBusTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisTestServer>> redis =
        RedisTestServer::Start();
    if (absl::IsNotFound(redis.status())) GTEST_SKIP() << redis.status();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
  }
  std::unique_ptr<RedisBus> StartBus(Inbox& inbox) {
    auto bus =
        RedisBus::Start(redis_->address(), inbox.OnMessage(), inbox.OnGap());
    EXPECT_TRUE(bus.ok()) << bus.status();
    return bus.ok() ? std::move(*bus) : nullptr;
  }
  std::unique_ptr<RedisTestServer> redis_;
};

TEST_F(RedisBusTest, DeliversInOrderToSubscribersOnly) {
  Inbox a_inbox, b_inbox;
  std::unique_ptr<RedisBus> a = StartBus(a_inbox);
  std::unique_ptr<RedisBus> b = StartBus(b_inbox);
  ASSERT_TRUE(b->Subscribe("/auxsync/bus/branch//inst/main").ok());
  ASSERT_TRUE(b->Subscribe("/auxsync/bus/branch//inst/main").ok());  // twice
  std::string binary("a\0b\r\n", 5);
  std::string large(1 << 20, 'x');
  for (const std::string& payload :
       {std::string("m1"), std::string("m2"), binary, large}) {
    auto receivers = a->Publish("/auxsync/bus/branch//inst/main", payload);
    ASSERT_TRUE(receivers.ok()) << receivers.status();
    EXPECT_EQ(*receivers, 1);
  }
  EXPECT_EQ(*a->Publish("/auxsync/bus/branch//inst/other", "no"), 0);
  ASSERT_TRUE(b_inbox.WaitFor(4));
  EXPECT_EQ(b_inbox.Payloads(),
            (std::vector<std::string>{"m1", "m2", binary, large}));
  EXPECT_EQ(b_inbox.messages[0].channel, "/auxsync/bus/branch//inst/main");
  EXPECT_TRUE(a_inbox.Payloads().empty());

  b->Unsubscribe("/auxsync/bus/branch//inst/main");
  // Unsubscribing is asynchronous: wait until Redis counts no receiver.
  for (int i = 0; i < 100; ++i) {
    if (*a->Publish("/auxsync/bus/branch//inst/main", "probe") == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(*a->Publish("/auxsync/bus/branch//inst/main", "late"), 0);
}

TEST_F(RedisBusTest, ResubscribesAfterAReconnectAndReportsTheGap) {
  Inbox inbox, admin_inbox;
  std::unique_ptr<RedisBus> bus = StartBus(inbox);
  std::unique_ptr<RedisBus> publisher = StartBus(admin_inbox);
  ASSERT_TRUE(bus->Subscribe("ch1").ok());
  ASSERT_TRUE(bus->Subscribe("ch2").ok());
  EXPECT_EQ(bus->subscriber_connects(), 1);
  // Drop every subscriber connection, as a Redis restart would.
  internal::RedisConnection admin(redis_->address());
  ASSERT_TRUE(admin.Command({"CLIENT", "KILL", "TYPE", "pubsub"}, true).ok());
  // The gap is reported once both channels are subscribed again.
  {
    std::unique_lock<std::mutex> lock(inbox.mu);
    ASSERT_TRUE(inbox.cv.wait_for(lock, std::chrono::seconds(5),
                                  [&] { return inbox.gaps == 1; }));
  }
  EXPECT_EQ(bus->subscriber_connects(), 2);
  EXPECT_EQ(*publisher->Publish("ch1", "after1"), 1);
  EXPECT_EQ(*publisher->Publish("ch2", "after2"), 1);
  ASSERT_TRUE(inbox.WaitFor(2, 1));
  EXPECT_EQ(inbox.Payloads(), (std::vector<std::string>{"after1", "after2"}));
}

TEST_F(RedisBusTest, SubscribeTimesOutWhileRedisIsStalled) {
  Inbox inbox;
  internal::RedisAddress address = redis_->address();
  address.command_timeout = std::chrono::milliseconds(200);
  auto bus = RedisBus::Start(address, inbox.OnMessage(), inbox.OnGap());
  ASSERT_TRUE(bus.ok()) << bus.status();
  ASSERT_TRUE((*bus)->Subscribe("ch").ok());
  redis_->Pause();
  absl::Status s = (*bus)->Subscribe("other");
  auto published = (*bus)->Publish("ch", "x");
  redis_->Resume();
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_FALSE(published.ok());
  // Afterwards both work again (the subscription went through meanwhile).
  ASSERT_TRUE((*bus)->Subscribe("other").ok());
  EXPECT_EQ(*(*bus)->Publish("other", "y"), 1);
  ASSERT_TRUE(inbox.WaitFor(1));
}

TEST(RedisBusErrors, UnreachableRedis) {
  internal::RedisAddress address;
  address.unix_socket = "/nonexistent-dir/redis.sock";
  auto bus = RedisBus::Start(
      address, [](RedisBus::Message) {}, [] {});
  EXPECT_TRUE(absl::IsUnavailable(bus.status())) << bus.status();
}

}  // namespace
}  // namespace auxsync::server
