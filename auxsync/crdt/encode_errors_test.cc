// Encoding failures reach the caller as a status: values an update cannot
// hold (yjs throws on them) never turn into silently altered bytes.
#include <cstdint>
#include <span>
#include <vector>

#include "auxsync/crdt/any.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/types.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

Doc NewDoc() {
  DocOptions o;
  o.client_id = 7;
  return Doc(std::move(o));
}

// v1 writes an embed as JSON.stringify(value), which throws on a bigint.
TEST(EncodeErrors, BigIntEmbedFailsInV1AndEncodesInV2) {
  Doc d = NewDoc();
  YText t = d.GetText("t");
  d.Transact([&](Transaction&) {
    t.Insert(0, u"ab");
    t.InsertEmbed(1, Any::MakeBigInt(5));
  });
  absl::StatusOr<std::vector<uint8_t>> v1 = EncodeStateAsUpdate(d);
  EXPECT_FALSE(v1.ok());
  EXPECT_EQ(v1.status().code(), absl::StatusCode::kInvalidArgument);
  // v2 writes it with writeAny.
  absl::StatusOr<std::vector<uint8_t>> v2 = EncodeStateAsUpdateV2(d);
  ASSERT_TRUE(v2.ok()) << v2.status();
  Doc copy = NewDoc();
  ASSERT_TRUE(ApplyUpdateV2(copy, *v2).ok());
  absl::StatusOr<std::vector<uint8_t>> again = EncodeStateAsUpdateV2(copy);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *v2);
}

// The same for a bigint nested in a format value.
TEST(EncodeErrors, BigIntInFormatValueFailsInV1) {
  Doc d = NewDoc();
  YText t = d.GetText("t");
  d.Transact([&](Transaction&) { t.Insert(0, u"abc"); });
  Any::Map m;
  m.emplace_back("n", Any::MakeBigInt(1));
  const Attributes attrs = {{"x", Any::MakeMap(std::move(m))}};
  d.Transact([&](Transaction&) { t.Format(0, 2, attrs); });
  EXPECT_FALSE(EncodeStateAsUpdate(d).ok());
  EXPECT_TRUE(EncodeStateAsUpdateV2(d).ok());
}

// A transaction whose v1 update cannot be written emits no v1 update event
// (no "null" in place of the value); the v2 event is emitted.
TEST(EncodeErrors, UnwritableUpdateIsNotEmitted) {
  Doc d = NewDoc();
  YText t = d.GetText("t");
  int v1_events = 0;
  int v2_events = 0;
  Subscription s1 = d.OnUpdate(
      [&](std::span<const uint8_t>, const Transaction&) { ++v1_events; });
  Subscription s2 = d.OnUpdateV2(
      [&](std::span<const uint8_t>, const Transaction&) { ++v2_events; });
  d.Transact([&](Transaction&) { t.InsertEmbed(0, Any::MakeBigInt(5)); });
  EXPECT_EQ(v1_events, 0);
  EXPECT_EQ(v2_events, 1);
  d.Transact([&](Transaction&) { t.Insert(1, u"x"); });
  EXPECT_EQ(v1_events, 1);
  EXPECT_EQ(v2_events, 2);
}

// A delete range of length 0 (a v1 update may carry one) cannot be
// written in v2 (len - 1): it must not wrap around to 2^64 - 1.
TEST(EncodeErrors, PendingZeroLengthDeleteRange) {
  Doc d = NewDoc();
  // No structs; delete set: client 5, one range [3, 3 + 0).
  const std::vector<uint8_t> u = {0x00, 0x01, 0x05, 0x01, 0x03, 0x00};
  if (!ApplyUpdate(d, u).ok()) return;  // rejected up front: nothing to do
  absl::StatusOr<std::vector<uint8_t>> v2 = EncodeStateAsUpdateV2(d);
  if (v2.ok()) {
    // Whatever was kept must read back.
    Doc copy = NewDoc();
    EXPECT_TRUE(ApplyUpdateV2(copy, *v2).ok());
    for (uint8_t b : *v2) EXPECT_NE(b, 0xff);
  }
}

}  // namespace
}  // namespace auxsync::crdt
