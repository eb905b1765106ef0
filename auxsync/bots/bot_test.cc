#include "auxsync/bots/bot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "auxsync/bots/json.h"
#include "auxsync/bots/runtime_values.h"
#include "auxsync/bots/version.h"

namespace auxsync::bots {
namespace {

using ::testing::ElementsAre;

TEST(HasValue, A1_FalseOnlyForEmptyStringNullUndefined) {
  EXPECT_FALSE(HasValue(Value("")));
  EXPECT_FALSE(HasValue(Value(nullptr)));
  EXPECT_FALSE(HasValue(Value()));
  EXPECT_TRUE(HasValue(Value(true)));
  EXPECT_TRUE(HasValue(Value(false)));
  EXPECT_TRUE(HasValue(Value(0)));
  EXPECT_TRUE(HasValue(Value(-0.0)));
  EXPECT_TRUE(HasValue(Value(-INFINITY)));
  EXPECT_TRUE(HasValue(Value(INFINITY)));
  EXPECT_TRUE(HasValue(Value(NAN)));
  EXPECT_TRUE(HasValue(Value("abc")));
  EXPECT_TRUE(HasValue(Value::NewObject()));
  EXPECT_TRUE(HasValue(Value(" ")));
  EXPECT_TRUE(HasValue(Value::NewArray()));
}

TEST(ConvertToString, A2_ConvertsPrimitivesAndDates) {
  EXPECT_EQ(ConvertToString(Value("")), "");
  EXPECT_EQ(ConvertToString(Value(nullptr)), "");
  EXPECT_EQ(ConvertToString(Value()), "");
  EXPECT_EQ(ConvertToString(Value(true)), "true");
  EXPECT_EQ(ConvertToString(Value(false)), "false");
  EXPECT_EQ(ConvertToString(Value(0)), "0");
  EXPECT_EQ(ConvertToString(Value(-0.0)), "0");
  EXPECT_EQ(ConvertToString(Value(-INFINITY)), "-Infinity");
  EXPECT_EQ(ConvertToString(Value(INFINITY)), "Infinity");
  EXPECT_EQ(ConvertToString(Value(NAN)), "NaN");
  EXPECT_EQ(ConvertToString(Value("abc")), "abc");
  // new Date(Date.UTC(2021, 10, 16, 14, 32, 14)) = 1637073134000 ms.
  EXPECT_EQ(ConvertToString(MakeDate(1637073134000)),
            "2021-11-16T14:32:14.000Z");
}

TEST(ConvertToString, ObjectsAndArraysAsCompactJson) {
  EXPECT_EQ(ConvertToString(MakeObject({{"prop", "yes"}})),
            R"({"prop":"yes"})");
  EXPECT_EQ(ConvertToString(MakeArray({1, "a", Value(nullptr), NAN})),
            R"([1,"a",null,null])");
  EXPECT_EQ(ConvertToString(MakeObject({{"b", 1}, {"1", Value()}})),
            R"({"b":1})");
  EXPECT_EQ(ConvertToString(Value(1e21)), "1e+21");
  // JSON.stringify(new Vector2(1,2)) / (new Rotation())
  EXPECT_EQ(ConvertToString(MakeVector2(1, 2)), R"({"x":1,"y":2})");
  EXPECT_EQ(ConvertToString(MakeRotation(0, 0, 0, 1)),
            R"({"_q":{"x":0,"y":0,"z":0,"w":1}})");
  EXPECT_EQ(ConvertToString(MakeDate(NAN)), "Invalid Date");
}

TEST(CreateBot, A18_SpaceOnlyWhenItHasAValue) {
  Value bot = CreateBot("id");
  EXPECT_EQ(ToJson(bot), R"({"id":"id","tags":{}})");
  EXPECT_FALSE(bot.as_object().Has("space"));
  Value local = CreateBot("id", Value::NewObject(), Value("local"));
  EXPECT_EQ(ToJson(local), R"({"id":"id","tags":{},"space":"local"})");
  EXPECT_FALSE(
      CreateBot("id", Value::NewObject(), Value("")).as_object().Has("space"));
  EXPECT_FALSE(CreateBot("id", Value::NewObject(), Value(nullptr))
                   .as_object()
                   .Has("space"));
}

TEST(CreateBot, KeepsTheGivenTagsObject) {
  Value tags = MakeObject({{"a", 1}});
  Value bot = CreateBot("b", tags);
  EXPECT_TRUE(StrictEquals(bot["tags"], tags));
  // `tags = {}` is only a default for undefined; null stays null.
  EXPECT_TRUE(CreateBot("b", Value(nullptr))["tags"].is_null());
}

TEST(CreateBot, WithoutIdUsesANewUuid) {
  Value a = CreateBot();
  Value b = CreateBot();
  ASSERT_TRUE(a["id"].is_string());
  EXPECT_EQ(a["id"].as_string().size(), 36u);
  EXPECT_NE(a["id"].as_string(), b["id"].as_string());
  EXPECT_EQ(ToJson(a["tags"]), "{}");
}

TEST(NewUuid, IsLowerCaseVersion4) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuid();
    ASSERT_EQ(id.size(), 36u);
    for (size_t k = 0; k < id.size(); ++k) {
      if (k == 8 || k == 13 || k == 18 || k == 23) {
        ASSERT_EQ(id[k], '-') << id;
      } else {
        ASSERT_TRUE((id[k] >= '0' && id[k] <= '9') ||
                    (id[k] >= 'a' && id[k] <= 'f'))
            << id;
      }
    }
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' ||
                id[19] == 'b')
        << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(BotConstants, SpacesAndBranches) {
  EXPECT_THAT(TagMaskSpacePriorities(),
              ElementsAre("tempLocal", "local", "tempShared",
                          "remoteTempShared", "shared", "admin"));
  EXPECT_EQ(kDefaultTagMaskSpace, "tempLocal");
  EXPECT_EQ(kAdminBranchName, "$admin");
  EXPECT_EQ(PlayerBranchName("myInst", "conn1"), "myInst-player-conn1");
}

TEST(GetActiveObjects, ValuesInPropertyOrder) {
  Value a = CreateBot("a"), b = CreateBot("2");
  Value state = MakeObject({{"a", a}, {"2", b}});
  std::vector<Value> values = GetActiveObjects(state);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_TRUE(StrictEquals(values[0], b));
  EXPECT_TRUE(StrictEquals(values[1], a));
  EXPECT_TRUE(GetActiveObjects(Value()).empty());
}

TEST(CurrentVersion, ToValueAndBack) {
  CurrentVersion v;
  v.current_site = "abc";
  v.vector = MakeObject({{"abc", 123}, {"9", 4}});
  Value value = v.ToValue();
  EXPECT_EQ(
      ToJson(value),
      R"({"currentSite":"abc","remoteSite":null,"vector":{"9":4,"abc":123}})");
  EXPECT_TRUE(StrictEquals(value["vector"], v.vector));
  CurrentVersion back = CurrentVersion::FromValue(value);
  EXPECT_EQ(back.current_site, "abc");
  EXPECT_EQ(back.remote_site, std::nullopt);
  EXPECT_TRUE(DeepEquals(back.vector, v.vector));
  CurrentVersion bad = CurrentVersion::FromValue(
      MakeObject({{"currentSite", 5}, {"vector", "x"}}));
  EXPECT_EQ(bad.current_site, std::nullopt);
  EXPECT_EQ(ToJson(bad.vector), "{}");
  EXPECT_EQ(
      CurrentVersion::FromValue(Value()).ToValue()["vector"].as_object().size(),
      0u);
}

}  // namespace
}  // namespace auxsync::bots
