#include "auxsync/inst/connection_token.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace auxsync::inst {
namespace {

// The test vector of spec/inst-protocol.md 3.3 (computed with the published
// aux-common code and an independent HMAC).
constexpr std::string_view kSecret = "AAECAwQFBgcICQoLDA0ODw==";
constexpr std::string_view kRecordToken =
    "vCT1.dXNlcjE=.c2Vzc2lvbjE=.Y29ubjE=.bXlSZWNvcmQ=.bXlJbnN0."
    "MGI2ZTRlYzYxYzI2OTgxNzQ3ZmM4NjZmMTA4ZWRmMzFhYmNkOTI0Mzk4YmU1N2M5MzBmMzcy"
    "MzYwOWY2Y2Q3OQ==";
constexpr std::string_view kPublicToken =
    "vCT1.dXNlcjE=.c2Vzc2lvbjE=.Y29ubjE=..bXlJbnN0."
    "ZGYxZjdlOTM1NzNjZGEzZmFlMWI4ZjMwMTU0MjlmYjIxZDA3OWVlMmVkN2QyMWY0ZjQzNmVj"
    "MGYwMzViZmExYQ==";

TEST(ConnectionToken, S5_HmacMatchesSpecVector) {
  EXPECT_EQ(*ConnectionTokenHmacHex(kSecret, "conn1", "myRecord", "myInst"),
            "0b6e4ec61c26981747fc866f108edf31abcd924398be57c930f3723609f6cd79");
  EXPECT_EQ(*ConnectionTokenHmacHex(kSecret, "conn1", std::nullopt, "myInst"),
            "df1f7e93573cda3fae1b8f3015429fb21d079ee2ed7d21f4f436ec0f035bfa1a");
}

TEST(ConnectionToken, S5_MakeAndFormatMatchSpecVector) {
  auto t = MakeConnectionToken("user1", "session1", kSecret, "conn1",
                               "myRecord", "myInst");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(FormatConnectionToken(*t), kRecordToken);
  auto p = MakeConnectionToken("user1", "session1", kSecret, "conn1",
                               std::nullopt, "myInst");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(FormatConnectionToken(*p), kPublicToken);
}

TEST(ConnectionToken, ParseRoundTripsAndVerifies) {
  auto t = ParseConnectionToken(kRecordToken);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->user_id, "user1");
  EXPECT_EQ(t->session_id, "session1");
  EXPECT_EQ(t->connection_id, "conn1");
  EXPECT_EQ(t->record_name, "myRecord");
  EXPECT_EQ(t->inst, "myInst");
  EXPECT_TRUE(VerifyConnectionToken(*t, kSecret));
  EXPECT_FALSE(VerifyConnectionToken(*t, "AAECAwQFBgcICQoLDA0ODg=="));
  EXPECT_FALSE(VerifyConnectionToken(*t, "not base64!"));
  EXPECT_EQ(FormatConnectionToken(*t), kRecordToken);

  auto pub = ParseConnectionToken(kPublicToken);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->record_name, std::nullopt);
  EXPECT_TRUE(VerifyConnectionToken(*pub, kSecret));
  // The scope is part of the MAC: the same hash does not verify elsewhere.
  ConnectionToken moved = *pub;
  moved.inst = "otherInst";
  EXPECT_FALSE(VerifyConnectionToken(moved, kSecret));
}

TEST(ConnectionToken, TranscriptTokenDecodes) {
  auto t = ParseConnectionToken(
      "vCT1.Yjc5NTFmNjMtMWViYi00MjJjLTg1OWUtYzkwOWJjYzQ0OWJi."
      "bzNZeDQ4WVN0UEYybUpMYitOK1A0QT09.Y29ubkE=."
      "Yjc5NTFmNjMtMWViYi00MjJjLTg1OWUtYzkwOWJjYzQ0OWJi.bXlJbnN0."
      "YTdlNTdmMzIxNmRmYTE0NzE5YzdmMjIwZWM1ZmFhMTZmNmQ5YTZlOGZhZDNmMDk2ODg3M2Q2"
      "MmUyNTc5NjVjZg==");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->user_id, "b7951f63-1ebb-422c-859e-c909bcc449bb");
  EXPECT_EQ(t->session_id, "o3Yx48YStPF2mJLb+N+P4A==");
  EXPECT_EQ(t->connection_id, "connA");
  EXPECT_EQ(t->record_name, "b7951f63-1ebb-422c-859e-c909bcc449bb");
  EXPECT_EQ(t->inst, "myInst");
  EXPECT_EQ(t->hash_hex.size(), 64u);
}

TEST(ConnectionToken, MalformedTokensAreErrors) {
  for (std::string_view bad : {
           "", "vCT1", "vCT1.",
           "vCK1.dXNlcjE=.c2Vzc2lvbjE=.Y29ubjE=..bXlJbnN0.aGFzaA==",
           "vCT1.dXNlcjE=.c2Vzc2lvbjE=.Y29ubjE=..bXlJbnN0",   // no hash
           "vCT1..c2Vzc2lvbjE=.Y29ubjE=..bXlJbnN0.aGFzaA==",  // no user
           "vCT1.dXNlcjE=..Y29ubjE=..bXlJbnN0.aGFzaA==",      // no session
           "vCT1.dXNlcjE=.c2Vzc2lvbjE=...bXlJbnN0.aGFzaA==",  // no conn
           "vCT1.dXNlcjE=.c2Vzc2lvbjE=.Y29ubjE=...aGFzaA==",  // no inst
           "vCT1.dXNlcjE=.c2Vzc2lvbjE=.Y29ubjE=..bXlJbnN0.",  // empty hash
           "vCT1.dXNlcjE.c2Vzc2lvbjE=.Y29ubjE=..bXlJbnN0.aGFzaA==",  // length
       }) {
    EXPECT_FALSE(ParseConnectionToken(bad).ok()) << bad;
  }
}

TEST(ConnectionToken, InvalidUtf8DecodesToReplacementCharacters) {
  // "\xff" base64 = "/w==": TextDecoder gives U+FFFD.
  auto t =
      ParseConnectionToken("vCT1./w==.c2Vzc2lvbjE=.Y29ubjE=..bXlJbnN0.aA==");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->user_id, "\xEF\xBF\xBD");
}

TEST(ConnectionToken, Base64DecodesLikeBase64Js) {
  // Outputs of base64-js 1.5.1's toByteArray (the decoder aux-common uses),
  // quirks included.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"YQ==", "a"},
      {"YWI=", "ab"},
      {"Y=Q=", ""},
      {"YWJj====", std::string(2, '\0')},
      {"Y===", ""},
      {"dXN!cjE=", "\x75\x73\x40\x72\x31"},
      {"a\xC3\xA9"
       "bc",
       "\x68\x06\xdc"},
      {"-_-_", "\xfb\xff\xbf"},
      {"YWJjZA==", "abcd"},
      {"/w==", "\xff"},
  };
  for (const auto& [in, out] : cases) {
    auto decoded = Base64Decode(in);
    ASSERT_TRUE(decoded.ok()) << in;
    EXPECT_EQ(*decoded, out) << in;
  }
  EXPECT_FALSE(Base64Decode("YQ=").ok());
  EXPECT_FALSE(Base64Decode("YWJjZ").ok());
  EXPECT_FALSE(Base64Decode("====").ok());  // base64-js throws a RangeError
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(FormatConnectionKey("user1", "session1", kSecret, "Infinity"),
            "vCK1.dXNlcjE=.c2Vzc2lvbjE=.QUFFQ0F3UUZCZ2NJQ1FvTERBME9Edz09."
            "SW5maW5pdHk=");
}

}  // namespace
}  // namespace auxsync::inst

namespace auxsync::inst {
namespace {

// Random edits of a valid token: parsing never crashes (the sanitizer build
// checks memory safety) and a parsed token whose parts decoded to non-empty
// texts formats back to a parsable one (base64-js may decode a garbled part
// to nothing, as upstream).
TEST(ConnectionToken, MutatedTokensNeverCrash) {
  const std::string base(kRecordToken);
  const std::string alphabet = "=.+/-_AZaz09!\x80\xc3\xff";
  std::mt19937 rng(7);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string t = base;
    for (int e = 1 + rng() % 4; e > 0 && !t.empty(); --e) {
      size_t at = rng() % t.size();
      switch (rng() % 3) {
        case 0:
          t.erase(at, 1 + rng() % 6);
          break;
        case 1:
          t.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          t[at] = alphabet[rng() % alphabet.size()];
      }
    }
    absl::StatusOr<ConnectionToken> parsed = ParseConnectionToken(t);
    if (parsed.ok() && !parsed->user_id.empty() &&
        !parsed->session_id.empty() && !parsed->connection_id.empty() &&
        !parsed->inst.empty() && !parsed->hash_hex.empty() &&
        parsed->record_name.value_or("x") != "") {
      EXPECT_TRUE(ParseConnectionToken(FormatConnectionToken(*parsed)).ok())
          << t;
      (void)VerifyConnectionToken(*parsed, kSecret);
    }
  }
}

}  // namespace
}  // namespace auxsync::inst
