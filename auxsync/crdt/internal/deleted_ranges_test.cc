// Copyright 2025 The auxsync Authors.
//
// DeletedRanges against the plain rule: each maximal run of consecutive
// deleted structs is one range, handed in clock order, across batches and
// flushes.

#include "auxsync/crdt/internal/deleted_ranges.h"

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace auxsync::crdt::engine {
namespace {

using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;

struct Collect {
  Ranges* out;
  void operator()(uint64_t clock, uint64_t length) const {
    out->push_back({clock, length});
  }
};

TEST(DeletedRanges, GathersEachRunOfDeletedStructsAsOneRange) {
  std::mt19937 rng(21);
  for (int round = 0; round < 500; ++round) {
    Ranges got;
    Ranges want;
    DeletedRanges<Collect> gather(Collect{&got});
    // Segments of structs without gaps, a flush between two (the next
    // segment may start anywhere after it); long segments pass the
    // buffer's batch size.
    uint64_t clock = rng() % 100;
    const int segments = 1 + static_cast<int>(rng() % 4);
    for (int seg = 0; seg < segments; ++seg) {
      const int structs = static_cast<int>(rng() % 400);
      // Deleted structs come in runs of random length, as in a document.
      const unsigned deleted_share = rng() % 100;
      bool open = false;
      for (int i = 0; i < structs; ++i) {
        const bool deleted = rng() % 100 < deleted_share;
        const uint64_t length = 1 + rng() % 20;
        if (deleted && open) {
          want.back().second += length;
        } else if (deleted) {
          want.push_back({clock, length});
        }
        open = deleted;
        gather.Note(deleted, clock, length);
        clock += length;
      }
      gather.Flush();
      ASSERT_EQ(got, want) << "round " << round << " segment " << seg;
      clock += rng() % 50;
    }
  }
}

TEST(DeletedRanges, HandsNothingWithoutADeletedStruct) {
  Ranges got;
  DeletedRanges<Collect> gather(Collect{&got});
  for (uint64_t c = 0; c < 1000; c += 3) gather.Note(false, c, 3);
  gather.Flush();
  gather.Flush();
  EXPECT_TRUE(got.empty());
}

TEST(DeletedRanges, AFlushClosesTheOpenRangeOnce) {
  Ranges got;
  DeletedRanges<Collect> gather(Collect{&got});
  gather.Note(true, 10, 2);
  gather.Note(true, 12, 5);
  gather.Flush();
  gather.Flush();
  gather.Note(true, 40, 1);
  gather.Flush();
  EXPECT_EQ(got, (Ranges{{10, 7}, {40, 1}}));
}

}  // namespace
}  // namespace auxsync::crdt::engine
