// WriteTransactionUpdateV1 against the generic v1 writer: on random local
// and remote transactions (text with non-BMP characters and lone
// surrogates, maps, nested types, arrays, deletions, gc on and off) the
// update each transaction emits is the generic writer's, byte for byte.
#include "auxsync/crdt/internal/local_update.h"

#include <random>
#include <string>
#include <vector>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/types.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

using Bytes = std::vector<uint8_t>;

// The generic writer's v1 update of `tr` (as Doc::Cleanup wrote it before
// the direct writer existed).
Bytes GenericUpdate(Doc& doc, const Transaction& tr) {
  auto w = engine::NewWriter(false);
  engine::WriteStoreStructs(*w, doc.store(), tr.before_state());
  engine::WriteDeleteSet(*w,
                         engine::DocAccess::Ds(const_cast<Transaction&>(tr)));
  return w->Finish();
}

std::u16string RandomText(std::mt19937& rng) {
  static const char16_t kUnits[] = {u'a',   u'b',   u'é',  u'€', 0xD83D, 0xDE00,
                                    0xD800, 0xDC00, u'\n', u'z', 0x7FF,  0x800};
  std::u16string s;
  size_t n = 1 + rng() % 6;
  for (size_t i = 0; i < n; ++i) s += kUnits[rng() % std::size(kUnits)];
  return s;
}

struct Peer {
  std::unique_ptr<Doc> doc;
  std::vector<Bytes> out;  // updates it emitted
  std::vector<Subscription> subs;
  int checked = 0, direct = 0;
};

void Watch(Peer& p) {
  Doc* d = p.doc.get();
  p.subs.push_back(
      d->OnUpdate([&p, d](std::span<const uint8_t> u, const Transaction& tr) {
        Bytes got(u.begin(), u.end());
        EXPECT_EQ(got, GenericUpdate(*d, tr));
        Bytes direct;
        size_t n = engine::WriteTransactionUpdateV1(
            d->store(),
            [&tr](uint64_t c) { return engine::DocAccess::Before(tr, c); },
            engine::DocAccess::Ds(const_cast<Transaction&>(tr)), &direct);
        if (n > 0) {
          EXPECT_EQ(Bytes(direct.begin(), direct.begin() + n), got);
          ++p.direct;
        }
        ++p.checked;
        p.out.push_back(std::move(got));
      }));
}

void RandomOp(Doc& doc, std::mt19937& rng) {
  YText text = doc.GetText("text");
  YMap map = doc.GetMap("map");
  YArray arr = doc.GetArray("arr");
  doc.Transact([&](Transaction&) {
    int ops = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < ops; ++k) {
      switch (rng() % 8) {
        case 0:
        case 1:
        case 2:
          text.Insert(rng() % (text.Length() + 1), RandomText(rng));
          break;
        case 3:
          if (text.Length() > 0) {
            uint64_t at = rng() % text.Length();
            text.Delete(at, 1 + rng() % 4);
          }
          break;
        case 4:
          map.Set("k" + std::to_string(rng() % 4),
                  JsValue(Any::MakeNumber(static_cast<double>(rng() % 100))));
          break;
        case 5: {
          // A nested text under a map key: the parent is an item.
          map.Set("t", Input::Text(RandomText(rng)));
          auto v = map.Get("t");
          if (v && v->type != nullptr) {
            YText(v->type).Insert(0, RandomText(rng));
          }
          break;
        }
        case 6:
          ASSERT_TRUE(arr.Insert(rng() % (arr.Length() + 1),
                                 {Input::Text(RandomText(rng))})
                          .ok());
          break;
        default:
          if (arr.Length() > 0) {
            ASSERT_TRUE(arr.Delete(rng() % arr.Length()).ok());
          }
          break;
      }
    }
  });
}

class LocalUpdateTest : public ::testing::TestWithParam<bool> {};

TEST_P(LocalUpdateTest, SameBytesAsGenericWriter) {
  const bool gc = GetParam();
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    Peer a, b;
    DocOptions oa, ob;
    oa.client_id = 7 + seed;
    ob.client_id = 300 + seed;
    oa.gc = ob.gc = gc;
    a.doc = std::make_unique<Doc>(std::move(oa));
    b.doc = std::make_unique<Doc>(std::move(ob));
    Watch(a);
    Watch(b);
    size_t a_sent = 0, b_sent = 0;
    for (int step = 0; step < 150; ++step) {
      RandomOp(rng() % 2 ? *a.doc : *b.doc, rng);
      if (rng() % 4 == 0) {
        // Exchange (remote transactions: other clients' structs and
        // deletes); the receiving doc emits those as its own updates.
        size_t an = a.out.size(), bn = b.out.size();
        for (size_t i = a_sent; i < an; ++i) {
          ASSERT_TRUE(ApplyUpdate(*b.doc, a.out[i]).ok());
        }
        for (size_t i = b_sent; i < bn; ++i) {
          ASSERT_TRUE(ApplyUpdate(*a.doc, b.out[i]).ok());
        }
        a_sent = a.out.size();
        b_sent = b.out.size();
      }
    }
    EXPECT_GT(a.direct, 0) << seed;
    EXPECT_GT(a.checked, a.direct) << seed;  // maps fall back
  }
}

INSTANTIATE_TEST_SUITE_P(Gc, LocalUpdateTest, ::testing::Bool());

}  // namespace
}  // namespace auxsync::crdt
