// Text16 (a string item's text: inline, heap or a view of a decoded
// update's TextBlock) against std::u16string on the operations the engine
// uses, the sharing of one block by a decoded update's strings, and the
// pool's log of local text. Block
// lifetimes are checked by the ASan build (a block freed early or never).
#include "auxsync/crdt/internal/text16.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/types.h"
#include "gtest/gtest.h"

namespace auxsync::crdt::engine {
namespace {

// A view of `s` written into a new block (the test's reference dropped).
Text16 MakeView(std::u16string_view s) {
  TextBlock* b = TextBlock::New(s.size() + 3);
  b->Extend(3);  // the view does not start at the block's start
  const size_t offset = b->size();
  std::copy(s.begin(), s.end(), b->Extend(s.size()));
  Text16 t = Text16::View(b, offset, s.size());
  b->Unref();
  return t;
}

TEST(Text16, InlineHeapAndViewReadTheSame) {
  const std::u16string shorts = u"abc";
  const std::u16string longs = u"0123456789abcdefghij";
  Text16 a;
  a.assign(shorts);
  Text16 b;
  b.assign(longs);
  Text16 c = MakeView(longs);
  EXPECT_FALSE(a.is_view());
  EXPECT_TRUE(c.is_view());
  EXPECT_EQ(a.view(), shorts);
  EXPECT_EQ(b.view(), longs);
  EXPECT_EQ(c.view(), longs);
  EXPECT_EQ(c.size(), longs.size());
  EXPECT_EQ(c.front(), u'0');
  EXPECT_EQ(c.back(), u'j');
  EXPECT_EQ(std::u16string(c.begin(), c.end()), longs);
  std::u16string joined = u"x";
  joined += c;  // as the read-back appends
  EXPECT_EQ(joined, u"x" + longs);
}

TEST(Text16, SplitViewsAreViewsAndJoinBackForFree) {
  const std::u16string s = u"hello world, this is text";
  Text16 t = MakeView(s);
  Text16 right = t.SplitOff(5);
  EXPECT_TRUE(t.is_view());
  EXPECT_TRUE(right.is_view());
  EXPECT_EQ(t.view(), s.substr(0, 5));
  EXPECT_EQ(right.view(), s.substr(5));
  // Writing through one part leaves the other alone.
  right[0] = u'_';
  EXPECT_EQ(t.view(), s.substr(0, 5));
  t.AppendMove(std::move(right));
  EXPECT_TRUE(t.is_view());  // adjacent parts of one block: joined
  EXPECT_TRUE(right.empty());
  EXPECT_EQ(t.view(), u"hello_world, this is text");
}

TEST(Text16, JoiningPartsOfDifferentBlocksCopies) {
  Text16 a = MakeView(u"first part of it");
  Text16 b = MakeView(u"second part of it");
  a.AppendMove(std::move(b));
  EXPECT_FALSE(a.is_view());
  EXPECT_EQ(a.view(), u"first part of itsecond part of it");
  // Non-adjacent parts of one block copy too.
  Text16 c = MakeView(u"abcdefghijklmnopqrstuvwxyz");
  Text16 mid = c.SplitOff(10);
  Text16 tail = mid.SplitOff(5);
  c.AppendMove(std::move(tail));
  EXPECT_EQ(c.view(), u"abcdefghijpqrstuvwxyz");
  EXPECT_EQ(mid.view(), u"klmno");
}

TEST(Text16, BlockLivesAsLongAsAView) {
  Text16 keep;
  {
    Text16 t = MakeView(u"a string longer than inline");
    keep = t.SplitOff(20);
  }  // the first part and its reference are gone
  EXPECT_EQ(keep.view(), u" inline");
  keep.Release();
  EXPECT_TRUE(keep.empty());
}

TEST(Text16, AppendGrowsLikeAString) {
  Text16 t;
  std::u16string want;
  for (int i = 0; i < 200; ++i) {
    const std::u16string piece(static_cast<size_t>(i % 7 + 1),
                               static_cast<char16_t>(u'a' + i % 26));
    t.append(piece);
    want += piece;
    ASSERT_EQ(t.view(), want);
  }
  // From a view: the appended text goes to a heap copy.
  Text16 v = MakeView(u"0123456789");
  v.append(u"!");
  EXPECT_FALSE(v.is_view());
  EXPECT_EQ(v.view(), u"0123456789!");
  Text16 n;
  n.assign(12, u'\n');
  EXPECT_EQ(n.view(), std::u16string(12, u'\n'));
}

// Random splits, joins, writes and appends on views, heap and inline text
// against std::u16string.
TEST(Text16, RandomOperationsMatchU16string) {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::u16string base;
    const size_t len = 1 + rng() % 40;
    for (size_t i = 0; i < len; ++i) {
      base.push_back(static_cast<char16_t>(u'a' + rng() % 26));
    }
    std::vector<Text16> parts;
    std::vector<std::u16string> want;
    switch (rng() % 3) {
      case 0:
        parts.push_back(MakeView(base));
        break;
      default: {
        Text16 t;
        t.assign(base);
        parts.push_back(std::move(t));
      }
    }
    want.push_back(base);
    for (int step = 0; step < 20; ++step) {
      const size_t k = rng() % parts.size();
      switch (rng() % 4) {
        case 0:
          if (want[k].size() > 1) {
            const size_t at = 1 + rng() % (want[k].size() - 1);
            parts.insert(parts.begin() + static_cast<ptrdiff_t>(k) + 1,
                         parts[k].SplitOff(at));
            want.insert(want.begin() + static_cast<ptrdiff_t>(k) + 1,
                        want[k].substr(at));
            want[k].resize(at);
          }
          break;
        case 1:
          if (k + 1 < parts.size()) {
            parts[k].AppendMove(std::move(parts[k + 1]));
            want[k] += want[k + 1];
            parts.erase(parts.begin() + static_cast<ptrdiff_t>(k) + 1);
            want.erase(want.begin() + static_cast<ptrdiff_t>(k) + 1);
          }
          break;
        case 2:
          if (!want[k].empty()) {
            parts[k].back() = u'#';
            want[k].back() = u'#';
          }
          break;
        default: {
          const std::u16string piece(1 + rng() % 10, u'+');
          parts[k].append(piece);
          want[k] += piece;
        }
      }
      for (size_t i = 0; i < parts.size(); ++i) {
        ASSERT_EQ(parts[i].view(), want[i]) << round << " " << step;
      }
    }
  }
}

// A decoded document's long strings are views of one block; splitting and
// deleting them (remote edits) reads back as the original document does.
TEST(Text16, DecodedStringsShareABlockAndEditAsBefore) {
  Doc a;
  YText ta = a.GetText("t");
  ta.Insert(0, u"a first line of text that is long\n");
  ta.Insert(0, u"short ");
  ta.Insert(5, u"\U0001F600 pair and more text after it");
  auto state = EncodeStateAsUpdate(a);
  ASSERT_TRUE(state.ok());
  Doc b;
  ASSERT_TRUE(ApplyUpdate(b, *state).ok());
  YText tb = b.GetText("t");
  EXPECT_EQ(tb.ToString16(), ta.ToString16());
  size_t views = 0;
  for (Item* it = DocAccess::RootForRemote(b, "t")->start; it != nullptr;
       it = it->right) {
    if (it->content.ref == kRefString && it->content.str.is_view()) ++views;
  }
  EXPECT_GE(views, 2u);
  // Edits in the middle of the decoded strings (splits of views, a split
  // pair) and a merge through the cleanup, mirrored on the original.
  for (Doc* d : {&a, &b}) {
    YText t = d->GetText("t");
    t.Delete(6, 1);  // cuts the pair
    t.Insert(10, u"INSERTED");
    t.Delete(20, 5);
  }
  EXPECT_EQ(tb.ToString16(), ta.ToString16());
  auto again = EncodeStateAsUpdate(b);
  auto want = EncodeStateAsUpdate(a);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(want.ok());
  Doc c;
  ASSERT_TRUE(ApplyUpdate(c, *again).ok());
  EXPECT_EQ(c.GetText("t").ToString16(), ta.ToString16());
}

TEST(Text16, LocalTextGoesToTheLogAndGrowsInPlaceAtItsEnd) {
  ItemPool pool;
  Text16 shorts = pool.LocalText(u"abc");
  EXPECT_FALSE(shorts.is_view());
  pool.AppendLocalText(shorts, u"defgh");  // 8 units: still inline
  EXPECT_FALSE(shorts.is_view());
  pool.AppendLocalText(shorts, u"i");  // 9: into the log
  EXPECT_TRUE(shorts.is_view());
  EXPECT_EQ(shorts.view(), u"abcdefghi");

  Text16 t = pool.LocalText(u"0123456789");
  ASSERT_TRUE(t.is_view());
  EXPECT_EQ(t.data(), shorts.data() + shorts.size());  // typed order
  const char16_t* at = t.data();
  pool.AppendLocalText(t, u"ab");
  EXPECT_EQ(t.data(), at);  // in place: t ends the log
  EXPECT_EQ(t.view(), u"0123456789ab");

  // Once newer text follows it, t moves to the log's end, and the text it
  // leaves behind does not change what others read.
  Text16 u = pool.LocalText(u"another local text");
  pool.AppendLocalText(t, u"cd");
  EXPECT_TRUE(t.is_view());
  EXPECT_EQ(t.data(), u.data() + u.size());
  EXPECT_EQ(t.view(), u"0123456789abcd");
  EXPECT_EQ(u.view(), u"another local text");
  EXPECT_EQ(shorts.view(), u"abcdefghi");
}

TEST(Text16, LocalTextLongOrPastAFullLogBlock) {
  ItemPool pool;
  // A long text is not kept in the log (a small block per text).
  const std::u16string longs(4000, u'L');
  Text16 l = pool.LocalText(longs);
  EXPECT_FALSE(l.is_view());
  pool.AppendLocalText(l, u"tail");
  EXPECT_FALSE(l.is_view());
  EXPECT_EQ(l.view(), longs + u"tail");

  // Fill the log until it takes a new block; every text stays whole.
  std::vector<Text16> texts;
  std::vector<std::u16string> want;
  for (int i = 0; i < 40; ++i) {
    want.push_back(std::u16string(100, static_cast<char16_t>(u'a' + i % 26)));
    texts.push_back(pool.LocalText(want.back()));
    ASSERT_TRUE(texts.back().is_view());
  }
  size_t blocks = 1;
  for (size_t i = 1; i < texts.size(); ++i) {
    if (texts[i].data() != texts[i - 1].data() + 100) ++blocks;
  }
  EXPECT_GE(blocks, 2u);
  // The newest text grows in place until its block is full, then moves
  // to a new block (whole) and goes on growing there.
  Text16& last = texts.back();
  const char16_t* at = last.data();
  int moved_at = -1;
  for (int i = 0; i < 400; ++i) {
    pool.AppendLocalText(last, u"x");
    want.back() += u'x';
    ASSERT_TRUE(last.is_view());
    if (last.data() != at) {
      if (moved_at >= 0) FAIL() << "moved twice, at " << moved_at << ", " << i;
      moved_at = i;
      at = last.data();
    }
  }
  EXPECT_GT(moved_at, 0);
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(texts[i].view(), want[i]) << i;
  }
  texts.clear();  // blocks go with their last view (checked by ASan)
}

TEST(Text16, TypedTextLiesInClockOrderAndEditsAsBefore) {
  DocOptions o;
  o.client_id = 7;
  Doc a(o);
  YText t = a.GetText("t");
  // Runs typed one unit at a time at places far apart, then edits.
  std::u16string model;
  for (int run = 0; run < 30; ++run) {
    size_t at = (run * 7919) % (model.size() + 1);
    for (int k = 0; k < 25 + run; ++k) {
      const char16_t c = static_cast<char16_t>(u'a' + (run + k) % 26);
      t.Insert(at + k, std::u16string(1, c));
      model.insert(model.begin() + static_cast<ptrdiff_t>(at + k), c);
    }
    if (run % 3 == 2) {
      t.Delete(at / 2, 3);
      model.erase(at / 2, 3);
    }
  }
  EXPECT_EQ(t.ToString16(), model);
  // In store (clock) order, the text of every view follows the previous
  // view's in memory, unless its block changed.
  const StructList* v = a.store().Client(7);
  ASSERT_NE(v, nullptr);
  const char16_t* end = nullptr;
  size_t views = 0, in_order = 0;
  for (size_t i = 0; i < v->size(); ++i) {
    const Item* it = (*v)[i];
    if (it->content.ref != kRefString || !it->content.str.is_view()) continue;
    ++views;
    if (end != nullptr && it->content.str.data() >= end) ++in_order;
    end = it->content.str.data() + it->content.str.size();
  }
  EXPECT_GE(views, 20u);
  EXPECT_EQ(in_order, views - 1);
  auto state = EncodeStateAsUpdate(a);
  ASSERT_TRUE(state.ok());
  Doc b;
  ASSERT_TRUE(ApplyUpdate(b, *state).ok());
  EXPECT_EQ(b.GetText("t").ToString16(), model);
}

}  // namespace
}  // namespace auxsync::crdt::engine
