// Copyright 2025 The auxsync Authors.
//
// lib0 primitives: the boundary values of spec §2 and the Any table of §2.7,
// written and read back, plus the decoder's handling of hostile bytes.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "auxsync/crdt/any.h"
#include "auxsync/crdt/id.h"
#include "auxsync/crdt/internal/json.h"
#include "auxsync/crdt/internal/lib0_decoder.h"
#include "auxsync/crdt/internal/lib0_encoder.h"
#include "auxsync/crdt/internal/update_encoder.h"
#include "auxsync/crdt/internal/utf8.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::crdt::internal {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes VarUint(uint64_t v) {
  Lib0Encoder e;
  e.WriteVarUint(v);
  return e.Take();
}

Bytes VarInt(int64_t v) {
  Lib0Encoder e;
  e.WriteVarInt(v);
  return e.Take();
}

Bytes AnyBytes(const Any& v) {
  Lib0Encoder e;
  e.WriteAny(v);
  return e.Take();
}

Any ReadAnyFrom(const Bytes& b, absl::Status* st = nullptr) {
  Lib0Decoder d(b);
  Any v = d.ReadAny();
  if (st != nullptr) *st = d.status();
  return v;
}

TEST(Lib0VarUint, BoundaryValues) {
  EXPECT_EQ(VarUint(0), (Bytes{0x00}));
  EXPECT_EQ(VarUint(127), (Bytes{0x7f}));
  EXPECT_EQ(VarUint(128), (Bytes{0x80, 0x01}));
  EXPECT_EQ(VarUint(300), (Bytes{0xac, 0x02}));
  EXPECT_EQ(VarUint(4294967295u), (Bytes{0xff, 0xff, 0xff, 0xff, 0x0f}));
  EXPECT_EQ(VarUint(kMaxSafeInteger),
            (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f}));
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128},
                     uint64_t{16383}, uint64_t{16384}, uint64_t{1} << 31,
                     uint64_t{1} << 32, kMaxSafeInteger}) {
    Bytes b = VarUint(v);
    Lib0Decoder d(b);
    EXPECT_EQ(d.ReadVarUint(), v);
    EXPECT_TRUE(d.ok());
    EXPECT_FALSE(d.has_content());
  }
}

TEST(Lib0VarUint, RejectsAboveMaxSafeInteger) {
  // 2^53 exactly.
  Bytes b = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10};
  Lib0Decoder d(b);
  EXPECT_EQ(d.ReadVarUint(), 0u);
  EXPECT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), testing::HasSubstr("byte 0"));
  // 2^64-ish garbage with ten continuation bytes.
  Bytes big(10, 0xff);
  big.push_back(0x01);
  Lib0Decoder d2(big);
  d2.ReadVarUint();
  EXPECT_FALSE(d2.ok());
}

TEST(Lib0VarUint, AcceptsOverlongZeros) {
  // lib0 accepts redundant zero groups.
  Bytes b = {0x81, 0x80, 0x80, 0x00};
  Lib0Decoder d(b);
  EXPECT_EQ(d.ReadVarUint(), 1u);
  EXPECT_TRUE(d.ok());
}

TEST(Lib0VarUint, TruncatedIsAnErrorWithOffset) {
  Bytes b = {0x05, 0x80, 0x80};
  Lib0Decoder d(b);
  EXPECT_EQ(d.ReadVarUint(), 5u);
  d.ReadVarUint();
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(d.error()->offset, 1u);
  EXPECT_EQ(std::string(d.status().message()),
            "update: unexpected end of input in varUint at byte 1");
  // Sticky: later reads give zero.
  EXPECT_EQ(d.ReadUint8(), 0);
  EXPECT_EQ(d.error()->offset, 1u);
}

TEST(Lib0VarInt, BoundaryValues) {
  EXPECT_EQ(VarInt(0), (Bytes{0x00}));
  EXPECT_EQ(VarInt(1), (Bytes{0x01}));
  EXPECT_EQ(VarInt(-1), (Bytes{0x41}));
  EXPECT_EQ(VarInt(63), (Bytes{0x3f}));
  EXPECT_EQ(VarInt(-63), (Bytes{0x7f}));
  EXPECT_EQ(VarInt(64), (Bytes{0x80, 0x01}));
  EXPECT_EQ(VarInt(-64), (Bytes{0xc0, 0x01}));
  EXPECT_EQ(VarInt(127), (Bytes{0xbf, 0x01}));
  EXPECT_EQ(VarInt(2147483647), (Bytes{0xbf, 0xff, 0xff, 0xff, 0x0f}));
  Lib0Encoder e;
  e.WriteVarIntSignMagnitude(true, 0);
  EXPECT_EQ(e.Take(), (Bytes{0x40}));
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{64}, int64_t{-8192},
                    int64_t{1} << 40, -(int64_t{1} << 52)}) {
    Bytes b = VarInt(v);
    Lib0Decoder d(b);
    EXPECT_EQ(d.ReadVarInt(), v);
    EXPECT_TRUE(d.ok());
  }
  Bytes negzero = {0x40};
  Lib0Decoder d(negzero);
  Lib0Decoder::SignMagnitude sm = d.ReadVarIntSignMagnitude();
  EXPECT_TRUE(sm.negative);
  EXPECT_EQ(sm.magnitude, 0u);
}

TEST(Lib0VarInt, RejectsAboveMaxSafeInteger) {
  Bytes b = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  Lib0Decoder d(b);
  d.ReadVarIntSignMagnitude();
  EXPECT_FALSE(d.ok());
}

TEST(Lib0String, Utf8AndFatalDecoding) {
  Lib0Encoder e;
  e.WriteVarString("a\xF0\x9F\x98\x80\xC3\xA9");  // "a😀é"
  EXPECT_EQ(Bytes(e.bytes().begin(), e.bytes().end()),
            (Bytes{0x07, 0x61, 0xf0, 0x9f, 0x98, 0x80, 0xc3, 0xa9}));
  Lib0Decoder d(e.bytes());
  uint64_t units = 0;
  EXPECT_EQ(d.ReadVarString(&units), "a\xF0\x9F\x98\x80\xC3\xA9");
  EXPECT_EQ(units, 4u);
  // lib0's TextDecoder is fatal: invalid UTF-8 rejects the input.
  for (Bytes bad :
       {Bytes{0x01, 0x80}, Bytes{0x02, 0xc0, 0x80},
        Bytes{0x03, 0xed, 0xa0, 0x80}, Bytes{0x04, 0xf4, 0x90, 0x80, 0x80},
        Bytes{0x02, 0xe2, 0x82}}) {
    Lib0Decoder bd(bad);
    bd.ReadVarString();
    EXPECT_FALSE(bd.ok()) << bad.size();
  }
  // ignoreBOM: a leading BOM is kept.
  Bytes bom = {0x03, 0xef, 0xbb, 0xbf};
  Lib0Decoder b2(bom);
  EXPECT_EQ(b2.ReadVarString().size(), 3u);
}

TEST(Lib0String, HugeDeclaredLengthIsAnError) {
  Bytes b = {0xff, 0xff, 0xff, 0xff, 0x0f, 'a'};
  Lib0Decoder d(b);
  d.ReadVarString();
  EXPECT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), testing::HasSubstr("exceeds"));
}

struct AnyCase {
  Any value;
  Bytes bytes;
};

TEST(Lib0Any, SpecTable) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<AnyCase> cases = {
      {Any::MakeNumber(0), {0x7d, 0x00}},
      {Any::MakeNumber(-0.0), {0x7d, 0x40}},
      {Any::MakeNumber(63), {0x7d, 0x3f}},
      {Any::MakeNumber(64), {0x7d, 0x80, 0x01}},
      {Any::MakeNumber(-1), {0x7d, 0x41}},
      {Any::MakeNumber(2147483647), {0x7d, 0xbf, 0xff, 0xff, 0xff, 0x0f}},
      {Any::MakeNumber(-2147483647), {0x7d, 0xff, 0xff, 0xff, 0xff, 0x0f}},
      {Any::MakeNumber(2147483648.0), {0x7c, 0x4f, 0x00, 0x00, 0x00}},
      {Any::MakeNumber(-2147483648.0), {0x7c, 0xcf, 0x00, 0x00, 0x00}},
      {Any::MakeNumber(4294967296.0), {0x7c, 0x4f, 0x80, 0x00, 0x00}},
      {Any::MakeNumber(16777217), {0x7d, 0x81, 0x80, 0x80, 0x10}},
      {Any::MakeNumber(9007199254740991.0),
       {0x7b, 0x43, 0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
      {Any::MakeNumber(9007199254740992.0), {0x7c, 0x5a, 0x00, 0x00, 0x00}},
      {Any::MakeNumber(9007199254740994.0),
       {0x7b, 0x43, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}},
      {Any::MakeNumber(1.5), {0x7c, 0x3f, 0xc0, 0x00, 0x00}},
      {Any::MakeNumber(0.1),
       {0x7b, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a}},
      {Any::MakeNumber(nan),
       {0x7b, 0x7f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {Any::MakeNumber(inf), {0x7c, 0x7f, 0x80, 0x00, 0x00}},
      {Any::MakeNumber(-inf), {0x7c, 0xff, 0x80, 0x00, 0x00}},
      {Any::MakeNumber(1e300),
       {0x7b, 0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c}},
      {Any::MakeBigInt(5), {0x7a, 0, 0, 0, 0, 0, 0, 0, 5}},
      {Any::MakeBigInt(-1),
       {0x7a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
      {Any::MakeBool(true), {0x78}},
      {Any::MakeBool(false), {0x79}},
      {Any::MakeNull(), {0x7e}},
      {Any(), {0x7f}},
      {Any::MakeString(""), {0x77, 0x00}},
      {Any::MakeBytes({1, 2}), {0x74, 0x02, 0x01, 0x02}},
      {Any::MakeArray({Any::MakeNumber(1), Any::MakeString("a")}),
       {0x75, 0x02, 0x7d, 0x01, 0x77, 0x01, 'a'}},
      {Any::MakeMap({{"k", Any::MakeNull()}}), {0x76, 0x01, 0x01, 'k', 0x7e}},
  };
  for (const AnyCase& c : cases) {
    EXPECT_EQ(AnyBytes(c.value), c.bytes) << c.value.DebugString();
    absl::Status st;
    Any back = ReadAnyFrom(c.bytes, &st);
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_EQ(back, c.value)
        << c.value.DebugString() << " vs " << back.DebugString();
  }
}

TEST(Lib0Any, Float32ReadsWidened) {
  Any v = ReadAnyFrom({0x7c, 0x3d, 0xcc, 0xcc, 0xcd});  // 0.1f
  EXPECT_EQ(v.number(), static_cast<double>(0.1f));
  // Written back as float32 because it is exact in binary32.
  EXPECT_EQ(AnyBytes(v), (Bytes{0x7c, 0x3d, 0xcc, 0xcc, 0xcd}));
}

TEST(Lib0Any, ObjectKeyOrderIsJsPropertyOrder) {
  Any m = Any::MakeMap({{"b", Any::MakeNumber(1)},
                        {"a", Any::MakeNumber(2)},
                        {"1", Any::MakeNumber(3)},
                        {"0", Any::MakeNumber(4)},
                        {"-1", Any::MakeNumber(5)},
                        {"01", Any::MakeNumber(6)},
                        {"4294967295", Any::MakeNumber(7)},
                        {"4294967294", Any::MakeNumber(8)}});
  std::vector<std::string> keys;
  for (const auto& [k, v] : m.map()) keys.push_back(k);
  EXPECT_THAT(keys, testing::ElementsAre("0", "1", "4294967294", "b", "a", "-1",
                                         "01", "4294967295"));
  Any dup = Any::MakeMap({{"x", Any::MakeNumber(1)},
                          {"y", Any::MakeNumber(2)},
                          {"x", Any::MakeNumber(3)}});
  ASSERT_EQ(dup.map().size(), 2u);
  EXPECT_EQ(dup.map()[0].first, "x");
  EXPECT_EQ(dup.map()[0].second, Any::MakeNumber(3));
}

TEST(Lib0Any, ProtoKeyIsSwallowed) {
  Bytes b = {0x76, 0x02, 0x09, '_', '_',  'p',  'r', 'o',
             't',  'o',  '_',  '_', 0x7e, 0x01, 'a', 0x78};
  absl::Status st;
  Any v = ReadAnyFrom(b, &st);
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(v.map().size(), 1u);
  EXPECT_EQ(v.map()[0].first, "a");
}

TEST(Lib0Any, HostileInputs) {
  absl::Status st;
  // Unknown tags.
  for (uint8_t tag : {uint8_t{0}, uint8_t{115}, uint8_t{128}, uint8_t{255}}) {
    ReadAnyFrom({tag}, &st);
    EXPECT_FALSE(st.ok()) << int{tag};
  }
  // An array claiming 2^32 elements with two bytes of input.
  ReadAnyFrom({0x75, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7e, 0x7e}, &st);
  EXPECT_FALSE(st.ok());
  // Truncated fixed-width numbers.
  ReadAnyFrom({0x7b, 0x00, 0x00}, &st);
  EXPECT_FALSE(st.ok());
  ReadAnyFrom({0x7a, 0x00}, &st);
  EXPECT_FALSE(st.ok());
  // Deep nesting is bounded, not a stack overflow.
  Bytes deep;
  for (int i = 0; i < 100000; ++i) {
    deep.push_back(0x75);
    deep.push_back(0x01);
  }
  deep.push_back(0x7e);
  ReadAnyFrom(deep, &st);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), testing::HasSubstr("deep"));
}

TEST(Any, EqualityAndTruthiness) {
  EXPECT_EQ(Any::MakeNumber(std::nan("")), Any::MakeNumber(std::nan("")));
  EXPECT_FALSE(Any::MakeNumber(0.0) == Any::MakeNumber(-0.0));
  EXPECT_FALSE(Any::MakeNumber(1) == Any::MakeBigInt(1));
  EXPECT_FALSE(Any::MakeString("").Truthy());
  EXPECT_FALSE(Any::MakeNumber(std::nan("")).Truthy());
  EXPECT_TRUE(Any::MakeMap({}).Truthy());
  EXPECT_EQ(Any::MakeMap({{"a", Any::MakeArray({Any(), Any::MakeBytes({1})})}})
                .DebugString(),
            "{\"a\":[undefined,bytes(01)]}");
}

TEST(Json, JsNumberFormatting) {
  auto fmt = [](double d) {
    std::string s;
    AppendJsNumber(d, &s);
    return s;
  };
  EXPECT_EQ(fmt(1), "1");
  EXPECT_EQ(fmt(-2), "-2");
  EXPECT_EQ(fmt(-0.0), "0");
  EXPECT_EQ(fmt(0.1), "0.1");
  EXPECT_EQ(fmt(1.5), "1.5");
  EXPECT_EQ(fmt(100), "100");
  EXPECT_EQ(fmt(1e21), "1e+21");
  EXPECT_EQ(fmt(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(fmt(0.000001), "0.000001");
  EXPECT_EQ(fmt(1e-7), "1e-7");
  EXPECT_EQ(fmt(1.23e-18), "1.23e-18");
  EXPECT_EQ(fmt(5e-324), "5e-324");
  EXPECT_EQ(fmt(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(fmt(0.1 + 0.2), "0.30000000000000004");
}

TEST(Json, ParseAndStringify) {
  absl::StatusOr<Any> v = ParseJson(
      R"( {"b":[1,2.5e1,"x\n\u00e9\ud83d\ude00"],"a":null,"0":true,"b":false} )");
  ASSERT_TRUE(v.ok()) << v.status();
  std::string out;
  ASSERT_TRUE(StringifyJson(*v, &out));
  EXPECT_EQ(out, "{\"0\":true,\"b\":false,\"a\":null}");
  absl::StatusOr<Any> w = ParseJson(R"(["x\n\u00e9\ud83d\ude00", 1e400, -0])");
  ASSERT_TRUE(w.ok());
  out.clear();
  ASSERT_TRUE(StringifyJson(*w, &out));
  EXPECT_EQ(out, "[\"x\\n\xC3\xA9\xF0\x9F\x98\x80\",null,0]");
  absl::StatusOr<Any> big =
      ParseJson("[1e400,-1e400,1e-400,0.0000e999,123456789e-500,1.5e3]");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->array()[0].number(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(big->array()[1].number(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(big->array()[2].number(), 0.0);
  EXPECT_EQ(big->array()[3].number(), 0.0);
  EXPECT_EQ(big->array()[4].number(), 0.0);
  EXPECT_EQ(big->array()[5].number(), 1500.0);
  out.clear();
  EXPECT_FALSE(StringifyJson(Any(), &out));
  EXPECT_FALSE(StringifyJson(Any::MakeArray({Any::MakeBigInt(1)}), &out));
  out.clear();
  ASSERT_TRUE(StringifyJson(Any::MakeArray({Any(), Any::MakeMap({{"u", Any()}}),
                                            Any::MakeBytes({7, 8})}),
                            &out));
  EXPECT_EQ(out, "[null,{},{\"0\":7,\"1\":8}]");
  for (const char* bad : {"", "{", "[1,]", "01", "\"\x01\"", "tru", "{\"a\" 1}",
                          "1 2", "\"\\x\""}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
}

TEST(Utf8, SuffixAndOffsets) {
  std::string s =
      "a\xF0\x9F\x98\x80"
      "b";  // a😀b: 4 units
  std::string out;
  AppendUtf16Suffix(s, 2, &out);  // cut inside the pair
  EXPECT_EQ(out,
            "\xEF\xBF\xBD"
            "b");
  out.clear();
  AppendUtf16Suffix(s, 3, &out);
  EXPECT_EQ(out, "b");
  bool split = false;
  EXPECT_EQ(Utf8OffsetOfUtf16(s, 1, &split), 1u);
  EXPECT_FALSE(split);
  EXPECT_EQ(Utf16Length(s), 4u);
}

}  // namespace
}  // namespace auxsync::crdt::internal

namespace auxsync::crdt::internal {
namespace {

// The v2 IntDiffOptRle columns write 2 * diff + flag of clocks below 2^53:
// up to 2^54 + 1, read with a 55-bit bound; plain values keep 53 bits.
TEST(Lib0VarInt, ColumnMagnitudesMayExceed2p53) {
  Lib0Encoder enc;
  enc.WriteVarIntSignMagnitude(false, (uint64_t{1} << 54) + 1);
  {
    Lib0Decoder d(enc.view());
    d.ReadVarIntSignMagnitude();
    EXPECT_FALSE(d.ok());
  }
  {
    Lib0Decoder d(enc.view());
    EXPECT_EQ(d.ReadVarIntSignMagnitude(/*max_bits=*/55).magnitude,
              (uint64_t{1} << 54) + 1);
    EXPECT_TRUE(d.ok());
  }
}

// The engine's UTF-16 text as TextEncoder writes it: pairs joined, lone
// surrogates as U+FFFD; and back from valid UTF-8.
TEST(Utf16, ToAndFromUtf8) {
  const std::u16string s = u"a\u00e9\u20ac\xD83D\xDE00\xD83Dx\xDE00";
  const std::string utf8 =
      "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBDx\xEF\xBF\xBD";
  ASSERT_EQ(Utf8LengthOfUtf16(s), utf8.size());
  std::string out(utf8.size(), '\0');
  uint8_t* end = WriteUtf16AsUtf8(s, reinterpret_cast<uint8_t*>(out.data()));
  EXPECT_EQ(end - reinterpret_cast<uint8_t*>(out.data()),
            static_cast<std::ptrdiff_t>(utf8.size()));
  EXPECT_EQ(out, utf8);
  std::u16string back = u"z";
  AppendValidUtf8AsUtf16("0123456789abcdef\xC3\xA9\xF0\x9F\x98\x80!", &back);
  EXPECT_EQ(back, u"z0123456789abcdef\u00e9\xD83D\xDE00!");
}

// lib0 joins a column's strings before encoding: a pair cut between two
// strings stays one code point; a high half that nothing completes, and a
// low half that starts a string, become U+FFFD.
TEST(Utf16, StringColumnJoinsPairsAcrossStrings) {
  StringColumnEncoder got;
  got.Write16(u"a\xD83D");
  got.Write16(u"\xDE00");
  got.Write16(u"\xD83D");
  got.Write("k");
  got.Write16(u"\xD83D");
  got.Write16(u"\xDE00\xD83D");
  StringColumnEncoder want;
  want.Write("a\xF0\x9F\x98\x80", 2);
  want.Write("", 1);
  want.Write("\xEF\xBF\xBD", 1);
  want.Write("k", 1);
  want.Write("\xF0\x9F\x98\x80", 1);
  want.Write("\xEF\xBF\xBD", 2);
  EXPECT_EQ(got.Finish(), want.Finish());
  UpdateEncoderV1 v1;
  v1.WriteString16(
      u"\xDE00"
      u"a\xD83D");
  EXPECT_EQ(v1.ToBytes(), (Bytes{7, 0xEF, 0xBF, 0xBD, 'a', 0xEF, 0xBF, 0xBD}));
}

}  // namespace
}  // namespace auxsync::crdt::internal
