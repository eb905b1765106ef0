#include "auxsync/bots/value.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace auxsync::bots {
namespace {

using ::testing::ElementsAre;

TEST(Value, KindsAndAccessors) {
  EXPECT_TRUE(Value().is_undefined());
  EXPECT_TRUE(Value(nullptr).is_null());
  EXPECT_TRUE(Value().is_nullish());
  EXPECT_TRUE(Value(nullptr).is_nullish());
  EXPECT_FALSE(Value(false).is_nullish());
  EXPECT_TRUE(Value(true).as_bool());
  EXPECT_EQ(Value(3).as_number(), 3.0);
  EXPECT_EQ(Value(2.5f).as_number(), 2.5);
  EXPECT_EQ(Value("abc").as_string(), "abc");
  EXPECT_EQ(Value(std::string_view("x")).as_string(), "x");
  EXPECT_TRUE(Value::NewObject().is_object());
  EXPECT_TRUE(Value::NewArray().is_array());
}

// WithKeysOf gives an object that behaves as one built key by key: small
// and indexed (large) objects, array-index keys among the others.
TEST(Value, WithKeysOfCopiesKeysAsAddedOneByOne) {
  for (int n : {0, 2, 3, 5, 16, 17, 40}) {
    Value like = Value::NewObject();
    Value want = Value::NewObject();
    for (int i = 0; i < n; ++i) {
      const std::string key =
          i % 5 == 3 ? std::to_string(i) : "key" + std::to_string(i);
      like.as_object().AddNew(key, Value(-1));
      want.as_object().AddNew(key, Value(i));
    }
    Value got(Object::WithKeysOf(like.as_object()));
    Object& o = got.as_object();
    EXPECT_EQ(o.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(o.InsertedValue(i).is_undefined());
      o.InsertedValue(i) = Value(i);
    }
    EXPECT_TRUE(DeepEquals(got, want)) << n;
    EXPECT_EQ(o.Keys(), want.as_object().Keys()) << n;
    for (const std::string& key : want.as_object().Keys()) {
      EXPECT_TRUE(StrictEquals(o.Get(key), want[key])) << key;
    }
    EXPECT_FALSE(o.Has("absent"));
    o.Set("added", Value(true));
    EXPECT_TRUE(o.Get("added").as_bool());
    if (n > 0) {
      EXPECT_TRUE(o.Erase("key0"));
      EXPECT_FALSE(o.Has("key0"));
    }
    // The object it copied is unchanged.
    EXPECT_EQ(like.as_object().size(), static_cast<size_t>(n));
    EXPECT_FALSE(like.as_object().Has("added"));
  }
}

TEST(Value, IndexOperatorReadsObjectProperties) {
  Value v = MakeObject({{"a", 1}, {"u", Value()}});
  EXPECT_EQ(v["a"].as_number(), 1);
  EXPECT_TRUE(v["u"].is_undefined());
  EXPECT_TRUE(v["missing"].is_undefined());
  EXPECT_TRUE(Value(5)["a"].is_undefined());
  EXPECT_TRUE(MakeArray({1})["0"].is_undefined());
}

TEST(Value, ObjectsAndArraysAreReferences) {
  Value a = MakeObject({{"x", 1}});
  Value b = a;
  b.as_object().Set("x", 2);
  EXPECT_EQ(a["x"].as_number(), 2);
  EXPECT_TRUE(StrictEquals(a, b));

  Value arr = MakeArray({1});
  Value arr2 = arr;
  arr2.as_array().items.push_back(Value(2));
  EXPECT_EQ(arr.as_array().items.size(), 2u);
}

TEST(Value, CloneIsDeepAndIndependent) {
  Value inner = MakeObject({{"n", 1}});
  Value a = MakeObject({{"inner", inner}, {"list", MakeArray({inner})}});
  Value c = a.Clone();
  EXPECT_TRUE(DeepEquals(a, c));
  EXPECT_FALSE(StrictEquals(a, c));
  EXPECT_FALSE(StrictEquals(a["inner"], c["inner"]));
  c["inner"].as_object().Set("n", 2);
  EXPECT_EQ(inner["n"].as_number(), 1);
  EXPECT_FALSE(DeepEquals(a, c));
}

TEST(Value, IsTruthyFollowsToBoolean) {
  EXPECT_FALSE(IsTruthy(Value()));
  EXPECT_FALSE(IsTruthy(Value(nullptr)));
  EXPECT_FALSE(IsTruthy(Value(false)));
  EXPECT_FALSE(IsTruthy(Value(0)));
  EXPECT_FALSE(IsTruthy(Value(-0.0)));
  EXPECT_FALSE(IsTruthy(Value(NAN)));
  EXPECT_FALSE(IsTruthy(Value("")));
  EXPECT_TRUE(IsTruthy(Value(" ")));
  EXPECT_TRUE(IsTruthy(Value("0")));
  EXPECT_TRUE(IsTruthy(Value(-INFINITY)));
  EXPECT_TRUE(IsTruthy(Value::NewObject()));
  EXPECT_TRUE(IsTruthy(Value::NewArray()));
}

TEST(Value, StrictEqualsIsJavaScriptTripleEquals) {
  EXPECT_TRUE(StrictEquals(Value(), Value()));
  EXPECT_TRUE(StrictEquals(Value(nullptr), Value(nullptr)));
  EXPECT_FALSE(StrictEquals(Value(), Value(nullptr)));
  EXPECT_FALSE(StrictEquals(Value(NAN), Value(NAN)));
  EXPECT_TRUE(StrictEquals(Value(0.0), Value(-0.0)));
  EXPECT_FALSE(StrictEquals(Value(1), Value("1")));
  EXPECT_TRUE(StrictEquals(Value("a"), Value("a")));
  EXPECT_FALSE(StrictEquals(MakeObject({}), MakeObject({})));
  EXPECT_FALSE(StrictEquals(MakeArray({}), MakeArray({})));
}

TEST(Value, DeepEqualsComparesStructureOrderAndNumberIdentity) {
  EXPECT_TRUE(DeepEquals(Value(NAN), Value(NAN)));
  EXPECT_FALSE(DeepEquals(Value(0.0), Value(-0.0)));
  EXPECT_TRUE(DeepEquals(MakeObject({{"a", 1}, {"b", MakeArray({1, "x"})}}),
                         MakeObject({{"a", 1}, {"b", MakeArray({1, "x"})}})));
  // Same keys, different order.
  EXPECT_FALSE(DeepEquals(MakeObject({{"a", 1}, {"b", 2}}),
                          MakeObject({{"b", 2}, {"a", 1}})));
  // A key with undefined differs from a missing key.
  EXPECT_FALSE(DeepEquals(MakeObject({{"a", Value()}}), MakeObject({})));
  EXPECT_FALSE(DeepEquals(MakeArray({1}), MakeArray({1, 2})));
}

TEST(IsArrayIndexKey, CanonicalIndicesOnly) {
  EXPECT_TRUE(IsArrayIndexKey("0"));
  EXPECT_TRUE(IsArrayIndexKey("10"));
  EXPECT_TRUE(IsArrayIndexKey("4294967294"));
  EXPECT_FALSE(IsArrayIndexKey("4294967295"));
  EXPECT_FALSE(IsArrayIndexKey("99999999999"));
  EXPECT_FALSE(IsArrayIndexKey("01"));
  EXPECT_FALSE(IsArrayIndexKey("-1"));
  EXPECT_FALSE(IsArrayIndexKey("+1"));
  EXPECT_FALSE(IsArrayIndexKey("1.5"));
  EXPECT_FALSE(IsArrayIndexKey(""));
  EXPECT_FALSE(IsArrayIndexKey(" 1"));
}

TEST(Object, IndexKeysFirstInNumericOrderThenInsertionOrder) {
  // Node: Object.keys({zz:1, 10:1, 2:1, b:1, "01":1, 4294967295:1,
  // 4294967294:1}) -> ["2","10","4294967294","zz","b","01","4294967295"]
  Value v = Value::NewObject();
  for (const char* k :
       {"zz", "10", "2", "b", "01", "4294967295", "4294967294"}) {
    v.as_object().Set(k, 1);
  }
  EXPECT_THAT(v.as_object().Keys(), ElementsAre("2", "10", "4294967294", "zz",
                                                "b", "01", "4294967295"));
}

TEST(Object, ReassigningKeepsPositionEraseAndReAddMovesToEnd) {
  Value v = MakeObject({{"a", 1}, {"b", 2}, {"c", 3}});
  Object& o = v.as_object();
  o.Set("a", 10);
  EXPECT_THAT(o.Keys(), ElementsAre("a", "b", "c"));
  EXPECT_EQ(o.Get("a").as_number(), 10);
  EXPECT_TRUE(o.Erase("a"));
  EXPECT_FALSE(o.Erase("a"));
  EXPECT_FALSE(o.Has("a"));
  o.Set("a", 1);
  EXPECT_THAT(o.Keys(), ElementsAre("b", "c", "a"));
  // An index key goes back to its numeric place, not to the end.
  o.Set("5", 1);
  o.Set("3", 1);
  EXPECT_TRUE(o.Erase("5"));
  o.Set("5", 1);
  EXPECT_THAT(o.Keys(), ElementsAre("3", "5", "b", "c", "a"));
  EXPECT_EQ(o.size(), 5u);
}

TEST(Object, UndefinedValuedKeyIsPresent) {
  Value v = MakeObject({{"u", Value()}});
  EXPECT_TRUE(v.as_object().Has("u"));
  EXPECT_NE(v.as_object().Find("u"), nullptr);
  EXPECT_EQ(v.as_object().Find("x"), nullptr);
  EXPECT_EQ(v.as_object().size(), 1u);
}

TEST(Object, ForEachVisitsInPropertyOrderAndMayReassign) {
  Value v = MakeObject({{"b", 1}, {"1", 2}, {"a", 3}});
  std::vector<std::string> seen;
  v.as_object().ForEach([&](const std::string& k, const Value&) {
    seen.push_back(k);
    v.as_object().Set(k, 0);
  });
  EXPECT_THAT(seen, ElementsAre("1", "b", "a"));
  EXPECT_EQ(v["a"].as_number(), 0);
}

TEST(Object, LargeObjectUsesIndexAndKeepsOrder) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  const int n = 5000;
  for (int i = 0; i < n; ++i) o.Set("k" + std::to_string(i), i);
  for (int i = n - 1; i >= 0; i -= 7) o.Set(std::to_string(i), i);
  ASSERT_EQ(o.size(), static_cast<size_t>(n + (n + 6) / 7));
  for (int i = 0; i < n; ++i) {
    const Value* found = o.Find("k" + std::to_string(i));
    ASSERT_NE(found, nullptr) << i;
    EXPECT_EQ(found->as_number(), i);
  }
  std::vector<std::string> keys = o.Keys();
  // Index keys ascending first, then k0..k4999.
  int last = -1;
  size_t idx = 0;
  for (; idx < keys.size() && IsArrayIndexKey(keys[idx]); ++idx) {
    int k = std::stoi(keys[idx]);
    EXPECT_GT(k, last);
    last = k;
  }
  EXPECT_EQ(idx, static_cast<size_t>((n + 6) / 7));
  for (int i = 0; i < n; ++i) EXPECT_EQ(keys[idx + i], "k" + std::to_string(i));
}

TEST(Object, EraseManyCompactsAndStaysConsistent) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  for (int i = 0; i < 200; ++i) o.Set("k" + std::to_string(i), i);
  for (int i = 0; i < 200; ++i) o.Set(std::to_string(i), i);
  // Erase most keys: compaction runs several times on the way.
  for (int i = 0; i < 200; ++i) {
    if (i % 10 != 0) {
      ASSERT_TRUE(o.Erase("k" + std::to_string(i)));
      ASSERT_TRUE(o.Erase(std::to_string(i)));
    }
  }
  EXPECT_EQ(o.size(), 40u);
  std::vector<std::string> expected;
  for (int i = 0; i < 200; i += 10) expected.push_back(std::to_string(i));
  for (int i = 0; i < 200; i += 10) expected.push_back("k" + std::to_string(i));
  EXPECT_EQ(o.Keys(), expected);
  for (int i = 0; i < 200; i += 10) {
    EXPECT_EQ(o.Get("k" + std::to_string(i)).as_number(), i);
    EXPECT_EQ(o.Get(std::to_string(i)).as_number(), i);
  }
  EXPECT_FALSE(o.Has("k1"));
  // Re-adding after compaction appends.
  o.Set("k1", 1);
  EXPECT_EQ(o.Keys().back(), "k1");
  // Erase everything, then reuse.
  for (const std::string& k : o.Keys()) ASSERT_TRUE(o.Erase(k));
  EXPECT_TRUE(o.empty());
  o.Set("z", 1);
  o.Set("0", 1);
  EXPECT_THAT(o.Keys(), ElementsAre("0", "z"));
}

// The large-object index under churn (sets, erases that leave erased index
// words, compactions, shallow copies with and without tombstones, Clear and
// Reserve) against a model: every key found, every absent key missed, and
// property order kept.
TEST(Object, LargeObjectIndexMatchesModelUnderChurn) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  std::vector<std::string> order;  // the model's keys in property order
  std::vector<int> values;
  uint32_t rng = 12345;
  auto next = [&] {
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) % 300;
  };
  auto check = [&](const Object& object) {
    ASSERT_EQ(object.size(), order.size());
    ASSERT_EQ(object.Keys(), order);
    for (size_t i = 0; i < order.size(); ++i) {
      const Value* found = object.Find(order[i]);
      ASSERT_NE(found, nullptr) << order[i];
      ASSERT_EQ(found->as_number(), values[i]) << order[i];
    }
    for (int k = 300; k < 320; ++k) {
      ASSERT_FALSE(object.Has("key" + std::to_string(k)));
    }
  };
  for (int step = 0; step < 20000; ++step) {
    const std::string key = "key" + std::to_string(next());
    auto it = std::find(order.begin(), order.end(), key);
    if (next() % 3 == 0) {
      ASSERT_EQ(o.Erase(key), it != order.end()) << key;
      if (it != order.end()) {
        values.erase(values.begin() + (it - order.begin()));
        order.erase(it);
      }
    } else {
      o.Set(key, step);
      if (it == order.end()) {
        order.push_back(key);
        values.push_back(step);
      } else {
        values[it - order.begin()] = step;
      }
    }
    if (step % 997 == 0) {
      check(o);
      Value copy = Value::NewObject();
      copy.as_object().AssignShallowCopy(o);
      check(copy.as_object());
      copy.as_object().Set("key999", 1);  // the copy's index is its own
      ASSERT_FALSE(o.Has("key999"));
    }
    if (step == 10000) {
      o.Clear();
      order.clear();
      values.clear();
      o.Reserve(500);
    }
  }
  check(o);
}

TEST(Object, SmallObjectEraseAndReAddRepeatedly) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  o.Set("keep", 0);
  for (int round = 0; round < 100; ++round) {
    o.Set("t", round);
    ASSERT_EQ(o.Get("t").as_number(), round);
    ASSERT_TRUE(o.Erase("t"));
  }
  EXPECT_THAT(o.Keys(), ElementsAre("keep"));
}

TEST(Object, ClearKeepsObjectUsable) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  for (int i = 0; i < 40; ++i) o.Set("k" + std::to_string(i), i);
  o.Set("3", 3);
  o.Clear();
  EXPECT_TRUE(o.empty());
  EXPECT_FALSE(o.Has("k1"));
  EXPECT_FALSE(o.Has("3"));
  o.Set("b", 1);
  o.Set("1", 2);
  o.Set("a", 3);
  EXPECT_THAT(o.Keys(), ElementsAre("1", "b", "a"));
  EXPECT_EQ(o.Get("a").as_number(), 3);
}

// AssignSingle gives what Clear() + Set() give, from every starting shape.
TEST(Object, AssignSingleMakesOneKeyObject) {
  auto check = [](Object& o, std::string_view key, double n) {
    EXPECT_EQ(o.size(), 1u);
    EXPECT_THAT(o.Keys(), ElementsAre(std::string(key)));
    EXPECT_EQ(o.Get(key).as_number(), n);
    // Usable as any object afterwards: adds keep property order.
    o.Set("z", 1);
    o.Set("7", 2);
    EXPECT_EQ(o.size(), 3u);
    EXPECT_EQ(o.Get("z").as_number(), 1);
    EXPECT_EQ(o.Get(key).as_number(), n);
  };
  {
    Value v = Value::NewObject();  // empty
    v.as_object().AssignSingle("a", 1);
    check(v.as_object(), "a", 1);
    EXPECT_THAT(v.as_object().Keys(), ElementsAre("7", "a", "z"));
  }
  {
    Value v = MakeObject({{"a", 1}});  // one key, re-keyed to a long key
    const std::string long_key(40, 'x');
    v.as_object().AssignSingle(long_key, 2);
    EXPECT_FALSE(v.as_object().Has("a"));
    check(v.as_object(), long_key, 2);
  }
  {
    Value v = MakeObject({{"3", 1}, {"b", 2}});  // index key to other key
    v.as_object().AssignSingle("c", 5);
    EXPECT_FALSE(v.as_object().Has("3"));
    EXPECT_FALSE(v.as_object().Has("b"));
    check(v.as_object(), "c", 5);
    EXPECT_THAT(v.as_object().Keys(), ElementsAre("7", "c", "z"));
  }
  {
    Value v = MakeObject({{"b", 2}});  // to an index key
    v.as_object().AssignSingle("12", 4);
    check(v.as_object(), "12", 4);
    EXPECT_THAT(v.as_object().Keys(), ElementsAre("7", "12", "z"));
  }
  {
    // A large indexed object with tombstones, re-keyed to one of its own
    // keys held in a later slot (the key views storage the call frees).
    Value v = Value::NewObject();
    Object& o = v.as_object();
    for (int i = 0; i < 40; ++i) o.Set("k" + std::to_string(i), i);
    o.Erase("k0");
    std::string_view own;
    o.ForEach([&](const std::string& key, const Value&) {
      if (key == "k33") own = key;
    });
    o.AssignSingle(own, 9);
    EXPECT_FALSE(o.Has("k0"));
    EXPECT_FALSE(o.Has("k1"));
    EXPECT_FALSE(o.Has("k39"));
    check(o, "k33", 9);
  }
  {
    // Re-keyed to its own current key, and a shared value stays shared.
    Value child = Value::NewObject();
    Value v = MakeObject({{"id", 1}});
    std::string_view own;
    v.as_object().ForEach(
        [&](const std::string& key, const Value&) { own = key; });
    v.as_object().AssignSingle(own, child);
    EXPECT_THAT(v.as_object().Keys(), ElementsAre("id"));
    EXPECT_TRUE(StrictEquals(v["id"], child));
  }
}

TEST(Object, AssignShallowCopyReplacesContentAndSharesValues) {
  Value child = Value::NewObject();
  Value source = MakeObject({{"x", 1}, {"5", child}, {"y", "s"}});
  Value target = MakeObject({{"old", 1}, {"other", 2}});
  target.as_object().AssignShallowCopy(source.as_object());
  EXPECT_THAT(target.as_object().Keys(), ElementsAre("5", "x", "y"));
  EXPECT_TRUE(StrictEquals(target["5"], child));
  EXPECT_FALSE(target.as_object().Has("old"));
  // A source with tombstones and an index: the copy leaves the tombstones.
  Value big = Value::NewObject();
  for (int i = 0; i < 30; ++i) big.as_object().Set("k" + std::to_string(i), i);
  for (int i = 0; i < 30; i += 2)
    big.as_object().Erase("k" + std::to_string(i));
  target.as_object().AssignShallowCopy(big.as_object());
  EXPECT_EQ(target.as_object().size(), 15u);
  EXPECT_EQ(target.as_object().Keys(), big.as_object().Keys());
  for (int i = 1; i < 30; i += 2) {
    EXPECT_EQ(target["k" + std::to_string(i)].as_number(), i);
  }
  EXPECT_FALSE(target.as_object().Has("k0"));
  // The copy is an independent object.
  target.as_object().Set("k1", 100);
  EXPECT_EQ(big["k1"].as_number(), 1);
}

// A small object whose tombstones push it past the small-object slot count
// (without an index) still finds every key.
TEST(Object, SmallObjectWithManyTombstonesFindsEveryKey) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  for (int i = 0; i < 12; ++i) o.Set("k" + std::to_string(i), i);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(o.Erase("k" + std::to_string(i)));
  for (int i = 12; i < 16; ++i) o.Set("k" + std::to_string(i), i);
  for (int i = 6; i < 16; ++i) {
    ASSERT_TRUE(o.Has("k" + std::to_string(i))) << i;
    EXPECT_EQ(o.Get("k" + std::to_string(i)).as_number(), i);
  }
  EXPECT_FALSE(o.Has("k0"));
}

TEST(Object, ReserveKeepsContentAndOrder) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  o.Set("b", 1);
  o.Set("2", 2);
  o.Reserve(40);
  o.Reserve(0);  // below the size: nothing changes
  EXPECT_THAT(o.Keys(), ElementsAre("2", "b"));
  for (int i = 0; i < 30; ++i) o.Set("k" + std::to_string(i), i);
  EXPECT_EQ(o.size(), 32u);
  EXPECT_EQ(o.Get("k29").as_number(), 29);
  EXPECT_EQ(o.Get("b").as_number(), 1);
  o.Reserve(100);  // on an object that has its index already
  o.Set("z", 9);
  EXPECT_EQ(o.Get("z").as_number(), 9);
  EXPECT_EQ(o.Keys().back(), "z");
}

// AddNew and FindOrAdd build the same object as Set, small and large, index
// keys included.
TEST(Object, AddNewAndFindOrAddMatchSet) {
  Value a = Value::NewObject();
  Value b = Value::NewObject();
  Value c = Value::NewObject();
  for (int i = 0; i < 40; ++i) {
    const std::string key =
        i % 7 == 3 ? std::to_string(100 - i) : "k" + std::to_string(i);
    a.as_object().Set(key, i);
    b.as_object().AddNew(key, i);
    bool added = false;
    Value& slot = c.as_object().FindOrAdd(key, added);
    EXPECT_TRUE(added);
    EXPECT_TRUE(slot.is_undefined());
    slot = Value(i);
  }
  EXPECT_TRUE(DeepEquals(a, b));
  EXPECT_TRUE(DeepEquals(a, c));
  EXPECT_EQ(b.as_object().Keys(), a.as_object().Keys());
  for (const std::string& key : a.as_object().Keys()) {
    EXPECT_EQ(b.as_object().Get(key).as_number(),
              a.as_object().Get(key).as_number());
    bool added = true;
    Value& slot = c.as_object().FindOrAdd(key, added);
    EXPECT_FALSE(added);
    EXPECT_EQ(slot.as_number(), a.as_object().Get(key).as_number());
  }
  EXPECT_EQ(c.as_object().size(), 40u);
  // A small object: the key appended at the end, found again.
  Value d = Value::NewObject();
  d.as_object().AddNew("x", 1);
  bool added = false;
  d.as_object().FindOrAdd("y", added) = Value("two");
  EXPECT_TRUE(added);
  EXPECT_THAT(d.as_object().Keys(), ElementsAre("x", "y"));
  EXPECT_EQ(d["y"].as_string(), "two");
}

// AddNewMany builds what AddNew key by key builds, onto empty, small,
// indexed and tombstoned objects, ending small or large; the result then
// takes lookups, sets and erases as any object.
TEST(Object, AddNewManyMatchesAddNew) {
  auto key_of = [](int i) {
    return i % 7 == 3 ? std::to_string(300 - i) : "k" + std::to_string(i);
  };
  for (int before : {0, 3, 20}) {
    for (int erased : {0, 2}) {
      for (int n : {0, 1, 5, 13, 40}) {
        Value a = Value::NewObject();
        Value b = Value::NewObject();
        for (int i = 0; i < before; ++i) {
          a.as_object().AddNew("p" + std::to_string(i), i);
          b.as_object().AddNew("p" + std::to_string(i), i);
        }
        for (int i = 0; i < erased && i < before; ++i) {
          a.as_object().Erase("p" + std::to_string(i));
          b.as_object().Erase("p" + std::to_string(i));
        }
        std::vector<std::string> keys;
        for (int i = 0; i < n; ++i) keys.push_back(key_of(i));
        for (int i = 0; i < n; ++i) a.as_object().AddNew(keys[i], i);
        b.as_object().AddNewMany(
            keys.size(),
            [&](size_t i) -> const std::string& { return keys[i]; },
            [](size_t i) { return Value(static_cast<double>(i)); });
        SCOPED_TRACE(testing::Message() << before << " " << erased << " " << n);
        EXPECT_TRUE(DeepEquals(a, b));
        EXPECT_EQ(a.as_object().Keys(), b.as_object().Keys());
        for (const std::string& key : a.as_object().Keys()) {
          ASSERT_NE(b.as_object().Find(key), nullptr) << key;
          EXPECT_EQ(b.as_object().Get(key).as_number(),
                    a.as_object().Get(key).as_number());
        }
        EXPECT_FALSE(b.as_object().Has("absent"));
        EXPECT_EQ(b.as_object().size(),
                  static_cast<size_t>(before - std::min(erased, before) + n));
        b.as_object().Set("late", 1);
        EXPECT_EQ(b.as_object().Keys().back(), "late");
        if (n > 0) {
          EXPECT_TRUE(b.as_object().Erase(keys[0]));
          EXPECT_FALSE(b.as_object().Has(keys[0]));
        }
        EXPECT_TRUE(b.as_object().Has("late"));
      }
    }
  }
}

// NewKeys adds keys one by one between other work, to two objects at once,
// and fewer than it announced: once the adders are gone, each object is what
// AddNew key by key builds, lookups included.
TEST(Object, NewKeysInterleavedAndShortOfItsCount) {
  for (int n : {3, 25}) {
    Value a = Value::NewObject();
    Value b = Value::NewObject();
    Value expected = Value::NewObject();
    b.as_object().AddNew("first", 0);
    {
      Object::NewKeys to_a(a.as_object(), 2 * n);
      Object::NewKeys to_b(b.as_object(), 2 * n);
      for (int i = 0; i < n; ++i) {
        const std::string key = "key" + std::to_string(i);
        to_a.Add(key, Value(static_cast<double>(i)));
        to_b.Add(key, Value(static_cast<double>(-i)));
        expected.as_object().AddNew(key, i);
      }
    }
    SCOPED_TRACE(n);
    EXPECT_TRUE(DeepEquals(a, expected));
    EXPECT_EQ(b.as_object().size(), static_cast<size_t>(n + 1));
    EXPECT_EQ(b.as_object().Keys().front(), "first");
    for (int i = 0; i < n; ++i) {
      const std::string key = "key" + std::to_string(i);
      ASSERT_NE(a.as_object().Find(key), nullptr) << key;
      EXPECT_EQ(a.as_object().Get(key).as_number(), i);
      EXPECT_EQ(b.as_object().Get(key).as_number(), -i);
    }
    EXPECT_FALSE(a.as_object().Has("key" + std::to_string(n)));
    EXPECT_TRUE(b.as_object().Erase("key0"));
    EXPECT_FALSE(b.as_object().Has("key0"));
  }
}

// An object made with room for its keys behaves as a default one while it
// is filled to its capacity and past it (its slots then move to the heap),
// compacted after erases, cleared, reused and shallow-copied.
TEST(Object, WithCapacityMatchesDefaultObject) {
  for (size_t capacity : {0, 2, 3, 4, 10, 17, 40}) {
    for (int n : {0, 3, 10, 17, 60}) {
      SCOPED_TRACE(testing::Message() << capacity << " " << n);
      Value a = Value::NewObject();
      Value b = Value::NewObject(capacity);
      for (int i = 0; i < n; ++i) {
        const std::string key =
            i % 5 == 2 ? std::to_string(n - i) : "k" + std::to_string(i);
        a.as_object().AddNew(key, i);
        b.as_object().AddNew(key, i);
      }
      EXPECT_TRUE(DeepEquals(a, b));
      EXPECT_EQ(a.as_object().Keys(), b.as_object().Keys());
      for (int i = 0; i < n; i += 2) {
        a.as_object().Erase("k" + std::to_string(i));
        b.as_object().Erase("k" + std::to_string(i));
      }
      EXPECT_EQ(a.as_object().Keys(), b.as_object().Keys());
      Value copy(b.as_object().ShallowCopy());
      EXPECT_EQ(copy.as_object().Keys(), a.as_object().Keys());
      b.as_object().Clear();
      EXPECT_TRUE(b.as_object().empty());
      for (int i = 0; i < n; ++i) b.as_object().Set("r" + std::to_string(i), i);
      b.as_object().AssignShallowCopy(a.as_object());
      EXPECT_TRUE(DeepEquals(a, b));
      b.as_object().AssignSingle("only", Value("one"));
      EXPECT_EQ(b.as_object().Keys(), std::vector<std::string>{"only"});
    }
  }
}

// Values made by a StringBatch are ordinary string values: copies share
// them, each is released on its own, in any order, before or after the
// batch, and a full batch still makes values.
TEST(StringBatch, ValuesOutliveTheBatchAndEachOther) {
  std::vector<Value> kept;
  {
    StringBatch batch(3);
    Value a = batch.Make("first");
    Value b = batch.Make(std::string(40, 'x'));  // not a short string
    Value c = batch.Make("");
    Value d = batch.Make("past the capacity");
    EXPECT_EQ(a.as_string(), "first");
    EXPECT_EQ(b.as_string(), std::string(40, 'x'));
    EXPECT_EQ(c.as_string(), "");
    EXPECT_EQ(d.as_string(), "past the capacity");
    Value copy = a;
    EXPECT_EQ(&copy.as_string(), &a.as_string());
    EXPECT_TRUE(StrictEquals(copy, Value("first")));
    kept.push_back(b);
    kept.push_back(copy);
    a = Value(1);  // the original released, the copy kept
  }
  EXPECT_EQ(kept[0].as_string(), std::string(40, 'x'));
  EXPECT_EQ(kept[1].as_string(), "first");
  kept.erase(kept.begin());
  EXPECT_EQ(kept[0].as_string(), "first");
  kept.clear();
  // A batch nothing was made from, and one whose values go first.
  { StringBatch unused(5); }
  {
    StringBatch batch(2);
    { Value gone = batch.Make("gone"); }
    Value stays = batch.Make("stays");
    EXPECT_TRUE(DeepEquals(stays, Value("stays")));
  }
}

// Copies, moves and assignments of every kind, including assigning a value
// from inside itself (the source must survive the release of the old
// content) and self-assignment.
TEST(Value, CopyMoveAndAssignKeepContentAndSharing) {
  std::vector<Value> all = {Value(),
                            Value(nullptr),
                            Value(true),
                            Value(-0.0),
                            Value("a string longer than the small buffer"),
                            Value(""),
                            MakeArray({1, "x"}),
                            MakeObject({{"k", "v"}})};
  for (const Value& v : all) {
    Value copy = v;
    EXPECT_TRUE(DeepEquals(copy, v));
    EXPECT_TRUE(StrictEquals(copy, v) || copy.is_number());
    Value moved = std::move(copy);
    EXPECT_TRUE(copy.is_undefined());  // NOLINT: moved-from is undefined
    EXPECT_TRUE(DeepEquals(moved, v));
    for (const Value& w : all) {
      Value target = w;
      target = v;
      EXPECT_TRUE(DeepEquals(target, v));
      Value other = w;
      Value source = v;
      other = std::move(source);
      EXPECT_TRUE(DeepEquals(other, v));
    }
    Value self = v;
    const Value& alias = self;
    self = alias;
    EXPECT_TRUE(DeepEquals(self, v));
  }
  // Copies of a string share its text; the text outlives the original.
  Value s("shared text that does not fit in place");
  Value t = s;
  EXPECT_EQ(&s.as_string(), &t.as_string());
  s = Value(1);
  EXPECT_EQ(t.as_string(), "shared text that does not fit in place");
  // Assigning a child of the value to the value itself.
  Value parent = MakeObject({{"child", MakeObject({{"x", "leaf"}})}});
  parent = parent["child"];
  EXPECT_EQ(parent["x"].as_string(), "leaf");
  parent = parent["x"];
  EXPECT_EQ(parent.as_string(), "leaf");
  Value holder = MakeObject({{"c", MakeArray({"only"})}});
  holder = std::move(holder.as_object().Find("c")[0]);
  ASSERT_TRUE(holder.is_array());
  EXPECT_EQ(holder.as_array().items[0].as_string(), "only");
}

// Replacing values in slots (including through Find) keeps the slots'
// bookkeeping: tombstones stay erased and index keys keep their order.
TEST(Object, ReplacingValuesKeepsTombstonesAndIndexOrder) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  o.Set("a", 1);
  o.Set("1", "one");
  o.Set("b", 2);
  o.Set("0", "zero");
  ASSERT_TRUE(o.Erase("a"));
  *o.Find("1") = Value("uno");
  *o.Find("b") = MakeObject({{"n", 1}});
  o.Set("0", Value());
  EXPECT_THAT(o.Keys(), ElementsAre("0", "1", "b"));
  EXPECT_FALSE(o.Has("a"));
  EXPECT_EQ(o.Get("1").as_string(), "uno");
  Value copy = Value(o.ShallowCopy());
  EXPECT_THAT(copy.as_object().Keys(), ElementsAre("0", "1", "b"));
  EXPECT_TRUE(StrictEquals(copy["b"], o.Get("b")));
  o.Set("a", 3);
  EXPECT_THAT(o.Keys(), ElementsAre("0", "1", "b", "a"));
}

TEST(MakeObject, BuildsInGivenOrderWithIndexKeysFirst) {
  Value v = MakeObject({{"id", "b"}, {"7", 1}, {"tags", MakeObject({})}});
  EXPECT_THAT(v.as_object().Keys(), ElementsAre("7", "id", "tags"));
  Value a = MakeArray({1, "x", Value()});
  ASSERT_EQ(a.as_array().items.size(), 3u);
  EXPECT_TRUE(a.as_array().items[2].is_undefined());
}

}  // namespace
}  // namespace auxsync::bots
