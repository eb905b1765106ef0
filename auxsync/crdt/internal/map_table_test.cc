// MapTable: keys kept in the order they were added, found by address and by
// text, below and past the size where the hash index starts, across growth,
// Reserve and Clear.

#include "auxsync/crdt/internal/map_table.h"

#include <deque>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace auxsync::crdt::engine {
namespace {

// Interned keys, as a Doc's ItemPool hands them out (one copy per text).
class Keys {
 public:
  ItemKey Get(const std::string& text) {
    for (const InternedKey& k : store_) {
      if (k.text == text) return ItemKey(&k);
    }
    return ItemKey(
        &store_.emplace_back(InternedKey{text, MapTable::Hash(text)}));
  }

 private:
  std::deque<InternedKey> store_;
};

// A distinct non-null pointer per value, for the entries' items.
Item* Tag(uintptr_t i) { return reinterpret_cast<Item*>(i * 16 + 16); }

void CheckTable(MapTable& t, Keys& keys, int n) {
  ASSERT_EQ(t.size(), static_cast<size_t>(n));
  int i = 0;
  for (const MapTable::Entry& e : t) {
    EXPECT_EQ(e.key.get(), "key" + std::to_string(i));
    EXPECT_EQ(e.current, Tag(i));
    ++i;
  }
  for (i = 0; i < n; ++i) {
    const std::string text = "key" + std::to_string(i);
    MapTable::Entry* by_address = t.Find(keys.Get(text));
    ASSERT_NE(by_address, nullptr);
    EXPECT_EQ(by_address->current, Tag(i));
    EXPECT_EQ(t.Find(std::string_view(text)), by_address);
    // The interned copy by its address, another string by its text.
    EXPECT_EQ(t.FindInterned(keys.Get(text).get()), by_address);
    EXPECT_EQ(t.FindInterned(text), by_address);
  }
  EXPECT_EQ(t.FindInterned(keys.Get("absent").get()), nullptr);
  EXPECT_EQ(t.FindInterned(std::string("absent")), nullptr);
  EXPECT_EQ(t.Find(keys.Get("absent")), nullptr);
  EXPECT_EQ(t.Find(std::string_view("absent")), nullptr);
}

TEST(MapTable, KeepsKeyOrderAndFindsKeysAtEverySize) {
  Keys keys;
  MapTable t;
  EXPECT_TRUE(t.empty());
  for (int i = 0; i < 300; ++i) {  // linear, then indexed, then regrown
    MapTable::Entry& e = t.FindOrAdd(keys.Get("key" + std::to_string(i)));
    EXPECT_EQ(e.current, nullptr);
    EXPECT_EQ(e.first, nullptr);
    e.current = Tag(i);
    CheckTable(t, keys, i + 1);
  }
  // An existing key keeps its place and entry.
  MapTable::Entry& again = t.FindOrAdd(keys.Get("key7"));
  EXPECT_EQ(again.current, Tag(7));
  EXPECT_EQ(t.size(), 300u);
}

TEST(MapTable, ReserveKeepsEntriesAndClearEmpties) {
  Keys keys;
  MapTable t;
  for (int i = 0; i < 5; ++i) {
    t.FindOrAdd(keys.Get("key" + std::to_string(i))).current = Tag(i);
  }
  t.Reserve(3);    // smaller than the table: nothing changes
  t.Reserve(100);  // past the linear size: an index for the five
  CheckTable(t, keys, 5);
  for (int i = 5; i < 100; ++i) {
    t.FindOrAdd(keys.Get("key" + std::to_string(i))).current = Tag(i);
  }
  CheckTable(t, keys, 100);
  t.Clear();
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.begin(), t.end());
  EXPECT_EQ(t.Find(keys.Get("key1")), nullptr);
  t.FindOrAdd(keys.Get("key0")).current = Tag(0);
  CheckTable(t, keys, 1);
}

TEST(MapTable, SameTextDifferentKeysAreFoundByText) {
  // Keys are compared by address: a lookup by text finds the table's copy.
  const InternedKey a{"same", MapTable::Hash("same")};
  MapTable t;
  t.FindOrAdd(ItemKey(&a)).current = Tag(1);
  EXPECT_EQ(t.Find(std::string_view("same"))->current, Tag(1));
}

}  // namespace
}  // namespace auxsync::crdt::engine
