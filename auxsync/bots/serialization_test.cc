#include "auxsync/bots/serialization.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "auxsync/bots/bot.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/runtime_values.h"

namespace auxsync::bots {
namespace {

using ::testing::ElementsAre;

// Date.UTC(2012, 10, 13, 14, 15, 16) and Date.UTC(1999, 10, 19, 5, 42, 8).
constexpr double k2012 = 1352816116000;
constexpr double k1999 = 942990128000;

const char kCalendar[] = "\xF0\x9F\x93\x85";       // 📅
const char kArrow[] = "\xE2\x9E\xA1\xEF\xB8\x8F";  // ➡️
const char kRepeat[] = "\xF0\x9F\x94\x81";         // 🔁

std::string S(std::string_view prefix, std::string_view rest) {
  return std::string(prefix) + std::string(rest);
}

// --- convertErrorToCopiableValue ---

TEST(ConvertErrorToCopiableValue, J17_ErrorBecomesMessageNameStack) {
  Value copy = ConvertErrorToCopiableValue(MakeError("Error", "abc"));
  // Upstream key order is message, name, stack.
  EXPECT_THAT(copy.as_object().Keys(), ElementsAre("message", "name", "stack"));
  EXPECT_EQ(copy["name"].as_string(), "Error");
  EXPECT_EQ(copy["message"].as_string(), "abc");
  EXPECT_TRUE(copy["stack"].is_string());
  EXPECT_EQ(copy["stack"].as_string(), "Error: abc");
  Value syntax = ConvertErrorToCopiableValue(
      MakeError("SyntaxError", "def", "SyntaxError: def\n    at x"));
  EXPECT_EQ(syntax["name"].as_string(), "SyntaxError");
  EXPECT_EQ(syntax["stack"].as_string(), "SyntaxError: def\n    at x");
  // Anything else unchanged.
  Value obj = MakeObject({{"a", 1}});
  EXPECT_TRUE(StrictEquals(ConvertErrorToCopiableValue(obj), obj));
  EXPECT_EQ(ConvertErrorToCopiableValue("x").as_string(), "x");
}

TEST(ConvertErrorToCopiableValue, J18_ResponseFieldsCopied) {
  Value response = MakeObject({{"extra", "x"},
                               {"data", MakeObject({{"abc", "def"}})},
                               {"headers", MakeObject({{"header1", true}})},
                               {"status", 500},
                               {"statusText", ""}});
  Value copy =
      ConvertErrorToCopiableValue(MakeError("Error", "abc", "stack", response));
  // node (stack replaced): {"message":"abc","name":"Error","stack":...,
  //   "response":{"data":{"abc":"def"},"headers":{"header1":true},
  //   "status":500,"statusText":""}}
  EXPECT_EQ(
      ToJson(copy),
      R"({"message":"abc","name":"Error","stack":"stack","response":{"data":{"abc":"def"},)"
      R"("headers":{"header1":true},"status":500,"statusText":""}})");
  // Missing response fields are present as undefined.
  Value partial = ConvertErrorToCopiableValue(
      MakeError("Error", "x", "s", MakeObject({{"status", 404}})));
  EXPECT_EQ(
      ToJson(partial["response"], {.tagged = true}),
      R"({"data":{"$type":"undefined"},"headers":{"$type":"undefined"},"status":404,)"
      R"("statusText":{"$type":"undefined"}})");
}

// --- convertToCopiableValue ---

TEST(ConvertToCopiableValue, J19_PlainAndBinaryValuesUnchanged) {
  EXPECT_EQ(ConvertToCopiableValue("abc").as_string(), "abc");
  EXPECT_EQ(ConvertToCopiableValue(0.23).as_number(), 0.23);
  EXPECT_EQ(ConvertToCopiableValue(true).as_bool(), true);
  EXPECT_TRUE(ConvertToCopiableValue(Value(nullptr)).is_null());
  EXPECT_TRUE(ConvertToCopiableValue(Value()).is_undefined());
  Value obj = MakeObject({{"abc", "def"}});
  EXPECT_TRUE(DeepEquals(ConvertToCopiableValue(obj), obj));
  Value arr = MakeArray({1, 2, 3});
  EXPECT_TRUE(DeepEquals(ConvertToCopiableValue(arr), arr));
  Value date = MakeDate(k2012);
  EXPECT_TRUE(StrictEquals(ConvertToCopiableValue(date), date));
  for (const char* cls : {"Blob", "ArrayBuffer", "Uint8Array", "Uint16Array",
                          "Uint32Array", "Int8Array", "Int16Array",
                          "Int32Array", "Float32Array", "Float64Array"}) {
    Value bin = MakeBinary(cls, {1, 2, 3, 4, 5, 6, 7, 8});
    EXPECT_TRUE(StrictEquals(ConvertToCopiableValue(bin), bin)) << cls;
    // Nested ones too.
    Value nested = ConvertToCopiableValue(MakeObject({{"b", bin}}));
    EXPECT_TRUE(StrictEquals(nested["b"], bin)) << cls;
  }
}

TEST(ConvertToCopiableValue, J20_NestedFunctionsAndErrorsConverted) {
  Value value = MakeObject(
      {{"fn", MakeFunction("abc")},
       {"list",
        MakeArray({MakeError("Error", "qwerty"),
                   MakeObject({{"e", MakeError("SyntaxError", "syntax")}})})}});
  EXPECT_EQ(
      ToJson(ConvertToCopiableValue(value)),
      R"({"fn":"[Function abc]","list":["Error: qwerty",{"e":"SyntaxError: syntax"}]})");
  // node: convertToCopiableValue([{id:'x',tags:{}}, function foo(){},
  //   new SyntaxError('s')]) -> [{"id":"x","tags":{}},"[Function
  //   foo]","SyntaxError: s"]
  EXPECT_EQ(ToJson(ConvertToCopiableValue(MakeArray(
                {MakeObject({{"id", "x"}, {"tags", MakeObject({})}}),
                 MakeFunction("foo"), MakeError("SyntaxError", "s")}))),
            R"([{"id":"x","tags":{}},"[Function foo]","SyntaxError: s"])");
}

TEST(ConvertToCopiableValue, J21_BotLikeObjectsKeepOnlyIdAndTags) {
  Value tags = MakeObject({{"a", MakeFunction("f")}});
  Value bot = MakeObject(
      {{"id", "test"}, {"metadata", MakeObject({{"a", 1}})}, {"tags", tags}});
  Value copy = ConvertToCopiableValue(bot);
  EXPECT_THAT(copy.as_object().Keys(), ElementsAre("id", "tags"));
  EXPECT_EQ(copy["id"].as_string(), "test");
  // The tags object is taken as it is, not converted.
  EXPECT_TRUE(StrictEquals(copy["tags"], tags));
  // Not bot-like: empty id.
  Value not_bot = MakeObject({{"id", ""}, {"tags", MakeObject({})}, {"x", 1}});
  EXPECT_EQ(ToJson(ConvertToCopiableValue(not_bot)),
            R"({"id":"","tags":{},"x":1})");
}

TEST(ConvertToCopiableValue, J22_FunctionBecomesString) {
  EXPECT_EQ(ConvertToCopiableValue(MakeFunction("test")).as_string(),
            "[Function test]");
  // node: anonymous arrow assigned to a property gets the property's name;
  // a truly anonymous one prints "[Function ]".
  EXPECT_EQ(ConvertToCopiableValue(MakeFunction("")).as_string(),
            "[Function ]");
}

TEST(ConvertToCopiableValue, J23_SpecialValuesFormatted) {
  EXPECT_EQ(ConvertToCopiableValue(MakeDateTime(k2012, "UTC")).as_string(),
            S(kCalendar, "2012-11-13T14:15:16Z"));
  EXPECT_EQ(ConvertToCopiableValue(MakeVector2(1, 2)).as_string(),
            S(kArrow, "1,2"));
  EXPECT_EQ(ConvertToCopiableValue(MakeVector3(1, 2, 3)).as_string(),
            S(kArrow, "1,2,3"));
  EXPECT_EQ(ConvertToCopiableValue(MakeRotation(0, 0, 0, 1)).as_string(),
            S(kRepeat, "0,0,0,1"));
  // Nested too.
  EXPECT_EQ(
      ConvertToCopiableValue(MakeObject({{"v", MakeVector2(1.5, -0.0)}}))["v"]
          .as_string(),
      S(kArrow, "1.5,0"));
}

TEST(ConvertToCopiableValue, J24_ErrorsBecomeNameAndMessage) {
  EXPECT_EQ(ConvertToCopiableValue(MakeError("Error", "abcdef")).as_string(),
            "Error: abcdef");
  EXPECT_EQ(ConvertToCopiableValue(MakeError("SyntaxError", "xyz")).as_string(),
            "SyntaxError: xyz");
}

TEST(ConvertToCopiableValue, J25_CyclesPreserved) {
  Value a = MakeObject({{"name", "a"}});
  Value b = MakeObject({{"name", "b"}});
  Value c = MakeObject({{"name", "c"}, {"list", MakeArray({1})}});
  a.as_object().Set("next", b);
  b.as_object().Set("next", c);
  c.as_object().Set("next", a);
  c["list"].as_array().items.push_back(c);
  Value copy = ConvertToCopiableValue(a);
  EXPECT_FALSE(StrictEquals(copy, a));
  EXPECT_EQ(copy["name"].as_string(), "a");
  EXPECT_EQ(copy["next"]["name"].as_string(), "b");
  EXPECT_EQ(copy["next"]["next"]["name"].as_string(), "c");
  EXPECT_TRUE(StrictEquals(copy["next"]["next"]["next"], copy));
  const Value& c_copy = copy["next"]["next"];
  EXPECT_TRUE(StrictEquals(c_copy["list"].as_array().items[1], c_copy));
  // Break both cycles so the reference counts can free them.
  c.as_object().Erase("next");
  c["list"].as_array().items.pop_back();
  c_copy.as_object().Erase("next");
  c_copy["list"].as_array().items.pop_back();
}

TEST(ConvertToCopiableValue, SharedReferencesStayShared) {
  Value shared = MakeObject({{"x", 1}});
  Value copy =
      ConvertToCopiableValue(MakeArray({shared, MakeObject({{"s", shared}})}));
  EXPECT_FALSE(StrictEquals(copy.as_array().items[0], shared));
  EXPECT_TRUE(
      StrictEquals(copy.as_array().items[0], copy.as_array().items[1]["s"]));
}

Value Nest(int levels, Value leaf) {
  Value root = Value::NewObject();
  Value cur = root;
  for (int i = 0; i < levels; ++i) {
    Value next = Value::NewObject();
    cur.as_object().Set("c", next);
    cur = next;
  }
  if (!leaf.is_undefined()) cur.as_object().Set("c", leaf);
  return root;
}

// Frees a deep chain iteratively (recursive destruction would go as deep).
void Unnest(Value v) {
  while (v.is_object() && v.as_object().Has("c")) {
    Value next = v["c"];
    v.as_object().Erase("c");
    v = next;
  }
}

TEST(ConvertToCopiableValue, J26_DeepNestingBecomesNestedObjectString) {
  Value deep = Nest(10000, Value());
  EXPECT_EQ(ConvertToCopiableValue(deep).as_string(), "[Nested object]");
  Unnest(deep);
  // The limit is exact: node gives an object for 1000 levels, and for 999
  // levels plus a number, but the string for 1000 levels plus a number.
  Value at_limit = Nest(1000, Value());
  Value converted = ConvertToCopiableValue(at_limit);
  EXPECT_TRUE(converted.is_object());
  Unnest(at_limit);
  Unnest(converted);
  Value below = Nest(999, Value(1));
  converted = ConvertToCopiableValue(below);
  EXPECT_TRUE(converted.is_object());
  Unnest(below);
  Unnest(converted);
  Value over = Nest(1000, Value(1));
  EXPECT_EQ(ConvertToCopiableValue(over).as_string(), "[Nested object]");
  Unnest(over);
}

TEST(ConvertToCopiableValue, J27_RuntimeBotsBecomePlainBots) {
  Value tags = MakeObject({{"abc", "123"}});
  EXPECT_EQ(ToJson(ConvertToCopiableValue(MakeRuntimeBot("test1", tags))),
            R"({"id":"test1","tags":{"abc":"123"}})");
  EXPECT_EQ(
      ToJson(ConvertToCopiableValue(MakeRuntimeBot("test1", tags, "mySpace"))),
      R"({"id":"test1","tags":{"abc":"123"},"space":"mySpace"})");
  // The same runtime bot twice gives the same copy.
  Value rb = MakeRuntimeBot("test1", tags);
  Value both = ConvertToCopiableValue(MakeArray({rb, rb}));
  EXPECT_TRUE(StrictEquals(both.as_array().items[0], both.as_array().items[1]));
}

TEST(ConvertToCopiableValue, J28_WrapperBecomesItsOriginal) {
  Value original = MakeObject({{"abc", "abc"}});
  Value copy = ConvertToCopiableValue(MakeWrapper(original));
  EXPECT_TRUE(StrictEquals(copy, original));
  EXPECT_EQ(ToJson(copy), R"({"abc":"abc"})");
}

// --- ensureBotIsSerializable / ensureTagIsSerializable ---

TEST(EnsureBotIsSerializable, J29_SpecialTagValuesFormatted) {
  Value bot = CreateBot("test",
                        MakeObject({{"date", MakeDateTime(k1999, "UTC")},
                                    {"v2", MakeVector2(1, 2)},
                                    {"v3", MakeVector3(1, 2, 3)},
                                    {"rot", MakeRotation(0, 0, 0, 1)},
                                    {"num", 123}}),
                        "shared");
  Value result = EnsureBotIsSerializable(bot);
  EXPECT_FALSE(StrictEquals(result, bot));
  std::string expected = std::string(R"({"id":"test","tags":{"date":")") +
                         kCalendar + R"(1999-11-19T05:42:08Z","v2":")" +
                         kArrow + R"(1,2","v3":")" + kArrow +
                         R"(1,2,3","rot":")" + kRepeat +
                         R"(0,0,0,1","num":123},"space":"shared"})";
  EXPECT_EQ(ToJson(result), expected);
  // The input bot is not modified.
  EXPECT_TRUE(bot["tags"]["v2"].is_host());
}

TEST(EnsureBotIsSerializable, J30_WrappersReplacedByOriginals) {
  Value original = MakeObject({{"abc", "abc"}});
  Value direct = EnsureBotIsSerializable(
      CreateBot("test", MakeObject({{"w", MakeWrapper(original)}})));
  EXPECT_TRUE(StrictEquals(direct["tags"]["w"], original));

  Value nested = EnsureBotIsSerializable(CreateBot(
      "test", MakeObject({{"w", MakeObject({{"inner", MakeWrapper(original)},
                                            {"f", MakeFunction("f")}})}})));
  EXPECT_EQ(
      ToJson(nested),
      R"({"id":"test","tags":{"w":{"inner":{"abc":"abc"},"f":"[Function f]"}}})");
  EXPECT_TRUE(StrictEquals(nested["tags"]["w"]["inner"], original));

  Value deep = EnsureBotIsSerializable(CreateBot(
      "test",
      MakeObject(
          {{"w",
            MakeObject(
                {{"a", MakeObject(
                           {{"b", MakeObject({{"c", MakeWrapper(
                                                        original)}})}})}})}})));
  EXPECT_TRUE(StrictEquals(deep["tags"]["w"]["a"]["b"]["c"], original));

  Value in_array = EnsureBotIsSerializable(CreateBot(
      "test", MakeObject({{"w", MakeArray({1, MakeWrapper(original)})}})));
  EXPECT_EQ(ToJson(in_array),
            R"({"id":"test","tags":{"w":[1,{"abc":"abc"}]}})");

  // node: ensureBotIsSerializable({id:'b', tags:{a:{nested:wrapper}, b:1},
  //   masks:{x:{}}, signatures:{}, space:'shared'}) drops masks and
  //   signatures:
  //   {"id":"b","tags":{"a":{"nested":{"abc":"abc"}},"b":1},"space":"shared"}
  Value full = MakeObject(
      {{"id", "b"},
       {"tags",
        MakeObject({{"a", MakeObject({{"nested", MakeWrapper(original)}})},
                    {"b", 1}})},
       {"masks", MakeObject({{"x", MakeObject({})}})},
       {"signatures", MakeObject({})},
       {"space", "shared"}});
  EXPECT_EQ(
      ToJson(EnsureBotIsSerializable(full)),
      R"({"id":"b","tags":{"a":{"nested":{"abc":"abc"}},"b":1},"space":"shared"})");
}

TEST(EnsureBotIsSerializable, J31_NullTagsKeptAndSameBotWhenNothingToDo) {
  Value bot = CreateBot(
      "test", MakeObject({{"n", Value(nullptr)},
                          {"o", MakeObject({{"a", MakeArray({1, "x"})}})},
                          {"s", "abc"},
                          {"d", MakeDate(0)}}));
  EXPECT_TRUE(StrictEquals(EnsureBotIsSerializable(bot), bot));
  Value with_special = bot.Clone();
  with_special["tags"].as_object().Set("v", MakeVector2(1, 2));
  Value result = EnsureBotIsSerializable(with_special);
  EXPECT_TRUE(result["tags"].as_object().Has("n"));
  EXPECT_TRUE(result["tags"]["n"].is_null());
  // Other tag values are shared, not copied.
  EXPECT_TRUE(StrictEquals(result["tags"]["o"], with_special["tags"]["o"]));
}

TEST(EnsureBotIsSerializable, WrapperBeyondDepthLimitNotSeen) {
  Value deep = Nest(1001, MakeWrapper(MakeObject({})));
  Value bot = CreateBot("test", MakeObject({{"deep", deep}}));
  EXPECT_TRUE(StrictEquals(EnsureBotIsSerializable(bot), bot));
  Unnest(deep);
}

TEST(EnsureTagIsSerializable, J32_SpecialValuesWrappersAndPassThrough) {
  EXPECT_EQ(EnsureTagIsSerializable(MakeDateTime(k1999, "UTC")).as_string(),
            S(kCalendar, "1999-11-19T05:42:08Z"));
  EXPECT_EQ(EnsureTagIsSerializable(MakeVector2(1, 2)).as_string(),
            S(kArrow, "1,2"));
  EXPECT_EQ(EnsureTagIsSerializable(MakeVector3(1, 2, 3)).as_string(),
            S(kArrow, "1,2,3"));
  EXPECT_EQ(EnsureTagIsSerializable(MakeRotation(0, 0, 0, 1)).as_string(),
            S(kRepeat, "0,0,0,1"));
  Value original = MakeObject({{"abc", "abc"}});
  EXPECT_TRUE(
      StrictEquals(EnsureTagIsSerializable(MakeWrapper(original)), original));
  EXPECT_TRUE(EnsureTagIsSerializable(Value(nullptr)).is_null());
  Value plain = MakeObject({{"inner", MakeWrapper(original)}});
  EXPECT_TRUE(StrictEquals(EnsureTagIsSerializable(plain), plain));
  Value fn = MakeFunction("f");
  EXPECT_TRUE(StrictEquals(EnsureTagIsSerializable(fn), fn));
}

// --- Runtime value formats (node + luxon 3 / aux-common 3.10.5) ---

TEST(RuntimeValues, DateTimeFormats) {
  // formatBotDate(DateTime.fromMillis(1234, {zone})) for each zone.
  EXPECT_EQ(EnsureTagIsSerializable(MakeDateTime(1234, "UTC+0")).as_string(),
            S(kCalendar, "1970-01-01T00:00:01.234Z"));
  EXPECT_EQ(EnsureTagIsSerializable(MakeDateTime(1234, "utc")).as_string(),
            S(kCalendar, "1970-01-01T00:00:01.234Z"));
  EXPECT_EQ(EnsureTagIsSerializable(MakeDateTime(1234, "Africa/Abidjan", 0))
                .as_string(),
            S(kCalendar, "1970-01-01T00:00:01.234+00:00 Africa/Abidjan"));
  EXPECT_EQ(
      EnsureTagIsSerializable(MakeDateTime(1234, "UTC-05:30")).as_string(),
      S(kCalendar, "1969-12-31T18:30:01.234-05:30"));
  EXPECT_EQ(EnsureTagIsSerializable(MakeDateTime(1234, "Asia/Kolkata", 330))
                .as_string(),
            S(kCalendar, "1970-01-01T05:30:01.234+05:30 Asia/Kolkata"));
  EXPECT_EQ(EnsureTagIsSerializable(MakeDateTime(1234, "Etc/GMT+2", -120))
                .as_string(),
            S(kCalendar, "1969-12-31T22:00:01.234-02:00 Etc/GMT+2"));
  // DateTime.fromMillis(0, {zone:'UTC+2'}) / ({zone:'local'}) on a UTC host.
  EXPECT_EQ(EnsureTagIsSerializable(MakeDateTime(0, "UTC+2")).as_string(),
            S(kCalendar, "1970-01-01T02:00:00+02:00"));
  EXPECT_EQ(EnsureTagIsSerializable(MakeDateTime(0, "local", 0)).as_string(),
            S(kCalendar, "1970-01-01T00:00:00+00:00 local"));
  EXPECT_EQ(EnsureTagIsSerializable(MakeDateTime(-1, "UTC")).as_string(),
            S(kCalendar, "1969-12-31T23:59:59.999Z"));
  // Extended years: Date.UTC(-5,0,1) and Date.UTC(12345,0,1).
  EXPECT_EQ(
      EnsureTagIsSerializable(MakeDateTime(-62324985600000, "UTC")).as_string(),
      S(kCalendar, "-000005-01-01T00:00:00Z"));
  EXPECT_EQ(
      EnsureTagIsSerializable(MakeDateTime(327403382400000, "UTC")).as_string(),
      S(kCalendar, "+012345-01-01T00:00:00Z"));
  // Fractional milliseconds are truncated: fromMillis(1000.5) -> ...01Z.
  EXPECT_EQ(EnsureTagIsSerializable(MakeDateTime(1000.5, "UTC")).as_string(),
            S(kCalendar, "1970-01-01T00:00:01Z"));
  // JSON.stringify(DateTime) = toISO() with milliseconds.
  EXPECT_EQ(ToJson(MakeDateTime(k2012, "UTC")),
            R"("2012-11-13T14:15:16.000Z")");
}

TEST(RuntimeValues, DateIsoStrings) {
  // new Date(x).toISOString()
  EXPECT_EQ(ToJson(MakeDate(-1)), R"("1969-12-31T23:59:59.999Z")");
  EXPECT_EQ(ToJson(MakeDate(8.64e15)), R"("+275760-09-13T00:00:00.000Z")");
  EXPECT_EQ(ToJson(MakeDate(-8.64e15)), R"("-271821-04-20T00:00:00.000Z")");
  EXPECT_EQ(ToJson(MakeDate(253402300800000)),
            R"("+010000-01-01T00:00:00.000Z")");
  EXPECT_EQ(ToJson(MakeDate(8.64e15 + 1)), "null");
  EXPECT_EQ(ToJson(MakeDate(INFINITY)), "null");
}

TEST(RuntimeValues, VectorAndRotationFormatsUseJsNumbers) {
  // `➡️${x},${y}` with x = 0.1 + 0.2, y = 1e21
  EXPECT_EQ(EnsureTagIsSerializable(MakeVector2(0.1 + 0.2, 1e21)).as_string(),
            S(kArrow, "0.30000000000000004,1e+21"));
  // new Rotation({axis: new Vector3(0,0,1), angle: Math.PI/2}):
  // 🔁0,0,0.7071067811865475,0.7071067811865476
  EXPECT_EQ(EnsureTagIsSerializable(
                MakeRotation(0, 0, 0.7071067811865475, 0.7071067811865476))
                .as_string(),
            S(kRepeat, "0,0,0.7071067811865475,0.7071067811865476"));
  EXPECT_EQ(
      ToJson(MakeRotation(0, 0, 0.7071067811865475, 0.7071067811865476)),
      R"({"_q":{"x":0,"y":0,"z":0.7071067811865475,"w":0.7071067811865476}})");
  EXPECT_EQ(ToJson(MakeVector3(1, 2, 3)), R"({"x":1,"y":2,"z":3})");
}

}  // namespace
}  // namespace auxsync::bots
