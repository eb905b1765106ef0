// .aux files; expected states checked against aux-common 3.10.5's
// getBotsStateFromStoredAux and constructInitializationUpdate.

#include "auxsync/partitions/aux_file.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "gtest/gtest.h"

namespace auxsync::partitions {
namespace {

// checklist J15: one update holding bot1 {tag1: "abc"}.
constexpr char kBot1Update[] =
    "AQLNrtWDBQAnAQRib3RzBGJvdDEBKADNrtWDBQAEdGFnMQF3A2FiYwA=";

std::string StateJson(const StoredAux& aux) {
  absl::StatusOr<bots::Value> state = GetBotsStateFromStoredAux(aux);
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? bots::ToJson(*state) : "";
}

TEST(AuxFile, Version1StateIsReturnedAsStored) {
  auto aux = ParseStoredAux(
      R"({"version":1,"extra":true,"state":{"b1":{"id":"b1","space":"shared","tags":{"a":1}}}})");
  ASSERT_TRUE(aux.ok()) << aux.status();
  EXPECT_EQ(aux->version, 1);
  EXPECT_FALSE(aux->bare_state);
  EXPECT_EQ(StateJson(*aux),
            R"({"b1":{"id":"b1","space":"shared","tags":{"a":1}}})");
}

TEST(AuxFile, Version2StateComesFromTheUpdates) {
  auto aux = ParseStoredAux(absl::StrCat(
      R"({"version":2,"updates":[{"id":0,"timestamp":1,"update":")",
      kBot1Update, R"("}]})"));
  ASSERT_TRUE(aux.ok()) << aux.status();
  EXPECT_EQ(aux->version, 2);
  ASSERT_EQ(aux->updates.size(), 1u);
  EXPECT_EQ(StateJson(*aux), R"({"bot1":{"id":"bot1","tags":{"tag1":"abc"}}})");
}

TEST(AuxFile, IdAndTimestampAreCarriedNotRequired) {
  auto aux = ParseStoredAux(absl::StrCat(
      R"({"version":2,"updates":[{"update":")", kBot1Update, R"("}]})"));
  ASSERT_TRUE(aux.ok()) << aux.status();
  EXPECT_EQ(aux->updates[0].id, 0);
  EXPECT_EQ(StateJson(*aux), R"({"bot1":{"id":"bot1","tags":{"tag1":"abc"}}})");
}

TEST(AuxFile, ObjectWithoutVersionIsABareState) {
  auto aux = ParseStoredAux(R"({"b":{"id":"b","tags":{}}})");
  ASSERT_TRUE(aux.ok()) << aux.status();
  EXPECT_TRUE(aux->bare_state);
  EXPECT_EQ(StateJson(*aux), R"({"b":{"id":"b","tags":{}}})");
}

TEST(AuxFile, BadFilesFailWithTheField) {
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "not JSON"},
           {"[1]", "must hold a JSON object"},
           {R"({"version":3})", "version: unsupported aux version 3"},
           {R"({"version":"2","updates":[]})", "unsupported aux version \"2\""},
           {R"({"version":1})", "state: must be an object"},
           {R"({"version":1,"state":[]})", "state: must be an object"},
           {R"({"version":2})", "updates: must be an array"},
           {R"({"version":2,"updates":[5]})", "updates[0]: must be an object"},
           {R"({"version":2,"updates":[{"id":1}]})", "updates[0].update"},
           {R"({"version":2,"updates":[{"update":"AQL"}]})",
            "updates[0].update: not base64"},
           {R"({"version":2,"updates":[{"update":"!!!!"}]})",
            "updates[0].update: not base64"},
       }) {
    SCOPED_TRACE(c.text);
    auto aux = ParseStoredAux(c.text);
    ASSERT_FALSE(aux.ok());
    EXPECT_NE(aux.status().message().find(c.message), std::string::npos)
        << aux.status();
  }
}

TEST(AuxFile, EmptyAndMalformedUpdates) {
  // Three zero bytes: an update without structs or deletes.
  auto empty = ParseStoredAux(R"({"version":2,"updates":[{"update":"AAAA"}]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(StateJson(*empty), "{}");
  // Base64 of bytes that are no Yjs update: an error on show.
  auto junk =
      ParseStoredAux(R"({"version":2,"updates":[{"update":"/////w=="}]})");
  ASSERT_TRUE(junk.ok());
  EXPECT_FALSE(GetBotsStateFromStoredAux(*junk).ok());
}

TEST(AuxFile, LimitsAreEnforced) {
  AuxReadLimits limits;
  limits.max_file_bytes = 10;
  EXPECT_EQ(
      ParseStoredAux(R"({"version":1,"state":{}})", limits).status().code(),
      absl::StatusCode::kResourceExhausted);
  AuxReadLimits depth;
  depth.max_json_depth = 3;
  EXPECT_FALSE(
      ParseStoredAux(R"({"version":1,"state":{"a":{"b":{"c":1}}}})", depth)
          .ok());
  AuxReadLimits count;
  count.max_updates = 1;
  EXPECT_EQ(
      ParseStoredAux(
          absl::StrCat(R"({"version":2,"updates":[{"update":")", kBot1Update,
                       R"("},{"update":")", kBot1Update, R"("}]})"),
          count)
          .status()
          .code(),
      absl::StatusCode::kResourceExhausted);
}

TEST(AuxFile, SerializeIsCompactJsonStringify) {
  StoredAux v1;
  v1.state = *bots::ParseJson(R"({"b":{"id":"b","tags":{"x":"y"}}})");
  EXPECT_EQ(SerializeStoredAux(v1),
            R"({"version":1,"state":{"b":{"id":"b","tags":{"x":"y"}}}})");
  StoredAux v2;
  v2.version = 2;
  v2.updates.push_back(InstUpdate{3, 1234, kBot1Update});
  EXPECT_EQ(
      SerializeStoredAux(v2),
      absl::StrCat(
          R"({"version":2,"updates":[{"id":3,"timestamp":1234,"update":")",
          kBot1Update, R"("}]})"));
}

TEST(AuxFile, ConvertOneToTwoAndBack) {
  auto v1 = ParseStoredAux(
      R"({"version":1,"state":{"b1":{"id":"b1","space":"shared","tags":{"z":1,"a":"x","o":{"k":[1,2]},"e":""},"masks":{"tempLocal":{"q":1}}},"a0":{"id":"a0","tags":{}}}})");
  ASSERT_TRUE(v1.ok());
  auto v2 = ConvertStoredAux(*v1, 2, 77);
  ASSERT_TRUE(v2.ok()) << v2.status();
  ASSERT_EQ(v2->updates.size(), 1u);
  EXPECT_EQ(v2->updates[0].id, 0);
  EXPECT_EQ(v2->updates[0].timestamp, 77);
  // What aux-common reads from its own conversion of the same state:
  // spaces, masks and empty strings are gone.
  const std::string want =
      R"({"b1":{"id":"b1","tags":{"z":1,"a":"x","o":{"k":[1,2]}}},"a0":{"id":"a0","tags":{}}})";
  EXPECT_EQ(StateJson(*v2), want);
  auto back = ConvertStoredAux(*v2, 1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->version, 1);
  EXPECT_EQ(bots::ToJson(back->state), want);
}

TEST(AuxFile, ConvertEmptyStateGivesNoUpdate) {
  StoredAux v1;
  auto v2 = ConvertStoredAux(v1, 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_TRUE(v2->updates.empty());
  EXPECT_EQ(StateJson(*v2), "{}");
}

TEST(AuxFile, ConvertRejectsEntriesThatAreNotBots) {
  auto v1 = ParseStoredAux(R"({"version":1,"state":{"x":null}})");
  ASSERT_TRUE(v1.ok());
  auto v2 = ConvertStoredAux(*v1, 2);
  ASSERT_FALSE(v2.ok());
  EXPECT_NE(v2.status().message().find("state.x"), std::string::npos);
  EXPECT_FALSE(ConvertStoredAux(*v1, 3).ok());
}

TEST(AuxFile, WriteAndReadBack) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/auxsync_aux_file_test.aux");
  StoredAux v2;
  v2.version = 2;
  v2.updates.push_back(InstUpdate{0, 5, kBot1Update});
  ASSERT_TRUE(WriteAuxFile(path, v2).ok());
  auto read = ReadAuxFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(SerializeStoredAux(*read), SerializeStoredAux(v2));
  std::remove(path.c_str());
  auto missing = ReadAuxFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
}

// Damaged files (random byte flips, truncations) fail cleanly or read to
// some state; they never crash (run under the sanitizers too).
TEST(AuxFile, DamagedFilesNeverCrash) {
  const std::string good = absl::StrCat(
      R"({"version":2,"updates":[{"id":0,"timestamp":1,"update":")",
      kBot1Update, R"("}]})");
  uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = good;
    const int flips = 1 + static_cast<int>(next() % 3);
    for (int f = 0; f < flips; ++f) {
      text[next() % text.size()] = static_cast<char>(next() & 0xff);
    }
    if (next() % 4 == 0) text.resize(next() % text.size());
    auto aux = ParseStoredAux(text);
    if (!aux.ok()) continue;
    ++parsed;
    auto state = GetBotsStateFromStoredAux(*aux);
    if (state.ok()) {
      EXPECT_TRUE(state->is_object());
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace auxsync::partitions
