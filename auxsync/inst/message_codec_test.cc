#include "auxsync/inst/message_codec.h"

#include <set>
#include <string>
#include <vector>

#include "auxsync/bots/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::inst {
namespace {

using ::testing::HasSubstr;

struct Sample {
  Direction direction;
  std::string json;
};

// One message of every kind and variant, in the exact bytes the real
// CasualOS client or server sends (key order included).
std::vector<Sample> Samples() {
  const auto c2s = Direction::kClientToServer;
  const auto s2c = Direction::kServerToClient;
  return {
      {c2s, R"({"type":"login","connectionToken":"vCT1.a.b.c..d.e"})"},
      {c2s, R"({"type":"login","connectionId":"connA"})"},
      {c2s, R"({"type":"login"})"},
      {s2c,
       R"({"type":"login_result","success":true,"info":{"userId":"u","sessionId":"s","connectionId":"connA"}})"},
      {s2c,
       R"({"type":"login_result","success":true,"info":{"userId":null,"sessionId":null,"connectionId":"connA"}})"},
      {s2c,
       R"({"type":"login_result","success":false,"errorCode":"invalid_token","errorMessage":"The connection token is invalid."})"},
      {c2s,
       R"({"type":"repo/watch_branch","recordName":null,"inst":"myInst","branch":"default"})"},
      {c2s,
       R"({"type":"repo/watch_branch","recordName":"rec","inst":"myInst","branch":"default-player-connA","temporary":true,"markers":["private","x"]})"},
      {s2c,
       R"({"type":"repo/watch_branch_result","recordName":null,"inst":"myInst","branch":"default","success":true})"},
      {s2c,
       R"({"type":"repo/watch_branch_result","success":false,"errorCode":"not_authorized","errorMessage":"You are not authorized to access this inst.","recordName":"rec","inst":"i","branch":"b","reason":{"type":"invalid_token"}})"},
      {s2c,
       R"({"type":"repo/watch_branch_result","success":false,"errorCode":"subscription_limit_reached","errorMessage":"The maximum number of active connections to this inst has been reached.","recordName":"rec","inst":"i","branch":"b"})"},
      {c2s,
       R"({"type":"repo/unwatch_branch","recordName":null,"inst":"myInst","branch":"default"})"},
      {c2s,
       R"({"type":"repo/add_updates","recordName":null,"inst":"myInst","branch":"default","updates":["AQID"],"updateId":1})"},
      {c2s,
       R"({"type":"repo/add_updates","recordName":"r","inst":"i","branch":"b","updates":[]})"},
      {s2c,
       R"({"type":"repo/add_updates","recordName":null,"inst":"myInst","branch":"default","updates":[],"initial":true})"},
      {s2c,
       R"({"type":"repo/add_updates","recordName":null,"inst":"myInst","branch":"default","updates":["AQID","BAUG"]})"},
      {s2c,
       R"({"type":"repo/add_updates","recordName":null,"inst":"myInst","branch":"default","updates":["AQID"],"timestamps":[1795610766965]})"},
      {s2c,
       R"({"type":"repo/updates_received","recordName":null,"inst":"myInst","branch":"default","updateId":1})"},
      {s2c,
       R"({"type":"repo/updates_received","recordName":null,"inst":"pub","branch":"other","updateId":3,"errorCode":"max_size_reached","maxBranchSizeInBytes":150,"neededBranchSizeInBytes":256})"},
      {s2c,
       R"({"type":"repo/updates_received","recordName":null,"inst":"pub","branch":"other","errorCode":"max_size_reached","maxBranchSizeInBytes":150,"neededBranchSizeInBytes":256})"},
      {c2s,
       R"({"type":"repo/get_updates","recordName":null,"inst":"myInst","branch":"default"})"},
      {c2s,
       R"({"type":"repo/send_action","recordName":null,"inst":"myInst","branch":"default","action":{"type":"remote","event":{"type":"action","botIds":null,"eventName":"ping","userId":null,"argument":{"n":1},"sortBotIds":true},"taskId":"task-1","connectionId":"connB"}})"},
      {c2s,
       R"({"type":"repo/send_action","recordName":null,"inst":"i","branch":"b","action":{"type":"remote","event":1,"allowBatching":true,"taskId":7,"connectionId":"c","sessionId":"s","userId":"u","broadcast":false}})"},
      {c2s,
       R"({"type":"repo/send_action","recordName":null,"inst":"i","branch":"b","action":{"type":"remote_result","result":[1,2],"taskId":"t","userId":"u"}})"},
      {c2s,
       R"({"type":"repo/send_action","recordName":null,"inst":"i","branch":"b","action":{"type":"remote_error","error":"boom","broadcast":true}})"},
      {c2s,
       R"({"type":"repo/send_action","recordName":null,"inst":"i","branch":"b","action":{"type":"remote"}})"},
      {s2c,
       R"({"type":"repo/receive_action","recordName":null,"inst":"myInst","branch":"default","action":{"type":"device","connection":{"connectionId":"connA","sessionId":null,"userId":null},"event":{"type":"action","eventName":"ping"},"taskId":"task-1"}})"},
      {s2c,
       R"({"type":"repo/receive_action","recordName":null,"inst":"i","branch":"b","action":{"type":"device_result","connection":{"connectionId":"c","sessionId":"s","userId":"u"},"result":null,"taskId":3}})"},
      {s2c,
       R"({"type":"repo/receive_action","recordName":null,"inst":"i","branch":"b","action":{"type":"device_error","connection":{"connectionId":"c","sessionId":"s","userId":"u"},"error":{"m":1}}})"},
      {s2c,
       R"({"type":"repo/receive_action","recordName":null,"inst":"i","branch":"default","action":{"type":"action","eventName":"onWebhook","botIds":null,"userId":null,"argument":{"method":"GET"}}})"},
      {c2s,
       R"({"type":"repo/watch_branch_devices","recordName":null,"inst":"myInst","branch":"default"})"},
      {c2s,
       R"({"type":"repo/unwatch_branch_devices","recordName":"r","inst":"myInst","branch":"default"})"},
      {s2c,
       R"({"type":"repo/connected_to_branch","broadcast":false,"branch":{"type":"repo/watch_branch","recordName":null,"inst":"myInst","branch":"default"},"connection":{"connectionId":"connB","sessionId":null,"userId":null}})"},
      {s2c,
       R"({"type":"repo/connected_to_branch","broadcast":false,"connection":{"connectionId":"connA","sessionId":"s","userId":"u"},"branch":{"type":"repo/watch_branch","recordName":"r","inst":"myInst","branch":"default","temporary":false}})"},
      {s2c,
       R"({"type":"repo/disconnected_from_branch","broadcast":false,"recordName":null,"inst":"myInst","branch":"default","connection":{"connectionId":"connB","sessionId":null,"userId":null}})"},
      {c2s,
       R"({"type":"repo/connection_count","recordName":null,"inst":"myInst","branch":"default"})"},
      {c2s,
       R"({"type":"repo/connection_count","recordName":null,"inst":null,"branch":null})"},
      {s2c,
       R"({"type":"repo/connection_count","recordName":null,"inst":"myInst","branch":"default","count":2})"},
      {c2s, R"({"type":"sync/time","id":1,"clientRequestTime":1795610766965})"},
      {s2c,
       R"({"type":"sync/time/response","id":1,"clientRequestTime":1795610766965,"serverReceiveTime":1795610766966,"serverTransmitTime":1795610766966})"},
      {s2c,
       R"({"type":"rate_limit_exceeded","retryAfter":12.5,"totalHits":1001})"},
      {c2s,
       R"({"type":"permission/request/missing","reason":{"type":"missing_permission","recordName":"rec","resourceKind":"inst","resourceId":"inst1","action":"read","subjectType":"user","subjectId":"u2"}})"},
      {s2c,
       R"({"type":"permission/request/missing","reason":{"type":"missing_permission","recordName":"rec","resourceKind":"inst","resourceId":"inst1","action":"read","subjectType":"user","subjectId":"u2"},"connection":{"connectionId":"connB","sessionId":"s","userId":"u2"},"user":{"userId":"u2","email":"b@example.com","displayName":null}})"},
      {s2c,
       R"({"type":"permission/request/missing","reason":{"type":"missing_permission","recordName":"rec","resourceKind":"inst","resourceId":"inst1","action":"read","subjectType":"user","subjectId":"u2"},"connection":{"connectionId":"connB","sessionId":"s","userId":"u2"},"user":null})"},
      {c2s,
       R"({"type":"permission/request/missing/response","success":true,"recordName":"rec","resourceKind":"inst","resourceId":"inst1","subjectType":"user","subjectId":"u2"})"},
      {s2c,
       R"({"type":"permission/request/missing/response","success":false,"recordName":"rec","resourceKind":"inst","resourceId":"inst1","subjectType":"user","subjectId":"u2","errorCode":"unacceptable_request","errorMessage":"Permissions can only be requested for the current user."})"},
      {s2c,
       R"({"type":"permission/request/missing/response","success":true,"recordName":"rec","resourceKind":"inst","resourceId":"inst1","subjectType":"user","subjectId":"u2","connection":{"connectionId":"connA","sessionId":"s","userId":"u1"}})"},
      {c2s,
       R"({"type":"http_request","id":0,"request":{"path":"/api/v2/ai/image","method":"POST","pathParams":{},"query":{"a":"b"},"headers":{"authorization":"Bearer x"},"body":"{}"}})"},
      {c2s,
       R"({"type":"http_request","id":2,"request":{"path":"/","method":"GET","pathParams":{"p":"1"},"query":{},"headers":{},"body":null}})"},
      {s2c,
       R"({"type":"http_response","id":0,"response":{"statusCode":200,"headers":{"a":"b"},"body":"{}"}})"},
      {s2c,
       R"({"type":"http_partial_response","id":0,"index":0,"response":{"statusCode":200,"headers":{},"body":"a"}})"},
      {s2c,
       R"({"type":"http_partial_response","id":0,"index":3,"final":true,"response":{}})"},
  };
}

TEST(MessageCodec, EveryMessageRoundTripsByteIdentically) {
  std::set<size_t> kinds;
  for (const Sample& s : Samples()) {
    auto value = bots::ParseJson(s.json);
    ASSERT_TRUE(value.ok()) << s.json;
    auto message = DecodeMessage(*value, s.direction);
    ASSERT_TRUE(message.ok()) << s.json << "\n" << message.status();
    EXPECT_EQ(EncodeMessage(*message), s.json);
    EXPECT_EQ(MessageType(*message), (*value)["type"].as_string());
    // And the encoding decodes to the same message.
    auto again = DecodeMessage(MessageToValue(*message), s.direction);
    ASSERT_TRUE(again.ok()) << s.json;
    EXPECT_EQ(EncodeMessage(*again), s.json);
    kinds.insert(message->index());
  }
  EXPECT_EQ(kinds.size(), std::variant_size_v<Message>);
}

TEST(MessageCodec, NamespaceOfRepoMessages) {
  BranchNamespace ns{std::nullopt, "i", "b"};
  AddUpdatesMessage add;
  add.ns = ns;
  EXPECT_EQ(NamespaceOf(add), ns);
  ConnectedToBranchMessage connected;
  connected.branch.ns = ns;
  EXPECT_EQ(NamespaceOf(connected), ns);
  EXPECT_EQ(NamespaceOf(LoginMessage{}), std::nullopt);
  EXPECT_EQ(NamespaceOf(ConnectionCountMessage{}), std::nullopt);
}

TEST(MessageCodec, DirectionDecidesTheAcceptedTypes) {
  auto login = bots::ParseJson(R"({"type":"login","connectionId":"c"})");
  EXPECT_FALSE(DecodeMessage(*login, Direction::kServerToClient).ok());
  auto result = bots::ParseJson(
      R"({"type":"sync/time/response","id":1,"clientRequestTime":1,"serverReceiveTime":2,"serverTransmitTime":3})");
  EXPECT_FALSE(DecodeMessage(*result, Direction::kClientToServer).ok());
}

struct BadCase {
  std::string json;
  std::string error;  // a substring of the status message
};

TEST(MessageCodec, S2_InvalidRequestsNameTheField) {
  const std::vector<BadCase> cases = {
      {R"({"type":"nope"})", "message.type"},
      {R"({"inst":"i"})", "message.type"},
      {R"([])", "expected object"},
      {R"({"type":"login","connectionId":null})", "message.connectionId"},
      {R"({"type":"login","connectionToken":5})", "message.connectionToken"},
      {R"({"type":"repo/watch_branch","inst":"i","branch":"b"})",
       "message.recordName"},
      {R"({"type":"repo/watch_branch","recordName":"","inst":"i","branch":"b"})",
       "message.recordName"},
      {R"({"type":"repo/watch_branch","recordName":null,"branch":"b"})",
       "message.inst"},
      {R"({"type":"repo/watch_branch","recordName":null,"inst":"i","branch":"b","temporary":null})",
       "message.temporary"},
      {R"({"type":"repo/watch_branch","recordName":null,"inst":"i","branch":"b","markers":["a",1]})",
       "message.markers[1]"},
      {R"({"type":"repo/add_updates","recordName":null,"inst":"i","branch":"b"})",
       "message.updates"},
      {R"({"type":"repo/add_updates","recordName":null,"inst":"i","branch":"b","updates":["a",2]})",
       "message.updates[1]"},
      {R"({"type":"repo/add_updates","recordName":null,"inst":"i","branch":"b","updates":[],"updateId":"1"})",
       "message.updateId"},
      {R"({"type":"repo/add_updates","recordName":null,"inst":"i","branch":"b","updates":[],"timestamps":[null]})",
       "message.timestamps[0]"},
      {R"({"type":"repo/send_action","recordName":null,"inst":"i","branch":"b"})",
       "message.action"},
      {R"({"type":"repo/send_action","recordName":null,"inst":"i","branch":"b","action":{"type":"device"}})",
       "message.action.type"},
      {R"({"type":"repo/send_action","recordName":null,"inst":"i","branch":"b","action":{"type":"remote","connectionId":null}})",
       "message.action.connectionId"},
      {R"({"type":"repo/send_action","recordName":null,"inst":"i","branch":"b","action":{"type":"remote","taskId":true}})",
       "message.action.taskId"},
      {R"({"type":"repo/connection_count","recordName":null,"inst":"i"})",
       "message.branch"},
      {R"({"type":"sync/time","id":"1","clientRequestTime":1})", "message.id"},
      {R"({"type":"permission/request/missing","reason":{"type":"other"}})",
       "message.reason.type"},
      {R"({"type":"permission/request/missing","reason":{"type":"missing_permission","recordName":"r","resourceKind":"nope","resourceId":"i","action":"read","subjectType":"user","subjectId":"u"}})",
       "message.reason.resourceKind"},
      {R"({"type":"permission/request/missing","reason":{"type":"missing_permission","recordName":"r","resourceKind":"inst","resourceId":"i","action":"fly","subjectType":"user","subjectId":"u"}})",
       "message.reason.action"},
      {R"({"type":"permission/request/missing/response","success":true,"recordName":"r","resourceKind":"inst","resourceId":"i","subjectType":"group","subjectId":"u"})",
       "message.subjectType"},
      {R"({"type":"http_request","id":0,"request":{"path":"/","method":"PATCH","pathParams":{},"query":{},"headers":{},"body":null}})",
       "message.request.method"},
      {R"({"type":"http_request","id":0,"request":{"path":"/","method":"GET","pathParams":{},"query":{},"headers":{"a":1},"body":null}})",
       "message.request.headers.a"},
      {R"({"type":"http_request","id":0,"request":{"path":"/","method":"GET","pathParams":{},"query":{},"headers":{}}})",
       "message.request.body"},
  };
  for (const BadCase& c : cases) {
    auto value = bots::ParseJson(c.json);
    ASSERT_TRUE(value.ok()) << c.json;
    auto message = DecodeMessage(*value, Direction::kClientToServer);
    ASSERT_FALSE(message.ok()) << c.json;
    EXPECT_EQ(message.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(message.status().message()), HasSubstr(c.error))
        << c.json;
  }
}

TEST(MessageCodec, S2_UnknownFieldsAreDropped) {
  auto value = bots::ParseJson(
      R"({"type":"repo/watch_branch","protocol":"updates","recordName":null,"inst":"i","branch":"b","x":1})");
  auto message = DecodeMessage(*value, Direction::kClientToServer);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(
      EncodeMessage(*message),
      R"({"type":"repo/watch_branch","recordName":null,"inst":"i","branch":"b"})");
}

TEST(MessageCodec, ServerSideNullIdentitiesAreAccepted) {
  // aux-common's connectionInfoSchema wants strings, but the real server
  // writes null ids for anonymous sockets; the client must read them.
  auto value = bots::ParseJson(
      R"({"type":"repo/disconnected_from_branch","broadcast":false,"recordName":null,"inst":"i","branch":"b","connection":{"connectionId":"c","sessionId":null,"userId":null}})");
  auto message = DecodeMessage(*value, Direction::kServerToClient);
  ASSERT_TRUE(message.ok()) << message.status();
  const auto& m = std::get<DisconnectedFromBranchMessage>(*message);
  EXPECT_EQ(m.connection.session_id, std::nullopt);
}

TEST(MessageCodec, WatchBranchResultKeepsPolicyExtras) {
  const std::string json =
      R"({"type":"repo/watch_branch_result","success":false,"errorCode":"not_authorized","errorMessage":"no","recordName":"r","inst":"i","branch":"b","reason":{"type":"missing_permission"},"recommendedEntitlement":{"x":1}})";
  auto message =
      DecodeMessage(*bots::ParseJson(json), Direction::kServerToClient);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(EncodeMessage(*message), json);
}

}  // namespace
}  // namespace auxsync::inst
