// SetMapText and SetMapValue against YMap::Set(key, Input::Text(text)) and
// YMap::Set(key, Input(value)): two documents with
// the same client id doing the same sequence of map sets, one through each,
// emit the same update bytes for every transaction, the same observed map
// events and the same final state (new keys, overwritten keys, empty texts,
// several sets in one transaction, a nested map, non-BMP text and lone
// surrogates, typing into the texts afterwards).
#include "auxsync/crdt/internal/fast_access.h"

#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/types.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

using Bytes = std::vector<uint8_t>;

std::u16string RandomText(std::mt19937& rng) {
  static const char16_t kUnits[] = {u'a',   u'b',   u'é',   u'€',  0xD83D,
                                    0xDE00, 0xD800, 0xDC00, u'\n', u'z'};
  std::u16string s;
  size_t n = rng() % 5;  // sometimes empty
  for (size_t i = 0; i < n; ++i) s += kUnits[rng() % std::size(kUnits)];
  return s;
}

// What one side saw: every update, and per transaction the changed keys of
// the nested map's events.
struct Trace {
  std::vector<Bytes> updates;
  std::vector<std::string> events;
};

TEST(FastAccess, SetMapTextWritesWhatYMapSetWrites) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    DocOptions options;
    options.client_id = 42;
    Doc fast(options), slow(options);
    Trace fast_trace, slow_trace;
    auto record = [](Doc& doc, Trace& trace) {
      return doc.OnUpdate(
          [&trace](std::span<const uint8_t> u, const Transaction&) {
            trace.updates.emplace_back(u.begin(), u.end());
          });
    };
    Subscription fast_updates = record(fast, fast_trace);
    Subscription slow_updates = record(slow, slow_trace);
    // A nested map, as the partition's bot maps are.
    fast.GetMap("bots").Set("bot", Input::Map());
    slow.GetMap("bots").Set("bot", Input::Map());
    YMap fast_map(fast.GetMap("bots").Get("bot")->type);
    YMap slow_map(slow.GetMap("bots").Get("bot")->type);
    auto observe = [](YMap map, Trace& trace) {
      return map.Observe([&trace](const YEvent& e, const Transaction&) {
        std::string keys;
        for (const auto& [key, change] : e.keys) {
          keys +=
              key + ":" + std::to_string(static_cast<int>(change.action)) + ";";
        }
        trace.events.push_back(keys);
      });
    };
    Subscription fast_events = observe(fast_map, fast_trace);
    Subscription slow_events = observe(slow_map, slow_trace);

    std::mt19937 rng(seed);
    for (int step = 0; step < 30; ++step) {
      const int sets = 1 + static_cast<int>(rng() % 3);
      std::vector<std::pair<std::string, std::u16string>> batch;
      for (int i = 0; i < sets; ++i) {
        batch.emplace_back("tag" + std::to_string(rng() % 4), RandomText(rng));
      }
      // Texts, and (for an odd length) plain values: numbers and booleans.
      auto plain = [](const std::u16string& text) {
        return text.size() == 1 ? JsValue::MakeBool(text[0] == u'a')
                                : JsValue::MakeNumber(text.size() * 1.5);
      };
      fast.Transact([&](Transaction&) {
        for (const auto& [key, text] : batch) {
          if (text.size() % 2 == 1) {
            engine::SetMapValue(fast_map, key, plain(text));
          } else {
            engine::SetMapText(fast_map, key, text);
          }
        }
      });
      slow.Transact([&](Transaction&) {
        for (const auto& [key, text] : batch) {
          if (text.size() % 2 == 1) {
            slow_map.Set(key, Input(plain(text)));
          } else {
            slow_map.Set(key, Input::Text(text));
          }
        }
      });
      // Typing into (or deleting from) a text made either way.
      const std::string key = "tag" + std::to_string(rng() % 4);
      std::optional<OutValue> f = fast_map.Get(key);
      std::optional<OutValue> s = slow_map.Get(key);
      ASSERT_EQ(f.has_value(), s.has_value());
      ASSERT_EQ(f.has_value() && f->type != nullptr,
                s.has_value() && s->type != nullptr);
      if (f.has_value() && f->type != nullptr) {
        YText ft(f->type), st(s->type);
        ASSERT_EQ(ft.Length(), st.Length());
        const uint64_t at = rng() % (ft.Length() + 1);
        if (at < ft.Length() && rng() % 3 == 0) {
          // Deleted content in a text that is replaced later.
          ft.Delete(at, 1);
          st.Delete(at, 1);
        } else {
          ft.Insert(at, u"q");
          st.Insert(at, u"q");
        }
      }
    }
    // Outside a transaction too.
    engine::SetMapText(fast_map, "solo", u"x");
    slow_map.Set("solo", Input::Text(u"x"));

    EXPECT_EQ(fast_trace.updates, slow_trace.updates) << "seed " << seed;
    EXPECT_EQ(fast_trace.events, slow_trace.events) << "seed " << seed;
    EXPECT_EQ(EncodeStateAsUpdate(fast).value(),
              EncodeStateAsUpdate(slow).value())
        << "seed " << seed;
    EXPECT_EQ(fast_map.ToJson(), slow_map.ToJson()) << "seed " << seed;
  }
}

// A long-lived document: every replaced text leaves structs behind, so
// its item pool passes into its large (huge-page) blocks; the items there
// hold the same state as a document written through YMap::Set, and a
// third one decoding that state (a large pool too) reads the same.
// Found by fuzz_yjs_partition: an update can split off an item whose
// origin lies in one type (a text) so that its left neighbour becomes a
// map key's current value. yjs then links the key's new item before that
// neighbour and deletes the new item, keeping the old value; the fast
// paths must not delete the old value up front.
TEST(FastAccess, SetMapOfAValueWithAForeignRightNeighbourKeepsIt) {
  // bots.b1 = {t0: Y.Text "x", t2: true} and another map's text "hello";
  // then an item (11:12, length 2) whose second half has origin 11:12 (b1's
  // t2) but whose parent is the text.
  const std::string kBase =
      "AQkLACcBBGJPdHMCYjABJwALAAJ0MAIEAAsBBWhlbGxvKAALAAJ0MQF9BSgACwACdDIBdgEB"
      "YXUCfQF9AicBBGJvdHMCYjEBJwALCQJ0MAIEAAsKAXgoAAsJAnQyAXgA";
  const std::string kSplit = "AQELDMQLAwsEAnl5AA==";
  auto load = [&](Doc& doc) {
    for (const std::string& b64 : {kBase, kSplit}) {
      std::string raw;
      ASSERT_TRUE(absl::Base64Unescape(b64, &raw));
      ASSERT_TRUE(
          ApplyUpdate(doc, std::span<const uint8_t>(
                               reinterpret_cast<const uint8_t*>(raw.data()),
                               raw.size()))
              .ok());
    }
  };
  for (bool text : {false, true}) {
    DocOptions options;
    options.client_id = 7;
    Doc fast(options), slow(options);
    load(fast);
    load(slow);
    YMap fast_map(fast.GetMap("bots").Get("b1")->type);
    YMap slow_map(slow.GetMap("bots").Get("b1")->type);
    if (text) {
      engine::SetMapText(fast_map, "t2", u"new");
      slow_map.Set("t2", Input::Text(u"new"));
    } else {
      engine::SetMapValue(fast_map, "t2", JsValue::MakeNumber(5));
      slow_map.Set("t2", Input(JsValue::MakeNumber(5)));
    }
    EXPECT_EQ(*EncodeStateAsUpdate(fast), *EncodeStateAsUpdate(slow));
    // The old value stays the key's value.
    std::optional<OutValue> v = fast_map.Get("t2");
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->type, nullptr);
    EXPECT_EQ(v->value.kind(), JsValue::Kind::kBool);
  }
}

TEST(FastAccess, SetMapTextKeepsStateWhenThePoolGrowsLarge) {
  DocOptions options;
  options.client_id = 7;
  Doc fast(options), slow(options);
  YMap fast_map = fast.GetMap("bot");
  YMap slow_map = slow.GetMap("bot");
  for (int i = 0; i < 12000; ++i) {
    const std::string key = "tag" + std::to_string(i % 97);
    const std::u16string text = u"v" + std::u16string(1, u'a' + i % 26);
    engine::SetMapText(fast_map, key, text);
    slow_map.Set(key, Input::Text(text));
  }
  const Bytes state = EncodeStateAsUpdate(fast).value();
  EXPECT_EQ(state, EncodeStateAsUpdate(slow).value());
  EXPECT_EQ(fast_map.ToJson(), slow_map.ToJson());
  Doc copy;
  ASSERT_TRUE(ApplyUpdate(copy, state).ok());
  EXPECT_EQ(copy.GetMap("bot").ToJson(), fast_map.ToJson());
  EXPECT_EQ(EncodeStateAsUpdate(copy).value(), state);
}

}  // namespace
}  // namespace auxsync::crdt

namespace auxsync::crdt {
namespace {

// The partition's add shape: many new maps, each with its texts, all in
// one transaction.
TEST(FastAccess, SetMapTextInNewMapsOfOneTransaction) {
  DocOptions options;
  options.client_id = 3000000007u;
  Doc fast(options), slow(options);
  std::vector<Bytes> fast_updates, slow_updates;
  Subscription f =
      fast.OnUpdate([&](std::span<const uint8_t> u, const Transaction&) {
        fast_updates.emplace_back(u.begin(), u.end());
      });
  Subscription s =
      slow.OnUpdate([&](std::span<const uint8_t> u, const Transaction&) {
        slow_updates.emplace_back(u.begin(), u.end());
      });
  // Events are built when someone listens (the partition does).
  int transactions = 0;
  Subscription fa =
      fast.OnAfterTransaction([&](const Transaction&) { ++transactions; });
  Subscription sa =
      slow.OnAfterTransaction([&](const Transaction&) { ++transactions; });
  auto fill = [](Doc& doc, bool use_fast) {
    doc.Transact([&](Transaction&) {
      YMap bots = doc.GetMap("bots");
      for (int b = 0; b < 2000; ++b) {
        const std::string id = "bot" + std::to_string(b);
        bots.Set(id, Input::Map());
        YMap bot(bots.Get(id)->type);
        for (int t = 0; t < 10; ++t) {
          const std::string tag = "tag" + std::to_string(t);
          std::u16string text = u"v" + std::u16string(1, u'0' + t);
          if (t % 2 == 0) {
            if (use_fast) {
              engine::SetMapValue(bot, tag, JsValue::MakeNumber(b * 10 + t));
            } else {
              bot.Set(tag, Input(JsValue::MakeNumber(b * 10 + t)));
            }
          } else if (use_fast) {
            engine::SetMapText(bot, tag, text);
          } else {
            bot.Set(tag, Input::Text(text));
          }
        }
      }
    });
  };
  fill(fast, true);
  fill(slow, false);
  EXPECT_EQ(transactions, 2);
  EXPECT_EQ(fast_updates, slow_updates);
  EXPECT_EQ(EncodeStateAsUpdate(fast).value(),
            EncodeStateAsUpdate(slow).value());
}

// MapKeyChange and ChangedMapKeys against the events the cleanup builds:
// random local and remote transactions on nested maps (sets, overwrites,
// deletes, a key set and deleted in one transaction, concurrent sets of one
// key, a deleted nested map), with lazy events on and off. Every changed
// type's event lists exactly the changed keys whose MapKeyChange is not
// kNone, with that action.
TEST(FastAccess, MapKeyChangeIsWhatTheEventRecords) {
  auto action_of = [](KeyChange::Action a) {
    switch (a) {
      case KeyChange::Action::kAdd:
        return engine::MapKeyAction::kAdd;
      case KeyChange::Action::kUpdate:
        return engine::MapKeyAction::kUpdate;
      case KeyChange::Action::kDelete:
        return engine::MapKeyAction::kDelete;
    }
    return engine::MapKeyAction::kNone;
  };
  for (bool lazy : {false, true}) {
    for (uint32_t seed = 1; seed <= 30; ++seed) {
      std::mt19937 rng(seed);
      DocOptions a_options, b_options;
      a_options.client_id = 7;
      b_options.client_id = 9;
      Doc a(a_options), b(b_options);
      a.set_lazy_events(lazy);
      int checked = 0;
      int at_end_checked = 0;
      Subscription check = a.OnAfterTransaction([&](const Transaction& tr) {
        for (engine::TypeImpl* t : tr.changed_types()) {
          if (t->item != nullptr && t->item->deleted) continue;
          const std::vector<YEvent*>* events = tr.EventsOf(t);
          ASSERT_NE(events, nullptr);
          const YEvent* own = nullptr;
          for (const YEvent* e : *events) {
            if (e->target == t) own = e;
          }
          ASSERT_NE(own, nullptr);
          std::vector<std::pair<std::string, engine::MapKeyAction>> want;
          if (const auto* keys = engine::ChangedMapKeys(tr, t)) {
            // When the changed keys are the map's last ones, their entries
            // give the same items and actions as the lookups.
            const engine::MapTable::Entry* at_end =
                engine::ChangedKeysAtEnd(tr, t);
            for (size_t i = 0; at_end != nullptr && i < keys->size(); ++i) {
              const engine::Item* current = nullptr;
              const engine::MapKeyAction action =
                  engine::MapKeyChange(tr, t, *(*keys)[i], &current);
              EXPECT_EQ(at_end[i].key.address(), (*keys)[i]) << "seed " << seed;
              EXPECT_EQ(at_end[i].current, current) << "seed " << seed;
              EXPECT_EQ(engine::MapKeyChangeOfCurrent(tr, at_end[i].current),
                        action)
                  << "seed " << seed;
              ++at_end_checked;
            }
            for (const std::string* key : *keys) {
              engine::MapKeyAction action = engine::MapKeyChange(tr, t, *key);
              if (action != engine::MapKeyAction::kNone) {
                want.emplace_back(*key, action);
              }
            }
          }
          std::vector<std::pair<std::string, engine::MapKeyAction>> got;
          for (const auto& [key, change] : own->keys) {
            got.emplace_back(key, action_of(change.action));
          }
          EXPECT_EQ(got, want) << "seed " << seed;
          ++checked;
        }
      });
      for (Doc* d : {&a, &b}) {
        d->GetMap("bots").Set("x", Input::Map());
      }
      auto sync = [](Doc& from, Doc& to) {
        absl::StatusOr<Bytes> update = EncodeStateAsUpdate(from);
        ASSERT_TRUE(update.ok());
        ASSERT_TRUE(ApplyUpdate(to, *update).ok());
      };
      sync(b, a);
      sync(a, b);
      for (int step = 0; step < 40; ++step) {
        Doc& d = rng() % 3 == 0 ? b : a;
        d.Transact([&](Transaction&) {
          const int ops = 1 + static_cast<int>(rng() % 3);
          for (int op = 0; op < ops; ++op) {
            std::optional<OutValue> bot = d.GetMap("bots").Get("x");
            if (!bot.has_value() || bot->type == nullptr || rng() % 10 == 0) {
              d.GetMap("bots").Set("x", Input::Map());
              continue;
            }
            YMap map(bot->type);
            const std::string key = "k" + std::to_string(rng() % 3);
            switch (rng() % 4) {
              case 0:
                engine::SetMapText(map, key, RandomText(rng));
                break;
              case 1:
                engine::SetMapValue(map, key, JsValue::MakeNumber(rng() % 100));
                break;
              case 2:
                map.Delete(key);
                break;
              default:
                d.GetMap("bots").Set("y" + std::to_string(rng() % 2),
                                     JsValue::MakeNumber(1));
                break;
            }
          }
        });
        // b's changes arrive as remote transactions, sometimes concurrent
        // with a's.
        if (&d == &b && rng() % 2 == 0) {
          sync(b, a);
          sync(a, b);
        }
      }
      sync(b, a);
      EXPECT_GT(checked, 0);
      EXPECT_GT(at_end_checked, 0);
    }
  }
}

}  // namespace
}  // namespace auxsync::crdt
