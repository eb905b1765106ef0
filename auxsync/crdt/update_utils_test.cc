// Copyright 2025 The auxsync Authors.
//
// mergeUpdates, diffUpdate, encodeStateVectorFromUpdate and friends against
// the golden vectors.

#include "auxsync/crdt/update_utils.h"

#include <string>
#include <vector>

#include "auxsync/crdt/internal/codec_vectors_for_test.h"
#include "auxsync/crdt/state_vector.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

using testing_codec::Bytes;
using testing_codec::FromBase64;
using testing_codec::Hex;

const std::vector<testing_codec::VectorFile>& Vectors() {
  static const auto* v =
      new std::vector<testing_codec::VectorFile>(testing_codec::LoadVectors());
  return *v;
}

TEST(UpdateUtils, RecordedMergeDiffAndStateVectorSteps) {
  int merges = 0, diffs = 0, svs = 0;
  for (const auto& f : Vectors()) {
    auto reg = testing_codec::UpdateRegistry(f);
    std::map<std::string, Bytes> doc_sv;  // last encodeStateVector per doc
    for (const auto& step : f.json["steps"]) {
      const std::string op = step["op"];
      if (!step.contains("expect")) continue;
      const auto& ex = step["expect"];
      if (op == "mergeUpdates") {
        std::vector<Bytes> v1s, v2s;
        for (const auto& id : step["updates"]) {
          v1s.push_back(reg.at(id.get<std::string>()).v1);
          v2s.push_back(reg.at(id.get<std::string>()).v2);
        }
        std::vector<BytesView> a(v1s.begin(), v1s.end()),
            b(v2s.begin(), v2s.end());
        absl::StatusOr<Bytes> m1 = MergeUpdates(a);
        absl::StatusOr<Bytes> m2 = MergeUpdatesV2(b);
        ASSERT_TRUE(m1.ok()) << f.name << ": " << m1.status();
        ASSERT_TRUE(m2.ok()) << f.name << ": " << m2.status();
        EXPECT_EQ(Hex(*m1), Hex(FromBase64(ex["v1"]))) << f.name << " merge v1";
        EXPECT_EQ(Hex(*m2), Hex(FromBase64(ex["v2"]))) << f.name << " merge v2";
        ++merges;
      } else if (op == "diffUpdate") {
        const auto& u = reg.at(step["update"].get<std::string>());
        Bytes sv = FromBase64(ex["targetStateVector"]);
        absl::StatusOr<Bytes> d1 = DiffUpdate(u.v1, sv);
        absl::StatusOr<Bytes> d2 = DiffUpdateV2(u.v2, sv);
        ASSERT_TRUE(d1.ok() && d2.ok()) << f.name;
        EXPECT_EQ(Hex(*d1), Hex(FromBase64(ex["v1"]))) << f.name << " diff v1";
        EXPECT_EQ(Hex(*d2), Hex(FromBase64(ex["v2"]))) << f.name << " diff v2";
        ++diffs;
      } else if (op == "encodeStateVectorFromUpdate") {
        const auto& u = reg.at(step["update"].get<std::string>());
        absl::StatusOr<Bytes> s1 = EncodeStateVectorFromUpdate(u.v1);
        absl::StatusOr<Bytes> s2 = EncodeStateVectorFromUpdateV2(u.v2);
        ASSERT_TRUE(s1.ok() && s2.ok()) << f.name;
        EXPECT_EQ(Hex(*s1), Hex(FromBase64(ex["stateVector"]))) << f.name;
        EXPECT_EQ(Hex(*s2), Hex(FromBase64(ex["stateVector"]))) << f.name;
        ++svs;
      }
    }
  }
  EXPECT_GT(merges, 3);
  EXPECT_GT(diffs, 2);
  EXPECT_GT(svs, 2);
}

// The state vector of a document's full update is the document's state
// vector (yjs writes full updates with clients descending, like state
// vectors), unless the doc holds pending structs.
TEST(UpdateUtils, StateVectorFromFinalUpdates) {
  int checked = 0;
  for (const auto& f : Vectors()) {
    for (auto it = f.json["final"].begin(); it != f.json["final"].end(); ++it) {
      const auto& fin = it.value();
      if (fin["pendingStructs"].get<bool>()) continue;
      Bytes expect = FromBase64(fin["stateVector"]);
      absl::StatusOr<Bytes> s1 =
          EncodeStateVectorFromUpdate(FromBase64(fin["update"]));
      absl::StatusOr<Bytes> s2 =
          EncodeStateVectorFromUpdateV2(FromBase64(fin["updateV2"]));
      ASSERT_TRUE(s1.ok() && s2.ok()) << f.name;
      EXPECT_EQ(Hex(*s1), Hex(expect)) << f.name << " " << it.key();
      EXPECT_EQ(Hex(*s2), Hex(expect)) << f.name << " " << it.key();
      ++checked;
    }
  }
  EXPECT_GT(checked, 80);
}

// Merging the updates a document emitted, in order, then diffing against
// nothing, keeps every struct: its state vector is the final one.
TEST(UpdateUtils, MergeOfEmittedUpdatesCoversTheFinalState) {
  for (const auto& f : Vectors()) {
    for (auto it = f.json["final"].begin(); it != f.json["final"].end(); ++it) {
      if (it.value()["pendingStructs"].get<bool>()) continue;
      std::vector<Bytes> v1s, v2s;
      for (const auto& step : f.json["steps"]) {
        if (!step.contains("expect") || !step["expect"].contains("emitted"))
          continue;
        for (const auto& em : step["expect"]["emitted"]) {
          if (em["doc"] != it.key()) continue;
          v1s.push_back(FromBase64(em["v1"]));
          v2s.push_back(FromBase64(em["v2"]));
        }
      }
      if (v1s.size() < 2) continue;
      std::vector<BytesView> a(v1s.begin(), v1s.end()),
          b(v2s.begin(), v2s.end());
      absl::StatusOr<Bytes> m1 = MergeUpdates(a);
      absl::StatusOr<Bytes> m2 = MergeUpdatesV2(b);
      ASSERT_TRUE(m1.ok() && m2.ok()) << f.name;
      // Same structs in both formats.
      absl::StatusOr<Bytes> c = ConvertUpdateFormatV1ToV2(*m1);
      ASSERT_TRUE(c.ok());
      EXPECT_EQ(Hex(*c), Hex(*m2)) << f.name << " " << it.key();
      absl::StatusOr<Bytes> sv = EncodeStateVectorFromUpdate(*m1);
      ASSERT_TRUE(sv.ok());
      absl::StatusOr<StateVector> got = StateVector::Decode(*sv);
      absl::StatusOr<StateVector> want =
          StateVector::Decode(FromBase64(it.value()["stateVector"]));
      ASSERT_TRUE(got.ok() && want.ok());
      EXPECT_EQ(*got, *want) << f.name << " " << it.key();
    }
  }
}

// Two quirks of yjs's encodeStateVectorFromUpdate (checked against yjs
// 13.6.27), which spec §13.4 does not describe: a Skip at clock 0 as the
// very first struct still counts, and a client split over two sections is
// counted across the gap between them.
TEST(UpdateUtils, StateVectorFromUpdateQuirks) {
  Bytes leading_skip = {1, 2, 5, 0, 10, 2, 0, 3, 0};
  absl::StatusOr<Bytes> a = EncodeStateVectorFromUpdate(leading_skip);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (Bytes{0x01, 0x05, 0x02}));
  Bytes split = {2, 1, 5, 0, 0, 3, 1, 5, 10, 0, 4, 0};
  absl::StatusOr<Bytes> b = EncodeStateVectorFromUpdate(split);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, (Bytes{0x01, 0x05, 0x0e}));
}

TEST(UpdateUtils, SingleUpdateIsReturnedUnchanged) {
  Bytes garbage = {1, 2, 3};
  std::vector<BytesView> one = {garbage};
  absl::StatusOr<Bytes> m = MergeUpdates(one);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, garbage);
}

TEST(UpdateUtils, ParseUpdateMeta) {
  // Spec §3.8 text_delete_middle_gc: client 1, clocks 0..6.
  Bytes u = {0x01, 0x03, 0x01, 0x00, 0x04, 0x01, 0x01, 0x74, 0x02,
             0x61, 0x62, 0x81, 0x01, 0x01, 0x02, 0x84, 0x01, 0x03,
             0x02, 0x65, 0x66, 0x01, 0x01, 0x01, 0x02, 0x02};
  absl::StatusOr<UpdateMeta> m = ParseUpdateMeta(u);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->from.at(1), 0u);
  EXPECT_EQ(m->to.at(1), 6u);
  absl::StatusOr<Bytes> v2 = ConvertUpdateFormatV1ToV2(u);
  ASSERT_TRUE(v2.ok());
  absl::StatusOr<UpdateMeta> m2 = ParseUpdateMetaV2(*v2);
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(m2->to.at(1), 6u);
}

TEST(UpdateUtils, ErrorsNameTheUpdate) {
  Bytes good = {0x00, 0x00};
  Bytes bad = {0x01, 0x05};
  std::vector<BytesView> in = {good, bad};
  absl::StatusOr<Bytes> m = MergeUpdates(in);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()),
              testing::MatchesRegex("update 2 of 2: .* at byte [0-9]+"));
}

}  // namespace
}  // namespace auxsync::crdt
