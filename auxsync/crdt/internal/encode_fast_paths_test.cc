// Copyright 2025 The auxsync Authors.
//
// The fast paths of the update writers against their plain forms: the
// branch-free varUint store, the encoder's growth (room zeroed in steps,
// reallocation copying only written bytes), and the ASCII-first UTF-16 ->
// UTF-8 conversion (against WriteUtf16AsUtf8, which the differential tests
// check against TextEncoder); and encodeStateAsUpdate(V2)'s cursor-based
// struct writers (update_write.cc) against the engine's generic writer
// (UpdateWriter, one virtual call per field) on documents holding every
// struct shape and content kind.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/id.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/internal/lib0_decoder.h"
#include "auxsync/crdt/internal/lib0_encoder.h"
#include "auxsync/crdt/internal/update_encoder.h"
#include "auxsync/crdt/internal/utf16_ascii.h"
#include "auxsync/crdt/internal/utf8.h"
#include "auxsync/crdt/types.h"
#include "gtest/gtest.h"

namespace auxsync::crdt::internal {
namespace {

using Bytes = std::vector<uint8_t>;

// lib0's varUint, one byte at a time.
Bytes PlainVarUint(uint64_t v) {
  Bytes b;
  while (v > 0x7f) {
    b.push_back(static_cast<uint8_t>(0x80 | (v & 0x7f)));
    v >>= 7;
  }
  b.push_back(static_cast<uint8_t>(v));
  return b;
}

// Every value next to a power of two (where var-int sizes change) and 2,000
// random values of random widths from `seed`.
std::vector<uint64_t> BoundaryValues(uint64_t seed) {
  std::vector<uint64_t> values;
  for (int bits = 0; bits <= 63; ++bits) {
    const uint64_t p = uint64_t{1} << bits;
    values.push_back(p - 1);
    values.push_back(p);
    values.push_back(p + 1);
  }
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 2000; ++i) values.push_back(rng() >> (rng() % 64));
  return values;
}

TEST(EncodeFastPaths, PutVarUintMatchesLib0AtEverySizeBoundary) {
  const std::vector<uint64_t> values = BoundaryValues(7);
  for (uint64_t v : values) {
    const Bytes want = PlainVarUint(v);
    uint8_t room[16];
    std::fill(std::begin(room), std::end(room), 0xEE);
    uint8_t* end = PutVarUint(room, v);
    ASSERT_EQ(Bytes(room, end), want) << v;
    EXPECT_EQ(VarUintSize(v), want.size()) << v;
    std::fill(std::begin(room), std::end(room), 0xEE);
    end = PutVarUintExact(room, v);
    ASSERT_EQ(Bytes(room, end), want) << v;
    EXPECT_EQ(room[want.size()], 0xEE) << "exact form wrote past its end";
    Lib0Encoder e;
    e.WriteVarUint(v);
    EXPECT_EQ(e.Take(), want) << v;
  }
}

// lib0's sign-magnitude varInt, one byte at a time.
Bytes PlainVarIntSM(bool negative, uint64_t m) {
  Bytes b;
  b.push_back(static_cast<uint8_t>((m > 0x3f ? 0x80 : 0) |
                                   (negative ? 0x40 : 0) | (m & 0x3f)));
  m >>= 6;
  while (m > 0) {
    b.push_back(static_cast<uint8_t>((m > 0x7f ? 0x80 : 0) | (m & 0x7f)));
    m >>= 7;
  }
  return b;
}

TEST(EncodeFastPaths, PutVarIntSMMatchesLib0AtEverySizeBoundary) {
  const std::vector<uint64_t> values = BoundaryValues(5);
  for (uint64_t m : values) {
    for (bool negative : {false, true}) {
      uint8_t room[16];
      uint8_t* end = PutVarIntSM(room, negative, m);
      ASSERT_EQ(Bytes(room, end), PlainVarIntSM(negative, m)) << m;
    }
  }
  // -0 (a run of zeros in the v2 columns) and the decoder's reading.
  Lib0Encoder e;
  e.WriteVarIntSignMagnitude(true, 0);
  EXPECT_EQ(e.Take(), (Bytes{0x40}));
  constexpr int64_t kMax = static_cast<int64_t>(kMaxSafeInteger);
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{63}, int64_t{-64},
                    int64_t{1} << 20, -(int64_t{1} << 27), kMax, -kMax}) {
    e.WriteVarInt(v);
    Bytes b = e.Take();
    Lib0Decoder d(b);
    EXPECT_EQ(d.ReadVarInt(), v);
    EXPECT_TRUE(d.ok());
  }
}

// The pdep forms the run writers use on CPUs with BMI2 (the rest of the
// writers is the same code for both forms, so these are the difference).
TEST(EncodeFastPaths, PdepVarIntsMatchLib0AtEverySizeBoundary) {
  if (!CpuHasPdep()) GTEST_SKIP() << "no BMI2 on this CPU";
  for (uint64_t v : BoundaryValues(11)) {
    uint8_t room[16];
    uint8_t* end = PutVarUint<true>(room, v);
    ASSERT_EQ(Bytes(room, end), PlainVarUint(v)) << v;
    end = PutSmallVarUint<true>(room, v);
    ASSERT_EQ(Bytes(room, end), PlainVarUint(v)) << v;
    for (bool negative : {false, true}) {
      end = PutVarIntSM<true>(room, negative, v);
      ASSERT_EQ(Bytes(room, end), PlainVarIntSM(negative, v)) << v;
    }
    // A v2 column's runs: a value alone or repeated, a difference run.
    for (uint64_t count : {uint64_t{1}, uint64_t{2}, uint64_t{3}, v + 2}) {
      if (count < 1 || v >= kMaxSafeInteger / 4) continue;
      uint8_t want[32];
      uint8_t* want_end = PutUintOptRun<false>(want, v, count);
      end = PutUintOptRun<true>(room, v, count);
      ASSERT_EQ(Bytes(room, end), Bytes(want, want_end)) << v << " " << count;
      for (int64_t diff : {static_cast<int64_t>(v), -static_cast<int64_t>(v)}) {
        want_end = PutIntDiffOptRun<false>(want, diff, count);
        end = PutIntDiffOptRun<true>(room, diff, count);
        ASSERT_EQ(Bytes(room, end), Bytes(want, want_end))
            << diff << " " << count;
      }
    }
  }
}

// Writes across many growth steps (with and without a reservation) and
// through Room/Commit, then compares with the same bytes built plainly.
template <typename Encoder>
void CheckGrowthKeepsEveryByte() {
  for (size_t reserve : {size_t{0}, size_t{10}, size_t{5000}}) {
    Encoder e;
    e.Reserve(reserve);
    Bytes want;
    std::mt19937 rng(static_cast<uint32_t>(reserve));
    for (int i = 0; i < 20000; ++i) {
      switch (rng() % 3) {
        case 0: {
          const uint64_t v = rng() >> (rng() % 32);
          e.WriteVarUint(v);
          const Bytes b = PlainVarUint(v);
          want.insert(want.end(), b.begin(), b.end());
          break;
        }
        case 1: {
          const size_t n = rng() % 300;
          uint8_t* p = e.Room(n + 10);
          ASSERT_GE(e.room(), n + 10);
          for (size_t k = 0; k < n; ++k) {
            p[k] = static_cast<uint8_t>(i + k);
            want.push_back(static_cast<uint8_t>(i + k));
          }
          e.Commit(n);
          break;
        }
        default:
          e.WriteUint8(static_cast<uint8_t>(i));
          want.push_back(static_cast<uint8_t>(i));
      }
    }
    ASSERT_EQ(e.size(), want.size());
    EXPECT_TRUE(std::equal(want.begin(), want.end(), e.view().begin()));
    EXPECT_EQ(e.Take(), want);
    EXPECT_TRUE(e.empty());
    // The encoder is usable again after Take.
    e.WriteVarUint(300);
    EXPECT_EQ(e.Take(), PlainVarUint(300));
  }
}

TEST(EncodeFastPaths, EncoderGrowthKeepsEveryByte) {
  CheckGrowthKeepsEveryByte<Lib0Encoder>();
}

// The unzeroed buffer of the v2 columns.
TEST(EncodeFastPaths, RawEncoderGrowthKeepsEveryByte) {
  CheckGrowthKeepsEveryByte<RawLib0Encoder>();
}

// Random UTF-16 text: mostly ASCII, with Latin, BMP, pairs and lone
// surrogates placed anywhere (also at step boundaries and in the last,
// overlapping step).
std::u16string RandomText(std::mt19937& rng, size_t n) {
  std::u16string s;
  const int mix = static_cast<int>(rng() % 4);
  while (s.size() < n) {
    const uint32_t r = rng() % 100;
    if (mix == 0 || r < 80) {
      s.push_back(static_cast<char16_t>(0x20 + rng() % 0x5f));
    } else if (r < 85) {
      s.push_back(static_cast<char16_t>(0x80 + rng() % 0x780));
    } else if (r < 90) {
      s.push_back(static_cast<char16_t>(0xE000 + rng() % 0x1000));
    } else if (r < 95) {
      s.push_back(static_cast<char16_t>(0xD800 + rng() % 0x400));
      s.push_back(static_cast<char16_t>(0xDC00 + rng() % 0x400));
    } else {
      s.push_back(static_cast<char16_t>(0xD800 + rng() % 0x800));
    }
  }
  s.resize(n);
  return s;
}

TEST(EncodeFastPaths, AsciiFirstConversionMatchesTheGeneralOne) {
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    const std::u16string s = RandomText(rng, rng() % 70);
    Bytes want(3 * s.size() + 1);
    want.resize(
        static_cast<size_t>(WriteUtf16AsUtf8(s, want.data()) - want.data()));
    ASSERT_EQ(want.size(), Utf8LengthOfUtf16(s));
    // Exactly 3 units of room per unit: the fast path may not write more.
    Bytes got(3 * s.size() + 8, 0xEE);
    uint8_t* end = WriteUtf16AsUtf8Fast(s, got.data());
    ASSERT_EQ(Bytes(got.data(), end), want) << i << " size " << s.size();
    for (size_t k = 3 * s.size(); k < got.size(); ++k) {
      ASSERT_EQ(got[k], 0xEE) << "wrote past the room, size " << s.size();
    }
  }
}

}  // namespace
}  // namespace auxsync::crdt::internal

namespace auxsync::crdt {
namespace {

// The state of `doc` as the generic writer writes it.
std::vector<uint8_t> GenericState(const Doc& doc, bool v2) {
  std::unique_ptr<engine::UpdateWriter> w = engine::NewWriter(v2);
  engine::WriteStoreStructs(*w, doc.store(), {});
  engine::WriteDeleteSet(*w, engine::DeleteSetFromStore(doc.store()));
  return w->Finish();
}

std::vector<uint8_t> State(const Doc& doc, bool v2) {
  absl::StatusOr<std::vector<uint8_t>> s =
      v2 ? EncodeStateAsUpdateV2(doc) : EncodeStateAsUpdate(doc);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : std::vector<uint8_t>();
}

DocOptions Options(uint64_t client, bool gc) {
  DocOptions o;
  o.client_id = client;
  o.gc = gc;
  return o;
}

// Values of every kind writeAny knows, numbers on both sides of each of
// its bounds (integer / float32 / float64).
std::vector<JsValue> Values() {
  std::vector<JsValue> v;
  for (double d : {0.0,
                   -0.0,
                   1.0,
                   -1.0,
                   63.0,
                   64.0,
                   -64.0,
                   8191.0,
                   8192.0,
                   2147483647.0,
                   2147483648.0,
                   -2147483647.0,
                   -2147483648.0,
                   0.5,
                   -1.25,
                   1e300,
                   -1e-300,
                   3.4028234663852886e38,
                   std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN(),
                   9007199254740991.0,
                   0.1}) {
    v.push_back(JsValue::MakeNumber(d));
  }
  v.push_back(JsValue::MakeString(""));
  v.push_back(JsValue::MakeString("ascii"));
  v.push_back(JsValue::MakeString("\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80"));
  v.push_back(JsValue::MakeString(std::string(300, 'x')));
  v.push_back(JsValue::MakeBool(true));
  v.push_back(JsValue::MakeBool(false));
  v.push_back(JsValue::MakeNull());
  v.push_back(JsValue::MakeUndefined());
  v.push_back(JsValue::MakeBigInt(-5));
  v.push_back(JsValue::MakeBytes({1, 2, 3}));
  v.push_back(JsValue::MakeArray(
      {JsValue::MakeNumber(1), JsValue::MakeString("two"), JsValue()}));
  v.push_back(JsValue::MakeMap(
      {{"a", JsValue::MakeNumber(1)}, {"b", JsValue::MakeString("c")}}));
  return v;
}

// A document with map entries (root and nested; overwritten keys, so
// items with origins and with keys), arrays of several values per item,
// texts (ASCII, non-ASCII, surrogate pairs, long strings, embeds, formats,
// deletions), XML elements and hooks, and items of a second client.
void Fill(Doc& doc) {
  YMap m = doc.GetMap("map");
  const std::vector<JsValue> values = Values();
  doc.Transact([&](Transaction&) {
    for (size_t i = 0; i < values.size(); ++i) {
      m.Set("k" + std::to_string(i), values[i]);
    }
    m.Set(std::string(200, 'K'), JsValue::MakeNumber(7));
    m.Set("nested", Input::Map({{"x", JsValue::MakeNumber(1)},
                                {"t", Input::Text(u"inner text")}}));
    m.Set("list", Input::Array({JsValue::MakeNumber(1), Input::Text(u"a")}));
  });
  doc.Transact([&](Transaction&) {
    // Overwrites: the new items have the old ones as origin.
    m.Set("k0", JsValue::MakeString("again"));
    m.Set("k1", JsValue::MakeNumber(-3));
    m.Delete("k2");
  });
  YArray a = doc.GetArray("array");
  doc.Transact([&](Transaction&) {
    // (Arrays refuse a bigint and undefined, as yjs does: skipped.)
    for (const JsValue& v : values)
      a.Insert(a.ToVector().size(), {v}).IgnoreError();
    ASSERT_TRUE(a.Insert(2, {values[0], values[1], values[2]}).ok());
    a.Push({Input::Map(), Input::Array(), Input::Text(u"t")});
  });
  ASSERT_TRUE(a.Delete(3, 4).ok());
  YText t = doc.GetText("text");
  t.Insert(0,
           u"plain ascii text that is longer than sixty-four units, "
           u"written in one go");
  t.Insert(5, u"\u00e9\u4e2d\U0001F600 mixed");
  for (int i = 0; i < 40; ++i) t.Insert(3 + i, u"x");
  t.InsertEmbed(2, JsValue::MakeMap({{"image", JsValue::MakeString("a")}}));
  t.Format(1, 6, {{"bold", JsValue::MakeBool(true)}});
  t.Delete(10, 12);
  t.Delete(0, 1);
  YXmlFragment x = doc.GetXmlFragment("xml");
  Input el;
  el.kind = Input::Kind::kXmlElement;
  el.name = "p";
  Input hook;
  hook.kind = Input::Kind::kXmlHook;
  hook.name = "hook";
  Input xt;
  xt.kind = Input::Kind::kXmlText;
  xt.text = u"xml text";
  ASSERT_TRUE(x.Insert(0, {el, hook, xt}).ok());
}

// The one-step form for short ASCII strings, at every length up to 16 and
// every alignment, with text after the string's end (ASCII or not) that
// must not matter; and through Text16s of every kind (inline, heap, a view
// at its block's end), whose buffers must allow its 32-byte read (ASan
// checks that in build-asan).
TEST(EncodeFastPaths, ShortAsciiStepMatchesTheGeneralConversion) {
  std::vector<char16_t> buf(64);
  std::mt19937 rng(5);
  auto check = [](const char16_t* d, size_t n, bool plain) {
    const std::u16string_view s(d, n);
    std::vector<uint8_t> want(3 * n + 1);
    want.resize(static_cast<size_t>(internal::WriteUtf16AsUtf8(s, want.data()) -
                                    want.data()));
    uint8_t out[16];
    const bool took = internal::WriteAsciiUpTo16(d, n, out);
    ASSERT_EQ(took, plain) << n;
    if (took) {
      ASSERT_EQ(std::vector<uint8_t>(out, out + n), want) << n;
    }
  };
  for (size_t n = 0; n <= 16; ++n) {
    for (size_t at = 0; at < 8; ++at) {
      char16_t* d = buf.data() + at;
      for (size_t i = 0; i < n + 16; ++i) {
        d[i] = static_cast<char16_t>(0x20 + rng() % 0x5f);
      }
      // Non-ASCII in the string (at a random unit) or only past its end.
      const bool plain = n == 0 || rng() % 2 == 0;
      if (!plain) d[rng() % n] = u'\u00e9';
      d[n] = u'\u4e2d';  // past the end: must not matter
      check(d, n, plain);
    }
  }
  for (size_t n = 0; n <= 16; ++n) {
    std::u16string text;
    for (size_t i = 0; i < n; ++i) text += static_cast<char16_t>(u'a' + i);
    // Inline up to Text16::kInline (within its item, as always), else on
    // the heap.
    engine::Item item;
    char16_t* w = item.content.str.Overwrite(n);
    std::copy(text.begin(), text.end(), w);
    check(item.content.str.data(), n, true);
    if (n == 0) continue;
    // A view ending at its block's last unit.
    engine::TextBlock* block = engine::TextBlock::New(n);
    char16_t* p = block->Extend(n);
    std::copy(text.begin(), text.end(), p);
    engine::Text16 view = engine::Text16::View(block, 0, n);
    block->Unref();
    check(view.data(), n, true);
  }
}

TEST(EncodeFastPaths, StateWritersMatchTheGenericWriter) {
  for (bool gc : {true, false}) {
    Doc doc(Options(7, gc));
    Fill(doc);
    // A second client's edits, received as an update.
    Doc other(Options(300000, gc));
    ASSERT_TRUE(ApplyUpdate(other, State(doc, false)).ok());
    other.GetText("text").Insert(4, u"from another client");
    other.GetMap("map").Set("k3", JsValue::MakeNumber(12345678));
    ASSERT_TRUE(ApplyUpdate(doc, State(other, false)).ok());
    doc.GetText("text").Insert(0, u"after merge");
    for (bool v2 : {false, true}) {
      const std::vector<uint8_t> state = State(doc, v2);
      EXPECT_EQ(state, GenericState(doc, v2)) << "gc " << gc << " v2 " << v2;
      Doc copy(Options(9, gc));
      ASSERT_TRUE(
          (v2 ? ApplyUpdateV2(copy, state) : ApplyUpdate(copy, state)).ok());
      EXPECT_EQ(State(copy, v2), state);
      EXPECT_EQ(copy.GetText("text").ToString16(),
                doc.GetText("text").ToString16());
    }
  }
}

// Long runs of typed text (more structs than one batch of the run
// writers, and texts longer than a batch's room) from two clients.
TEST(EncodeFastPaths, LongStateRunsMatchTheGenericWriter) {
  Doc doc(Options(5, true));
  YText t = doc.GetText("text");
  std::u16string big(5000, u'a');
  big[2500] = u'\u00e9';
  t.Insert(0, big);
  for (int i = 0; i < 3000; ++i) {
    t.Insert(static_cast<uint64_t>((i * 7919) % 5000),
             i % 3 == 0 ? u"\u00e9" : u"z");
    if (i % 5 == 0) t.Delete(static_cast<uint64_t>((i * 31) % 4000), 2);
  }
  for (bool v2 : {false, true}) {
    EXPECT_EQ(State(doc, v2), GenericState(doc, v2)) << "v2 " << v2;
  }
}

// The v2 run writer hands a string ending in a high surrogate (lib0 joins
// it with the next string of the column) and the struct after it to the
// column encoder: a pair cut across two structs in clock order, a lone
// high half followed by a non-surrogate, in the middle of longer runs.
TEST(EncodeFastPaths, StateRunsWithSurrogateHalvesMatchTheGenericWriter) {
  Doc doc(Options(5, true));
  YText t = doc.GetText("text");
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 40; ++i) t.Insert(0, i % 2 == 0 ? u"ab" : u"c");
    // Clock order: ..., "ab" + high half, low half + "c" (inserted before
    // it, so the two never merge), then a high half before plain text.
    t.Insert(2, u"ab\xD83D");
    t.Insert(2,
             u"\xDE00"
             u"c");
    t.Insert(1, u"\xD83D");
    t.Insert(1, u"xyz");
    t.Insert(0, u"\xDE00\xD83D\xDE00");
    t.Delete(5, 3);
  }
  for (bool v2 : {false, true}) {
    const std::vector<uint8_t> state = State(doc, v2);
    EXPECT_EQ(state, GenericState(doc, v2)) << "v2 " << v2;
    Doc copy(Options(9, true));
    ASSERT_TRUE(
        (v2 ? ApplyUpdateV2(copy, state) : ApplyUpdate(copy, state)).ok());
    EXPECT_EQ(State(copy, v2), state);
  }
}

}  // namespace
}  // namespace auxsync::crdt
