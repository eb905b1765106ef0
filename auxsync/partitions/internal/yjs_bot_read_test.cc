// The direct reads of internal/yjs_bot_read give what the public-handle
// reads of internal/yjs_bot_doc give (ReadBot, ReadSlot), key order
// included.

#include "auxsync/partitions/internal/yjs_bot_read.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/value.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/types.h"
#include "auxsync/partitions/internal/yjs_bot_doc.h"
#include "gtest/gtest.h"

namespace auxsync::partitions::internal {
namespace {

using bots::Value;
using crdt::Input;
using crdt::JsValue;

// ReadBotOfMap against ReadBot for the bot `id` of `bots`; `plain` is
// what ReadBotTags says of its tags.
void ExpectSameBot(crdt::YMap bots, const std::string& id, bool plain) {
  std::optional<crdt::OutValue> slot = bots.Get(id);
  ASSERT_TRUE(slot.has_value()) << id;
  const Value expected = ReadBot(id, *slot);
  const Value got = ReadBotOfMap(id, slot->type);
  EXPECT_TRUE(bots::DeepEquals(got, expected))
      << id << " tags " << got["tags"].as_object().size() << " vs "
      << expected["tags"].as_object().size();
  EXPECT_EQ(got["tags"].as_object().Keys(),
            expected["tags"].as_object().Keys());
  bool is_plain = false;
  ReadBotTags(slot->type, &is_plain);
  EXPECT_EQ(is_plain, plain) << id;
  // ReadNewBot reads the same id and tags (its strings from one batch).
  const NewBotRead read = ReadNewBot(id, slot->type);
  EXPECT_TRUE(bots::DeepEquals(read.id, expected["id"])) << id;
  EXPECT_TRUE(bots::DeepEquals(read.tags, expected["tags"])) << id;
  EXPECT_EQ(read.tags.as_object().Keys(), expected["tags"].as_object().Keys());
  EXPECT_EQ(read.plain, plain) << id;
}

TEST(YjsBotRead, ReadsBotsAsReadBot) {
  crdt::Doc doc;
  crdt::YMap bots = doc.GetMap("bots");

  // Every kind of tag slot, with an overwritten, a deleted and a re-added
  // key, and texts of one item, several items, none and non-ASCII.
  bots.Set("a", Input::Map());
  crdt::YMap a(bots.Get("a")->type);
  a.Set("num", JsValue::MakeNumber(1.5));
  a.Set("str", Input::Text(u"hello"));
  a.Set("empty", Input::Text(u""));
  a.Set("uni", Input::Text(u"h\u00e9llo"));
  a.Set("bool", JsValue::MakeBool(false));
  a.Set("null", JsValue::MakeNull());
  a.Set("emptystr", JsValue::MakeString(""));
  a.Set("plainstr", JsValue::MakeString("plain"));
  a.Set("gone", JsValue::MakeNumber(7));
  a.Delete("gone");
  a.Set("back", JsValue::MakeNumber(8));
  a.Delete("back");
  a.Set("back", Input::Text(u"again"));
  a.Set("num", JsValue::MakeNumber(3));
  crdt::YText str(a.Get("str")->type);
  str.Insert(5, u" world");
  str.Insert(0, u"> ");
  ExpectSameBot(bots, "a", true);

  // Arrays and nested maps are not primitives.
  bots.Set("n", Input::Map());
  crdt::YMap n(bots.Get("n")->type);
  n.Set("x", JsValue::MakeNumber(1));
  n.Set("arr", Input::Array({Input(JsValue::MakeNumber(1))}));
  n.Set("map", Input::Map({{"k", Input(JsValue::MakeNumber(2))}}));
  ExpectSameBot(bots, "n", false);

  // More keys than the matching by address takes (the lookup path).
  bots.Set("big", Input::Map());
  crdt::YMap big(bots.Get("big")->type);
  for (int i = 0; i < 40; ++i) {
    if (i % 2 == 0) {
      big.Set(absl::StrCat("t", i), JsValue::MakeNumber(i));
    } else {
      big.Set(absl::StrCat("t", i), Input::Text(u"v"));
    }
  }
  big.Delete("t7");
  ExpectSameBot(bots, "big", true);

  // A bot slot that is not a map, and an empty map.
  bots.Set("odd", JsValue::MakeNumber(5));
  ExpectSameBot(bots, "odd", true);
  bots.Set("none", Input::Map());
  ExpectSameBot(bots, "none", true);

  // ReadItemValue reads a key's current item as ReadSlot reads it.
  for (const std::string& key : a.Keys()) {
    std::optional<crdt::OutValue> v = a.Get(key);
    ASSERT_TRUE(v.has_value());
    const crdt::engine::Item* item = a.impl()->GetMap(key);
    ASSERT_NE(item, nullptr);
    EXPECT_TRUE(bots::DeepEquals(ReadItemValue(item), ReadSlot(*v))) << key;
  }
}

// One-item texts of every short length (the one-step ASCII narrowing
// reads 16 units), ASCII and with a non-ASCII unit first, in the middle or
// last, both as written locally and as decoded from an update (whose texts
// are views of one shared block).
TEST(YjsBotRead, ReadsShortTextsOfEveryLength) {
  crdt::Doc doc;
  crdt::YMap bots = doc.GetMap("bots");
  bots.Set("s", Input::Map());
  crdt::YMap s(bots.Get("s")->type);
  for (size_t n = 0; n <= 20; ++n) {
    std::u16string ascii;
    for (size_t i = 0; i < n; ++i) ascii.push_back(u'a' + i % 26);
    s.Set(absl::StrCat("a", n), Input::Text(ascii));
    if (n == 0) continue;
    for (size_t at : {size_t{0}, n / 2, n - 1}) {
      std::u16string mixed = ascii;
      mixed[at] = u'\u00e9';
      s.Set(absl::StrCat("m", n, "_", at), Input::Text(mixed));
      mixed[at] = 0xD800;  // a lone surrogate
      s.Set(absl::StrCat("l", n, "_", at), Input::Text(mixed));
    }
  }
  ExpectSameBot(bots, "s", true);
  for (const std::string& key : s.Keys()) {
    const crdt::engine::Item* item = s.impl()->GetMap(key);
    ASSERT_NE(item, nullptr);
    EXPECT_TRUE(bots::DeepEquals(ReadItemValue(item), ReadSlot(*s.Get(key))))
        << key;
  }

  absl::StatusOr<std::vector<uint8_t>> update = crdt::EncodeStateAsUpdate(doc);
  ASSERT_TRUE(update.ok());
  crdt::Doc decoded;
  ASSERT_TRUE(crdt::ApplyUpdate(decoded, *update).ok());
  crdt::YMap decoded_bots = decoded.GetMap("bots");
  ExpectSameBot(decoded_bots, "s", true);
  // The decoded texts are the same, but for lone surrogates (an update
  // holds strings as UTF-8, which has none: they decode as U+FFFD).
  const Value original = ReadBotOfMap("s", bots.Get("s")->type);
  const Value read = ReadBotOfMap("s", decoded_bots.Get("s")->type);
  for (const std::string& key : s.Keys()) {
    if (key[0] == 'l') continue;
    EXPECT_TRUE(bots::DeepEquals(read["tags"][key], original["tags"][key]))
        << key;
  }
}

}  // namespace
}  // namespace auxsync::partitions::internal
