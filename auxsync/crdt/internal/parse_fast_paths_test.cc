// Copyright 2025 The auxsync Authors.
//
// The fast paths of update loading against their plain forms: the ASCII
// UTF-8 -> UTF-16 assignment (against AppendValidUtf8AsUtf16), the v1
// struct reader's cursor path (its origins of own and other clients;
// structs whose var-ints it leaves to the checked reader load the same)
// and its path for map entries, the v2 reader's runs from local column
// states, the integration path for structs that name their parent
// (against the general one), the delete set's Add cache across copies and
// moves, and the cleanup's merges after loading a state.

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/internal/item.h"
#include "auxsync/crdt/internal/text16.h"
#include "auxsync/crdt/internal/update_encoder.h"
#include "auxsync/crdt/internal/utf8.h"
#include "auxsync/crdt/types.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

TEST(ParseFastPaths, AssignValidUtf8MatchesAppendForAsciiAndNot) {
  std::mt19937 rng(7);
  const std::vector<std::string> pieces = {
      "a", "Z", "0", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
  for (int round = 0; round < 2000; ++round) {
    const size_t n = rng() % 70;
    const bool ascii = rng() % 2 == 0;
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      s += pieces[rng() % (ascii ? 4 : pieces.size())];
    }
    uint64_t units = 0;
    ASSERT_TRUE(internal::ValidateUtf8(s, &units));
    std::u16string want;
    internal::AppendValidUtf8AsUtf16(s, &want);
    // The target held other text before (assignment, not append).
    std::u16string got(rng() % 40, u'x');
    internal::AssignValidUtf8AsUtf16(s, units, &got);
    ASSERT_EQ(got, want) << s;
  }
}

// The one-pass ASCII check and widening of the v1 cursor path says "ASCII"
// exactly when every byte is, and then writes the UTF-16 form.
TEST(ParseFastPaths, WidenIfAsciiAgreesWithTheValidator) {
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; ++round) {
    const size_t n = rng() % 70;
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      s.push_back(static_cast<char>(rng() % 200 == 0 ? 0x80 + rng() % 0x80
                                                     : rng() % 0x80));
    }
    bool ascii = true;
    for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    std::u16string got(n, u'?');
    ASSERT_EQ(internal::WidenIfAscii(s, got.data()), ascii) << round;
    if (ascii) {
      ASSERT_EQ(got, std::u16string(s.begin(), s.end()));
    }
  }
}

// The whole-step form reads and writes only whole steps of 16 (the bytes
// past the string, which it reads, say nothing about it), and agrees with
// WidenIfAscii on every length around the step size.
TEST(ParseFastPaths, WidenIfAsciiInStepsAgreesWithWidenIfAscii) {
  std::mt19937 rng(13);
  for (int round = 0; round < 3000; ++round) {
    const size_t n = rng() % 70;
    const size_t steps = (n + 15) / 16 * 16;
    // The bytes past the string are not ASCII: they must not count.
    std::string buf(steps, '\xff');
    for (size_t i = 0; i < n; ++i) {
      buf[i] = static_cast<char>(rng() % 100 == 0 ? 0x80 + rng() % 0x80
                                                  : rng() % 0x80);
    }
    const std::string s = buf.substr(0, n);
    std::u16string want(n, u'?');
    const bool ascii = internal::WidenIfAscii(s, want.data());
    // Room for the whole steps, and a guard unit after them.
    std::u16string got(steps + 1, u'#');
    ASSERT_EQ(
        internal::WidenIfAsciiInSteps(
            reinterpret_cast<const unsigned char*>(buf.data()), n, got.data()),
        ascii)
        << round;
    ASSERT_EQ(got[steps], u'#') << round;
    if (ascii) {
      ASSERT_EQ(got.substr(0, n), want) << round;
    }
  }
}

// A v1 update whose strings (short, long, ASCII or not) the cursor path
// reads, with one invalid string: rejected with the checked reader's error,
// the document unchanged; the valid ones load the same.
TEST(ParseFastPaths, CursorPathStringsValidateAsTheCheckedReader) {
  Doc a;
  YText t = a.GetText("text");
  const std::u16string texts[] = {u"ab", u"a longer ascii string here", u"été",
                                  u"long éé text "
                                  u"with accents à"};
  for (const auto& x : texts) {
    a.Transact([&](Transaction&) { t.Insert(t.Length(), x); });
    a.Transact([&](Transaction&) { t.Insert(1, u"-"); });  // origins
  }
  auto state = EncodeStateAsUpdate(a);
  ASSERT_TRUE(state.ok());
  Doc b;
  ASSERT_TRUE(ApplyUpdate(b, *state).ok());
  EXPECT_EQ(b.GetText("text").ToString16(), t.ToString16());
  // Each string's bytes in turn made invalid (a lone continuation byte).
  const std::string bytes(state->begin(), state->end());
  for (const char* needle : {"a longer", "long \xC3\xA9"}) {
    std::vector<uint8_t> bad = *state;
    const size_t at = bytes.find(needle);
    ASSERT_NE(at, std::string::npos);
    bad[at + 2] = 0x80;
    Doc c;
    absl::Status st = ApplyUpdate(c, bad);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("UTF-8"), std::string::npos) << st.message();
    EXPECT_EQ(c.GetText("text").ToString16(), u"");
  }
}

// Clocks and clients whose var-ints are longer than five bytes, and
// strings at the very end of the update, go through the checked reader:
// the document loads the same.
TEST(ParseFastPaths, LongVarIntsAndShortTailsLoadTheSame) {
  for (uint64_t client : {uint64_t{7}, uint64_t{1} << 34, uint64_t{1} << 40,
                          (uint64_t{1} << 53) - 1}) {
    DocOptions o;
    o.client_id = client;
    Doc a(o);
    YText t = a.GetText("text");
    a.Transact([&](Transaction&) { t.Insert(0, u"abcdef"); });
    a.Transact([&](Transaction&) { t.Insert(3, u"XY\u00e9"); });
    a.Transact([&](Transaction&) { t.Insert(1, u"\U0001F600!"); });
    a.Transact([&](Transaction&) { t.Delete(5, 2); });
    for (bool v2 : {false, true}) {
      auto state = v2 ? EncodeStateAsUpdateV2(a) : EncodeStateAsUpdate(a);
      ASSERT_TRUE(state.ok());
      Doc b;
      ASSERT_TRUE(
          (v2 ? ApplyUpdateV2(b, *state) : ApplyUpdate(b, *state)).ok());
      EXPECT_EQ(b.GetText("text").ToString16(), t.ToString16());
      auto again = v2 ? EncodeStateAsUpdateV2(b) : EncodeStateAsUpdate(b);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(*again, *state) << client << (v2 ? " v2" : " v1");
    }
  }
}

// Random edits of a text and a map into `a` by up to five clients (ids of
// up to 53 bits; one client in even rounds): ASCII and other text, pairs
// cut between items, deletions.
void EditBySeveralClients(std::mt19937_64& rng, int round, Doc& a) {
  const std::u16string pieces[] = {u"a",          u"hello ",
                                   u"x",          u"\u00e9t\u00e9",
                                   u"\U0001F600", u"0123456789abcdefghij"};
  const uint64_t clients[] = {1, 300, uint64_t{1} << 31, uint64_t{1} << 40,
                              (uint64_t{1} << 53) - 1};
  YText t = a.GetText("text");
  YMap m = a.GetMap("map");
  const int edits = 1 + static_cast<int>(rng() % 300);
  for (int e = 0; e < edits; ++e) {
    a.set_client_id(clients[rng() % (round % 2 == 0 ? 1 : 5)]);
    a.Transact([&](Transaction&) {
      const uint64_t len = t.Length();
      const uint64_t r = rng() % 10;
      if (r < 6 || len == 0) {
        t.Insert(rng() % (len + 1), pieces[rng() % 6]);
      } else if (r < 9) {
        const uint64_t at = rng() % len;
        t.Delete(at, 1 + rng() % std::min<uint64_t>(len - at, 5));
      } else {
        m.Set("k" + std::to_string(rng() % 3),
              Any::MakeNumber(static_cast<double>(e)));
      }
    });
  }
}

// Loads `a`'s state from its v1 (or v2) encoding: the same text, and the
// same v1 and v2 encodings as `a`.
void ExpectLoadsTheSame(Doc& a, bool from_v2, int round) {
  auto v1 = EncodeStateAsUpdate(a);
  auto v2 = EncodeStateAsUpdateV2(a);
  ASSERT_TRUE(v1.ok() && v2.ok());
  Doc b;
  ASSERT_TRUE((from_v2 ? ApplyUpdateV2(b, *v2) : ApplyUpdate(b, *v1)).ok())
      << round;
  EXPECT_EQ(b.GetText("text").ToString16(), a.GetText("text").ToString16())
      << round;
  auto again2 = EncodeStateAsUpdateV2(b);
  auto again1 = EncodeStateAsUpdate(b);
  ASSERT_TRUE(again1.ok() && again2.ok());
  EXPECT_EQ(*again2, *v2) << round;
  EXPECT_EQ(*again1, *v1) << round;
}

// The v2 reader's run of structs from local column states against the
// column readers it leaves the unusual structs to: documents of several
// clients loaded from v2 give the same text and encodings.
TEST(ParseFastPaths, V2ColumnRunsLoadAsTheColumnReaders) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 40; ++round) {
    Doc a;
    EditBySeveralClients(rng, round, a);
    ExpectLoadsTheSame(a, /*from_v2=*/true, round);
  }
}

// A text's structs written field by field into an update of either format
// (the same fields for the same seed): one or two clients (one of them's
// var-int longer than five bytes), ASCII and other strings, deleted runs,
// origins on earlier structs; and, now and then, a struct yjs cannot hold:
// an origin on its own clock or a later one, an empty string or run, a
// run past clock 2^53.
template <typename Encoder>
std::vector<uint8_t> TextStructsUpdate(uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::string pieces[] = {"a", "hello", "\xC3\xA9t\xC3\xA9",
                                "\xF0\x9F\x98\x80", "0123456789abcdefghijklm"};
  const uint64_t clients[] = {7, uint64_t{1} << 40};
  Encoder enc;
  const uint64_t sections = 1 + rng() % 2;
  enc.rest().WriteVarUint(sections);
  for (uint64_t c = 0; c < sections; ++c) {
    const uint64_t client = clients[c];
    const uint64_t n = 1 + rng() % 40;
    // The second client's structs follow the first's (its origins name
    // them) or start near 2^53.
    uint64_t clock = rng() % 8 == 0 ? kMaxSafeInteger - 30 : 0;
    enc.rest().WriteVarUint(n);
    enc.WriteClient(client);
    enc.rest().WriteVarUint(clock);
    for (uint64_t i = 0; i < n; ++i) {
      const bool deleted = rng() % 4 == 0;
      const uint8_t ref = deleted ? 1 : 4;
      const bool bad = rng() % 30 == 0;
      if (i == 0 && c == 0) {
        enc.WriteInfo(ref);
        enc.WriteParentInfo(true);
        enc.WriteString("text");
      } else {
        const bool right = rng() % 3 == 0;
        enc.WriteInfo(static_cast<uint8_t>(ref | 0x80 | (right ? 0x40 : 0)));
        const uint64_t back = bad && rng() % 2 == 0 ? 0 : 1 + rng() % 3;
        const uint64_t oc = c > 0 && rng() % 2 == 0 ? clients[0] : client;
        const uint64_t ok = clock >= back ? clock - back + (bad ? 2 : 0) : 0;
        enc.WriteLeftID(ID{oc, oc == client ? ok : rng() % 4});
        if (right) enc.WriteRightID(ID{client, clock > 0 ? clock - 1 : 0});
      }
      uint64_t length = 0;
      if (deleted) {
        length = bad && rng() % 2 == 0 ? 0 : 1 + rng() % 5;
        enc.WriteLen(length);
      } else {
        const std::string& p = pieces[rng() % 5];
        const std::string text = bad && rng() % 2 == 0 ? "" : p;
        enc.WriteString(text);
        length = internal::Utf16Length(text);
      }
      clock += length;
    }
  }
  enc.rest().WriteVarUint(0);  // no deletes
  return enc.ToBytes();
}

// The v2 reader's runs (which hand a column to its own reader where their
// rules decline, and never undo a column they read) accept and reject the
// same text structs as the v1 reader, with the same error, and load the
// same documents.
TEST(ParseFastPaths, V2TextStructsLoadAsTheirV1Form) {
  int accepted = 0;
  int rejected = 0;
  // The byte offsets differ between the formats.
  auto reason = [](const absl::Status& s) {
    std::string m(s.message());
    return m.substr(0, m.rfind(" at byte "));
  };
  for (uint64_t seed = 0; seed < 600; ++seed) {
    const std::vector<uint8_t> v1 =
        TextStructsUpdate<internal::UpdateEncoderV1>(seed);
    const std::vector<uint8_t> v2 =
        TextStructsUpdate<internal::UpdateEncoderV2>(seed);
    Doc from_v1, from_v2;
    const absl::Status s1 = ApplyUpdate(from_v1, v1);
    const absl::Status s2 = ApplyUpdateV2(from_v2, v2);
    ASSERT_EQ(s2.ok(), s1.ok()) << seed << ": " << s2 << " / " << s1;
    if (!s1.ok()) {
      EXPECT_EQ(reason(s2), reason(s1)) << seed;
      ++rejected;
      continue;
    }
    ++accepted;
    EXPECT_EQ(from_v2.GetText("text").ToString16(),
              from_v1.GetText("text").ToString16())
        << seed;
    auto e2 = EncodeStateAsUpdate(from_v2);
    auto e1 = EncodeStateAsUpdate(from_v1);
    ASSERT_TRUE(e2.ok() && e1.ok());
    EXPECT_EQ(*e2, *e1) << seed;
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 100);
}

// A text's structs whose column values sit on both sides of each var-int
// length (lib0's signed form holds 6 bits in its first byte, 13 in two, 20
// in three): origin and right-origin clocks that jump by such amounts
// forwards and backwards, deleted runs and strings of such lengths, and
// clients of each length. Written field by field in either format.
template <typename Encoder>
std::vector<uint8_t> VarIntBoundariesUpdate() {
  const uint64_t edges[] = {0,
                            1,
                            62,
                            63,
                            64,
                            65,
                            8190,
                            8191,
                            8192,
                            8193,
                            16383,
                            16384,
                            (uint64_t{1} << 20) - 1,
                            uint64_t{1} << 20,
                            (uint64_t{1} << 27) + 3,
                            uint64_t{1} << 34};
  const uint64_t clients[] = {5, 63, 64, 8191, 8192, uint64_t{1} << 20};
  // Client 5's first struct is a deleted run long enough for every jump.
  const uint64_t base = (uint64_t{1} << 35) + 100;
  Encoder enc;
  enc.rest().WriteVarUint(std::size(clients));
  for (const uint64_t client : clients) {
    const bool first = client == clients[0];
    const size_t n = first ? 1 + 4 * std::size(edges) : std::size(edges);
    enc.rest().WriteVarUint(n);
    enc.WriteClient(client);
    enc.rest().WriteVarUint(0);
    if (first) {
      enc.WriteInfo(1);  // deleted, no origins
      enc.WriteParentInfo(true);
      enc.WriteString("text");
      enc.WriteLen(base);
    }
    // Origins in client 5's run, alternating above and below its middle so
    // that consecutive clocks differ by each edge in both directions.
    const uint64_t middle = base / 2;
    size_t k = 0;
    auto put = [&](bool deleted, uint64_t length, bool right) {
      const uint64_t e = edges[k % std::size(edges)];
      const uint64_t at = k % 2 == 0 ? middle + e : middle - e;
      ++k;
      enc.WriteInfo(
          static_cast<uint8_t>((deleted ? 1 : 4) | 0x80 | (right ? 0x40 : 0)));
      enc.WriteLeftID(ID{clients[0], at});
      if (right) enc.WriteRightID(ID{clients[0], base - 1 - at % 7});
      if (deleted) {
        enc.WriteLen(length);
      } else {
        enc.WriteString(std::string(length, 'x'));
      }
    };
    for (const uint64_t e : edges) {
      if (first) {
        // Strings of each length up to 2^14, runs of every length.
        const uint64_t len = std::max<uint64_t>(e, 1);
        put(/*deleted=*/false, std::min<uint64_t>(len, 16384),
            /*right=*/false);
        put(/*deleted=*/true, len, /*right=*/true);
        put(/*deleted=*/true, 1, /*right=*/false);
        put(/*deleted=*/false, 1, /*right=*/true);
      } else {
        put(/*deleted=*/k % 3 == 0, 1 + e % 5, /*right=*/k % 2 == 0);
      }
    }
  }
  enc.rest().WriteVarUint(0);  // no deletes
  return enc.ToBytes();
}

// The v2 column readers' var-ints (read without a branch on their length
// when they are one or two bytes) give the values the v1 reader reads.
TEST(ParseFastPaths, V2VarIntsOfEveryLengthLoadAsTheirV1Form) {
  const std::vector<uint8_t> v1 =
      VarIntBoundariesUpdate<internal::UpdateEncoderV1>();
  const std::vector<uint8_t> v2 =
      VarIntBoundariesUpdate<internal::UpdateEncoderV2>();
  Doc from_v1, from_v2;
  const absl::Status s1 = ApplyUpdate(from_v1, v1);
  ASSERT_TRUE(s1.ok()) << s1;
  const absl::Status s2 = ApplyUpdateV2(from_v2, v2);
  ASSERT_TRUE(s2.ok()) << s2;
  EXPECT_FALSE(from_v1.HasPendingStructs());
  EXPECT_EQ(from_v2.GetText("text").ToString16(),
            from_v1.GetText("text").ToString16());
  auto e1 = EncodeStateAsUpdate(from_v1);
  auto e2 = EncodeStateAsUpdate(from_v2);
  ASSERT_TRUE(e1.ok() && e2.ok());
  EXPECT_EQ(*e2, *e1);
  // And the document holds what was written: v2 written from it again
  // loads to the same state.
  auto again = EncodeStateAsUpdateV2(from_v2);
  ASSERT_TRUE(again.ok());
  Doc reloaded;
  ASSERT_TRUE(ApplyUpdateV2(reloaded, *again).ok());
  auto e3 = EncodeStateAsUpdate(reloaded);
  ASSERT_TRUE(e3.ok());
  EXPECT_EQ(*e3, *e1);
}

// Short strings (read eight bytes at a time when the input has them) load
// as written in both formats: every length up to past Text16::kInline,
// with a character of two, three or four UTF-8 bytes at every place, and
// text after them in the update or none.
// Enough bytes after a document's text structs for the fast readers.
constexpr char kTail[] = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";

TEST(ParseFastPaths, ShortStringsWithOtherCharactersAnywhereLoad) {
  const std::u16string others[] = {u"\u00e9", u"\u20ac", u"\U0001F600"};
  int loaded = 0;
  for (size_t n = 1; n <= engine::Text16::kInline + 2; ++n) {
    for (size_t at = 0; at <= n; ++at) {
      for (const std::u16string& other : others) {
        for (const bool tail : {false, true}) {
          std::u16string text(n, u'a');
          if (at < n) text.replace(at, 1, other);
          // A struct that names its parent, and one placed by origins.
          Doc a;
          a.GetText("text").Insert(0, text);
          a.GetText("text").Insert(1, text);
          if (tail) a.GetMap("m").Set("k", JsValue::MakeString(kTail));
          for (const bool v2 : {false, true}) {
            auto update =
                v2 ? EncodeStateAsUpdateV2(a) : EncodeStateAsUpdate(a);
            ASSERT_TRUE(update.ok());
            Doc b;
            const absl::Status s =
                v2 ? ApplyUpdateV2(b, *update) : ApplyUpdate(b, *update);
            ASSERT_TRUE(s.ok()) << s;
            ASSERT_EQ(b.GetText("text").ToString16(),
                      a.GetText("text").ToString16())
                << n << " " << at << " " << v2 << " " << tail;
            ++loaded;
          }
        }
      }
    }
  }
  EXPECT_GT(loaded, 700);
}

// Short strings with one byte that is not UTF-8 (a lone lead or
// continuation byte) at any place are refused in both formats, as the
// checked readers refuse them, and leave the document empty.
TEST(ParseFastPaths, ShortStringsWithABadByteAnywhereAreRefused) {
  for (size_t n = 3; n <= engine::Text16::kInline + 2; ++n) {
    for (const bool placed : {false, true}) {
      // The string names its parent, or is placed by origins; a tail follows.
      Doc a;
      if (placed) a.GetText("text").Insert(0, u"xy");
      a.GetText("text").Insert(placed ? 1 : 0, std::u16string(n, u'q'));
      a.GetMap("m").Set("k", JsValue::MakeString(kTail));
      for (const bool v2 : {false, true}) {
        auto update = v2 ? EncodeStateAsUpdateV2(a) : EncodeStateAsUpdate(a);
        ASSERT_TRUE(update.ok());
        const std::string bytes(update->begin(), update->end());
        const size_t start = bytes.find(std::string(n, 'q'));
        ASSERT_NE(start, std::string::npos);
        for (size_t at = 0; at < n; ++at) {
          for (const uint8_t bad : {uint8_t{0x80}, uint8_t{0xC3}}) {
            std::vector<uint8_t> broken = *update;
            broken[start + at] = bad;
            Doc b;
            const absl::Status s =
                v2 ? ApplyUpdateV2(b, broken) : ApplyUpdate(b, broken);
            EXPECT_FALSE(s.ok()) << n << " " << at << " " << v2 << placed;
            EXPECT_EQ(b.GetText("text").ToString16(), u"");
          }
        }
      }
    }
  }
}

// The v1 cursor path's origins: those naming the struct's own client are
// matched by their bytes (of one to eight), those naming another client
// decoded; documents of several clients loaded from v1 give the same text
// and encodings.
TEST(ParseFastPaths, V1OriginsOfOwnAndOtherClientsLoadTheSame) {
  std::mt19937_64 rng(12);
  for (int round = 0; round < 40; ++round) {
    Doc a;
    EditBySeveralClients(rng, round, a);
    ExpectLoadsTheSame(a, /*from_v2=*/false, round);
  }
}

// Map entries and the first items of nested types (the v1 reader's path
// for structs that name their parent): values of every kind, keys short
// and long, ASCII and not, root names of both, nested maps, texts, arrays
// and an XML element load the same as the document they were written
// from; a key that is not UTF-8 is rejected with the checked reader's error.
TEST(ParseFastPaths, ParentedStructsLoadAsTheCheckedReader) {
  Doc a;
  YMap m = a.GetMap("bots");
  YMap other = a.GetMap(std::string(70, 'r') + "\xC3\xA9");
  const std::string keys[] = {"k",
                              "tag0",
                              std::string(64, 'x'),
                              std::string(65, 'y'),
                              "\xC3\xA9t\xC3\xA9",
                              "0123456789abcdef"};
  const Any values[] = {Any::MakeNumber(0),
                        Any::MakeNumber(-0.0),
                        Any::MakeNumber(42),
                        Any::MakeNumber(-7),
                        Any::MakeNumber(1e300),
                        Any::MakeNumber(0.5),
                        Any::MakeNumber(static_cast<double>(uint64_t{1} << 40)),
                        Any::MakeBool(true),
                        Any::MakeBool(false),
                        Any::MakeNull(),
                        Any(),
                        Any::MakeString("str"),
                        Any::MakeString("\xC3\xA9")};
  size_t v = 0;
  a.Transact([&](Transaction&) {
    for (const std::string& k : keys) {
      m.Set(k, values[v++ % std::size(values)]);
      other.Set(k, values[v++ % std::size(values)]);
      m.Set(k + "/map", Input::Map({{"inner", Input(Any::MakeNumber(1))}}));
      m.Set(k + "/text", Input::Text(u"text value \u00e9"));
      m.Set(k + "/array",
            Input::Array({Input(Any::MakeNumber(1)), Input(Any::MakeNull())}));
    }
    Input xml;
    xml.kind = Input::Kind::kXmlElement;
    xml.name = "div";
    m.Set("xml", xml);
  });
  for (const Any& x : values) m.Set("last", x);  // entries with origins
  auto state = EncodeStateAsUpdate(a);
  ASSERT_TRUE(state.ok());
  Doc b;
  ASSERT_TRUE(ApplyUpdate(b, *state).ok());
  auto again = EncodeStateAsUpdate(b);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *state);
  auto v2a = EncodeStateAsUpdateV2(a);
  auto v2b = EncodeStateAsUpdateV2(b);
  ASSERT_TRUE(v2a.ok() && v2b.ok());
  EXPECT_EQ(*v2b, *v2a);
  // A short key made invalid UTF-8 (a lone continuation byte).
  const std::string bytes(state->begin(), state->end());
  const size_t at = bytes.find("tag0");
  ASSERT_NE(at, std::string::npos);
  std::vector<uint8_t> bad = *state;
  bad[at + 1] = 0x80;
  Doc c;
  absl::Status st = ApplyUpdate(c, bad);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("UTF-8"), std::string::npos) << st.message();
  EXPECT_FALSE(c.GetMap("bots").Get("k").has_value());
}

// Structs that name their parent from three clients' concurrent edits,
// applied to fresh documents in every order: a key's and a list's first
// items (the named path), a key that has an item already (concurrent sets:
// the general path's conflict scan) and entries of a nested map another
// client deleted. Every order gives the same document and bytes.
TEST(ParseFastPaths, NamedStructsOfConcurrentClientsConverge) {
  std::vector<std::unique_ptr<Doc>> docs;
  for (uint64_t id : {uint64_t{1}, uint64_t{1} << 33, uint64_t{300}}) {
    DocOptions o;
    o.client_id = id;
    docs.push_back(std::make_unique<Doc>(o));
  }
  docs[0]->Transact([&](Transaction&) {
    docs[0]->GetMap("m").Set("n",
                             Input::Map({{"x", Input(Any::MakeNumber(1))}}));
  });
  auto base = EncodeStateAsUpdate(*docs[0]);
  ASSERT_TRUE(base.ok());
  ASSERT_TRUE(ApplyUpdate(*docs[1], *base).ok());
  ASSERT_TRUE(ApplyUpdate(*docs[2], *base).ok());
  std::vector<std::vector<uint8_t>> states;
  for (size_t d = 0; d < docs.size(); ++d) {
    Doc& doc = *docs[d];
    YMap m = doc.GetMap("m");
    doc.Transact([&](Transaction&) {
      m.Set("k", Any::MakeNumber(static_cast<double>(d)));
      m.Set("own" + std::to_string(d), Input::Text(u"t"));
      if (d == 0) {
        m.Delete("n");
      } else {
        YMap(m.Get("n")->type).Set("y" + std::to_string(d), Any::MakeNull());
      }
    });
    doc.GetArray("list").Push({Input(Any::MakeNumber(static_cast<double>(d)))});
    auto state = EncodeStateAsUpdate(doc);
    ASSERT_TRUE(state.ok());
    states.push_back(*state);
  }
  size_t order[] = {0, 1, 2};
  std::vector<uint8_t> first_bytes;
  // The map's keys are in the order they were integrated (as yjs's
  // toJSON): compared sorted, with their values.
  auto sorted_entries = [](const YMap& m) {
    std::vector<std::pair<std::string, JsValue>> out;
    const JsValue json = m.ToJson();
    for (const std::string& k : m.Keys()) out.emplace_back(k, *json.Find(k));
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  };
  std::vector<std::pair<std::string, JsValue>> first_map;
  JsValue first_list;
  do {
    Doc c;
    for (size_t i : order) ASSERT_TRUE(ApplyUpdate(c, states[i]).ok());
    auto bytes = EncodeStateAsUpdate(c);
    ASSERT_TRUE(bytes.ok());
    const auto map = sorted_entries(c.GetMap("m"));
    const JsValue list = c.GetArray("list").ToJson();
    if (first_bytes.empty()) {
      first_bytes = *bytes;
      first_map = map;
      first_list = list;
      EXPECT_FALSE(c.GetMap("m").Has("n"));
      EXPECT_TRUE(c.GetMap("m").Has("own2"));
      EXPECT_EQ(c.GetArray("list").Length(), 3u);
    } else {
      EXPECT_EQ(*bytes, first_bytes) << order[0] << order[1] << order[2];
      EXPECT_EQ(map, first_map) << order[0] << order[1] << order[2];
      EXPECT_EQ(list, first_list) << order[0] << order[1] << order[2];
    }
  } while (std::next_permutation(std::begin(order), std::end(order)));
}

TEST(ParseFastPaths, DeleteSetAddCacheFollowsCopiesAndMoves) {
  engine::DeleteSet a;
  a.Add(1, 0, 2);
  a.Add(1, 5, 1);  // cached
  engine::DeleteSet b = a;
  b.Add(1, 9, 1);
  a.Add(1, 7, 1);
  ASSERT_EQ(a.clients[1].size(), 3u);
  ASSERT_EQ(b.clients[1].size(), 3u);
  EXPECT_EQ(a.clients[1][2].first, 7u);
  EXPECT_EQ(b.clients[1][2].first, 9u);
  engine::DeleteSet c = std::move(a);
  c.Add(1, 11, 1);
  a.Add(1, 13, 1);  // the moved-from set starts again
  EXPECT_EQ(c.clients[1].size(), 4u);
  EXPECT_EQ(a.clients[1].size(), 1u);
  // Another client inserted into the table: the cache is not used.
  for (uint64_t k = 2; k < 100; ++k) c.Add(k, 0, 1);
  c.Add(1, 20, 1);
  EXPECT_EQ(c.clients[1].size(), 5u);
  EXPECT_TRUE(c.MayHoldContent());
  c.Clear();
  c.AddCollected(3, 0, 4);
  EXPECT_FALSE(c.MayHoldContent());
  EXPECT_EQ(c.clients[3].size(), 1u);
}

}  // namespace
}  // namespace auxsync::crdt
