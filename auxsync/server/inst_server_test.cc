// The protocol core fed decoded frames, without sockets. Expected frames are
// the bytes the real aux-records 3.10.5 WebsocketController sends (spec
// section 11 and interop/node_server), for public and token-scoped insts.

#include "auxsync/server/inst_server.h"

#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/types.h"
#include "auxsync/inst/connection_token.h"
#include "auxsync/server/memory_store.h"
#include "auxsync/server/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;

class FakeConnection : public Connection {
 public:
  void Send(std::string frame) override { frames.push_back(std::move(frame)); }
  void Close() override { closed = true; }
  // The frames sent since the last call.
  std::vector<std::string> Take() { return std::exchange(frames, {}); }
  std::vector<std::string> frames;
  bool closed = false;
};

class InstServerTest : public testing::Test {
 protected:
  InstServerTest() : server_(store_, Options(), [this] { return now_; }) {}
  static InstServerOptions Options() {
    InstServerOptions o;
    o.max_inst_bytes = 64;
    return o;
  }
  struct Client {
    InstServer::SocketId id;
    std::unique_ptr<FakeConnection> conn;
  };
  Client Open() {
    auto conn = std::make_unique<FakeConnection>();
    InstServer::SocketId id = server_.Connect(conn.get());
    return Client{id, std::move(conn)};
  }
  Client Login(const std::string& connection_id) {
    Client c = Open();
    server_.HandleFrame(c.id,
                        absl::StrCat(R"([1,1,{"type":"login","connectionId":")",
                                     connection_id, R"("}])"));
    c.conn->Take();
    return c;
  }
  void Frame(const Client& c, const std::string& text) {
    server_.HandleFrame(c.id, text);
  }
  MemoryStore store_;
  int64_t now_ = 1000;
  InstServer server_;
};

constexpr char kNs[] =
    R"("recordName":null,"inst":"myInst","branch":"default")";
std::string Msg(const std::string& body) {
  return absl::StrCat("[1,-1,{", body, "}]");
}
std::string Watch(const std::string& extra = "") {
  return absl::StrCat(R"([1,2,{"type":"repo/watch_branch",)", kNs, extra, "}]");
}
std::string Conn(const std::string& id) {
  return absl::StrCat(R"({"connectionId":")", id,
                      R"(","sessionId":null,"userId":null})");
}

TEST_F(InstServerTest, S2_BadFramesAnsweredLikeTheRealServer) {
  Client a = Open();
  Frame(a, "not json");
  Frame(a, "12");
  EXPECT_THAT(a.conn->Take(), IsEmpty());
  Frame(a, "null");
  Frame(a, R"([1,7,{"type":"nope"}])");
  std::vector<std::string> out = a.conn->Take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(
      out[0],
      HasSubstr(
          R"([5,null,{"success":false,"errorCode":"unacceptable_request")"));
  EXPECT_THAT(
      out[1],
      HasSubstr(R"([5,7,{"success":false,"errorCode":"unacceptable_request")"));
  Frame(a, "[2,9]");
  EXPECT_THAT(a.conn->Take(),
              ElementsAre(HasSubstr(
                  R"([5,9,{"success":false,"errorCode":"not_supported")")));
  EXPECT_FALSE(a.conn->closed);
}

TEST_F(InstServerTest, S5_LoginAnonymous) {
  Client a = Open();
  Frame(a, R"([1,1,{"type":"login"}])");
  EXPECT_THAT(
      a.conn->Take(),
      ElementsAre(Msg(
          R"("type":"login_result","success":false,"errorCode":"unacceptable_connection_id","errorMessage":"A connection ID must be specified when logging in without a connection token.")")));
  Frame(a, R"([1,2,{"type":"login","connectionId":"connA"}])");
  EXPECT_THAT(
      a.conn->Take(),
      ElementsAre(Msg(
          R"("type":"login_result","success":true,"info":{"userId":null,"sessionId":null,"connectionId":"connA"})")));
}

TEST_F(InstServerTest, S6_RequestBeforeLoginClosesTheSocket) {
  Client a = Open();
  Frame(a, R"([1,1,{"type":"repo/unwatch_branch",)" + std::string(kNs) + "}]");
  EXPECT_THAT(a.conn->Take(), IsEmpty());
  Frame(a, Watch());
  std::vector<std::string> out = a.conn->Take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(
      out[0],
      HasSubstr(
          R"([5,-1,{"success":false,"errorCode":"invalid_connection_state","errorMessage":"A server error occurred. (namespace: null/myInst/default, connectionId: )"));
  EXPECT_TRUE(a.conn->closed);
}

TEST_F(InstServerTest, S8_InitialSyncOrderWithDeviceWatch) {
  Client a = Login("connA");
  Frame(a, absl::StrCat(R"([1,3,{"type":"repo/add_updates",)", kNs,
                        R"(,"updates":["AQID"],"updateId":1}])"));
  EXPECT_THAT(a.conn->Take(),
              ElementsAre(Msg(absl::StrCat(R"("type":"repo/updates_received",)",
                                           kNs, R"(,"updateId":1)"))));
  Frame(a, absl::StrCat(R"([1,4,{"type":"repo/watch_branch_devices",)", kNs,
                        "}]"));
  EXPECT_THAT(a.conn->Take(), IsEmpty());
  Frame(a, Watch());
  EXPECT_THAT(
      a.conn->Take(),
      ElementsAre(
          Msg(absl::StrCat(
              R"("type":"repo/connected_to_branch","broadcast":false,"branch":{"type":"repo/watch_branch",)",
              kNs, R"(},"connection":)", Conn("connA"))),
          Msg(absl::StrCat(R"("type":"repo/add_updates",)", kNs,
                           R"(,"updates":["AQID"],"initial":true)")),
          Msg(absl::StrCat(R"("type":"repo/watch_branch_result",)", kNs,
                           R"(,"success":true)"))));
  // A second device watcher gets the listing (nested branch last).
  Client b = Login("connB");
  Frame(b, absl::StrCat(R"([1,4,{"type":"repo/watch_branch_devices",)", kNs,
                        "}]"));
  EXPECT_THAT(
      b.conn->Take(),
      ElementsAre(Msg(absl::StrCat(
          R"("type":"repo/connected_to_branch","broadcast":false,"connection":)",
          Conn("connA"), R"(,"branch":{"type":"repo/watch_branch",)", kNs,
          R"(,"temporary":false})"))));
  // A's departure is announced to both device watchers (not to A itself).
  server_.Disconnect(a.id);
  std::string gone = Msg(absl::StrCat(
      R"("type":"repo/disconnected_from_branch","broadcast":false,)", kNs,
      R"(,"connection":)", Conn("connA")));
  EXPECT_THAT(b.conn->Take(), ElementsAre(gone));
}

TEST_F(InstServerTest, S9_UpdatesBroadcastBeforeAckAndNotToSender) {
  Client a = Login("connA");
  Client b = Login("connB");
  Client c = Login("connC");
  Frame(a, Watch());
  Frame(b, Watch());
  Frame(c, absl::StrCat(R"([1,4,{"type":"repo/watch_branch_devices",)", kNs,
                        "}]"));
  a.conn->Take();
  b.conn->Take();
  c.conn->Take();
  Frame(a, absl::StrCat(R"([1,3,{"type":"repo/add_updates",)", kNs,
                        R"(,"updates":["AQID","BAUG"],"updateId":5}])"));
  EXPECT_THAT(a.conn->Take(),
              ElementsAre(Msg(absl::StrCat(R"("type":"repo/updates_received",)",
                                           kNs, R"(,"updateId":5)"))));
  EXPECT_THAT(b.conn->Take(),
              ElementsAre(Msg(absl::StrCat(R"("type":"repo/add_updates",)", kNs,
                                           R"(,"updates":["AQID","BAUG"])"))));
  EXPECT_THAT(c.conn->Take(), IsEmpty());  // device watchers get no updates
  // A late joiner gets everything; the history has the timestamps.
  now_ = 2000;
  Client d = Login("connD");
  Frame(d, absl::StrCat(R"([1,3,{"type":"repo/add_updates",)", kNs,
                        R"(,"updates":["BwgJ"]}])"));
  EXPECT_THAT(d.conn->Take(), IsEmpty());  // no updateId, no ack
  Frame(d, Watch());
  std::vector<std::string> out = d.conn->Take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(out[0],
              HasSubstr(R"("updates":["AQID","BAUG","BwgJ"],"initial":true)"));
  Frame(d, absl::StrCat(R"([1,9,{"type":"repo/get_updates",)", kNs, "}]"));
  EXPECT_THAT(
      d.conn->Take(),
      ElementsAre(Msg(absl::StrCat(
          R"("type":"repo/add_updates",)", kNs,
          R"(,"updates":["AQID","BAUG","BwgJ"],"timestamps":[1000,1000,2000])"))));
}

TEST_F(InstServerTest, S10_MaxInstSize) {
  Client a = Login("connA");
  std::string big(60, 'A');
  Frame(a, absl::StrCat(R"([1,3,{"type":"repo/add_updates",)", kNs,
                        R"(,"updates":[")", big, R"("],"updateId":1}])"));
  a.conn->Take();
  Frame(a, absl::StrCat(R"([1,4,{"type":"repo/add_updates",)", kNs,
                        R"(,"updates":["AAAAAAAA"],"updateId":2}])"));
  EXPECT_THAT(
      a.conn->Take(),
      ElementsAre(Msg(absl::StrCat(
          R"("type":"repo/updates_received",)", kNs,
          R"(,"updateId":2,"errorCode":"max_size_reached","maxBranchSizeInBytes":64,"neededBranchSizeInBytes":68)"))));
  EXPECT_EQ(store_.GetUpdates({std::nullopt, "myInst", "default"})->size(), 1u);
}

TEST_F(InstServerTest, S11_TemporaryBranchVanishesWithItsLastWatcher) {
  Client a = Login("connA");
  Client b = Login("connB");
  Frame(a, Watch(R"(,"temporary":true)"));
  Frame(b, Watch(R"(,"temporary":true)"));
  Frame(a, absl::StrCat(R"([1,3,{"type":"repo/add_updates",)", kNs,
                        R"(,"updates":["AQID"],"updateId":1}])"));
  Frame(a, absl::StrCat(R"([1,9,{"type":"repo/get_updates",)", kNs, "}]"));
  EXPECT_THAT(a.conn->Take().back(),
              HasSubstr(R"("updates":[],"timestamps":[])"));
  Frame(a, absl::StrCat(R"([1,4,{"type":"repo/unwatch_branch",)", kNs, "}]"));
  EXPECT_TRUE(
      store_.GetBranch({std::nullopt, "myInst", "default"})->has_value());
  server_.Disconnect(b.id);
  EXPECT_FALSE(
      store_.GetBranch({std::nullopt, "myInst", "default"})->has_value());
  Frame(a, Watch(R"(,"temporary":true)"));
  EXPECT_THAT(a.conn->Take(),
              ElementsAre(HasSubstr(R"("updates":[],"initial":true)"),
                          HasSubstr("watch_branch_result")));
}

TEST_F(InstServerTest, S15_SendActionTargeting) {
  Client a = Login("connA");
  Client b = Login("connB");
  Frame(a, Watch());
  Frame(b, Watch());
  a.conn->Take();
  b.conn->Take();
  Frame(
      a,
      absl::StrCat(
          R"([1,5,{"type":"repo/send_action",)", kNs,
          R"(,"action":{"type":"remote","event":{"type":"action","eventName":"ping"},"taskId":"t1","connectionId":"connB"}}])"));
  EXPECT_THAT(a.conn->Take(), IsEmpty());
  EXPECT_THAT(
      b.conn->Take(),
      ElementsAre(Msg(absl::StrCat(
          R"("type":"repo/receive_action",)", kNs,
          R"(,"action":{"type":"device","connection":)", Conn("connA"),
          R"(,"event":{"type":"action","eventName":"ping"},"taskId":"t1"})"))));
  // broadcast reaches the sender too; broadcast:false alone reaches nobody.
  Frame(a, absl::StrCat(
               R"([1,6,{"type":"repo/send_action",)", kNs,
               R"(,"action":{"type":"remote","event":1,"broadcast":true}}])"));
  EXPECT_EQ(a.conn->Take().size(), 1u);
  EXPECT_EQ(b.conn->Take().size(), 1u);
  Frame(a, absl::StrCat(
               R"([1,7,{"type":"repo/send_action",)", kNs,
               R"(,"action":{"type":"remote","event":1,"broadcast":false}}])"));
  EXPECT_THAT(a.conn->Take(), IsEmpty());
  EXPECT_THAT(b.conn->Take(), IsEmpty());
  // No selector: exactly one random watcher.
  Frame(a, absl::StrCat(R"([1,8,{"type":"repo/send_action",)", kNs,
                        R"(,"action":{"type":"remote_result","result":2}}])"));
  EXPECT_EQ(a.conn->Take().size() + b.conn->Take().size(), 1u);
}

TEST_F(InstServerTest, S17_S18_ConnectionCountAndTime) {
  Client a = Login("connA");
  Client anon = Open();
  Frame(a, Watch());
  a.conn->Take();
  Frame(anon,
        absl::StrCat(R"([1,1,{"type":"repo/connection_count",)", kNs, "}]"));
  EXPECT_THAT(anon.conn->Take(),
              ElementsAre(Msg(absl::StrCat(R"("type":"repo/connection_count",)",
                                           kNs, R"(,"count":1)"))));
  Frame(
      anon,
      R"([1,2,{"type":"repo/connection_count","recordName":null,"inst":null,"branch":null}])");
  EXPECT_THAT(
      anon.conn->Take(),
      ElementsAre(Msg(
          R"("type":"repo/connection_count","recordName":null,"inst":null,"branch":null,"count":1)")));
  Frame(anon, R"([1,3,{"type":"sync/time","id":4,"clientRequestTime":900}])");
  EXPECT_THAT(
      anon.conn->Take(),
      ElementsAre(Msg(
          R"("type":"sync/time/response","id":4,"clientRequestTime":900,"serverReceiveTime":1000,"serverTransmitTime":1000)")));
}

TEST_F(InstServerTest, S5_TokenLoginAndScope) {
  ASSERT_TRUE(
      store_.PutSession({"user1", "sess1", "c2VjcmV0c2VjcmV0", false, {}})
          .ok());
  ASSERT_TRUE(store_.PutGrant({"rec", "user1", false, true}).ok());
  auto token = inst::MakeConnectionToken("user1", "sess1", "c2VjcmV0c2VjcmV0",
                                         "connA", "rec", "myInst");
  ASSERT_TRUE(token.ok());
  Client a = Open();
  Frame(a, absl::StrCat(R"([1,1,{"type":"login","connectionToken":")",
                        inst::FormatConnectionToken(*token), R"("}])"));
  EXPECT_THAT(
      a.conn->Take(),
      ElementsAre(Msg(
          R"("type":"login_result","success":true,"info":{"userId":"user1","sessionId":"sess1","connectionId":"connA"})")));
  Frame(
      a,
      R"([1,2,{"type":"repo/watch_branch","recordName":"rec","inst":"myInst","branch":"b"}])");
  EXPECT_THAT(a.conn->Take().back(), HasSubstr(R"("success":true)"));
  Frame(
      a,
      R"([1,3,{"type":"repo/watch_branch","recordName":"rec","inst":"other","branch":"b"}])");
  EXPECT_THAT(
      a.conn->Take(),
      ElementsAre(Msg(
          R"("type":"repo/watch_branch_result","success":false,"errorCode":"not_authorized","errorMessage":"You are not authorized to access this inst.","recordName":"rec","inst":"other","branch":"b","reason":{"type":"invalid_token"})")));
  // A wrong HMAC and an unknown session are invalid_token.
  token->hash_hex[0] = token->hash_hex[0] == 'a' ? 'b' : 'a';
  Frame(a, absl::StrCat(R"([1,4,{"type":"login","connectionToken":")",
                        inst::FormatConnectionToken(*token), R"("}])"));
  EXPECT_THAT(a.conn->Take(), ElementsAre(HasSubstr("invalid_token")));
  Frame(a, R"([1,5,{"type":"login","connectionToken":"garbage"}])");
  EXPECT_THAT(a.conn->Take(),
              ElementsAre(HasSubstr("unacceptable_connection_token")));
  // An anonymous socket is refused a record inst, in the shapes the real
  // server sends (captured from the Node reference server).
  Client b = Login("connB");
  Frame(
      b,
      R"([1,2,{"type":"repo/watch_branch","recordName":"rec","inst":"myInst","branch":"b"}])");
  constexpr char kNotLoggedIn[] =
      R"("success":false,"errorCode":"not_logged_in","errorMessage":"The user must be logged in. Please provide a sessionKey or a recordKey.")";
  constexpr char kRecNs[] =
      R"("recordName":"rec","inst":"myInst","branch":"b")";
  EXPECT_THAT(b.conn->Take(),
              ElementsAre(absl::StrCat("[1,-1,{", kNotLoggedIn,
                                       R"(,"type":"repo/watch_branch_result",)",
                                       kRecNs, "}]")));
  Frame(
      b,
      R"([1,3,{"type":"repo/add_updates","recordName":"rec","inst":"myInst","branch":"b","updates":["AAAA"],"updateId":1}])");
  Frame(
      b,
      R"([1,4,{"type":"repo/get_updates","recordName":"rec","inst":"myInst","branch":"b"}])");
  Frame(
      b,
      R"([1,5,{"type":"repo/watch_branch_devices","recordName":"rec","inst":"myInst","branch":"b"}])");
  Frame(
      b,
      R"([1,6,{"type":"repo/connection_count","recordName":"rec","inst":"myInst","branch":"b"}])");
  std::string with_ns =
      absl::StrCat("[5,-1,{", kNotLoggedIn, ",", kRecNs, "}]");
  std::string without_ns = absl::StrCat("[5,-1,{", kNotLoggedIn, "}]");
  EXPECT_THAT(b.conn->Take(),
              ElementsAre(with_ns, with_ns, without_ns, without_ns));
}

// A logged-in user without a permission: the policy engine's refusals
// (captured from the Node reference server, interop/node_server, with the
// user and record ids replaced): missing read for an existing inst, create
// for a new one, updateData and sendAction once read is granted;
// inst_not_found for history and counts of a missing inst.
TEST_F(InstServerTest, S7_RecordGrantsAndMissingPermissionRefusals) {
  ASSERT_TRUE(
      store_.PutSession({"alice", "sA", "c2VjcmV0c2VjcmV0", false, {}}).ok());
  ASSERT_TRUE(
      store_.PutSession({"bob", "sB", "Ym9ic2VjcmV0Ym9i", false, {}}).ok());
  auto login = [&](const Client& c, const char* user, const char* session,
                   const char* secret, const char* conn, const char* inst) {
    auto token =
        inst::MakeConnectionToken(user, session, secret, conn, "alice", inst);
    ASSERT_TRUE(token.ok());
    Frame(c, absl::StrCat(R"([1,1,{"type":"login","connectionToken":")",
                          inst::FormatConnectionToken(*token), R"("}])"));
    EXPECT_THAT(c.conn->Take(), ElementsAre(HasSubstr(R"("success":true)")));
  };
  Client a = Open();
  login(a, "alice", "sA", "c2VjcmV0c2VjcmV0", "connA", "i1");
  Client b = Open();
  login(b, "bob", "sB", "Ym9ic2VjcmV0Ym9i", "connB", "i1");
  constexpr char kI1[] =
      R"("recordName":"alice","inst":"i1","branch":"default")";
  // The owner of the personal record creates the inst.
  Frame(a, absl::StrCat(R"([1,2,{"type":"repo/watch_branch",)", kI1, "}]"));
  EXPECT_THAT(a.conn->Take().back(), HasSubstr(R"("success":true)"));

  auto refusal = [](const char* inst, const char* action) {
    return absl::StrCat(
        R"("success":false,"errorCode":"not_authorized","errorMessage":"You are not authorized to perform this action.","reason":{"type":"missing_permission","recordName":"alice","subjectType":"user","subjectId":"bob","resourceKind":"inst","resourceId":")",
        inst, R"(","action":")", action, R"("})");
  };
  Frame(b, absl::StrCat(R"([1,2,{"type":"repo/watch_branch",)", kI1, "}]"));
  EXPECT_THAT(b.conn->Take(),
              ElementsAre(absl::StrCat("[1,-1,{", refusal("i1", "read"),
                                       R"(,"type":"repo/watch_branch_result",)",
                                       kI1, "}]")));
  for (const char* type : {"repo/get_updates", "repo/add_updates"}) {
    Frame(b, absl::StrCat(R"([1,3,{"type":")", type, R"(",)", kI1,
                          std::string_view(type) == "repo/add_updates"
                              ? R"(,"updates":["AAAA"],"updateId":1)"
                              : "",
                          "}]"));
    EXPECT_THAT(b.conn->Take(),
                ElementsAre(absl::StrCat("[5,-1,{", refusal("i1", "read"), ",",
                                         kI1, "}]")))
        << type;
  }
  for (const char* type : {"repo/watch_branch_devices", "repo/connection_count",
                           "repo/send_action"}) {
    Frame(b, absl::StrCat(
                 R"([1,4,{"type":")", type, R"(",)", kI1,
                 std::string_view(type) == "repo/send_action"
                     ? R"(,"action":{"type":"remote","event":{"type":"x"}})"
                     : "",
                 "}]"));
    EXPECT_THAT(b.conn->Take(), ElementsAre(absl::StrCat(
                                    "[5,-1,{", refusal("i1", "read"), "}]")))
        << type;
  }
  // A missing inst: creating it needs create; its history and count do
  // not exist.
  login(b, "bob", "sB", "Ym9ic2VjcmV0Ym9i", "connB", "i2");
  constexpr char kI2[] =
      R"("recordName":"alice","inst":"i2","branch":"default")";
  Frame(b, absl::StrCat(R"([1,5,{"type":"repo/watch_branch",)", kI2, "}]"));
  Frame(b, absl::StrCat(R"([1,6,{"type":"repo/add_updates",)", kI2,
                        R"(,"updates":["AAAA"],"updateId":1})", "]"));
  Frame(b, absl::StrCat(R"([1,7,{"type":"repo/get_updates",)", kI2, "}]"));
  Frame(b, absl::StrCat(R"([1,8,{"type":"repo/connection_count",)", kI2, "}]"));
  constexpr char kNotFound[] =
      R"("success":false,"errorCode":"inst_not_found","errorMessage":"The inst was not found.")";
  EXPECT_THAT(
      b.conn->Take(),
      ElementsAre(
          absl::StrCat("[1,-1,{", refusal("i2", "create"),
                       R"(,"type":"repo/watch_branch_result",)", kI2, "}]"),
          absl::StrCat("[5,-1,{", refusal("i2", "create"), ",", kI2, "}]"),
          absl::StrCat("[5,-1,{", kNotFound, ",", kI2, "}]"),
          absl::StrCat("[5,-1,{", kNotFound, "}]")));
  EXPECT_FALSE(store_.InstExists("alice", "i2").value());

  // read: watching works; writing and actions do not.
  ASSERT_TRUE(store_.PutGrant({"alice", "bob", true, false}).ok());
  Frame(b, absl::StrCat(R"([1,9,{"type":"repo/watch_branch",)", kI1, "}]"));
  EXPECT_THAT(b.conn->Take().back(), HasSubstr(R"("success":true)"));
  a.conn->Take();
  Frame(b, absl::StrCat(R"([1,10,{"type":"repo/add_updates",)", kI1,
                        R"(,"updates":["AAAA"],"updateId":2})", "]"));
  Frame(b, absl::StrCat(R"([1,11,{"type":"repo/send_action",)", kI1,
                        R"(,"action":{"type":"remote","event":{"type":"x"}}})",
                        "]"));
  Frame(b,
        absl::StrCat(R"([1,12,{"type":"repo/connection_count",)", kI1, "}]"));
  EXPECT_THAT(
      b.conn->Take(),
      ElementsAre(
          absl::StrCat("[5,-1,{", refusal("i1", "updateData"), ",", kI1, "}]"),
          absl::StrCat("[5,-1,{", refusal("i1", "sendAction"), "}]"),
          Msg(absl::StrCat(R"("type":"repo/connection_count",)", kI1,
                           R"(,"count":2)"))));
  // write: everything.
  ASSERT_TRUE(store_.PutGrant({"alice", "bob", false, true}).ok());
  Frame(b, absl::StrCat(R"([1,13,{"type":"repo/add_updates",)", kI1,
                        R"(,"updates":["AAAA"],"updateId":3})", "]"));
  EXPECT_THAT(b.conn->Take(),
              ElementsAre(Msg(absl::StrCat(R"("type":"repo/updates_received",)",
                                           kI1, R"(,"updateId":3)"))));
  EXPECT_THAT(a.conn->Take(),
              ElementsAre(Msg(absl::StrCat(R"("type":"repo/add_updates",)", kI1,
                                           R"(,"updates":["AAAA"])"))));
}

// 3.7: a request goes to the users of the inst's default branch, their
// response back to the requester (frames as the Node reference server
// sends them, the user info aside: this server knows no e-mail addresses).
TEST_F(InstServerTest, S19_MissingPermissionRequests) {
  ASSERT_TRUE(
      store_.PutSession({"alice", "sA", "c2VjcmV0c2VjcmV0", false, {}}).ok());
  ASSERT_TRUE(
      store_.PutSession({"bob", "sB", "Ym9ic2VjcmV0Ym9i", false, {}}).ok());
  auto login = [&](const Client& c, const char* user, const char* session,
                   const char* secret, const char* conn) {
    auto token =
        inst::MakeConnectionToken(user, session, secret, conn, "alice", "i1");
    ASSERT_TRUE(token.ok());
    Frame(c, absl::StrCat(R"([1,1,{"type":"login","connectionToken":")",
                          inst::FormatConnectionToken(*token), R"("}])"));
    c.conn->Take();
  };
  Client a = Open();
  login(a, "alice", "sA", "c2VjcmV0c2VjcmV0", "connA");
  Client b = Open();
  login(b, "bob", "sB", "Ym9ic2VjcmV0Ym9i", "connB");
  auto request = [](const char* kind, const char* subject) {
    return absl::StrCat(
        R"({"type":"missing_permission","recordName":"alice","resourceKind":")",
        kind,
        R"(","resourceId":"i1","action":"read","subjectType":"user","subjectId":")",
        subject, R"("})");
  };
  constexpr char kResponse[] =
      R"("success":true,"recordName":"alice","resourceKind":"inst","resourceId":"i1","subjectType":"user","subjectId":"bob")";
  // Nobody in the inst yet; not an inst; another user.
  Frame(b,
        absl::StrCat(R"([1,2,{"type":"permission/request/missing","reason":)",
                     request("inst", "bob"), "}]"));
  Frame(b,
        absl::StrCat(R"([1,3,{"type":"permission/request/missing","reason":)",
                     request("data", "bob"), "}]"));
  Frame(b,
        absl::StrCat(R"([1,4,{"type":"permission/request/missing","reason":)",
                     request("inst", "eve"), "}]"));
  std::vector<std::string> refused = b.conn->Take();
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_THAT(
      refused[0],
      HasSubstr(
          R"("errorMessage":"There are no currently no users available that can grant access to the inst.")"));
  EXPECT_THAT(
      refused[1],
      HasSubstr(
          R"("errorMessage":"Permissions can only be requested to access insts.")"));
  EXPECT_THAT(
      refused[2],
      HasSubstr(
          R"("errorMessage":"Permissions can only be requested for the current user.")"));

  Frame(
      a,
      R"([1,2,{"type":"repo/watch_branch","recordName":"alice","inst":"i1","branch":"default"}])");
  a.conn->Take();
  Frame(b,
        absl::StrCat(R"([1,5,{"type":"permission/request/missing","reason":)",
                     request("inst", "bob"), "}]"));
  EXPECT_THAT(b.conn->Take(), IsEmpty());
  EXPECT_THAT(
      a.conn->Take(),
      ElementsAre(Msg(absl::StrCat(
          R"("type":"permission/request/missing","reason":)",
          request("inst", "bob"),
          R"(,"connection":{"connectionId":"connB","sessionId":"sB","userId":"bob"},"user":{"userId":"bob","email":null,"displayName":null})"))));
  Frame(a,
        absl::StrCat(R"([1,3,{"type":"permission/request/missing/response",)",
                     kResponse, "}]"));
  EXPECT_THAT(a.conn->Take(), IsEmpty());
  EXPECT_THAT(
      b.conn->Take(),
      ElementsAre(Msg(absl::StrCat(
          R"("type":"permission/request/missing/response",)", kResponse,
          R"(,"connection":{"connectionId":"connA","sessionId":"sA","userId":"alice"})"))));
  // Answered once: a second response finds nobody waiting.
  Frame(a,
        absl::StrCat(R"([1,4,{"type":"permission/request/missing/response",)",
                     kResponse, "}]"));
  EXPECT_THAT(b.conn->Take(), IsEmpty());
  // A waiting requester that disconnects is forgotten.
  Frame(b,
        absl::StrCat(R"([1,6,{"type":"permission/request/missing","reason":)",
                     request("inst", "bob"), "}]"));
  server_.Disconnect(b.id);
  Frame(a,
        absl::StrCat(R"([1,5,{"type":"permission/request/missing/response",)",
                     kResponse, "}]"));
  EXPECT_EQ(server_.socket_count(), 1u);
}

TEST_F(InstServerTest, S19_HttpRequestNotSupported) {
  Client a = Open();
  Frame(
      a,
      R"([1,1,{"type":"http_request","id":3,"request":{"path":"/api","method":"GET","pathParams":{},"query":{},"headers":{},"body":null}}])");
  EXPECT_THAT(
      a.conn->Take(),
      ElementsAre(HasSubstr(
          R"({"type":"http_response","id":3,"response":{"statusCode":501)")));
}

}  // namespace
}  // namespace auxsync::server

namespace auxsync::server {
namespace {

// The updates of the section 11 transcript: bot0, bot1 (red), bot1 blue.
constexpr const char* kYjsUpdates[] = {
    "AQOtgsfkAQAnAQRib3RzBGJvdDABJwCtgsfkAQAFbGFiZWwCBACtgsfkAQEFaGVsbG8A",
    "AQP2u5vQCAAnAQRib3RzBGJvdDEBJwD2u5vQCAAFY29sb3ICBAD2u5vQCAEDcmVkAA==",
    "AQKo6cjPCgCn9rub0AgBAgQAqOnIzwoABGJsdWUB9rub0AgBAQQ=",
};

// A server over a memory store that compacts a branch at `after` stored
// updates, with one logged-in socket.
struct CompactingServer {
  explicit CompactingServer(int after, InstServer::Clock clock = nullptr)
      : server(store, Options(after), std::move(clock)),
        id(server.Connect(&conn)) {
    server.HandleFrame(id, R"([1,1,{"type":"login","connectionId":"a"}])");
  }
  static InstServerOptions Options(int after) {
    InstServerOptions options;
    options.compact_after_updates = after;
    return options;
  }
  // repo/add_updates of `updates` (a JSON array's items) to kNs, with the
  // message's other `fields` (JSON members, each after a comma).
  void Add(int request, absl::string_view updates,
           absl::string_view fields = "") {
    server.HandleFrame(
        id, absl::StrCat("[1,", request, R"(,{"type":"repo/add_updates",)", kNs,
                         R"(,"updates":[)", updates, "]", fields, "}]"));
  }

  MemoryStore store;
  FakeConnection conn;
  InstServer server;
  InstServer::SocketId id;
};

TEST(InstServerCompaction, MergesABranchPastTheThreshold) {
  CompactingServer s(3, [] { return int64_t{5}; });
  for (int i = 0; i < 3; ++i) {
    s.Add(2, absl::StrCat("\"", kYjsUpdates[i], "\""),
          absl::StrCat(R"(,"updateId":)", i));
  }
  inst::BranchNamespace ns{std::nullopt, "myInst", "default"};
  absl::StatusOr<std::vector<StoredUpdate>> stored = s.store.GetUpdates(ns);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(s.server.stats().compactions, 1u);
  // The snapshot is the state of a fresh document that applied the three,
  // as the CasualOS server makes it (checked with yjs 13.6.27: a Y.Doc
  // applying the decoded transcript updates, then encodeStateAsUpdate).
  EXPECT_EQ((*stored)[0].update,
            "AwKo6cjPCgCn9rub0AgBAgQAqOnIzwoABGJsdWUD9rub0AgAJwEEYm90cwRib3QxAS"
            "EA9rub0AgABWNvbG9yAQADA62Cx+QBACcBBGJvdHMEYm90MAEnAK2Cx+QBAAVsYWJl"
            "bAIEAK2Cx+QBAQVoZWxsbwH2u5vQCAEBBA==");
  EXPECT_EQ((*stored)[0].timestamp_ms, 5);
  EXPECT_EQ(*s.store.InstSize(std::nullopt, "myInst"),
            static_cast<int64_t>((*stored)[0].update.size()));
}

// A client stores client 2's clocks 0..10 (a GC, then "bcdefghij" in root
// "t"); another stores the same clocks again, as an item after the missing
// 5:0 and a GC. A watcher loading the two in order sees "bcdefghij" (the
// second waits for 5:0). yjs's mergeUpdates of the two, and yjs 13.6.27's
// encodeStateAsUpdate of a document that applied them, both load as ""
// (docs/compatibility.md); the snapshot must load as the updates do.
TEST(InstServerCompaction, ALaterCopyOfStoredIdsDoesNotReplaceThem) {
  CompactingServer s(2);
  s.Add(2, R"("AQICAAABBAEBdAliY2RlZmdoaWoA")");
  s.Add(3, R"("AQICAIQFAAF4AAIA")");
  EXPECT_EQ(s.server.stats().compactions, 1u);
  absl::StatusOr<std::vector<StoredUpdate>> stored =
      s.store.GetUpdates({std::nullopt, "myInst", "default"});
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  absl::StatusOr<std::string> bytes = inst::Base64Decode((*stored)[0].update);
  ASSERT_TRUE(bytes.ok());
  crdt::DocOptions doc_options;
  doc_options.client_id = 7;
  crdt::Doc doc(doc_options);
  ASSERT_TRUE(crdt::ApplyUpdate(doc, std::span(reinterpret_cast<const uint8_t*>(
                                                   bytes->data()),
                                               bytes->size()))
                  .ok());
  EXPECT_EQ(doc.GetText("t").ToString(), "bcdefghij");
}

TEST(InstServerCompaction, GarbageUpdatesAreKept) {
  CompactingServer s(2);
  const inst::BranchNamespace ns{std::nullopt, "myInst", "default"};
  s.Add(2, R"("AAAA","/////w==")");
  EXPECT_EQ(s.store.GetUpdates(ns)->size(), 2u);
  EXPECT_EQ(s.server.stats().compactions, 0u);
  EXPECT_EQ(s.server.stats().compaction_failures, 1u);
  // The next attempt waits for another compact_after_updates writes: one
  // more write does not re-read the branch, two more do.
  s.Add(3, R"("AAAA")");
  EXPECT_EQ(s.server.stats().compaction_failures, 1u);
  s.Add(4, R"("AAAA")");
  EXPECT_EQ(s.server.stats().compaction_failures, 2u);
  EXPECT_EQ(s.store.GetUpdates(ns)->size(), 4u);
}

}  // namespace
}  // namespace auxsync::server

namespace auxsync::server {
namespace {

// Group commit: the writes of a round are committed together by Flush, and
// nothing is sent before: not the acknowledgement, not the broadcast, not a
// later snapshot. Another connection to the database sees the writes only
// after the commit.
TEST(InstServerGroupCommit, S9_AcksAndBroadcastsFollowTheCommit) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "auxsync_group_commit_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = (dir / "db.sqlite").string();
  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok());
  std::vector<std::function<void()>> scheduled;
  InstServerOptions options;
  options.schedule_flush = [&](std::function<void()> f) {
    scheduled.push_back(std::move(f));
  };
  InstServer server(**store, options);
  FakeConnection a, b;
  InstServer::SocketId ia = server.Connect(&a), ib = server.Connect(&b);
  constexpr char kWatch[] =
      R"([1,1,{"type":"repo/watch_branch","recordName":null,"inst":"g","branch":"b"}])";
  server.HandleFrame(ia, R"([1,1,{"type":"login","connectionId":"a"}])");
  server.HandleFrame(ib, R"([1,1,{"type":"login","connectionId":"b"}])");
  server.HandleFrame(ia, kWatch);
  server.HandleFrame(ib, kWatch);
  a.Take();
  b.Take();
  EXPECT_TRUE(scheduled.empty());  // no write, no batch
  for (int i = 1; i <= 3; ++i) {
    server.HandleFrame(
        ia,
        absl::StrCat(
            R"([1,2,{"type":"repo/add_updates","recordName":null,"inst":"g","branch":"b","updates":["AAA)",
            i, R"("],"updateId":)", i, "}]"));
  }
  // A watcher joining in the same round waits for the commit too.
  FakeConnection c;
  InstServer::SocketId ic = server.Connect(&c);
  server.HandleFrame(ic, R"([1,1,{"type":"login","connectionId":"c"}])");
  server.HandleFrame(ic, kWatch);
  ASSERT_EQ(scheduled.size(), 1u);  // one batch for the round
  EXPECT_THAT(a.frames, IsEmpty());
  EXPECT_THAT(b.frames, IsEmpty());
  EXPECT_THAT(c.frames, IsEmpty());
  auto other = SqliteStore::Open(path);
  ASSERT_TRUE(other.ok());
  EXPECT_THAT((*other)->GetUpdates({std::nullopt, "g", "b"}).value(),
              IsEmpty());

  scheduled[0]();
  EXPECT_EQ((*other)->GetUpdates({std::nullopt, "g", "b"}).value().size(), 3u);
  EXPECT_THAT(a.Take(), ElementsAre(HasSubstr(R"("updateId":1)"),
                                    HasSubstr(R"("updateId":2)"),
                                    HasSubstr(R"("updateId":3)")));
  EXPECT_THAT(b.Take(), ElementsAre(HasSubstr("AAA1"), HasSubstr("AAA2"),
                                    HasSubstr("AAA3")));
  EXPECT_THAT(c.Take(),
              ElementsAre(HasSubstr("login_result"),
                          HasSubstr(R"("updates":["AAA1","AAA2","AAA3"])"),
                          HasSubstr("watch_branch_result")));
  EXPECT_EQ(server.stats().group_commits, 1u);
  // The next round opens a new batch.
  server.HandleFrame(
      ib,
      R"([1,3,{"type":"repo/add_updates","recordName":null,"inst":"g","branch":"b","updates":["AAA4"],"updateId":9}])");
  ASSERT_EQ(scheduled.size(), 2u);
  EXPECT_THAT(b.frames, IsEmpty());
  scheduled[1]();
  EXPECT_THAT(b.Take(), ElementsAre(HasSubstr(R"("updateId":9)")));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace auxsync::server

namespace auxsync::server {
namespace {

// A store whose batches fail to commit (a full disk).
class FailingCommitStore : public MemoryStore {
 public:
  absl::Status CommitBatch() override {
    return absl::InternalError("disk full");
  }
};

// When the commit fails nothing the batch's frames said is true: the
// sockets they were for are closed instead, and nothing is sent.
TEST(InstServerGroupCommit, S9_AFailedCommitClosesTheSocketsItConcerned) {
  FailingCommitStore store;
  std::function<void()> flush;
  InstServerOptions options;
  options.schedule_flush = [&](std::function<void()> f) { flush = f; };
  InstServer server(store, options);
  FakeConnection a, b, idle;
  InstServer::SocketId ia = server.Connect(&a), ib = server.Connect(&b);
  InstServer::SocketId iidle = server.Connect(&idle);
  constexpr char kWatch[] =
      R"([1,1,{"type":"repo/watch_branch","recordName":null,"inst":"g","branch":"b"}])";
  for (InstServer::SocketId id : {ia, ib, iidle}) {
    server.HandleFrame(id, R"([1,1,{"type":"login","connectionId":"x"}])");
  }
  server.HandleFrame(ia, kWatch);
  server.HandleFrame(ib, kWatch);
  a.Take();
  b.Take();
  idle.Take();
  server.HandleFrame(
      ia,
      R"([1,2,{"type":"repo/add_updates","recordName":null,"inst":"g","branch":"b","updates":["AAAA"],"updateId":1}])");
  ASSERT_TRUE(flush);
  flush();
  EXPECT_THAT(a.frames, IsEmpty());
  EXPECT_THAT(b.frames, IsEmpty());
  EXPECT_TRUE(a.closed);
  EXPECT_TRUE(b.closed);
  EXPECT_FALSE(idle.closed);
  EXPECT_EQ(server.stats().group_commit_failures, 1u);
}

// Records what the server tells other nodes.
class RecordingFanout : public Fanout {
 public:
  void PublishUpdates(const inst::BranchNamespace& ns,
                      const std::string& frame) override {
    (void)ns;
    published.push_back(frame);
  }
  std::vector<std::string> published;
};

// Other nodes hear of an update only once it is committed, and never of
// one whose commit failed.
TEST(InstServerGroupCommit, OtherNodesHearOfUpdatesAfterTheCommit) {
  for (bool fail : {false, true}) {
    MemoryStore ok_store;
    FailingCommitStore failing_store;
    Store& store = fail ? static_cast<Store&>(failing_store) : ok_store;
    RecordingFanout fanout;
    std::function<void()> flush;
    InstServerOptions options;
    options.schedule_flush = [&](std::function<void()> f) { flush = f; };
    options.fanout = &fanout;
    InstServer server(store, options);
    FakeConnection a;
    InstServer::SocketId ia = server.Connect(&a);
    server.HandleFrame(ia, R"([1,1,{"type":"login","connectionId":"a"}])");
    server.HandleFrame(
        ia,
        R"([1,2,{"type":"repo/add_updates","recordName":null,"inst":"g","branch":"b","updates":["AAAA"],"updateId":1}])");
    ASSERT_TRUE(flush);
    EXPECT_THAT(fanout.published, IsEmpty());
    flush();
    if (fail) {
      EXPECT_THAT(fanout.published, IsEmpty());
    } else {
      EXPECT_THAT(
          fanout.published,
          ElementsAre(
              R"([1,-1,{"type":"repo/add_updates","recordName":null,"inst":"g","branch":"b","updates":["AAAA"]}])"));
    }
  }
}

}  // namespace
}  // namespace auxsync::server
