// Checklist group L (aux-common yjs/YjsHelpers.spec.ts). Expected positions
// were checked against aux-common 3.10.5's YjsHelpers on its yjs 13.6.8.

#include "auxsync/partitions/yjs_helpers.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/partitions/inst_updates.h"
#include "auxsync/partitions/internal/yjs_helpers_vectors_for_test.h"
#include "gtest/gtest.h"

namespace auxsync::partitions {
namespace {

using crdt::Doc;
using crdt::DocOptions;
using crdt::ID;
using crdt::RelativePosition;

DocOptions Client(uint64_t id, bool gc = true) {
  DocOptions o;
  o.client_id = id;
  o.gc = gc;
  return o;
}

void Sync(Doc& from, Doc& to) {
  auto update = crdt::EncodeStateAsUpdate(from);
  ASSERT_TRUE(update.ok());
  ASSERT_TRUE(crdt::ApplyUpdate(to, *update).ok());
}

ClockVector ToClocks(const std::map<uint64_t, uint64_t>& sv) {
  ClockVector v;
  for (auto [c, k] : sv) v[c] = static_cast<double>(k);
  return v;
}

std::string Describe(const RelativePosition& r) {
  std::string s = r.tname ? "tname=" + *r.tname : "";
  if (r.type) {
    s += "type=" + std::to_string(r.type->client) + "," +
         std::to_string(r.type->clock);
  }
  s += r.item ? " item=" + std::to_string(r.item->client) + "," +
                    std::to_string(r.item->clock)
              : " item=null";
  return s + " assoc=" + std::to_string(r.assoc);
}

TEST(YjsHelpers, L1_NewDocumentHasEmptyStateVector) {
  Doc doc;
  EXPECT_TRUE(GetStateVector(doc).empty());
  EXPECT_EQ(bots::ToJson(GetStateVectorValue(doc)), "{}");
}

TEST(YjsHelpers, L2_MapSetCountsOne) {
  Doc doc(Client(42));
  doc.GetMap("map").Set("abc", crdt::Input::Map());
  EXPECT_EQ(GetStateVector(doc), (std::map<uint64_t, uint64_t>{{42, 1}}));
  EXPECT_EQ(bots::ToJson(GetStateVectorValue(doc)), R"({"42":1})");
}

TEST(YjsHelpers, L3_TextInsertCountsUnits) {
  Doc doc(Client(42));
  doc.GetText("text").InsertUtf8(0, "abcdef");
  EXPECT_EQ(GetStateVector(doc), (std::map<uint64_t, uint64_t>{{42, 6}}));
}

TEST(YjsHelpers, L4_ExchangedUpdatesShowBothClients) {
  Doc doc1(Client(1001)), doc2(Client(2002));
  doc1.GetMap("map").Set("a", crdt::Input::Map());
  doc2.GetMap("map").Set("b", crdt::Input::Map());
  Sync(doc1, doc2);
  Sync(doc2, doc1);
  const std::map<uint64_t, uint64_t> want{{1001, 1}, {2002, 1}};
  EXPECT_EQ(GetStateVector(doc1), want);
  EXPECT_EQ(GetStateVector(doc2), want);
  EXPECT_EQ(bots::ToJson(GetStateVectorValue(doc1)), R"({"1001":1,"2002":1})");
}

// The cache must give what GetStateVectorValue gives after every
// transaction (new clocks, a client appearing), as a new object each time:
// a value handed out earlier keeps its clocks.
TEST(YjsHelpers, L4_StateVectorValueCacheFollowsTheDocument) {
  Doc doc1(Client(1001)), doc2(Client(2002));
  StateVectorValueCache cache;
  EXPECT_EQ(bots::ToJson(cache.Get(doc1)), "{}");
  doc1.GetMap("map").Set("a", crdt::Input::Map());
  const bots::Value first = cache.Get(doc1);
  EXPECT_EQ(bots::ToJson(first), R"({"1001":1})");
  doc1.GetMap("map").Set("b", crdt::Input::Map());
  EXPECT_EQ(bots::ToJson(cache.Get(doc1)), R"({"1001":2})");
  EXPECT_EQ(bots::ToJson(first), R"({"1001":1})");
  doc2.GetMap("map").Set("c", crdt::Input::Map());
  Sync(doc2, doc1);
  EXPECT_EQ(bots::ToJson(cache.Get(doc1)), R"({"1001":2,"2002":1})");
  doc1.GetText("text").InsertUtf8(0, "xyz");
  EXPECT_EQ(bots::ToJson(cache.Get(doc1)),
            bots::ToJson(GetStateVectorValue(doc1)));
  EXPECT_EQ(bots::ToJson(cache.Get(doc1)), R"({"1001":5,"2002":1})");
}

TEST(YjsHelpers, L5_ClockOfOwnClient) {
  Doc doc(Client(5));
  EXPECT_EQ(GetClock(doc, 5), std::nullopt);
  doc.GetMap("map").Set("a", crdt::Input::Map());
  EXPECT_EQ(GetClock(doc, 5), 1u);
  Doc doc2(Client(6));
  doc2.GetText("text").InsertUtf8(0, "abcdef");
  EXPECT_EQ(GetClock(doc2, 6), 6u);
}

TEST(YjsHelpers, L6_ClockOfOtherClientAfterExchange) {
  Doc doc1(Client(1)), doc2(Client(2));
  doc1.GetMap("map").Set("a", crdt::Input::Map());
  doc2.GetMap("map").Set("b", crdt::Input::Map());
  Sync(doc1, doc2);
  Sync(doc2, doc1);
  EXPECT_EQ(GetClock(doc1, 2), 1u);
  EXPECT_EQ(GetClock(doc2, 1), 1u);
  EXPECT_EQ(GetClock(doc1, 3), std::nullopt);
}

// The two documents of L7 and L9: "abcdef" by client 1, "ghijfk" by
// client 2, merged into "abcdefghijfk"; v1/v2 are the vectors before.
struct TwoWriters {
  Doc doc1{Client(1)};
  Doc doc2{Client(2)};
  crdt::YText text1 = doc1.GetText("text");
  crdt::YText text2 = doc2.GetText("text");
  ClockVector v1, v2;
  TwoWriters() {
    text1.InsertUtf8(0, "abcdef");
    text2.InsertUtf8(0, "ghijfk");
    v1 = ToClocks(GetStateVector(doc1));
    v2 = ToClocks(GetStateVector(doc2));
    Sync(doc1, doc2);
    Sync(doc2, doc1);
  }
};

TEST(YjsHelpers, L7_PositionUnderOldVectorsOfEachWriter) {
  TwoWriters w;
  ASSERT_EQ(w.text1.ToString(), "abcdefghijfk");
  auto p1 = CreateRelativePositionFromStateVector(w.text1, w.v1, 2);
  EXPECT_EQ(Describe(p1), "tname=text item=1,2 assoc=0");
  EXPECT_EQ(Describe(p1),
            Describe(crdt::CreateRelativePositionFromTypeIndex(w.text1, 2)));
  auto p2 = CreateRelativePositionFromStateVector(w.text1, w.v2, 2);
  EXPECT_EQ(Describe(p2), "tname=text item=2,2 assoc=0");
  EXPECT_EQ(Describe(p2),
            Describe(crdt::CreateRelativePositionFromTypeIndex(w.text2, 8)));
  auto abs = CreateAbsolutePositionFromStateVector(w.doc1, w.text1, w.v2, 2);
  ASSERT_TRUE(abs.has_value());
  EXPECT_EQ(abs->index, 8u);
}

TEST(YjsHelpers, L8_LocalAppendAfterCapturedVector) {
  Doc doc(Client(1));
  auto text = doc.GetText("t");
  text.InsertUtf8(0, "abc");
  ClockVector v = ToClocks(GetStateVector(doc));
  text.InsertUtf8(3, "ghi");
  ASSERT_EQ(text.ToString(), "abcghi");
  auto p = CreateRelativePositionFromStateVector(text, v, 3);
  // The appended item starts at clock 3 <= 3, so it is visible (upstream
  // judges a struct by its first clock).
  EXPECT_EQ(Describe(p), "tname=t item=1,3 assoc=0");
  // The same through a version-vector Value.
  EXPECT_EQ(Describe(CreateRelativePositionFromStateVector(
                text, *bots::ParseJson(R"({"1":3})"), 3)),
            "tname=t item=1,3 assoc=0");
  EXPECT_EQ(Describe(p),
            Describe(crdt::CreateRelativePositionFromTypeIndex(text, 3)));
}

TEST(YjsHelpers, L9_IncludeDeletedCountsDeletedItems) {
  TwoWriters w;
  w.text2.Delete(0, 3);
  Sync(w.doc2, w.doc1);
  ASSERT_EQ(w.text1.ToString(), "defghijfk");
  EXPECT_EQ(Describe(CreateRelativePositionFromStateVector(w.text1, w.v1, 2, 0,
                                                           true)),
            "tname=text item=1,2 assoc=0");
  EXPECT_EQ(Describe(CreateRelativePositionFromStateVector(w.text2, w.v1, 2, 0,
                                                           true)),
            "tname=text item=1,2 assoc=0");
  EXPECT_EQ(Describe(CreateRelativePositionFromStateVector(w.text1, w.v1, 2)),
            "tname=text item=1,5 assoc=0");
}

TEST(YjsHelpers, L9_IncludeDeletedWithoutGc) {
  Doc doc(Client(1, /*gc=*/false));
  auto text = doc.GetText("t");
  text.InsertUtf8(0, "abcdef");
  ClockVector v = ToClocks(GetStateVector(doc));
  text.Delete(0, 3);
  EXPECT_EQ(
      Describe(CreateRelativePositionFromStateVector(text, v, 2, 0, true)),
      "tname=t item=1,2 assoc=0");
  EXPECT_EQ(Describe(CreateRelativePositionFromStateVector(text, v, 2)),
            "tname=t item=1,5 assoc=0");
}

TEST(YjsHelpers, LeftAssociationAndEndOfText) {
  TwoWriters w;
  w.text2.Delete(0, 3);
  Sync(w.doc2, w.doc1);
  auto at = [&](const ClockVector& v, uint64_t index, int64_t assoc) {
    return Describe(
        CreateRelativePositionFromStateVector(w.text1, v, index, assoc));
  };
  EXPECT_EQ(at(w.v1, 0, -1), "tname=text item=null assoc=-1");
  EXPECT_EQ(at(w.v1, 3, -1), "tname=text item=1,5 assoc=-1");
  // Past the end: the last item is invisible under v1, so "end of text".
  EXPECT_EQ(at(w.v1, 100, -1), "tname=text item=null assoc=-1");
  // Under v2 the last item is visible: its last unit.
  EXPECT_EQ(at(w.v2, 100, -1), "tname=text item=2,5 assoc=-1");
  EXPECT_EQ(at(w.v1, 100, 0), "tname=text item=null assoc=0");
}

TEST(YjsHelpers, NestedTextIsNamedByItsItem) {
  Doc doc(Client(7));
  doc.GetMap("bots").Set("x", crdt::Input::Text(u"hello"));
  auto nested = doc.GetMap("bots").Get("x");
  ASSERT_TRUE(nested.has_value() && nested->type != nullptr);
  crdt::YText text(nested->type);
  auto p = CreateRelativePositionFromStateVector(
      text, ToClocks(GetStateVector(doc)), 2);
  EXPECT_EQ(Describe(p), "type=7,0 item=7,3 assoc=0");
  EXPECT_EQ(crdt::EncodeRelativePosition(p),
            (std::vector<uint8_t>{0, 7, 3, 0}));
}

TEST(YjsHelpers, L10_OneTransactionWithTwoClients) {
  Doc doc(Client(1));
  auto text = doc.GetText("text");
  std::vector<int> parent_types;
  std::vector<crdt::DeltaOp> delta;
  int events = 0;
  auto sub_events =
      text.Observe([&](const crdt::YEvent& e, const crdt::Transaction&) {
        ++events;
        delta = e.delta;
      });
  auto sub = doc.OnAfterTransaction([&](const crdt::Transaction& tr) {
    parent_types.push_back(static_cast<int>(tr.ChangedParentTypes().size()));
  });
  doc.Transact([&](crdt::Transaction&) {
    text.InsertUtf8(0, "abc");
    doc.set_client_id(2);
    text.InsertUtf8(0, "ghi");
    doc.set_client_id(1);
    text.InsertUtf8(3, "def");
  });
  sub = crdt::Subscription();
  EXPECT_EQ(text.ToString(), "ghidefabc");
  std::vector<std::string> items;
  for (auto* n = text.impl()->start; n != nullptr; n = n->right) {
    items.push_back(std::to_string(n->id.client) + "," +
                    std::to_string(n->id.clock) + "," +
                    std::string(n->content.str.begin(), n->content.str.end()));
  }
  EXPECT_EQ(items, (std::vector<std::string>{"2,0,ghi", "1,3,def", "1,0,abc"}));
  // The observer's delta is computed in a transaction of its own (as yjs's
  // YTextEvent.delta does), which changes nothing.
  EXPECT_EQ(parent_types, (std::vector<int>{1, 0}));
  EXPECT_EQ(events, 1);
  ASSERT_EQ(delta.size(), 1u);
  EXPECT_EQ(delta[0].kind, crdt::DeltaOp::Kind::kInsert);
  EXPECT_EQ(delta[0].text, u"ghidefabc");
  EXPECT_EQ(bots::ToJson(GetStateVectorValue(doc)), R"({"1":6,"2":3})");
}

TEST(YjsHelpers, L11_TextCharInRange) {
  Doc doc;
  auto text = doc.GetText("t");
  text.InsertUtf8(0, "abcdef");
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(GetTextChar(text, i), static_cast<char16_t>(u"abcdef"[i]));
  }
  EXPECT_EQ(GetTextChar(text, 6), std::nullopt);
  EXPECT_EQ(GetTextChar(text, -1), std::nullopt);
}

TEST(YjsHelpers, L12_TextCharSkipsDeleted) {
  Doc doc;
  auto text = doc.GetText("t");
  text.InsertUtf8(0, "abcdef");
  text.Delete(2, 2);
  EXPECT_EQ(GetTextChar(text, 0), u'a');
  EXPECT_EQ(GetTextChar(text, 1), u'b');
  EXPECT_EQ(GetTextChar(text, 2), u'e');
  EXPECT_EQ(GetTextChar(text, 3), u'f');
  EXPECT_EQ(GetTextChar(text, 4), std::nullopt);
}

TEST(YjsHelpers, ClockVectorFromValueKeepsOnlyCanonicalNumericEntries) {
  auto v = bots::ParseJson(
      R"({"12":3,"012":4,"x":5,"7":"8","9":2.5,"-1":1,"9007199254740992":1})");
  ASSERT_TRUE(v.ok());
  ClockVector c = ClockVectorFromValue(*v);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c[12], 3.0);
  EXPECT_EQ(c[9], 2.5);
  EXPECT_TRUE(ClockVectorFromValue(bots::Value(3)).empty());
}

TEST(YjsHelpers, FractionalClockJudgedWithLessOrEqual) {
  Doc doc(Client(1));
  auto text = doc.GetText("t");
  text.InsertUtf8(0, "abc");
  text.InsertUtf8(3, "def");  // merged into one item starting at clock 0
  ClockVector v{{1, 0.5}};
  EXPECT_EQ(Describe(CreateRelativePositionFromStateVector(text, v, 4)),
            "tname=t item=1,4 assoc=0");
  ClockVector none{{1, -1}};
  EXPECT_EQ(Describe(CreateRelativePositionFromStateVector(text, none, 0)),
            "tname=t item=null assoc=0");
}

// Seeded random documents answered by aux-common's own YjsHelpers
// (interop/yjs_helpers_gen.mjs): every query must name the same item.
TEST(YjsHelpers, GoldenCasesFromAuxCommon) {
  auto cases = bots::ParseJson(testing::kYjsHelpersVectors);
  ASSERT_TRUE(cases.ok()) << cases.status();
  int queries = 0;
  for (const bots::Value& c : cases->as_array().items) {
    SCOPED_TRACE(absl::StrCat("seed ", bots::ToJson(c["seed"])));
    Doc doc(Client(99, c["gc"].as_bool()));
    auto bytes = FromBase64(c["update"].as_string());
    ASSERT_TRUE(bytes.ok());
    ASSERT_TRUE(crdt::ApplyUpdate(doc, *bytes).ok());
    crdt::YText text = doc.GetText("t");
    ASSERT_EQ(text.ToString(), c["text"].as_string());
    for (const bots::Value& q : c["queries"].as_array().items) {
      SCOPED_TRACE(bots::ToJson(q));
      auto pos = CreateRelativePositionFromStateVector(
          text, q["vector"], static_cast<uint64_t>(q["index"].as_number()),
          static_cast<int64_t>(q["assoc"].as_number()),
          q["includeDeleted"].as_bool());
      std::string got = pos.item ? absl::StrCat("[", pos.item->client, ",",
                                                pos.item->clock, "]")
                                 : "null";
      EXPECT_EQ(got, bots::ToJson(q["item"]));
      EXPECT_EQ(pos.tname.value_or(""), "t");
      ++queries;
    }
    const auto& chars = c["chars"].as_array().items;
    for (size_t i = 0; i < chars.size(); ++i) {
      auto ch = GetTextChar(text, static_cast<int64_t>(i) - 1);
      EXPECT_EQ(ch.has_value() ? std::to_string(*ch) : "null",
                bots::ToJson(chars[i]))
          << "index " << static_cast<int64_t>(i) - 1;
    }
  }
  EXPECT_GT(queries, 1000);
}

}  // namespace
}  // namespace auxsync::partitions
