#include "auxsync/bots/object_merge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auxsync/bots/json.h"
#include "auxsync/bots/runtime_values.h"

namespace auxsync::bots {
namespace {

using ::testing::ElementsAre;

// Expected JSON below is node's output for utils.js `merge`.

TEST(Merge, UnionOfKeysDeepMergesObjectsLastValueWinsOtherwise) {
  // merge({a:1, b:{x:1}, c:[1]}, {b:{y:2}, c:[2], d:undefined, '1':5,
  //        a:undefined}) ->
  //        {"1":5,"a":1,"b":{"x":1,"y":2},"c":[2],"d":undefined}
  Value a = MakeObject(
      {{"a", 1}, {"b", MakeObject({{"x", 1}})}, {"c", MakeArray({1})}});
  Value b = MakeObject({{"b", MakeObject({{"y", 2}})},
                        {"c", MakeArray({2})},
                        {"d", Value()},
                        {"1", 5},
                        {"a", Value()}});
  Value m = Merge(a, b);
  EXPECT_EQ(
      ToJson(m, {.tagged = true}),
      R"({"1":5,"a":1,"b":{"x":1,"y":2},"c":[2],"d":{"$type":"undefined"}})");
  EXPECT_TRUE(m.as_object().Has("d"));
  EXPECT_TRUE(StrictEquals(m["c"], b["c"]));
  // Inputs untouched.
  EXPECT_EQ(ToJson(a), R"({"a":1,"b":{"x":1},"c":[1]})");
}

TEST(Merge, IndexKeysReorderedInResult) {
  // merge({z:1,'5':1}, {'3':2, y:1}) -> {"3":2,"5":1,"z":1,"y":1}
  Value m =
      Merge(MakeObject({{"z", 1}, {"5", 1}}), MakeObject({{"3", 2}, {"y", 1}}));
  EXPECT_THAT(m.as_object().Keys(), ElementsAre("3", "5", "z", "y"));
}

TEST(Merge, SingleOrIdenticalValuesTakenByReference) {
  Value shared = MakeObject({{"q", 1}});
  Value m = Merge(MakeObject({{"a", shared}}), MakeObject({{"a", shared}}));
  EXPECT_TRUE(StrictEquals(m["a"], shared));
  Value only = Merge(MakeObject({{"a", shared}}), MakeObject({{"b", 2}}));
  EXPECT_TRUE(StrictEquals(only["a"], shared));
  EXPECT_EQ(ToJson(only), R"({"a":{"q":1},"b":2})");
}

TEST(Merge, NullAndArraysAreNotMerged) {
  // merge({a:null},{a:{x:1}}) -> {a:{x:1}}; merge({a:{x:1}},{a:null}) ->
  // {a:null}
  EXPECT_EQ(ToJson(Merge(MakeObject({{"a", Value(nullptr)}}),
                         MakeObject({{"a", MakeObject({{"x", 1}})}}))),
            R"({"a":{"x":1}})");
  EXPECT_EQ(ToJson(Merge(MakeObject({{"a", MakeObject({{"x", 1}})}}),
                         MakeObject({{"a", Value(nullptr)}}))),
            R"({"a":null})");
  // merge({a:[1,2]},{a:{x:1}}) -> {a:{x:1}}; merge({a:{x:1}},{a:[1]}) ->
  // {a:[1]}
  EXPECT_EQ(ToJson(Merge(MakeObject({{"a", MakeArray({1, 2})}}),
                         MakeObject({{"a", MakeObject({{"x", 1}})}}))),
            R"({"a":{"x":1}})");
  EXPECT_EQ(ToJson(Merge(MakeObject({{"a", MakeObject({{"x", 1}})}}),
                         MakeObject({{"a", MakeArray({1})}}))),
            R"({"a":[1]})");
}

TEST(Merge, Recursive) {
  // merge({a:{x:{p:1}}}, {a:{x:{q:2}}}) -> {a:{x:{p:1,q:2}}}
  EXPECT_EQ(
      ToJson(Merge(
          MakeObject({{"a", MakeObject({{"x", MakeObject({{"p", 1}})}})}}),
          MakeObject({{"a", MakeObject({{"x", MakeObject({{"q", 2}})}})}}))),
      R"({"a":{"x":{"p":1,"q":2}}})");
  // How MemoryPartition merges an update into a bot:
  // merge({id:'b',tags:{a:1,c:3}}, {id:'b',tags:{a:2,n:null}})
  EXPECT_EQ(
      ToJson(Merge(
          MakeObject({{"id", "b"}, {"tags", MakeObject({{"a", 1}, {"c", 3}})}}),
          MakeObject(
              {{"id", "b"},
               {"tags", MakeObject({{"a", 2}, {"n", Value(nullptr)}})}}))),
      R"({"id":"b","tags":{"a":2,"c":3,"n":null}})");
}

TEST(Merge, HostObjectsMergeAsKeylessObjects) {
  // merge({d:new Date(0)}, {d:new Date(1)}) -> {"d":{}}; the same Date is
  // kept by reference.
  Value d1 = MakeDate(0), d2 = MakeDate(1);
  Value m = Merge(MakeObject({{"d", d1}}), MakeObject({{"d", d2}}));
  EXPECT_TRUE(m["d"].is_object());
  EXPECT_EQ(ToJson(m), R"({"d":{}})");
  EXPECT_TRUE(StrictEquals(
      Merge(MakeObject({{"d", d1}}), MakeObject({{"d", d1}}))["d"], d1));
  // Functions are not objects: the last one wins.
  Value f2 = MakeFunction("g");
  EXPECT_TRUE(StrictEquals(Merge(MakeObject({{"f", MakeFunction("f")}}),
                                 MakeObject({{"f", f2}}))["f"],
                           f2));
}

TEST(Merge, StringsContributeIndexKeys) {
  // merge("ab", {x:1, '0':'z'}) -> {"0":"z","1":"b","x":1}
  EXPECT_EQ(ToJson(Merge(Value("ab"), MakeObject({{"x", 1}, {"0", "z"}}))),
            R"({"0":"z","1":"b","x":1})");
  EXPECT_EQ(ToJson(Merge(Value(), MakeObject({{"x", 1}}))), R"({"x":1})");
}

}  // namespace
}  // namespace auxsync::bots
