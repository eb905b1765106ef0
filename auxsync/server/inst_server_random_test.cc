// Random sessions against the InstServer: valid and mutated frames from
// several sockets, logins, watches (temporary or not), device watches,
// writes, actions, unwatches and disconnects in random order. The server
// must never crash, every frame it sends must decode as the CasualOS client
// reads it, and once every socket is gone no temporary branch is left.

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/inst/frame.h"
#include "auxsync/server/inst_server.h"
#include "auxsync/server/memory_store.h"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

class CheckingConnection : public Connection {
 public:
  void Send(std::string frame) override {
    ++frames;
    absl::StatusOr<inst::Event> event =
        inst::DecodeFrame(frame, inst::Direction::kServerToClient);
    EXPECT_TRUE(event.ok()) << frame << ": " << event.status();
  }
  void Close() override { closed = true; }
  int frames = 0;
  bool closed = false;
};

std::string RandomFrame(std::mt19937& rng, int n) {
  auto pick = [&](int k) { return static_cast<int>(rng() % k); };
  std::string ns = absl::StrCat(R"("recordName":null,"inst":"i)", pick(2),
                                R"(","branch":"b)", pick(3), "\"");
  switch (pick(12)) {
    case 0:
      return absl::StrCat(R"([1,)", n, R"(,{"type":"login","connectionId":"c)",
                          pick(3), R"("}])");
    case 1:
      return absl::StrCat(R"([1,)", n, R"(,{"type":"repo/watch_branch",)", ns,
                          pick(2) ? R"(,"temporary":true)" : "", "}]");
    case 2:
      return absl::StrCat(R"([1,)", n, R"(,{"type":"repo/unwatch_branch",)", ns,
                          "}]");
    case 3:
      return absl::StrCat(R"([1,)", n,
                          R"(,{"type":"repo/watch_branch_devices",)", ns, "}]");
    case 4:
      return absl::StrCat(
          R"([1,)", n, R"(,{"type":"repo/unwatch_branch_devices",)", ns, "}]");
    case 5:
      return absl::StrCat(
          R"([1,)", n, R"(,{"type":"repo/add_updates",)", ns,
          R"(,"updates":["AQP2u5vQCAAnAQRib3RzBGJvdDEBJwD2u5vQCAAFY29sb3ICBAD2u5vQCAEDcmVkAA=="],"updateId":)",
          n, "}]");
    case 6:
      return absl::StrCat(
          R"([1,)", n, R"(,{"type":"repo/send_action",)", ns,
          R"(,"action":{"type":"remote","event":{"n":1})",
          pick(2) ? R"(,"broadcast":true)" : "",
          pick(2) ? absl::StrCat(R"(,"connectionId":"c)", pick(3), "\"") : "",
          "}}]");
    case 7:
      return absl::StrCat(R"([1,)", n, R"(,{"type":"repo/get_updates",)", ns,
                          "}]");
    case 8:
      return absl::StrCat(R"([1,)", n, R"(,{"type":"repo/connection_count",)",
                          ns, "}]");
    case 9:
      return absl::StrCat(
          R"([1,)", n,
          R"(,{"type":"sync/time","id":1,"clientRequestTime":2}])");
    default: {
      // A valid frame with a few bytes changed.
      std::string f = RandomFrame(rng, n);
      for (int k = pick(4); k >= 0; --k) {
        f[rng() % f.size()] = static_cast<char>(rng() % 128);
      }
      return f;
    }
  }
}

TEST(InstServerRandom, NeverCrashesAndLeavesNoTemporaryBranch) {
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    std::mt19937 rng(seed);
    MemoryStore store;
    InstServerOptions options;
    options.max_inst_bytes = 20'000;
    options.compact_after_updates = 7;
    InstServer server(store, options);
    std::vector<std::unique_ptr<CheckingConnection>> conns(4);
    std::vector<InstServer::SocketId> ids(4, 0);
    for (int step = 0; step < 400; ++step) {
      size_t s = rng() % conns.size();
      if (!conns[s] || conns[s]->closed || rng() % 40 == 0) {
        if (conns[s]) server.Disconnect(ids[s]);
        conns[s] = std::make_unique<CheckingConnection>();
        ids[s] = server.Connect(conns[s].get(), "addr");
        continue;
      }
      server.HandleFrame(ids[s], RandomFrame(rng, step + 1));
    }
    for (size_t s = 0; s < conns.size(); ++s) {
      if (conns[s]) server.Disconnect(ids[s]);
    }
    EXPECT_EQ(server.socket_count(), 0u);
    for (int i = 0; i < 2; ++i) {
      for (int b = 0; b < 3; ++b) {
        auto info = store.GetBranch(
            {std::nullopt, absl::StrCat("i", i), absl::StrCat("b", b)});
        ASSERT_TRUE(info.ok());
        EXPECT_FALSE(info->has_value() && (*info)->temporary)
            << "seed " << seed << " i" << i << "/b" << b;
      }
    }
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace auxsync::server
