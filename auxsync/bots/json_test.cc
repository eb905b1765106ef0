#include "auxsync/bots/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "auxsync/bots/runtime_values.h"

namespace auxsync::bots {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Value Parse(std::string_view text, JsonParseOptions options = {}) {
  absl::StatusOr<Value> v = ParseJson(text, options);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : Value();
}

std::string ParseError(std::string_view text, JsonParseOptions options = {}) {
  absl::StatusOr<Value> v = ParseJson(text, options);
  EXPECT_FALSE(v.ok()) << text;
  return v.ok() ? "" : std::string(v.status().message());
}

// Expected strings are JSON.stringify output from node v20.

TEST(ToJson, CompactWithPropertyOrder) {
  Value v = MakeObject(
      {{"a", MakeArray({1, MakeObject({{"b", MakeArray({})}}), "x"})},
       {"c", MakeObject({})}});
  EXPECT_EQ(ToJson(v), R"({"a":[1,{"b":[]},"x"],"c":{}})");
  Value ordered = MakeObject({{"b", 1}, {"2", 1}, {"a", 1}, {"1", 1}});
  EXPECT_EQ(ToJson(ordered), R"({"1":1,"2":1,"b":1,"a":1})");
}

TEST(ToJson, ControlCharactersAndEscapes) {
  // JSON.stringify("a\u0011b\u0000\u001f\"\\/\b\f\n\r\t")
  std::string s =
      "a\x11"
      "b";
  s += '\0';
  s += "\x1f\"\\/\b\f\n\r\t";
  EXPECT_EQ(ToJson(Value(s)), R"("a\u0011b\u0000\u001f\"\\/\b\f\n\r\t")");
  // The tag edit marker key.
  EXPECT_EQ(ToJson(MakeObject({{"\x11tag_edit", true}})),
            R"({"\u0011tag_edit":true})");
}

TEST(ToJson, NonAsciiWrittenRaw) {
  // JSON.stringify("\u007f\u0080é😀\u2028\u2029\ufeff") keeps them raw.
  std::string s =
      "\x7f\xc2\x80\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xa8\xe2\x80\xa9\xef\xbb"
      "\xbf";
  EXPECT_EQ(ToJson(Value(s)), "\"" + s + "\"");
}

TEST(ToJson, LoneSurrogatesEscaped) {
  // JSON.stringify("x\ud800y\udfffz\udbff") -> "x\ud800y\udfffz\udbff"
  std::string s = "x\xed\xa0\x80y\xed\xbf\xbfz\xed\xaf\xbf";
  EXPECT_EQ(ToJson(Value(s)), R"("x\ud800y\udfffz\udbff")");
  // Other U+Dxxx code points (not surrogates) stay raw: U+D7FF.
  EXPECT_EQ(ToJson(Value("\xed\x9f\xbf")), "\"\xed\x9f\xbf\"");
}

TEST(ToJson, NonFiniteAndUndefined) {
  // JSON.stringify({a:NaN,b:Infinity,c:-Infinity,d:-0,e:undefined,
  //                 f:[undefined,NaN,()=>1], g:()=>1})
  Value v = MakeObject({{"a", NAN},
                        {"b", INFINITY},
                        {"c", -INFINITY},
                        {"d", -0.0},
                        {"e", Value()},
                        {"f", MakeArray({Value(), NAN, MakeFunction("f")})},
                        {"g", MakeFunction("g")}});
  EXPECT_EQ(ToJson(v),
            R"({"a":null,"b":null,"c":null,"d":0,"f":[null,null,null]})");
  EXPECT_EQ(ToJson(Value()), "null");
}

TEST(ToJson, TaggedMode) {
  Value v = MakeObject({{"a", NAN},
                        {"b", INFINITY},
                        {"c", -INFINITY},
                        {"d", -0.0},
                        {"e", Value()},
                        {"f", MakeArray({Value(), 0.0})}});
  JsonWriteOptions tagged{.tagged = true};
  EXPECT_EQ(ToJson(v, tagged),
            R"({"a":{"$type":"number","value":"NaN"},)"
            R"("b":{"$type":"number","value":"Infinity"},)"
            R"("c":{"$type":"number","value":"-Infinity"},)"
            R"("d":{"$type":"number","value":"-0"},)"
            R"("e":{"$type":"undefined"},"f":[{"$type":"undefined"},0]})");
  // And back.
  Value back = Parse(ToJson(v, tagged), {.decode_tags = true});
  EXPECT_TRUE(DeepEquals(back, v));
}

TEST(ToJson, HostObjectsUseTheirJson) {
  // JSON.stringify(new Date(Date.UTC(2021,10,16,14,32,14)))
  EXPECT_EQ(ToJson(MakeDate(1637073134000)), R"("2021-11-16T14:32:14.000Z")");
  EXPECT_EQ(ToJson(MakeObject({{"d", MakeDate(NAN)}})), R"({"d":null})");
  // JSON.stringify(new Uint8Array([1,2])), new ArrayBuffer(2)
  EXPECT_EQ(ToJson(MakeBinary("Uint8Array", {1, 2})), R"({"0":1,"1":2})");
  EXPECT_EQ(ToJson(MakeBinary("ArrayBuffer", {1, 2})), "{}");
  // Error with an assigned response: {"response":{"status":1}}
  EXPECT_EQ(ToJson(MakeError("Error", "x", "", MakeObject({{"status", 1}}))),
            R"({"response":{"status":1}})");
  EXPECT_EQ(ToJson(MakeError("Error", "y")), "{}");
}

TEST(ParseJson, Values) {
  Value v = Parse(R"( {"a":[1,true,false,null,"s"],"b":{"c":-2.5e1}} )");
  EXPECT_EQ(ToJson(v), R"({"a":[1,true,false,null,"s"],"b":{"c":-25}})");
  // JSON.stringify(JSON.parse("[1E2, -0.5e-3, 0.000001, 1234...890]"))
  EXPECT_EQ(ToJson(Parse("[1E2, -0.5e-3, 0.000001, "
                         "123456789012345678901234567890]")),
            "[100,-0.0005,0.000001,1.2345678901234568e+29]");
  Value neg_zero = Parse("-0");
  EXPECT_TRUE(std::signbit(neg_zero.as_number()));
}

TEST(ParseJson, EscapesAndSurrogates) {
  // JSON.parse("\"\\ud83d\\ude00 \\u00e9 \\/ \\ud800x\"")
  Value v = Parse(R"("\ud83d\ude00 \u00e9 \/ \ud800x\n\t\"\\")");
  EXPECT_EQ(v.as_string(), "\xf0\x9f\x98\x80 \xc3\xa9 / \xed\xa0\x80x\n\t\"\\");
  // A lone low surrogate, and a high surrogate followed by a non-low escape.
  EXPECT_EQ(Parse(R"("\udc00")").as_string(), "\xed\xb0\x80");
  EXPECT_EQ(Parse(R"("\ud800\u0041")").as_string(),
            "\xed\xa0\x80"
            "A");
  // Round trip through the writer.
  EXPECT_EQ(ToJson(Parse(R"("\ud800x")")), R"("\ud800x")");
}

TEST(ParseJson, IndexKeysOrderedAsInJavaScript) {
  // JSON.stringify(JSON.parse('{"b":1,"2":1,"a":1,"1":1,"01":1,
  //   "4294967295":1,"4294967294":1}'))
  Value v = Parse(
      R"({"b":1,"2":1,"a":1,"1":1,"01":1,"4294967295":1,"4294967294":1})");
  EXPECT_EQ(
      ToJson(v),
      R"({"1":1,"2":1,"4294967294":1,"b":1,"a":1,"01":1,"4294967295":1})");
}

TEST(ParseJson, DuplicateKeysLastValueWinsAtFirstPosition) {
  // JSON.parse('{"a":1,"b":2,"a":3}') -> {a:3,b:2}, keys [a,b]
  Value v = Parse(R"({"a":1,"b":2,"a":3})");
  EXPECT_THAT(v.as_object().Keys(), ElementsAre("a", "b"));
  EXPECT_EQ(v["a"].as_number(), 3);
}

TEST(ParseJson, HugeExponents) {
  // JSON.parse('1e400') -> Infinity, '-1e400' -> -Infinity,
  // '1e-400' -> 0, '-1e-400' -> -0.
  EXPECT_EQ(Parse("1e400").as_number(), INFINITY);
  EXPECT_EQ(Parse("-1e400").as_number(), -INFINITY);
  EXPECT_EQ(Parse("1e-400").as_number(), 0.0);
  EXPECT_FALSE(std::signbit(Parse("1e-400").as_number()));
  EXPECT_EQ(Parse("-1e-400").as_number(), 0.0);
  EXPECT_TRUE(std::signbit(Parse("-1e-400").as_number()));
  EXPECT_EQ(Parse("[1e999999999999999999]").as_array().items[0].as_number(),
            INFINITY);
}

TEST(ParseJson, ErrorsNameTheByteOffset) {
  EXPECT_THAT(ParseError(R"({"a":})"), HasSubstr("at byte 5"));
  EXPECT_THAT(ParseError("[1,2"), HasSubstr("at byte 4"));
  EXPECT_THAT(ParseError(""), HasSubstr("at byte 0"));
  EXPECT_THAT(ParseError("  tru"), HasSubstr("at byte 2"));
  EXPECT_THAT(ParseError("[1] x"), HasSubstr("at byte 4"));
  EXPECT_THAT(ParseError(R"({"a" 1})"), HasSubstr("at byte 5"));
  EXPECT_THAT(ParseError(R"({a:1})"), HasSubstr("at byte 1"));
  EXPECT_THAT(ParseError(R"("ab\x")"), HasSubstr("at byte 4"));
  EXPECT_THAT(ParseError(R"("\u12G4")"), HasSubstr("at byte 5"));
  EXPECT_THAT(ParseError("\"abc"), HasSubstr("unterminated string"));
  EXPECT_THAT(ParseError("\"a\nb\""), HasSubstr("at byte 2"));
}

TEST(ParseJson, RejectsNonJsonSyntax) {
  for (const char* bad : {"01", "1.", ".5", "+1", "-", "1e", "1e+", "NaN",
                          "Infinity", "[1,]", "{\"a\":1,}", "'a'", "[1 2]",
                          "nul", "truex", "{\"a\":1}}", "\"\\u00\""}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
}

TEST(ParseJson, RejectsInvalidUtf8) {
  EXPECT_THAT(ParseError("\"a\x80\""), HasSubstr("UTF-8"));
  EXPECT_THAT(ParseError("\"\xc3\""), HasSubstr("UTF-8"));
  // Overlong encoding of '/'.
  EXPECT_THAT(ParseError("\"\xc0\xaf\""), HasSubstr("UTF-8"));
  // An encoded surrogate (WTF-8) is not valid UTF-8 input.
  EXPECT_THAT(ParseError("\"\xed\xa0\x80\""), HasSubstr("UTF-8"));
  // Beyond U+10FFFF.
  EXPECT_THAT(ParseError("\"\xf4\x90\x80\x80\""), HasSubstr("UTF-8"));
  // Invalid bytes in a key.
  EXPECT_THAT(ParseError("{\"\xff\":1}"), HasSubstr("UTF-8"));
  EXPECT_TRUE(ParseJson("\"\xf4\x8f\xbf\xbf\"").ok());
}

TEST(ParseJson, DepthLimit) {
  std::string ok(512, '[');
  ok += std::string(512, ']');
  EXPECT_TRUE(ParseJson(ok).ok());
  std::string deep(513, '[');
  deep += std::string(513, ']');
  EXPECT_THAT(ParseError(deep), HasSubstr("too deep"));
  // Far deeper input fails without recursing that deep.
  std::string very_deep(1000000, '[');
  EXPECT_THAT(ParseError(very_deep), HasSubstr("too deep"));
  std::string objects;
  for (int i = 0; i < 20; ++i) objects += R"({"a":)";
  objects += "1";
  objects += std::string(20, '}');
  EXPECT_TRUE(ParseJson(objects, {.max_depth = 20}).ok());
  EXPECT_FALSE(ParseJson(objects, {.max_depth = 19}).ok());
}

TEST(ParseJson, TaggedFormsOnlyWhenAsked) {
  const char* text =
      R"({"u":{"$type":"undefined"},"n":{"$type":"number","value":"NaN"},)"
      R"("x":{"$type":"number","value":"1"},"y":{"$type":"other"}})";
  Value plain = Parse(text);
  EXPECT_TRUE(plain["u"].is_object());
  Value decoded = Parse(text, {.decode_tags = true});
  EXPECT_TRUE(decoded.as_object().Has("u"));
  EXPECT_TRUE(decoded["u"].is_undefined());
  EXPECT_TRUE(std::isnan(decoded["n"].as_number()));
  EXPECT_TRUE(decoded["x"].is_object());  // not a known special number
  EXPECT_TRUE(decoded["y"].is_object());
}

}  // namespace
}  // namespace auxsync::bots
