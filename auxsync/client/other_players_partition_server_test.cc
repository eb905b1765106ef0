// OtherPlayersPartition end to end: CasualOS's standard partition set
// (shared, tempShared, remoteTempShared; inst-protocol.md 8.7) of two
// native sessions over real websockets to the in-process auxsync server.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/client/inst_records_client.h"
#include "auxsync/client/other_players_partition.h"
#include "auxsync/client/remote_yjs_partition.h"
#include "auxsync/client/websocket_connection_client.h"
#include "auxsync/partitions/partition_auth_source.h"
#include "auxsync/server/inst_server.h"
#include "auxsync/server/memory_store.h"
#include "auxsync/server/websocket_server.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::client {
namespace {

namespace asio = boost::asio;
using bots::Value;
using std::chrono::milliseconds;
using ::testing::Contains;
using ::testing::ElementsAre;

bool RunUntil(asio::io_context& io, const std::function<bool()>& done,
              milliseconds limit = milliseconds(10000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(milliseconds(2));
  }
  return true;
}

// One browser-like session: a connection, its client and the three
// partitions of a CasualOS session on the public inst "inst".
struct Session {
  Session(asio::io_context& io, const std::string& url,
          const std::string& origin, const std::string& id,
          bool clear_known_devices = false)
      : auth({{origin, bots::MakeObject({{"connectionId", id}})}}) {
    WebsocketConnectionOptions options;
    options.reconnect_delay = milliseconds(50);
    auto made = WebsocketConnectionClient::Create(io, url, auth, options);
    EXPECT_TRUE(made.ok()) << made.status();
    connection = *std::move(made);
    InstRecordsClientOptions client_options;
    client_options.resend_updates = true;
    client_options.io = &io;
    client_options.clear_known_devices_on_disconnect = clear_known_devices;
    client = std::make_unique<InstRecordsClient>(*connection, client_options);

    RemoteYjsPartitionConfig shared_config;
    shared_config.ns = {std::nullopt, "inst", "default"};
    shared = std::make_unique<RemoteYjsPartition>(*client, auth,
                                                  std::move(shared_config));
    shared->set_space("shared");

    RemoteYjsPartitionConfig temp_config;
    temp_config.ns = {std::nullopt, "inst",
                      bots::PlayerBranchName("default", id)};
    temp_config.temporary = true;
    temp_config.remote_events = Value(false);
    temp_shared = std::make_unique<RemoteYjsPartition>(*client, auth,
                                                       std::move(temp_config));
    temp_shared->set_space("tempShared");

    OtherPlayersPartitionConfig players_config;
    players_config.inst = "inst";
    players_config.branch = "default";
    OtherPlayersPartitionOptions players_options;
    players_options.defer = [&io](std::function<void()> task) {
      asio::post(io, std::move(task));
    };
    players = std::make_unique<OtherPlayersPartition>(
        *client, auth, players_config, players_options);
    players->set_space("remoteTempShared");
    subs.push_back(players->OnEvents([this](const std::vector<Value>& e) {
      for (const Value& v : e) events.push_back(bots::ToJson(v));
    }));
    subs.push_back(players->OnStatusUpdated([this](const Value& s) {
      if (s["type"].as_string() == "sync") synced = s["synced"].as_bool();
    }));
  }

  void Start() {
    shared->Connect();
    temp_shared->Connect();
    players->Connect();
    connection->Connect();
  }

  // get_remotes; empty while logged out (upstream throws then).
  std::vector<std::string> Remotes() {
    if (!connection->is_connected()) return {};
    events.clear();
    EXPECT_TRUE(players
                    ->SendRemoteEvents({bots::Remote(
                        bots::MakeObject({{"type", "get_remotes"}}),
                        bots::RemoteSelector{}, Value(), Value("t"))})
                    .ok());
    std::vector<std::string> ids;
    if (events.size() == 1) {
      absl::StatusOr<Value> v = bots::ParseJson(events[0]);
      for (const Value& id : (*v)["result"].as_array().items) {
        ids.push_back(id.as_string());
      }
    }
    events.clear();
    return ids;
  }

  partitions::PartitionAuthSource auth;
  std::unique_ptr<WebsocketConnectionClient> connection;
  std::unique_ptr<InstRecordsClient> client;
  std::unique_ptr<RemoteYjsPartition> shared;
  std::unique_ptr<RemoteYjsPartition> temp_shared;
  std::unique_ptr<OtherPlayersPartition> players;
  std::vector<rx::Subscription> subs;
  std::vector<std::string> events;
  bool synced = false;
};

std::string Shout(const std::string& name, const std::string& key,
                  const std::string& id) {
  return bots::ToJson(bots::Action(name, bots::MakeObject({{key, id}})));
}

class OtherPlayersServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    inst_server_ = std::make_unique<server::InstServer>(store_);
    ws_server_ = std::make_unique<server::WebsocketServer>(io_, *inst_server_);
    absl::StatusOr<uint16_t> port = ws_server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    url_ = absl::StrCat("ws://127.0.0.1:", *port, "/websocket");
    origin_ = absl::StrCat("ws://127.0.0.1:", *port);
  }

  std::unique_ptr<Session> MakeSession(const std::string& id,
                                       bool clear_known_devices = false) {
    return std::make_unique<Session>(io_, url_, origin_, id,
                                     clear_known_devices);
  }

  asio::io_context io_;
  server::MemoryStore store_;
  std::unique_ptr<server::InstServer> inst_server_;
  std::unique_ptr<server::WebsocketServer> ws_server_;
  std::string url_;
  std::string origin_;
};

TEST_F(OtherPlayersServerTest, PlayersSeeEachOthersTemporaryBots) {
  std::unique_ptr<Session> a = MakeSession("connA");
  a->Start();
  // Alone in the inst, A still syncs: the server announces A's own watch of
  // "default" to its device watch (8.6).
  ASSERT_TRUE(RunUntil(io_, [&] { return a->synced; }));
  EXPECT_THAT(a->Remotes(), ElementsAre("connA"));

  std::unique_ptr<Session> b = MakeSession("connB");
  b->Start();
  ASSERT_TRUE(RunUntil(io_, [&] { return b->synced; }));
  ASSERT_TRUE(RunUntil(io_, [&] { return a->Remotes().size() == 2; }));
  EXPECT_THAT(a->Remotes(), ElementsAre("connA", "connB"));
  EXPECT_THAT(b->Remotes(), ElementsAre("connA", "connB"));

  // B's bot in its player branch shows up in A's remoteTempShared space.
  ASSERT_TRUE(b->temp_shared
                  ->ApplyEvents({bots::BotAdded(bots::CreateBot(
                      "cursorB", bots::MakeObject({{"x", 1}})))})
                  .ok());
  ASSERT_TRUE(RunUntil(
      io_, [&] { return a->players->state().as_object().Has("cursorB"); }));
  EXPECT_EQ(bots::ToJson(a->players->state()["cursorB"]),
            "{\"id\":\"cursorB\",\"tags\":{\"x\":1},\"space\":"
            "\"remoteTempShared\"}");

  // B leaves: A hears it and drops B's bots.
  a->events.clear();
  b->connection->Disconnect();
  ASSERT_TRUE(RunUntil(
      io_, [&] { return !a->players->state().as_object().Has("cursorB"); }));
  EXPECT_THAT(a->events, Contains(Shout("onRemoteLeave", "remoteId", "connB")));
  EXPECT_THAT(a->Remotes(), ElementsAre("connA"));

  // B comes back: its temporary branch is repopulated from B's pending
  // updates (temporary entries are never dropped), so A sees the bot again.
  b->connection->Connect();
  ASSERT_TRUE(RunUntil(
      io_, [&] { return a->players->state().as_object().Has("cursorB"); }));
  EXPECT_THAT(a->Remotes(), ElementsAre("connA", "connB"));
}

// N48 end to end: after its own connection drops and comes back, a session
// does not see the players who stayed (upstream's client keeps its known
// devices and drops the server's listing of them), unless the client clears
// that table on socket loss.
TEST_F(OtherPlayersServerTest, N48_PlayersWhoStayedAfterOwnReconnect) {
  for (bool clear : {false, true}) {
    SCOPED_TRACE(clear ? "clearing known devices" : "upstream behaviour");
    std::unique_ptr<Session> a = MakeSession(clear ? "connA2" : "connA", clear);
    std::unique_ptr<Session> b = MakeSession(clear ? "connB2" : "connB");
    a->Start();
    b->Start();
    ASSERT_TRUE(RunUntil(io_, [&] { return a->Remotes().size() == 2; }));
    ASSERT_TRUE(
        b->temp_shared->ApplyEvents({bots::BotAdded(bots::CreateBot("cursor"))})
            .ok());
    ASSERT_TRUE(RunUntil(
        io_, [&] { return a->players->state().as_object().Has("cursor"); }));

    a->connection->Disconnect();
    ASSERT_TRUE(RunUntil(
        io_, [&] { return !a->players->state().as_object().Has("cursor"); }));
    EXPECT_TRUE(a->players->DeviceIds().empty());
    a->connection->Connect();
    ASSERT_TRUE(RunUntil(io_, [&] { return a->connection->is_connected(); }));
    // Give the server's device listing time to arrive.
    RunUntil(
        io_, [] { return false; }, milliseconds(300));
    if (clear) {
      EXPECT_EQ(a->Remotes().size(), 2u);
      EXPECT_TRUE(RunUntil(
          io_, [&] { return a->players->state().as_object().Has("cursor"); }));
    } else {
      EXPECT_EQ(a->Remotes().size(), 1u);
      EXPECT_FALSE(a->players->state().as_object().Has("cursor"));
    }
  }
}

}  // namespace
}  // namespace auxsync::client
