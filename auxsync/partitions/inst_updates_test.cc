// Conformance tests for the inst-update utilities (checklist group J,
// J1-J16, and N35), following PartitionUtils.spec.ts: every result is
// checked by decoding it (getStateFromUpdates) and comparing the bots.

#include "auxsync/partitions/inst_updates.h"

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/value.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/partitions/yjs_partition.h"
#include "gtest/gtest.h"

namespace {

using ::auxsync::bots::Value;
using ::auxsync::partitions::Base64Bytes;
using ::auxsync::partitions::ConstructInitializationUpdate;
using ::auxsync::partitions::ConstructInitializationUpdateFromPreviousUpdates;
using ::auxsync::partitions::FromBase64;
using ::auxsync::partitions::FromBase64Uninitialized;
using ::auxsync::partitions::GetStateFromUpdates;
using ::auxsync::partitions::InstUpdate;
using ::auxsync::partitions::MergeInstUpdates;
using ::auxsync::partitions::ToBase64;
using ::auxsync::partitions::UpdateToNewStateUpdate;
using ::auxsync::partitions::YjsPartition;
using ::auxsync::partitions::YjsPartitionConfig;

Value J(std::string_view json) {
  absl::StatusOr<Value> v = auxsync::bots::ParseJson(json);
  EXPECT_TRUE(v.ok()) << v.status() << " in " << json;
  return v.ok() ? *v : Value();
}

std::string JsonOf(const Value& v) { return auxsync::bots::ToJson(v); }

std::vector<Value> Bots(std::string_view json_array) {
  return J(json_array).as_array().items;
}

// The bots state the updates decode to, as JSON.
std::string Decode(const std::vector<InstUpdate>& updates) {
  absl::StatusOr<Value> state = GetStateFromUpdates(updates);
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? JsonOf(*state) : "";
}

InstUpdate Init(std::string_view bots_json) {
  absl::StatusOr<std::optional<InstUpdate>> u =
      ConstructInitializationUpdate(Bots(bots_json));
  EXPECT_TRUE(u.ok() && u->has_value());
  return u.ok() && u->has_value() ? **u : InstUpdate{};
}

InstUpdate FromPrevious(const std::vector<InstUpdate>& previous,
                        std::string_view bots_json) {
  absl::StatusOr<std::optional<InstUpdate>> u =
      ConstructInitializationUpdateFromPreviousUpdates(previous,
                                                       Bots(bots_json));
  EXPECT_TRUE(u.ok() && u->has_value());
  return u.ok() && u->has_value() ? **u : InstUpdate{};
}

// Applies `updates` in order to one partition and returns its state after
// each of them.
std::vector<std::string> ApplyInTurn(const std::vector<InstUpdate>& updates) {
  YjsPartition partition{YjsPartitionConfig{}};
  std::vector<std::string> states;
  for (const InstUpdate& u : updates) {
    EXPECT_TRUE(partition.ApplyUpdates({u.update}).ok());
    states.push_back(JsonOf(partition.state()));
  }
  return states;
}

constexpr std::string_view kFirstBots =
    R"([{"id":"test1","tags":{"abc":"def"}},{"id":"test2","tags":{"num":123}}])";

TEST(InstUpdates, J1_ConstructInitializationUpdate) {
  absl::StatusOr<std::optional<InstUpdate>> u =
      ConstructInitializationUpdate(Bots(kFirstBots), 42);
  ASSERT_TRUE(u.ok() && u->has_value());
  EXPECT_EQ((*u)->id, 0);
  EXPECT_EQ((*u)->timestamp, 42);
  EXPECT_EQ(JsonOf((*u)->ToValue()["timestamp"]), "42");
  EXPECT_EQ(Decode({**u}), R"({"test1":{"id":"test1","tags":{"abc":"def"}},)"
                           R"("test2":{"id":"test2","tags":{"num":123}}})");
}

TEST(InstUpdates, J2_TwoInitializationUpdatesCombine) {
  InstUpdate a = Init(kFirstBots);
  InstUpdate b = Init(
      R"([{"id":"test3","tags":{"val":true}},{"id":"test4","tags":{"str":"hello"}}])");
  EXPECT_EQ(Decode({a, b}),
            R"({"test1":{"id":"test1","tags":{"abc":"def"}},)"
            R"("test2":{"id":"test2","tags":{"num":123}},)"
            R"("test3":{"id":"test3","tags":{"val":true}},)"
            R"("test4":{"id":"test4","tags":{"str":"hello"}}})");
}

TEST(InstUpdates, J3_FromNoPreviousUpdates) {
  EXPECT_EQ(Decode({FromPrevious({}, kFirstBots)}),
            R"({"test1":{"id":"test1","tags":{"abc":"def"}},)"
            R"("test2":{"id":"test2","tags":{"num":123}}})");
}

constexpr std::string_view kSecondBots =
    R"([{"id":"test1","tags":{"abc":"ghi","val":true}},{"id":"test3","tags":{"str":"hello"}}])";
constexpr std::string_view kSecondState =
    R"({"test1":{"id":"test1","tags":{"abc":"ghi","val":true}},)"
    R"("test3":{"id":"test3","tags":{"str":"hello"}}})";

TEST(InstUpdates, J4_ResultAloneDecodesToTarget) {
  InstUpdate first = Init(kFirstBots);
  EXPECT_EQ(Decode({FromPrevious({first}, kSecondBots)}), kSecondState);
}

TEST(InstUpdates, J5_MissingTagsAreDeleted) {
  InstUpdate first = Init(kFirstBots);
  EXPECT_EQ(
      Decode({FromPrevious(
          {first},
          R"([{"id":"test1","tags":{"val":true}},{"id":"test3","tags":{"str":"hello"}}])")}),
      R"({"test1":{"id":"test1","tags":{"val":true}},)"
      R"("test3":{"id":"test3","tags":{"str":"hello"}}})");
}

TEST(InstUpdates, J6_FirstThenResult) {
  InstUpdate first = Init(kFirstBots);
  InstUpdate second = FromPrevious({first}, kSecondBots);
  EXPECT_EQ(ApplyInTurn({first, second}).back(), kSecondState);
}

constexpr std::string_view kThirdBots =
    R"([{"id":"test1","tags":{"abc":"xyz","val":true}},{"id":"test3","tags":{"str":"test"}},{"id":"test4","tags":{"num":999}}])";
constexpr std::string_view kThirdState =
    R"({"test1":{"id":"test1","tags":{"abc":"xyz","val":true}},)"
    R"("test3":{"id":"test3","tags":{"str":"test"}},)"
    R"("test4":{"id":"test4","tags":{"num":999}}})";

TEST(InstUpdates, J7_ThirdFromSecondAndFirst) {
  InstUpdate first = Init(kFirstBots);
  InstUpdate second = FromPrevious({first}, kSecondBots);
  InstUpdate third = FromPrevious({second, first}, kThirdBots);
  EXPECT_EQ(Decode({third}), kThirdState);
}

TEST(InstUpdates, J8_SkipIntermediate) {
  InstUpdate first = Init(kFirstBots);
  InstUpdate second = FromPrevious({first}, kSecondBots);
  InstUpdate third = FromPrevious({first, second}, kThirdBots);
  EXPECT_EQ(ApplyInTurn({first, third}).back(), kThirdState);
}

TEST(InstUpdates, J9_InOrder) {
  InstUpdate first = Init(kFirstBots);
  InstUpdate second = FromPrevious({first}, kSecondBots);
  InstUpdate third = FromPrevious({first, second}, kThirdBots);
  std::vector<std::string> states = ApplyInTurn({first, second, third});
  EXPECT_EQ(states[0], R"({"test1":{"id":"test1","tags":{"abc":"def"}},)"
                       R"("test2":{"id":"test2","tags":{"num":123}}})");
  EXPECT_EQ(states[1], kSecondState);
  EXPECT_EQ(states[2], kThirdState);
}

TEST(InstUpdates, J10_ReverseOrder) {
  InstUpdate first = Init(kFirstBots);
  InstUpdate second = FromPrevious({first}, kSecondBots);
  InstUpdate third = FromPrevious({first, second}, kThirdBots);
  for (const std::string& state : ApplyInTurn({third, second, first})) {
    EXPECT_EQ(state, kThirdState);
  }
}

InstUpdate NewState(std::string_view bots_json) { return Init(bots_json); }

TEST(InstUpdates, J11_UpdateToNewStateFromNothing) {
  InstUpdate target = NewState(kSecondBots);
  absl::StatusOr<std::optional<InstUpdate>> u =
      UpdateToNewStateUpdate({}, std::vector<InstUpdate>{target});
  ASSERT_TRUE(u.ok() && u->has_value());
  EXPECT_EQ(Decode({**u}), kSecondState);
}

TEST(InstUpdates, J12_UpdateToNewState) {
  InstUpdate first = Init(kFirstBots);
  absl::StatusOr<std::optional<InstUpdate>> u =
      UpdateToNewStateUpdate(std::vector<InstUpdate>{first},
                             std::vector<InstUpdate>{NewState(kSecondBots)});
  ASSERT_TRUE(u.ok() && u->has_value());
  EXPECT_EQ(Decode({**u}), kSecondState);
}

constexpr std::string_view kDeleteAbcBots =
    R"([{"id":"test1","tags":{"val":true}},{"id":"test3","tags":{"str":"hello"}}])";

TEST(InstUpdates, J13_UpdateToNewStateDeletesTags) {
  InstUpdate first = Init(kFirstBots);
  absl::StatusOr<std::optional<InstUpdate>> u =
      UpdateToNewStateUpdate(std::vector<InstUpdate>{first},
                             std::vector<InstUpdate>{NewState(kDeleteAbcBots)});
  ASSERT_TRUE(u.ok() && u->has_value());
  EXPECT_EQ(Decode({**u}), R"({"test1":{"id":"test1","tags":{"val":true}},)"
                           R"("test3":{"id":"test3","tags":{"str":"hello"}}})");
}

TEST(InstUpdates, J14_KeepsConcurrentChanges) {
  InstUpdate first = Init(kFirstBots);
  YjsPartition partition{YjsPartitionConfig{}};
  ASSERT_TRUE(partition.ApplyUpdates({first.update}).ok());
  ASSERT_TRUE(partition
                  .ApplyEvents(
                      {auxsync::bots::BotUpdated(
                           "test1", J(R"({"tags":{"newTag":555}})")),
                       auxsync::bots::BotAdded(J(
                           R"({"id":"test4","tags":{"anotherTag":"value"}})"))})
                  .ok());
  absl::StatusOr<std::optional<InstUpdate>> u =
      UpdateToNewStateUpdate(std::vector<InstUpdate>{first},
                             std::vector<InstUpdate>{NewState(kDeleteAbcBots)});
  ASSERT_TRUE(u.ok() && u->has_value());
  ASSERT_TRUE(partition.ApplyUpdates({(*u)->update}).ok());
  EXPECT_EQ(JsonOf(partition.state()),
            R"({"test1":{"id":"test1","tags":{"newTag":555,"val":true}},)"
            R"("test4":{"id":"test4","tags":{"anotherTag":"value"}},)"
            R"("test3":{"id":"test3","tags":{"str":"hello"}}})");
}

TEST(InstUpdates, J15_GetStateFromOldYjsUpdate) {
  EXPECT_EQ(
      Decode({InstUpdate{
          0, 0, "AQLNrtWDBQAnAQRib3RzBGJvdDEBKADNrtWDBQAEdGFnMQF3A2FiYwA="}}),
      R"({"bot1":{"id":"bot1","tags":{"tag1":"abc"}}})");
}

TEST(InstUpdates, J16_MergeInstUpdates) {
  InstUpdate first = Init(kFirstBots);
  InstUpdate second = FromPrevious({first}, kSecondBots);
  InstUpdate third = FromPrevious(
      {first, second},
      R"([{"id":"test1","tags":{"abc":"xyz"}},{"id":"test2","tags":{"num":999}}])");
  absl::StatusOr<InstUpdate> merged =
      MergeInstUpdates(std::vector<InstUpdate>{first, second, third}, 123, 987);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->id, 123);
  EXPECT_EQ(merged->timestamp, 987);
  EXPECT_EQ(Decode({*merged}),
            R"({"test1":{"id":"test1","tags":{"abc":"xyz"}},)"
            R"("test2":{"id":"test2","tags":{"num":999}}})");
  absl::StatusOr<InstUpdate> default_id =
      MergeInstUpdates(std::vector<InstUpdate>{first, second});
  ASSERT_TRUE(default_id.ok());
  EXPECT_EQ(default_id->id, 2);
}

TEST(InstUpdates, N35_EmptyBotListGivesNoUpdate) {
  absl::StatusOr<std::optional<InstUpdate>> u =
      ConstructInitializationUpdate({});
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->has_value());
}

TEST(InstUpdates, NothingToChangeGivesNoUpdate) {
  InstUpdate first = Init(kFirstBots);
  absl::StatusOr<std::optional<InstUpdate>> u =
      ConstructInitializationUpdateFromPreviousUpdates(
          std::vector<InstUpdate>{first}, Bots(kFirstBots));
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->has_value());
}

TEST(InstUpdates, JsonRoundTrip) {
  absl::StatusOr<InstUpdate> u =
      InstUpdate::FromValue(J(R"({"id":3,"update":"AAA=","timestamp":9})"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(JsonOf(u->ToValue()), R"({"id":3,"timestamp":9,"update":"AAA="})");
  EXPECT_FALSE(InstUpdate::FromValue(J(R"({"id":3})")).ok());
  EXPECT_FALSE(InstUpdate::FromValue(J("5")).ok());
}

// fuzz_aux_file: a timestamp past the double range parsed as Infinity,
// which JSON.stringify writes as null; read again, the file changed. Such
// an id or timestamp now reads as 0 the first time, like other odd values.
TEST(InstUpdates, NonFiniteIdAndTimestampReadAsZero) {
  absl::StatusOr<InstUpdate> u = InstUpdate::FromValue(
      J(R"({"id":-1e999,"timestamp":1e999,"update":"AAA="})"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(JsonOf(u->ToValue()), R"({"id":0,"timestamp":0,"update":"AAA="})");
  absl::StatusOr<InstUpdate> again = InstUpdate::FromValue(u->ToValue());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(JsonOf(again->ToValue()), JsonOf(u->ToValue()));
}

TEST(InstUpdates, BadInputIsAnError) {
  EXPECT_FALSE(GetStateFromUpdates({{InstUpdate{0, 0, "not base64!"}}}).ok());
  EXPECT_FALSE(FromBase64("abc").ok());
  EXPECT_FALSE(MergeInstUpdates({{InstUpdate{0, 0, "%%%%"}}}).ok());
}

// FromBase64 as it was before its table decoder: the character check, then
// absl's standard and web-safe decoders.
absl::StatusOr<std::vector<uint8_t>> ReferenceFromBase64(
    std::string_view text) {
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        "Invalid string. Length must be a multiple of 4");
  }
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' ||
              c == '-' || c == '_';
    if (!ok) return absl::InvalidArgumentError("invalid base64 character");
  }
  std::string out;
  absl::string_view in(text.data(), text.size());
  if (!absl::Base64Unescape(in, &out) &&
      !absl::WebSafeBase64Unescape(in, &out)) {
    return absl::InvalidArgumentError("invalid base64 string");
  }
  return std::vector<uint8_t>(out.begin(), out.end());
}

// ToBase64 writes what absl's (and base64-js's) standard padded encoder
// writes, for every length (the 6-byte steps, the 3-byte steps and both
// padding cases), and FromBase64 reads it back.
TEST(InstUpdates, Base64EncodesAsStandardBase64) {
  std::mt19937 rng(7);
  for (size_t len = 0; len < 200; ++len) {
    for (int rep = 0; rep < 4; ++rep) {
      std::vector<uint8_t> bytes(len);
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
      const std::string text = ToBase64(bytes);
      EXPECT_EQ(text, absl::Base64Escape(absl::string_view(
                          reinterpret_cast<const char*>(bytes.data()),
                          bytes.size())));
      absl::StatusOr<std::vector<uint8_t>> back = FromBase64(text);
      ASSERT_TRUE(back.ok()) << text;
      EXPECT_EQ(*back, bytes) << text;
    }
  }
  EXPECT_EQ(ToBase64(std::vector<uint8_t>{0xFB, 0xFF}), "+/8=");
}

// FromBase64 decodes canonical text itself and leaves the rest to the
// general path: bytes and errors are those of the reference for canonical
// text, web-safe text, odd padding, non-zero padding bits, bad characters
// and bad lengths.
TEST(InstUpdates, Base64DecodesAsBefore) {
  std::vector<std::string> texts = {"",
                                    "AQ==",
                                    "AR==",
                                    "AQI=",
                                    "AQJ=",
                                    "====",
                                    "A===",
                                    "AQ=A",
                                    "-_8=",
                                    "+/8=",
                                    "AB+/",
                                    "AB-_",
                                    "AB+_",
                                    "abc",
                                    "abcde",
                                    "ab cd",
                                    "AQ",
                                    "=AAA",
                                    "AA=A",
                                    "A=AA",
                                    "AQ==AQ==",
                                    "AQIDBA==",
                                    "AQIDBA=="
                                    "AQID"};
  std::mt19937 rng(11);
  const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ !";
  for (int i = 0; i < 3000; ++i) {
    // Mostly canonical encodings with one character replaced, plus random
    // strings over the alphabet, '=', the web-safe characters and others.
    std::string t;
    if (i % 2 == 0) {
      std::vector<uint8_t> bytes(rng() % 20);
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
      t = ToBase64(bytes);
      if (!t.empty()) t[rng() % t.size()] = chars[rng() % chars.size()];
    } else {
      t.resize(4 * (rng() % 5) + (rng() % 8 == 0 ? 1 : 0));
      for (char& c : t) c = chars[rng() % chars.size()];
    }
    texts.push_back(t);
  }
  // Long canonical texts (the SIMD steps).
  for (size_t len : {size_t{100}, size_t{1000}, size_t{4099}}) {
    std::vector<uint8_t> bytes(len);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    texts.push_back(ToBase64(bytes));
  }
  for (const std::string& t : texts) {
    absl::StatusOr<std::vector<uint8_t>> ours = FromBase64(t);
    absl::StatusOr<std::vector<uint8_t>> ref = ReferenceFromBase64(t);
    ASSERT_EQ(ours.status(), ref.status()) << t;
    if (ours.ok()) {
      EXPECT_EQ(*ours, *ref) << t;
    }
    // FromBase64Uninitialized: the same bytes or the same error.
    absl::StatusOr<Base64Bytes> raw = FromBase64Uninitialized(t);
    ASSERT_EQ(raw.status(), ref.status()) << t;
    if (raw.ok()) {
      const std::span<const uint8_t> got = raw->span();
      EXPECT_EQ(std::vector<uint8_t>(got.begin(), got.end()), *ref) << t;
    }
  }
}

// InstUpdateTextsFromValue gives the update strings of InstUpdatesFromValue
// (the same strings, shared) and its errors.
TEST(InstUpdates, UpdateTextsAreThoseOfInstUpdatesFromValue) {
  const std::vector<std::string> inputs = {
      R"([{"id":1,"timestamp":2,"update":"AQ=="},{"update":"AAA="}])",
      R"([])",
      R"({"update":"AQ=="})",
      R"([{"id":1,"timestamp":2,"update":"AQ=="},3])",
      R"([{"id":1,"update":5}])",
      R"(null)"};
  for (const std::string& json : inputs) {
    absl::StatusOr<Value> v = ::auxsync::bots::ParseJson(json);
    ASSERT_TRUE(v.ok()) << json;
    absl::StatusOr<std::vector<InstUpdate>> updates =
        ::auxsync::partitions::InstUpdatesFromValue(*v, "updates");
    absl::StatusOr<std::vector<Value>> texts =
        ::auxsync::partitions::InstUpdateTextsFromValue(*v, "updates");
    ASSERT_EQ(texts.status(), updates.status()) << json;
    if (!texts.ok()) continue;
    ASSERT_EQ(texts->size(), updates->size());
    for (size_t i = 0; i < texts->size(); ++i) {
      EXPECT_EQ((*texts)[i].as_string(), (*updates)[i].update);
      // Shared with the input, not copied.
      EXPECT_EQ(&(*texts)[i].as_string(),
                &v->as_array().items[i]["update"].as_string());
    }
  }
}

// The sixteen-character steps of FromBase64 judge every byte value at every
// position as the reference does (one character of a canonical encoding
// replaced by each of the 256 bytes), on lengths that end with each padding
// and leave one to three groups past the last step.
TEST(InstUpdates, Base64DecodesEveryByteAtEveryPositionAsBefore) {
  std::mt19937 rng(5);
  for (size_t len :
       {std::size_t{16}, std::size_t{47}, std::size_t{61}, std::size_t{98}}) {
    std::vector<uint8_t> bytes(len);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    const std::string canonical = ToBase64(bytes);
    for (size_t pos = 0; pos < canonical.size(); ++pos) {
      for (int c = 0; c < 256; ++c) {
        std::string t = canonical;
        t[pos] = static_cast<char>(c);
        absl::StatusOr<std::vector<uint8_t>> ours = FromBase64(t);
        absl::StatusOr<std::vector<uint8_t>> ref = ReferenceFromBase64(t);
        ASSERT_EQ(ours.status(), ref.status()) << pos << " " << c;
        if (ours.ok()) {
          ASSERT_EQ(*ours, *ref) << pos << " " << c;
        }
      }
    }
  }
}

}  // namespace
