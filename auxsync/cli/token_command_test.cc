// `auxsync token create` against a MemoryStore: the printed token logs in
// to the InstServer and the grant opens another user's record.

#include "auxsync/cli/token_command.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "auxsync/inst/connection_token.h"
#include "auxsync/server/inst_server.h"
#include "auxsync/server/memory_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::cli {
namespace {

using testing::HasSubstr;

std::string Counter(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(i));
  return out;
}

class Recorder : public server::Connection {
 public:
  void Send(std::string frame) override { frames.push_back(std::move(frame)); }
  void Close() override {}
  std::vector<std::string> frames;
};

TEST(TokenCommand, PrintsAKeyAndATokenThatLogIn) {
  server::MemoryStore store;
  TokenCommand command;
  command.user = "bob";
  command.record = "alice";
  command.inst = "i1";
  command.connection_id = "connB";
  command.grants = {"read"};
  command.expires_in_seconds = 60;
  absl::StatusOr<std::string> json = CreateToken(command, store, 1000, Counter);
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<bots::Value> out = bots::ParseJson(*json);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)["userId"].as_string(), "bob");
  EXPECT_EQ((*out)["sessionId"].as_string(), "AAECAwQFBgcICQoLDA0ODw==");
  EXPECT_EQ((*out)["expireTimeMs"].as_number(), 61000);
  EXPECT_EQ((*out)["grant"].as_string(), "read");
  EXPECT_EQ((*out)["connectionKey"].as_string(),
            inst::FormatConnectionKey("bob", "AAECAwQFBgcICQoLDA0ODw==",
                                      "AAECAwQFBgcICQoLDA0ODw==", "61000"));
  EXPECT_EQ(store.GetGrant("alice", "bob").value(),
            (server::RecordGrant{"alice", "bob", true, false}));

  // The token logs in and reads alice's inst once alice created it.
  ASSERT_TRUE(store.CreateBranch({"alice", "i1", "default"}, false).ok());
  server::InstServer server(store, {}, [] { return int64_t{2000}; });
  Recorder r;
  auto id = server.Connect(&r);
  server.HandleFrame(
      id, absl::StrCat(R"([1,1,{"type":"login","connectionToken":")",
                       (*out)["connectionToken"].as_string(), R"("}])"));
  server.HandleFrame(
      id,
      R"([1,2,{"type":"repo/watch_branch","recordName":"alice","inst":"i1","branch":"default"}])");
  ASSERT_EQ(r.frames.size(), 3u);
  EXPECT_THAT(r.frames[0], HasSubstr(R"("connectionId":"connB")"));
  EXPECT_THAT(r.frames[2], HasSubstr(R"("success":true)"));
}

TEST(TokenCommand, WithoutInstOnlyTheKeyAndGrantNeedsRecord) {
  server::MemoryStore store;
  TokenCommand command;
  command.user = "u";
  absl::StatusOr<std::string> json = CreateToken(command, store, 0, Counter);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr(R"("connectionToken":null)"));
  EXPECT_THAT(*json, HasSubstr(R"("expireTimeMs":null)"));
  command.grants = {"write"};
  EXPECT_FALSE(CreateToken(command, store, 0, Counter).ok());
  command.record = "r";
  ASSERT_TRUE(CreateToken(command, store, 0, Counter).ok());
  EXPECT_EQ(store.GetGrant("r", "u").value(),
            (server::RecordGrant{"r", "u", true, true}));
}

}  // namespace
}  // namespace auxsync::cli
