// Unit tests of the document engine: local operations produce yjs's exact
// bytes, integration tie-breaks, splitting/merging, gc on/off, pending
// structs/deletes, events, relative positions and untrusted input.
#include "auxsync/crdt/internal/engine.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/relative_position.h"
#include "auxsync/crdt/types.h"
#include "auxsync/crdt/wire_struct.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Hex(const std::string& h) {
  Bytes out;
  for (size_t i = 0; i + 1 < h.size();) {
    if (h[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
    i += 2;
  }
  return out;
}

Bytes FromB64(std::string_view b64) {
  std::string raw;
  EXPECT_TRUE(
      absl::Base64Unescape(absl::string_view(b64.data(), b64.size()), &raw));
  return Bytes(raw.begin(), raw.end());
}

std::string ToHex(const Bytes& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i) s += ' ';
    s += d[b[i] >> 4];
    s += d[b[i] & 15];
  }
  return s;
}

// Records every v1/v2 update a doc emits.
struct Recorder {
  std::vector<Bytes> v1, v2;
  Subscription s1, s2;
  explicit Recorder(Doc& d) {
    s1 = d.OnUpdate([this](std::span<const uint8_t> u, const Transaction&) {
      v1.emplace_back(u.begin(), u.end());
    });
    s2 = d.OnUpdateV2([this](std::span<const uint8_t> u, const Transaction&) {
      v2.emplace_back(u.begin(), u.end());
    });
  }
};

Doc MakeDoc(uint64_t id, bool gc = true) { return Doc(DocOptions{id, gc, ""}); }

Bytes Full(const Doc& d) { return *EncodeStateAsUpdate(d); }

void Sync(Doc& from, Doc& to) {
  Bytes sv = EncodeStateVector(to);
  ASSERT_TRUE(ApplyUpdate(to, *EncodeStateAsUpdate(from, sv)).ok());
}

TEST(DocEngine, MapSetSingleEmitsYjsBytes) {
  Doc d(DocOptions{1, true, ""});
  Recorder r(d);
  d.GetMap("m").Set("k", JsValue::MakeString("v"));
  ASSERT_EQ(r.v1.size(), 1u);
  EXPECT_EQ(ToHex(r.v1[0]), "01 01 01 00 28 01 01 6d 01 6b 01 77 01 76 00");
  EXPECT_EQ(ToHex(r.v2[0]),
            ToHex(Hex("00 00 01 01 00 00 01 28 05 02 6d 6b 41 00 01 01 00 01 "
                      "01 01 01 00 77 01 76 00")));
}

TEST(DocEngine, MapOverwriteHasOriginAndParentSubBit) {
  Doc d(DocOptions{1, true, ""});
  Recorder r(d);
  d.GetMap("m").Set("k", JsValue::MakeString("v1"));
  d.GetMap("m").Set("k", JsValue::MakeString("v2"));
  ASSERT_EQ(r.v1.size(), 2u);
  EXPECT_EQ(ToHex(r.v1[1]),
            "01 01 01 01 a8 01 00 01 77 02 76 32 01 01 01 00 01");
}

TEST(DocEngine, TypingMergesAndUpdateIsWrittenWithOffset) {
  Doc d(DocOptions{1, true, ""});
  Recorder r(d);
  YText t = d.GetText("t");
  t.Insert(0, u"t");
  t.Insert(1, u"y");
  ASSERT_EQ(r.v1.size(), 2u);
  // The store holds one merged item "ty"; the update slices it: origin (1,0).
  EXPECT_EQ(ToHex(r.v1[1]), "01 01 01 01 84 01 00 01 79 00");
  EXPECT_EQ(d.store().Client(1)->size(), 1u);
  EXPECT_EQ(t.ToString(), "ty");
}

TEST(DocEngine, TextDeleteMiddleGcOnAndOff) {
  for (bool gc : {true, false}) {
    Doc d(DocOptions{1, gc, ""});
    YText t = d.GetText("t");
    t.Insert(0, u"abcdef");
    t.Delete(2, 2);
    EXPECT_EQ(t.ToString(), "abef");
    if (gc) {
      EXPECT_EQ(ToHex(Full(d)),
                "01 03 01 00 04 01 01 74 02 61 62 81 01 01 02 84 01 03 02 65 "
                "66 01 01 01 02 02");
    } else {
      EXPECT_EQ(ToHex(Full(d)),
                "01 03 01 00 04 01 01 74 02 61 62 84 01 01 02 63 64 84 01 03 "
                "02 65 66 01 01 01 02 02");
    }
  }
}

TEST(DocEngine, EncodeStateAsUpdateWithTargetVector) {
  Doc d(DocOptions{7, true, ""});
  d.GetText("t").Insert(0, u"hello world");
  EXPECT_EQ(ToHex(*EncodeStateAsUpdate(d, Hex("01 07 03"))),
            "01 01 07 03 84 07 02 08 6c 6f 20 77 6f 72 6c 64 00");
}

TEST(DocEngine, ConcurrentInsertLowerClientFirst) {
  Doc a = MakeDoc(1), b = MakeDoc(2), c = MakeDoc(3);
  c.GetText("t").Insert(0, u"C");
  a.GetText("t").Insert(0, u"A");
  b.GetText("t").Insert(0, u"B");
  for (Doc* x : {&a, &b, &c}) {
    for (Doc* y : {&a, &b, &c}) {
      if (x != y) Sync(*x, *y);
    }
  }
  EXPECT_EQ(a.GetText("t").ToString(), "ABC");
  EXPECT_EQ(Full(a), Full(b));
  EXPECT_EQ(Full(b), Full(c));
}

TEST(DocEngine, ConcurrentMapSetHigherClientWins) {
  Doc a = MakeDoc(1), b = MakeDoc(2);
  a.GetMap("m").Set("k", JsValue::MakeNumber(1));
  b.GetMap("m").Set("k", JsValue::MakeNumber(2));
  Sync(a, b);
  Sync(b, a);
  EXPECT_EQ(a.GetMap("m").Get("k")->value.number(), 2);
  EXPECT_EQ(b.GetMap("m").Get("k")->value.number(), 2);
  EXPECT_EQ(Full(a), Full(b));
}

TEST(DocEngine, TextInsertSkipsTombstonesArrayDoesNot) {
  Doc d = MakeDoc(1);
  Recorder r(d);
  YText t = d.GetText("t");
  t.Insert(0, u"abc");
  t.Delete(1, 1);
  t.Insert(1, u"X");
  // origin = deleted "b" (1,1), rightOrigin = "c" (1,2).
  EXPECT_EQ(ToHex(r.v1.back()), "01 01 01 03 c4 01 01 01 02 01 58 00");
  Doc e = MakeDoc(1);
  Recorder re(e);
  YArray arr = e.GetArray("a");
  ASSERT_TRUE(arr.Insert(0, {JsValue::MakeNumber(1), JsValue::MakeNumber(2),
                             JsValue::MakeNumber(3)})
                  .ok());
  ASSERT_TRUE(arr.Delete(1, 1).ok());
  ASSERT_TRUE(arr.Insert(1, {JsValue::MakeNumber(9)}).ok());
  // origin = visible 1 (1,0), rightOrigin = deleted 2 (1,1).
  EXPECT_EQ(ToHex(re.v1.back()), "01 01 01 03 c8 01 00 01 01 01 7d 09 00");
}

TEST(DocEngine, RemoteSplitIsMergedBack) {
  Doc a = MakeDoc(1), b = MakeDoc(2);
  a.GetText("t").Insert(0, u"abcd");
  Sync(a, b);
  b.GetText("t").Insert(2, u"X");
  Sync(b, a);
  EXPECT_EQ(a.GetText("t").ToString(), "abXcd");
  // "abcd" was split at the remote origin and stays split (its halves are
  // no longer neighbours).
  EXPECT_EQ(a.store().Client(1)->size(), 2u);
  EXPECT_EQ(Full(a), Full(b));
}

TEST(DocEngine, PendingStructsWaitForTheirDependency) {
  Doc a = MakeDoc(1), b = MakeDoc(2), c = MakeDoc(3);
  Recorder ra(a), rb(b);
  a.GetText("t").Insert(0, u"hi");
  Sync(a, b);
  b.GetText("t").Insert(2, u"!");
  // c gets b's change before a's: it waits.
  ASSERT_TRUE(ApplyUpdate(c, rb.v1.back()).ok());
  EXPECT_TRUE(c.HasPendingStructs());
  EXPECT_EQ(c.GetText("t").ToString(), "");
  EXPECT_EQ(ToHex(EncodeStateVector(c)), "00");
  Recorder rc(c);
  ASSERT_TRUE(ApplyUpdate(c, ra.v1.back()).ok());
  EXPECT_FALSE(c.HasPendingStructs());
  EXPECT_EQ(c.GetText("t").ToString(), "hi!");
  EXPECT_EQ(rc.v1.size(), 1u);  // one update with both structs
  EXPECT_EQ(Full(c), Full(b));
}

TEST(DocEngine, PendingDeletesApplyLater) {
  Doc a = MakeDoc(1), b = MakeDoc(2);
  Recorder ra(a);
  a.GetText("t").Insert(0, u"abc");
  a.GetText("t").Delete(0, 1);
  ASSERT_TRUE(ApplyUpdate(b, ra.v1[1]).ok());
  EXPECT_TRUE(b.HasPendingDeletes());
  ASSERT_TRUE(ApplyUpdate(b, ra.v1[0]).ok());
  EXPECT_FALSE(b.HasPendingDeletes());
  EXPECT_EQ(b.GetText("t").ToString(), "bc");
}

// Hand-made updates whose rest (the structs left waiting) holds a skip or
// a struct integrated in the same update: yjs puts a client's last
// consumed struct back into the rest. The expected bytes are what yjs
// 13.6.27 encodes after applying the same updates (its state plus its
// pending structs).
TEST(DocEngine, RestKeepsASkipOfTheClientItTakesBack) {
  Doc d = MakeDoc(9);
  // Client 2: "x" after 1:0, then a skip of one clock; client 1: "y" after
  // 2:1 (inside the skip): neither can ever be integrated.
  ASSERT_TRUE(ApplyUpdate(d, Hex("02 02 02 00 84 01 00 01 78 0a 01"
                                 " 01 01 00 84 02 01 01 79 00"))
                  .ok());
  EXPECT_TRUE(d.HasPendingStructs());
  EXPECT_EQ(ToHex(Full(d)), "01 01 01 00 84 02 01 01 79 00");
}

TEST(DocEngine, RestWritesAnIntegratedStructAsItsClockRange) {
  Doc d = MakeDoc(9);
  ASSERT_TRUE(ApplyUpdate(d, Hex("01 01 02 00 04 01 01 74 0a 30 31 32 33 34"
                                 " 35 36 37 38 39 00"))
                  .ok());
  // Client 2 again from clock 0: "abcde" after 1:5 (missing), "fghijkl"
  // (integrated from clock 10 on); client 1: "y" after 2:11.
  ASSERT_TRUE(ApplyUpdate(d, Hex("02 02 02 00 84 01 05 05 61 62 63 64 65 84"
                                 " 02 04 07 66 67 68 69 6a 6b 6c 01 01 00 84"
                                 " 02 0b 01 79 00"))
                  .ok());
  EXPECT_EQ(d.GetText("t").ToString(), "0123456789kly");
  EXPECT_TRUE(d.HasPendingStructs());
  EXPECT_EQ(ToHex(Full(d)),
            "02 01 02 00 04 01 01 74 0c 30 31 32 33 34 35 36 37 38 39 6b 6c"
            " 01 01 00 84 02 0b 01 79 00");
  // The integrated struct stays the document's: typing after it works.
  d.GetText("t").Insert(13, u"!");
  EXPECT_EQ(d.GetText("t").ToString(), "0123456789kly!");
}

// A peer sends client 2's clocks 0..3 (an item after the missing 5:0,
// then a GC), another peer clocks 0..10 (a GC, then "bcdefghij"). yjs
// 13.6.27 keeps the first pending and encodes the document with the pending
// GC written over the integrated item: a copy loaded from that encoding
// shows "". The document's own structs win for every id it holds
// (docs/compatibility.md).
TEST(DocEngine, PendingStructsNeverReplaceIntegratedOnes) {
  Doc d = MakeDoc(9);
  ASSERT_TRUE(ApplyUpdate(d, Hex("01 02 02 00 84 05 00 01 78 00 02 00")).ok());
  ASSERT_TRUE(ApplyUpdate(d, Hex("01 02 02 00 00 01 04 01 01 74 09 62 63 64"
                                 " 65 66 67 68 69 6a 00"))
                  .ok());
  ASSERT_TRUE(d.HasPendingStructs());
  ASSERT_EQ(d.GetText("t").ToString(), "bcdefghij");
  for (bool v2 : {false, true}) {
    SCOPED_TRACE(v2 ? "v2" : "v1");
    absl::StatusOr<std::vector<uint8_t>> state =
        v2 ? EncodeStateAsUpdateV2(d) : EncodeStateAsUpdate(d);
    ASSERT_TRUE(state.ok());
    Doc copy = MakeDoc(10);
    ASSERT_TRUE(
        (v2 ? ApplyUpdateV2(copy, *state) : ApplyUpdate(copy, *state)).ok());
    EXPECT_EQ(copy.GetText("t").ToString(), "bcdefghij");
    EXPECT_EQ(EncodeStateVector(copy), EncodeStateVector(d));
  }
  // A pending struct past the document's state is still encoded: the
  // missing 5:0 arrives and the copy integrates client 2's clock 10.
  ASSERT_TRUE(ApplyUpdate(d, Hex("01 01 02 0a 84 05 00 01 21 00")).ok());
  absl::StatusOr<std::vector<uint8_t>> state = EncodeStateAsUpdate(d);
  ASSERT_TRUE(state.ok());
  Doc copy = MakeDoc(10);
  ASSERT_TRUE(ApplyUpdate(copy, *state).ok());
  const Bytes z = Hex("01 01 05 00 04 01 01 74 01 7a 00");
  ASSERT_TRUE(ApplyUpdate(copy, z).ok());
  ASSERT_TRUE(ApplyUpdate(d, z).ok());
  EXPECT_FALSE(d.HasPendingStructs());
  EXPECT_EQ(d.GetText("t").ToString().size(), 11u);
  EXPECT_EQ(copy.GetText("t").ToString(), d.GetText("t").ToString());
  EXPECT_EQ(Full(copy), Full(d));
}

TEST(DocEngine, NestedTypesAndGcOfDeletedMap) {
  Doc d = MakeDoc(1);
  YMap bots = d.GetMap("bots");
  bots.Set("b1", Input::Map({{"color", Input::Text(u"red")},
                             {"n", JsValue::MakeNumber(3)}}));
  auto v = bots.Get("b1");
  ASSERT_TRUE(v && v->type);
  EXPECT_EQ(YText(YMap(v->type).Get("color")->type).ToString(), "red");
  bots.Delete("b1");
  // Children became GC structs; the map entry is ContentDeleted.
  const auto& structs = *d.store().Client(1);
  ASSERT_GE(structs.size(), 2u);
  EXPECT_EQ(structs[0]->content.ref, engine::kRefDeleted);
  EXPECT_TRUE(structs[1]->gc);
  Doc e = MakeDoc(2);
  Sync(d, e);
  EXPECT_FALSE(e.GetMap("bots").Has("b1"));
  EXPECT_EQ(Full(d), Full(e));
}

// fuzz/regressions/yjs_partition_collected_type_still_named.bin, reduced
// to the engine. Update 3 integrates an item (13:27: clock 26 is known, so
// it starts at offset 1) whose parent comes from its right origin, 13:20
// (bots.b3's key t0), but whose left neighbour is 13:26, an item of
// another map (bots.n's). yjs links it there and makes it b3's current t0
// value, so 13:20 drops out of b3's chains. The same update deletes b3
// (13:13); collecting its type walks those chains and misses 13:20, which
// still names the type. The engine freed the type, so the types made next
// (the local write's) took its memory, and encoding 13:20 read another
// type, or garbage, as its parent. The type is now retired, not freed:
// 13:20 is written with its parent's id, and update 4 (an item yjs
// integrated right after 13:20, into the dead type) goes in as in yjs.
// Expected bytes: yjs 13.6.27 applying the same updates and write.
TEST(DocEngine, ACollectedTypeThatAnItemStillNamesIsRetiredNotFreed) {
  const std::string kUpdates[] = {
      "AQ0NACgBBGJvdHMBbgF9KigBBGJvdHMBcwF3A3N0cicBBGJvdHMBdAIEAA0CCW5vdCBh"
      "IGJvdCcBBGJrdHMBYQAnAQRib3RzAmIzAScADQ0CaWQCBAANDgVvdGhlcigADQ0CdDAB"
      "figBBX1hc2tzB25vY29sb24BfQEnAQVtYXNrcwhnaG9zdDp0MAIEAA0WAWcoAQVtYXNr"
      "cwNiMzoBfQIA",
      "AQINGacNAAEoAA0ZAnQwAX0BAQ0BAAE=",
      // (The fuzz input's delete ranges overlap; here they are one range:
      // yjs garbles overlapping pending ranges, docs/compatibility.md.)
      "AQENGkENFAIBDQEBgwE=",
      // client 50's item with origin 13:20
      "AQEyAIENFAECMgEAAQ0BAIQB",
  };
  const std::string kFinal =
      "AxE8ACcBBGJvdHMCYjEBJwA8AAJ0MAIEADwBKEJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkInADwAAnQxAgQAPCooQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQicAPAACdDICBAA8UyhCQkJCQkJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCJwA8AAJ0MwIEADx8KEJCQkJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkInADwAAnQ0AgQAPKUBKEJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkInADwAAnQ1AgQAPM4BKEJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkInADwAAnQ2AgQAPPcBKEJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkInADwAAnQ3AgQAPKACKEJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkIBMgCBDRQBDg0AIQEEYm90"
      "cwFuASEBBGJvdHMBcwEhAQRib3RzAXQBAAkhAQRia3RzAWEBIQEEYm90cwJiMwEABiEA"
      "DQ0CdDABIQEFfWFza3MHbm9jb2xvbgEhAQVtYXNrcwhnaG9zdDp0MAEAASEBBW1hc2tz"
      "A2IzOgGBDQABAAICMgEAAQ0BAIQB";
  const std::string kFinalV2 =
      "AAAFfA8yTQIhAAJClAHUAaYC5gK4A/gDigXKBZwG3AauB+4HgAnYCE5aADMnAQQAJwAE"
      "ACcABAAnAAQAJwAEACcABAAnAAQAJwAEAIEAIQIAACEBAAAhAgAAIQCBAAC4A5MDYm90"
      "c2IxdDBCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCdDFCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCdDJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCdDNCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCdDRCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCdDVCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
      "dDZCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCdDdCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCYm90c25ib3Rzc2JvdHN0Ymt0"
      "c2Fib3RzYjN0MH1hc2tzbm9jb2xvbm1hc2tzZ2hvc3Q6dDBtYXNrc2IzOgRCACgCKAIo"
      "AigCKAIoAigCKAQBBAEEAQQBBEIABQcFCAUDCQEAAA8BBAAAAQMBQgYJQQIJQQAGQQQC"
      "AxEAAQAOAAIyAQAADQEAgwE=";
  // A fresh document has no type for 50:0 (its origin's parent is a
  // deleted item, not a type): a GC struct, in yjs too.
  const std::string kFinalLoaded =
      "AxE8ACcBBGJvdHMCYjEBJwA8AAJ0MAIEADwBKEJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkInADwAAnQxAgQAPCooQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQicAPAACdDICBAA8UyhCQkJCQkJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCJwA8AAJ0MwIEADx8KEJCQkJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkInADwAAnQ0AgQAPKUBKEJCQkJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkInADwAAnQ1AgQAPM4BKEJCQkJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkInADwAAnQ2AgQAPPcBKEJCQkJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkInADwAAnQ3AgQAPKACKEJCQkJC"
      "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkIBMgAAAQ0NACEBBGJvdHMB"
      "bgEhAQRib3RzAXMBIQEEYm90cwF0AQAJIQEEYmt0cwFhASEBBGJvdHMCYjMBAAchAQV9"
      "YXNrcwdub2NvbG9uASEBBW1hc2tzCGdob3N0OnQwAQABIQEFbWFza3MDYjM6AYENAAEA"
      "AgIyAQABDQEAhAE=";
  auto b64 = [](const Bytes& b) {
    return absl::Base64Escape(
        absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  };
  Doc d = MakeDoc(60);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(ApplyUpdate(d, FromB64(kUpdates[i])).ok()) << i;
  }
  // bots.b1 = a map of eight texts: new types, from the pool.
  std::vector<std::pair<std::string, Input>> texts;
  for (int i = 0; i < 8; ++i) {
    texts.emplace_back("t" + std::to_string(i),
                       Input::Text(std::u16string(40, u'B')));
  }
  d.GetMap("bots").Set("b1", Input::Map(std::move(texts)));
  ASSERT_TRUE(ApplyUpdate(d, FromB64(kUpdates[3])).ok());
  EXPECT_EQ(b64(Full(d)), kFinal);
  EXPECT_EQ(b64(*EncodeStateAsUpdateV2(d)), kFinalV2);
  Doc e = MakeDoc(61);
  ASSERT_TRUE(ApplyUpdate(e, FromB64(kFinal)).ok());
  EXPECT_EQ(b64(Full(e)), kFinalLoaded);
}

TEST(DocEngine, MapEventKeysAndArrayDelta) {
  Doc d = MakeDoc(1);
  YMap m = d.GetMap("m");
  m.Set("a", JsValue::MakeNumber(1));
  std::vector<std::pair<std::string, KeyChange::Action>> seen;
  auto sub = m.Observe([&](const YEvent& e, const Transaction&) {
    for (auto& [k, c] : e.keys) seen.push_back({k, c.action});
  });
  d.Transact([&](Transaction&) {
    m.Set("a", JsValue::MakeNumber(2));
    m.Set("b", JsValue::MakeNumber(3));
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].second, KeyChange::Action::kUpdate);
  EXPECT_EQ(seen[1].second, KeyChange::Action::kAdd);

  YArray a = d.GetArray("a");
  ASSERT_TRUE(a.Insert(0, {JsValue::MakeNumber(1), JsValue::MakeNumber(2),
                           JsValue::MakeNumber(3), JsValue::MakeNumber(4)})
                  .ok());
  std::vector<DeltaOp> delta;
  auto sub2 =
      a.Observe([&](const YEvent& e, const Transaction&) { delta = e.delta; });
  d.Transact([&](Transaction&) {
    ASSERT_TRUE(a.Delete(1, 2).ok());
    ASSERT_TRUE(a.Insert(2, {JsValue::MakeString("x")}).ok());
  });
  ASSERT_EQ(delta.size(), 4u);
  EXPECT_EQ(delta[0].kind, DeltaOp::Kind::kRetain);
  EXPECT_EQ(delta[1].kind, DeltaOp::Kind::kDelete);
  EXPECT_EQ(delta[1].length, 2u);
  EXPECT_EQ(delta[3].kind, DeltaOp::Kind::kInsert);
  sub2.Reset();
}

// Plain typing is appended to the previous local item at creation
// (AppendLocalText); an observer must still see only this transaction's
// text as inserted (yjs: a separate item until the cleanup merges it).
TEST(DocEngine, AppendedTypingKeepsEventDeltas) {
  Doc d = MakeDoc(1);
  YText t = d.GetText("t");
  t.Insert(0, u"ab");
  std::vector<DeltaOp> delta;
  auto sub =
      t.Observe([&](const YEvent& e, const Transaction&) { delta = e.delta; });
  t.Insert(2, u"cd");
  ASSERT_EQ(delta.size(), 2u);
  EXPECT_EQ(delta[0].kind, DeltaOp::Kind::kRetain);
  EXPECT_EQ(delta[0].length, 2u);
  EXPECT_EQ(delta[1].kind, DeltaOp::Kind::kInsert);
  EXPECT_EQ(delta[1].text, u"cd");
  sub.Reset();
  t.Insert(4, u"e");  // appended, no observer
  Doc e = MakeDoc(2);
  ASSERT_TRUE(ApplyUpdate(e, Full(d)).ok());
  EXPECT_EQ(e.GetText("t").ToString(), "abcde");
  EXPECT_EQ(Full(e), Full(d));
}

// Inside one transaction yjs keeps every insert its own item (merged only
// by the cleanup). With append_local_typing off the engine does too, which
// code judging items by their first clock mid-transaction needs (reduced
// from YjsPartition differential seed 73: a tag edit inserting "ghi", "é"
// and " " into "1" came out as "ghié 1"); on, the typing is appended at
// once. Either way the transaction's bytes and the final doc are the same.
TEST(DocEngine, AppendLocalTypingOffKeepsItemsOfOneTransaction) {
  Bytes updates[2];
  Bytes states[2];
  for (int on = 0; on < 2; ++on) {
    Doc d = MakeDoc(1003);
    d.set_append_local_typing(on == 1);
    YText t = d.GetText("t");
    t.Insert(0, u"1");
    auto sub = d.OnUpdate([&](std::span<const uint8_t> u, const Transaction&) {
      updates[on].assign(u.begin(), u.end());
    });
    d.Transact([&](Transaction&) {
      t.Insert(0, u"ghi");
      t.Insert(3, u"\u00e9");
      std::vector<uint64_t> lengths;
      for (const engine::Item* n = t.impl()->start; n != nullptr; n = n->right)
        lengths.push_back(n->length);
      if (on == 1) {
        EXPECT_EQ(lengths, (std::vector<uint64_t>{4, 1}));
      } else {
        EXPECT_EQ(lengths, (std::vector<uint64_t>{3, 1, 1}));
      }
      t.Insert(5, u" ");
    });
    EXPECT_EQ(t.ToString(), "ghi\u00e91 ");
    std::vector<uint64_t> lengths;
    for (const engine::Item* n = t.impl()->start; n != nullptr; n = n->right)
      lengths.push_back(n->length);
    EXPECT_EQ(lengths, (std::vector<uint64_t>{4, 1, 1}));
    states[on] = Full(d);
  }
  EXPECT_EQ(updates[0], updates[1]);
  EXPECT_EQ(states[0], states[1]);
}

// Transactions reuse their changed-key records and the doc reuses emptied
// events: many keys in one transaction (past the linear key search, with
// repeats) keep first-change order once each, and a later event carries
// nothing of an earlier one.
TEST(DocEngine, RecycledChangesAndEventsStartEmpty) {
  Doc d = MakeDoc(1);
  YMap m = d.GetMap("m");
  YArray a = d.GetArray("a");
  std::vector<std::string> keys;
  size_t deltas = 0;
  auto sub = m.Observe([&](const YEvent& e, const Transaction&) {
    keys.clear();
    for (auto& [k, c] : e.keys) keys.push_back(k);
    deltas = e.delta.size();
  });
  std::vector<std::string> want;
  d.Transact([&](Transaction&) {
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 20; ++i) {
        std::string k = "key" + std::to_string(i);
        m.Set(k, JsValue::MakeNumber(round * 100 + i));
        if (round == 0) want.push_back(k);
      }
    }
  });
  EXPECT_EQ(keys, want);
  size_t array_delta = 0;
  size_t array_keys = 0;
  auto sub2 = a.Observe([&](const YEvent& e, const Transaction&) {
    array_delta = e.delta.size();
    array_keys = e.keys.size();
  });
  ASSERT_TRUE(a.Insert(0, {JsValue::MakeNumber(1)}).ok());
  EXPECT_EQ(array_delta, 1u);
  EXPECT_EQ(array_keys, 0u);
  m.Set("key3", JsValue::MakeNumber(7));
  EXPECT_EQ(keys, std::vector<std::string>{"key3"});
  EXPECT_EQ(deltas, 0u);
  d.Transact([&](Transaction&) {
    m.Set("x", JsValue::MakeNumber(1));
    m.Set("x", JsValue::MakeNumber(2));
  });
  EXPECT_EQ(keys, std::vector<std::string>{"x"});
}

// Doc::set_lazy_events: an unobserved transaction's events, built when an
// afterTransaction handler (or, after it, an update handler) first asks,
// are the ones the eager doc builds in its cleanup.
TEST(DocEngine, LazyEventsAreTheEagerEvents) {
  auto summary = [](const Transaction& tr) {
    std::string out;
    const auto& types = tr.changed_types();
    for (engine::TypeImpl* t : types) {
      if (t->item != nullptr && t->item->deleted) continue;
      const std::vector<YEvent*>* events = tr.EventsOf(t);
      if (events == nullptr) continue;
      for (const YEvent* e : *events) {
        out += "[" +
               std::to_string(std::find(types.begin(), types.end(), e->target) -
                              types.begin());
        for (const auto& [key, change] : e->keys) {
          out += " " + key + ":" +
                 std::to_string(static_cast<int>(change.action)) +
                 (change.old_value.has_value() ? "o" : "");
        }
        for (const DeltaOp& op : e->delta) {
          out += " d" + std::to_string(static_cast<int>(op.kind)) + "/" +
                 std::to_string(op.length) + "/" +
                 std::to_string(op.text.size());
        }
        out += "]";
      }
    }
    return out;
  };
  for (bool read_in_update_handler : {false, true}) {
    Doc eager = MakeDoc(5), lazy = MakeDoc(5);
    lazy.set_lazy_events(true);
    std::vector<std::string> want, got;
    // Both docs read the events in the same handler; the eager one builds
    // them in its cleanup (it has an afterTransaction handler).
    std::vector<Subscription> subs;
    for (auto [d, events] :
         {std::pair{&eager, &want}, std::pair{&lazy, &got}}) {
      // A copy for the lambdas: clang before 16 cannot capture a
      // structured binding.
      std::vector<std::string>* out = events;
      if (read_in_update_handler) {
        // The afterTransaction handler asks for nothing; the update
        // handler, which runs after the collection, reads the events.
        subs.push_back(d->OnAfterTransaction([](const Transaction&) {}));
        subs.push_back(d->OnUpdate(
            [&summary, out](std::span<const uint8_t>, const Transaction& tr) {
              out->push_back(summary(tr));
            }));
      } else {
        subs.push_back(
            d->OnAfterTransaction([&summary, out](const Transaction& tr) {
              out->push_back(summary(tr));
            }));
      }
    }
    std::mt19937 rng(11);
    for (int step = 0; step < 200; ++step) {
      const uint32_t pick = rng();
      for (Doc* d : {&eager, &lazy}) {
        d->Transact([&](Transaction&) {
          YMap m = d->GetMap("m");
          YText t = d->GetText("t");
          const std::string key = "k" + std::to_string(pick % 4);
          switch ((pick >> 4) % 4) {
            case 0:
              m.Set(key, JsValue::MakeNumber(pick % 100));
              break;
            case 1:
              m.Delete(key);
              break;
            case 2:
              t.Insert(0, u"ab");
              break;
            default:
              if (t.Length() > 0) t.Delete(0, 1);
              m.Set(key, JsValue::MakeNumber(1));
              break;
          }
        });
      }
    }
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(got, want);
    EXPECT_GT(std::count_if(want.begin(), want.end(),
                            [](const std::string& e) { return !e.empty(); }),
              100);
  }
}

TEST(DocEngine, RelativePositions) {
  Doc d = MakeDoc(1);
  YText t = d.GetText("t");
  t.Insert(0, u"hello world");
  EXPECT_EQ(ToHex(EncodeRelativePosition(
                CreateRelativePositionFromTypeIndex(t, 6, 0))),
            "00 01 06 00");
  EXPECT_EQ(ToHex(EncodeRelativePosition(
                CreateRelativePositionFromTypeIndex(t, 6, -1))),
            "00 01 05 41");
  EXPECT_EQ(ToHex(EncodeRelativePosition(
                CreateRelativePositionFromTypeIndex(t, 11, 0))),
            "01 01 74 00");
  auto rp = CreateRelativePositionFromTypeIndex(t, 6, 0);
  t.Insert(0, u">> ");
  auto abs = CreateAbsolutePositionFromRelativePosition(rp, d);
  ASSERT_TRUE(abs.has_value());
  EXPECT_EQ(abs->index, 9u);
}

TEST(DocEngine, SurrogatePairSplitBecomesReplacementChars) {
  Doc d = MakeDoc(1);
  YText t = d.GetText("t");
  t.Insert(0, u"a\U0001F600b");
  t.Insert(2, u"X");
  EXPECT_EQ(t.ToString16(), u"a\uFFFDX\uFFFDb");
}

TEST(DocEngine, MalformedUpdatesAreRejectedWholeAndNeverCrash) {
  Doc src = MakeDoc(5);
  src.GetText("t").Insert(0, u"hello");
  src.GetMap("m").Set("k", Input::Map({{"x", JsValue::MakeNumber(1)}}));
  src.GetArray("a").Push({JsValue::MakeString("a"), JsValue::MakeBool(true)});
  src.GetText("t").Delete(1, 2);
  for (bool v2 : {false, true}) {
    Bytes good = v2 ? *EncodeStateAsUpdateV2(src) : *EncodeStateAsUpdate(src);
    std::mt19937 rng(42);
    for (int iter = 0; iter < 3000; ++iter) {
      Bytes bad = good;
      int mode = iter % 3;
      if (mode == 0) {
        bad.resize(rng() % bad.size());
      } else if (mode == 1) {
        for (int k = 0; k < 3; ++k)
          bad[rng() % bad.size()] = static_cast<uint8_t>(rng());
      } else {
        bad.insert(
            bad.begin() + static_cast<std::ptrdiff_t>(rng() % bad.size()),
            static_cast<uint8_t>(rng()));
      }
      Doc d = MakeDoc(9);
      d.GetText("t").Insert(0, u"base");
      Bytes before = Full(d);
      absl::Status s = v2 ? ApplyUpdateV2(d, bad) : ApplyUpdate(d, bad);
      if (!s.ok()) {
        EXPECT_EQ(Full(d), before) << "iteration " << iter;
      }
      (void)Full(d);
      (void)EncodeStateAsUpdateV2(d);
    }
  }
}

TEST(DocEngine, ArrayInsertRejectsBadIndexAndValues) {
  Doc d = MakeDoc(1);
  YArray a = d.GetArray("a");
  EXPECT_FALSE(a.Insert(1, {JsValue::MakeNumber(1)}).ok());
  EXPECT_FALSE(a.Insert(0, {JsValue::MakeUndefined()}).ok());
  EXPECT_EQ(ToHex(Full(d)), "00 00");
}

TEST(DocEngine, SubscriptionsMayOutliveDocAndTypes) {
  Subscription s1, s2;
  {
    auto d = std::make_unique<Doc>(DocOptions{1, true, ""});
    s1 = d->OnUpdate([](std::span<const uint8_t>, const Transaction&) {});
    YMap m = d->GetMap("m");
    m.Set("inner", Input::Map());
    s2 = YMap(m.Get("inner")->type)
             .Observe([](const YEvent&, const Transaction&) {});
    m.Delete("inner");  // collects the nested map and its handlers
  }
  s1.Reset();
  s2.Reset();
}

TEST(DocEngine, TransactionStartedInObserverRunsAfterCurrent) {
  Doc d = MakeDoc(1);
  Recorder r(d);
  YMap m = d.GetMap("m");
  bool once = false;
  auto sub = m.Observe([&](const YEvent&, const Transaction&) {
    if (once) return;
    once = true;
    m.Set("echo", JsValue::MakeNumber(1));
  });
  m.Set("k", JsValue::MakeNumber(0));
  ASSERT_EQ(r.v1.size(), 2u);  // the observer's change is its own update
  EXPECT_TRUE(m.Has("echo"));
}

}  // namespace
}  // namespace auxsync::crdt

namespace auxsync::crdt {
namespace {

// A peer can nest types arbitrarily deep; deleting (and collecting) the
// outermost one must not recurse once per level.
TEST(DocEngine, DeeplyNestedTypesFromAPeerDoNotExhaustTheStack) {
  // Build the update by hand: item k (client 1, clock k) is a YMap stored
  // under key "x" of the map held by item k-1; item 0 is in root "m".
  engine::Writer w;
  constexpr uint64_t kDepth = 200000;
  w.VarUint(1);
  w.VarUint(kDepth);
  w.VarUint(1);
  w.VarUint(0);
  for (uint64_t k = 0; k < kDepth; ++k) {
    w.U8(0x20 | 7);  // parentSub | ContentType
    if (k == 0) {
      w.VarUint(1);
      w.VarString("m");
    } else {
      w.VarUint(0);
      w.VarUint(1);
      w.VarUint(k - 1);
    }
    w.VarString("x");
    w.VarUint(1);  // YMap
  }
  w.VarUint(0);
  Bytes u = w.Take();
  Doc d = MakeDoc(2);
  ASSERT_TRUE(ApplyUpdate(d, u).ok());
  d.GetMap("m").Delete("x");
  EXPECT_FALSE(d.GetMap("m").Has("x"));
}

}  // namespace
}  // namespace auxsync::crdt

namespace auxsync::crdt {
namespace {

// insertNegatedAttributes compares negatedAttributes.get(key) without
// `?? null`: a format item whose key was not negated (here color=null, the
// end of the color range) stops the scan even though its value is null, so
// bold=null goes before it. Bytes from yjs 13.6.27.
TEST(DocEngine, NegatedAttributesStopAtAFormatTheyDoNotNegate) {
  Doc d = MakeDoc(1);
  Recorder r(d);
  YText t = d.GetText("t");
  const Attributes color = {{"color", JsValue::MakeBool(true)}};
  const Attributes bold_color = {{"bold", JsValue::MakeBool(true)},
                                 {"color", JsValue::MakeBool(true)}};
  t.Insert(0, u"abc", &color);
  t.Insert(3, u"X", &bold_color);
  ASSERT_EQ(r.v1.size(), 2u);
  EXPECT_EQ(r.v1[0],
            FromB64("AQMBAAYBAXQFY29sb3IEdHJ1ZYQBAANhYmOGAQMFY29sb3IEbn"
                    "VsbAA="));
  EXPECT_EQ(r.v1[1],
            FromB64("AQMBBcYBAwEEBGJvbGQEdHJ1ZcQBBQEEAVjGAQYBBARib2xkBG"
                    "51bGwA"));
}

// Update handlers see the list as it was when the event started (lib0's
// observable iterates a copy): a handler removing itself and another one,
// or adding one, changes who is called from the next event on.
TEST(DocEngine, HandlersAddedOrRemovedDuringAnEventTakeEffectNextTime) {
  DocOptions o;
  o.client_id = 1;
  Doc doc(o);
  std::vector<std::string> calls;
  Subscription a, b, c;
  a = doc.OnUpdate([&](std::span<const uint8_t>, const Transaction&) {
    calls.push_back("a");
    a.Reset();  // itself
    b.Reset();  // a later one: still called this time
    c = doc.OnUpdate([&](std::span<const uint8_t>, const Transaction&) {
      calls.push_back("c");
    });
  });
  b = doc.OnUpdate([&](std::span<const uint8_t>, const Transaction&) {
    calls.push_back("b");
  });
  doc.GetText("t").Insert(0, u"x");
  EXPECT_EQ(calls, (std::vector<std::string>{"a", "b"}));
  doc.GetText("t").Insert(0, u"y");
  EXPECT_EQ(calls, (std::vector<std::string>{"a", "b", "c"}));
  c.Reset();
  doc.GetText("t").Insert(0, u"z");
  EXPECT_EQ(calls.size(), 3u);
}

// yjs writes client sections in descending order, and the engine's
// integration looks clients up in that order; an encoder may write them in
// any order (the format does not fix it), which must apply alike.
TEST(DocEngine, ClientSectionsInAnyOrderApplyAlike) {
  Doc a = MakeDoc(1), b = MakeDoc(2), c = MakeDoc(3);
  a.GetText("t").Insert(0, u"aaa");
  Sync(a, b);
  b.GetText("t").Insert(2, u"bb");  // between a's units
  Sync(b, c);
  c.GetText("t").Insert(3, u"c");  // after b's first unit
  c.GetText("t").Delete(0, 1);
  const Bytes full = Full(c);
  for (UpdateVersion v : {UpdateVersion::kV1, UpdateVersion::kV2}) {
    SCOPED_TRACE(static_cast<int>(v));
    Bytes wire = full;
    if (v == UpdateVersion::kV2) {
      wire = *EncodeStateAsUpdateV2(c);
    }
    absl::StatusOr<DecodedUpdate> d = ReadUpdate(wire, v);
    ASSERT_TRUE(d.ok()) << d.status();
    ASSERT_EQ(d->sections.size(), 3u);
    std::reverse(d->sections.begin(), d->sections.end());  // ascending
    absl::StatusOr<Bytes> ascending = WriteUpdate(*d, v);
    ASSERT_TRUE(ascending.ok()) << ascending.status();
    ASSERT_NE(*ascending, wire);
    Doc loaded = MakeDoc(9);
    absl::Status s = v == UpdateVersion::kV1
                         ? ApplyUpdate(loaded, *ascending)
                         : ApplyUpdateV2(loaded, *ascending);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(loaded.GetText("t").ToString16(), u"abcba");
    EXPECT_EQ(Full(loaded), full);
  }
}

}  // namespace
}  // namespace auxsync::crdt
