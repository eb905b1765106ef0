// Copyright 2025 The auxsync Authors.
//
// Untrusted input: truncated, mutated and hand-crafted hostile updates are
// rejected whole with an error naming the byte offset, and never crash (the
// sanitizer build runs these too).

#include <random>
#include <string>
#include <vector>

#include "auxsync/crdt/delete_set.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
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
      // The engine reads these kinds without the codec's WireStruct (see
      // ReadCommonStruct in internal/update_read.cc): same errors.
      {"empty string item with origin",
       V1({0x01, 0x01, 0x01, 0x01, 0x84, 0x01, 0x00, 0x00, 0x00}),
       "struct of length 0"},
      {"deleted item with right origin beyond 2^53",
       V1({0x01, 0x01, 0x01, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f,
           0x41, 0x01, 0x00, 0x05, 0x00}),
       "2^53"},
      {"huge ContentAny count with parent sub",
       V1({0x01, 0x01, 0x01, 0x00, 0x28, 0x01, 0x01, 't', 0x01, 'k', 0xff, 0xff,
           0xff, 0x7f, 0x7e, 0x00}),
       "ContentAny declares"},
      {"bad type ref under a parent id",
       V1({0x01, 0x01, 0x01, 0x00, 0x07, 0x00, 0x01, 0x00, 0x09, 0x00}),
       "unknown type ref 9"},
      {"invalid utf8 parent sub",
       V1({0x01, 0x01, 0x01, 0x00, 0x24, 0x01, 0x01, 't', 0x01, 0xff, 0x01, 'a',
           0x00}),
       "UTF-8"},
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
                testing::MatchesRegex("update: .* at byte [0-9]+"))
        << c.what;
    // The document engine reads with the same reader: same error, and the
    // document stays empty.
    DocOptions options;
    options.client_id = 9;
    Doc doc(options);
    absl::Status applied = ApplyUpdate(doc, c.bytes);
    EXPECT_EQ(applied.message(), d.status().message()) << c.what;
    EXPECT_EQ(EncodeStateVector(doc), Bytes{0}) << c.what;
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
  // The one struct bound (kMaxStructsPerByte) of every reader accepts it ...
  absl::StatusOr<DecodedUpdate> d = ReadUpdate(u, UpdateVersion::kV2);
  ASSERT_TRUE(d.ok()) << d.status();
  size_t n = 0;
  for (const auto& sec : d->sections) n += sec.structs.size();
  EXPECT_EQ(n, 10000u);
  // ... a tighter one rejects it.
  ReadOptions opts;
  opts.max_structs_per_byte = 16;
  d = ReadUpdate(u, UpdateVersion::kV2, opts);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()),
              testing::HasSubstr("too many structs"));
  // The document engine reads it with the same reader and bound.
  DocOptions doc_options;
  doc_options.client_id = 5;
  Doc doc(doc_options);
  ASSERT_TRUE(ApplyUpdateV2(doc, u).ok());
  EXPECT_EQ(EncodeStateVector(doc), testing_codec::FromBase64("AgKIJwGIJw=="));
  // So do the streaming utilities.
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

// What fuzz/update_fuzzer.cc checks of one input: an update the document
// accepts encodes again, loads into a fresh document and gives the same
// state vector; a rejected one leaves the document empty.
void CheckLikeTheFuzzer(const Bytes& b, UpdateVersion v) {
  const bool v2 = v == UpdateVersion::kV2;
  DocOptions doc_options;
  doc_options.client_id = 1;
  Doc doc(doc_options);
  absl::Status applied = v2 ? ApplyUpdateV2(doc, b) : ApplyUpdate(doc, b);
  if (!applied.ok()) {
    EXPECT_EQ(EncodeStateVector(doc), Bytes{0});
    return;
  }
  for (bool as_v2 : {false, true}) {
    absl::StatusOr<Bytes> state =
        as_v2 ? EncodeStateAsUpdateV2(doc) : EncodeStateAsUpdate(doc);
    if (!as_v2 && v2 && !state.ok()) {
      // A v2 embed or format value without JSON (bigint, undefined) has no
      // v1 form; yjs throws there too.
      EXPECT_THAT(std::string(state.status().message()),
                  testing::HasSubstr("cannot be written as JSON"));
      continue;
    }
    ASSERT_TRUE(state.ok()) << state.status();
    DocOptions copy_options;
    copy_options.client_id = 2;
    Doc copy(copy_options);
    absl::Status st =
        as_v2 ? ApplyUpdateV2(copy, *state) : ApplyUpdate(copy, *state);
    if (as_v2 && !st.ok()) {
      // v2 can pack accepted structs denser than the bound for untrusted
      // input (kMaxStructsPerByte); v1 (>= 2 bytes a struct) never does.
      EXPECT_THAT(std::string(st.message()),
                  testing::HasSubstr("too many structs"));
      continue;
    }
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_EQ(EncodeStateVector(copy), EncodeStateVector(doc));
  }
  (void)Exercise(b, v);
}

// fuzz/regressions/update_v1_reencode_empty_string.bin: a struct already
// integrated went back into the pending structs (as yjs's addStackToRestSS
// does) after integration had moved its content into the item, so it was
// written as a string of length 0; the codec accepted that, the engine's
// reader did not, and the document's encoded state did not load again.
// Such a struct is now written as GC of its length, and the one reader
// rejects a struct of length 0 everywhere.
TEST(CodecMalformed, FuzzRegressionV1ReencodeEmptyString) {
  Bytes b = testing_codec::FromBase64(
      "AhVkACcBAW0BYgEoAGQAAXgBe0CIzdsi0OVgBAEBdAZhw6l5w6mEZAUCw6nEYwNjBAN4eiAo"
      "AQFtAWMBdQJ8WgAAAHQC+pWIYwUBdgIBcHcBYgFxdwbDqSDkuK3EYwljKwVheuS4rYRkBgFi"
      "KAEBbQFkAXUCdgIBcHgBcXcCY2J3AmNhxGQFZAYDeHh4xGQTZAYCYyDEZBVkBgXwn5iAIIhk"
      "CwN+dwFjfd8DqGQBAX7EYwhjCQbkuK15IHmoZAABfshjEmMTAXYCAXB4AXF3BmJ48J+YgKhj"
      "DwF+p2QjAgQAZCQBYRRjACgBAW0BYgF9jggEAQF0AWGEYwEE8J+YgIRjAwF4CAEBYQF+RGMB"
      "AsOpxGMGYwEG5Lit5LitxGMIYwEBYcRjBmMHASDEYwpjBwVj8J+YgCgBAW0BYwF96QYoAQFt"
      "AWEBfsRkDmMBBOS4rXlIYwUBechjEmMFAXtAgJVWBBiTdahkAAF7QFi6DEm6XjXEYwFjAgkK"
      "w6nkuK3kuK2oYw8BdwPDqWHIYxNjBQJ1An54dgIBcHxPAAAAAXF3AXnEYwlkDAZ5YeS4rWIC"
      "ZAUABxAEFgMcASMBYwUAAQQBCwUUARkB");
  ASSERT_EQ(b.size(), 456u);
  DocOptions options;
  options.client_id = 1;
  Doc doc(options);
  ASSERT_TRUE(ApplyUpdate(doc, b).ok());
  EXPECT_TRUE(doc.HasPendingStructs());
  CheckLikeTheFuzzer(b, UpdateVersion::kV1);
}

// fuzz/regressions/update_v1_clock_diff_above_2p53.bin: a right origin at
// clock 5842268020545584 (legal: below 2^53) put into the pending structs,
// which are v2. Its clock column writes 2 * diff + flag, above 2^53, and
// the reader refused its own writing. The IntDiffOptRle columns now read
// magnitudes up to 2^55 (the values themselves stay below 2^53).
TEST(CodecMalformed, FuzzRegressionV1ClockDiffAbove2p53) {
  Bytes b = testing_codec::FromBase64(
      "AQ5NAggBAWEBfFoAAAChgLzBlgsHAQAEIQEBbQFiAQACxIC8wZYLCoC8wZYLCwdhCvCfmIBi"
      "oU0DAcSAvMGWCwmAvMGWCwoBYcFNEYC8wZYLsLCwsLCwsAoBoYC8wZYLAwHIgLzBlgsNgLzB"
      "lgsOAn53AWPETRFNEgEgp00IASgATRcBeAF1AnUCfnxPAAAAeAFNAwMIEAESAg==");
  ASSERT_EQ(b.size(), 154u);
  DocOptions options;
  options.client_id = 1;
  Doc doc(options);
  ASSERT_TRUE(ApplyUpdate(doc, b).ok());
  EXPECT_TRUE(doc.HasPendingStructs());
  CheckLikeTheFuzzer(b, UpdateVersion::kV1);
  // The same through the codec alone: v1 -> v2 -> v1 is the identity.
  absl::StatusOr<Bytes> v2 = ConvertUpdateFormatV1ToV2(b);
  ASSERT_TRUE(v2.ok()) << v2.status();
  absl::StatusOr<Bytes> v1 = ConvertUpdateFormatV2ToV1(*v2);
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(*v1, *ConvertUpdateFormatV2ToV1(*ConvertUpdateFormatV1ToV2(*v1)));
}

// fuzz/regressions/update_v1_reserve_from_clock_span.bin: a GC struct of
// 2^48 - 1 clocks, accepted. encodeStateAsUpdate reserved its output from
// the clock span (half a byte per clock: 2^47 bytes) and the allocation
// failed. The estimate's text share is now bounded by the struct count.
TEST(CodecMalformed, FuzzRegressionV1ReserveFromClockSpan) {
  Bytes b = {0x02, 0x01, 0x02, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
             0x00, 0x01, 0x70, 0x01, 0x00, 0x30, 0x01, 0x01, 0x00, 0x02};
  DocOptions options;
  options.client_id = 1;
  Doc doc(options);
  ASSERT_TRUE(ApplyUpdate(doc, b).ok());
  absl::StatusOr<Bytes> state = EncodeStateAsUpdate(doc);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_LT(state->size(), 64u);
  CheckLikeTheFuzzer(b, UpdateVersion::kV1);
}

// fuzz/regressions/update_v2_format_value_without_json.bin: pending format
// items whose values (undefined, bigint) v2 can hold and v1 cannot, so the
// document's v1 state fails as yjs's would (JSON.stringify); the fuzz
// target now checks the v2 state then.
TEST(CodecMalformed, FuzzRegressionV2FormatValueWithoutJson) {
  Bytes b = testing_codec::FromBase64(
      "AAIACgMCQQICAgQCBQABxgsIYm9ib2xkbGREAAAAAAECAH94AA==");
  ASSERT_EQ(b.size(), 37u);
  DocOptions options;
  options.client_id = 1;
  Doc doc(options);
  ASSERT_TRUE(ApplyUpdateV2(doc, b).ok());
  EXPECT_TRUE(doc.HasPendingStructs());
  absl::StatusOr<Bytes> v1 = EncodeStateAsUpdate(doc);
  ASSERT_FALSE(v1.ok());
  CheckLikeTheFuzzer(b, UpdateVersion::kV2);
}

TEST(CodecMalformed, StructOfLengthZeroIsRejectedByEveryReader) {
  // One client section with one empty string item under root "t".
  Bytes b = {0x01, 0x01, 0x01, 0x00, 0x04, 0x01, 0x01, 't', 0x00, 0x00};
  absl::StatusOr<DecodedUpdate> d = ReadUpdate(b, UpdateVersion::kV1);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "update: struct of length 0 at byte 4");
  DocOptions options;
  options.client_id = 1;
  Doc doc(options);
  EXPECT_EQ(ApplyUpdate(doc, b).message(), d.status().message());
  absl::StatusOr<Bytes> sv = EncodeStateVectorFromUpdate(b);
  ASSERT_FALSE(sv.ok());
  EXPECT_EQ(sv.status().message(), d.status().message());
}

// fuzz/regressions/update_v2_encode_state_fails.bin: the engine accepted
// the update under its own struct bound, then EncodeStateAsUpdate failed
// because the codec re-read the engine's (denser) pending-structs buffer
// under a tighter one. Now there is one bound for untrusted input, and
// updates the engine wrote itself are read without it. (Its v2 state packs
// 8353 structs into 28 bytes, which a fresh document rejects as untrusted
// input; the v1 state loads.)
TEST(CodecMalformed, FuzzRegressionV2EncodeStateFails) {
  Bytes b = testing_codec::FromBase64(
      "AAAwgPiCrRYFwPiCrRYOjQHA+IKtFgGNAcD4gq0WAI0BwPiCrRYCzQECBcD4gq0WAkUFHQAE"
      "DgIGSAwCVBIYWAgGTgwQXBQIUh5iSAIGTAwAEA4IAAwBAAxKQgAJAGQSD00BACEAAQChAIQB"
      "gQBIAMQBAADIwYgAwQCoAAQAIWltYWdloQAABiEAAADEAKEAxADBAKEAyADE/6cAIQAAKEEA"
      "gQGhBgYGBgYGBgYGBgDEAaFBGgAAAAAAABoaGhoaGhoaGhoaGhr//3xPAAAAeEw=");
  ASSERT_EQ(b.size(), 209u);
  CheckLikeTheFuzzer(b, UpdateVersion::kV2);
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
