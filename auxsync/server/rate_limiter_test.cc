#include "auxsync/server/rate_limiter.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "auxsync/server/inst_server.h"
#include "auxsync/server/memory_store.h"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

TEST(RateLimiter, FixedWindowPerKey) {
  RateLimiter limiter(2, 1000);
  EXPECT_TRUE(limiter.Hit("a", 0).allowed);
  EXPECT_TRUE(limiter.Hit("a", 10).allowed);
  RateLimitResult third = limiter.Hit("a", 250);
  EXPECT_FALSE(third.allowed);
  EXPECT_EQ(third.total_hits, 3);
  EXPECT_DOUBLE_EQ(third.retry_after_seconds, 0.75);
  EXPECT_TRUE(limiter.Hit("b", 250).allowed);   // another address
  EXPECT_TRUE(limiter.Hit("a", 1000).allowed);  // a new window
}

TEST(RateLimiter, DisabledAllowsEverything) {
  RateLimiter limiter(0, 1000);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.Hit("a", 0).allowed);
}

TEST(RateLimiter, ManyKeysStayBounded) {
  RateLimiter limiter(1, 10);
  for (int i = 0; i < 100000; ++i) {
    limiter.Hit(absl::StrCat("k", i), i);  // each window expires quickly
  }
  SUCCEED();
}

class Sink : public Connection {
 public:
  void Send(std::string frame) override { frames.push_back(std::move(frame)); }
  void Close() override {}
  std::vector<std::string> frames;
};

TEST(InstServerRateLimit, S19_DroppedFramesAndOneNoticePerSecond) {
  MemoryStore store;
  InstServerOptions options;
  options.rate_limit_frames = 2;
  options.rate_limit_window_ms = 10'000;
  int64_t now = 0;
  InstServer server(store, options, [&] { return now; });
  Sink a, b;
  InstServer::SocketId ia = server.Connect(&a, "10.0.0.1");
  InstServer::SocketId ib = server.Connect(&b, "10.0.0.1");  // same address
  std::string time =
      R"([1,1,{"type":"sync/time","id":1,"clientRequestTime":0}])";
  server.HandleFrame(ia, time);
  server.HandleFrame(ib, time);
  ASSERT_EQ(a.frames.size(), 1u);
  ASSERT_EQ(b.frames.size(), 1u);
  now = 2500;
  server.HandleFrame(ia, time);  // third hit of the address: dropped
  EXPECT_EQ(
      a.frames.back(),
      R"([1,-1,{"type":"rate_limit_exceeded","retryAfter":7.5,"totalHits":3}])");
  now = 3000;
  server.HandleFrame(ia, time);  // < 1 s after the previous drop: silent
  now = 3900;
  server.HandleFrame(ia, time);  // < 1 s after the previous drop again
  EXPECT_EQ(a.frames.size(), 2u);
  now = 5000;
  server.HandleFrame(ia, time);
  EXPECT_EQ(a.frames.size(), 3u);
  EXPECT_EQ(server.stats().rate_limited_frames, 4u);
  now = 10'000;  // a new window
  server.HandleFrame(ia, time);
  EXPECT_NE(a.frames.back().find("sync/time/response"), std::string::npos);
}

}  // namespace
}  // namespace auxsync::server
