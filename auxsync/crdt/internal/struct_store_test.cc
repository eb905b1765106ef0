// Copyright 2025 The auxsync Authors.
//
// StructList and StructStore against a plain model (a vector of structs
// searched linearly): lookups of every kind while a list only grows at its
// end (the clock index, made at the second struct, coarsened and refined),
// after inserts and erases in the middle (no index), and a store that
// reserves room for many clients.

#include "auxsync/crdt/internal/struct_store.h"

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "auxsync/crdt/internal/item.h"
#include "gtest/gtest.h"

namespace auxsync::crdt::engine {
namespace {

// Items of one client with stable addresses, and the list's expected
// content (position order).
class Model {
 public:
  explicit Model(uint64_t client) : client_(client) {}
  Item* Make(uint64_t clock, uint64_t length) {
    items_.push_back(std::make_unique<Item>());
    Item* it = items_.back().get();
    it->id = {client_, clock};
    it->length = length;
    return it;
  }
  // A struct appended to the model and to `list`: returns its end clock.
  uint64_t Append(StructList& list, uint64_t clock, uint64_t length) {
    order.push_back(Make(clock, length));
    list.push_back(order.back());
    return order.back()->EndClock();
  }
  std::vector<Item*> order;

  // Position of the struct holding `clock`, by linear search.
  size_t Position(uint64_t clock) const {
    for (size_t p = 0; p < order.size(); ++p) {
      if (order[p]->id.clock <= clock && clock < order[p]->EndClock()) {
        return p;
      }
    }
    ADD_FAILURE() << "clock " << clock << " is in no struct";
    return order.size();
  }

 private:
  uint64_t client_;
  std::vector<std::unique_ptr<Item>> items_;
};

// Every lookup of `list` agrees with the model, for every clock of short
// lists and for a sample of the others.
void ExpectLookups(const StructList& list, const Model& m, std::mt19937& rng) {
  ASSERT_EQ(list.size(), m.order.size());
  if (m.order.empty()) return;
  for (size_t p = 0; p < m.order.size(); ++p) ASSERT_EQ(list[p], m.order[p]);
  EXPECT_EQ(list.front(), m.order.front());
  EXPECT_EQ(list.back(), m.order.back());
  const uint64_t first = m.order.front()->id.clock;
  const uint64_t end = m.order.back()->EndClock();
  std::vector<uint64_t> clocks;
  if (end - first <= 400) {
    for (uint64_t c = first; c < end; ++c) clocks.push_back(c);
  } else {
    std::uniform_int_distribution<uint64_t> any(first, end - 1);
    for (int k = 0; k < 300; ++k) clocks.push_back(any(rng));
    for (Item* it : m.order) {  // both ends of every struct
      clocks.push_back(it->id.clock);
      clocks.push_back(it->EndClock() - 1);
    }
  }
  for (uint64_t c : clocks) {
    const size_t want = m.Position(c);
    list.PrefetchFind(c);  // reads the index: must stay in bounds
    ASSERT_EQ(list.FindIndex(c), want) << "clock " << c;
    ASSERT_EQ(list.FindItem(c), m.order[want]) << "clock " << c;
  }
}

// A struct length: mostly short, sometimes a jump far past the index's
// blocks (coarsening it), once in a while a single clock.
uint64_t RandomLength(std::mt19937& rng) {
  const uint32_t r = rng() % 100;
  if (r < 3) return 1000 + rng() % 200000;
  if (r < 20) return 1;
  return 1 + rng() % 40;
}

TEST(StructList, OneStructListNeedsNoIndex) {
  for (uint64_t first : {uint64_t{0}, uint64_t{7}, uint64_t{1} << 40}) {
    for (uint64_t length : {uint64_t{1}, uint64_t{16}, uint64_t{1000}}) {
      Model m(5);
      StructList list;
      m.Append(list, first, length);
      std::mt19937 rng(static_cast<uint32_t>(first + length));
      ExpectLookups(list, m, rng);
      // A second struct, short (ending in the first blocks) or long (its
      // end far past them).
      for (uint64_t second : {uint64_t{3}, uint64_t{100000}}) {
        Model m2(5);
        StructList l2;
        m2.Append(l2, first, length);
        m2.Append(l2, first + length, second);
        ExpectLookups(l2, m2, rng);
      }
    }
  }
}

TEST(StructList, AppendedListLookupsMatchALinearSearch) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    Model m(9);
    StructList list;
    uint64_t clock = seed % 3 == 0 ? 0 : rng() % 100000;
    const size_t n = 1 + rng() % 700;
    if (seed % 2 == 0) {
      // As an update's integration does, once its first struct is in.
      clock = m.Append(list, clock, RandomLength(rng));
      list.ReserveAppend(n, clock + 40 * n);
    }
    for (size_t k = m.order.size(); k < n; ++k) {
      clock = m.Append(list, clock, RandomLength(rng));
      if (k < 4 || k % 97 == 0) ExpectLookups(list, m, rng);
    }
    ExpectLookups(list, m, rng);
  }
}

TEST(StructList, InsertsAndErasesKeepLookupsRight) {
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    Model m(3);
    StructList list;
    uint64_t clock = 0;
    for (int k = 0; k < 600; ++k) {
      clock = m.Append(list, clock, 2 + rng() % 8);
    }
    for (int step = 0; step < 60; ++step) {
      const size_t p = rng() % m.order.size();
      Item* it = m.order[p];
      if (step % 3 != 2 && it->length >= 2) {
        // A split: the struct keeps its first clock, the new one the rest.
        const uint64_t keep = 1 + rng() % (it->length - 1);
        Item* right = m.Make(it->id.clock + keep, it->length - keep);
        it->length = keep;
        m.order.insert(m.order.begin() + static_cast<std::ptrdiff_t>(p + 1),
                       right);
        list.InsertAt(p + 1, right);
      } else if (p + 1 < m.order.size()) {
        // A merge: the struct takes its right neighbour's clocks.
        it->length += m.order[p + 1]->length;
        m.order.erase(m.order.begin() + static_cast<std::ptrdiff_t>(p + 1));
        list.Erase(p + 1, p + 2);
      }
      if (step % 10 == 0) ExpectLookups(list, m, rng);
    }
    // Erases at the end, as merged typing does.
    for (int k = 0; k < 5 && m.order.size() > 1; ++k) {
      const size_t last = m.order.size() - 1;
      m.order[last - 1]->length += m.order[last]->length;
      m.order.pop_back();
      list.Erase(last, last + 1);
    }
    ExpectLookups(list, m, rng);
  }
}

TEST(StructList, ChunksSplitWhenFullAndGoWhenEmptied) {
  std::mt19937 rng(7);
  Model m(11);
  StructList list;
  uint64_t clock = 0;
  for (int k = 0; k < 300; ++k) {
    clock = m.Append(list, clock, 1000);
  }
  // Splits near the front until the first chunks overflow (and split).
  for (int k = 0; k < 900; ++k) {
    const size_t p = rng() % 200;
    Item* it = m.order[p];
    if (it->length < 2) continue;
    const uint64_t keep = 1 + rng() % (it->length - 1);
    Item* right = m.Make(it->id.clock + keep, it->length - keep);
    it->length = keep;
    m.order.insert(m.order.begin() + static_cast<std::ptrdiff_t>(p + 1), right);
    list.InsertAt(p + 1, right);
    if (k % 150 == 0) ExpectLookups(list, m, rng);
  }
  ExpectLookups(list, m, rng);
  // Merges of long runs, emptying whole chunks.
  for (int k = 0; k < 4 && m.order.size() > 400; ++k) {
    const size_t p = rng() % 50;
    const size_t n = 300;
    for (size_t j = p + 1; j <= p + n; ++j) {
      m.order[p]->length += m.order[j]->length;
    }
    m.order.erase(m.order.begin() + static_cast<std::ptrdiff_t>(p + 1),
                  m.order.begin() + static_cast<std::ptrdiff_t>(p + 1 + n));
    list.Erase(p + 1, p + 1 + n);
    ExpectLookups(list, m, rng);
  }
}

TEST(StructStore, ManyClientsAfterReservingRoom) {
  StructStore store;
  std::vector<std::unique_ptr<Model>> models;
  std::mt19937 rng(42);
  // Clients added in two waves, room reserved before the second: lists
  // made before the reserve keep their structs.
  for (int wave = 0; wave < 2; ++wave) {
    if (wave == 1) store.ReserveClients(3000);
    for (uint64_t c = 1; c <= 1500; ++c) {
      const uint64_t client = c + 1500 * static_cast<uint64_t>(wave);
      models.push_back(std::make_unique<Model>(client));
      Model& m = *models.back();
      uint64_t clock = 0;
      for (uint64_t k = 0; k < 1 + client % 3; ++k) {
        m.order.push_back(m.Make(clock, 1 + rng() % 5));
        store.ClientOrCreate(client).push_back(m.order.back());
        clock = m.order.back()->EndClock();
      }
    }
  }
  ASSERT_EQ(store.clients().size(), 3000u);
  for (const auto& mp : models) {
    const Model& m = *mp;
    const uint64_t client = m.order.front()->id.client;
    const StructList* list = store.Client(client);
    ASSERT_NE(list, nullptr);
    ExpectLookups(*list, m, rng);
    EXPECT_EQ(store.State(client), m.order.back()->EndClock());
    EXPECT_EQ(store.Find({client, m.order.back()->id.clock}), m.order.back());
    EXPECT_EQ(store.Find({client, m.order.back()->EndClock()}), nullptr);
  }
}

}  // namespace
}  // namespace auxsync::crdt::engine
