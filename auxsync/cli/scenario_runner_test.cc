#include "auxsync/cli/scenario_runner.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auxsync/server/inst_server.h"
#include "auxsync/server/memory_store.h"
#include "auxsync/server/websocket_server.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<std::string> RunText(std::string_view text,
                                    bool tagged = false) {
  ScenarioOptions options;
  options.tagged = tagged;
  return RunScenarioText(text, options);
}

const std::string kMemory =
    R"("partition":{"type":"memory","initialState":{},"localSiteId":"L","remoteSiteId":"R"})";

TEST(ScenarioRunner, RecordsInitialEmissionsStepsAndFinalState) {
  std::string text = absl::StrCat("{", kMemory, R"(,"space":"shared","steps":[
        {"applyEvents":[{"type":"add_bot","id":"b","bot":{"id":"b","tags":{"a":1}}}]}]})");
  absl::StatusOr<std::string> out = RunText(text);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(
      *out,
      R"({"initial":[{"type":"onBotsAdded","value":[]},)"
      R"({"type":"onStateUpdated","value":{"addedBots":[],"removedBots":[],"updatedBots":[],"state":{},"version":{"currentSite":"L","remoteSite":"R","vector":{}}}},)"
      R"({"type":"onVersionUpdated","value":{"currentSite":"L","remoteSite":"R","vector":{}}},)"
      R"({"type":"onStatusUpdated","value":{"type":"connection","connected":true}},)"
      R"({"type":"onStatusUpdated","value":{"type":"authentication","authenticated":true}},)"
      R"({"type":"onStatusUpdated","value":{"type":"authorization","authorized":true}},)"
      R"({"type":"onStatusUpdated","value":{"type":"sync","synced":true}}],)"
      R"("steps":[{"kind":"applyEvents","returned":[],"emissions":[)"
      R"({"type":"onBotsAdded","value":[{"id":"b","tags":{"a":1},"space":"shared"}]},)"
      R"({"type":"onStateUpdated","value":{"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":1},"space":"shared"}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}}}],)"
      R"("state":{"b":{"id":"b","tags":{"a":1},"space":"shared"}}}],)"
      R"("final":{"state":{"b":{"id":"b","tags":{"a":1},"space":"shared"}}}})");
}

TEST(ScenarioRunner, TaggedOutputKeepsNonJsonNumbersAndUndefined) {
  std::string text = absl::StrCat("{", kMemory, R"(,"steps":[
        {"applyEvents":[{"type":"add_bot","id":"b","bot":{"id":"b","tags":{
          "n":{"$type":"number","value":"NaN"},"z":{"$type":"number","value":"-0"}}}}]}]})");
  absl::StatusOr<std::string> plain = RunText(text);
  ASSERT_TRUE(plain.ok()) << plain.status();
  // JSON.stringify: NaN -> null, -0 -> 0, the undefined space is dropped.
  EXPECT_THAT(
      *plain,
      HasSubstr(
          R"("final":{"state":{"b":{"id":"b","tags":{"n":null,"z":0}}}})"));
  absl::StatusOr<std::string> tagged = RunText(text, true);
  ASSERT_TRUE(tagged.ok()) << tagged.status();
  EXPECT_THAT(
      *tagged,
      HasSubstr(
          R"("final":{"state":{"b":{"id":"b","tags":{"n":{"$type":"number","value":"NaN"},"z":{"$type":"number","value":"-0"}},"space":{"$type":"undefined"}}}})"));
}

TEST(ScenarioRunner, RejectsInvalidJsonWithByteOffset) {
  absl::StatusOr<std::string> out = RunText(R"({"partition": )");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("byte"));
}

TEST(ScenarioRunner, RejectsUnknownStepNamingIt) {
  std::string text = absl::StrCat(
      "{", kMemory, R"(,"steps":[{"applyEvents":[]},{"explode":1}]})");
  absl::StatusOr<std::string> out = RunText(text);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("steps[1]"));
  EXPECT_THAT(out.status().message(), HasSubstr("explode"));
}

TEST(ScenarioRunner, RejectsBadActionNamingStepAndField) {
  std::string text = absl::StrCat(
      "{", kMemory,
      R"(,"steps":[{"applyEvents":[{"type":"add_bot","bot":{"id":5,"tags":{}}}]}]})");
  absl::StatusOr<std::string> out = RunText(text);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("steps[0].applyEvents[0]"));
  EXPECT_THAT(out.status().message(), HasSubstr("id"));
}

TEST(ScenarioRunner, RejectsWrongTypes) {
  for (
      std::string_view bad : {
          R"({"partition":{"type":"memory","initialState":{}},"steps":{}})",
          R"({"partition":"memory","steps":[]})",
          R"({"partition":{"type":"memory","initialState":{}},"space":3,"steps":[]})",
          R"({"partition":{"type":"memory","initialState":{}},"clientId":-1,"steps":[]})",
          R"({"partition":{"type":"memory","initialState":{}},"steps":[{"wait":{"ms":"x"}}]})",
          R"({"partition":{"type":"memory","initialState":[]},"steps":[]})",
          R"({"partition":{"type":"nonsense"},"steps":[]})",
      }) {
    EXPECT_FALSE(RunText(bad).ok()) << bad;
  }
}

TEST(ScenarioRunner, RejectsDeepNestingWithoutCrashing) {
  std::string deep(100000, '[');
  absl::StatusOr<std::string> out = RunText(deep);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("deep"));
}

// The output of the real aux-common YjsPartition for the same scenario
// (interop/yjs_partition_runner.mjs).
TEST(ScenarioRunner, RunsYjsPartitionWithPinnedClientIds) {
  std::string text =
      R"({"partition":{"type":"yjs","remoteEvents":true},"clientId":1000,)"
      R"("remoteClientId":2000,"steps":[{"applyEvents":[{"type":"add_bot",)"
      R"("id":"b","bot":{"id":"b","tags":{"a":"x"}}}]},)"
      R"({"sendRemoteEvents":[{"type":"remote","event":)"
      R"({"type":"get_remote_count"},"taskId":1}]},)"
      R"({"applyUpdates":["AQLNrtWDBQAnAQRib3RzBGJvdDEBKADNrtWDBQAEdGFnMQF3A2FiYwA="]}]})";
  absl::StatusOr<std::string> out = RunText(text);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(
      *out, HasSubstr(R"("kind":"sendRemoteEvents","returned":null,)"
                      R"("emissions":[{"type":"onEvents","value":)"
                      R"([{"type":"async_result","taskId":1,"result":1}]}])"));
  EXPECT_THAT(
      *out,
      HasSubstr(
          R"("final":{"state":{"b":{"id":"b","tags":{"a":"x"}},)"
          R"("bot1":{"id":"bot1","tags":{"tag1":"abc"}}},)"
          R"("update":"AgLNrtWDBQAnAQRib3RzBGJvdDEBKADNrtWDBQAEdGFnMQF3A2FiYwPoBwAnAQRib3RzAWIBJwDoBwABYQIEAOgHAQF4AA=="}})"));
}

// A fresh, empty directory path under the test's temp dir (not created:
// the runner creates it).
std::string FreshDir(std::string_view name) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/auxsync_scen_",
                                 getpid(), "_", std::string(name));
  std::filesystem::remove_all(dir);
  return dir;
}

std::string PersistedScenario(const std::string& key, const std::string& bot) {
  return absl::StrCat(
      R"({"partition":{"type":"yjs","branch":"main","localPersistence":)",
      R"({"saveToIndexedDb":true)",
      key.empty() ? "" : absl::StrCat(R"(,"encryptionKey":")", key, R"(")"),
      R"(}},"steps":[{"applyEvents":[{"type":"add_bot","id":")", bot,
      R"(","bot":{"id":")", bot, R"(","tags":{"n":")", bot, R"("}}}]}]})");
}

// With a persistence directory, a second run of a scenario on the same
// branch starts from the bots of the first: they are loaded on connect
// (onBotsAdded in "initial", before sync) and end up in the final state.
TEST(ScenarioRunner, PersistenceDirKeepsBotsAcrossRuns) {
  ScenarioOptions options;
  options.persistence_dir = FreshDir("runs");
  std::vector<std::string> errors;
  options.on_partition_error = [&](const std::string& e) {
    errors.push_back(e);
  };
  absl::StatusOr<std::string> first =
      RunScenarioText(PersistedScenario("", "one"), options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(*first,
              HasSubstr(R"("initial":[{"type":"onBotsAdded","value":[]})"));
  absl::StatusOr<std::string> second =
      RunScenarioText(PersistedScenario("", "two"), options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(*second, HasSubstr(R"({"type":"onBotsAdded","value":)"
                                 R"([{"id":"one","tags":{"n":"one"}}]})"));
  EXPECT_THAT(*second, HasSubstr(R"("final":{"state":{"one":{"id":"one",)"
                                 R"("tags":{"n":"one"}},"two":{"id":"two",)"
                                 R"("tags":{"n":"two"}}})"));
  // Without the directory the same scenario starts empty.
  absl::StatusOr<std::string> without = RunText(PersistedScenario("", "three"));
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_THAT(*without, HasSubstr(R"("final":{"state":{"three":)"));
  EXPECT_THAT(*without, Not(HasSubstr(R"("one")")));
  EXPECT_TRUE(errors.empty());
  std::filesystem::remove_all(options.persistence_dir);
}

// An encrypted branch opened with the wrong encryptionKey: an onError
// emission during connect (an Error, written {} as JSON.stringify does)
// whose message the caller gets, and none of the stored bots.
TEST(ScenarioRunner, WrongEncryptionKeyIsAnOnErrorEmission) {
  ScenarioOptions options;
  options.persistence_dir = FreshDir("key");
  std::vector<std::string> errors;
  options.on_partition_error = [&](const std::string& e) {
    errors.push_back(e);
  };
  ASSERT_TRUE(RunScenarioText(PersistedScenario("right", "s"), options).ok());
  ASSERT_TRUE(errors.empty()) << errors[0];
  absl::StatusOr<std::string> wrong =
      RunScenarioText(PersistedScenario("wrong", "t"), options);
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_THAT(*wrong, HasSubstr(R"({"type":"onError","value":{}})"));
  EXPECT_THAT(errors,
              ::testing::ElementsAre(::testing::AllOf(
                  ::testing::StartsWith("Error: "),
                  ::testing::EndsWith("main.sqlite: wrong encryption key"))));
  EXPECT_THAT(*wrong, Not(HasSubstr(R"("s")")));
  absl::StatusOr<std::string> right =
      RunScenarioText(PersistedScenario("right", "u"), options);
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_THAT(*right, HasSubstr(R"("final":{"state":{"s":)"));
  EXPECT_EQ(errors.size(), 1u);
  std::filesystem::remove_all(options.persistence_dir);
}

TEST(ScenarioRunner, PersistenceDirThatIsAFileIsAnError) {
  const std::string file = FreshDir("file");
  { std::ofstream(file) << "x"; }
  ScenarioOptions options;
  options.persistence_dir = file;
  absl::StatusOr<std::string> out =
      RunScenarioText(PersistedScenario("", "a"), options);
  EXPECT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("persistence directory"));
  std::filesystem::remove(file);
}

// ---------------------------------------------------------------------------
// Remote configs against an in-process `auxsync serve` core (InstServer +
// WebsocketServer on an ephemeral port), run on a thread of its own.

class RemoteScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    inst_server_ = std::make_unique<server::InstServer>(store_);
    ws_server_ = std::make_unique<server::WebsocketServer>(io_, *inst_server_);
    absl::StatusOr<uint16_t> bound = ws_server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(bound.ok()) << bound.status();
    port_ = *bound;
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // A scenario of `partition` (its host is this server) with `extra`
  // top-level members and `steps`.
  std::string Scenario(const std::string& partition, const std::string& extra,
                       const std::string& steps) const {
    std::string host = absl::StrCat("http://127.0.0.1:", port_);
    return absl::StrCat(R"({"partition":{)", partition, R"(,"host":")", host,
                        R"("},"space":"shared")", extra, R"(,"steps":[)", steps,
                        "]}");
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work_ = boost::asio::make_work_guard(io_);
  server::MemoryStore store_;
  std::unique_ptr<server::InstServer> inst_server_;
  std::unique_ptr<server::WebsocketServer> ws_server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

const std::string kRemoteYjs =
    R"("type":"remote_yjs","recordName":null,"inst":"i1","branch":"main")";

TEST_F(RemoteScenarioTest, RemoteYjsSyncsEditsAndASecondClientLoadsThem) {
  absl::StatusOr<std::string> writer =
      RunText(Scenario(kRemoteYjs, R"(,"connectionId":"w")", R"(
        {"waitFor":"synced"},
        {"applyEvents":[{"type":"add_bot","id":"b","bot":{"id":"b","tags":{"a":1}}}]},
        {"wait":{"ms":200}})"));
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_THAT(
      *writer,
      HasSubstr(
          R"({"type":"onStatusUpdated","value":{"type":"sync","synced":true}})"));
  EXPECT_THAT(*writer, HasSubstr(R"({"kind":"waitFor","returned":null,)"));
  EXPECT_THAT(
      *writer,
      HasSubstr(
          R"("final":{"state":{"b":{"id":"b","tags":{"a":1},"space":"shared"}},"update":")"));

  absl::StatusOr<std::string> reader = RunText(Scenario(
      kRemoteYjs, R"(,"connectionId":"r")", R"({"waitFor":"synced"})"));
  ASSERT_TRUE(reader.ok()) << reader.status();
  // The server's snapshot arrives during the waitFor step, before sync.
  EXPECT_THAT(
      *reader,
      HasSubstr(
          R"({"type":"onStatusUpdated","value":{"type":"authentication","authenticated":true,"info":{"userId":null,"sessionId":null,"connectionId":"r"}}},{"type":"onStatusUpdated","value":{"type":"authorization","authorized":true}},{"type":"onBotsAdded","value":[{"id":"b","tags":{"a":1},"space":"shared"}]})"));
  EXPECT_THAT(
      *reader,
      HasSubstr(
          R"("steps":[{"kind":"waitFor","returned":null,"emissions":[{"type":"onStatusUpdated","value":{"type":"connection","connected":true}})"));
}

TEST_F(RemoteScenarioTest, WaitForTimesOutWithAnErrorWhenNoIndicatorIsGiven) {
  // connectionId null: no indicator, so the login asks for one and nothing
  // syncs; the step fails after its timeout instead of hanging.
  absl::StatusOr<std::string> out = RunText(
      Scenario(kRemoteYjs, R"(,"connectionId":null)",
               R"({"waitFor":"synced","timeoutMs":300},{"wait":{"ms":10}})"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(
      *out,
      HasSubstr(
          R"({"type":"authRequest","value":{"type":"request","origin":"ws://127.0.0.1:)"));
  EXPECT_THAT(
      *out,
      HasSubstr(
          R"({"kind":"waitFor","error":"Error: timed out after 300 ms waiting for synced")"));
  EXPECT_THAT(*out, HasSubstr(R"({"kind":"wait","returned":null)"));
}

TEST_F(RemoteScenarioTest, ForcedOfflineEditsReachTheServerWhenBackOnline) {
  absl::StatusOr<std::string> offline =
      RunText(Scenario(kRemoteYjs, R"(,"connectionId":"o")", R"(
        {"waitFor":"synced"},
        {"forcedOffline":true},
        {"waitFor":"disconnected"},
        {"applyEvents":[{"type":"add_bot","id":"off","bot":{"id":"off","tags":{"x":true}}}]},
        {"forcedOffline":false},
        {"waitFor":"synced"},
        {"wait":{"ms":200}})"));
  ASSERT_TRUE(offline.ok()) << offline.status();
  EXPECT_THAT(*offline, Not(HasSubstr(R"("error")")));
  absl::StatusOr<std::string> reader = RunText(Scenario(
      kRemoteYjs, R"(,"connectionId":"r2")", R"({"waitFor":"synced"})"));
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_THAT(
      *reader,
      HasSubstr(
          R"("final":{"state":{"off":{"id":"off","tags":{"x":true},"space":"shared"}})"));
}

TEST_F(RemoteScenarioTest, OtherPlayersSeesAnotherClientJoinAndLeave) {
  std::string player_text =
      Scenario(kRemoteYjs, R"(,"connectionId":"p2")",
               R"({"waitFor":"synced"},{"wait":{"ms":400}})");
  // The player joins while the players partition waits, and leaves (its
  // scenario ends) before the wait is over.
  std::thread other([&] { (void)RunText(player_text); });
  absl::StatusOr<std::string> seen = RunText(Scenario(
      R"("type":"other_players_repo","recordName":null,"inst":"i1","branch":"main")",
      R"(,"connectionId":"p1")",
      R"({"waitFor":"synced"},{"wait":{"ms":2000}})"));
  other.join();
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_THAT(*seen, HasSubstr(R"("eventName":"onRemoteJoined")"));
  EXPECT_THAT(*seen, HasSubstr(R"("eventName":"onRemoteLeave")"));
  EXPECT_THAT(*seen, HasSubstr(R"("remoteId":"p2")"));
}

TEST_F(RemoteScenarioTest,
       SendRemoteEventsResolvesUndefinedAndAShoutComesBack) {
  absl::StatusOr<std::string> out =
      RunText(Scenario(kRemoteYjs, R"(,"connectionId":"s")", R"(
        {"waitFor":"synced"},
        {"sendRemoteEvents":[{"type":"remote","broadcast":true,"event":{"type":"action","eventName":"hello","argument":{"n":1},"botIds":null,"userId":null}}]},
        {"wait":{"ms":300}})"));
  ASSERT_TRUE(out.ok()) << out.status();
  // RemoteYjsPartition.sendRemoteEvents is async and returns nothing.
  EXPECT_THAT(*out,
              HasSubstr(R"({"kind":"sendRemoteEvents","returned":null,)"));
  // A broadcast reaches its sender too, during the wait step.
  EXPECT_THAT(*out, HasSubstr(R"("eventName":"onRemoteData")"));
  EXPECT_THAT(*out, HasSubstr(R"("name":"hello")"));
}

TEST(ScenarioRunner, RemoteStepsNeedARemoteConfigAndAHost) {
  std::string local =
      absl::StrCat("{", kMemory, R"(,"steps":[{"waitFor":"synced"}]})");
  absl::StatusOr<std::string> out = RunText(local);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(
      out.status().message(),
      HasSubstr(
          "steps[0].waitFor: a memory partition has no server connection"));
  out = RunText(
      R"({"partition":{"type":"remote_yjs","inst":"i","branch":"b"},"steps":[]})");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(),
              HasSubstr("partition.host: must be a string"));
  out = RunText(
      R"({"partition":{"type":"remote_yjs","inst":"i","branch":"b","host":"ftp://x"},"steps":[]})");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("partition: host \"ftp://x\""));
  out = RunText(
      R"({"partition":{"type":"remote_yjs","inst":"i","branch":"b","host":"http://h"},"steps":[{"waitFor":"ready"}]})");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("steps[0].waitFor: must be"));
}

}  // namespace
}  // namespace auxsync::cli
