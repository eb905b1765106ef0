// Tests of the shared types' position lookups: the text search markers
// (TypeImpl::markers) must give the same positions as a walk from the
// start, whatever the history (jumps, deletions, merges at cleanup, remote
// changes in between).
#include "auxsync/crdt/types.h"

#include <algorithm>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/internal/engine.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

std::u16string RandomWord(std::mt19937& rng, int max_len) {
  std::uniform_int_distribution<int> len(1, max_len);
  std::uniform_int_distribution<int> ch('a', 'z');
  std::u16string w;
  for (int i = len(rng); i > 0; --i)
    w.push_back(static_cast<char16_t>(ch(rng)));
  return w;
}

// Random inserts and deletes far apart, some in one transaction, some one
// per transaction, checked against a plain string after every transaction.
TEST(YTextMarkers, RandomEditsMatchAPlainString) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    DocOptions o;
    o.client_id = 7;
    Doc doc(o);
    YText text = doc.GetText("t");
    std::u16string model;
    for (int txn = 0; txn < 300; ++txn) {
      int ops = rng() % 4 == 0 ? 20 : 1;
      doc.Transact([&](Transaction&) {
        for (int k = 0; k < ops; ++k) {
          uint64_t index = model.empty() ? 0 : rng() % (model.size() + 1);
          if (!model.empty() && rng() % 3 == 0) {
            uint64_t len = 1 + rng() % 12;
            text.Delete(index, len);
            model.erase(index, len);
          } else {
            std::u16string w = RandomWord(rng, 9);
            text.Insert(index, w);
            model.insert(index, w);
          }
        }
      });
      ASSERT_EQ(text.ToString16(), model) << "seed " << seed << " txn " << txn;
    }
    EXPECT_FALSE(text.impl()->markers.empty()) << "seed " << seed;
  }
}

// Arrays use the same positions (inserts) and fall back to a walk after a
// delete: random inserts and deletes against a vector.
TEST(YArrayMarkers, RandomEditsMatchAVector) {
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    std::mt19937 rng(seed);
    DocOptions o;
    o.client_id = 9;
    Doc doc(o);
    YArray array = doc.GetArray("a");
    std::vector<double> model;
    for (int txn = 0; txn < 400; ++txn) {
      doc.Transact([&](Transaction&) {
        for (int k = 0, n = rng() % 4 == 0 ? 10 : 1; k < n; ++k) {
          uint64_t index = rng() % (model.size() + 1);
          if (!model.empty() && rng() % 4 == 0) {
            uint64_t len = std::min<uint64_t>(
                1 + rng() % 3,
                model.size() - std::min<uint64_t>(index, model.size()));
            if (index >= model.size() || len == 0) continue;
            ASSERT_TRUE(array.Delete(index, len).ok());
            model.erase(
                model.begin() + static_cast<std::ptrdiff_t>(index),
                model.begin() + static_cast<std::ptrdiff_t>(index + len));
          } else {
            std::vector<Input> values;
            std::vector<double> nums;
            for (int v = 0, m = 1 + rng() % 3; v < m; ++v) {
              double x = static_cast<double>(rng() % 1000);
              values.emplace_back(JsValue::MakeNumber(x));
              nums.push_back(x);
            }
            ASSERT_TRUE(array.Insert(index, std::move(values)).ok());
            model.insert(model.begin() + static_cast<std::ptrdiff_t>(index),
                         nums.begin(), nums.end());
          }
        }
      });
      std::vector<OutValue> got = array.ToVector();
      ASSERT_EQ(got.size(), model.size()) << "seed " << seed << " txn " << txn;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].value.number(), model[i])
            << "seed " << seed << " txn " << txn << " at " << i;
      }
    }
  }
}

// Remote changes between local edits (each replica edits at random and then
// receives the other's update): both converge after every round.
TEST(YTextMarkers, RemoteChangesInvalidateMarkers) {
  std::mt19937 rng(42);
  DocOptions oa, ob;
  oa.client_id = 1;
  ob.client_id = 2;
  Doc a(oa), b(ob);
  std::vector<std::vector<uint8_t>> to_b, to_a;
  auto sa = a.OnUpdate([&](std::span<const uint8_t> u, const Transaction&) {
    to_b.emplace_back(u.begin(), u.end());
  });
  auto sb = b.OnUpdate([&](std::span<const uint8_t> u, const Transaction&) {
    to_a.emplace_back(u.begin(), u.end());
  });
  YText ta = a.GetText("t"), tb = b.GetText("t");
  for (int round = 0; round < 200; ++round) {
    for (auto* d : {&ta, &tb}) {
      uint64_t n = d->Length();
      uint64_t index = n == 0 ? 0 : rng() % (n + 1);
      if (n > 0 && rng() % 3 == 0) {
        d->Delete(index, 1 + rng() % 5);
      } else {
        d->Insert(index, RandomWord(rng, 6));
      }
    }
    auto ua = std::move(to_b), ub = std::move(to_a);
    to_b.clear();
    to_a.clear();
    for (const auto& u : ua) ASSERT_TRUE(ApplyUpdate(b, u).ok());
    for (const auto& u : ub) ASSERT_TRUE(ApplyUpdate(a, u).ok());
    to_b.clear();
    to_a.clear();
    ASSERT_EQ(ta.ToString16(), tb.ToString16()) << "round " << round;
  }
  EXPECT_GT(ta.Length(), 100u);
}

}  // namespace
}  // namespace auxsync::crdt

namespace auxsync::crdt {
namespace {

// YXmlText.toString() wraps each run of the delta in one element per
// formatting attribute, with the attribute value's for-in entries as its
// XML attributes. The update and the expected text come from the real yjs
// 13.6.27 (a Y.XmlText in the fragment "f": plain text, then runs with a
// boolean, an object, a string, an array, a number and a long string as
// attribute values, an embed, and plain text again).
TEST(YXmlText, ToStringIsYjsXmlString) {
  const std::string kUpdate =
      "ARYFAAcBAWYGBAAFAAVwbGFpboYFBQRib2xkBHRydWWEBQYBQoYFBwRib2xkBG51bGzGBQcF"
      "CAZpdGFsaWMPeyJ4IjoxLCJhIjoicSJ9xAUJBQgBScYFCgUIBml0YWxpYwRudWxshgUIBGxp"
      "bmsEInh5IoQFDAFThgUNBGxpbmsEbnVsbIYFDgNhcnIMWzEsbnVsbCwieiJdhAUPAUGGBRAD"
      "YXJyBG51bGyGBREBbgE1hAUSAU6GBRMBbgRudWxshgUUBGxvbmcOImFiY2RlZmdoaWprbCKE"
      "BRUBTIYFFgRsb25nBG51bGyFBRcNeyJpbWFnZSI6IngifYQFGANlbmQA";
  const std::string kText =
      R"(plain<bold>B</bold><bold><italic a="q" x="1">I</italic></bold>)"
      R"(<link 0="x" 1="y">S</link><arr 0="1" 1="null" 2="z">A</arr><n>N</n>)"
      R"(<long 0="a" 1="b" 10="k" 11="l" 2="c" 3="d" 4="e" 5="f" 6="g" )"
      R"(7="h" 8="i" 9="j">L</long>[object Object]end)";
  std::string raw;
  ASSERT_TRUE(absl::Base64Unescape(kUpdate, &raw));
  DocOptions options;
  options.client_id = 9;
  Doc doc(options);
  ASSERT_TRUE(ApplyUpdate(doc, std::span<const uint8_t>(
                                   reinterpret_cast<const uint8_t*>(raw.data()),
                                   raw.size()))
                  .ok());
  YXmlFragment fragment = doc.GetXmlFragment("f");
  EXPECT_EQ(fragment.ToXmlString(), kText);
  JsValue json = fragment.ToJson();
  ASSERT_EQ(json.kind(), JsValue::Kind::kString);
  EXPECT_EQ(json.string(), kText);
}

}  // namespace
}  // namespace auxsync::crdt
