#include "auxsync/client/other_players_partition.h"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/client/memory_connection_client.h"
#include "auxsync/inst/message_codec.h"
#include "auxsync/partitions/yjs_partition.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::client {
namespace {

// The order of the info objects upstream's OtherPlayersPartition tests build.
constexpr auto kLoginOrder = MemoryConnectionClient::InfoOrder::kLoginResult;

using bots::Value;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

inst::ConnectionInfo Info(std::string user_id, std::string session_id,
                          std::string connection_id) {
  return inst::ConnectionInfo{.connection_id = std::move(connection_id),
                              .session_id = std::move(session_id),
                              .user_id = std::move(user_id)};
}

// connectionInfo("deviceN", "deviceNId", "deviceNSessionId").
inst::ConnectionInfo DeviceInfo(int n) {
  std::string d = "device" + std::to_string(n);
  return Info(d, d + "Id", d + "SessionId");
}

std::string Json(const Value& v) { return bots::ToJson(v); }

std::string NsJson(const inst::RecordName& record, const std::string& branch) {
  return std::string(record ? "\"recordName\":\"" + *record + "\""
                            : "\"recordName\":null") +
         ",\"inst\":\"inst\",\"branch\":\"" + branch + "\"";
}

// A test stand-in for the RemoteYjsPartition child: a YjsPartition fed by a
// temporary watch of its branch (read-only, so it never sends updates).
class WatchedYjsChild final : public partitions::Partition {
 public:
  WatchedYjsChild(InstRecordsClient& client, inst::BranchNamespace ns)
      : client_(client),
        ns_(std::move(ns)),
        yjs_(partitions::YjsPartitionConfig{}) {}
  std::string_view type() const override { return "remote_yjs"; }
  std::optional<bool> is_private() const override { return false; }
  partitions::RealtimeStrategy realtime_strategy() const override {
    return partitions::RealtimeStrategy::kImmediate;
  }
  const Value& state() const override { return yjs_.state(); }
  absl::StatusOr<std::vector<Value>> ApplyEvents(
      const std::vector<Value>&) override {
    return std::vector<Value>{};
  }
  void set_space(std::optional<std::string> space) override {
    Partition::set_space(space);
    yjs_.set_space(std::move(space));
  }
  void Connect() override {
    yjs_.set_space(space());
    watch_ = client_.WatchBranch(
        ns_, true, std::nullopt,
        BranchWatchCallbacks{.on_updates =
                                 [this](const BranchUpdates& u) {
                                   (void)yjs_.ApplyUpdates(u.updates);
                                 },
                             .on_action = nullptr,
                             .on_max_size = nullptr,
                             .on_error = nullptr,
                             .on_watch_result = nullptr});
  }
  void Unsubscribe() override {
    watch_.Unsubscribe();
    closed_ = true;
  }
  bool closed() const override { return closed_; }
  rx::Subscription OnBotsAdded(partitions::BotsCallback c) override {
    return yjs_.OnBotsAdded(std::move(c));
  }
  rx::Subscription OnBotsRemoved(partitions::IdsCallback c) override {
    return yjs_.OnBotsRemoved(std::move(c));
  }
  rx::Subscription OnBotsUpdated(partitions::UpdatedBotsCallback c) override {
    return yjs_.OnBotsUpdated(std::move(c));
  }
  rx::Subscription OnStateUpdated(partitions::StateCallback c) override {
    return yjs_.OnStateUpdated(std::move(c));
  }
  rx::Subscription OnVersionUpdated(partitions::VersionCallback c) override {
    return yjs_.OnVersionUpdated(std::move(c));
  }
  rx::Subscription OnError(partitions::ValueCallback c) override {
    return yjs_.OnError(std::move(c));
  }
  rx::Subscription OnEvents(partitions::ActionsCallback c) override {
    return yjs_.OnEvents(std::move(c));
  }
  rx::Subscription OnStatusUpdated(partitions::ValueCallback c) override {
    return yjs_.OnStatusUpdated(std::move(c));
  }

 private:
  InstRecordsClient& client_;
  inst::BranchNamespace ns_;
  partitions::YjsPartition yjs_;
  rx::Subscription watch_;
  bool closed_ = false;
};

// A player's own temporary branch: edits made here are delivered to the
// partition as repo/add_updates (the whole document each time; Yjs applies
// only what is new).
struct PlayerDoc {
  explicit PlayerDoc(std::optional<std::string> space = std::nullopt)
      : yjs(partitions::YjsPartitionConfig{}) {
    yjs.set_space(std::move(space));
  }
  void Apply(std::vector<Value> events) {
    ASSERT_TRUE(yjs.ApplyEvents(events).ok());
  }
  std::string Update() const { return yjs.EncodeStateBase64(); }
  partitions::YjsPartition yjs;
};

struct HarnessOptions {
  bool skip_initial_load = false;
  // Run deferred work only in Drain() (upstream's microtasks); false = the
  // partition's default (end of the outermost call).
  bool use_queue = true;
  bool connect = true;
  std::optional<std::string> space;
  std::string own_connection_id = "test";
  // Use the partition's default children (RemoteYjsPartition) instead of
  // the WatchedYjsChild stand-in.
  bool real_children = false;
};

struct Harness {
  explicit Harness(inst::RecordName record = std::nullopt,
                   HarnessOptions o = {})
      : record_name(std::move(record)),
        conn(Info("test", "test", o.own_connection_id), kLoginOrder),
        client(conn) {
    if (o.connect) conn.Connect();
    OtherPlayersPartitionConfig config;
    config.record_name = record_name;
    config.inst = "inst";
    config.branch = "testBranch";
    config.skip_initial_load = o.skip_initial_load;
    OtherPlayersPartitionOptions options;
    if (o.use_queue) {
      options.defer = [this](std::function<void()> task) {
        microtasks.push_back(std::move(task));
      };
    }
    if (!o.real_children) {
      options.child_factory = [this](const inst::BranchNamespace& ns)
          -> absl::StatusOr<std::unique_ptr<partitions::Partition>> {
        return std::make_unique<WatchedYjsChild>(client, ns);
      };
    }
    partition =
        std::make_unique<OtherPlayersPartition>(client, auth, config, options);
    partition->set_space(o.space);
    subs.push_back(partition->OnBotsAdded([this](const std::vector<Value>& b) {
      Value batch = Value::NewArray();
      batch.as_array().items = b;
      added_batches.push_back(Json(batch));
      for (const Value& bot : b) added.push_back(Json(bot));
    }));
    subs.push_back(
        partition->OnBotsRemoved([this](const std::vector<std::string>& ids) {
          removed_batches.push_back(ids);
          for (const std::string& id : ids) removed.push_back(id);
        }));
    subs.push_back(partition->OnBotsUpdated(
        [this](const std::vector<bots::UpdatedBot>& u) {
          for (const bots::UpdatedBot& b : u)
            updated.push_back(Json(b.ToValue()));
        }));
    bool replay = true;
    subs.push_back(partition->OnStateUpdated(
        [this, replay](const bots::StateUpdatedEvent& e) mutable {
          if (replay) {
            replay = false;
            return;
          }
          state_events.push_back(Json(e.ToValue()));
        }));
    subs.push_back(partition->OnEvents([this](const std::vector<Value>& e) {
      for (const Value& v : e) events.push_back(Json(v));
    }));
    subs.push_back(partition->OnStatusUpdated(
        [this](const Value& s) { statuses.push_back(Json(s)); }));
    added_batches.clear();
  }

  // Runs the queued tasks (upstream's `await waitAsync()`).
  void Drain() {
    while (!microtasks.empty()) {
      std::function<void()> task = std::move(microtasks.front());
      microtasks.pop_front();
      task();
    }
  }

  void Connected(const inst::ConnectionInfo& info) {
    inst::ConnectedToBranchMessage m;
    m.broadcast = false;
    m.branch.ns = {record_name, "inst", "testBranch"};
    m.connection = info;
    conn.Deliver(m);
  }
  void Disconnected(const inst::ConnectionInfo& info) {
    inst::DisconnectedFromBranchMessage m;
    m.broadcast = false;
    m.ns = {record_name, "inst", "testBranch"};
    m.connection = info;
    conn.Deliver(m);
  }
  void PlayerData(const std::string& connection_id, const std::string& update,
                  bool initial) {
    inst::AddUpdatesMessage m;
    m.ns = {record_name, "inst",
            bots::PlayerBranchName("testBranch", connection_id)};
    m.updates = {update};
    if (initial) m.initial = true;
    conn.Deliver(m);
  }
  void GetRemotes() {
    ASSERT_TRUE(partition
                    ->SendRemoteEvents({bots::Remote(
                        bots::MakeObject({{"type", "get_remotes"}}),
                        bots::RemoteSelector{}, Value(), Value("task1"))})
                    .ok());
  }
  std::string WatchJson(const std::string& connection_id) const {
    return "{\"type\":\"repo/watch_branch\"," +
           NsJson(record_name,
                  bots::PlayerBranchName("testBranch", connection_id)) +
           ",\"temporary\":true}";
  }
  std::string UnwatchJson(const std::string& connection_id) const {
    return "{\"type\":\"repo/unwatch_branch\"," +
           NsJson(record_name,
                  bots::PlayerBranchName("testBranch", connection_id)) +
           "}";
  }

  inst::RecordName record_name;
  std::deque<std::function<void()>> microtasks;
  partitions::PartitionAuthSource auth;
  MemoryConnectionClient conn;
  InstRecordsClient client;
  std::unique_ptr<OtherPlayersPartition> partition;
  std::vector<rx::Subscription> subs;
  std::vector<std::string> added;  // bots, flattened
  std::vector<std::string> added_batches;
  std::vector<std::string> removed;
  std::vector<std::vector<std::string>> removed_batches;
  std::vector<std::string> updated;
  std::vector<std::string> state_events;
  std::vector<std::string> events;
  std::vector<std::string> statuses;
};

std::string Shout(const std::string& name, const std::string& key,
                  const std::string& id) {
  return Json(bots::Action(name, bots::MakeObject({{key, id}})));
}

std::string GetRemotesResult(std::vector<std::string> ids) {
  Value list = Value::NewArray();
  for (std::string& id : ids) list.as_array().items.push_back(Value(id));
  return Json(bots::AsyncResult(Value("task1"), list));
}

class OtherPlayers : public ::testing::TestWithParam<inst::RecordName> {};
INSTANTIATE_TEST_SUITE_P(
    OtherPlayersPartition, OtherPlayers,
    ::testing::Values(std::nullopt,
                      std::optional<std::string>("testRecordName")));

TEST_P(OtherPlayers, H1_RealtimeStrategyIsDelayed) {
  Harness h(GetParam());
  EXPECT_EQ(h.partition->realtime_strategy(),
            partitions::RealtimeStrategy::kDelayed);
  EXPECT_EQ(h.partition->type(), "other_players");
}

TEST_P(OtherPlayers, H2_StatusesConnectionAuthenticationAuthorizationSync) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Drain();
  ASSERT_GE(h.statuses.size(), 4u);
  EXPECT_EQ(h.statuses[0], "{\"type\":\"connection\",\"connected\":true}");
  EXPECT_EQ(h.statuses[1],
            "{\"type\":\"authentication\",\"authenticated\":true,\"info\":{"
            "\"userId\":\"test\",\"sessionId\":\"test\",\"connectionId\":"
            "\"test\"}}");
  EXPECT_EQ(h.statuses[2], "{\"type\":\"authorization\",\"authorized\":true}");
  EXPECT_EQ(h.statuses[3], "{\"type\":\"sync\",\"synced\":true}");
}

TEST_P(OtherPlayers, H3_RemoteEventsAreNotSent) {
  Harness h(GetParam());
  ASSERT_TRUE(h.partition
                  ->SendRemoteEvents({bots::Remote(
                      bots::MakeObject({{"type", "def"}}),
                      bots::RemoteSelector{.connection_id = Value("device"),
                                           .session_id = Value(),
                                           .user_id = Value(),
                                           .broadcast = Value()})})
                  .ok());
  EXPECT_THAT(h.conn.sent(), IsEmpty());
  EXPECT_THAT(h.events, IsEmpty());
}

TEST_P(OtherPlayers, H4_GetRemotesListsConnectedSessions) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Connected(Info("info1", "info1", "info1Session"));
  h.Connected(Info("info2", "info2", "info2Session"));
  h.Drain();
  h.GetRemotes();
  EXPECT_THAT(
      h.events,
      ElementsAre(Shout("onRemoteJoined", "remoteId", "info1Session"),
                  Shout("onRemotePlayerSubscribed", "playerId", "info1Session"),
                  Shout("onRemoteJoined", "remoteId", "info2Session"),
                  Shout("onRemotePlayerSubscribed", "playerId", "info2Session"),
                  GetRemotesResult({"info1Session", "info2Session", "test"})));
}

TEST_P(OtherPlayers, H5_GetRemotesAfterADisconnect) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Connected(Info("info1", "info1", "info1Session"));
  h.Connected(Info("info2", "info2", "info2Session"));
  h.Disconnected(Info("info2", "info2", "info2Session"));
  h.Drain();
  h.events.clear();
  h.GetRemotes();
  EXPECT_THAT(h.events,
              ElementsAre(GetRemotesResult({"info1Session", "test"})));
}

TEST_P(OtherPlayers, H6_WithoutConnectDeviceEventsAreIgnored) {
  Harness h(GetParam());
  h.Connected(Info("info1", "info1", "info1Session"));
  h.Drain();
  h.GetRemotes();
  EXPECT_THAT(h.events, ElementsAre(GetRemotesResult({"test"})));
}

TEST_P(OtherPlayers, H7_OwnConnectionIsNotAPlayer) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Connected(Info("test", "test", "test"));
  h.Drain();
  h.GetRemotes();
  EXPECT_THAT(h.events, ElementsAre(GetRemotesResult({"test"})));
}

TEST_P(OtherPlayers, H8_ReconnectedSessionReplacesTheOldOne) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Connected(Info("u", "s", "session-v1"));
  h.Connected(Info("u", "s", "session-v2"));
  h.Disconnected(Info("u", "s", "session-v1"));
  h.Drain();
  h.events.clear();
  h.GetRemotes();
  EXPECT_THAT(h.events, ElementsAre(GetRemotesResult({"session-v2", "test"})));
}

TEST_P(OtherPlayers, H9_FiveSessionsOneAfterAnother) {
  Harness h(GetParam());
  h.partition->Connect();
  for (int i = 1; i <= 5; ++i) {
    h.Connected(Info("u", "s", "session-" + std::to_string(i)));
    if (i > 1)
      h.Disconnected(Info("u", "s", "session-" + std::to_string(i - 1)));
    h.Drain();
  }
  h.events.clear();
  h.GetRemotes();
  EXPECT_THAT(h.events, ElementsAre(GetRemotesResult({"session-5", "test"})));
}

TEST_P(OtherPlayers, H10_ConnectWatchesDevices) {
  Harness h(GetParam());
  h.conn.ClearSent();
  h.partition->Connect();
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/watch_branch_devices\"," +
                          NsJson(GetParam(), "testBranch") + "}"));
}

TEST_P(OtherPlayers, H11_ConnectedDeviceIsWatched) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Drain();
  h.conn.ClearSent();
  h.Connected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(), ElementsAre(h.WatchJson("device1SessionId")));
}

TEST_P(OtherPlayers, H12_PlayerBotsAreAdded) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Drain();
  Value before = h.partition->state();
  PlayerDoc player;
  player.Apply({bots::BotAdded(
      bots::CreateBot("test1", bots::MakeObject({{"abc", "def"}})))});
  h.PlayerData("device1SessionId", player.Update(), true);
  h.Drain();
  EXPECT_THAT(h.added,
              ElementsAre("{\"id\":\"test1\",\"tags\":{\"abc\":\"def\"}}"));
  EXPECT_EQ(Json(h.partition->state()),
            "{\"test1\":{\"id\":\"test1\",\"tags\":{\"abc\":\"def\"}}}");
  EXPECT_NE(h.partition->state().object_ref(), before.object_ref());
  EXPECT_THAT(h.state_events,
              ElementsAre("{\"addedBots\":[\"test1\"],\"removedBots\":[],"
                          "\"updatedBots\":[],\"state\":{\"test1\":{\"id\":"
                          "\"test1\",\"tags\":{\"abc\":\"def\"}}},\"version\":"
                          "null}"));
}

constexpr char kAddedTest1Event[] =
    "{\"addedBots\":[\"test1\"],\"removedBots\":[],\"updatedBots\":[],"
    "\"state\":{\"test1\":{\"id\":\"test1\",\"tags\":{\"abc\":\"def\"}}},"
    "\"version\":null}";
constexpr char kRemovedTest1Event[] =
    "{\"addedBots\":[],\"removedBots\":[\"test1\"],\"updatedBots\":[],"
    "\"state\":{\"test1\":null},\"version\":null}";

// Connects the partition and device1, and adds test1 {abc:"def"} to
// device1's branch.
void AddTest1(Harness& h, PlayerDoc& player) {
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Drain();
  player.Apply({bots::BotAdded(
      bots::CreateBot("test1", bots::MakeObject({{"abc", "def"}})))});
  h.PlayerData("device1SessionId", player.Update(), true);
  h.Drain();
}

TEST_P(OtherPlayers, H13_PlayerBotsAreRemoved) {
  Harness h(GetParam());
  PlayerDoc player;
  AddTest1(h, player);
  Value before = h.partition->state();
  player.Apply({bots::BotRemoved("test1")});
  h.PlayerData("device1SessionId", player.Update(), false);
  h.Drain();
  EXPECT_THAT(h.removed, ElementsAre("test1"));
  EXPECT_EQ(Json(h.partition->state()), "{}");
  EXPECT_NE(h.partition->state().object_ref(), before.object_ref());
  EXPECT_THAT(h.state_events,
              ElementsAre(kAddedTest1Event, kRemovedTest1Event));
}

TEST_P(OtherPlayers, H14_PlayerBotsAreUpdated) {
  Harness h(GetParam());
  PlayerDoc player;
  AddTest1(h, player);
  Value before = h.partition->state();
  player.Apply({bots::BotUpdated(
      "test1",
      bots::MakeObject({{"tags", bots::MakeObject({{"abc", "ghi"}})}}))});
  h.PlayerData("device1SessionId", player.Update(), false);
  h.Drain();
  EXPECT_THAT(h.updated,
              ElementsAre("{\"bot\":{\"id\":\"test1\",\"tags\":{\"abc\":"
                          "\"ghi\"}},\"tags\":[\"abc\"]}"));
  EXPECT_EQ(Json(h.partition->state()),
            "{\"test1\":{\"id\":\"test1\",\"tags\":{\"abc\":\"ghi\"}}}");
  EXPECT_NE(h.partition->state().object_ref(), before.object_ref());
  ASSERT_EQ(h.state_events.size(), 2u);
  EXPECT_EQ(h.state_events[1],
            "{\"addedBots\":[],\"removedBots\":[],\"updatedBots\":[\"test1\"],"
            "\"state\":{\"test1\":{\"tags\":{\"abc\":\"ghi\"}}},\"version\":"
            "null}");
}

Value MaskUpdate(const std::string& space, const std::string& tag, Value v) {
  return bots::MakeObject(
      {{"masks", bots::MakeObject({{space, bots::MakeObject({{tag, v}})}})}});
}

TEST_P(OtherPlayers, H15_PlayerMasksUpdateTheState) {
  HarnessOptions o;
  o.space = "testSpace";
  Harness h(GetParam(), o);
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Drain();
  PlayerDoc player("testSpace");
  player.Apply({bots::BotUpdated(
      "test1", MaskUpdate("testSpace", "abc", Value("def")))});
  h.PlayerData("device1SessionId", player.Update(), true);
  h.Drain();
  player.Apply({bots::BotUpdated(
      "test1", MaskUpdate("testSpace", "abc", Value("ghi")))});
  h.PlayerData("device1SessionId", player.Update(), false);
  h.Drain();
  EXPECT_THAT(h.updated, IsEmpty());
  EXPECT_EQ(Json(h.partition->state()),
            "{\"test1\":{\"masks\":{\"testSpace\":{\"abc\":\"ghi\"}}}}");
  EXPECT_THAT(
      h.state_events,
      ElementsAre("{\"addedBots\":[],\"removedBots\":[],\"updatedBots\":["
                  "\"test1\"],\"state\":{\"test1\":{\"masks\":{\"testSpace\":{"
                  "\"abc\":\"def\"}}}},\"version\":null}",
                  "{\"addedBots\":[],\"removedBots\":[],\"updatedBots\":["
                  "\"test1\"],\"state\":{\"test1\":{\"masks\":{\"testSpace\":{"
                  "\"abc\":\"ghi\"}}}},\"version\":null}"));
}

TEST_P(OtherPlayers, H16_DisconnectedDeviceIsUnwatched) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Drain();
  h.conn.ClearSent();
  h.Connected(DeviceInfo(1));
  h.Drain();
  h.Disconnected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre(h.WatchJson("device1SessionId"),
                          h.UnwatchJson("device1SessionId")));
}

TEST_P(OtherPlayers, H17_DisconnectRemovesThePlayersBots) {
  Harness h(GetParam());
  PlayerDoc player;
  AddTest1(h, player);
  h.Disconnected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.removed, ElementsAre("test1"));
  EXPECT_EQ(Json(h.partition->state()), "{}");
  EXPECT_THAT(h.state_events,
              ElementsAre(kAddedTest1Event, kRemovedTest1Event));
}

TEST_P(OtherPlayers, H18_DisconnectClearsThePlayersMasks) {
  HarnessOptions o;
  o.space = "testSpace";
  Harness h(GetParam(), o);
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Drain();
  PlayerDoc player("testSpace");
  player.Apply({bots::BotUpdated(
      "test1", MaskUpdate("testSpace", "abc", Value("def")))});
  h.PlayerData("device1SessionId", player.Update(), true);
  h.Drain();
  h.Disconnected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.removed, IsEmpty());
  ASSERT_EQ(h.removed_batches.size(), 1u);  // emitted, but empty
  EXPECT_EQ(Json(h.partition->state()), "{}");
  ASSERT_EQ(h.state_events.size(), 2u);
  EXPECT_EQ(h.state_events[1],
            "{\"addedBots\":[],\"removedBots\":[],\"updatedBots\":[\"test1\"],"
            "\"state\":{\"test1\":{\"masks\":{\"testSpace\":{\"abc\":null}}}},"
            "\"version\":null}");
}

TEST_P(OtherPlayers, H19_ApplyEventsDoesNothing) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Drain();
  h.added.clear();
  absl::StatusOr<std::vector<Value>> result =
      h.partition->ApplyEvents({bots::BotAdded(
          bots::CreateBot("test1", bots::MakeObject({{"abc", "def"}})))});
  h.Drain();
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(*result, IsEmpty());
  EXPECT_THAT(h.added, IsEmpty());
  EXPECT_EQ(Json(h.partition->state()), "{}");
}

TEST_P(OtherPlayers, H20_OwnConnectionIsNotWatched) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Drain();
  h.conn.ClearSent();
  h.Connected(Info("username", "username", "test"));
  h.Drain();
  EXPECT_THAT(h.conn.sent(), IsEmpty());
}

TEST_P(OtherPlayers, H21_TheServerIsAPlayerLikeAnyOther) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Drain();
  h.conn.ClearSent();
  h.Connected(Info("Server", "Server", "server"));
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(), ElementsAre(h.WatchJson("server")));
}

TEST_P(OtherPlayers, H22_RepeatedConnectWatchesOnce) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Drain();
  h.conn.ClearSent();
  h.Connected(DeviceInfo(1));
  h.Connected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(), ElementsAre(h.WatchJson("device1SessionId")));
  PlayerDoc player;
  player.Apply({bots::BotAdded(
      bots::CreateBot("test1", bots::MakeObject({{"abc", "def"}})))});
  h.PlayerData("device1SessionId", player.Update(), true);
  h.Drain();
  EXPECT_THAT(h.added,
              ElementsAre("{\"id\":\"test1\",\"tags\":{\"abc\":\"def\"}}"));
  EXPECT_THAT(h.state_events, ElementsAre(kAddedTest1Event));
}

TEST_P(OtherPlayers, H23_DisconnectOfUnknownDevicesDoesNothing) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Drain();
  h.conn.ClearSent();
  h.Disconnected(DeviceInfo(1));
  h.Disconnected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.conn.sent(), IsEmpty());
  EXPECT_EQ(Json(h.partition->state()), "{}");
}

TEST_P(OtherPlayers, H24_ConnectAndDisconnectInOneTurn) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Drain();
  h.conn.ClearSent();
  h.Connected(DeviceInfo(1));
  h.Disconnected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre(h.WatchJson("device1SessionId"),
                          h.UnwatchJson("device1SessionId")));
  Value before = h.partition->state();
  h.added.clear();
  PlayerDoc player;
  player.Apply({bots::BotAdded(
      bots::CreateBot("test1", bots::MakeObject({{"abc", "def"}})))});
  h.PlayerData("device1SessionId", player.Update(), true);
  h.Drain();
  EXPECT_THAT(h.added, IsEmpty());
  EXPECT_EQ(Json(h.partition->state()), "{}");
  EXPECT_EQ(h.partition->state().object_ref(), before.object_ref());
  EXPECT_THAT(h.state_events, IsEmpty());
}

TEST_P(OtherPlayers, H25_UnwatchesFollowTheDisconnectOrder) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Drain();
  h.conn.ClearSent();
  for (int i : {1, 2, 3}) h.Connected(DeviceInfo(i));
  h.Drain();
  for (int i : {2, 1, 3}) h.Disconnected(DeviceInfo(i));
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre(h.WatchJson("device1SessionId"),
                          h.WatchJson("device2SessionId"),
                          h.WatchJson("device3SessionId"),
                          h.UnwatchJson("device2SessionId"),
                          h.UnwatchJson("device1SessionId"),
                          h.UnwatchJson("device3SessionId")));
}

TEST_P(OtherPlayers, H26_NoUnwatchWhileDisconnected) {
  Harness h(GetParam());
  h.partition->Connect();
  for (int i : {1, 2, 3}) h.Connected(DeviceInfo(i));
  h.Drain();
  h.conn.ClearSent();
  h.conn.Disconnect();
  h.Drain();
  EXPECT_THAT(h.conn.sent(), IsEmpty());
}

TEST_P(OtherPlayers, H27_ConnectionLossLeavesEveryPlayer) {
  Harness h(GetParam());
  h.partition->Connect();
  for (int i : {1, 2, 3}) h.Connected(DeviceInfo(i));
  h.Drain();
  std::vector<std::string> joins;
  for (int i : {1, 2, 3}) {
    std::string id = "device" + std::to_string(i) + "SessionId";
    joins.push_back(Shout("onRemoteJoined", "remoteId", id));
    joins.push_back(Shout("onRemotePlayerSubscribed", "playerId", id));
  }
  EXPECT_EQ(h.events, joins);
  h.events.clear();
  h.conn.Disconnect();
  h.Drain();
  std::vector<std::string> leaves;
  for (int i : {1, 2, 3}) {
    std::string id = "device" + std::to_string(i) + "SessionId";
    leaves.push_back(Shout("onRemoteLeave", "remoteId", id));
    leaves.push_back(Shout("onRemotePlayerUnsubscribed", "playerId", id));
  }
  EXPECT_EQ(h.events, leaves);
  h.conn.ClearSent();
  h.conn.Connect();
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/watch_branch_devices\"," +
                          NsJson(GetParam(), "testBranch") + "}"));
}

TEST_P(OtherPlayers, H28_PlayerBotsGetThePartitionsSpace) {
  HarnessOptions o;
  o.space = "test";
  Harness h(GetParam(), o);
  PlayerDoc player("test");
  AddTest1(h, player);
  const char bot[] =
      "{\"id\":\"test1\",\"tags\":{\"abc\":\"def\"},\"space\":\"test\"}";
  EXPECT_THAT(h.added, ElementsAre(bot));
  EXPECT_EQ(Json(h.partition->state()), std::string("{\"test1\":") + bot + "}");
  EXPECT_THAT(h.state_events,
              ElementsAre(std::string("{\"addedBots\":[\"test1\"],"
                                      "\"removedBots\":[],\"updatedBots\":[],"
                                      "\"state\":{\"test1\":") +
                          bot + "},\"version\":null}"));
}

// partitions.md 10.1: setting the space also sets it on every loaded
// child, so player bots added afterwards carry the new space.
TEST_P(OtherPlayers, Sec10_1_SettingTheSpaceReachesLoadedPlayers) {
  Harness h(GetParam());
  PlayerDoc player;
  AddTest1(h, player);
  h.partition->set_space("later");
  h.added.clear();
  player.Apply({bots::BotAdded(
      bots::CreateBot("test2", bots::MakeObject({{"abc", "ghi"}})))});
  h.PlayerData("device1SessionId", player.Update(), false);
  h.Drain();
  EXPECT_THAT(
      h.added,
      ElementsAre(
          "{\"id\":\"test2\",\"tags\":{\"abc\":\"ghi\"},\"space\":\"later\"}"));
}

TEST_P(OtherPlayers, H29_H30_JoinAndLeaveShouts) {
  Harness h(GetParam());
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(
      h.events,
      ElementsAre(
          Shout("onRemoteJoined", "remoteId", "device1SessionId"),
          Shout("onRemotePlayerSubscribed", "playerId", "device1SessionId")));
  h.events.clear();
  h.Disconnected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(
      h.events,
      ElementsAre(
          Shout("onRemoteLeave", "remoteId", "device1SessionId"),
          Shout("onRemotePlayerUnsubscribed", "playerId", "device1SessionId")));
}

TEST_P(OtherPlayers, H31_SkipInitialLoadConnectsWithoutSending) {
  HarnessOptions o;
  o.skip_initial_load = true;
  Harness h(GetParam(), o);
  h.conn.ClearSent();
  h.partition->Connect();
  h.Drain();
  EXPECT_THAT(h.conn.sent(), IsEmpty());
  EXPECT_THAT(
      h.statuses,
      ElementsAre("{\"type\":\"connection\",\"connected\":true}",
                  "{\"type\":\"authentication\",\"authenticated\":true,"
                  "\"info\":{\"userId\":\"test\",\"sessionId\":\"test\","
                  "\"connectionId\":\"test\"}}",
                  "{\"type\":\"authorization\",\"authorized\":true}",
                  "{\"type\":\"sync\",\"synced\":true}"));
}

TEST_P(OtherPlayers, H32_EnableCollaborationResolvesAfterTheFirstDeviceEvent) {
  HarnessOptions o;
  o.skip_initial_load = true;
  Harness h(GetParam(), o);
  h.partition->Connect();
  h.Drain();
  h.conn.ClearSent();
  bool resolved = false;
  h.partition->EnableCollaboration([&] { resolved = true; });
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/watch_branch_devices\"," +
                          NsJson(GetParam(), "testBranch") + "}"));
  EXPECT_FALSE(resolved);
  h.Connected(DeviceInfo(1));
  h.Drain();
  EXPECT_TRUE(resolved);
}

TEST(OtherPlayersPartition, SkipInitialLoadInfoFromTheIndicator) {
  HarnessOptions o;
  o.skip_initial_load = true;
  o.connect = false;
  Harness h(std::nullopt, o);
  h.conn.set_indicator(bots::MakeObject({{"connectionId", "myConnection"}}));
  h.partition->Connect();
  ASSERT_EQ(h.statuses.size(), 4u);
  EXPECT_EQ(h.statuses[1],
            "{\"type\":\"authentication\",\"authenticated\":true,\"info\":{"
            "\"connectionId\":\"myConnection\",\"sessionId\":null,\"userId\":"
            "null}}");

  Harness none(std::nullopt, o);
  none.partition->Connect();
  EXPECT_EQ(none.statuses[1],
            "{\"type\":\"authentication\",\"authenticated\":true,\"info\":{"
            "\"connectionId\":\"missing-connection-id\",\"sessionId\":null,"
            "\"userId\":null}}");
}

TEST(OtherPlayersPartition, N47_OutageUnloadsEachEmptyPlayerTwice) {
  Harness h;
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Connected(DeviceInfo(2));
  h.Drain();
  h.statuses.clear();
  h.events.clear();
  h.removed_batches.clear();
  h.conn.Disconnect();
  h.Drain();
  EXPECT_THAT(h.statuses,
              ElementsAre("{\"type\":\"connection\",\"connected\":false}",
                          "{\"type\":\"sync\",\"synced\":false}",
                          "{\"type\":\"sync\",\"synced\":true}"));
  EXPECT_THAT(
      h.events,
      ElementsAre(
          Shout("onRemoteLeave", "remoteId", "device1SessionId"),
          Shout("onRemotePlayerUnsubscribed", "playerId", "device1SessionId"),
          Shout("onRemoteLeave", "remoteId", "device2SessionId"),
          Shout("onRemotePlayerUnsubscribed", "playerId", "device2SessionId")));
  EXPECT_EQ(h.removed_batches.size(), 4u);
  for (const auto& batch : h.removed_batches) EXPECT_THAT(batch, IsEmpty());
}

TEST(OtherPlayersPartition, N47_WithoutADeferHookToo) {
  // The default deferral treats the whole state change as one call, so the
  // client's synthesised disconnect still sees the child (two unloads).
  HarnessOptions o;
  o.use_queue = false;
  Harness h(std::nullopt, o);
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.removed_batches.clear();
  h.statuses.clear();
  h.conn.Disconnect();
  EXPECT_EQ(h.removed_batches.size(), 2u);
  EXPECT_THAT(h.statuses,
              ElementsAre("{\"type\":\"connection\",\"connected\":false}",
                          "{\"type\":\"sync\",\"synced\":false}",
                          "{\"type\":\"sync\",\"synced\":true}"));
  EXPECT_EQ(h.partition->DeviceIds().size(), 0u);
}

TEST(OtherPlayersPartition, N48_PlayersWhoStayedAreNotReloadedAfterReconnect) {
  Harness h;
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Drain();
  h.conn.Disconnect();
  h.Drain();
  h.conn.Connect();
  h.Drain();
  h.conn.ClearSent();
  h.events.clear();
  // The server's listing after the reconnect names device1 again.
  h.Connected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.conn.sent(), IsEmpty());
  EXPECT_THAT(h.events, IsEmpty());
  h.GetRemotes();
  EXPECT_THAT(h.events, ElementsAre(GetRemotesResult({"test"})));
  // A second outage synthesises another disconnect: sync false, then true.
  h.statuses.clear();
  h.conn.Disconnect();
  h.Drain();
  EXPECT_THAT(h.statuses,
              ElementsAre("{\"type\":\"connection\",\"connected\":false}",
                          "{\"type\":\"sync\",\"synced\":false}",
                          "{\"type\":\"sync\",\"synced\":true}"));
}

TEST(OtherPlayersPartition, N49_GetRemotesSortsByCodeUnits) {
  HarnessOptions o;
  o.own_connection_id = "me";
  Harness h(std::nullopt, o);
  h.partition->Connect();
  for (const char* id : {"z", "a", "B"}) h.Connected(Info("u", "s", id));
  h.Drain();
  h.events.clear();
  h.GetRemotes();
  EXPECT_THAT(h.events, ElementsAre(GetRemotesResult({"B", "a", "me", "z"})));
}

TEST(OtherPlayersPartition, GetRemotesWithoutAnIdentityFails) {
  HarnessOptions o;
  o.connect = false;
  Harness h(std::nullopt, o);
  EXPECT_FALSE(h.partition
                   ->SendRemoteEvents({bots::Remote(
                       bots::MakeObject({{"type", "get_remotes"}}),
                       bots::RemoteSelector{}, Value(), Value("task1"))})
                   .ok());
}

TEST(OtherPlayersPartition, N58_OutageRemovesPlayerBotsOnce) {
  Harness h;
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Drain();
  PlayerDoc player;
  player.Apply({bots::BotAdded(bots::CreateBot("pb"))});
  h.PlayerData("device1SessionId", player.Update(), true);
  h.Drain();
  h.removed_batches.clear();
  h.state_events.clear();
  h.conn.Disconnect();
  h.Drain();
  ASSERT_EQ(h.removed_batches.size(), 1u);
  EXPECT_THAT(h.removed_batches[0], ElementsAre("pb"));
  EXPECT_THAT(h.state_events,
              ElementsAre("{\"addedBots\":[],\"removedBots\":[\"pb\"],"
                          "\"updatedBots\":[],\"state\":{\"pb\":null},"
                          "\"version\":null}"));
}

TEST(OtherPlayersPartition, N59_SharedMaskEntryBreaksTheSecondUnload) {
  HarnessOptions o;
  o.space = "sp";
  Harness h(std::nullopt, o);
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Connected(DeviceInfo(2));
  h.Drain();
  PlayerDoc p1("sp"), p2("sp");
  p1.Apply({bots::BotUpdated("X", MaskUpdate("sp", "m1", Value(1)))});
  p1.Apply({bots::BotAdded(bots::CreateBot("own1"))});
  p2.Apply({bots::BotUpdated("X", MaskUpdate("sp", "m2", Value(2)))});
  p2.Apply({bots::BotAdded(bots::CreateBot("own2"))});
  h.PlayerData("device1SessionId", p1.Update(), true);
  h.PlayerData("device2SessionId", p2.Update(), true);
  h.Drain();
  ASSERT_EQ(Json(h.partition->state()["X"]),
            "{\"masks\":{\"sp\":{\"m1\":1,\"m2\":2}}}");
  h.state_events.clear();
  h.Disconnected(DeviceInfo(1));
  h.Drain();
  ASSERT_EQ(h.state_events.size(), 1u);
  EXPECT_NE(h.state_events[0].find(
                "\"X\":{\"masks\":{\"sp\":{\"m1\":null,\"m2\":null}}}"),
            std::string::npos)
      << h.state_events[0];
  EXPECT_FALSE(h.partition->state().as_object().Has("X"));
  h.state_events.clear();
  h.removed_batches.clear();
  h.Disconnected(DeviceInfo(2));
  h.Drain();
  EXPECT_THAT(h.state_events, IsEmpty());
  EXPECT_THAT(h.removed_batches, IsEmpty());
  EXPECT_TRUE(h.partition->state().as_object().Has("own2"));
}

TEST(OtherPlayersPartition, UnsubscribeForgetsPlayersAndStopsWatching) {
  Harness h;
  h.partition->Connect();
  h.Connected(DeviceInfo(1));
  h.Drain();
  h.conn.ClearSent();
  h.events.clear();
  h.partition->Unsubscribe();
  h.Drain();
  EXPECT_TRUE(h.partition->closed());
  EXPECT_THAT(
      h.events,
      ElementsAre(
          Shout("onRemoteLeave", "remoteId", "device1SessionId"),
          Shout("onRemotePlayerUnsubscribed", "playerId", "device1SessionId")));
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/unwatch_branch_devices\"," +
                              NsJson(std::nullopt, "testBranch") + "}",
                          h.UnwatchJson("device1SessionId")));
}

TEST(OtherPlayersPartition, ConfigFromValue) {
  absl::StatusOr<OtherPlayersPartitionConfig> c =
      OtherPlayersPartitionConfig::FromValue(
          bots::MakeObject({{"type", "other_players_repo"},
                            {"recordName", "rec"},
                            {"inst", "inst"},
                            {"branch", "default"},
                            {"host", "http://localhost"},
                            {"skipInitialLoad", true}}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->record_name, "rec");
  EXPECT_EQ(c->inst, "inst");
  EXPECT_EQ(c->branch, "default");
  EXPECT_TRUE(c->skip_initial_load);
  EXPECT_EQ(c->child_partition_type, "yjs_client");
  EXPECT_FALSE(OtherPlayersPartitionConfig::FromValue(
                   bots::MakeObject({{"inst", 1}, {"branch", "b"}}))
                   .ok());
  EXPECT_FALSE(OtherPlayersPartitionConfig::FromValue(Value(1)).ok());
}

// The same behaviours with the real children (RemoteYjsPartition, temporary
// and read-only).
class OtherPlayersRealChildren : public ::testing::TestWithParam<bool> {
 protected:
  HarnessOptions Options() const {
    HarnessOptions o;
    o.real_children = true;
    o.use_queue = GetParam();
    return o;
  }
};
INSTANTIATE_TEST_SUITE_P(QueueOrDefault, OtherPlayersRealChildren,
                         ::testing::Bool());

TEST_P(OtherPlayersRealChildren, H11_H16_WatchAndUnwatchThePlayerBranch) {
  Harness h("testRecordName", Options());
  h.partition->Connect();
  h.Drain();
  h.conn.ClearSent();
  h.Connected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(), ElementsAre(h.WatchJson("device1SessionId")));
  h.Disconnected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre(h.WatchJson("device1SessionId"),
                          h.UnwatchJson("device1SessionId")));
}

TEST_P(OtherPlayersRealChildren, H12_H13_H17_PlayerBotsComeAndGo) {
  Harness h(std::nullopt, Options());
  PlayerDoc player;
  AddTest1(h, player);
  EXPECT_THAT(h.added,
              ElementsAre("{\"id\":\"test1\",\"tags\":{\"abc\":\"def\"}}"));
  EXPECT_THAT(h.state_events, ElementsAre(kAddedTest1Event));
  player.Apply({bots::BotRemoved("test1")});
  h.PlayerData("device1SessionId", player.Update(), false);
  h.Drain();
  EXPECT_THAT(h.removed, ElementsAre("test1"));
  EXPECT_THAT(h.state_events,
              ElementsAre(kAddedTest1Event, kRemovedTest1Event));
  player.Apply({bots::BotAdded(
      bots::CreateBot("test2", bots::MakeObject({{"abc", "def"}})))});
  h.PlayerData("device1SessionId", player.Update(), false);
  h.Drain();
  h.removed.clear();
  h.Disconnected(DeviceInfo(1));
  h.Drain();
  EXPECT_THAT(h.removed, ElementsAre("test2"));
  EXPECT_EQ(Json(h.partition->state()), "{}");
  // The child is read-only: nothing but watches was ever sent.
  for (const inst::Message& m : h.conn.sent()) {
    EXPECT_FALSE(std::holds_alternative<inst::AddUpdatesMessage>(m))
        << inst::EncodeMessage(m);
  }
}

TEST_P(OtherPlayersRealChildren, H24_LaterDataOfAnUnloadedPlayerIsIgnored) {
  Harness h(std::nullopt, Options());
  h.partition->Connect();
  h.Drain();
  h.Connected(DeviceInfo(1));
  h.Disconnected(DeviceInfo(1));
  h.Drain();
  PlayerDoc player;
  player.Apply({bots::BotAdded(bots::CreateBot("test1"))});
  h.added.clear();
  h.PlayerData("device1SessionId", player.Update(), true);
  h.Drain();
  EXPECT_THAT(h.added, IsEmpty());
  EXPECT_THAT(h.state_events, IsEmpty());
}

TEST(OtherPlayersPartition, FactoryForCreateAuxPartition) {
  MemoryConnectionClient conn(Info("test", "test", "test"), kLoginOrder);
  InstRecordsClient client(conn);
  partitions::PartitionAuthSource auth;
  partitions::PartitionServices services;
  services.auth_source = &auth;
  std::vector<partitions::PartitionFactory> factories =
      partitions::DefaultFactories();
  factories.push_back(OtherPlayersPartitionFactory(client));
  absl::StatusOr<std::unique_ptr<partitions::Partition>> p =
      partitions::CreateAuxPartition(
          bots::MakeObject({{"type", "other_players_repo"},
                            {"recordName", nullptr},
                            {"inst", "inst"},
                            {"branch", "default"},
                            {"host", "http://localhost:2999"}}),
          services, factories);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_NE(*p, nullptr);
  EXPECT_EQ((*p)->type(), "other_players");
  partitions::PartitionServices no_auth;
  EXPECT_FALSE(partitions::CreateAuxPartition(
                   bots::MakeObject({{"type", "other_players_client"},
                                     {"inst", "inst"},
                                     {"branch", "default"}}),
                   no_auth, factories)
                   .ok());
}

TEST(OtherPlayersPartition, CreateFromConfig) {
  MemoryConnectionClient conn(Info("test", "test", "test"), kLoginOrder);
  InstRecordsClient client(conn);
  partitions::PartitionAuthSource auth;
  absl::StatusOr<std::unique_ptr<OtherPlayersPartition>> p =
      CreateOtherPlayersPartition(
          bots::MakeObject({{"type", "other_players_client"},
                            {"recordName", nullptr},
                            {"inst", "inst"},
                            {"branch", "default"}}),
          client, auth);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_NE(*p, nullptr);
  EXPECT_EQ((*p)->type(), "other_players");
  absl::StatusOr<std::unique_ptr<OtherPlayersPartition>> other =
      CreateOtherPlayersPartition(bots::MakeObject({{"type", "memory"}}),
                                  client, auth);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, nullptr);
  EXPECT_FALSE(
      CreateOtherPlayersPartition(
          bots::MakeObject({{"type", "other_players_repo"}, {"inst", "inst"}}),
          client, auth)
          .ok());
}

// --- Differential sessions against the real aux-common partition ---------
//
// internal/other_players_cases_for_test.h holds seeded sessions run through
// aux-common 3.10.5's OtherPlayersPartition (real RemoteYjsPartition
// children) with the exact log of its emissions, sends and states
// (interop/tools/gen_other_players_cases.mjs documents the format).
// ExpectSession replays each through this partition with the real children,
// running the deferred work between steps, and compares the logs.

class LoggingConnection : public MemoryConnectionClient {
 public:
  LoggingConnection(std::vector<std::string>* log, inst::ConnectionInfo info)
      : MemoryConnectionClient(std::move(info), kLoginOrder), log_(log) {}
  absl::Status Send(const inst::Message& message) override {
    log_->push_back("sent " + inst::EncodeMessage(message));
    return MemoryConnectionClient::Send(message);
  }

 private:
  std::vector<std::string>* log_;
};

std::string JsonOfValues(const std::vector<Value>& values) {
  Value list = Value::NewArray();
  list.as_array().items = values;
  return Json(list);
}

void ExpectSessionWith(std::string_view session_json, std::string_view log_json,
                       bool use_queue) {
  absl::StatusOr<Value> session = bots::ParseJson(session_json);
  absl::StatusOr<Value> expected_log = bots::ParseJson(log_json);
  ASSERT_TRUE(session.ok() && expected_log.ok());
  std::vector<std::string> expected;
  for (const Value& line : expected_log->as_array().items) {
    expected.push_back(line.as_string());
  }

  std::vector<std::string> log;
  std::deque<std::function<void()>> microtasks;
  partitions::PartitionAuthSource auth;
  LoggingConnection conn(&log, Info("test", "test", "test"));
  conn.Connect();
  InstRecordsClient client(conn);
  OtherPlayersPartitionConfig config;
  config.inst = "inst";
  config.branch = "testBranch";
  config.skip_initial_load = bots::IsTruthy((*session)["skip"]);
  OtherPlayersPartitionOptions options;
  if (use_queue) {
    options.defer = [&microtasks](std::function<void()> task) {
      microtasks.push_back(std::move(task));
    };
  }
  OtherPlayersPartition partition(client, auth, config, options);
  const Value& space = (*session)["space"];
  if (space.is_string()) partition.set_space(space.as_string());

  std::vector<rx::Subscription> subs;
  bool replay_added = true;
  subs.push_back(partition.OnBotsAdded([&](const std::vector<Value>& b) {
    if (replay_added) {
      replay_added = false;
      return;
    }
    log.push_back("added " + JsonOfValues(b));
  }));
  subs.push_back(
      partition.OnBotsRemoved([&](const std::vector<std::string>& ids) {
        Value list = Value::NewArray();
        for (const std::string& id : ids) {
          list.as_array().items.push_back(Value(id));
        }
        log.push_back("removed " + Json(list));
      }));
  subs.push_back(
      partition.OnBotsUpdated([&](const std::vector<bots::UpdatedBot>& u) {
        std::vector<Value> values;
        for (const bots::UpdatedBot& b : u) values.push_back(b.ToValue());
        log.push_back("updated " + JsonOfValues(values));
      }));
  bool replay_state = true;
  subs.push_back(
      partition.OnStateUpdated([&](const bots::StateUpdatedEvent& e) {
        if (replay_state) {
          replay_state = false;
          return;
        }
        log.push_back("stateEvent " + Json(e.ToValue()));
      }));
  subs.push_back(partition.OnEvents([&](const std::vector<Value>& e) {
    log.push_back("events " + JsonOfValues(e));
  }));
  subs.push_back(partition.OnStatusUpdated(
      [&](const Value& s) { log.push_back("status " + Json(s)); }));
  subs.push_back(partition.OnError(
      [&](const Value& e) { log.push_back("error " + Json(e)); }));

  auto ns = [](std::string branch) {
    return inst::BranchNamespace{
        .record_name = std::nullopt, .inst = "inst", .branch = branch};
  };
  auto info = [](const std::string& id) {
    return Info("u-" + id, "s-" + id, id);
  };
  int task = 0;
  bool enabled = false;
  for (const Value& step : (*session)["steps"].as_array().items) {
    const std::string& op = step["op"].as_string();
    std::string id = step["id"].is_string() ? step["id"].as_string() : "";
    log.push_back("step " + op + (id.empty() ? "" : " " + id));
    if (op == "connect") {
      partition.Connect();
    } else if (op == "enable") {
      partition.EnableCollaboration([&enabled] { enabled = true; });
    } else if (op == "up") {
      conn.Connect();
    } else if (op == "down") {
      conn.Disconnect();
    } else if (op == "on") {
      inst::ConnectedToBranchMessage m;
      m.broadcast = false;
      m.branch.ns = ns("testBranch");
      m.connection = info(id);
      conn.Deliver(m);
    } else if (op == "off") {
      inst::DisconnectedFromBranchMessage m;
      m.broadcast = false;
      m.ns = ns("testBranch");
      m.connection = info(id);
      conn.Deliver(m);
    } else if (op == "data") {
      inst::AddUpdatesMessage m;
      m.ns = ns("testBranch-player-" + id);
      for (const Value& u : step["updates"].as_array().items) {
        m.updates.push_back(u.as_string());
      }
      if (bots::IsTruthy(step["initial"])) m.initial = true;
      conn.Deliver(m);
    } else if (op == "remotes") {
      absl::StatusOr<std::vector<Value>> r = partition.SendRemoteEvents(
          {bots::Remote(bots::MakeObject({{"type", "get_remotes"}}),
                        bots::RemoteSelector{}, Value(),
                        Value("t" + std::to_string(++task)))});
      if (!r.ok()) log.push_back("threw TypeError");
    } else if (op == "apply") {
      absl::StatusOr<std::vector<Value>> r =
          partition.ApplyEvents({bots::BotAdded(
              bots::CreateBot("local", bots::MakeObject({{"a", 1}})))});
      ASSERT_TRUE(r.ok());
      log.push_back("applied " + JsonOfValues(*r));
    } else if (op == "close") {
      partition.Unsubscribe();
    } else {
      FAIL() << "unknown op " << op;
    }
    while (!microtasks.empty()) {
      std::function<void()> t = std::move(microtasks.front());
      microtasks.pop_front();
      t();
    }
    if (enabled) log.push_back("enabled");
    enabled = false;
    log.push_back("state " + Json(partition.state()));
  }
  for (size_t i = 0; i < std::max(log.size(), expected.size()); ++i) {
    ASSERT_LT(i, log.size())
        << "missing from line " << i << ": " << expected[i];
    ASSERT_LT(i, expected.size()) << "extra line " << i << ": " << log[i];
    ASSERT_EQ(log[i], expected[i]) << "line " << i;
  }
}

// Both deferral modes: an event-loop hook (here a queue run between steps)
// and the default (work runs when the call into the partition ends).
void ExpectSession(std::string_view session_json, std::string_view log_json) {
  {
    SCOPED_TRACE("deferred work queued");
    ExpectSessionWith(session_json, log_json, true);
  }
  {
    SCOPED_TRACE("default deferral");
    ExpectSessionWith(session_json, log_json, false);
  }
}

#include "auxsync/client/internal/other_players_cases_for_test.h"

}  // namespace
}  // namespace auxsync::client
