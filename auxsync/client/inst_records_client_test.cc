#include "auxsync/client/inst_records_client.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auxsync/bots/json.h"
#include "auxsync/client/memory_connection_client.h"
#include "auxsync/inst/message_codec.h"
#include "boost/asio/io_context.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::client {
namespace {

using inst::BranchNamespace;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

inst::ConnectionInfo Info(std::string connection_id, std::string session_id,
                          std::string user_id) {
  return inst::ConnectionInfo{.connection_id = std::move(connection_id),
                              .session_id = std::move(session_id),
                              .user_id = std::move(user_id)};
}

BranchNamespace Ns(inst::RecordName record, std::string branch = "testBranch",
                   std::string inst = "inst") {
  return BranchNamespace{.record_name = std::move(record),
                         .inst = std::move(inst),
                         .branch = std::move(branch)};
}

// `"recordName":null` or `"recordName":"testRecord"`.
std::string RecordJson(const inst::RecordName& record) {
  return record ? "\"recordName\":\"" + *record + "\"" : "\"recordName\":null";
}

std::string NsJson(const BranchNamespace& ns) {
  return RecordJson(ns.record_name) + ",\"inst\":\"" + ns.inst +
         "\",\"branch\":\"" + ns.branch + "\"";
}

inst::AddUpdatesMessage ServerUpdates(const BranchNamespace& ns,
                                      std::vector<std::string> updates,
                                      bool initial = false) {
  inst::AddUpdatesMessage m;
  m.ns = ns;
  m.updates = std::move(updates);
  if (initial) m.initial = true;
  return m;
}

inst::WatchBranchResultMessage WatchResult(const BranchNamespace& ns,
                                           bool success = true) {
  inst::WatchBranchResultMessage m;
  m.ns = ns;
  m.success = success;
  if (!success) {
    m.error_code = "not_authorized";
    m.error_message = "Not authorized";
  }
  return m;
}

inst::UpdatesReceivedMessage Ack(const BranchNamespace& ns, double id) {
  inst::UpdatesReceivedMessage m;
  m.ns = ns;
  m.update_id = id;
  return m;
}

inst::ConnectedToBranchMessage DeviceConnected(const BranchNamespace& ns,
                                               inst::ConnectionInfo info,
                                               bool broadcast = false) {
  inst::ConnectedToBranchMessage m;
  m.broadcast = broadcast;
  m.branch.ns = ns;
  m.connection = std::move(info);
  return m;
}

inst::DisconnectedFromBranchMessage DeviceDisconnected(
    const BranchNamespace& ns, inst::ConnectionInfo info,
    bool broadcast = false) {
  inst::DisconnectedFromBranchMessage m;
  m.broadcast = broadcast;
  m.ns = ns;
  m.connection = std::move(info);
  return m;
}

std::string SyncName(const SyncUpdatesEvent& e) {
  return e.type == SyncUpdatesEvent::Type::kSyncing ? "syncing" : "synced";
}

// A connected memory connection with an InstRecordsClient on a fake clock.
struct Harness {
  explicit Harness(InstRecordsClientOptions options = {}, bool connected = true)
      : conn(Info("test", "test", "test")),
        client(conn, WithClock(std::move(options), &now)) {
    if (connected) conn.Connect();
  }
  static InstRecordsClientOptions WithClock(InstRecordsClientOptions options,
                                            double* now) {
    options.now = [now] { return *now; };
    return options;
  }
  double now = 0;
  MemoryConnectionClient conn;
  InstRecordsClient client;
};

// Records every callback of a branch watch.
struct WatchLog {
  std::vector<BranchUpdates> updates;
  std::vector<inst::ReceiveActionMessage> actions;
  std::vector<inst::UpdatesReceivedMessage> max_size;
  std::vector<inst::ErrorInfo> errors;
  std::vector<inst::WatchBranchResultMessage> results;

  BranchWatchCallbacks Callbacks() {
    return BranchWatchCallbacks{
        .on_updates = [this](const BranchUpdates& u) { updates.push_back(u); },
        .on_action =
            [this](const inst::ReceiveActionMessage& m) {
              actions.push_back(m);
            },
        .on_max_size =
            [this](const inst::UpdatesReceivedMessage& m) {
              max_size.push_back(m);
            },
        .on_error = [this](const inst::ErrorInfo& e) { errors.push_back(e); },
        .on_watch_result =
            [this](const inst::WatchBranchResultMessage& m) {
              results.push_back(m);
            },
    };
  }
};

class RecordNames : public ::testing::TestWithParam<inst::RecordName> {};
INSTANTIATE_TEST_SUITE_P(
    InstRecordsClient, RecordNames,
    ::testing::Values(std::nullopt, std::optional<std::string>("testRecord")));

// --- Message shapes ----------------------------------------------------------

TEST_P(RecordNames, G5_WatchSendsExactlyWatchBranch) {
  Harness h;
  WatchLog log;
  rx::Subscription watch = h.client.WatchBranch(Ns(GetParam()), false,
                                                std::nullopt, log.Callbacks());
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/watch_branch\"," +
                          NsJson(Ns(GetParam())) + "}"));
}

TEST_P(RecordNames, G57_TemporaryWatchCarriesTemporaryTrue) {
  Harness h;
  rx::Subscription watch =
      h.client.WatchBranch(Ns(GetParam()), true, std::nullopt, {});
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/watch_branch\"," +
                          NsJson(Ns(GetParam())) + ",\"temporary\":true}"));
}

TEST_P(RecordNames, H10_WatchBranchDevicesSendsExactlyOneMessage) {
  Harness h;
  rx::Subscription devices =
      h.client.WatchBranchDevices(Ns(GetParam()), [](const DeviceEvent&) {});
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/watch_branch_devices\"," +
                          NsJson(Ns(GetParam())) + "}"));
}

TEST_P(RecordNames, H16_DroppingAWatchSendsUnwatchBranch) {
  Harness h;
  BranchNamespace ns = Ns(GetParam(), "testBranch-player-device1SessionId");
  rx::Subscription watch = h.client.WatchBranch(ns, true, std::nullopt, {});
  watch.Unsubscribe();
  EXPECT_THAT(
      h.conn.SentJson(),
      ElementsAre("{\"type\":\"repo/watch_branch\"," + NsJson(ns) +
                      ",\"temporary\":true}",
                  "{\"type\":\"repo/unwatch_branch\"," + NsJson(ns) + "}"));
}

TEST_P(RecordNames, G7_SendActionShape) {
  Harness h;
  inst::RemoteAction action;
  action.payload = bots::MakeObject({{"type", "def"}});
  action.connection_id = "device";
  ASSERT_TRUE(h.client.SendAction(Ns(GetParam()), action).ok());
  EXPECT_THAT(
      h.conn.SentJson(),
      ElementsAre("{\"type\":\"repo/send_action\"," + NsJson(Ns(GetParam())) +
                  ",\"action\":{\"type\":\"remote\",\"event\":{"
                  "\"type\":\"def\"},\"connectionId\":\"device\"}}"));
}

TEST(InstRecordsClient, WatchWithMarkersSendsThem) {
  Harness h;
  rx::Subscription watch = h.client.WatchBranch(
      Ns(std::nullopt), true, std::vector<std::string>{"publicRead"}, {});
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/watch_branch\",\"recordName\":null,"
                          "\"inst\":\"inst\",\"branch\":\"testBranch\","
                          "\"temporary\":true,\"markers\":[\"publicRead\"]}"));
}

TEST(InstRecordsClient, AddUpdatesShapeAndClientWideIds) {
  Harness h;
  EXPECT_EQ(h.client.AddUpdates(Ns("rec", "a"), {"u1"}).update_id, 1);
  EXPECT_EQ(h.client.AddUpdates(Ns("rec", "b"), {"u2", "u3"}).update_id, 2);
  EXPECT_EQ(h.client.AddUpdates(Ns("rec", "a"), {"u4"}).update_id, 3);
  // Empty lists are ignored and use no id.
  EXPECT_EQ(h.client.AddUpdates(Ns("rec", "a"), {}).update_id, 0);
  EXPECT_THAT(
      h.conn.SentJson(),
      ElementsAre(
          "{\"type\":\"repo/add_updates\",\"recordName\":\"rec\",\"inst\":"
          "\"inst\",\"branch\":\"a\",\"updates\":[\"u1\"],\"updateId\":1}",
          "{\"type\":\"repo/add_updates\",\"recordName\":\"rec\",\"inst\":"
          "\"inst\",\"branch\":\"b\",\"updates\":[\"u2\",\"u3\"],"
          "\"updateId\":2}",
          "{\"type\":\"repo/add_updates\",\"recordName\":\"rec\",\"inst\":"
          "\"inst\",\"branch\":\"a\",\"updates\":[\"u4\"],\"updateId\":3}"));
}

// --- Watching
// -------------------------------------------------------------------

TEST(InstRecordsClient, WatchBeforeConnectingWaitsForTheConnection) {
  Harness h({}, /*connected=*/false);
  WatchLog log;
  rx::Subscription watch = h.client.WatchBranch(Ns(std::nullopt), false,
                                                std::nullopt, log.Callbacks());
  EXPECT_THAT(h.conn.sent(), IsEmpty());
  // Nothing is routed before the first connected state.
  h.conn.Deliver(ServerUpdates(Ns(std::nullopt), {"x"}, true));
  EXPECT_THAT(log.updates, IsEmpty());
  h.conn.Connect();
  EXPECT_EQ(h.conn.sent().size(), 1u);
  h.conn.Deliver(ServerUpdates(Ns(std::nullopt), {"y"}, true));
  ASSERT_EQ(log.updates.size(), 1u);
  EXPECT_THAT(log.updates[0].updates, ElementsAre("y"));
}

TEST(InstRecordsClient, N38_ReconnectSendsUnwatchThenWatch) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  rx::Subscription watch = h.client.WatchBranch(ns, false, std::nullopt, {});
  h.conn.Deliver(WatchResult(ns));
  h.conn.Disconnect();
  h.conn.Connect();
  std::string w = "{\"type\":\"repo/watch_branch\"," + NsJson(ns) + "}";
  std::string u = "{\"type\":\"repo/unwatch_branch\"," + NsJson(ns) + "}";
  EXPECT_THAT(h.conn.SentJson(), ElementsAre(w, u, w));
}

TEST(InstRecordsClient, UnansweredWatchIsResentWithoutUnwatch) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  rx::Subscription watch = h.client.WatchBranch(ns, false, std::nullopt, {});
  h.conn.Disconnect();
  h.conn.Connect();
  std::string w = "{\"type\":\"repo/watch_branch\"," + NsJson(ns) + "}";
  EXPECT_THAT(h.conn.SentJson(), ElementsAre(w, w));
}

TEST(InstRecordsClient, FailedWatchResultAlsoCountsAsAnswered) {
  Harness h;
  BranchNamespace ns = Ns("rec");
  WatchLog log;
  h.client.AddUpdates(ns, {"u1"});
  rx::Subscription watch =
      h.client.WatchBranch(ns, false, std::nullopt, log.Callbacks());
  h.conn.ClearSent();
  h.conn.Deliver(WatchResult(ns, /*success=*/false));
  // A failure re-sends nothing but is reported.
  EXPECT_THAT(h.conn.sent(), IsEmpty());
  ASSERT_EQ(log.results.size(), 1u);
  EXPECT_FALSE(log.results[0].success);
  h.conn.Disconnect();
  h.conn.Connect();
  EXPECT_THAT(
      h.conn.SentJson(),
      ElementsAre("{\"type\":\"repo/unwatch_branch\"," + NsJson(ns) + "}",
                  "{\"type\":\"repo/watch_branch\"," + NsJson(ns) + "}"));
}

TEST(InstRecordsClient, RepeatedConnectedStateRewatches) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  rx::Subscription watch = h.client.WatchBranch(ns, false, std::nullopt, {});
  h.conn.Deliver(WatchResult(ns));
  h.conn.ClearSent();
  h.conn.Connect();  // a second login on the same socket
  EXPECT_THAT(
      h.conn.SentJson(),
      ElementsAre("{\"type\":\"repo/unwatch_branch\"," + NsJson(ns) + "}",
                  "{\"type\":\"repo/watch_branch\"," + NsJson(ns) + "}"));
}

TEST(InstRecordsClient, DroppingAWatchWhileDisconnectedSendsNothing) {
  Harness h;
  rx::Subscription watch =
      h.client.WatchBranch(Ns(std::nullopt), false, std::nullopt, {});
  h.conn.Disconnect();
  h.conn.ClearSent();
  watch.Unsubscribe();
  EXPECT_THAT(h.conn.sent(), IsEmpty());
  // The answered flag goes with the watch: a new watch sends no unwatch.
  h.conn.Connect();
  EXPECT_THAT(h.conn.sent(), IsEmpty());
}

TEST(InstRecordsClient, N44_UpdatesBeforeTheInitialSnapshotAreHeldBack) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  WatchLog log;
  rx::Subscription watch =
      h.client.WatchBranch(ns, false, std::nullopt, log.Callbacks());
  h.conn.Deliver(ServerUpdates(ns, {"live1"}));
  h.conn.Deliver(ServerUpdates(ns, {"live2", "live3"}));
  // Another branch's updates are not this watch's business.
  h.conn.Deliver(ServerUpdates(Ns(std::nullopt, "other"), {"x"}, true));
  EXPECT_THAT(log.updates, IsEmpty());
  h.conn.Deliver(ServerUpdates(ns, {"snap1", "snap2"}, true));
  ASSERT_EQ(log.updates.size(), 1u);
  EXPECT_THAT(log.updates[0].updates,
              ElementsAre("live1", "live2", "live3", "snap1", "snap2"));
  EXPECT_TRUE(log.updates[0].initial);
  h.conn.Deliver(ServerUpdates(ns, {"live4"}));
  ASSERT_EQ(log.updates.size(), 2u);
  EXPECT_THAT(log.updates[1].updates, ElementsAre("live4"));
  EXPECT_FALSE(log.updates[1].initial);

  // Each connection starts the hold-back over.
  h.conn.Disconnect();
  h.conn.Connect();
  h.conn.Deliver(ServerUpdates(ns, {"live5"}));
  EXPECT_EQ(log.updates.size(), 2u);
  h.conn.Deliver(ServerUpdates(ns, {}, true));
  ASSERT_EQ(log.updates.size(), 3u);
  EXPECT_THAT(log.updates[2].updates, ElementsAre("live5"));
}

TEST(InstRecordsClient, EmptyInitialSnapshotIsDelivered) {
  Harness h;
  WatchLog log;
  rx::Subscription watch = h.client.WatchBranch(Ns(std::nullopt), false,
                                                std::nullopt, log.Callbacks());
  h.conn.Deliver(ServerUpdates(Ns(std::nullopt), {}, true));
  ASSERT_EQ(log.updates.size(), 1u);
  EXPECT_THAT(log.updates[0].updates, IsEmpty());
}

TEST(InstRecordsClient, RoutesActionsErrorsAndMaxSizeOfItsBranch) {
  Harness h;
  BranchNamespace ns = Ns("rec");
  WatchLog log;
  rx::Subscription watch =
      h.client.WatchBranch(ns, false, std::nullopt, log.Callbacks());

  inst::ReceiveActionMessage action;
  action.ns = ns;
  action.action =
      inst::DeviceAction{.kind = inst::RemoteKind::kRemote,
                         .connection = Info("c", "s", "u"),
                         .payload = bots::MakeObject({{"type", "abc"}}),
                         .task_id = bots::Value()};
  h.conn.Deliver(action);
  action.ns = Ns("rec", "other");
  h.conn.Deliver(action);
  EXPECT_EQ(log.actions.size(), 1u);

  h.conn.DeliverError(
      inst::MakeBranchErrorInfo("not_authorized", "Not authorized", ns));
  h.conn.DeliverError(inst::MakeBranchErrorInfo(
      "not_authorized", "Not authorized", Ns(std::nullopt)));
  h.conn.DeliverError(inst::MakeErrorInfo("not_logged_in", "x"));
  ASSERT_EQ(log.errors.size(), 1u);
  EXPECT_EQ(log.errors[0].error_code(), "not_authorized");

  inst::UpdatesReceivedMessage max = Ack(ns, 1);
  max.error_code = "max_size_reached";
  max.max_branch_size_in_bytes = 10;
  max.needed_branch_size_in_bytes = 11;
  h.conn.Deliver(max);
  h.conn.Deliver(Ack(ns, 2));
  ASSERT_EQ(log.max_size.size(), 1u);
  EXPECT_EQ(*log.max_size[0].needed_branch_size_in_bytes, 11);
}

TEST(InstRecordsClient, CallbackMayDropItsOwnWatch) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  rx::Subscription watch;
  int calls = 0;
  watch =
      h.client.WatchBranch(ns, false, std::nullopt,
                           BranchWatchCallbacks{.on_updates =
                                                    [&](const BranchUpdates&) {
                                                      ++calls;
                                                      watch.Unsubscribe();
                                                    },
                                                .on_action = nullptr,
                                                .on_max_size = nullptr,
                                                .on_error = nullptr,
                                                .on_watch_result = nullptr});
  h.conn.Deliver(ServerUpdates(ns, {"a"}, true));
  h.conn.Deliver(ServerUpdates(ns, {"b"}));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(inst::EncodeMessage(h.conn.sent().back()),
            "{\"type\":\"repo/unwatch_branch\"," + NsJson(ns) + "}");
}

// --- Offline queue
// ----------------------------------------------------------------

TEST(InstRecordsClient, N39_UpdatesWhileOfflineAreSentAndResentAfterWatch) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  rx::Subscription watch = h.client.WatchBranch(ns, false, std::nullopt, {});
  h.conn.Deliver(WatchResult(ns));
  h.client.AddUpdates(ns, {"a"});
  h.conn.Disconnect();
  h.conn.ClearSent();
  h.client.AddUpdates(ns, {"b"});
  // Handed to the connection although it is offline, with the next id.
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/add_updates\"," + NsJson(ns) +
                          ",\"updates\":[\"b\"],\"updateId\":2}"));
  h.conn.ClearSent();
  h.conn.Connect();
  h.conn.Deliver(WatchResult(ns));
  EXPECT_THAT(
      h.conn.SentJson(),
      ElementsAre("{\"type\":\"repo/unwatch_branch\"," + NsJson(ns) + "}",
                  "{\"type\":\"repo/watch_branch\"," + NsJson(ns) + "}",
                  "{\"type\":\"repo/add_updates\"," + NsJson(ns) +
                      ",\"updates\":[\"a\"],\"updateId\":1}",
                  "{\"type\":\"repo/add_updates\"," + NsJson(ns) +
                      ",\"updates\":[\"b\"],\"updateId\":2}"));
  // Acknowledged entries are not re-sent by the next watch result.
  h.conn.Deliver(Ack(ns, 1));
  h.conn.ClearSent();
  h.conn.Deliver(WatchResult(ns));
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/add_updates\"," + NsJson(ns) +
                          ",\"updates\":[\"b\"],\"updateId\":2}"));
}

TEST(InstRecordsClient, SyncingThenSyncedForEveryAckOfAnEmptySet) {
  // partitions.md 9.11: ack 1 then ack 77 -> syncing, synced, synced.
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  std::vector<std::string> events;
  rx::Subscription sync = h.client.OnSyncUpdates(
      [&](const SyncUpdatesEvent& e) { events.push_back(SyncName(e)); });
  rx::Subscription watch = h.client.WatchBranch(ns, false, std::nullopt, {});
  h.client.AddUpdates(ns, {"a"});
  h.conn.Deliver(Ack(ns, 1));
  h.conn.Deliver(Ack(ns, 77));
  EXPECT_THAT(events, ElementsAre("syncing", "synced", "synced"));
}

TEST(InstRecordsClient, N61_UnknownAckEmitsSyncedAgain) {
  Harness h;
  BranchNamespace ns = Ns("rec");
  std::vector<SyncUpdatesEvent> events;
  rx::Subscription sync = h.client.OnSyncUpdates(
      [&](const SyncUpdatesEvent& e) { events.push_back(e); });
  rx::Subscription watch = h.client.WatchBranch(ns, false, std::nullopt, {});
  h.client.AddUpdates(ns, {"a"});
  h.client.AddUpdates(ns, {"b"});  // still syncing: no second event
  h.conn.Deliver(Ack(ns, 1));      // one left: nothing
  h.conn.Deliver(Ack(ns, 2));
  h.conn.Deliver(Ack(ns, 12345));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(SyncName(events[0]), "syncing");
  EXPECT_EQ(SyncName(events[1]), "synced");
  EXPECT_EQ(SyncName(events[2]), "synced");
  EXPECT_EQ(events[2].ns, ns);
}

TEST(InstRecordsClient, AcksAreProcessedOnlyWhileTheBranchIsWatched) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  std::vector<std::string> events;
  rx::Subscription sync = h.client.OnSyncUpdates(
      [&](const SyncUpdatesEvent& e) { events.push_back(SyncName(e)); });
  h.client.AddUpdates(ns, {"a"});
  h.conn.Deliver(Ack(ns, 1));
  EXPECT_EQ(h.client.PendingCount(ns), 1u);
  EXPECT_THAT(events, ElementsAre("syncing"));
  rx::Subscription watch = h.client.WatchBranch(ns, false, std::nullopt, {});
  h.conn.Deliver(Ack(ns, 1));
  EXPECT_EQ(h.client.PendingCount(ns), 0u);
  EXPECT_THAT(events, ElementsAre("syncing", "synced"));
}

TEST(InstRecordsClient, TemporaryBranchesNeverDropEntries) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt, "default-player-me");
  std::vector<std::string> events;
  rx::Subscription sync = h.client.OnSyncUpdates(
      [&](const SyncUpdatesEvent& e) { events.push_back(SyncName(e)); });
  rx::Subscription watch = h.client.WatchBranch(ns, true, std::nullopt, {});
  h.client.AddUpdates(ns, {"a"});
  h.conn.Deliver(Ack(ns, 1));
  EXPECT_EQ(h.client.PendingCount(ns), 1u);
  EXPECT_THAT(events, ElementsAre("syncing"));
  h.conn.ClearSent();
  h.conn.Deliver(WatchResult(ns));
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/add_updates\"," + NsJson(ns) +
                          ",\"updates\":[\"a\"],\"updateId\":1}"));
}

TEST(InstRecordsClient, MaxSizeReachedDropsTheEntry) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  rx::Subscription watch = h.client.WatchBranch(ns, false, std::nullopt, {});
  h.client.AddUpdates(ns, {"a"});
  inst::UpdatesReceivedMessage max = Ack(ns, 1);
  max.error_code = "max_size_reached";
  h.conn.Deliver(max);
  EXPECT_EQ(h.client.PendingCount(ns), 0u);
}

TEST(InstRecordsClient, TimedResendBacksOffFiveTenTwentyFortyForty) {
  InstRecordsClientOptions options;
  options.resend_updates = true;
  Harness h(options);
  BranchNamespace ns = Ns(std::nullopt);
  h.now = 1000;
  h.client.AddUpdates(ns, {"a"});
  h.conn.ClearSent();
  std::vector<double> resent_at;
  // Step the fake clock in 1 s checks, as the timer would.
  for (double t = 1000; t <= 1000 + 160000; t += 1000) {
    h.now = t;
    size_t before = h.conn.sent().size();
    h.client.CheckResends();
    if (h.conn.sent().size() > before) resent_at.push_back(t - 1000);
  }
  EXPECT_THAT(resent_at,
              ElementsAre(5000, 15000, 35000, 75000, 115000, 155000));
  // Every resend carries the original id.
  for (const std::string& json : h.conn.SentJson()) {
    EXPECT_EQ(json, "{\"type\":\"repo/add_updates\"," + NsJson(ns) +
                        ",\"updates\":[\"a\"],\"updateId\":1}");
  }
}

TEST(InstRecordsClient, WatchResultResendDoesNotCountAsATry) {
  InstRecordsClientOptions options;
  options.resend_updates = true;
  Harness h(options);
  BranchNamespace ns = Ns(std::nullopt);
  rx::Subscription watch = h.client.WatchBranch(ns, false, std::nullopt, {});
  h.client.AddUpdates(ns, {"a"});
  h.now = 4000;
  h.conn.Deliver(WatchResult(ns));
  h.conn.ClearSent();
  h.now = 5000;
  h.client.CheckResends();
  EXPECT_EQ(h.conn.sent().size(), 1u);
}

TEST(InstRecordsClient, TimedResendKeepsNamespacesWithSlashes) {
  // Upstream recovers the namespace by splitting "rec/inst/branch" on "/";
  // the triple is stored here, so "doc/x" branches survive a resend.
  InstRecordsClientOptions options;
  options.resend_updates = true;
  Harness h(options);
  BranchNamespace ns = Ns(std::nullopt, "doc/with/slashes", "my/inst");
  h.client.AddUpdates(ns, {"a"});
  h.conn.ClearSent();
  h.now = 5000;
  h.client.CheckResends();
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/add_updates\",\"recordName\":null,"
                          "\"inst\":\"my/inst\",\"branch\":"
                          "\"doc/with/slashes\",\"updates\":[\"a\"],"
                          "\"updateId\":1}"));
}

TEST(InstRecordsClient, ResendTimerRunsOnTheIoContext) {
  boost::asio::io_context io;
  MemoryConnectionClient conn(Info("test", "test", "test"));
  conn.Connect();
  InstRecordsClientOptions options;
  options.resend_updates = true;
  options.resend_after_ms = 20;
  options.check_interval_ms = 5;
  options.io = &io;
  {
    InstRecordsClient client(conn, options);
    auto start = std::chrono::steady_clock::now();
    client.AddUpdates(Ns(std::nullopt), {"a"});
    // Sent once, resent 20 ms later and 40 ms after that.
    while (conn.sent().size() < 3 &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
      io.run_one_for(std::chrono::milliseconds(50));
    }
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(conn.sent().size(), 3u);
    EXPECT_GE(elapsed, std::chrono::milliseconds(60));
  }
  // The client is gone; its timer must not fire into it.
  io.restart();
  io.run_for(std::chrono::milliseconds(20));
}

// --- Requests
// -------------------------------------------------------------------

TEST(InstRecordsClient, N46_ConnectionCountIsRequestedAgainAfterReconnect) {
  Harness h;
  std::vector<double> counts;
  rx::Subscription count =
      h.client.ConnectionCount(std::nullopt, std::nullopt, std::nullopt,
                               [&](double c) { counts.push_back(c); });
  std::string request =
      "{\"type\":\"repo/connection_count\",\"recordName\":null,\"inst\":null,"
      "\"branch\":null}";
  EXPECT_THAT(h.conn.SentJson(), ElementsAre(request));
  inst::ConnectionCountMessage reply;
  reply.count = 3;
  h.conn.Deliver(reply);
  h.conn.Deliver(reply);  // only the first reply after a send counts
  EXPECT_THAT(counts, ElementsAre(3));
  h.conn.Disconnect();
  h.conn.Connect();
  EXPECT_THAT(h.conn.SentJson(), ElementsAre(request, request));
  reply.count = 4;
  h.conn.Deliver(reply);
  EXPECT_THAT(counts, ElementsAre(3, 4));
}

TEST(InstRecordsClient, G16_ConnectionCountMatchesItsNamespace) {
  Harness h;
  std::vector<double> counts;
  rx::Subscription count = h.client.ConnectionCount(
      "testRecord", "inst", "myBranch", [&](double c) { counts.push_back(c); });
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/connection_count\",\"recordName\":"
                          "\"testRecord\",\"inst\":\"inst\",\"branch\":"
                          "\"myBranch\"}"));
  inst::ConnectionCountMessage other{.record_name = "testRecord",
                                     .inst = "inst",
                                     .branch = "otherBranch",
                                     .count = 1};
  h.conn.Deliver(other);
  inst::ConnectionCountMessage reply{.record_name = "testRecord",
                                     .inst = "inst",
                                     .branch = "myBranch",
                                     .count = 20};
  h.conn.Deliver(reply);
  EXPECT_THAT(counts, ElementsAre(20));
}

TEST(InstRecordsClient, G17_GetUpdatesIsOneShot) {
  Harness h({}, /*connected=*/false);
  BranchNamespace ns = Ns("testRecord");
  std::vector<inst::AddUpdatesMessage> replies;
  rx::Subscription get = h.client.GetUpdates(
      ns, [&](const inst::AddUpdatesMessage& m) { replies.push_back(m); });
  EXPECT_THAT(h.conn.sent(), IsEmpty());
  h.conn.Connect();
  EXPECT_THAT(h.conn.SentJson(), ElementsAre("{\"type\":\"repo/get_updates\"," +
                                             NsJson(ns) + "}"));
  inst::AddUpdatesMessage reply = ServerUpdates(ns, {"abc", "def"});
  reply.timestamps = std::vector<double>{1, 2};
  h.conn.Deliver(ServerUpdates(Ns("testRecord", "other"), {"x"}));
  h.conn.Deliver(reply);
  h.conn.Deliver(reply);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0].updates, ElementsAre("abc", "def"));
  EXPECT_THAT(*replies[0].timestamps, ElementsAre(1, 2));
  // Not re-sent after a reconnect.
  h.conn.Disconnect();
  h.conn.Connect();
  EXPECT_EQ(h.conn.sent().size(), 1u);
}

TEST(InstRecordsClient, RateLimitExceededIsReportedOnceConnected) {
  Harness h({}, /*connected=*/false);
  std::vector<double> retry;
  rx::Subscription sub = h.client.OnRateLimitExceeded(
      [&](const inst::RateLimitExceededMessage& m) {
        retry.push_back(m.retry_after);
      });
  h.conn.Deliver(
      inst::RateLimitExceededMessage{.retry_after = 1, .total_hits = 2});
  h.conn.Connect();
  h.conn.Deliver(
      inst::RateLimitExceededMessage{.retry_after = 123, .total_hits = 999});
  EXPECT_THAT(retry, ElementsAre(123));
}

TEST(InstRecordsClient, SampleServerTime) {
  Harness h;
  h.now = 1000;
  std::vector<ServerTimeSample> samples;
  rx::Subscription sub = h.client.SampleServerTime(
      [&](const ServerTimeSample& s) { samples.push_back(s); });
  EXPECT_THAT(h.conn.SentJson(), ElementsAre("{\"type\":\"sync/time\",\"id\":1,"
                                             "\"clientRequestTime\":1000}"));
  h.now = 1100;
  h.conn.Deliver(inst::SyncTimeResponseMessage{.id = 2,
                                               .client_request_time = 0,
                                               .server_receive_time = 0,
                                               .server_transmit_time = 0});
  h.conn.Deliver(inst::SyncTimeResponseMessage{.id = 1,
                                               .client_request_time = 1000,
                                               .server_receive_time = 1040,
                                               .server_transmit_time = 1050});
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].client_request_time, 1000);
  EXPECT_EQ(samples[0].current_time, 1100);
  EXPECT_EQ(samples[0].server_receive_time, 1040);
  EXPECT_EQ(samples[0].server_transmit_time, 1050);
}

TEST(InstRecordsClient, ForcedOfflinePassesThrough) {
  Harness h;
  EXPECT_FALSE(h.client.forced_offline());
  h.client.set_forced_offline(true);
  EXPECT_TRUE(h.conn.forced_offline());
  EXPECT_FALSE(h.conn.is_connected());
  h.client.set_forced_offline(false);
  EXPECT_TRUE(h.conn.is_connected());
}

// --- Devices
// --------------------------------------------------------------------

struct DeviceLog {
  std::vector<std::string> events;  // "+id", "-id", "~id" (synthesised)
  std::function<void(const DeviceEvent&)> Callback() {
    return [this](const DeviceEvent& e) {
      events.push_back((e.synthesized ? "~"
                        : e.connected ? "+"
                                      : "-") +
                       e.connection.connection_id);
    };
  }
};

TEST(InstRecordsClient, DeviceEventsAreDeduplicatedByConnectionId) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  DeviceLog log;
  rx::Subscription devices = h.client.WatchBranchDevices(ns, log.Callback());
  h.conn.Deliver(DeviceDisconnected(ns, Info("d1", "s", "u")));  // unknown
  h.conn.Deliver(DeviceConnected(ns, Info("d1", "s", "u")));
  h.conn.Deliver(DeviceConnected(ns, Info("d1", "s", "u")));        // known
  h.conn.Deliver(DeviceConnected(ns, Info("d2", "s", "u"), true));  // bcast
  h.conn.Deliver(
      DeviceConnected(Ns(std::nullopt, "other"), Info("d3", "s", "u")));
  h.conn.Deliver(DeviceDisconnected(ns, Info("d1", "s", "u")));
  h.conn.Deliver(DeviceDisconnected(ns, Info("d1", "s", "u")));
  EXPECT_THAT(log.events, ElementsAre("+d1", "-d1"));
}

TEST(InstRecordsClient, N48_KnownDevicesSurviveAnOutage) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  DeviceLog log;
  rx::Subscription devices = h.client.WatchBranchDevices(ns, log.Callback());
  h.conn.Deliver(DeviceConnected(ns, Info("d1", "s1", "u")));
  h.conn.Deliver(DeviceConnected(ns, Info("d2", "s2", "u")));
  h.conn.Disconnect();
  EXPECT_THAT(log.events, ElementsAre("+d1", "+d2", "~d1", "~d2"));
  h.conn.ClearSent();
  h.conn.Connect();
  // After a reconnect only the watch is sent (the previous watch ended with
  // the socket).
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/watch_branch_devices\"," +
                          NsJson(ns) + "}"));
  // The server's listing of d1 is dropped as already known.
  h.conn.Deliver(DeviceConnected(ns, Info("d1", "s1", "u")));
  EXPECT_EQ(log.events.size(), 4u);
  // A second outage synthesises another disconnect for both.
  h.conn.Disconnect();
  EXPECT_THAT(log.events,
              ElementsAre("+d1", "+d2", "~d1", "~d2", "~d1", "~d2"));
}

TEST(InstRecordsClient, ClearKnownDevicesOnDisconnectReportsThemAgain) {
  InstRecordsClientOptions options;
  options.clear_known_devices_on_disconnect = true;
  Harness h(options);
  BranchNamespace ns = Ns(std::nullopt);
  DeviceLog log;
  rx::Subscription devices = h.client.WatchBranchDevices(ns, log.Callback());
  h.conn.Deliver(DeviceConnected(ns, Info("d1", "s1", "u")));
  h.conn.Disconnect();
  h.conn.Connect();
  h.conn.Deliver(DeviceConnected(ns, Info("d1", "s1", "u")));
  h.conn.Disconnect();
  EXPECT_THAT(log.events, ElementsAre("+d1", "~d1", "+d1", "~d1"));
}

TEST(InstRecordsClient, DeviceEventsWhileDisconnectedAreIgnored) {
  Harness h;
  BranchNamespace ns = Ns(std::nullopt);
  DeviceLog log;
  rx::Subscription devices = h.client.WatchBranchDevices(ns, log.Callback());
  h.conn.Disconnect();
  h.conn.Deliver(DeviceConnected(ns, Info("d1", "s1", "u")));
  EXPECT_THAT(log.events, IsEmpty());
}

TEST(InstRecordsClient, RepeatedLoginRewatchesDevices) {
  Harness h;
  BranchNamespace ns = Ns("rec");
  rx::Subscription devices =
      h.client.WatchBranchDevices(ns, [](const DeviceEvent&) {});
  h.conn.ClearSent();
  h.conn.Connect();
  EXPECT_THAT(
      h.conn.SentJson(),
      ElementsAre(
          "{\"type\":\"repo/unwatch_branch_devices\"," + NsJson(ns) + "}",
          "{\"type\":\"repo/watch_branch_devices\"," + NsJson(ns) + "}"));
  h.conn.ClearSent();
  devices.Unsubscribe();
  EXPECT_THAT(h.conn.SentJson(),
              ElementsAre("{\"type\":\"repo/unwatch_branch_devices\"," +
                          NsJson(ns) + "}"));
}

TEST(InstRecordsClient, DroppingADeviceWatchWhileOfflineSendsNothing) {
  Harness h;
  rx::Subscription devices =
      h.client.WatchBranchDevices(Ns("rec"), [](const DeviceEvent&) {});
  h.conn.Disconnect();
  h.conn.ClearSent();
  devices.Unsubscribe();
  EXPECT_THAT(h.conn.sent(), IsEmpty());
}

// --- MemoryConnectionClient
// ---------------------------------------------------

TEST(MemoryConnectionClient, ReplaysStateAndDropsRepeatedDisconnects) {
  MemoryConnectionClient conn(Info("c", "s", "u"));
  std::vector<ClientConnectionState> states;
  rx::Subscription sub = conn.OnConnectionState(
      [&](const ClientConnectionState& s) { states.push_back(s); });
  conn.Disconnect();
  conn.Connect();
  conn.Connect();
  conn.Disconnect();
  conn.Disconnect();
  // The replay, then connected twice (a repeated login is reported), then
  // one disconnected state.
  ASSERT_EQ(states.size(), 4u);
  EXPECT_FALSE(states[0].connected);
  EXPECT_TRUE(states[1].connected);
  EXPECT_EQ(states[1].info->connection_id, "c");
  EXPECT_TRUE(states[2].connected);
  EXPECT_FALSE(states[3].connected);
  EXPECT_FALSE(states[3].info.has_value());
}

TEST(MemoryConnectionClient, SendRecordsEvenWhenFailing) {
  MemoryConnectionClient conn;
  conn.set_send_status(absl::FailedPreconditionError("connecting"));
  EXPECT_FALSE(conn.Send(inst::UnwatchBranchMessage{Ns(std::nullopt)}).ok());
  EXPECT_EQ(conn.sent().size(), 1u);
  EXPECT_EQ(conn.origin(), "http://localhost");
  EXPECT_TRUE(conn.indicator().is_undefined());
}

// --- Differential sessions against the real aux-common client -------------
//
// internal/inst_client_cases_for_test.h holds seeded sessions run through
// aux-common 3.10.5's InstRecordsClient on its MemoryConnectionClient, with
// the exact log of what it sent and reported
// (interop/tools/gen_inst_client_cases.mjs documents the format).
// ExpectSession replays each one through this client and compares the logs.

// A memory connection whose sends go into the session log as they happen,
// so their order relative to the reported events is compared too.
class LoggingConnection : public MemoryConnectionClient {
 public:
  LoggingConnection(std::vector<std::string>* log, inst::ConnectionInfo info)
      : MemoryConnectionClient(std::move(info)), log_(log) {}
  absl::Status Send(const inst::Message& message) override {
    log_->push_back("sent " + inst::EncodeMessage(message));
    return MemoryConnectionClient::Send(message);
  }

 private:
  std::vector<std::string>* log_;
};

std::optional<std::string> NullableString(const bots::Value& v) {
  if (v.is_string()) return v.as_string();
  return std::nullopt;
}

const bots::Value& At(const bots::Value& array, size_t i) {
  return array.as_array().items.at(i);
}

BranchNamespace NsOf(const bots::Value& ns) {
  return BranchNamespace{.record_name = NullableString(At(ns, 0)),
                         .inst = At(ns, 1).as_string(),
                         .branch = At(ns, 2).as_string()};
}

std::string JsonOfStrings(const std::vector<std::string>& strings) {
  bots::Value list = bots::Value::NewArray();
  for (const std::string& s : strings) {
    list.as_array().items.push_back(bots::Value(s));
  }
  return bots::ToJson(list);
}

std::string Number(double n) { return bots::ToJson(bots::Value(n)); }

void ExpectSession(std::string_view steps_json, std::string_view log_json) {
  absl::StatusOr<bots::Value> steps = bots::ParseJson(steps_json);
  absl::StatusOr<bots::Value> expected_log = bots::ParseJson(log_json);
  ASSERT_TRUE(steps.ok() && expected_log.ok());
  std::vector<std::string> expected;
  for (const bots::Value& line : expected_log->as_array().items) {
    expected.push_back(line.as_string());
  }

  std::vector<std::string> log;
  double now = 1000;
  LoggingConnection conn(&log, inst::ConnectionInfo{.connection_id = "me",
                                                    .session_id = "s-me",
                                                    .user_id = "u-me"});
  InstRecordsClientOptions options;
  options.now = [&now] { return now; };
  InstRecordsClient client(conn, options);
  rx::Subscription sync = client.OnSyncUpdates([&](const SyncUpdatesEvent& e) {
    log.push_back("sync " + SyncName(e) + " " + NamespaceToString(e.ns));
  });
  std::map<int, rx::Subscription> handles;
  for (const bots::Value& step : steps->as_array().items) {
    const std::string& op = step["op"].as_string();
    int k =
        step["id"].is_number() ? static_cast<int>(step["id"].as_number()) : 0;
    std::string w = "w" + std::to_string(k);
    if (op == "connect") {
      conn.Connect();
    } else if (op == "disconnect") {
      conn.Disconnect();
    } else if (op == "watch") {
      BranchWatchCallbacks callbacks{
          .on_updates =
              [&log, w](const BranchUpdates& u) {
                log.push_back(w + " updates " + JsonOfStrings(u.updates));
              },
          .on_action =
              [&log, w](const inst::ReceiveActionMessage& m) {
                const auto* device = std::get_if<inst::DeviceAction>(&m.action);
                log.push_back(w + " action " +
                              (device ? bots::ToJson(device->payload) : "?"));
              },
          .on_max_size =
              [&log, w](const inst::UpdatesReceivedMessage& m) {
                log.push_back(w + " max_size " +
                              Number(*m.max_branch_size_in_bytes) + " " +
                              Number(*m.needed_branch_size_in_bytes));
              },
          .on_error =
              [&log, w](const inst::ErrorInfo& e) {
                log.push_back(w + " error " + std::string(e.error_code()));
              },
          .on_watch_result =
              [&log, w](const inst::WatchBranchResultMessage& m) {
                log.push_back(w + " result " + (m.success ? "true" : "false"));
              },
      };
      handles[k] = client.WatchBranch(
          NsOf(step["ns"]),
          step["temporary"].is_bool() && step["temporary"].as_bool(),
          std::nullopt, std::move(callbacks));
    } else if (op == "devices") {
      std::string d = "d" + std::to_string(k);
      handles[k] = client.WatchBranchDevices(
          NsOf(step["ns"]), [&log, d](const DeviceEvent& e) {
            log.push_back(d + (e.connected ? " + " : " - ") +
                          e.connection.connection_id);
          });
    } else if (op == "count") {
      const bots::Value& ns = step["ns"];
      std::string c = "c" + std::to_string(k);
      handles[k] = client.ConnectionCount(
          NullableString(At(ns, 0)), NullableString(At(ns, 1)),
          NullableString(At(ns, 2)),
          [&log, c](double count) { log.push_back(c + " " + Number(count)); });
    } else if (op == "rate") {
      std::string r = "r" + std::to_string(k);
      handles[k] = client.OnRateLimitExceeded(
          [&log, r](const inst::RateLimitExceededMessage& m) {
            log.push_back(r + " " + Number(m.retry_after));
          });
    } else if (op == "get") {
      std::string g = "g" + std::to_string(k);
      handles[k] = client.GetUpdates(
          NsOf(step["ns"]), [&log, g](const inst::AddUpdatesMessage& m) {
            log.push_back(g + " " + JsonOfStrings(m.updates));
          });
    } else if (op == "unwatch" || op == "undevices" || op == "uncount") {
      handles.erase(k);
    } else if (op == "add") {
      std::vector<std::string> updates;
      for (const bots::Value& u : step["updates"].as_array().items) {
        updates.push_back(u.as_string());
      }
      client.AddUpdates(NsOf(step["ns"]), std::move(updates));
    } else if (op == "deliver") {
      absl::StatusOr<inst::Message> message = inst::DecodeMessage(
          step["message"], inst::Direction::kServerToClient);
      ASSERT_TRUE(message.ok()) << message.status();
      conn.Deliver(*message);
    } else if (op == "error") {
      conn.DeliverError(inst::ErrorInfo{step["error"]});
    } else if (op == "time") {
      now = step["now"].as_number();
    } else if (op == "resend") {
      client.CheckResends();
    } else {
      FAIL() << "unknown op " << op;
    }
  }
  // (The handles are still open: dropping them would add unwatches the
  // JavaScript session never sent.)
  for (size_t i = 0; i < std::max(log.size(), expected.size()); ++i) {
    ASSERT_LT(i, log.size())
        << "missing from line " << i << ": " << expected[i];
    ASSERT_LT(i, expected.size()) << "extra line " << i << ": " << log[i];
    ASSERT_EQ(log[i], expected[i]) << "line " << i;
  }
}

#include "auxsync/client/internal/inst_client_cases_for_test.h"

}  // namespace
}  // namespace auxsync::client
