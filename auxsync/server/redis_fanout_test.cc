// Two InstServer nodes in one process on one real redis-server (a private
// one per test; skipped when none is installed), each with its own
// RedisStore and RedisFanout: a client of node 1 and a client of node 2
// behave as if on one server.

#include "auxsync/server/redis_fanout.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "auxsync/server/inst_server.h"
#include "auxsync/server/internal/redis_test_server.h"
#include "auxsync/server/redis_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

using internal::RedisTestServer;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;

// The "server thread" of both nodes: what the buses post runs here when a
// test waits.
class Executor {
 public:
  std::function<void(std::function<void()>)> Post() {
    return [this](std::function<void()> f) {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(f));
      cv_.notify_all();
    };
  }
  // Runs posted functions until `done` holds; false after 5 s.
  bool RunUntil(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (!cv_.wait_until(lock, deadline, [&] { return !queue_.empty(); })) {
          return done();
        }
        f = std::move(queue_.front());
        queue_.pop_front();
      }
      f();
    }
    return true;
  }
  // Runs what is posted within `ms` (to see that nothing more arrives).
  void RunFor(int ms) {
    RunUntil([] { return false; }, std::chrono::milliseconds(ms));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

class FakeConnection : public Connection {
 public:
  void Send(std::string frame) override { frames.push_back(std::move(frame)); }
  void Close() override { closed = true; }
  std::vector<std::string> Take() { return std::exchange(frames, {}); }
  bool Has(std::string_view part) const {
    for (const std::string& f : frames) {
      if (absl::StrContains(f, absl::string_view(part.data(), part.size())))
        return true;
    }
    return false;
  }
  std::vector<std::string> frames;
  bool closed = false;
};

struct Node {
  std::unique_ptr<RedisStore> store;
  std::unique_ptr<RedisFanout> fanout;
  std::unique_ptr<InstServer> server;
};

struct Client {
  InstServer* server;
  InstServer::SocketId id;
  std::unique_ptr<FakeConnection> conn;
  void Frame(const std::string& text) { server->HandleFrame(id, text); }
};

constexpr char kNs[] = R"("recordName":null,"inst":"fan","branch":"default")";
std::string Msg(const std::string& body) {
  return absl::StrCat("[1,-1,{", body, "}]");
}
std::string Conn(const std::string& id) {
  return absl::StrCat(R"({"connectionId":")", id,
                      R"(","sessionId":null,"userId":null})");
}
std::string Watch() {
  return absl::StrCat(R"([1,2,{"type":"repo/watch_branch",)", kNs, "}]");
}
std::string WatchDevices() {
  return absl::StrCat(R"([1,3,{"type":"repo/watch_branch_devices",)", kNs,
                      "}]");
}
std::string Add(const std::string& update, int id) {
  return absl::StrCat(R"([1,4,{"type":"repo/add_updates",)", kNs,
                      R"(,"updates":[")", update, R"("],"updateId":)", id,
                      "}]");
}
std::string Broadcast(const std::string& updates) {
  return Msg(absl::StrCat(R"("type":"repo/add_updates",)", kNs,
                          R"(,"updates":[)", updates, "]"));
}

class RedisFanoutTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisTestServer>> redis =
        RedisTestServer::Start();
    if (absl::IsNotFound(redis.status())) GTEST_SKIP() << redis.status();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
    n1_ = StartNode("n1");
    n2_ = StartNode("n2");
    ASSERT_TRUE(n1_.server && n2_.server);
  }
  void TearDown() override {
    // Servers before their fanouts; posted functions die unrun.
    for (Node* n : {&n1_, &n2_}) {
      n->server.reset();
      n->fanout.reset();
    }
  }
  Node StartNode(const std::string& id) {
    Node node;
    RedisStoreOptions store_options;
    store_options.address = redis_->address();
    store_options.node_id = id;
    auto store = RedisStore::Open(store_options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return node;
    node.store = std::move(*store);
    RedisFanoutOptions options;
    options.address = redis_->address();
    options.node_id = id;
    options.post = executor_.Post();
    auto fanout = RedisFanout::Start(options);
    EXPECT_TRUE(fanout.ok()) << fanout.status();
    if (!fanout.ok()) return node;
    node.fanout = std::move(*fanout);
    InstServerOptions server_options;
    server_options.fanout = node.fanout.get();
    node.server = std::make_unique<InstServer>(*node.store, server_options);
    return node;
  }
  Client Login(Node& node, const std::string& connection_id) {
    auto conn = std::make_unique<FakeConnection>();
    InstServer::SocketId id = node.server->Connect(conn.get());
    Client c{node.server.get(), id, std::move(conn)};
    c.Frame(absl::StrCat(R"([1,1,{"type":"login","connectionId":")",
                         connection_id, R"("}])"));
    c.conn->Take();
    return c;
  }
  bool WaitFor(const Client& c, std::string_view part) {
    return executor_.RunUntil([&] { return c.conn->Has(part); });
  }

  std::unique_ptr<RedisTestServer> redis_;
  Executor executor_;
  Node n1_, n2_;
};

TEST_F(RedisFanoutTest, UpdatesReachWatchersOnTheOtherNodeLive) {
  Client a = Login(n1_, "connA");
  Client b = Login(n2_, "connB");
  a.Frame(Watch());
  b.Frame(Watch());
  a.conn->Take();
  b.conn->Take();
  a.Frame(Add("AQID", 1));
  // The sender's ack follows the durable write at once; it does not hear
  // its own update back.
  EXPECT_THAT(a.conn->Take(),
              ElementsAre(Msg(absl::StrCat(R"("type":"repo/updates_received",)",
                                           kNs, R"(,"updateId":1)"))));
  ASSERT_TRUE(WaitFor(b, "AQID"));
  EXPECT_THAT(b.conn->Take(), ElementsAre(Broadcast(R"("AQID")")));
  b.Frame(Add("BAUG", 2));
  EXPECT_EQ(b.conn->Take().size(), 1u);  // the ack
  ASSERT_TRUE(WaitFor(a, "BAUG"));
  EXPECT_THAT(a.conn->Take(), ElementsAre(Broadcast(R"("BAUG")")));
  executor_.RunFor(100);
  EXPECT_THAT(a.conn->Take(), IsEmpty());
  EXPECT_THAT(b.conn->Take(), IsEmpty());
  EXPECT_EQ(n1_.fanout->resyncs() + n2_.fanout->resyncs(), 0u);
}

TEST_F(RedisFanoutTest, ALostMessageIsRepairedFromTheStore) {
  Client a = Login(n1_, "connA");
  Client b = Login(n2_, "connB");
  a.Frame(Watch());
  b.Frame(Watch());
  a.Frame(Add("AQID", 1));
  ASSERT_TRUE(WaitFor(b, "AQID"));
  b.conn->Take();
  // A message that never arrives: the sequence moves on without it.
  internal::RedisConnection admin(redis_->address());
  ASSERT_TRUE(admin.Command({"INCR", "/auxsync/seq//fan/default"}, true).ok());
  a.Frame(Add("BAUG", 2));
  // Node 2 sees the jump and sends the whole branch instead.
  ASSERT_TRUE(WaitFor(b, "BAUG"));
  EXPECT_THAT(b.conn->Take(), ElementsAre(Broadcast(R"("AQID","BAUG")")));
  EXPECT_EQ(n2_.fanout->resyncs(), 1u);

  // The subscriber connections drop (as when Redis restarts) while node 1
  // writes: after resubscribing, node 2 re-reads the branch.
  ASSERT_TRUE(admin.Command({"CLIENT", "KILL", "TYPE", "pubsub"}, true).ok());
  a.Frame(Add("CAcI", 3));
  ASSERT_TRUE(executor_.RunUntil(
      [&] { return b.conn->Has("CAcI") && n2_.fanout->resyncs() >= 2; }));
  // Live again afterwards.
  b.conn->Take();
  a.Frame(Add("DAgJ", 4));
  ASSERT_TRUE(WaitFor(b, "DAgJ"));
}

TEST_F(RedisFanoutTest, PresenceListingsAndCountsCrossNodes) {
  Client watcher = Login(n2_, "connW");
  watcher.Frame(WatchDevices());
  EXPECT_THAT(watcher.conn->Take(), IsEmpty());
  Client a = Login(n1_, "connA");
  a.Frame(Watch());
  std::string joined = Msg(absl::StrCat(
      R"("type":"repo/connected_to_branch","broadcast":false,"branch":{"type":"repo/watch_branch",)",
      kNs, R"(},"connection":)", Conn("connA")));
  ASSERT_TRUE(WaitFor(watcher, "connected_to_branch"));
  EXPECT_THAT(watcher.conn->Take(), ElementsAre(joined));
  // A late device watcher on node 2 lists node 1's socket.
  Client late = Login(n2_, "connL");
  late.Frame(WatchDevices());
  EXPECT_THAT(
      late.conn->Take(),
      ElementsAre(Msg(absl::StrCat(
          R"("type":"repo/connected_to_branch","broadcast":false,"connection":)",
          Conn("connA"), R"(,"branch":{"type":"repo/watch_branch",)", kNs,
          R"(,"temporary":false})"))));
  // Counts: the branch's watchers and every logged-in socket, both nodes.
  Client b = Login(n2_, "connB");
  b.Frame(Watch());
  ASSERT_TRUE(WaitFor(watcher, "connB"));
  for (Client* c : {&a, &b}) {
    c->conn->Take();
    c->Frame(
        absl::StrCat(R"([1,5,{"type":"repo/connection_count",)", kNs, "}]"));
    EXPECT_THAT(
        c->conn->Take(),
        ElementsAre(Msg(absl::StrCat(R"("type":"repo/connection_count",)", kNs,
                                     R"(,"count":2)"))));
    c->Frame(
        R"([1,6,{"type":"repo/connection_count","recordName":null,"inst":null,"branch":null}])");
    EXPECT_THAT(c->conn->Take(), ElementsAre(HasSubstr(R"("count":4)")));
  }
  // A leaves: announced on node 2.
  watcher.conn->Take();
  late.conn->Take();
  n1_.server->Disconnect(a.id);
  ASSERT_TRUE(WaitFor(late, "disconnected_from_branch"));
  std::string gone = Msg(absl::StrCat(
      R"("type":"repo/disconnected_from_branch","broadcast":false,)", kNs,
      R"(,"connection":)", Conn("connA")));
  EXPECT_THAT(late.conn->Take(), ElementsAre(gone));
  ASSERT_TRUE(WaitFor(watcher, "disconnected_from_branch"));
  b.Frame(absl::StrCat(R"([1,5,{"type":"repo/connection_count",)", kNs, "}]"));
  EXPECT_THAT(b.conn->Take(), ElementsAre(HasSubstr(R"("count":1)")));
}

TEST_F(RedisFanoutTest, RemoteActionsReachSocketsOnTheOtherNode) {
  Client a = Login(n1_, "connA");
  Client b = Login(n2_, "connB");
  Client c = Login(n2_, "connC");
  for (Client* x : {&a, &b, &c}) x->Frame(Watch());
  executor_.RunFor(50);
  for (Client* x : {&a, &b, &c}) x->conn->Take();
  a.Frame(absl::StrCat(
      R"([1,5,{"type":"repo/send_action",)", kNs,
      R"(,"action":{"type":"remote","event":{"type":"action","eventName":"ping"},"taskId":"t1","connectionId":"connB"}}])"));
  EXPECT_THAT(a.conn->Take(), IsEmpty());
  ASSERT_TRUE(WaitFor(b, "receive_action"));
  EXPECT_THAT(
      b.conn->Take(),
      ElementsAre(Msg(absl::StrCat(
          R"("type":"repo/receive_action",)", kNs,
          R"(,"action":{"type":"device","connection":)", Conn("connA"),
          R"(,"event":{"type":"action","eventName":"ping"},"taskId":"t1"})"))));
  // A broadcast from node 2 reaches all three, the sender too.
  c.Frame(absl::StrCat(
      R"([1,6,{"type":"repo/send_action",)", kNs,
      R"(,"action":{"type":"remote","event":1,"broadcast":true}}])"));
  ASSERT_TRUE(WaitFor(a, "receive_action"));
  EXPECT_EQ(b.conn->Take().size(), 1u);
  EXPECT_EQ(c.conn->Take().size(), 1u);
  executor_.RunFor(50);
  EXPECT_EQ(a.conn->Take().size(), 1u);
  EXPECT_THAT(c.conn->Take(), IsEmpty());
  // No selector: exactly one of the three, wherever it is.
  for (int i = 0; i < 6; ++i) {
    b.Frame(absl::StrCat(R"([1,8,{"type":"repo/send_action",)", kNs,
                         R"(,"action":{"type":"remote_result","result":2}}])"));
  }
  executor_.RunFor(150);
  EXPECT_EQ(
      a.conn->Take().size() + b.conn->Take().size() + c.conn->Take().size(),
      6u);
}

TEST_F(RedisFanoutTest, DeadNodesStopCountingAndARestartForgetsItsSockets) {
  Client a = Login(n1_, "connA");
  a.Frame(Watch());
  Client b = Login(n2_, "connB");
  b.Frame(Watch());
  b.conn->Take();
  auto count = [&](Client& c) {
    c.conn->Take();
    c.Frame(
        absl::StrCat(R"([1,5,{"type":"repo/connection_count",)", kNs, "}]"));
    std::vector<std::string> out = c.conn->Take();
    return out.size() == 1 ? out[0] : std::string();
  };
  EXPECT_THAT(count(b), HasSubstr(R"("count":2)"));
  // Node 1's heartbeat expires (a crash): its sockets stop counting.
  internal::RedisConnection admin(redis_->address());
  ASSERT_TRUE(admin.Command({"DEL", "/auxsync/nodes/n1/alive"}, true).ok());
  EXPECT_THAT(count(b), HasSubstr(R"("count":1)"));
  b.Frame(
      R"([1,6,{"type":"repo/connection_count","recordName":null,"inst":null,"branch":null}])");
  EXPECT_THAT(b.conn->Take(), ElementsAre(HasSubstr(R"("count":1)")));
  // Node 1 restarts with the same id: its old registrations are gone.
  n1_.server.reset();
  n1_.fanout.reset();
  n1_ = StartNode("n1");
  EXPECT_THAT(count(b), HasSubstr(R"("count":1)"));
  Client a2 = Login(n1_, "connA2");
  a2.Frame(Watch());
  EXPECT_THAT(count(b), HasSubstr(R"("count":2)"));
}

TEST_F(RedisFanoutTest, TemporaryBranchGoesWithTheLastWatcherOnAnyNode) {
  std::string watch_temp = absl::StrCat(R"([1,2,{"type":"repo/watch_branch",)",
                                        kNs, R"(,"temporary":true}])");
  Client a = Login(n1_, "connA");
  Client b = Login(n2_, "connB");
  a.Frame(watch_temp);
  b.Frame(watch_temp);
  a.Frame(Add("AQID", 1));
  ASSERT_TRUE(WaitFor(b, "AQID"));
  inst::BranchNamespace ns{std::nullopt, "fan", "default"};
  n1_.server->Disconnect(a.id);
  auto info = n1_.store->GetBranch(ns);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->has_value());  // b on node 2 still watches
  n2_.server->Disconnect(b.id);
  info = n1_.store->GetBranch(ns);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->has_value());
}

TEST_F(RedisFanoutTest, ACrashedNodesSocketsAreAnnouncedGone) {
  Client watcher = Login(n2_, "connW");
  watcher.Frame(WatchDevices());
  Client a = Login(n1_, "connA");
  a.Frame(Watch());
  ASSERT_TRUE(WaitFor(watcher, "connected_to_branch"));
  watcher.conn->Take();
  // Node 1 dies without a word; its heartbeat key expires (here: deleted
  // by the destructor). Node 2's next heartbeat reaps it.
  n1_.server.reset();
  n1_.fanout.reset();
  n2_.fanout->Heartbeat();
  ASSERT_TRUE(WaitFor(watcher, "disconnected_from_branch"));
  EXPECT_THAT(
      watcher.conn->Take(),
      ElementsAre(Msg(absl::StrCat(
          R"("type":"repo/disconnected_from_branch","broadcast":false,)", kNs,
          R"(,"connection":)", Conn("connA")))));
  // Reaped once: a later heartbeat announces nothing more.
  n2_.fanout->Heartbeat();
  executor_.RunFor(100);
  EXPECT_THAT(watcher.conn->Take(), IsEmpty());
  // A node stalled past its TTL (reaped meanwhile) registers its watchers
  // again at its next heartbeat.
  Client b = Login(n2_, "connB");
  b.Frame(Watch());
  n1_ = StartNode("n1");
  Client c = Login(n1_, "connC");
  auto count = [&] {
    c.conn->Take();
    c.Frame(
        absl::StrCat(R"([1,5,{"type":"repo/connection_count",)", kNs, "}]"));
    std::vector<std::string> out = c.conn->Take();
    return out.size() == 1 ? out[0] : std::string();
  };
  EXPECT_THAT(count(), HasSubstr(R"("count":1)"));
  internal::RedisConnection admin(redis_->address());
  ASSERT_TRUE(admin.Command({"DEL", "/auxsync/nodes/n2/alive"}, true).ok());
  n1_.fanout->Heartbeat();  // reaps n2
  EXPECT_THAT(count(), HasSubstr(R"("count":0)"));
  n2_.fanout->Heartbeat();  // n2 notices and registers again
  EXPECT_THAT(count(), HasSubstr(R"("count":1)"));
}

TEST_F(RedisFanoutTest, TemporaryBranchesOfACrashedNodeDoNotOutliveIt) {
  std::string watch_temp = absl::StrCat(R"([1,2,{"type":"repo/watch_branch",)",
                                        kNs, R"(,"temporary":true}])");
  inst::BranchNamespace ns{std::nullopt, "fan", "default"};
  // Watched on both nodes; node 1 crashes (its heartbeat is gone, its
  // sockets never said goodbye): the last watcher on node 2 deletes it.
  Client a = Login(n1_, "connA");
  Client b = Login(n2_, "connB");
  a.Frame(watch_temp);
  b.Frame(watch_temp);
  a.Frame(Add("AQID", 1));
  ASSERT_TRUE(WaitFor(b, "AQID"));
  n1_.server.reset();
  n1_.fanout.reset();
  n2_.server->Disconnect(b.id);
  auto info = n2_.store->GetBranch(ns);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->has_value());
  // Watched only on node 1 when it crashes: the next watch starts afresh.
  n1_ = StartNode("n1");
  Client c = Login(n1_, "connC");
  c.Frame(watch_temp);
  c.Frame(Add("BAUG", 2));
  n1_.server.reset();
  n1_.fanout.reset();
  Client d = Login(n2_, "connD");
  d.Frame(watch_temp);
  EXPECT_THAT(
      d.conn->Take(),
      testing::Contains(Msg(absl::StrCat(R"("type":"repo/add_updates",)", kNs,
                                         R"(,"updates":[],"initial":true)"))));
}

}  // namespace
}  // namespace auxsync::server
