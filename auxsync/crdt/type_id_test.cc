// Tests of TypeId and Doc::Resolve: a nested type's lasting name resolves
// while the type exists (deleted or not, as yjs keeps it) and to nothing
// once it is collected, when a handle taken earlier would dangle.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/types.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

std::unique_ptr<Doc> NewDoc(uint64_t client, bool gc = true) {
  DocOptions o;
  o.client_id = client;
  o.gc = gc;
  return std::make_unique<Doc>(o);
}

// Applies everything `from` has to `to`.
void Sync(Doc& from, Doc& to) {
  absl::StatusOr<std::vector<uint8_t>> u = EncodeStateAsUpdate(from);
  ASSERT_TRUE(u.ok()) << u.status();
  ASSERT_TRUE(ApplyUpdate(to, *u).ok());
}

// The nested map at root "m", key "inner" (with one entry).
YMap MakeInner(Doc& doc) {
  YMap root = doc.GetMap("m");
  root.Set("inner", Input::Map({{"k", JsValue::MakeNumber(1)}}));
  std::optional<OutValue> v = root.Get("inner");
  EXPECT_TRUE(v.has_value() && v->type != nullptr);
  return YMap(v.has_value() ? v->type : nullptr);
}

TEST(TypeId, NamesARootByNameAndANestedTypeByItsItem) {
  auto doc = NewDoc(5);
  YMap inner = MakeInner(*doc);
  TypeId root_ref = doc->GetMap("m").Id();
  EXPECT_EQ(root_ref.root, "m");
  EXPECT_FALSE(root_ref.item.has_value());
  TypeId ref = inner.Id();
  ASSERT_TRUE(ref.item.has_value());
  EXPECT_EQ(*ref.item, (ID{5, 0}));  // the first struct client 5 wrote
  EXPECT_EQ(doc->Resolve(ref).impl(), inner.impl());
  EXPECT_EQ(doc->Resolve(root_ref).impl(), doc->GetMap("m").impl());
}

TEST(TypeId, ResolvesInAnotherDocHoldingTheSameType) {
  auto a = NewDoc(5);
  YMap inner = MakeInner(*a);
  auto b = NewDoc(6);
  Sync(*a, *b);
  YType there = b->Resolve(inner.Id());
  ASSERT_TRUE(there);
  EXPECT_EQ(YMap(there.impl()).Get("k")->value.number(), 1.0);
}

TEST(TypeId, APeersDeleteResolvesToNothingOnceCollected) {
  auto a = NewDoc(5);
  YMap inner = MakeInner(*a);
  const TypeId ref = inner.Id();
  auto b = NewDoc(6);
  Sync(*a, *b);
  b->GetMap("m").Delete("inner");
  Sync(*b, *a);
  // `inner` dangles now; the name does not.
  EXPECT_FALSE(a->Resolve(ref));
  // A later type does not take the collected one's name.
  a->GetMap("m").Set("inner", Input::Map());
  EXPECT_FALSE(a->Resolve(ref));
  EXPECT_TRUE(a->Resolve(YMap(a->GetMap("m").Get("inner")->type).Id()));
}

TEST(TypeId, ADeletedTypeResolvesUntilItsTransactionEnds) {
  auto doc = NewDoc(5);
  YMap inner = MakeInner(*doc);
  const TypeId ref = inner.Id();
  bool resolved_inside = false;
  doc->Transact([&](Transaction&) {
    doc->GetMap("m").Delete("inner");
    YType t = doc->Resolve(ref);
    resolved_inside = t.impl() == inner.impl();
  });
  EXPECT_TRUE(resolved_inside);
  EXPECT_FALSE(doc->Resolve(ref));
}

TEST(TypeId, WithoutGcADeletedTypeStillResolves) {
  auto a = NewDoc(5, /*gc=*/false);
  YMap inner = MakeInner(*a);
  auto b = NewDoc(6);
  Sync(*a, *b);
  b->GetMap("m").Delete("inner");
  Sync(*b, *a);
  YType t = a->Resolve(inner.Id());
  EXPECT_EQ(t.impl(), inner.impl());
  ASSERT_NE(t.impl()->item, nullptr);
  EXPECT_TRUE(t.impl()->item->deleted);
}

TEST(TypeId, NamesOfNoTypeResolveToNothing) {
  auto doc = NewDoc(5);
  YText text = doc->GetText("t");
  text.Insert(0, u"abc");  // clocks 0..2: string content, no type
  YArray arr = doc->GetArray("a");
  arr.Push({Input::Text(u"x")});  // clock 3: a Y.Text in the array
  const std::vector<std::string> roots = doc->RootNames();

  TypeId r;
  r.root = "absent";
  EXPECT_FALSE(doc->Resolve(r));
  EXPECT_EQ(doc->RootNames(), roots);  // resolving made no root

  for (ID id : {ID{5, 1}, ID{5, 4}, ID{6, 0}}) {
    TypeId n;
    n.item = id;
    EXPECT_FALSE(doc->Resolve(n)) << id.client << ":" << id.clock;
  }
  TypeId in_array;
  in_array.item = ID{5, 3};
  YType t = doc->Resolve(in_array);
  ASSERT_TRUE(t);
  EXPECT_EQ(YText(t.impl()).ToString(), "x");
}

}  // namespace
}  // namespace auxsync::crdt
