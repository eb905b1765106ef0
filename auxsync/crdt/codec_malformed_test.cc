// Copyright 2025 The auxsync Authors.
//
// Untrusted input: truncated, mutated and hand-crafted hostile updates are
// rejected whole with an error naming the byte offset, and never crash (the
// sanitizer build runs these too).

#include <random>
#include <string>
#include <vector>

#include "auxsync/crdt/delete_set.h"
#include "auxsync/crdt/internal/codec_vectors_for_test.h"
#include "auxsync/crdt/internal/update_encoder.h"
#include "auxsync/crdt/state_vector.h"
#include "auxsync/crdt/update_utils.h"
#include "auxsync/crdt/wire_struct.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

using testing_codec::Bytes;

std::vector<testing_codec::RecordedUpdate> SomeUpdates() {
  std::vector<testing_codec::RecordedUpdate> out;
  for (const auto& f : testing_codec::LoadVectors()) {
    for (auto& u : testing_codec::AllUpdatePairs(f))
      out.push_back(std::move(u));
  }
  return out;
}

// Runs every entry point on `b`; none may crash. Returns ReadUpdate's status.
absl::Status Exercise(const Bytes& b, UpdateVersion v) {
  absl::StatusOr<DecodedUpdate> d = ReadUpdate(b, v);
  if (d.ok()) {
    // Whatever decodes must encode again.
    EXPECT_TRUE(WriteUpdate(*d, v).status().ok() ||
                absl::IsInvalidArgument(WriteUpdate(*d, v).status()));
  }
  Bytes empty_sv = {0x00};
  std::vector<BytesView> two = {b, b};
  if (v == UpdateVersion::kV1) {
    (void)EncodeStateVectorFromUpdate(b);
    (void)ConvertUpdateFormatV1ToV2(b);
    (void)DiffUpdate(b, empty_sv);
    (void)MergeUpdates(two);
    (void)ParseUpdateMeta(b);
  } else {
    (void)EncodeStateVectorFromUpdateV2(b);
    (void)ConvertUpdateFormatV2ToV1(b);
    (void)DiffUpdateV2(b, empty_sv);
    (void)MergeUpdatesV2(two);
    (void)ParseUpdateMetaV2(b);
  }
  return d.status();
}

TEST(CodecMalformed, EveryTruncationIsRejectedWithAnOffset) {
  int rejected = 0;
  auto updates = SomeUpdates();
  // Every 7th update keeps the test fast; all of them are long enough.
  for (size_t i = 0; i < updates.size(); i += 7) {
    for (UpdateVersion v : {UpdateVersion::kV1, UpdateVersion::kV2}) {
      const Bytes& full =
          v == UpdateVersion::kV1 ? updates[i].v1 : updates[i].v2;
      for (size_t len = 0; len < full.size(); ++len) {
        Bytes cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(len));
        absl::Status st = Exercise(cut, v);
        ASSERT_FALSE(st.ok()) << updates[i].where << " cut at " << len;
        EXPECT_THAT(std::string(st.message()), testing::HasSubstr("byte "));
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 1000);
}

TEST(CodecMalformed, RandomMutationsNeverCrash) {
  std::mt19937 rng(12345);
  auto updates = SomeUpdates();
  int runs = 0;
  for (size_t i = 0; i < updates.size(); i += 3) {
    for (UpdateVersion v : {UpdateVersion::kV1, UpdateVersion::kV2}) {
      const Bytes& full =
          v == UpdateVersion::kV1 ? updates[i].v1 : updates[i].v2;
      if (full.empty()) continue;
      for (int k = 0; k < 20; ++k) {
        Bytes m = full;
        int flips = 1 + static_cast<int>(rng() % 3);
        for (int f = 0; f < flips; ++f) {
          size_t pos = rng() % m.size();
          switch (rng() % 3) {
            case 0:
              m[pos] = static_cast<uint8_t>(rng());
              break;
            case 1:
              m[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
              break;
            default:
              m[pos] = 0xff;
          }
        }
        (void)Exercise(m, v);
        ++runs;
      }
    }
  }
  EXPECT_GT(runs, 1000);
}

Bytes V1(std::initializer_list<uint8_t> b) { return Bytes(b); }

TEST(CodecMalformed, HandCrafted) {
  struct Case {
    const char* what;
    Bytes bytes;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"empty", V1({}), "end of input"},
      {"huge section count", V1({0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}),
       "more client sections"},
      {"huge struct count",
       V1({0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x00, 0x00}),
       "too many structs"},
      {"client above 2^53",
       V1({0x01, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00}),
       "out of range"},
      {"bad type ref",
       V1({0x01, 0x01, 0x01, 0x00, 0x07, 0x01, 0x01, 't', 0x09, 0x00}),
       "unknown type ref 9"},
      {"content ref 11",
       V1({0x01, 0x01, 0x01, 0x00, 0x0b, 0x01, 0x01, 't', 0x00}),
       "unknown content ref 11"},
      {"content ref 10 with origin",
       V1({0x01, 0x01, 0x01, 0x00, 0x8a, 0x01, 0x00, 0x00}),
       "unknown content ref 10"},
      {"huge ContentAny count",
       V1({0x01, 0x01, 0x01, 0x00, 0x08, 0x01, 0x01, 't', 0xff, 0xff, 0xff,
           0x7f, 0x7e, 0x00}),
       "ContentAny declares"},
      {"huge binary",
       V1({0x01, 0x01, 0x01, 0x00, 0x03, 0x01, 0x01, 't', 0xff, 0xff, 0x03,
           0x00}),
       "exceeds"},
      {"invalid embed JSON",
       V1({0x01, 0x01, 0x01, 0x00, 0x05, 0x01, 0x01, 't', 0x01, '{', 0x00}),
       "invalid JSON"},
      {"invalid utf8 root name",
       V1({0x01, 0x01, 0x01, 0x00, 0x01, 0x01, 0x01, 0xff, 0x01, 0x00}),
       "UTF-8"},
      {"clock overflow",
       V1({0x01, 0x02, 0x01, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f,
           0x00, 0x05, 0x00, 0x05, 0x00}),
       "2^53"},
      {"null subdoc opts",
       V1({0x01, 0x01, 0x01, 0x00, 0x09, 0x01, 0x01, 't', 0x01, 'g', 0x7e,
           0x00}),
       "subdocument"},
      {"delete set huge count", V1({0x00, 0xff, 0xff, 0xff, 0x7f}),
       "delete set declares"},
      {"delete range beyond 2^53",
       V1({0x00, 0x01, 0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
           0x0f, 0x05}),
       "2^53"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<DecodedUpdate> d = ReadUpdate(c.bytes, UpdateVersion::kV1);
    ASSERT_FALSE(d.ok()) << c.what;
    EXPECT_THAT(std::string(d.status().message()),
                testing::HasSubstr(c.message))
        << c.what;
    EXPECT_THAT(std::string(d.status().message()),
                testing::HasSubstr("update: byte "))
        << c.what;
    (void)Exercise(c.bytes, UpdateVersion::kV1);
  }
}

// v2 lets a struct take no bytes at all (every field from a run-length
// column); the struct budget stops a tiny update from declaring billions.
TEST(CodecMalformed, V2StructBombIsBounded) {
  internal::UpdateEncoderV2 enc;
  enc.rest().WriteVarUint(1);
  enc.rest().WriteVarUint(uint64_t{1} << 40);  // structs
  enc.WriteClient(1);
  enc.rest().WriteVarUint(0);
  for (int i = 0; i < 3; ++i) {
    enc.WriteInfo(0);  // GC, repeated forever by the Rle column
    enc.WriteLen(1);
  }
  Bytes b = enc.ToBytes();
  absl::StatusOr<DecodedUpdate> d = ReadUpdate(b, UpdateVersion::kV2);
  ASSERT_FALSE(d.ok());
  // Either the columns run dry or the budget trips; never 2^40 structs.
  EXPECT_THAT(std::string(d.status().message()), testing::HasSubstr("byte"));
  (void)Exercise(b, UpdateVersion::kV2);
}

// A legitimate yjs v2 update with 10000 structs in 61 bytes: client 1
// wrote a character after each of client 2's 5000, then everything was
// deleted (garbage-collected items compress to nothing in v2's columns).
TEST(CodecMalformed, LegitimateHighlyCompressedV2Update) {
  Bytes u = testing_codec::FromBase64(
      "AAAHQoYnAUKNTgcAA4UnQYUnBo6cAUGEJwYBAIGHJ8EDAXQBAQEAA0GOTgKIJwCIJwACAgEA"
      "hycBAQCHJw==");
  ASSERT_EQ(u.size(), 61u);
  // The default struct budget of ReadUpdate rejects it ...
  absl::StatusOr<DecodedUpdate> d = ReadUpdate(u, UpdateVersion::kV2);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()),
              testing::HasSubstr("too many structs"));
  // ... a larger one accepts it.
  ReadOptions opts;
  opts.max_structs_per_byte = 256;
  d = ReadUpdate(u, UpdateVersion::kV2, opts);
  ASSERT_TRUE(d.ok()) << d.status();
  size_t n = 0;
  for (const auto& sec : d->sections) n += sec.structs.size();
  EXPECT_EQ(n, 10000u);
  // The streaming utilities accept it with their own, larger bound.
  absl::StatusOr<Bytes> sv = EncodeStateVectorFromUpdateV2(u);
  ASSERT_TRUE(sv.ok()) << sv.status();
  EXPECT_EQ(*sv, testing_codec::FromBase64("AgKIJwGIJw=="));
  absl::StatusOr<Bytes> v1 = ConvertUpdateFormatV2ToV1(u);
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->size(), 64634u);  // yjs's encodeStateAsUpdate size
  absl::StatusOr<Bytes> back = ConvertUpdateFormatV1ToV2(*v1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, u);
}

TEST(CodecMalformed, V2ColumnErrors) {
  // Declared column longer than the input.
  Bytes b = {0x00, 0x7f, 0x01};
  absl::StatusOr<DecodedUpdate> d = ReadUpdate(b, UpdateVersion::kV2);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), testing::HasSubstr("byte 2"));
  // A string length beyond the column's text.
  internal::UpdateEncoderV2 enc;
  enc.rest().WriteVarUint(1);
  enc.rest().WriteVarUint(1);
  enc.WriteClient(1);
  enc.rest().WriteVarUint(0);
  enc.WriteInfo(0x04);
  enc.WriteParentInfo(true);
  enc.WriteString("t");
  enc.WriteString("ab", 5);
  enc.rest().WriteVarUint(0);
  Bytes s = enc.ToBytes();
  d = ReadUpdate(s, UpdateVersion::kV2);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()),
              testing::HasSubstr("runs past"));
}

TEST(CodecMalformed, ZeroLengthDeleteRangeCannotBecomeV2) {
  // v1 allows a zero length; yjs's v2 writer throws on it.
  Bytes v1 = {0x00, 0x01, 0x01, 0x01, 0x00, 0x00};
  ASSERT_TRUE(ReadUpdate(v1, UpdateVersion::kV1).ok());
  EXPECT_FALSE(ConvertUpdateFormatV1ToV2(v1).ok());
}

TEST(CodecMalformed, StateVectorAndDeleteSet) {
  EXPECT_FALSE(StateVector::Decode(Bytes{0x05, 0x01}).ok());
  EXPECT_FALSE(StateVector::Decode(Bytes{}).ok());
  absl::StatusOr<StateVector> sv =
      StateVector::Decode(Bytes{0x02, 0x05, 0x02, 0xac, 0x02, 0x02});
  ASSERT_TRUE(sv.ok());
  EXPECT_EQ(sv->Get(300), 2u);
  EXPECT_EQ(sv->Encode(),
            (Bytes{0x02, 0xac, 0x02, 0x02, 0x05, 0x02}));  // descending
  EXPECT_FALSE(DecodeDeleteSet(Bytes{0x01, 0x01}, UpdateVersion::kV1).ok());
  EXPECT_FALSE(
      DecodeDeleteSet(Bytes{0x00, 0x00}, UpdateVersion::kV1).ok());  // trailing
}

TEST(DeleteSetCodec, SortMergeAndEncode) {
  DeleteSet ds;
  ds.Add(1, 5, 2);
  ds.Add(1, 2, 2);
  ds.Add(1, 4, 1);
  ds.Add(9, 0, 1);
  ds.SortAndMerge();
  ASSERT_EQ(ds.clients().at(1).size(), 1u);
  EXPECT_EQ(ds.clients().at(1)[0], (DeleteRange{2, 5}));
  EXPECT_TRUE(ds.IsDeleted(ID{1, 6}));
  EXPECT_FALSE(ds.IsDeleted(ID{1, 7}));
  EXPECT_FALSE(ds.IsDeleted(ID{1, 1}));
  // Spec §5.3: one client 1, range clock 2 len 2 -> 01 01 01 02 01.
  DeleteSet one;
  one.Add(1, 2, 2);
  EXPECT_EQ(EncodeDeleteSet(one, UpdateVersion::kV2),
            (Bytes{0x01, 0x01, 0x01, 0x02, 0x01}));
  EXPECT_EQ(EncodeDeleteSet(one, UpdateVersion::kV1),
            (Bytes{0x01, 0x01, 0x01, 0x02, 0x02}));
  for (UpdateVersion v : {UpdateVersion::kV1, UpdateVersion::kV2}) {
    absl::StatusOr<DeleteSet> back = DecodeDeleteSet(EncodeDeleteSet(ds, v), v);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, ds);
  }
  Bytes enc = EncodeDeleteSet(ds, UpdateVersion::kV1);
  EXPECT_EQ(enc[1], 9);  // clients descending
}

}  // namespace
}  // namespace auxsync::crdt
