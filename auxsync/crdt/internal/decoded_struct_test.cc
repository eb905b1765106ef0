// Copyright 2025 The auxsync Authors.
//
// DecodedStruct keeps the parent an update names in its item's `left` and
// `parent` until integration, and a taken struct's clock range in its own
// two words: what goes in comes back out, at the limits of the format.

#include <cstdint>
#include <string>
#include <string_view>

#include "auxsync/crdt/internal/engine.h"
#include "gtest/gtest.h"

namespace auxsync::crdt::engine {
namespace {

constexpr uint64_t kMaxSafe = (uint64_t{1} << 53) - 1;

TEST(DecodedStruct, ParentIdAndNameComeBackAsSet) {
  ItemPool pool;
  DecodedStruct s;
  s.set_item(pool.New());
  Item* it = s.item();
  it->id = {7, 40};
  it->length = 3;
  it->SetOrigin({9, 2});
  EXPECT_EQ(s.parent_kind(), 0);

  s.SetParentId({kMaxSafe, kMaxSafe - 1});
  EXPECT_EQ(s.parent_kind(), 2);
  EXPECT_EQ(s.parent_id().client, kMaxSafe);
  EXPECT_EQ(s.parent_id().clock, kMaxSafe - 1);

  const std::string update_bytes = "xxbotsyy";
  const std::string_view name(update_bytes.data() + 2, 4);
  s.SetParentName(name);
  EXPECT_EQ(s.parent_kind(), 1);
  // The same view (integration matches a root by the view's address).
  EXPECT_EQ(s.parent_name().data(), name.data());
  EXPECT_EQ(s.parent_name(), "bots");

  // The decoded fields integration reads are not where the parent waits.
  EXPECT_EQ(it->id.client, 7u);
  EXPECT_EQ(it->id.clock, 40u);
  EXPECT_EQ(it->length, 3u);
  EXPECT_EQ(it->origin.client, 9u);
  EXPECT_EQ(it->origin.clock, 2u);
  EXPECT_EQ(it->right, nullptr);

  s.ClearParent();
  EXPECT_EQ(it->left, nullptr);
  EXPECT_EQ(it->parent, nullptr);
  EXPECT_EQ(s.parent_kind(), 1);
  pool.Free(it);
}

TEST(DecodedStruct, TakenStructKeepsItsClockRange) {
  ItemPool pool;
  struct Case {
    uint64_t clock;
    uint64_t length;
  };
  for (const Case& c : {Case{0, 1}, Case{kMaxSafe - 1, 1}, Case{0, kMaxSafe},
                        Case{123456789, 987654}}) {
    DecodedStruct s;
    Item* it = pool.New();
    s.set_item(it);
    it->id = {5, c.clock};
    it->length = c.length;
    s.SetParentId({5, 0});
    ASSERT_FALSE(s.taken());
    EXPECT_EQ(s.held(), it);
    s.Take();
    EXPECT_TRUE(s.taken());
    EXPECT_EQ(s.held(), nullptr);
    EXPECT_EQ(s.taken_clock(), c.clock);
    EXPECT_EQ(s.taken_length(), c.length);
    pool.Free(it);
  }
}

TEST(DecodedStruct, EmptyStructHoldsNothing) {
  ItemPool pool;
  DecodedStruct s;
  EXPECT_EQ(s.held(), nullptr);
  EXPECT_FALSE(s.taken());
  s.set_item(pool.New());
  s.SetParentId({1, 2});
  Item* it = s.item();
  // Dropping the item forgets how the update named its parent.
  s.set_item(nullptr);
  EXPECT_EQ(s.held(), nullptr);
  EXPECT_FALSE(s.taken());
  EXPECT_EQ(s.parent_kind(), 0);
  pool.Free(it);
}

}  // namespace
}  // namespace auxsync::crdt::engine
