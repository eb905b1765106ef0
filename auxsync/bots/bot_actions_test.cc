#include "auxsync/bots/bot_actions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "auxsync/bots/bot.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/bots/tag_edit.h"

namespace auxsync::bots {
namespace {

using ::testing::HasSubstr;

std::string Tagged(const Value& v) { return ToJson(v, {.tagged = true}); }

// Expected JSON is node's output (undefined shown with a replacer that
// writes {"$type":"undefined"}, i.e. our tagged form).

TEST(BotActions, BuildersProduceUpstreamShapes) {
  Value bot = CreateBot("b", MakeObject({{"a", 1}}));
  Value added = BotAdded(bot);
  EXPECT_EQ(ToJson(added),
            R"({"type":"add_bot","id":"b","bot":{"id":"b","tags":{"a":1}}})");
  EXPECT_TRUE(StrictEquals(added["bot"], bot));
  EXPECT_EQ(ToJson(BotRemoved("b")), R"({"type":"remove_bot","id":"b"})");
  EXPECT_EQ(
      ToJson(BotUpdated("b", MakeObject({{"tags", MakeObject({{"a", 2}})}}))),
      R"({"type":"update_bot","id":"b","update":{"tags":{"a":2}}})");
  EXPECT_EQ(
      ToJson(AddState(MakeObject({{"b", bot}}))),
      R"({"type":"apply_state","state":{"b":{"id":"b","tags":{"a":1}}}})");
}

TEST(BotActions, AddingAPartialBotHasAnUndefinedId) {
  // botAdded({tags:{a:1}}) -> {"type":"add_bot","id":undefined,"bot":{...}}
  Value added = BotAdded(MakeObject({{"tags", MakeObject({{"a", 1}})}}));
  EXPECT_TRUE(added.as_object().Has("id"));
  EXPECT_TRUE(added["id"].is_undefined());
  EXPECT_EQ(
      Tagged(added),
      R"({"type":"add_bot","id":{"$type":"undefined"},"bot":{"tags":{"a":1}}})");
  EXPECT_EQ(ToJson(added), R"({"type":"add_bot","bot":{"tags":{"a":1}}})");
}

TEST(BreakIntoIndividualEvents, A15_NewBotAdded) {
  Value state = MakeObject({{"other", CreateBot("other", MakeObject({}))}});
  Value bot = CreateBot("new", MakeObject({{"abc", "def"}}));
  std::vector<Value> actions =
      BreakIntoIndividualEvents(state, AddState(MakeObject({{"new", bot}})));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(
      ToJson(actions[0]),
      R"({"type":"add_bot","id":"new","bot":{"id":"new","tags":{"abc":"def"}}})");
  EXPECT_TRUE(StrictEquals(actions[0]["bot"], bot));
}

TEST(BreakIntoIndividualEvents, A16_NullRemovesExistingBot) {
  Value state = MakeObject({{"other", CreateBot("other", MakeObject({}))}});
  std::vector<Value> actions = BreakIntoIndividualEvents(
      state, AddState(MakeObject({{"other", Value(nullptr)}})));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(ToJson(actions[0]), R"({"type":"remove_bot","id":"other"})");
}

TEST(BreakIntoIndividualEvents, A17_PartialUpdatesExistingBot) {
  Value state =
      MakeObject({{"other", CreateBot("other", MakeObject({{"num", 123}}))}});
  Value update = MakeObject({{"tags", MakeObject({{"num", 456}})}});
  std::vector<Value> actions = BreakIntoIndividualEvents(
      state, AddState(MakeObject({{"other", update}})));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(
      ToJson(actions[0]),
      R"({"type":"update_bot","id":"other","update":{"tags":{"num":456}}})");
  EXPECT_TRUE(StrictEquals(actions[0]["update"], update));
}

TEST(BreakIntoIndividualEvents, KeyOrderPartialsAndMissingBots) {
  // node: breakIntoIndividualEvents({a:{id:'a'}, b:{id:'b'}},
  //   addState({x:{tags:{a:1}}, a:null, b:{tags:{}}, c:null, '1':{id:'1'}}))
  Value state = MakeObject(
      {{"a", MakeObject({{"id", "a"}})}, {"b", MakeObject({{"id", "b"}})}});
  Value update =
      MakeObject({{"x", MakeObject({{"tags", MakeObject({{"a", 1}})}})},
                  {"a", Value(nullptr)},
                  {"b", MakeObject({{"tags", MakeObject({})}})},
                  {"c", Value(nullptr)},
                  {"1", MakeObject({{"id", "1"}})}});
  std::vector<Value> actions =
      BreakIntoIndividualEvents(state, AddState(update));
  Value all = Value::NewArray();
  all.as_array().items = actions;
  EXPECT_EQ(
      Tagged(all),
      R"([{"type":"add_bot","id":"1","bot":{"id":"1"}},)"
      R"({"type":"add_bot","id":{"$type":"undefined"},"bot":{"tags":{"a":1}}},)"
      R"({"type":"remove_bot","id":"a"},)"
      R"({"type":"update_bot","id":"b","update":{"tags":{}}}])");
}

TEST(ValidateBotAction, AcceptsWellFormedActions) {
  Value bot = CreateBot("b", MakeObject({{"a", 1}}));
  EXPECT_TRUE(ValidateBotAction(BotAdded(bot), "a").ok());
  EXPECT_TRUE(ValidateBotAction(BotRemoved("b"), "a").ok());
  EXPECT_TRUE(
      ValidateBotAction(
          BotUpdated(
              "b",
              MakeObject({{"tags", MakeObject({{"a", Edit(Value::NewObject(),
                                                          {Insert("x")})}})},
                          {"masks", MakeObject({{"tempLocal",
                                                 MakeObject({{"m", 1}})}})}})),
          "a")
          .ok());
  EXPECT_TRUE(
      ValidateBotAction(
          AddState(MakeObject({{"b", bot},
                               {"c", Value(nullptr)},
                               {"d", MakeObject({{"tags", MakeObject({})}})}})),
          "a")
          .ok());
  // Other types are not the partitions' business.
  EXPECT_TRUE(
      ValidateBotAction(MakeObject({{"type", "shout"}, {"x", 1}}), "a").ok());
  EXPECT_TRUE(ValidateBotAction(Remote(MakeObject({{"type", "x"}})), "a").ok());
}

TEST(ValidateBotAction, RejectsMalformedActionsNamingTheField) {
  auto error = [](const Value& action) {
    absl::Status s = ValidateBotAction(action, "steps[2][0]");
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_THAT(error(Value(5)),
              HasSubstr("steps[2][0]: action must be an object"));
  EXPECT_THAT(error(MakeObject({{"type", 1}})), HasSubstr("steps[2][0].type"));
  EXPECT_THAT(error(MakeObject({{"type", "add_bot"}})),
              HasSubstr("steps[2][0].bot: must be an object"));
  EXPECT_THAT(error(BotAdded(MakeObject({{"tags", MakeObject({})}}))),
              HasSubstr(".bot.id: must be a string"));
  EXPECT_THAT(
      error(BotAdded(MakeObject({{"id", 5}, {"tags", MakeObject({})}}))),
      HasSubstr(".bot.id"));
  EXPECT_THAT(error(BotAdded(MakeObject({{"id", "b"}, {"tags", "x"}}))),
              HasSubstr("steps[2][0].bot.tags: must be an object"));
  EXPECT_THAT(error(BotAdded(MakeObject({{"id", "b"},
                                         {"tags", MakeObject({})},
                                         {"masks", MakeObject({{"s", 1}})}}))),
              HasSubstr(".bot.masks[\"s\"]: must be an object"));
  EXPECT_THAT(error(MakeObject({{"type", "remove_bot"}})),
              HasSubstr(".id: must be a string"));
  EXPECT_THAT(error(MakeObject({{"type", "update_bot"}, {"id", "b"}})),
              HasSubstr(".update: must be an object"));
  EXPECT_THAT(error(BotUpdated("b", MakeObject({{"masks", Value(nullptr)}}))),
              HasSubstr(".update.masks: must be an object"));
  Value bad_edit = Edit(Value::NewObject(), {Preserve(0.5)});
  EXPECT_THAT(
      error(BotUpdated(
          "b", MakeObject({{"tags", MakeObject({{"abc", bad_edit}})}}))),
      HasSubstr("steps[2][0].update.tags[\"abc\"].operations[0][0].count"));
  EXPECT_THAT(
      error(BotUpdated(
          "b",
          MakeObject({{"masks",
                       MakeObject({{"s", MakeObject({{"m", bad_edit}})}})}}))),
      HasSubstr(".update.masks[\"s\"][\"m\"].operations[0][0].count"));
  EXPECT_THAT(
      error(MakeObject({{"type", "apply_state"}, {"state", MakeArray({})}})),
      HasSubstr(".state: must be an object"));
  EXPECT_THAT(error(AddState(MakeObject({{"b", 5}}))),
              HasSubstr(".state[\"b\"]: must be an object or null"));
  EXPECT_THAT(error(AddState(
                  MakeObject({{"b", MakeObject({{"tags", MakeArray({})}})}}))),
              HasSubstr(".state[\"b\"].tags: must be an object"));
}

// --- Remote actions (RemoteActions.js / BotEvents.js / ConnectionInfo.js) ---

TEST(RemoteActions, RemoteKeepsUndefinedKeysAndSpreadsTheSelector) {
  // remote({type:'x'})
  EXPECT_EQ(
      Tagged(Remote(MakeObject({{"type", "x"}}))),
      R"({"type":"remote","event":{"type":"x"},"allowBatching":{"$type":"undefined"},)"
      R"("taskId":{"$type":"undefined"}})");
  EXPECT_EQ(ToJson(Remote(MakeObject({{"type", "x"}}))),
            R"({"type":"remote","event":{"type":"x"}})");
  // remote({type:'x'}, {sessionId:'s', connectionId:'c'}, true, 5)
  EXPECT_EQ(
      Tagged(Remote(MakeObject({{"type", "x"}}),
                    MakeObject({{"sessionId", "s"}, {"connectionId", "c"}}),
                    true, 5)),
      R"({"type":"remote","event":{"type":"x"},"allowBatching":true,"taskId":5,)"
      R"("sessionId":"s","connectionId":"c"})");
  // The struct selector spreads in connectionId, sessionId, userId,
  // broadcast order and skips unset fields.
  RemoteSelector selector;
  selector.session_id = "s";
  selector.connection_id = "c";
  EXPECT_EQ(
      Tagged(Remote(MakeObject({{"type", "x"}}), selector, true, 5)),
      R"({"type":"remote","event":{"type":"x"},"allowBatching":true,"taskId":5,)"
      R"("connectionId":"c","sessionId":"s"})");
  // remote({type:'x'}, {broadcast:true, taskId:9, type:'y'}, false):
  // repeated keys keep their place and take the selector's value.
  EXPECT_EQ(
      Tagged(Remote(
          MakeObject({{"type", "x"}}),
          MakeObject({{"broadcast", true}, {"taskId", 9}, {"type", "y"}}),
          false, Value())),
      R"({"type":"y","event":{"type":"x"},"allowBatching":false,"taskId":9,"broadcast":true})");
}

TEST(RemoteActions, ResultsAndErrors) {
  // remoteResult(123)
  EXPECT_EQ(
      Tagged(RemoteResult(123)),
      R"({"type":"remote_result","result":123,"taskId":{"$type":"undefined"}})");
  // remoteResult(123, {connectionId:'c'}, 'task')
  RemoteSelector to_c;
  to_c.connection_id = "c";
  EXPECT_EQ(
      Tagged(RemoteResult(123, to_c, "task")),
      R"({"type":"remote_result","result":123,"taskId":"task","connectionId":"c"})");
  // remoteError({a:1}, undefined, 3)
  EXPECT_EQ(Tagged(RemoteError(MakeObject({{"a", 1}}), RemoteSelector{}, 3)),
            R"({"type":"remote_error","error":{"a":1},"taskId":3})");
  EXPECT_EQ(
      Tagged(RemoteError("e", Value(), Value())),
      R"({"type":"remote_error","error":"e","taskId":{"$type":"undefined"}})");
}

TEST(RemoteActions, DeviceEnvelopesAndConnectionInfo) {
  Value info = ConnectionInfo("u", "s", "c");
  // connectionInfo('u','s','c') ->
  // {"userId":"u","sessionId":"s","connectionId":"c"}
  EXPECT_EQ(ToJson(info),
            R"({"userId":"u","sessionId":"s","connectionId":"c"})");
  // device(info, {type:'x'})
  EXPECT_EQ(
      Tagged(Device(info, MakeObject({{"type", "x"}}))),
      R"({"type":"device","connection":{"userId":"u","sessionId":"s","connectionId":"c"},)"
      R"("event":{"type":"x"},"taskId":{"$type":"undefined"}})");
  // deviceResult(connectionInfo('u',null,'c'), 1, 2)
  EXPECT_EQ(
      Tagged(DeviceResult(ConnectionInfo("u", Value(nullptr), "c"), 1, 2)),
      R"({"type":"device_result","connection":{"userId":"u","sessionId":null,"connectionId":"c"},)"
      R"("result":1,"taskId":2})");
  // deviceError(info, 'e', 'task')
  EXPECT_EQ(
      Tagged(DeviceError(info, "e", "task")),
      R"({"type":"device_error","connection":{"userId":"u","sessionId":"s","connectionId":"c"},)"
      R"("error":"e","taskId":"task"})");
}

TEST(RemoteActions, AsyncResultsAlwaysCarryAllKeys) {
  // asyncResult(1, {a:1})
  EXPECT_EQ(
      Tagged(AsyncResult(1, MakeObject({{"a", 1}}))),
      R"({"type":"async_result","taskId":1,"result":{"a":1},)"
      R"("mapBotsInResult":{"$type":"undefined"},"uncopiable":{"$type":"undefined"}})");
  EXPECT_EQ(ToJson(AsyncResult(1, MakeObject({{"a", 1}}))),
            R"({"type":"async_result","taskId":1,"result":{"a":1}})");
  // asyncResult('t', null, false, true)
  EXPECT_EQ(
      Tagged(AsyncResult("t", Value(nullptr), false, true)),
      R"({"type":"async_result","taskId":"t","result":null,"mapBotsInResult":false,"uncopiable":true})");
  // asyncError(1, 'bad')
  EXPECT_EQ(Tagged(AsyncError(1, "bad")),
            R"({"type":"async_error","taskId":1,"error":"bad"})");
}

TEST(RemoteActions, ShoutAction) {
  // action('onRemoteData', null, null, {name:'x'})
  EXPECT_EQ(
      Tagged(Action("onRemoteData", MakeObject({{"name", "x"}}))),
      R"({"type":"action","botIds":null,"eventName":"onRemoteData","userId":null,)"
      R"("argument":{"name":"x"},"sortBotIds":true})");
  // action('ev')
  EXPECT_EQ(Tagged(Action("ev")),
            R"({"type":"action","botIds":null,"eventName":"ev","userId":null,)"
            R"("argument":{"$type":"undefined"},"sortBotIds":true})");
  // action('ev', ['b1'], 'u', 5, false)
  EXPECT_EQ(
      Tagged(Action("ev", MakeArray({"b1"}), "u", 5, false)),
      R"({"type":"action","botIds":["b1"],"eventName":"ev","userId":"u","argument":5,"sortBotIds":false})");
}

}  // namespace
}  // namespace auxsync::bots
