// KeyTable: one copy per key text (the same ItemKey for the same text, also
// for the empty key and across the index's growth), copies that outlive the
// caller's text.

#include "auxsync/crdt/internal/key_table.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace auxsync::crdt::engine {
namespace {

TEST(KeyTable, SameTextSameKey) {
  KeyTable t;
  std::string text = "color";
  const ItemKey a = t.Intern(text);
  text = "other";  // the table keeps its own copy
  EXPECT_EQ(a.get(), "color");
  EXPECT_EQ(t.Intern("color").address(), a.address());
  EXPECT_NE(t.Intern("other").address(), a.address());
  // The empty key (a view without data) and keys that only differ past
  // their first or last bytes.
  const ItemKey empty = t.Intern(std::string_view());
  EXPECT_EQ(t.Intern("").address(), empty.address());
  EXPECT_EQ(empty.get(), "");
  EXPECT_NE(t.Intern("abcdefghij").address(), t.Intern("abcdeXghij").address());
  EXPECT_NE(t.Intern("abcdefghijklmnopq").address(),
            t.Intern("abcdefghijklmnopr").address());
}

TEST(KeyTable, KeysStayPutAcrossGrowth) {
  KeyTable t;
  std::vector<ItemKey> keys;
  for (int i = 0; i < 5000; ++i) {
    keys.push_back(t.Intern("bot-" + std::to_string(i)));
  }
  for (int i = 0; i < 5000; ++i) {
    const std::string text = "bot-" + std::to_string(i);
    EXPECT_EQ(keys[i].get(), text);
    EXPECT_EQ(t.Intern(text).address(), keys[i].address());
  }
}

}  // namespace
}  // namespace auxsync::crdt::engine
