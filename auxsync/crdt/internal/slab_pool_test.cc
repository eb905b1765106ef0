// Copyright 2025 The auxsync Authors.
//
// SlabPool (slots reused, objects intact across block growth, destructors
// run, each slot freed into its own pool) and the ItemPool's uses of it:
// pooled shared types (in the item blocks) and Extras owned by their
// Content (moved, reset, replaced by heap ones), and the pool's map keys
// (one copy per key).

#include "auxsync/crdt/internal/slab_pool.h"

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "auxsync/crdt/internal/item.h"
#include "gtest/gtest.h"

namespace auxsync::crdt::engine {
namespace {

struct Counted {
  int* live = nullptr;
  uint64_t value = 0;
  ~Counted() {
    if (live != nullptr) --*live;
  }
};

TEST(SlabPool, ObjectsStayIntactAndFreedSlotsAreReused) {
  int live = 0;
  {
    SlabPool<Counted> pool;
    std::vector<Counted*> objs;
    for (uint64_t i = 0; i < 1000; ++i) {  // several blocks
      Counted* c = pool.New();
      EXPECT_EQ(c->value, 0u);
      c->live = &live;
      c->value = i;
      ++live;
      objs.push_back(c);
    }
    EXPECT_EQ(std::set<Counted*>(objs.begin(), objs.end()).size(), 1000u);
    for (uint64_t i = 0; i < 1000; ++i) EXPECT_EQ(objs[i]->value, i);
    Counted* freed = objs[500];
    SlabPool<Counted>::Delete(freed);
    EXPECT_EQ(live, 999);
    Counted* again = pool.New();
    EXPECT_EQ(again, freed);  // the warm slot first
    EXPECT_EQ(again->value, 0u);
    objs[500] = again;
    for (Counted* c : objs) SlabPool<Counted>::Delete(c);
  }
  EXPECT_EQ(live, 0);  // every destructor ran once
}

TEST(SlabPool, DeleteGivesTheSlotToItsOwnPool) {
  SlabPool<Counted> a, b;
  Counted* from_a = a.New();
  Counted* from_b = b.New();
  SlabPool<Counted>::Delete(from_a);
  SlabPool<Counted>::Delete(from_b);
  EXPECT_EQ(b.New(), from_b);
  EXPECT_EQ(a.New(), from_a);
  SlabPool<Counted>::Delete(from_a);
  SlabPool<Counted>::Delete(from_b);
}

TEST(SlabPool, ContentOwnsPooledTypesAndExtras) {
  ItemPool pool;
  Content c;
  c.ref = kRefType;
  TypeImpl* t = pool.NewType(c);
  EXPECT_EQ(c.type(), t);
  EXPECT_EQ(c.extra(), nullptr);
  t->kind = TypeKind::kText;
  Content moved(std::move(c));
  EXPECT_EQ(c.type(), nullptr);
  EXPECT_EQ(moved.type(), t);
  EXPECT_EQ(moved.type()->kind, TypeKind::kText);
  moved.Reset();  // back to the pool
  EXPECT_EQ(moved.type(), nullptr);
  Content d;
  d.ref = kRefType;
  EXPECT_EQ(pool.NewType(d), t);  // reused, default-constructed
  EXPECT_EQ(d.type()->kind, TypeKind::kUnknown);
  // A heap type replaces the pooled one (which goes back to the pool).
  d.set_type(std::make_unique<TypeImpl>());
  EXPECT_NE(d.type(), t);
  Content e;
  e.ref = kRefType;
  EXPECT_EQ(pool.NewType(e), t);

  // Values: a pooled Extra, split and appended like a heap one.
  Content n;
  n.ref = kRefAny;
  Content::AnyList& values = pool.Anys(n);
  values.push_back(Any::MakeNumber(1.0));
  values.push_back(Any::MakeNumber(2.0));
  values.push_back(Any::MakeString("three"));
  EXPECT_EQ(&pool.Anys(n), &values);  // no new Extra for a second call
  EXPECT_EQ(n.Length(), 3u);
  Content right = n.Splice(1);
  ASSERT_EQ(n.AnyCount(), 1u);
  ASSERT_EQ(right.AnyCount(), 2u);
  EXPECT_EQ(right.anys()[1].string(), "three");
  n.Append(std::move(right));
  ASSERT_EQ(n.AnyCount(), 3u);
  EXPECT_EQ(n.anys()[0].number(), 1.0);
  EXPECT_EQ(n.anys()[2].string(), "three");
  // A type given to a content that held values frees them.
  pool.NewType(n);
  EXPECT_EQ(n.AnyCount(), 0u);
  EXPECT_NE(n.type(), nullptr);
}

TEST(SlabPool, ItemPoolTypesShareTheItemBlocks) {
  // Items owning types, made alternately from the same blocks (past the
  // small blocks), some collected and their slots reused: the destructor
  // destroys the items (which give their types back) and skips the type
  // slots.
  auto pool = std::make_unique<ItemPool>();
  std::vector<Item*> items;
  std::set<const void*> slots;
  for (int i = 0; i < 3000; ++i) {
    Content c;
    c.ref = kRefType;
    TypeImpl* t = pool->NewType(c);
    t->kind = TypeKind::kText;
    Item* it = pool->New();
    it->content = std::move(c);
    EXPECT_TRUE(slots.insert(it).second);
    EXPECT_TRUE(slots.insert(t).second);
    items.push_back(it);
  }
  EXPECT_EQ(pool->live(), 3000u);
  for (size_t i = 0; i < items.size(); i += 3) {
    TypeImpl* t = items[i]->content.type();
    items[i]->content.Reset();  // the type's slot back to the pool
    Content c;
    c.ref = kRefType;
    EXPECT_EQ(pool->NewType(c), t);  // reused at once
    EXPECT_EQ(c.type()->kind, TypeKind::kUnknown);
    pool->Free(items[i]);
  }
  EXPECT_EQ(pool->live(), 2000u);
  for (size_t i = 1; i < items.size(); i += 3) {
    EXPECT_EQ(items[i]->content.type()->kind, TypeKind::kText);
  }
  pool.reset();
}

TEST(SlabPool, ItemPoolTextsInSlots) {
  auto pool = std::make_unique<ItemPool>();
  const std::u16string longest(ItemPool::kSlotTextUnits, u'x');
  // Short texts stay inline, longer ones take a slot up to its room.
  Text16 inline_text = pool->NewText(u"short");
  EXPECT_EQ(inline_text.view(), u"short");
  Text16 a = pool->NewText(u"value1234_5");
  Text16 b = pool->NewText(longest);
  Text16 c = pool->NewText(longest + u"y");  // too long: the heap
  EXPECT_EQ(a.view(), u"value1234_5");
  EXPECT_EQ(b.view(), longest);
  EXPECT_EQ(c.view(), longest + u"y");
  EXPECT_EQ(pool->live(), 0u);  // no items
  // A freed slot is reused by the next text or type.
  const char16_t* a_units = a.data();
  a.Release();
  Text16 d = pool->NewText(u"0123456789");
  EXPECT_EQ(d.data(), a_units);
  // Edits keep the slot while the text fits, and move to the heap past it.
  d.append(u"abc");
  EXPECT_EQ(d.data(), a_units);
  EXPECT_EQ(d.view(), u"0123456789abc");
  Text16 right = d.SplitOff(4);
  EXPECT_EQ(d.view(), u"0123");
  EXPECT_EQ(right.view(), u"456789abc");
  d.append(longest);
  EXPECT_NE(d.data(), a_units);
  EXPECT_EQ(d.view(), u"0123" + longest);
  d.assign(u"9876543210");  // the heap buffer is kept
  EXPECT_EQ(d.view(), u"9876543210");
  Content t;
  t.ref = kRefType;
  EXPECT_EQ(static_cast<const void*>(pool->NewType(t)),
            static_cast<const void*>(a_units));
  // Texts held by items go back when the items are destroyed.
  for (int i = 0; i < 1000; ++i) {
    Item* it = pool->New();
    it->content.ref = kRefString;
    it->content.str =
        pool->NewText(u"text number " + std::u16string(1, u'a' + i % 26));
    it->length = it->content.str.size();
  }
  t.Reset();
  b.Release();
  pool.reset();
}

TEST(SlabPool, ItemPoolKeysAreOneCopyEach) {
  ItemPool pool;
  std::vector<std::string> keys;
  std::vector<const std::string*> copies;
  for (int i = 0; i < 2000; ++i) {
    // Long keys (heap strings) and short ones (inline), some repeated.
    keys.push_back(i % 3 == 0 ? "tag" + std::to_string(i % 7)
                              : "bot-0123456789abcdef-" + std::to_string(i));
    copies.push_back(&pool.Key(keys.back()).get());
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(*copies[i], keys[i]);
    EXPECT_EQ(&pool.Key(keys[i]).get(), copies[i]);
  }
  EXPECT_EQ(&pool.Key("tag3").get(), &pool.Key(std::string("tag3")).get());
  EXPECT_EQ(pool.Key("").get(), "");
}

}  // namespace
}  // namespace auxsync::crdt::engine
