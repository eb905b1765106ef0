#include "auxsync/bots/state_updated_event.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "auxsync/bots/bot.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/tag_edit.h"

namespace auxsync::bots {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Json(const Value& v) { return ToJson(v); }
std::string Tagged(const Value& v) { return ToJson(v, {.tagged = true}); }

Value Bot(std::string_view id, Value tags) { return CreateBot(id, tags); }

// createPrecalculatedBot(id, values): tags and values are the same object.
Value PrecalcBot(std::string_view id, Value values = Value::NewObject()) {
  return MakeObject({{"id", id},
                     {"precalculated", true},
                     {"tags", values},
                     {"values", values}});
}

// edit({a:1}, ops...), as the upstream tests write it.
Value E(std::vector<Value> ops) { return Edit(MakeObject({{"a", 1}}), ops); }

// --- stateUpdatedEvent ---

TEST(StateUpdatedEvent, A7_AddedBotListedInAddedBots) {
  Value state = MakeObject({{"test", Bot("test", MakeObject({}))}});
  StateUpdatedEvent e = MakeStateUpdatedEvent(state);
  EXPECT_THAT(e.added_bots, ElementsAre("test"));
  EXPECT_THAT(e.removed_bots, IsEmpty());
  EXPECT_THAT(e.updated_bots, IsEmpty());
  EXPECT_TRUE(e.version.is_null());
  EXPECT_TRUE(StrictEquals(e.state, state));
  EXPECT_EQ(Json(e.ToValue()),
            R"({"addedBots":["test"],"removedBots":[],"updatedBots":[],)"
            R"("state":{"test":{"id":"test","tags":{}}},"version":null})");
}

TEST(StateUpdatedEvent, A8_NullListedInRemovedBots) {
  StateUpdatedEvent e =
      MakeStateUpdatedEvent(MakeObject({{"test", Value(nullptr)}}));
  EXPECT_THAT(e.added_bots, IsEmpty());
  EXPECT_THAT(e.removed_bots, ElementsAre("test"));
  EXPECT_THAT(e.updated_bots, IsEmpty());
  EXPECT_TRUE(e.version.is_null());
}

TEST(StateUpdatedEvent, A9_PartialListedInUpdatedBots) {
  StateUpdatedEvent e = MakeStateUpdatedEvent(MakeObject(
      {{"test", MakeObject({{"tags", MakeObject({{"abc", "def"}})}})}}));
  EXPECT_THAT(e.added_bots, IsEmpty());
  EXPECT_THAT(e.removed_bots, IsEmpty());
  EXPECT_THAT(e.updated_bots, ElementsAre("test"));
}

TEST(StateUpdatedEvent, A10_UndefinedIsInNoListButStaysInState) {
  StateUpdatedEvent e = MakeStateUpdatedEvent(MakeObject({{"test", Value()}}));
  EXPECT_THAT(e.added_bots, IsEmpty());
  EXPECT_THAT(e.removed_bots, IsEmpty());
  EXPECT_THAT(e.updated_bots, IsEmpty());
  EXPECT_TRUE(e.state.as_object().Has("test"));
}

TEST(StateUpdatedEvent, A11_VersionIsKept) {
  Value version =
      MakeObject({{"currentSite", "abc"},
                  {"remoteSite", "def"},
                  {"vector", MakeObject({{"abc", 123}, {"def", 345}})}});
  StateUpdatedEvent e = MakeStateUpdatedEvent(
      MakeObject({{"test", Bot("test", MakeObject({}))}}), version);
  EXPECT_TRUE(StrictEquals(e.version, version));
  EXPECT_EQ(
      Json(e.ToValue()["version"]),
      R"({"currentSite":"abc","remoteSite":"def","vector":{"abc":123,"def":345}})");
}

TEST(StateUpdatedEvent, ClassifiesInPropertyOrderWithJavaScriptRules) {
  // node: stateUpdatedEvent({b:null, '2':{id:'2'}, a:{tags:{}}, u:undefined,
  // e:'', z:0, f:false}) -> added ["2"], removed ["b"], updated ["a","z","f"]
  Value state = MakeObject({{"b", Value(nullptr)},
                            {"2", MakeObject({{"id", "2"}})},
                            {"a", MakeObject({{"tags", MakeObject({})}})},
                            {"u", Value()},
                            {"e", ""},
                            {"z", 0},
                            {"f", false}});
  StateUpdatedEvent e = MakeStateUpdatedEvent(state);
  EXPECT_THAT(e.added_bots, ElementsAre("2"));
  EXPECT_THAT(e.removed_bots, ElementsAre("b"));
  EXPECT_THAT(e.updated_bots, ElementsAre("a", "z", "f"));
}

TEST(StateUpdatedEvent, IndexKeysComeFirst) {
  // N1: bots "zz", "10", "2" -> addedBots ["2","10","zz"].
  Value state = Value::NewObject();
  for (const char* id : {"zz", "10", "2"}) {
    state.as_object().Set(id, Bot(id, MakeObject({})));
  }
  EXPECT_THAT(MakeStateUpdatedEvent(state).added_bots,
              ElementsAre("2", "10", "zz"));
}

TEST(StateUpdatedEvent, MatchingIdCountsAsAddedEvenForAnUpdate) {
  // N3: a partial with id equal to its key is "added".
  StateUpdatedEvent e =
      MakeStateUpdatedEvent(MakeObject({{"b", Bot("b", MakeObject({{"a", 2}}))},
                                        {"c", Bot("other", MakeObject({}))}}));
  EXPECT_THAT(e.added_bots, ElementsAre("b"));
  EXPECT_THAT(e.updated_bots, ElementsAre("c"));
}

// --- updatedBot ---

TEST(UpdatedBot, A12_TagsListedWithoutSignatures) {
  Value bot = Bot("test", MakeObject({}));
  UpdatedBot u = MakeUpdatedBot(
      MakeObject({{"tags", MakeObject({{"num", 456},
                                       {"newTag", true},
                                       {"abc", Value(nullptr)}})}}),
      bot);
  EXPECT_TRUE(StrictEquals(u.bot, bot));
  EXPECT_THAT(u.tags, ElementsAre("num", "newTag", "abc"));
  EXPECT_FALSE(u.signatures.has_value());
  // node: {"bot":{"id":"test","tags":{}},"tags":["num","newTag","abc"]}
  EXPECT_EQ(Json(u.ToValue()),
            R"({"bot":{"id":"test","tags":{}},"tags":["num","newTag","abc"]})");
}

TEST(UpdatedBot, A13_MaskTagsDeduplicatedAcrossSpaces) {
  Value space =
      MakeObject({{"abc", Value(nullptr)}, {"num", 456}, {"newTag", true}});
  UpdatedBot u = MakeUpdatedBot(
      MakeObject({{"masks",
                   MakeObject({{"first", space}, {"second", space.Clone()}})}}),
      Bot("test", MakeObject({})));
  EXPECT_THAT(u.tags, ElementsAre("abc", "num", "newTag"));
  EXPECT_FALSE(u.signatures.has_value());
}

TEST(UpdatedBot, A14_SignaturesListed) {
  UpdatedBot u = MakeUpdatedBot(
      MakeObject({{"signatures", MakeObject({{"abc", Value(nullptr)},
                                             {"num", "c"},
                                             {"newTag", "d"}})}}),
      Bot("test", MakeObject({})));
  ASSERT_TRUE(u.signatures.has_value());
  EXPECT_THAT(*u.signatures, ElementsAre("abc", "num", "newTag"));
  EXPECT_THAT(u.tags, IsEmpty());
  EXPECT_EQ(
      Json(u.ToValue()),
      R"({"bot":{"id":"test","tags":{}},"tags":[],"signatures":["abc","num","newTag"]})");
}

TEST(UpdatedBot, TagsThenMaskTagsInFirstSeenOrder) {
  // node: updatedBot({tags:{a,b}, masks:{s:{b,c}, t:{d,a}}, signatures:{}})
  // -> tags ["a","b","c","d"], no signatures.
  UpdatedBot u = MakeUpdatedBot(
      MakeObject(
          {{"tags", MakeObject({{"a", 1}, {"b", 2}})},
           {"masks", MakeObject({{"s", MakeObject({{"b", 1}, {"c", 1}})},
                                 {"t", MakeObject({{"d", 1}, {"a", 1}})}})},
           {"signatures", MakeObject({})}}),
      MakeObject({{"id", "x"}}));
  EXPECT_THAT(u.tags, ElementsAre("a", "b", "c", "d"));
  EXPECT_FALSE(u.signatures.has_value());
}

// --- applyUpdates ---

TEST(ApplyUpdates, A3_PrecalculatedBotsMergedAndRemoved) {
  StateUpdatedEvent e1 = MakeStateUpdatedEvent(
      MakeObject({{"user", PrecalcBot("user")}, {"bot", PrecalcBot("bot")}}));
  Value s1 = ApplyUpdates(Value(nullptr), e1);
  EXPECT_TRUE(StrictEquals(s1, e1.state));
  StateUpdatedEvent e2 = MakeStateUpdatedEvent(MakeObject(
      {{"test", PrecalcBot("test")},
       {"user", MakeObject({{"tags", MakeObject({{"abc", "def"}})},
                            {"values", MakeObject({{"abc", "def"}})}})},
       {"bot", Value(nullptr)}}));
  Value s2 = ApplyUpdates(s1, e2);
  // node output.
  EXPECT_EQ(
      Json(s2),
      R"({"user":{"id":"user","precalculated":true,"tags":{"abc":"def"},)"
      R"("values":{"abc":"def"}},"test":{"id":"test","precalculated":true,)"
      R"("tags":{},"values":{}}})");
}

TEST(ApplyUpdates, A4_NullTagAndValueDeleted) {
  Value state =
      MakeObject({{"test", PrecalcBot("test", MakeObject({{"abc", "def"}}))}});
  StateUpdatedEvent e = MakeStateUpdatedEvent(MakeObject(
      {{"test",
        MakeObject({{"values", MakeObject({{"abc", Value(nullptr)}})},
                    {"tags", MakeObject({{"abc", Value(nullptr)}})}})}}));
  EXPECT_EQ(
      Json(ApplyUpdates(state, e)),
      R"({"test":{"id":"test","precalculated":true,"tags":{},"values":{}}})");
}

TEST(ApplyUpdates, A5_NullSignatureRemovesEmptySignatures) {
  Value state = MakeObject(
      {{"test", MakeObject({{"id", "test"},
                            {"tags", MakeObject({})},
                            {"signatures", MakeObject({{"sig", "abc"}})}})}});
  StateUpdatedEvent e = MakeStateUpdatedEvent(MakeObject(
      {{"test",
        MakeObject({{"signatures", MakeObject({{"sig", Value(nullptr)}})}})}}));
  Value result = ApplyUpdates(state, e);
  EXPECT_EQ(Json(result), R"({"test":{"id":"test","tags":{}}})");
  EXPECT_FALSE(result["test"].as_object().Has("signatures"));
}

TEST(ApplyUpdates, A6_SignaturesAdded) {
  Value state = MakeObject({{"test", Bot("test", MakeObject({}))}});
  StateUpdatedEvent e = MakeStateUpdatedEvent(MakeObject(
      {{"test", MakeObject({{"signatures", MakeObject({{"sig", "abc"}})}})}}));
  EXPECT_EQ(Json(ApplyUpdates(state, e)),
            R"({"test":{"id":"test","tags":{},"signatures":{"sig":"abc"}}})");
}

TEST(ApplyUpdates, NullishOrFalsyStateReturnsEventStateItself) {
  StateUpdatedEvent e =
      MakeStateUpdatedEvent(MakeObject({{"a", Bot("a", MakeObject({}))}}));
  EXPECT_TRUE(StrictEquals(ApplyUpdates(Value(), e), e.state));
  EXPECT_TRUE(StrictEquals(ApplyUpdates(Value(nullptr), e), e.state));
  EXPECT_TRUE(StrictEquals(ApplyUpdates(Value(0), e), e.state));
  // A truthy (even empty) state goes through Apply: a new object.
  Value applied = ApplyUpdates(Value::NewObject(), e);
  EXPECT_FALSE(StrictEquals(applied, e.state));
  EXPECT_TRUE(DeepEquals(applied, e.state));
}

// --- apply ---

TEST(Apply, B1_NewBotEqualsUpdate) {
  Value update = MakeObject({{"test", Bot("test", MakeObject({}))}});
  Value state = Value::NewObject();
  Value result = Apply(state, update);
  EXPECT_TRUE(DeepEquals(result, update));
  EXPECT_FALSE(StrictEquals(result, state));
  EXPECT_TRUE(state.as_object().empty());
  // The stored bot is a copy of the update's entry.
  EXPECT_FALSE(StrictEquals(result["test"], update["test"]));
}

TEST(Apply, B2_EditOnNewBotAppliedToEmptyString) {
  Value result = Apply(
      Value::NewObject(),
      MakeObject(
          {{"test",
            MakeObject(
                {{"tags", MakeObject({{"abc", Edit(MakeObject({}),
                                                   {Insert("def")})}})}})}}));
  EXPECT_EQ(Json(result), R"({"test":{"tags":{"abc":"def"}}})");
}

TEST(Apply, B3_MaskEditOnNewBotAppliedToEmptyString) {
  Value result = Apply(
      Value::NewObject(),
      MakeObject(
          {{"test",
            MakeObject(
                {{"masks",
                  MakeObject(
                      {{"space",
                        MakeObject({{"abc", Edit(MakeObject({}),
                                                 {Insert("def")})}})}})}})}}));
  EXPECT_EQ(Json(result), R"({"test":{"masks":{"space":{"abc":"def"}}}})");
}

TEST(Apply, B4_TagsMerged) {
  Value result =
      Apply(MakeObject({{"test", Bot("test", MakeObject({{"abc", "def"}}))}}),
            MakeObject({{"test", Bot("test", MakeObject({{"def", "ghi"}}))}}));
  EXPECT_EQ(Json(result),
            R"({"test":{"id":"test","tags":{"abc":"def","def":"ghi"}}})");
}

TEST(Apply, B5_OverwritesTagValue) {
  Value result = Apply(
      MakeObject({{"test", Bot("test", MakeObject({{"abc", "def"}}))}}),
      MakeObject(
          {{"test", MakeObject({{"tags", MakeObject({{"abc", 123}})}})}}));
  EXPECT_EQ(Json(result), R"({"test":{"id":"test","tags":{"abc":123}}})");
}

TEST(Apply, B6_ReplacesArrays) {
  Value result = Apply(
      MakeObject(
          {{"test", Bot("test", MakeObject({{"abc", MakeArray({1, 2, 3})}}))}}),
      MakeObject(
          {{"test",
            MakeObject(
                {{"tags", MakeObject({{"abc", MakeArray({3, 2, 1})}})}})}}));
  EXPECT_EQ(Json(result), R"({"test":{"id":"test","tags":{"abc":[3,2,1]}}})");
}

TEST(Apply, B7_ReplacesObjects) {
  Value result = Apply(
      MakeObject(
          {{"test",
            Bot("test", MakeObject({{"abc", MakeObject({{"def", 1}})}}))}}),
      MakeObject(
          {{"test",
            MakeObject({{"tags",
                         MakeObject({{"abc", MakeObject({{"ghi", 2}})}})}})}}));
  EXPECT_EQ(Json(result), R"({"test":{"id":"test","tags":{"abc":{"ghi":2}}}})");
}

TEST(Apply, B8_NullDeletesTag) {
  Value result = Apply(
      MakeObject({{"test", Bot("test", MakeObject({{"abc", "def"}}))}}),
      MakeObject(
          {{"test",
            MakeObject({{"tags", MakeObject({{"abc", Value(nullptr)}})}})}}));
  EXPECT_EQ(Json(result), R"({"test":{"id":"test","tags":{}}})");
}

TEST(Apply, B9_NewBotWithNullTagHasEmptyTags) {
  Value result = Apply(
      Value::NewObject(),
      MakeObject(
          {{"test", Bot("test", MakeObject({{"abc", Value(nullptr)}}))}}));
  EXPECT_EQ(Json(result), R"({"test":{"id":"test","tags":{}}})");
}

Value ApplyTagUpdate(Value current, Value update) {
  Value result = Apply(
      MakeObject({{"test", Bot("test", MakeObject({{"abc", current}}))}}),
      MakeObject(
          {{"test", MakeObject({{"tags", MakeObject({{"abc", update}})}})}}));
  return result["test"];
}

TEST(Apply, B10_EditsInsertIntoTag) {
  EXPECT_EQ(
      ApplyTagUpdate("def", E({Preserve(3), Insert("ghi")}))["tags"]["abc"]
          .as_string(),
      "defghi");
  EXPECT_EQ(
      ApplyTagUpdate("def", E({Insert("ghi")}))["tags"]["abc"].as_string(),
      "ghidef");
  EXPECT_EQ(
      ApplyTagUpdate("def", E({Preserve(1), Insert("ghi")}))["tags"]["abc"]
          .as_string(),
      "dghief");
}

TEST(Apply, B11_EditsDeleteFromTag) {
  EXPECT_EQ(ApplyTagUpdate("def", E({Preserve(1), Del(2)}))["tags"]["abc"]
                .as_string(),
            "d");
  EXPECT_EQ(ApplyTagUpdate("def", E({Del(2)}))["tags"]["abc"].as_string(), "f");
  EXPECT_EQ(ApplyTagUpdate("def", E({Preserve(1), Del(1)}))["tags"]["abc"]
                .as_string(),
            "df");
}

TEST(Apply, B12_MixedEdit) {
  EXPECT_EQ(ApplyTagUpdate("def", E({Preserve(1), Del(1), Insert("a"),
                                     Preserve(1), Insert("b")}))["tags"]["abc"]
                .as_string(),
            "dafb");
}

TEST(Apply, B13_LookAlikeMarkerIsAPlainValue) {
  Value fake = MakeObject({{"cqtag_edit", true}});
  Value bot = ApplyTagUpdate("def", fake);
  EXPECT_TRUE(StrictEquals(bot["tags"]["abc"], fake));
}

TEST(Apply, B14_EditOnMissingTag) {
  Value result = Apply(
      MakeObject({{"test", Bot("test", MakeObject({}))}}),
      MakeObject(
          {{"test",
            MakeObject(
                {{"tags", MakeObject({{"abc", E({Insert("ghi")})}})}})}}));
  EXPECT_EQ(Json(result), R"({"test":{"id":"test","tags":{"abc":"ghi"}}})");
}

TEST(Apply, B15_EditToEmptyRemovesTag) {
  Value bot = ApplyTagUpdate("def", E({Del(3)}));
  EXPECT_EQ(Json(bot), R"({"id":"test","tags":{}})");
}

Value MaskBot(Value abc) {
  return MakeObject(
      {{"id", "test"},
       {"tags", MakeObject({})},
       {"masks", MakeObject({{"shared", MakeObject({{"abc", abc}})}})}});
}

Value ApplyMaskUpdate(Value current, Value update) {
  Value result = Apply(
      MakeObject({{"test", MaskBot(current)}}),
      MakeObject(
          {{"test",
            MakeObject(
                {{"masks", MakeObject({{"shared",
                                        MakeObject({{"abc", update}})}})}})}}));
  return result["test"];
}

TEST(Apply, B16_MasksMergedAndReplaced) {
  Value result = Apply(
      MakeObject({{"test", MaskBot("def")}}),
      MakeObject(
          {{"test",
            MakeObject(
                {{"masks",
                  MakeObject({{"shared", MakeObject({{"def", "ghi"}})}})}})}}));
  EXPECT_EQ(Json(result["test"]["masks"]),
            R"({"shared":{"abc":"def","def":"ghi"}})");
  EXPECT_EQ(Json(ApplyMaskUpdate(MakeArray({1, 2, 3}), "haha")["masks"]),
            R"({"shared":{"abc":"haha"}})");
  EXPECT_EQ(Json(ApplyMaskUpdate(MakeArray({1, 2, 3}),
                                 MakeArray({3, 2, 1}))["masks"]),
            R"({"shared":{"abc":[3,2,1]}})");
  EXPECT_EQ(Json(ApplyMaskUpdate(MakeObject({{"def", 1}}),
                                 MakeObject({{"ghi", 2}}))["masks"]),
            R"({"shared":{"abc":{"ghi":2}}})");
}

TEST(Apply, B17_MaskEdits) {
  auto mask = [](Value update) {
    return ApplyMaskUpdate("def", update)["masks"]["shared"]["abc"].as_string();
  };
  EXPECT_EQ(mask(E({Preserve(3), Insert("ghi")})), "defghi");
  EXPECT_EQ(mask(E({Insert("ghi")})), "ghidef");
  EXPECT_EQ(mask(E({Preserve(1), Insert("ghi")})), "dghief");
  EXPECT_EQ(mask(E({Preserve(1), Del(2)})), "d");
  EXPECT_EQ(mask(E({Del(2)})), "f");
  EXPECT_EQ(mask(E({Preserve(1), Del(1)})), "df");
  EXPECT_EQ(
      mask(E({Preserve(1), Del(1), Insert("a"), Preserve(1), Insert("b")})),
      "dafb");
  // Deleting everything removes the mask, the space and the masks object.
  EXPECT_EQ(Json(ApplyMaskUpdate("def", E({Del(3)}))),
            R"({"id":"test","tags":{}})");
}

TEST(Apply, B18_NullSignatureDoesNotModifyUpdate) {
  Value update_entry =
      MakeObject({{"signatures", MakeObject({{"sig", Value(nullptr)}})}});
  Value update = MakeObject({{"test", update_entry}});
  Value with = MakeObject(
      {{"test", MakeObject({{"id", "test"},
                            {"tags", MakeObject({})},
                            {"signatures", MakeObject({{"sig", "abc"}})}})}});
  EXPECT_EQ(Json(Apply(with, update)), R"({"test":{"id":"test","tags":{}}})");
  EXPECT_EQ(Json(update), R"({"test":{"signatures":{"sig":null}}})");
  Value without = MakeObject({{"test", Bot("test", MakeObject({}))}});
  Value result = Apply(without, update);
  EXPECT_EQ(Json(result), R"({"test":{"id":"test","tags":{}}})");
  EXPECT_FALSE(result["test"].as_object().Has("signatures"));
  EXPECT_EQ(Json(update), R"({"test":{"signatures":{"sig":null}}})");
}

TEST(Apply, B19_NullRemovesBot) {
  Value result = Apply(MakeObject({{"test", Bot("test", MakeObject({}))}}),
                       MakeObject({{"test", Value(nullptr)}}));
  EXPECT_EQ(Json(result), "{}");
}

// --- apply: upstream quirks, each checked against aux-common 3.10.5 ---

TEST(Apply, AnyFalsyEntryRemovesTheBot) {
  // node: apply({x:bot}, {x:false, y:0, z:''}) -> {}
  Value result = Apply(MakeObject({{"x", Bot("x", MakeObject({}))}}),
                       MakeObject({{"x", false}, {"y", 0}, {"z", ""}}));
  EXPECT_EQ(Json(result), "{}");
  // An undefined entry too.
  EXPECT_EQ(Json(Apply(MakeObject({{"x", Bot("x", MakeObject({}))}}),
                       MakeObject({{"x", Value()}}))),
            "{}");
}

TEST(Apply, KeyPresentWithNullInStateIsNotANewBot) {
  // node: apply({test:null}, {test:{tags:{abc: edit({}, insert('x'))}}}): the
  // edit is applied to the edit object itself (the copied update's tag), as
  // the bot is not "new".
  Value result = Apply(
      MakeObject({{"test", Value(nullptr)}}),
      MakeObject(
          {{"test",
            MakeObject(
                {{"tags", MakeObject({{"abc", Edit(MakeObject({}),
                                                   {Insert("x")})}})}})}}));
  EXPECT_EQ(
      Json(result),
      R"({"test":{"tags":{"abc":"x{\"\\u0011tag_edit\":true,\"version\":{},)"
      R"(\"operations\":[[{\"type\":\"insert\",\"text\":\"x\"}]]}"}}})");
}

TEST(Apply, EmptySignaturesAndMasksRemovedEvenWhenNotUpdated) {
  // node: {id,tags:{},signatures:{}} + {tags:{a:1}} -> signatures removed;
  // the same for masks:{}; but an empty masks space stays unless updated.
  EXPECT_EQ(
      Json(Apply(
          MakeObject({{"test", MakeObject({{"id", "test"},
                                           {"tags", MakeObject({})},
                                           {"signatures", MakeObject({})}})}}),
          MakeObject(
              {{"test", MakeObject({{"tags", MakeObject({{"a", 1}})}})}}))),
      R"({"test":{"id":"test","tags":{"a":1}}})");
  EXPECT_EQ(
      Json(Apply(
          MakeObject({{"test", MakeObject({{"id", "test"},
                                           {"tags", MakeObject({})},
                                           {"masks", MakeObject({})}})}}),
          MakeObject(
              {{"test", MakeObject({{"tags", MakeObject({{"a", 1}})}})}}))),
      R"({"test":{"id":"test","tags":{"a":1}}})");
  EXPECT_EQ(
      Json(Apply(
          MakeObject(
              {{"test",
                MakeObject({{"id", "test"},
                            {"tags", MakeObject({})},
                            {"masks", MakeObject({{"s", MakeObject({})}})}})}}),
          MakeObject(
              {{"test", MakeObject({{"tags", MakeObject({{"a", 1}})}})}}))),
      R"({"test":{"id":"test","tags":{"a":1},"masks":{"s":{}}}})");
}

TEST(Apply, NullTagDeletionAlsoDeletesFromSharedValuesOfThePreviousState) {
  // node: the previous state's `values` object is modified in place when the
  // update has no `values` of its own.
  Value values = MakeObject({{"abc", "def"}});
  Value state =
      MakeObject({{"test", MakeObject({{"id", "test"},
                                       {"tags", MakeObject({{"abc", "def"}})},
                                       {"values", values}})}});
  Value result = Apply(
      state,
      MakeObject(
          {{"test",
            MakeObject({{"tags", MakeObject({{"abc", Value(nullptr)}})}})}}));
  EXPECT_EQ(Json(result), R"({"test":{"id":"test","tags":{},"values":{}}})");
  EXPECT_EQ(Json(state),
            R"({"test":{"id":"test","tags":{"abc":"def"},"values":{}}})");
  EXPECT_TRUE(StrictEquals(result["test"]["values"], values));
}

TEST(Apply, UndefinedTagValueIsSetNotDeleted) {
  // node: {a:{x:1}} + {a:{tags:{x:undefined}}} -> tags {x: undefined}
  Value result =
      Apply(MakeObject({{"a", Bot("a", MakeObject({{"x", 1}}))}}),
            MakeObject(
                {{"a", MakeObject({{"tags", MakeObject({{"x", Value()}})}})}}));
  EXPECT_EQ(Tagged(result),
            R"({"a":{"id":"a","tags":{"x":{"$type":"undefined"}}}})");
  EXPECT_EQ(Json(result), R"({"a":{"id":"a","tags":{}}})");
}

TEST(Apply, ResultKeyOrderFollowsJavaScript) {
  // node: apply({}, {b, '2', a}) -> keys 2, b, a
  Value result =
      Apply(Value::NewObject(), MakeObject({{"b", Bot("b", MakeObject({}))},
                                            {"2", Bot("2", MakeObject({}))},
                                            {"a", Bot("a", MakeObject({}))}}));
  EXPECT_THAT(result.as_object().Keys(), ElementsAre("2", "b", "a"));
  // node: tags {'10':1, b:2, '2':3} on an existing bot -> {"2":3,"10":1,"b":2}
  Value tagged = Apply(
      MakeObject({{"t", Bot("t", MakeObject({}))}}),
      MakeObject(
          {{"t",
            MakeObject(
                {{"tags", MakeObject({{"10", 1}, {"b", 2}, {"2", 3}})}})}}));
  EXPECT_EQ(Json(tagged), R"({"t":{"id":"t","tags":{"2":3,"10":1,"b":2}}})");
  // node: {id, masks} + {tags:{b:1}} -> tags appended after masks.
  Value appended = Apply(
      MakeObject(
          {{"test",
            MakeObject(
                {{"id", "test"},
                 {"masks", MakeObject({{"s", MakeObject({{"a", 1}})}})}})}}),
      MakeObject({{"test", MakeObject({{"tags", MakeObject({{"b", 1}})}})}}));
  EXPECT_EQ(Json(appended),
            R"({"test":{"id":"test","masks":{"s":{"a":1}},"tags":{"b":1}}})");
}

TEST(Apply, MiscellaneousShapes) {
  // node: values merged in; signatures merged with nulls removed.
  EXPECT_EQ(
      Json(Apply(
          MakeObject({{"test", Bot("test", MakeObject({{"a", 1}}))}}),
          MakeObject(
              {{"test", MakeObject({{"values", MakeObject({{"a", 2}})}})}}))),
      R"({"test":{"id":"test","tags":{"a":1},"values":{"a":2}}})");
  EXPECT_EQ(
      Json(Apply(
          MakeObject({{"test", Bot("test", MakeObject({{"a", 1}}))}}),
          MakeObject({{"test",
                       MakeObject({{"signatures",
                                    MakeObject({{"s", "a"},
                                                {"t", Value(nullptr)}})}})}}))),
      R"({"test":{"id":"test","tags":{"a":1},"signatures":{"s":"a"}}})");
  // node: full bot update with a null tag and an edit on a new tag.
  EXPECT_EQ(
      Json(Apply(
          MakeObject({{"test", Bot("test", MakeObject({{"a", 1}, {"b", 2}}))}}),
          MakeObject(
              {{"test", Bot("test", MakeObject({{"a", Value(nullptr)},
                                                {"c", E({Insert("x")})}}))}}))),
      R"({"test":{"id":"test","tags":{"b":2,"c":"x"}}})");
  // node: edits to tags and masks of an existing bot.
  EXPECT_EQ(
      Json(Apply(
          MakeObject({{"test", Bot("test", MakeObject({{"a", "abc"}}))}}),
          MakeObject(
              {{"test",
                MakeObject(
                    {{"tags",
                      MakeObject({{"a", E({Preserve(1), Insert("X")})}})},
                     {"masks",
                      MakeObject(
                          {{"s",
                            MakeObject({{"m", E({Insert("Y")})}})}})}})}}))),
      R"({"test":{"id":"test","tags":{"a":"aXbc"},"masks":{"s":{"m":"Y"}}}})");
  // node: a new partial entry with a null tag -> {tags:{}}.
  EXPECT_EQ(
      Json(Apply(
          Value::NewObject(),
          MakeObject(
              {{"test",
                MakeObject(
                    {{"tags", MakeObject({{"abc", Value(nullptr)}})}})}}))),
      R"({"test":{"tags":{}}})");
  // node: a truthy non-object entry in the state is replaced by a copy of
  // the update: apply({t:5}, {t:{tags:{a:1}}}) -> {t:{tags:{a:1}}}
  EXPECT_EQ(
      Json(Apply(
          MakeObject({{"t", 5}}),
          MakeObject({{"t", MakeObject({{"tags", MakeObject({{"a", 1}})}})}}))),
      R"({"t":{"tags":{"a":1}}})");
}

TEST(Apply, NeverModifiesTheUpdateOrTheStateObjects) {
  Value bot = Bot("test", MakeObject({{"a", 1}}));
  bot.as_object().Set("masks", MakeObject({{"s", MakeObject({{"m", 1}})}}));
  Value state =
      MakeObject({{"test", bot}, {"other", Bot("other", MakeObject({}))}});
  Value state_copy = state.Clone();
  Value update = MakeObject(
      {{"test",
        MakeObject(
            {{"tags",
              MakeObject({{"a", Value(nullptr)}, {"b", E({Insert("x")})}})},
             {"masks",
              MakeObject({{"s", MakeObject({{"m", Value(nullptr)}})}})}})},
       {"new", MakeObject({{"id", "new"},
                           {"tags", MakeObject({{"q", E({Insert("y")})}})}})}});
  Value update_copy = update.Clone();
  Value result = Apply(state, update);
  EXPECT_TRUE(DeepEquals(state, state_copy));
  EXPECT_TRUE(DeepEquals(update, update_copy));
  EXPECT_EQ(
      Json(result),
      R"({"test":{"id":"test","tags":{"b":"x"}},"other":{"id":"other","tags":{}},)"
      R"("new":{"id":"new","tags":{"q":"y"}}})");
  // Untouched bots are shared with the previous state.
  EXPECT_TRUE(StrictEquals(result["other"], state["other"]));
}

}  // namespace
}  // namespace auxsync::bots
