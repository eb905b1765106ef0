// The direct reads of internal/yjs_bot_read give what the public-handle
// reads of internal/yjs_bot_doc give (ReadBot, ReadSlot), key order
// included.

#include "auxsync/partitions/internal/yjs_bot_read.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/js_string.h"
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

TEST(YjsBotRead, SetSlotWritesStringsOfEveryWidthWhole) {
  crdt::Doc doc;
  crdt::YMap bots = doc.GetMap("bots");
  bots.Set("b", Input::Map());
  crdt::YMap b(bots.Get("b")->type);
  // Around the length widened on the stack, ASCII and not; each written
  // over an older value of the key, then read back as a string and as
  // the Y.Text's own text.
  std::vector<std::pair<std::string, std::string>> tags;
  for (size_t n : {0, 1, 8, 9, 127, 128, 129, 300}) {
    std::string ascii(n, 'a');
    for (size_t i = 0; i < n; ++i) ascii[i] = static_cast<char>('a' + i % 26);
    tags.emplace_back(absl::StrCat("ascii", n), ascii);
    std::string wide = ascii;
    if (n > 0) wide.replace(n / 2, 1, "\xc3\xa9");  // é at the middle
    tags.emplace_back(absl::StrCat("wide", n), wide);
  }
  tags.emplace_back("astral", std::string(127, 'x') + "\xf0\x9f\x98\x80");
  for (const auto& [key, value] : tags) {
    SetSlot(b, key, Value("old"));
    SetSlot(b, key, Value(value));
  }
  for (const auto& [key, value] : tags) {
    std::optional<crdt::OutValue> slot = b.Get(key);
    ASSERT_TRUE(slot.has_value()) << key;
    EXPECT_EQ(ReadSlot(*slot).as_string(), value) << key;
    EXPECT_EQ(crdt::YText(slot->type).ToString16(), bots::ToUtf16(value))
        << key;
  }
}

// NewBotReader gives what ReadNewBot gives, bot after bot: bots with the
// same keys as the last one read in full (copied keys), and every way a
// bot can differ from it (another key, order or count, a deleted key, a
// value that is not a number, boolean or text, array-index keys, a text
// that is not short ASCII).
TEST(YjsBotRead, NewBotReaderReadsAsReadNewBot) {
  crdt::Doc doc;
  crdt::YMap bots = doc.GetMap("bots");
  std::vector<std::string> ids;
  auto add = [&](const std::string& id,
                 const std::vector<std::pair<std::string, Input>>& tags) {
    bots.Set(id, Input::Map());
    crdt::YMap m(bots.Get(id)->type);
    for (const auto& [key, value] : tags) m.Set(key, value);
    ids.push_back(id);
    return m;
  };
  auto usual = [](int i) {
    return std::vector<std::pair<std::string, Input>>{
        {"a", Input(JsValue::MakeNumber(i))},
        {"b", Input::Text(u"text")},
        {"c", Input(JsValue::MakeBool(i % 2 == 0))},
        {"d",
         Input::Text(i % 3 == 0 ? u"h\u00e9llo" : u"a longer text of ASCII")}};
  };
  for (int i = 0; i < 4; ++i) add(absl::StrCat("u", i), usual(i));
  add("order",
      {{"b", Input::Text(u"x")}, {"a", Input(JsValue::MakeNumber(1))}});
  for (int i = 4; i < 6; ++i) add(absl::StrCat("u", i), usual(i));
  add("fewer", {{"a", Input(JsValue::MakeNumber(1))}});
  add("u6", usual(6));
  crdt::YMap deleted = add("deleted", usual(7));
  deleted.Delete("c");
  crdt::YMap nested = add("nested", usual(8));
  nested.Set("b", Input::Map({{"k", Input(JsValue::MakeNumber(2))}}));
  crdt::YMap null_value = add("null", usual(9));
  null_value.Set("c", JsValue::MakeNull());
  crdt::YMap string_value = add("string", usual(10));
  string_value.Set("a", JsValue::MakeString("s"));
  add("u7", usual(11));
  add("index1",
      {{"1", Input::Text(u"x")}, {"0", Input(JsValue::MakeNumber(0))}});
  add("index2",
      {{"1", Input::Text(u"y")}, {"0", Input(JsValue::MakeNumber(1))}});
  add("none", {});
  std::vector<std::pair<std::string, Input>> many;
  for (int i = 0; i < 20; ++i) {
    many.emplace_back(absl::StrCat("t", i), Input(JsValue::MakeNumber(i)));
  }
  add("many1", many);
  add("many2", many);
  bots.Set("odd", JsValue::MakeNumber(5));
  ids.push_back("odd");
  add("u8", usual(12));

  NewBotReader reader;
  std::vector<NewBotRead> kept;  // the reader's objects stay alive
  for (const std::string& id : ids) {
    const crdt::engine::TypeImpl* map = bots.Get(id)->type;
    const NewBotRead want = ReadNewBot(id, map);
    NewBotRead got = reader.Read(id, map);
    EXPECT_TRUE(bots::DeepEquals(got.id, want.id)) << id;
    EXPECT_TRUE(bots::DeepEquals(got.tags, want.tags)) << id;
    EXPECT_EQ(got.tags.as_object().Keys(), want.tags.as_object().Keys()) << id;
    EXPECT_EQ(got.plain, want.plain) << id;
    // A copied object is an ordinary one: lookups and changes work.
    bots::Object& tags = got.tags.as_object();
    for (const std::string& key : want.tags.as_object().Keys()) {
      EXPECT_TRUE(bots::DeepEquals(tags.Get(key), want.tags[key]))
          << id << " " << key;
    }
    kept.push_back(std::move(got));
  }
  bots::Object& last = kept.back().tags.as_object();
  last.Set("new", Value(1));
  EXPECT_TRUE(last.Erase("a"));
  EXPECT_EQ(last.Keys(), (std::vector<std::string>{"b", "c", "d", "new"}));
}

}  // namespace
}  // namespace auxsync::partitions::internal
