#include "auxsync/bots/tag_edit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "auxsync/bots/json.h"
#include "auxsync/bots/runtime_values.h"

namespace auxsync::bots {
namespace {

using ::testing::HasSubstr;

Value V() { return Value::NewObject(); }

std::string Apply1(const Value& value, std::vector<Value> ops) {
  return ApplyEdit(value, Edit(V(), std::move(ops)));
}

TEST(TagEdit, BuildersProduceUpstreamShapes) {
  // node: JSON.stringify(edit({a:1}, preserve(1), insert('x'), del(2)))
  EXPECT_EQ(
      ToJson(Edit(MakeObject({{"a", 1}}), {Preserve(1), Insert("x"), Del(2)})),
      R"({"\u0011tag_edit":true,"version":{"a":1},"operations":[[)"
      R"({"type":"preserve","count":1},{"type":"insert","text":"x"},)"
      R"({"type":"delete","count":2}]]})");
  EXPECT_EQ(
      ToJson(RemoteEdit(V(), {Insert("x")})),
      R"({"\u0011tag_edit":true,"version":{},"operations":[[{"type":"insert","text":"x"}]],"isRemote":true})");
  EXPECT_EQ(
      ToJson(Edits(V(), {MakeArray({Insert("a")}), MakeArray({Del(1)})})),
      R"({"\u0011tag_edit":true,"version":{},"operations":[[{"type":"insert","text":"a"}],[{"type":"delete","count":1}]]})");
  EXPECT_EQ(ToJson(RemoteEdits(V(), {MakeArray({Insert("a")})})["isRemote"]),
            "true");
}

TEST(TagEdit, IsTagEditNeedsMarkerExactlyTrue) {
  EXPECT_TRUE(IsTagEdit(Edit(V(), {})));
  EXPECT_FALSE(IsTagEdit(MakeObject({{"\x11tag_edit", 1}})));
  EXPECT_FALSE(IsTagEdit(MakeObject({{"\x11tag_edit", "true"}})));
  EXPECT_FALSE(IsTagEdit(MakeObject({{"cqtag_edit", true}})));
  EXPECT_FALSE(IsTagEdit(Value(nullptr)));
  EXPECT_FALSE(IsTagEdit(Value("\x11tag_edit")));
  EXPECT_FALSE(IsTagEdit(MakeArray({})));
}

TEST(ApplyEdit, B20_AppliesToStringsAndConvertedValues) {
  EXPECT_EQ(Apply1("abc", {Preserve(3), Insert("def")}), "abcdef");
  EXPECT_EQ(Apply1("abc", {Insert("def")}), "defabc");
  EXPECT_EQ(Apply1("abc", {Preserve(1), Insert("def")}), "adefbc");
  EXPECT_EQ(Apply1(Value(), {Insert("def")}), "def");
  EXPECT_EQ(Apply1(Value(), {Insert("abc"), Insert("def")}), "abcdef");
  EXPECT_EQ(Apply1(Value(nullptr), {Insert("def")}), "def");
  EXPECT_EQ(Apply1(Value(nullptr), {Insert("abc"), Insert("def")}), "abcdef");
  EXPECT_EQ(Apply1("abc", {Preserve(2), Del(1)}), "ab");
  EXPECT_EQ(Apply1("abc", {Del(1)}), "bc");
  EXPECT_EQ(Apply1("abc", {Preserve(1), Del(1)}), "ac");
  EXPECT_EQ(Apply1(Value(123), {Preserve(1), Insert("abc")}), "1abc23");
  EXPECT_EQ(Apply1(Value(false), {Preserve(1), Insert("abc")}), "fabcalse");
  EXPECT_EQ(Apply1(MakeObject({{"prop", "yes"}}), {Preserve(1), Insert("abc")}),
            "{abc\"prop\":\"yes\"}");
}

TEST(ApplyTagEdit, B21_SameResultsAndNullForEmpty) {
  auto tag = [](const Value& value, std::vector<Value> ops) {
    return ApplyTagEdit(value, Edit(V(), std::move(ops)));
  };
  EXPECT_EQ(tag("abc", {Preserve(3), Insert("def")}).as_string(), "abcdef");
  EXPECT_EQ(tag("abc", {Insert("def")}).as_string(), "defabc");
  EXPECT_EQ(tag("abc", {Preserve(1), Insert("def")}).as_string(), "adefbc");
  EXPECT_EQ(tag(Value(), {Insert("def")}).as_string(), "def");
  EXPECT_EQ(tag(Value(nullptr), {Insert("abc"), Insert("def")}).as_string(),
            "abcdef");
  EXPECT_EQ(tag("abc", {Preserve(2), Del(1)}).as_string(), "ab");
  EXPECT_EQ(tag("abc", {Del(1)}).as_string(), "bc");
  EXPECT_EQ(tag("abc", {Preserve(1), Del(1)}).as_string(), "ac");
  EXPECT_EQ(tag(Value(123), {Preserve(1), Insert("abc")}).as_string(),
            "1abc23");
  EXPECT_EQ(tag(Value(false), {Preserve(1), Insert("abc")}).as_string(),
            "fabcalse");
  EXPECT_EQ(tag(MakeObject({{"prop", "yes"}}), {Preserve(1), Insert("abc")})
                .as_string(),
            "{abc\"prop\":\"yes\"}");
  EXPECT_TRUE(tag("abc", {Preserve(0), Del(3)}).is_null());
  EXPECT_TRUE(tag(Value(), {}).is_null());
}

TEST(ApplyEdit, SequencesApplyOneAfterAnother) {
  EXPECT_EQ(ApplyEdit("abcdefghijklmnop",
                      Edits(V(), {MakeArray({Preserve(3), Del(3)}),
                                  MakeArray({Preserve(6), Del(3)})})),
            "abcghimnop");
  EXPECT_EQ(ApplyEdit("abcdef",
                      Edits(V(), {MakeArray({Preserve(3), Insert("123")}),
                                  MakeArray({Preserve(9), Insert("456")})})),
            "abc123def456");
  // node: applyEdit('abc', {operations:[[P1,I'X'],[D1],[P2,I'Z']]}) -> "XbZc"
  EXPECT_EQ(
      ApplyEdit(
          "abc",
          MakeObject({{"operations",
                       MakeArray({MakeArray({Preserve(1), Insert("X")}),
                                  MakeArray({Del(1)}),
                                  MakeArray({Preserve(2), Insert("Z")})})}})),
      "XbZc");
}

TEST(ApplyEdit, JavaScriptSliceSemantics) {
  // Every expectation: node, applyEdit(value, edit({}, ...ops)).
  EXPECT_EQ(Apply1("abc", {Preserve(2), Del(-1)}), "abbc");
  EXPECT_EQ(Apply1("abc", {Preserve(10), Insert("X")}), "abcX");
  EXPECT_EQ(Apply1("abc", {Preserve(-1), Insert("X")}), "abXc");
  EXPECT_EQ(Apply1("abc", {Preserve(1.7), Insert("X")}), "aXbc");
  EXPECT_EQ(Apply1("abc", {Preserve(NAN), Insert("X")}), "Xabc");
  EXPECT_EQ(Apply1("abc", {Preserve(INFINITY), Insert("X")}), "abcX");
  EXPECT_EQ(Apply1("abc", {Preserve(-INFINITY), Insert("X")}), "Xabc");
  EXPECT_EQ(Apply1("abcdef", {Preserve(1), Del(-10)}), "aabcdef");
  EXPECT_EQ(Apply1("abcdef", {Preserve(4), Del(-2), Insert("Z")}), "abcdZcdef");
  EXPECT_EQ(
      Apply1("abc", {Preserve(1), Insert("X"), Preserve(-5), Insert("Y")}),
      "aYXbc");
  EXPECT_EQ(Apply1("abc", {Del(2.5)}), "c");
  EXPECT_EQ(Apply1("abc", {Del(1e300)}), "");
  EXPECT_EQ(Apply1("abc", {Preserve(1), Del(NAN)}), "aabc");
  EXPECT_EQ(Apply1(Value(-0.0), {Insert("X")}), "X0");
  EXPECT_EQ(Apply1(Value(1e21), {Preserve(1), Insert("X")}), "1Xe+21");
  EXPECT_EQ(Apply1(MakeArray({1, "a", Value(nullptr)}), {Insert("X")}),
            "X[1,\"a\",null]");
}

TEST(ApplyEdit, MalformedOpsBehaveAsUpstream) {
  // node: an op without count, and an unknown type, both take the delete
  // branch: 'abc' + [P1, {type:'delete'}] -> "aabc";
  // [P1, {type:'bogus', count:1}] -> "ac"; insert(5) -> "5abc".
  EXPECT_EQ(Apply1("abc", {Preserve(1), MakeObject({{"type", "delete"}})}),
            "aabc");
  EXPECT_EQ(Apply1("abc", {Preserve(1),
                           MakeObject({{"type", "bogus"}, {"count", 1}})}),
            "ac");
  EXPECT_EQ(Apply1("abc", {MakeObject({{"type", "insert"}, {"text", 5}})}),
            "5abc");
  // Non-arrays where JavaScript would throw are skipped.
  EXPECT_EQ(ApplyEdit("abc", MakeObject({{"operations", "x"}})), "abc");
  EXPECT_EQ(
      ApplyEdit(
          "abc",
          MakeObject({{"operations",
                       MakeArray({5, MakeArray({Value(nullptr), Del(1)})})}})),
      "bc");
}

TEST(ApplyEdit, CountsUtf16CodeUnits) {
  // node: applyEdit('a😀b', edit({}, preserve(2), insert('X')))
  //   -> "a\ud83dX\ude00b" (the pair is split)
  EXPECT_EQ(ToJson(Value(Apply1("a\xf0\x9f\x98\x80"
                                "b",
                                {Preserve(2), Insert("X")}))),
            R"("a\ud83dX\ude00b")");
  // node: 'a😀b' + [P1, D1] -> "a\ude00b"
  EXPECT_EQ(ToJson(Value(Apply1("a\xf0\x9f\x98\x80"
                                "b",
                                {Preserve(1), Del(1)}))),
            R"("a\ude00b")");
  // node: '日本語' + [P1, D1, I'😀'] -> "日😀語"
  EXPECT_EQ(Apply1("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
                   {Preserve(1), Del(1), Insert("\xf0\x9f\x98\x80")}),
            "\xe6\x97\xa5\xf0\x9f\x98\x80\xe8\xaa\x9e");
  // Non-ASCII text inserted into ASCII: positions after it count 2 units.
  EXPECT_EQ(
      Apply1("abc", {Preserve(1), Insert("\xf0\x9f\x98\x80"), Insert("X")}),
      "a\xf0\x9f\x98\x80Xbc");
  // Re-joining two halves of a pair makes a whole emoji again.
  Value split = Value(Apply1("\xf0\x9f\x98\x80", {Preserve(1), Insert("X")}));
  EXPECT_EQ(Apply1(split, {Preserve(1), Del(1)}), "\xf0\x9f\x98\x80");
}

TEST(TryApplyEdit, FailsBeyondTheLengthBound) {
  // [preserve to the end, delete -huge] repeats the whole text: each
  // sequence doubles it.
  std::vector<Value> sequences;
  for (int i = 0; i < 10; ++i) {
    sequences.push_back(MakeArray({Preserve(1e15), Del(-1e15)}));
  }
  Value doubling = Edits(V(), sequences);
  absl::StatusOr<std::string> r = TryApplyEdit("abc", doubling, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("operations[8][1]"));
  absl::StatusOr<std::string> fits = TryApplyEdit("abc", doubling, 3 << 10);
  ASSERT_TRUE(fits.ok());
  EXPECT_EQ(fits->size(), 3u << 10);
  EXPECT_EQ(fits->substr(0, 9), "abcabcabc");
  EXPECT_FALSE(
      TryApplyEdit("abc", Edit(V(), {Insert(std::string(2000, 'x'))}), 1000)
          .ok());
}

TEST(MergeEdits, B22_OperationsConcatenated) {
  Value merged =
      MergeEdits(Edit(V(), {Insert("abc")}), Edit(V(), {Insert("def")}));
  EXPECT_TRUE(DeepEquals(merged, Edits(V(), {MakeArray({Insert("abc")}),
                                             MakeArray({Insert("def")})})));
  EXPECT_FALSE(merged.as_object().Has("isRemote"));
}

TEST(MergeEdits, B23_VersionsMerged) {
  Value merged = MergeEdits(Edit(MakeObject({{"a", 1}}), {Insert("abc")}),
                            Edit(MakeObject({{"b", 2}}), {Insert("def")}));
  EXPECT_EQ(ToJson(merged["version"]), R"({"a":1,"b":2})");
}

TEST(MergeEdits, B24_RemoteWhenEitherIsRemote) {
  Value merged =
      MergeEdits(Edit(MakeObject({{"a", 1}}), {Insert("abc")}),
                 RemoteEdit(MakeObject({{"b", 2}}), {Insert("def")}));
  EXPECT_TRUE(merged["isRemote"].as_bool());
  // node: mergeEdits(edit({a:1,c:5},I'x'), remoteEdit({b:2,a:0,c:7},I'y'))
  EXPECT_EQ(
      ToJson(MergeEdits(Edit(MakeObject({{"a", 1}, {"c", 5}}), {Insert("x")}),
                        RemoteEdit(MakeObject({{"b", 2}, {"a", 0}, {"c", 7}}),
                                   {Insert("y")}))),
      R"({"\u0011tag_edit":true,"version":{"a":1,"c":7,"b":2},"operations":)"
      R"([[{"type":"insert","text":"x"}],[{"type":"insert","text":"y"}]],"isRemote":true})");
}

TEST(MergeVersions, MaxOfBothWithJavaScriptCoercions) {
  // node: mergeVersions({b:1,'9':2}, {a:3,'1':4,b:0}) ->
  // {"1":4,"9":2,"b":1,"a":3}
  EXPECT_EQ(ToJson(MergeVersions(MakeObject({{"b", 1}, {"9", 2}}),
                                 MakeObject({{"a", 3}, {"1", 4}, {"b", 0}}))),
            R"({"1":4,"9":2,"b":1,"a":3})");
  // node: mergeVersions({a:-0,b:NaN,c:'5',d:true}, {a:0,b:1,c:2,d:null,e:-1})
  //   -> {"a":0,"b":1,"c":5,"d":1,"e":0}
  Value merged = MergeVersions(
      MakeObject({{"a", -0.0}, {"b", NAN}, {"c", "5"}, {"d", true}}),
      MakeObject(
          {{"a", 0}, {"b", 1}, {"c", 2}, {"d", Value(nullptr)}, {"e", -1}}));
  EXPECT_EQ(ToJson(merged, {.tagged = true}),
            R"({"a":0,"b":1,"c":5,"d":1,"e":0})");
  // The first version is copied, not modified.
  Value a = MakeObject({{"x", 1}});
  MergeVersions(a, MakeObject({{"x", 5}}));
  EXPECT_EQ(a["x"].as_number(), 1);
  EXPECT_EQ(ToJson(MergeVersions(Value(), MakeObject({{"x", 5}}))),
            R"({"x":5})");
}

TEST(ValidateTagEdit, AcceptsWellFormedEdits) {
  EXPECT_TRUE(ValidateTagEdit(Edit(MakeObject({{"1", 3}}),
                                   {Preserve(1), Insert("x"), Del(-2)}),
                              "e")
                  .ok());
  EXPECT_TRUE(ValidateTagEdit(
                  RemoteEdits(V(), {MakeArray({}), MakeArray({Del(0)})}), "e")
                  .ok());
  Value no_version = Edit(V(), {});
  no_version.as_object().Erase("version");
  EXPECT_TRUE(ValidateTagEdit(no_version, "e").ok());
}

TEST(ValidateTagEdit, RejectsMalformedEditsNamingTheField) {
  auto error = [](const Value& edit) {
    absl::Status s = ValidateTagEdit(edit, "tags[\"abc\"]");
    EXPECT_FALSE(s.ok());
    return std::string(s.message());
  };
  EXPECT_THAT(error(MakeObject({{"operations", MakeArray({})}})),
              HasSubstr("not a tag edit"));
  Value e = Edit(V(), {});
  e.as_object().Set("operations", "x");
  EXPECT_THAT(error(e),
              HasSubstr("tags[\"abc\"].operations: must be an array"));
  EXPECT_THAT(error(Edits(V(), {Value(5)})),
              HasSubstr(".operations[0]: must be an array"));
  EXPECT_THAT(error(Edit(V(), {Preserve(1), Value(nullptr)})),
              HasSubstr(".operations[0][1]: must be an object"));
  EXPECT_THAT(error(Edit(V(), {MakeObject({{"type", "move"}})})),
              HasSubstr(".operations[0][0].type: unknown operation \"move\""));
  EXPECT_THAT(error(Edit(V(), {MakeObject({{"count", 1}})})),
              HasSubstr(".operations[0][0].type: must be a string"));
  EXPECT_THAT(error(Edit(V(), {Preserve(1.5)})),
              HasSubstr(".operations[0][0].count"));
  EXPECT_THAT(error(Edit(V(), {Del(NAN)})), HasSubstr(".count"));
  EXPECT_THAT(error(Edit(V(), {Del(INFINITY)})), HasSubstr(".count"));
  EXPECT_THAT(error(Edit(V(), {Del(1e300)})), HasSubstr(".count"));
  EXPECT_THAT(
      error(Edit(V(), {MakeObject({{"type", "delete"}, {"count", "1"}})})),
      HasSubstr(".count"));
  EXPECT_THAT(error(Edit(V(), {MakeObject({{"type", "insert"}, {"text", 5}})})),
              HasSubstr(".operations[0][0].text"));
  EXPECT_THAT(error(Edit(Value("v"), {})),
              HasSubstr(".version: must be an object"));
  EXPECT_THAT(error(Edit(MakeObject({{"s", "1"}}), {})),
              HasSubstr(".version[\"s\"]"));
  Value remote = Edit(V(), {});
  remote.as_object().Set("isRemote", 1);
  EXPECT_THAT(error(remote), HasSubstr(".isRemote: must be a boolean"));
}

}  // namespace
}  // namespace auxsync::bots
