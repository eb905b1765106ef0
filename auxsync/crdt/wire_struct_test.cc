// Copyright 2025 The auxsync Authors.
//
// Struct-level codec against the golden vectors: every recorded update
// decodes, and re-encoding it (v1 and v2) gives yjs's bytes.

#include "auxsync/crdt/wire_struct.h"

#include <string>
#include <vector>

#include "auxsync/crdt/internal/codec_vectors_for_test.h"
#include "auxsync/crdt/update_utils.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

using testing_codec::AllUpdatePairs;
using testing_codec::Bytes;
using testing_codec::Hex;
using testing_codec::LoadVectors;

const std::vector<testing_codec::VectorFile>& Vectors() {
  static const auto* v =
      new std::vector<testing_codec::VectorFile>(LoadVectors());
  return *v;
}

TEST(WireStruct, VectorsArePresent) { EXPECT_GE(Vectors().size(), 80u); }

// Decode -> WriteStruct per struct -> same bytes, for both formats. The
// 0x20 bit of integrated items is kept from the wire (keep_parent_sub_bit).
TEST(WireStruct, RoundTripsEveryRecordedUpdate) {
  int checked = 0;
  for (const auto& f : Vectors()) {
    for (const auto& u : AllUpdatePairs(f)) {
      for (UpdateVersion v : {UpdateVersion::kV1, UpdateVersion::kV2}) {
        const Bytes& in = v == UpdateVersion::kV1 ? u.v1 : u.v2;
        absl::StatusOr<DecodedUpdate> d = ReadUpdate(in, v);
        ASSERT_TRUE(d.ok())
            << u.where << " v" << static_cast<int>(v) << ": " << d.status();
        absl::StatusOr<Bytes> out =
            WriteUpdate(*d, v, /*keep_parent_sub_bit=*/true);
        ASSERT_TRUE(out.ok()) << u.where << ": " << out.status();
        EXPECT_EQ(Hex(*out), Hex(in)) << u.where << " v" << static_cast<int>(v);
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 500);
}

// Both encodings of one update decode to the same structs.
TEST(WireStruct, V1AndV2DecodeToTheSameStructs) {
  for (const auto& f : Vectors()) {
    for (const auto& u : AllUpdatePairs(f)) {
      absl::StatusOr<DecodedUpdate> a = ReadUpdate(u.v1, UpdateVersion::kV1);
      absl::StatusOr<DecodedUpdate> b = ReadUpdate(u.v2, UpdateVersion::kV2);
      ASSERT_TRUE(a.ok() && b.ok()) << u.where;
      // Compare through a canonical v2 re-encoding.
      absl::StatusOr<Bytes> ea = WriteUpdate(*a, UpdateVersion::kV2, true);
      absl::StatusOr<Bytes> eb = WriteUpdate(*b, UpdateVersion::kV2, true);
      ASSERT_TRUE(ea.ok() && eb.ok()) << u.where;
      EXPECT_EQ(Hex(*ea), Hex(*eb)) << u.where;
      EXPECT_EQ(a->delete_set, b->delete_set) << u.where;
    }
  }
}

bool HasItemWithOriginAndSubBit(const DecodedUpdate& d) {
  for (const auto& sec : d.sections) {
    for (const auto& s : sec.structs) {
      if (s.is_item() && (s.origin || s.right_origin) && (s.info & 0x20))
        return true;
    }
  }
  return false;
}

// convertUpdateFormat reproduces the other recorded form exactly, except
// where yjs itself does not: items with an origin and the 0x20 bit lose the
// bit (spec §3.5, §5.6).
TEST(WireStruct, ConversionMatchesTheOtherFormat) {
  int equal = 0, differ_by_bit = 0;
  for (const auto& f : Vectors()) {
    for (const auto& u : AllUpdatePairs(f)) {
      absl::StatusOr<DecodedUpdate> d = ReadUpdate(u.v1, UpdateVersion::kV1);
      ASSERT_TRUE(d.ok());
      const bool drops_bit = HasItemWithOriginAndSubBit(*d);
      absl::StatusOr<Bytes> v2 = ConvertUpdateFormatV1ToV2(u.v1);
      absl::StatusOr<Bytes> v1 = ConvertUpdateFormatV2ToV1(u.v2);
      ASSERT_TRUE(v2.ok()) << u.where << ": " << v2.status();
      ASSERT_TRUE(v1.ok()) << u.where << ": " << v1.status();
      if (!drops_bit) {
        EXPECT_EQ(Hex(*v2), Hex(u.v2)) << u.where;
        EXPECT_EQ(Hex(*v1), Hex(u.v1)) << u.where;
        ++equal;
      } else {
        EXPECT_NE(Hex(*v1), Hex(u.v1)) << u.where;
        // Without the bit, the v1 form matches the v1 re-encoding of the
        // decoded structs with the bit dropped.
        absl::StatusOr<Bytes> dropped =
            WriteUpdate(*d, UpdateVersion::kV1, false);
        ASSERT_TRUE(dropped.ok());
        EXPECT_EQ(Hex(*v1), Hex(*dropped)) << u.where;
        absl::StatusOr<Bytes> dropped2 =
            WriteUpdate(*d, UpdateVersion::kV2, false);
        ASSERT_TRUE(dropped2.ok());
        EXPECT_EQ(Hex(*v2), Hex(*dropped2)) << u.where;
        ++differ_by_bit;
      }
    }
  }
  EXPECT_GT(equal, 100);
  EXPECT_GT(differ_by_bit, 0);
}

TEST(WireStruct, RecordedConvertUpdateFormatSteps) {
  int checked = 0;
  for (const auto& f : Vectors()) {
    auto reg = testing_codec::UpdateRegistry(f);
    for (const auto& step : f.json["steps"]) {
      if (step["op"] != "convertUpdateFormat") continue;
      const auto& u = reg.at(step["update"].get<std::string>());
      absl::StatusOr<Bytes> v2 = ConvertUpdateFormatV1ToV2(u.v1);
      absl::StatusOr<Bytes> v1 = ConvertUpdateFormatV2ToV1(u.v2);
      ASSERT_TRUE(v1.ok() && v2.ok());
      EXPECT_EQ(Hex(*v2),
                Hex(testing_codec::FromBase64(step["expect"]["v1ToV2"])))
          << f.name;
      EXPECT_EQ(Hex(*v1),
                Hex(testing_codec::FromBase64(step["expect"]["v2ToV1"])))
          << f.name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(WireStruct, MapSetSingleDecodesAsTheSpecSays) {
  // Spec §3.6.
  Bytes v1 = {0x01, 0x01, 0x01, 0x00, 0x28, 0x01, 0x01, 0x6d,
              0x01, 0x6b, 0x01, 0x77, 0x01, 0x76, 0x00};
  absl::StatusOr<DecodedUpdate> d = ReadUpdate(v1, UpdateVersion::kV1);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->sections.size(), 1u);
  const WireStruct& s = d->sections[0].structs.at(0);
  EXPECT_EQ(s.kind, StructKind::kItem);
  EXPECT_EQ(s.id, (ID{1, 0}));
  EXPECT_EQ(std::get<std::string_view>(s.parent), "m");
  EXPECT_EQ(s.parent_sub, "k");
  EXPECT_EQ(std::get<AnyContent>(s.content).values.at(0), Any::MakeString("v"));
  // The same in v2 (spec §5.5).
  Bytes v2 = {0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x28, 0x05,
              0x02, 0x6d, 0x6b, 0x41, 0x00, 0x01, 0x01, 0x00, 0x01,
              0x01, 0x01, 0x01, 0x00, 0x77, 0x01, 0x76, 0x00};
  absl::StatusOr<Bytes> conv = ConvertUpdateFormatV1ToV2(v1);
  ASSERT_TRUE(conv.ok());
  EXPECT_EQ(Hex(*conv), Hex(v2));
}

TEST(WireStruct, WriteWithOffsetSlicesStringsInUtf16Units) {
  WireStruct s;
  s.kind = StructKind::kItem;
  s.id = ID{7, 10};
  s.parent = std::string_view("t");
  std::string text =
      "a\xF0\x9F\x98\x80"
      "b";
  s.content = StringContent{text, 4};
  s.length = 4;
  internal::UpdateEncoderV1 enc;
  ASSERT_TRUE(WriteStruct(enc, s, 2).ok());
  // origin (7, 11), ContentString "\uFFFDb".
  EXPECT_EQ(Hex(enc.ToBytes()),
            Hex(Bytes{0x84, 0x07, 0x0b, 0x04, 0xef, 0xbf, 0xbd, 'b'}));
  internal::StringArena arena;
  WireStruct r = SliceStruct(s, 2, &arena);
  EXPECT_EQ(r.id, (ID{7, 12}));
  EXPECT_EQ(r.length, 2u);
  EXPECT_EQ(std::get<StringContent>(r.content).utf8,
            "\xEF\xBF\xBD"
            "b");
}

TEST(WireStruct, V2StringCutInsideSurrogatePairGivesReplacementChars) {
  // Two ContentString items whose column lengths (1, 1) split one emoji.
  internal::UpdateEncoderV2 enc;
  enc.rest().WriteVarUint(1);
  enc.rest().WriteVarUint(2);
  enc.WriteClient(1);
  enc.rest().WriteVarUint(0);
  enc.WriteInfo(0x04);
  enc.WriteParentInfo(true);
  enc.WriteString("t");
  enc.WriteString("\xF0\x9F\x98\x80", 1);  // the column only knows the sum
  enc.WriteInfo(0x84);
  enc.WriteLeftID(ID{1, 0});
  enc.WriteString("", 1);
  enc.rest().WriteVarUint(0);
  Bytes b = enc.ToBytes();
  absl::StatusOr<DecodedUpdate> d = ReadUpdate(b, UpdateVersion::kV2);
  ASSERT_TRUE(d.ok()) << d.status();
  const auto& structs = d->sections.at(0).structs;
  ASSERT_EQ(structs.size(), 2u);
  EXPECT_EQ(std::get<StringContent>(structs[0].content).utf8, "\xEF\xBF\xBD");
  EXPECT_EQ(std::get<StringContent>(structs[1].content).utf8, "\xEF\xBF\xBD");
  EXPECT_EQ(structs[1].id.clock, 1u);
}

TEST(WireStruct, ContentJsonIsRewrittenAsJsonStringifyOfItsParse) {
  internal::UpdateEncoderV1 enc;
  enc.rest().WriteVarUint(1);
  enc.rest().WriteVarUint(1);
  enc.WriteClient(5);
  enc.rest().WriteVarUint(0);
  enc.WriteInfo(0x02);
  enc.WriteParentInfo(true);
  enc.WriteString("a");
  enc.WriteLen(3);
  enc.WriteString(R"( { "b" : 1.0, "0": [ -0 ] } )");
  enc.WriteString("undefined");
  enc.WriteString("\"x\"");
  enc.rest().WriteVarUint(0);
  Bytes in = enc.ToBytes();
  absl::StatusOr<DecodedUpdate> d = ReadUpdate(in, UpdateVersion::kV1);
  ASSERT_TRUE(d.ok()) << d.status();
  const auto& texts =
      std::get<JsonContent>(d->sections[0].structs[0].content).texts;
  ASSERT_EQ(texts.size(), 3u);
  EXPECT_EQ(texts[0], R"({"0":[0],"b":1})");
  EXPECT_EQ(texts[1], "undefined");
  EXPECT_EQ(texts[2], "\"x\"");
}

}  // namespace
}  // namespace auxsync::crdt
