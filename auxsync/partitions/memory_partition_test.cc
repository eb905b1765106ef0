// Conformance tests for MemoryPartition: checklist groups D (D1-D50), E
// (E1-E4, E6) and the MemoryPartition items of group N (N1, N3-N24,
// N52-N55). Each test is named after its checklist id.
//
// Every emission of a batch is recorded, in order, as one line
// "<observable> <JSON>" (added / removed / updated / state / version), and
// compared with the exact text aux-common 3.10.5 produces for the same
// batch under Node (JSON.stringify of the emitted value). Comparing JSON
// text asserts values, key order (spec section 0.2) and emission order
// (section 6.3) at once.

#include "auxsync/partitions/memory_partition.h"

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/runtime_values.h"
#include "auxsync/bots/state_updated_event.h"
#include "auxsync/bots/tag_edit.h"
#include "auxsync/bots/value.h"
#include "auxsync/bots/version.h"
#include "auxsync/partitions/partition.h"
#include "auxsync/rx/subscription.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::auxsync::bots::AddState;
using ::auxsync::bots::BotAdded;
using ::auxsync::bots::BotRemoved;
using ::auxsync::bots::BotUpdated;
using ::auxsync::bots::CurrentVersion;
using ::auxsync::bots::Del;
using ::auxsync::bots::Edit;
using ::auxsync::bots::Edits;
using ::auxsync::bots::Insert;
using ::auxsync::bots::MakeArray;
using ::auxsync::bots::MakeObject;
using ::auxsync::bots::Preserve;
using ::auxsync::bots::RemoteEdit;
using ::auxsync::bots::StateUpdatedEvent;
using ::auxsync::bots::UpdatedBot;
using ::auxsync::bots::Value;
using ::auxsync::partitions::MemoryPartition;
using ::auxsync::partitions::MemoryPartitionConfig;
using ::auxsync::partitions::Partition;
using ::auxsync::partitions::RealtimeStrategy;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------
// Helpers

// Parses JSON written in a test (tagged forms such as
// {"$type":"number","value":"Infinity"} are decoded).
Value J(std::string_view json) {
  absl::StatusOr<Value> v =
      auxsync::bots::ParseJson(json, {.decode_tags = true});
  EXPECT_TRUE(v.ok()) << v.status() << " in " << json;
  return v.ok() ? *v : Value();
}

// A copy of `v` without properties whose value is undefined. JavaScript
// keeps such properties (a bot stored without a space has `space:
// undefined`), but they are absent for every JSON peer (spec section 0.1),
// so the tests do not pin them down.
Value StripUndefined(const Value& v) {
  if (v.is_array()) {
    for (Value& item : v.as_array().items) item = StripUndefined(item);
  } else if (v.is_object()) {
    for (const std::string& key : v.as_object().Keys()) {
      const Value& item = v.as_object().Get(key);
      if (item.is_undefined()) {
        v.as_object().Erase(key);
      } else {
        v.as_object().Set(key, StripUndefined(item));
      }
    }
  }
  return v;
}

// JSON.stringify of `v`; with `tagged`, NaN, the infinities and -0 are
// written in their tagged form so that they stay distinguishable.
std::string JsonOf(const Value& v, bool tagged = false) {
  if (!tagged) return auxsync::bots::ToJson(v);
  return auxsync::bots::ToJson(StripUndefined(v.Clone()), {.tagged = true});
}

Value ArrayOf(const std::vector<Value>& items) {
  Value out = Value::NewArray();
  out.as_array().items = items;
  return out;
}

Value ArrayOf(const std::vector<std::string>& items) {
  Value out = Value::NewArray();
  for (const std::string& s : items) out.as_array().items.emplace_back(s);
  return out;
}

Value ArrayOf(const std::vector<UpdatedBot>& items) {
  Value out = Value::NewArray();
  for (const UpdatedBot& u : items) out.as_array().items.push_back(u.ToValue());
  return out;
}

// Records every live (non-replay) emission of a partition, in order, as
// "<observable> <JSON>" lines, plus the structured values.
class Recorder {
 public:
  Recorder(Partition& partition, bool tagged) : tagged_(tagged) {
    subs_.push_back(partition.OnBotsAdded([this](const std::vector<Value>& b) {
      if (live_) Log("added", ArrayOf(b));
    }));
    subs_.push_back(
        partition.OnBotsRemoved([this](const std::vector<std::string>& ids) {
          Log("removed", ArrayOf(ids));
        }));
    subs_.push_back(
        partition.OnBotsUpdated([this](const std::vector<UpdatedBot>& u) {
          Log("updated", ArrayOf(u));
        }));
    subs_.push_back(
        partition.OnStateUpdated([this](const StateUpdatedEvent& e) {
          if (!live_) return;
          // Payloads may share objects with the partition's state
          // (partition.h): keep a copy.
          StateUpdatedEvent copy = e;
          copy.state = e.state.Clone();
          copy.version = e.version.Clone();
          states.push_back(std::move(copy));
          Log("state", e.ToValue());
        }));
    subs_.push_back(partition.OnVersionUpdated([this](const CurrentVersion& v) {
      if (!live_) return;
      CurrentVersion copy = v;
      copy.vector = v.vector.Clone();
      versions.push_back(std::move(copy));
      Log("version", v.ToValue());
    }));
    subs_.push_back(partition.OnStatusUpdated(
        [this](const Value& s) { statuses.push_back(s.Clone()); }));
    subs_.push_back(
        partition.OnError([this](const Value& e) { Log("error", e); }));
    subs_.push_back(partition.OnEvents(
        [this](const std::vector<Value>& e) { Log("events", ArrayOf(e)); }));
    live_ = true;
  }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  std::vector<std::string> Take() { return std::exchange(log_, {}); }
  [[nodiscard]] std::string Json(const Value& v) const {
    return JsonOf(v, tagged_);
  }

  std::vector<StateUpdatedEvent> states;
  std::vector<CurrentVersion> versions;
  std::vector<Value> statuses;

 private:
  void Log(std::string_view kind, const Value& v) {
    log_.push_back(std::string(kind) + " " + Json(v));
  }

  bool tagged_;
  bool live_ = false;
  std::vector<std::string> log_;
  std::vector<auxsync::rx::Subscription> subs_;
};

MemoryPartitionConfig LrConfig() {
  MemoryPartitionConfig config;
  config.local_site_id = "L";
  config.remote_site_id = "R";
  return config;
}

// A MemoryPartition with site ids "L"/"R", the given space, and a Recorder
// attached before anything happens.
struct Harness {
  explicit Harness(std::optional<std::string> space = std::nullopt,
                   bool tagged = false)
      : partition(LrConfig()) {
    partition.set_space(std::move(space));
    recorder.emplace(partition, tagged);
  }

  // Applies one batch and returns its emissions; recorder->states and
  // recorder->versions then hold this batch's events only.
  std::vector<std::string> Apply(const std::vector<Value>& actions) {
    recorder->states.clear();
    recorder->versions.clear();
    absl::StatusOr<std::vector<Value>> result = partition.ApplyEvents(actions);
    EXPECT_TRUE(result.ok()) << result.status();
    if (result.ok()) {
      EXPECT_THAT(*result, IsEmpty());
    }
    return recorder->Take();
  }

  [[nodiscard]] std::string State() const {
    return recorder->Json(partition.state());
  }

  // The latest onVersionUpdated value as JSON.
  [[nodiscard]] std::string Version() const {
    return recorder->Json(partition.version().ToValue());
  }

  MemoryPartition partition;
  std::optional<Recorder> recorder;
};

// Action builders.
Value Add(std::string_view bot_json) { return BotAdded(J(bot_json)); }
Value Remove(std::string_view id) { return BotRemoved(id); }
Value Update(std::string_view id, std::string_view update_json) {
  return BotUpdated(id, J(update_json));
}
// update_bot(id, {tags: {tag: value}})
Value UpdateTag(std::string_view id, std::string_view tag, Value value) {
  return BotUpdated(id, MakeObject({{"tags", MakeObject({{tag, value}})}}));
}
// update_bot(id, {masks: {space: {tag: value}}})
Value UpdateMask(std::string_view id, std::string_view space,
                 std::string_view tag, Value value) {
  return BotUpdated(
      id, MakeObject(
              {{"masks", MakeObject({{space, MakeObject({{tag, value}})}})}}));
}
Value Vec() { return Value::NewObject(); }

constexpr std::string_view kV0 =
    R"({"currentSite":"L","remoteSite":"R","vector":{}})";

// The data-type cases of the checklist (input -> stored value). The four
// runtime types appear twice: as real runtime values and, as a JSON-only
// peer would send them, in their string forms.
struct DataTypeCase {
  std::string name;
  Value input;
  Value stored;
};

std::vector<DataTypeCase> DataTypeCases() {
  const double kInf = std::numeric_limits<double>::infinity();
  // 1999-11-19T05:42:08Z
  const double kDateMs = 942990128000.0;
  return {
      {"DateTime", auxsync::bots::MakeDateTime(kDateMs, "UTC"),
       Value("📅1999-11-19T05:42:08Z")},
      {"Vector2", auxsync::bots::MakeVector2(1, 2), Value("➡️1,2")},
      {"Vector3", auxsync::bots::MakeVector3(1, 2, 3), Value("➡️1,2,3")},
      {"Rotation", auxsync::bots::MakeRotation(0, 0, 0, 1), Value("🔁0,0,0,1")},
      {"number", Value(123), Value(123)},
      {"true", Value(true), Value(true)},
      {"false", Value(false), Value(false)},
      {"string", Value("abc"), Value("abc")},
      {"Infinity", Value(kInf), Value(kInf)},
      {"-Infinity", Value(-kInf), Value(-kInf)},
      {"object", MakeObject({{"abc", "def"}}), MakeObject({{"abc", "def"}})},
      {"array", MakeArray({1, 2, 3}), MakeArray({1, 2, 3})},
      {"DateTime string", Value("📅1999-11-19T05:42:08Z"),
       Value("📅1999-11-19T05:42:08Z")},
      {"Vector2 string", Value("➡️1,2"), Value("➡️1,2")},
      {"Vector3 string", Value("➡️1,2,3"), Value("➡️1,2,3")},
      {"Rotation string", Value("🔁0,0,0,1"), Value("🔁0,0,0,1")},
  };
}

std::string TaggedJson(const Value& v) { return JsonOf(v, /*tagged=*/true); }

}  // namespace

// ===========================================================================
// D. Shared partition suite — add_bot

TEST(MemoryPartition, D1_AddsBot) {
  Harness h;
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")}),
      ElementsAre(
          R"(added [{"id":"test","tags":{"abc":"def"}}])",
          R"(state {"addedBots":["test"],"removedBots":[],"updatedBots":[],"state":{"test":{"id":"test","tags":{"abc":"def"}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"def"}}})");
}

TEST(MemoryPartition, D2_AddsTwoBotsInOneBatch) {
  Harness h;
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})"),
               Add(R"({"id":"test2","tags":{"abc":"xyz"}})")}),
      ElementsAre(
          R"(added [{"id":"test","tags":{"abc":"def"}},{"id":"test2","tags":{"abc":"xyz"}}])",
          R"(state {"addedBots":["test","test2"],"removedBots":[],"updatedBots":[],"state":{"test":{"id":"test","tags":{"abc":"def"}},"test2":{"id":"test2","tags":{"abc":"xyz"}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(
      h.State(),
      R"({"test":{"id":"test","tags":{"abc":"def"}},"test2":{"id":"test2","tags":{"abc":"xyz"}}})");
}

TEST(MemoryPartition, D3_OnBotsAddedReplaysExistingBots) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})"),
           Add(R"({"id":"test2","tags":{"abc":"xyz"}})")});
  std::vector<std::string> got;
  auxsync::rx::Subscription sub =
      h.partition.OnBotsAdded([&](const std::vector<Value>& bots) {
        got.push_back(JsonOf(ArrayOf(bots)));
      });
  EXPECT_THAT(
      got,
      ElementsAre(
          R"([{"id":"test","tags":{"abc":"def"}},{"id":"test2","tags":{"abc":"xyz"}}])"));
}

TEST(MemoryPartition, D4_OnStateUpdatedReplaysExistingState) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})"),
           Add(R"({"id":"test2","tags":{"abc":"xyz"}})")});
  std::vector<std::string> got;
  auxsync::rx::Subscription sub = h.partition.OnStateUpdated(
      [&](const StateUpdatedEvent& e) { got.push_back(JsonOf(e.ToValue())); });
  EXPECT_THAT(
      got,
      ElementsAre(
          R"({"addedBots":["test","test2"],"removedBots":[],"updatedBots":[],"state":{"test":{"id":"test","tags":{"abc":"def"}},"test2":{"id":"test2","tags":{"abc":"xyz"}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

TEST(MemoryPartition, D5_AddsBotsToConfiguredSpace) {
  Harness h("test");
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})"),
               Add(R"({"id":"test2","tags":{"abc":"xyz"}})")}),
      ElementsAre(
          R"(added [{"id":"test","tags":{"abc":"def"},"space":"test"},{"id":"test2","tags":{"abc":"xyz"},"space":"test"}])",
          R"(state {"addedBots":["test","test2"],"removedBots":[],"updatedBots":[],"state":{"test":{"id":"test","tags":{"abc":"def"},"space":"test"},"test2":{"id":"test2","tags":{"abc":"xyz"},"space":"test"}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(
      h.State(),
      R"({"test":{"id":"test","tags":{"abc":"def"},"space":"test"},"test2":{"id":"test2","tags":{"abc":"xyz"},"space":"test"}})");
}

TEST(MemoryPartition, D6_AddedBotAdoptsMasksOfEarlierMaskUpdate) {
  Harness h("test");
  EXPECT_THAT(
      h.Apply({Update("test", R"({"masks":{"test":{"test":"mask"}}})"),
               Add(R"({"id":"test","tags":{"abc":"def"}})")}),
      ElementsAre(
          R"(added [{"id":"test","tags":{"abc":"def"},"space":"test","masks":{"test":{"test":"mask"}}}])",
          R"(state {"addedBots":["test"],"removedBots":[],"updatedBots":[],"state":{"test":{"id":"test","tags":{"abc":"def"},"space":"test","masks":{"test":{"test":"mask"}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(
      h.State(),
      R"({"test":{"id":"test","tags":{"abc":"def"},"space":"test","masks":{"test":{"test":"mask"}}}})");
}

TEST(MemoryPartition, D7_AddsEachDataType) {
  for (const DataTypeCase& c : DataTypeCases()) {
    SCOPED_TRACE(c.name);
    Harness h(std::nullopt, /*tagged=*/true);
    const std::string bot =
        R"({"id":"test","tags":{"abc":)" + TaggedJson(c.stored) + "}}";
    EXPECT_THAT(
        h.Apply({BotAdded(
            auxsync::bots::CreateBot("test", MakeObject({{"abc", c.input}})))}),
        ElementsAre(
            "added [" + bot + "]",
            R"(state {"addedBots":["test"],"removedBots":[],"updatedBots":[],"state":{"test":)" +
                bot +
                R"(},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(h.State(), R"({"test":)" + bot + "}");
  }
}

// ===========================================================================
// D. remove_bot

TEST(MemoryPartition, D8_RemovesBot) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  EXPECT_THAT(
      h.Apply({Remove("test")}),
      ElementsAre(
          R"(removed ["test"])",
          R"(state {"addedBots":[],"removedBots":["test"],"updatedBots":[],"state":{"test":null},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), "{}");
}

TEST(MemoryPartition, D9_RemovesTwoBotsInOneBatch) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})"),
           Add(R"({"id":"test2","tags":{"abc":"xyz"}})")});
  EXPECT_THAT(
      h.Apply({Remove("test2"), Remove("test")}),
      ElementsAre(
          R"(removed ["test2","test"])",
          R"(state {"addedBots":[],"removedBots":["test2","test"],"updatedBots":[],"state":{"test2":null,"test":null},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), "{}");
}

TEST(MemoryPartition, D10_AddAndRemoveInOneBatchEmitsNoBotEvents) {
  Harness h;
  // No onBotsAdded / onBotsUpdated / onBotsRemoved; the state event is N7.
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})"), Remove("test")}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":["test"],"updatedBots":[],"state":{"test":null},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), "{}");
}

// ===========================================================================
// D. update_bot

TEST(MemoryPartition, D11_UpdatesTag) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  EXPECT_THAT(
      h.Apply({Update("test", R"({"tags":{"abc":"ghi"}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"ghi"}},"tags":["abc"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":"ghi"}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"ghi"}}})");
}

TEST(MemoryPartition, D12_UpdatesTwoBotsInOneBatch) {
  Harness h;
  h.Apply({Add(R"({"id":"test1","tags":{"abc":"def"}})"),
           Add(R"({"id":"test2","tags":{"number":123}})")});
  EXPECT_THAT(
      h.Apply({Update("test1", R"({"tags":{"abc":"ghi"}})"),
               Update("test2", R"({"tags":{"number":456}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test1","tags":{"abc":"ghi"}},"tags":["abc"]},{"bot":{"id":"test2","tags":{"number":456}},"tags":["number"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test1","test2"],"state":{"test1":{"tags":{"abc":"ghi"}},"test2":{"tags":{"number":456}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

TEST(MemoryPartition, D13_ReportsAddedTag) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  EXPECT_THAT(
      h.Apply({Update("test", R"({"tags":{"hahaha":true}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"def","hahaha":true}},"tags":["hahaha"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"hahaha":true}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

TEST(MemoryPartition, D14_ReportsRemovedTag) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def","example":123}})")});
  EXPECT_THAT(
      h.Apply({Update("test", R"({"tags":{"example":null}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"def"}},"tags":["example"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"example":null}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"def"}}})");
}

TEST(MemoryPartition, D15_EmptyUpdateEmitsNothing) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def","example":123}})")});
  EXPECT_THAT(h.Apply({Update("test", "{}")}), IsEmpty());
  EXPECT_EQ(h.State(),
            R"({"test":{"id":"test","tags":{"abc":"def","example":123}}})");
}

TEST(MemoryPartition, D16_AddThenNoOpUpdateInOneBatchEmitsOneStateEvent) {
  Harness h;
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"test","tags":{"abc":"def","example":123}})"),
               Update("test", R"({"tags":{"example":123}})")}),
      ElementsAre(
          R"(added [{"id":"test","tags":{"abc":"def","example":123}}])",
          R"(state {"addedBots":["test"],"removedBots":[],"updatedBots":[],"state":{"test":{"id":"test","tags":{"abc":"def","example":123}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

TEST(MemoryPartition, D17_SettingCurrentValueEmitsNothing) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def","example":123}})")});
  EXPECT_THAT(h.Apply({Update("test", R"({"tags":{"abc":"def"}})")}),
              IsEmpty());
}

TEST(MemoryPartition, D18_DeletingMissingTagEmitsNothing) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  EXPECT_THAT(h.Apply({Update("test", R"({"tags":{"missing":null}})")}),
              IsEmpty());
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"def"}}})");
}

TEST(MemoryPartition, D19_SameArrayInstanceCountsAsChanged) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"array":[1,2,3]}})")});
  // The very array object stored in the partition.
  Value stored = h.partition.state()["test"]["tags"]["array"];
  ASSERT_TRUE(stored.is_array());
  EXPECT_THAT(
      h.Apply({UpdateTag("test", "array", stored)}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"array":[1,2,3]}},"tags":["array"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"array":[1,2,3]}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

TEST(MemoryPartition, D20_ReportsOnlyChangedTags) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def","example":123}})")});
  EXPECT_THAT(
      h.Apply({Update("test", R"({"tags":{"abc":"def","example":456}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"def","example":456}},"tags":["example"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":"def","example":456}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

TEST(MemoryPartition, D21_MergesTwoUpdatesOfOneBot) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def","example":123}})")});
  EXPECT_THAT(
      h.Apply({Update("test", R"({"tags":{"abc":"rgb"}})"),
               Update("test", R"({"tags":{"example":456}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"rgb","example":456}},"tags":["abc","example"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":"rgb","example":456}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

TEST(MemoryPartition, D22_UpdateOfMissingBotEmitsNothing) {
  Harness h;
  EXPECT_THAT(h.Apply({Update("test", R"({"tags":{"abc":"def"}})")}),
              IsEmpty());
  EXPECT_EQ(h.State(), "{}");
}

TEST(MemoryPartition, D23_ValuesWithoutValueDeleteTag) {
  const std::vector<std::pair<std::string, Value>> cases = {
      {"null", Value(nullptr)}, {"undefined", Value()}, {"empty", Value("")}};
  for (const auto& [name, value] : cases) {
    SCOPED_TRACE(name);
    Harness h;
    h.Apply({Add(R"({"id":"test","tags":{"abc":"def","example":123}})")});
    EXPECT_THAT(
        h.Apply({UpdateTag("test", "example", value)}),
        ElementsAre(
            R"(updated [{"bot":{"id":"test","tags":{"abc":"def"}},"tags":["example"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"example":null}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"def"}}})");
  }
}

TEST(MemoryPartition, D24_FalsyValuesWithValueKeepTag) {
  const std::vector<std::pair<Value, std::string>> cases = {
      {Value(0), "0"}, {Value(false), "false"}, {Value(" "), R"(" ")"}};
  for (const auto& [value, json] : cases) {
    SCOPED_TRACE(json);
    Harness h;
    h.Apply({Add(R"({"id":"test","tags":{"abc":"def","example":123}})")});
    EXPECT_THAT(
        h.Apply({UpdateTag("test", "example", value)}),
        ElementsAre(
            R"(updated [{"bot":{"id":"test","tags":{"abc":"def","example":)" +
                json + R"(}},"tags":["example"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"example":)" +
                json +
                R"(}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(h.State(),
              R"({"test":{"id":"test","tags":{"abc":"def","example":)" + json +
                  "}}}");
  }
}

TEST(MemoryPartition, D25_UpdatesToEachDataType) {
  for (const DataTypeCase& c : DataTypeCases()) {
    SCOPED_TRACE(c.name);
    Harness h(std::nullopt, /*tagged=*/true);
    h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
    const std::string stored = TaggedJson(c.stored);
    EXPECT_THAT(
        h.Apply({UpdateTag("test", "abc", c.input)}),
        ElementsAre(
            R"(updated [{"bot":{"id":"test","tags":{"abc":)" + stored +
                R"(}},"tags":["abc"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":)" +
                stored +
                R"(}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(h.State(),
              R"({"test":{"id":"test","tags":{"abc":)" + stored + "}}}");
  }
}

// ===========================================================================
// D. tag edits

TEST(MemoryPartition, D26_EditInsertsText) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  Value base = h.partition.version().vector.Clone();
  EXPECT_THAT(
      h.Apply({UpdateTag("test", "abc", Edit(base, {Insert("ghi")}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"ghidef"}},"tags":["abc"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"insert","text":"ghi"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"ghidef"}}})");
  // The emitted edit carries V'.vector, and V'.vector is not empty.
  ASSERT_EQ(h.recorder->states.size(), 1u);
  EXPECT_EQ(
      JsonOf(h.recorder->states[0].state["test"]["tags"]["abc"]["version"]),
      JsonOf(h.partition.version().vector));
  EXPECT_FALSE(h.partition.version().vector.as_object().empty());
}

TEST(MemoryPartition, D27_EditDeletesText) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  EXPECT_THAT(
      h.Apply({UpdateTag("test", "abc", Edit(Vec(), {Del(2)}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"f"}},"tags":["abc"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"delete","count":2}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"f"}}})");
}

TEST(MemoryPartition, D28_EditWithTwoDeleteSequences) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"abcdefghijklmnop"}})")});
  EXPECT_THAT(
      h.Apply({UpdateTag("test", "abc",
                         Edits(Vec(), {MakeArray({Preserve(3), Del(3)}),
                                       MakeArray({Preserve(6), Del(3)})}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"abcghimnop"}},"tags":["abc"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"preserve","count":3},{"type":"delete","count":3}],[{"type":"preserve","count":6},{"type":"delete","count":3}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"abcghimnop"}}})");
}

TEST(MemoryPartition, D29_EditWithTwoInsertSequences) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"abcdef"}})")});
  EXPECT_THAT(
      h.Apply(
          {UpdateTag("test", "abc",
                     Edits(Vec(), {MakeArray({Preserve(3), Insert("123")}),
                                   MakeArray({Preserve(9), Insert("456")})}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"abc123def456"}},"tags":["abc"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"preserve","count":3},{"type":"insert","text":"123"}],[{"type":"preserve","count":9},{"type":"insert","text":"456"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(),
            R"({"test":{"id":"test","tags":{"abc":"abc123def456"}}})");
}

TEST(MemoryPartition, D30_EditDeletingAllTextRemovesTag) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"abcdef"}})")});
  EXPECT_THAT(
      h.Apply({UpdateTag("test", "abc", Edits(Vec(), {MakeArray({Del(6)})}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{}},"tags":["abc"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"delete","count":6}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{}}})");
}

TEST(MemoryPartition, D31_EditsNonStringValues) {
  const std::vector<std::pair<Value, std::string>> cases = {
      {Value(123), R"("1abc23")"},
      {Value(true), R"("tabcrue")"},
      {MakeObject({{"prop", "yes"}}), R"("{abc\"prop\":\"yes\"}")"},
  };
  for (const auto& [initial, expected] : cases) {
    SCOPED_TRACE(expected);
    Harness h;
    h.Apply({BotAdded(
        auxsync::bots::CreateBot("test", MakeObject({{"abc", initial}})))});
    EXPECT_THAT(
        h.Apply({UpdateTag("test", "abc",
                           Edit(Vec(), {Preserve(1), Insert("abc")}))}),
        ElementsAre(
            R"(updated [{"bot":{"id":"test","tags":{"abc":)" + expected +
                R"(}},"tags":["abc"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"preserve","count":1},{"type":"insert","text":"abc"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
            R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
    EXPECT_EQ(h.State(),
              R"({"test":{"id":"test","tags":{"abc":)" + expected + "}}}");
  }
}

TEST(MemoryPartition, D32_RemoteEditUsesRemoteSite) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  EXPECT_THAT(
      h.Apply({UpdateTag("test", "abc", RemoteEdit(Vec(), {Insert("ghi")}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"ghidef"}},"tags":["abc"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":{"\u0011tag_edit":true,"version":{"R":1},"operations":[[{"type":"insert","text":"ghi"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"R":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"R":1}})"));
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"ghidef"}}})");
  ASSERT_EQ(h.recorder->states.size(), 1u);
  const Value& version =
      h.recorder->states[0].state["test"]["tags"]["abc"]["version"];
  EXPECT_THAT(version.as_object().Keys(), ElementsAre("R"));  // not "L"
  EXPECT_TRUE(version["R"].is_number());
}

TEST(MemoryPartition, D33_TwoEditsInOneBatchAreReportedTogether) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  Value base = h.partition.version().vector.Clone();
  EXPECT_THAT(
      h.Apply({UpdateTag("test", "abc",
                         Edit(base.Clone(), {Preserve(2), Insert("123")})),
               UpdateTag("test", "abc",
                         Edit(base.Clone(), {Preserve(3), Insert("ghi")}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"de1ghi23f"}},"tags":["abc"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":{"\u0011tag_edit":true,"version":{"L":2},"operations":[[{"type":"preserve","count":2},{"type":"insert","text":"123"}],[{"type":"preserve","count":3},{"type":"insert","text":"ghi"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":2}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":2}})"));
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"de1ghi23f"}}})");
  ASSERT_EQ(h.recorder->states.size(), 1u);
  const Value& emitted = h.recorder->states[0].state["test"]["tags"]["abc"];
  const Value text("Lorem ipsum dolor sit amet.");
  EXPECT_EQ(auxsync::bots::ApplyEdit(text, emitted),
            auxsync::bots::ApplyEdit(
                text, Edit(Vec(), {Preserve(2), Insert("1ghi23")})));
}

TEST(MemoryPartition, D34_PlainValueAndEditInOneUpdate) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def","testTag":0}})")});
  EXPECT_THAT(
      h.Apply({BotUpdated(
          "test",
          MakeObject(
              {{"tags",
                MakeObject(
                    {{"testTag", 123},
                     {"abc", Edit(Vec(), {Preserve(2), Insert("ghi")})}})}}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"deghif","testTag":123}},"tags":["testTag","abc"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"testTag":123,"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"preserve","count":2},{"type":"insert","text":"ghi"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(),
            R"({"test":{"id":"test","tags":{"abc":"deghif","testTag":123}}})");
}

// ===========================================================================
// D. tag masks (space "testSpace")

TEST(MemoryPartition, D35_MaskUpdateForMissingBotCreatesMaskEntry) {
  Harness h("testSpace");
  EXPECT_THAT(
      h.Apply({Update("test",
                      R"({"masks":{"testSpace":{"newTag":true,"abc":123}}})")}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"masks":{"testSpace":{"newTag":true,"abc":123}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(),
            R"({"test":{"masks":{"testSpace":{"newTag":true,"abc":123}}}})");
}

TEST(MemoryPartition, D36_MaskUpdatesForTwoBotsInOneBatch) {
  Harness h("testSpace");
  EXPECT_THAT(
      h.Apply({Update("test1", R"({"masks":{"testSpace":{"newTag":true}}})"),
               Update("test2", R"({"masks":{"testSpace":{"abc":123}}})")}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test1","test2"],"state":{"test1":{"masks":{"testSpace":{"newTag":true}}},"test2":{"masks":{"testSpace":{"abc":123}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(
      h.State(),
      R"({"test1":{"masks":{"testSpace":{"newTag":true}}},"test2":{"masks":{"testSpace":{"abc":123}}}})");
}

TEST(MemoryPartition, D37_MaskUpdateForOtherSpaceIsIgnored) {
  Harness h("testSpace");
  EXPECT_THAT(
      h.Apply({Update("test",
                      R"({"masks":{"different":{"newTag":true,"abc":123}}})")}),
      IsEmpty());
  EXPECT_EQ(h.State(), "{}");
}

TEST(MemoryPartition, D38_MaskUpdateOnExistingBot) {
  Harness h("testSpace");
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  EXPECT_THAT(
      h.Apply({Update("test",
                      R"({"masks":{"testSpace":{"newTag":true,"abc":123}}})")}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"masks":{"testSpace":{"newTag":true,"abc":123}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(
      h.State(),
      R"({"test":{"id":"test","tags":{"abc":"def"},"space":"testSpace","masks":{"testSpace":{"newTag":true,"abc":123}}}})");
}

TEST(MemoryPartition, D39_EmptyTagsWithMaskUpdateHasNoTagsKey) {
  Harness h("testSpace");
  EXPECT_THAT(
      h.Apply({Update("test",
                      R"({"tags":{},"masks":{"testSpace":{"newTag":true}}})")}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"masks":{"testSpace":{"newTag":true}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"test":{"masks":{"testSpace":{"newTag":true}}}})");
}

TEST(MemoryPartition, D40_MaskUpdatesToEachDataType) {
  for (const DataTypeCase& c : DataTypeCases()) {
    SCOPED_TRACE(c.name);
    Harness h("testSpace", /*tagged=*/true);
    const std::string stored = TaggedJson(c.stored);
    EXPECT_THAT(
        h.Apply({BotUpdated(
            "test",
            MakeObject(
                {{"masks", MakeObject({{"testSpace",
                                        MakeObject({{"newTag", true},
                                                    {"abc", c.input}})}})}}))}),
        ElementsAre(
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"masks":{"testSpace":{"newTag":true,"abc":)" +
            stored +
            R"(}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(h.State(),
              R"({"test":{"masks":{"testSpace":{"newTag":true,"abc":)" +
                  stored + "}}}}");
  }
}

TEST(MemoryPartition, D41_MaskEditInsertsText) {
  Harness h("testSpace");
  h.Apply({Update("test", R"({"masks":{"testSpace":{"abc":"def"}}})")});
  EXPECT_THAT(
      h.Apply({UpdateMask(
          "test", "testSpace", "abc",
          Edit(h.partition.version().vector.Clone(), {Insert("ghi")}))}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"masks":{"testSpace":{"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"insert","text":"ghi"}]]}}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(), R"({"test":{"masks":{"testSpace":{"abc":"ghidef"}}}})");
}

TEST(MemoryPartition, D42_MaskEditDeletesText) {
  Harness h("testSpace");
  h.Apply({Update("test", R"({"masks":{"testSpace":{"abc":"def"}}})")});
  EXPECT_THAT(
      h.Apply({UpdateMask("test", "testSpace", "abc", Edit(Vec(), {Del(2)}))}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"masks":{"testSpace":{"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"delete","count":2}]]}}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(), R"({"test":{"masks":{"testSpace":{"abc":"f"}}}})");
}

TEST(MemoryPartition, D43_MaskEditDeletingAllTextLeavesEmptyEntry) {
  Harness h("testSpace");
  h.Apply({Update("test", R"({"masks":{"testSpace":{"abc":"value"}}})")});
  EXPECT_THAT(
      h.Apply({UpdateMask("test", "testSpace", "abc",
                          Edits(Vec(), {MakeArray({Del(5)})}))}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"masks":{"testSpace":{"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"delete","count":5}]]}}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(), R"({"test":{}})");
}

TEST(MemoryPartition, D44_TwoMaskEditsInOneBatchAreReportedTogether) {
  Harness h("testSpace");
  h.Apply({Update("test", R"({"masks":{"testSpace":{"abc":"def"}}})")});
  EXPECT_THAT(
      h.Apply({UpdateMask("test", "testSpace", "abc",
                          Edit(Vec(), {Preserve(2), Insert("123")})),
               UpdateMask("test", "testSpace", "abc",
                          Edit(Vec(), {Preserve(3), Insert("ghi")}))}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"masks":{"testSpace":{"abc":{"\u0011tag_edit":true,"version":{"L":2},"operations":[[{"type":"preserve","count":2},{"type":"insert","text":"123"}],[{"type":"preserve","count":3},{"type":"insert","text":"ghi"}]]}}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":2}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":2}})"));
  EXPECT_EQ(h.State(),
            R"({"test":{"masks":{"testSpace":{"abc":"de1ghi23f"}}}})");
  ASSERT_EQ(h.recorder->states.size(), 1u);
  const Value& emitted =
      h.recorder->states[0].state["test"]["masks"]["testSpace"]["abc"];
  const Value text("Lorem ipsum dolor sit amet.");
  EXPECT_EQ(auxsync::bots::ApplyEdit(text, emitted),
            auxsync::bots::ApplyEdit(
                text, Edit(Vec(), {Preserve(2), Insert("1ghi23")})));
}

TEST(MemoryPartition, D45_PlainMaskAndMaskEditInOneUpdate) {
  Harness h("testSpace");
  h.Apply(
      {Update("test", R"({"masks":{"testSpace":{"abc":"def","testTag":0}}})")});
  EXPECT_THAT(
      h.Apply({BotUpdated(
          "test",
          MakeObject(
              {{"masks",
                MakeObject(
                    {{"testSpace",
                      MakeObject(
                          {{"testTag", 123},
                           {"abc", Edit(Vec(), {Preserve(2),
                                                Insert("ghi")})}})}})}}))}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"masks":{"testSpace":{"testTag":123,"abc":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"preserve","count":2},{"type":"insert","text":"ghi"}]]}}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(
      h.State(),
      R"({"test":{"masks":{"testSpace":{"abc":"deghif","testTag":123}}}})");
}

// ===========================================================================
// D. apply_state, state access, connect

TEST(MemoryPartition, D46_ApplyStateAddsBot) {
  Harness h;
  EXPECT_THAT(
      h.Apply({AddState(J(R"({"test":{"id":"test","tags":{"abc":"def"}}})"))}),
      ElementsAre(
          R"(added [{"id":"test","tags":{"abc":"def"}}])",
          R"(state {"addedBots":["test"],"removedBots":[],"updatedBots":[],"state":{"test":{"id":"test","tags":{"abc":"def"}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"test":{"id":"test","tags":{"abc":"def"}}})");
}

TEST(MemoryPartition, D47_ApplyStateUpdatesBot) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  EXPECT_THAT(
      h.Apply({AddState(J(R"({"test":{"tags":{"abc":"ghi"}}})"))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"test","tags":{"abc":"ghi"}},"tags":["abc"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["test"],"state":{"test":{"tags":{"abc":"ghi"}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

TEST(MemoryPartition, D48_ApplyStateRemovesBot) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})")});
  EXPECT_THAT(
      h.Apply({AddState(J(R"({"test":null})"))}),
      ElementsAre(
          R"(removed ["test"])",
          R"(state {"addedBots":[],"removedBots":["test"],"updatedBots":[],"state":{"test":null},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), "{}");
}

TEST(MemoryPartition, D49_StateHoldsAddedBots) {
  Harness h;
  h.Apply({Add(R"({"id":"test","tags":{"abc":"def"}})"),
           Add(R"({"id":"test2","tags":{"abc":"xyz"}})")});
  EXPECT_TRUE(auxsync::bots::DeepEquals(
      StripUndefined(h.partition.state().Clone()),
      J(R"({"test":{"id":"test","tags":{"abc":"def"}},"test2":{"id":"test2","tags":{"abc":"xyz"}}})")));
}

TEST(MemoryPartition, D50_ConnectReportsStatusesInOrder) {
  Harness h;
  h.partition.Connect();
  ASSERT_GE(h.recorder->statuses.size(), 4u);
  std::vector<std::string> first4;
  for (size_t i = 0; i < 4; ++i) {
    first4.push_back(JsonOf(h.recorder->statuses[i]));
  }
  EXPECT_THAT(first4,
              ElementsAre(R"({"type":"connection","connected":true})",
                          R"({"type":"authentication","authenticated":true})",
                          R"({"type":"authorization","authorized":true})",
                          R"({"type":"sync","synced":true})"));
  // connect() emits no bot events.
  EXPECT_THAT(h.recorder->Take(), IsEmpty());
}

// ===========================================================================
// E. MemoryPartition

TEST(MemoryPartition, E1_InitialStateReplayedWithoutConnect) {
  absl::StatusOr<std::unique_ptr<MemoryPartition>> created =
      auxsync::partitions::CreateMemoryPartition(J(
          R"({"type":"memory","initialState":{"test":{"id":"test","tags":{}},"test2":{"id":"test2","tags":{}}}})"));
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_NE(*created, nullptr);
  std::vector<std::string> got;
  auxsync::rx::Subscription sub =
      (*created)->OnBotsAdded([&](const std::vector<Value>& bots) {
        got.push_back(JsonOf(ArrayOf(bots)));
      });
  EXPECT_THAT(
      got,
      ElementsAre(R"([{"id":"test","tags":{}},{"id":"test2","tags":{}}])"));
}

TEST(MemoryPartition, E2_RealtimeStrategyIsImmediate) {
  MemoryPartition partition(LrConfig());
  EXPECT_EQ(partition.realtime_strategy(), RealtimeStrategy::kImmediate);
  EXPECT_EQ(
      auxsync::partitions::RealtimeStrategyName(partition.realtime_strategy()),
      "immediate");
}

TEST(MemoryPartition, E3_FirstVersionHasCurrentSite) {
  MemoryPartition partition{MemoryPartitionConfig{}};
  std::vector<CurrentVersion> got;
  auxsync::rx::Subscription sub = partition.OnVersionUpdated(
      [&](const CurrentVersion& v) { got.push_back(v); });
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(got[0].current_site.has_value());
  EXPECT_FALSE(got[0].current_site->empty());
}

TEST(MemoryPartition, E4_ConnectSetsSpaceOnInitialBots) {
  absl::StatusOr<std::unique_ptr<MemoryPartition>> created =
      auxsync::partitions::CreateMemoryPartition(J(
          R"({"type":"memory","initialState":{"test":{"id":"test","tags":{}},"test2":{"id":"test2","tags":{}}}})"));
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_NE(*created, nullptr);
  MemoryPartition& partition = **created;
  partition.set_space("tempLocal");
  partition.Connect();
  std::vector<std::string> got;
  auxsync::rx::Subscription sub =
      partition.OnBotsAdded([&](const std::vector<Value>& bots) {
        got.push_back(JsonOf(ArrayOf(bots)));
      });
  EXPECT_THAT(
      got,
      ElementsAre(
          R"([{"id":"test","tags":{},"space":"tempLocal"},{"id":"test2","tags":{},"space":"tempLocal"}])"));
}

TEST(MemoryPartition, E6_ConfiguredSiteIds) {
  MemoryPartition partition(LrConfig());
  std::vector<std::string> got;
  auxsync::rx::Subscription sub = partition.OnVersionUpdated(
      [&](const CurrentVersion& v) { got.push_back(JsonOf(v.ToValue())); });
  EXPECT_THAT(got, ElementsAre(std::string(kV0)));
}

// ===========================================================================
// N. Further observed behaviours

TEST(MemoryPartition, N1_AddedBotsListsIntegerKeysFirst) {
  Harness h;
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"zz","tags":{}})"), Add(R"({"id":"10","tags":{}})"),
               Add(R"({"id":"2","tags":{}})")}),
      ElementsAre(
          // onBotsAdded: first-add order.
          R"(added [{"id":"zz","tags":{}},{"id":"10","tags":{}},{"id":"2","tags":{}}])",
          // The partial state and addedBots: array-index keys first.
          R"(state {"addedBots":["2","10","zz"],"removedBots":[],"updatedBots":[],"state":{"2":{"id":"2","tags":{}},"10":{"id":"10","tags":{}},"zz":{"id":"zz","tags":{}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(
      h.State(),
      R"({"2":{"id":"2","tags":{}},"10":{"id":"10","tags":{}},"zz":{"id":"zz","tags":{}}})");
  ASSERT_EQ(h.recorder->states.size(), 1u);
  EXPECT_THAT(h.recorder->states[0].added_bots, ElementsAre("2", "10", "zz"));
}

TEST(MemoryPartition, N3_ApplyStateWithFullBotIsClassifiedAsAdded) {
  Harness h;
  h.Apply({Add(R"({"id":"b","tags":{"a":1,"c":3}})")});
  EXPECT_THAT(
      h.Apply({AddState(J(R"({"b":{"id":"b","tags":{"a":2}}})"))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"b","tags":{"a":2,"c":3}},"tags":["a"]}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":2}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"a":2,"c":3}}})");
}

TEST(MemoryPartition, N4_ApplyStatePartialForMissingBotStoredUnderUndefined) {
  Harness h;
  EXPECT_THAT(
      h.Apply({AddState(J(R"({"x":{"tags":{"a":1}}})"))}),
      ElementsAre(
          R"(added [{"tags":{"a":1}}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["undefined"],"state":{"undefined":{"tags":{"a":1}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"undefined":{"tags":{"a":1}}})");
}

TEST(MemoryPartition, N5_AddKeepsTagsWithoutValue) {
  Harness h;
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"b","tags":{"a":"","n":null}})")}),
      ElementsAre(
          R"(added [{"id":"b","tags":{"a":"","n":null}}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":"","n":null}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"a":"","n":null}}})");
}

TEST(MemoryPartition, N6_RemovingUnknownBotIsReported) {
  Harness h;
  EXPECT_THAT(
      h.Apply({Remove("ghost")}),
      ElementsAre(
          R"(removed ["ghost"])",
          R"(state {"addedBots":[],"removedBots":["ghost"],"updatedBots":[],"state":{"ghost":null},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), "{}");
}

TEST(MemoryPartition, N7_AddAndRemoveInOneBatchEmitsRemovalStateEvent) {
  Harness h;
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"b","tags":{"a":1}})"), Remove("b")}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":["b"],"updatedBots":[],"state":{"b":null},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), "{}");
}

TEST(MemoryPartition, N8_SecondAddLeavesStaleUpdatedBot) {
  Harness h;
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"b","tags":{}})"),
               Update("b", R"({"tags":{"a":"x"}})"),
               Add(R"({"id":"b","tags":{"c":1}})")}),
      ElementsAre(
          R"(added [{"id":"b","tags":{"c":1}}])",
          R"(updated [{"bot":{"id":"b","tags":{"a":"x"}},"tags":["a"]}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"c":1}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"c":1}}})");
}

TEST(MemoryPartition, N9_EditsInOneBatchShareOneCounter) {
  Harness h;
  h.Apply({Add(R"({"id":"b","tags":{"a":"1","b":"2","c":"3"}})")});
  EXPECT_THAT(
      h.Apply({UpdateTag("b", "a", Edit(Vec(), {Insert("x")})),
               UpdateTag("b", "b", Edit(Vec(), {Insert("y")})),
               UpdateTag("b", "c", Edit(Vec(), {Insert("z")}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"b","tags":{"a":"x1","b":"y2","c":"z3"}},"tags":["a","b","c"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"insert","text":"x"}]]},"b":{"\u0011tag_edit":true,"version":{"L":2},"operations":[[{"type":"insert","text":"y"}]]},"c":{"\u0011tag_edit":true,"version":{"L":3},"operations":[[{"type":"insert","text":"z"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":3}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":3}})"));
}

TEST(MemoryPartition, N10_RemoteThenLocalEditVersions) {
  Harness h;
  h.Apply({Add(R"({"id":"b","tags":{"a":"abc"}})")});
  EXPECT_THAT(
      h.Apply({UpdateTag("b", "a", RemoteEdit(Vec(), {Insert("x")}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"b","tags":{"a":"xabc"}},"tags":["a"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":{"\u0011tag_edit":true,"version":{"R":1},"operations":[[{"type":"insert","text":"x"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"R":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"R":1}})"));
  EXPECT_THAT(
      h.Apply({UpdateTag("b", "a", Edit(Vec(), {Insert("y")}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"b","tags":{"a":"yxabc"}},"tags":["a"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":{"\u0011tag_edit":true,"version":{"R":1,"L":2},"operations":[[{"type":"insert","text":"y"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"R":1,"L":2}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"R":1,"L":2}})"));
}

TEST(MemoryPartition, N11_EditsOnNumbersMissingTagsAndPastTheEnd) {
  Harness h;
  h.Apply({Add(R"({"id":"b","tags":{"n":123,"s":"abc"}})")});
  EXPECT_THAT(
      h.Apply({BotUpdated(
          "b", MakeObject(
                   {{"tags",
                     MakeObject({{"n", Edit(Vec(), {Preserve(1), Insert("x")})},
                                 {"missing", Edit(Vec(), {Insert("new")})},
                                 {"s", Edit(Vec(), {Preserve(10),
                                                    Insert("Z")})}})}}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"b","tags":{"n":"1x23","s":"abcZ","missing":"new"}},"tags":["n","missing","s"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"n":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"preserve","count":1},{"type":"insert","text":"x"}]]},"missing":{"\u0011tag_edit":true,"version":{"L":2},"operations":[[{"type":"insert","text":"new"}]]},"s":{"\u0011tag_edit":true,"version":{"L":3},"operations":[[{"type":"preserve","count":10},{"type":"insert","text":"Z"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":3}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":3}})"));
  EXPECT_EQ(
      h.State(),
      R"({"b":{"id":"b","tags":{"n":"1x23","s":"abcZ","missing":"new"}}})");
}

TEST(MemoryPartition, N12_EditOfMissingBotEmitsNothing) {
  Harness h;
  EXPECT_THAT(h.Apply({UpdateTag("nobot", "a", Edit(Vec(), {Insert("x")}))}),
              IsEmpty());
  EXPECT_EQ(h.State(), "{}");
  EXPECT_EQ(h.Version(), kV0);
}

TEST(MemoryPartition, N13_PlainValueBetweenEditsBreaksCoalescing) {
  Harness h;
  h.Apply({Add(R"({"id":"b","tags":{"a":"def"}})")});
  EXPECT_THAT(
      h.Apply({UpdateTag("b", "a", Edit(Vec(), {Preserve(2), Insert("123")})),
               UpdateTag("b", "a", "plain"),
               UpdateTag("b", "a", Edit(Vec(), {Preserve(3), Insert("ghi")}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"b","tags":{"a":"plaghiin"}},"tags":["a"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":{"\u0011tag_edit":true,"version":{"L":2},"operations":[[{"type":"preserve","count":3},{"type":"insert","text":"ghi"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":2}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":2}})"));
  EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"a":"plaghiin"}}})");
}

TEST(MemoryPartition, N14_EqualObjectCountsAsChanged) {
  Harness h;
  h.Apply({Add(R"({"id":"b","tags":{"o":{"x":1}}})")});
  EXPECT_THAT(
      h.Apply({Update("b", R"({"tags":{"o":{"x":1}}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"b","tags":{"o":{"x":1}}},"tags":["o"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"o":{"x":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

TEST(MemoryPartition, N15_MaskSetToCurrentValueStillEmits) {
  Harness h("sp");
  h.Apply({Update("b", R"({"masks":{"sp":{"m":1}}})")});
  EXPECT_THAT(
      h.Apply({Update("b", R"({"masks":{"sp":{"m":1}}})")}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"sp":{"m":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"masks":{"sp":{"m":1}}}})");
}

TEST(MemoryPartition, N16_DeletingMissingMaskEmitsNullAndLeavesEmptyEntry) {
  Harness h("sp");
  EXPECT_THAT(
      h.Apply({Update("b", R"({"masks":{"sp":{"m":null}}})")}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"sp":{"m":null}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{}})");
}

TEST(MemoryPartition, N17_MaskEditOnMissingMask) {
  Harness h("sp");
  EXPECT_THAT(
      h.Apply({UpdateMask("b", "sp", "m", Edit(Vec(), {Insert("hi")}))}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"sp":{"m":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"insert","text":"hi"}]]}}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(), R"({"b":{"masks":{"sp":{"m":"hi"}}}})");
}

TEST(MemoryPartition, N18_MaskOnlyEntryIsReplayedAsBot) {
  Harness h("sp");
  h.Apply({Update("b", R"({"masks":{"sp":{"m":1}}})")});
  std::vector<std::string> added;
  auxsync::rx::Subscription sub1 =
      h.partition.OnBotsAdded([&](const std::vector<Value>& bots) {
        added.push_back(JsonOf(ArrayOf(bots)));
      });
  EXPECT_THAT(added, ElementsAre(R"([{"masks":{"sp":{"m":1}}}])"));
  std::vector<std::string> states;
  auxsync::rx::Subscription sub2 =
      h.partition.OnStateUpdated([&](const StateUpdatedEvent& e) {
        states.push_back(JsonOf(e.ToValue()));
      });
  EXPECT_THAT(
      states,
      ElementsAre(
          R"({"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"sp":{"m":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

TEST(MemoryPartition, N19_MaskUpdateThenNoOpTagUpdateEmitsNothing) {
  {
    Harness h("sp");
    h.Apply({Add(R"({"id":"b","tags":{"a":1}})")});
    EXPECT_THAT(h.Apply({Update("b", R"({"masks":{"sp":{"m":1}}})"),
                         Update("b", R"({"tags":{"a":1}})")}),
                IsEmpty());
    EXPECT_EQ(
        h.State(),
        R"({"b":{"id":"b","tags":{"a":1},"space":"sp","masks":{"sp":{"m":1}}}})");
  }
  {
    // Not when the bot was added earlier in the same batch: the state event
    // lists it as added, with the mask (section 7.7).
    Harness h("sp");
    EXPECT_THAT(
        h.Apply({Add(R"({"id":"b","tags":{"a":1}})"),
                 Update("b", R"({"masks":{"sp":{"m":1}}})"),
                 Update("b", R"({"tags":{"a":1}})")}),
        ElementsAre(
            R"(added [{"id":"b","tags":{"a":1},"space":"sp"}])",
            R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":1},"space":"sp","masks":{"sp":{"m":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  }
}

// Diverges from upstream, see docs/compatibility.md: upstream rejects the
// batch with a TypeError in the mask clean-up and emits nothing; we skip
// the space the bot has no masks for and apply the update.
TEST(MemoryPartition, N20_MaskUpdateNamingAnotherSpaceIsApplied) {
  {
    Harness h("sp");
    h.Apply({Add(R"({"id":"b","tags":{"a":1}})")});
    EXPECT_THAT(
        h.Apply({Update("b", R"({"masks":{"sp":{"m":1},"X":{"x":1}}})")}),
        ElementsAre(
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"sp":{"m":1},"X":{"x":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(
        h.State(),
        R"({"b":{"id":"b","tags":{"a":1},"space":"sp","masks":{"sp":{"m":1}}}})");
  }
  {
    // A bot that already has masks for its own space.
    Harness h("sp");
    h.Apply({Add(R"({"id":"b","tags":{"a":1}})"),
             Update("b", R"({"masks":{"sp":{"x":1}}})")});
    EXPECT_THAT(
        h.Apply({Update("b", R"({"masks":{"sp":{"m":1},"X":{"x":1}}})")}),
        ElementsAre(
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"sp":{"m":1},"X":{"x":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(
        h.State(),
        R"({"b":{"id":"b","tags":{"a":1},"space":"sp","masks":{"sp":{"x":1,"m":1}}}})");
  }
}

// Diverges from upstream, see docs/compatibility.md: upstream rejects the
// batch with a TypeError (with the edit already in `state`) and emits
// nothing; we apply the edit and report it as the only edit of the tag.
TEST(MemoryPartition, N21_TagEditAfterMaskUpdateInOneBatchIsApplied) {
  {
    Harness h("sp");
    h.Apply({Add(R"({"id":"b","tags":{"a":"x"}})")});
    EXPECT_THAT(
        h.Apply({Update("b", R"({"masks":{"sp":{"m":1}}})"),
                 UpdateTag("b", "a", Edit(Vec(), {Insert("y")}))}),
        ElementsAre(
            R"(updated [{"bot":{"id":"b","tags":{"a":"yx"},"space":"sp","masks":{"sp":{"m":1}}},"tags":["a"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"sp":{"m":1}},"tags":{"a":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"insert","text":"y"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
            R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
    EXPECT_EQ(
        h.State(),
        R"({"b":{"id":"b","tags":{"a":"yx"},"space":"sp","masks":{"sp":{"m":1}}}})");
  }
  {
    // One update_bot carrying both the edit and the mask: as upstream.
    Harness h("sp");
    h.Apply({Add(R"({"id":"b","tags":{"a":"x"}})")});
    EXPECT_THAT(
        h.Apply({BotUpdated(
            "b", MakeObject(
                     {{"tags", MakeObject({{"a", Edit(Vec(), {Insert("y")})}})},
                      {"masks", J(R"({"sp":{"m":1}})")}}))}),
        ElementsAre(
            R"(updated [{"bot":{"id":"b","tags":{"a":"yx"},"space":"sp"},"tags":["a"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"insert","text":"y"}]]}},"masks":{"sp":{"m":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
            R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
    EXPECT_EQ(
        h.State(),
        R"({"b":{"id":"b","tags":{"a":"yx"},"space":"sp","masks":{"sp":{"m":1}}}})");
  }
}

TEST(MemoryPartition, N22_EmptyUpdateAfterAddStripsEmptyTags) {
  Harness h;
  EXPECT_THAT(
      h.Apply({BotAdded(auxsync::bots::CreateBot("b")), Update("b", "{}")}),
      ElementsAre(
          R"(added [{"id":"b"}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b"}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"id":"b"}})");
  EXPECT_FALSE(h.partition.state()["b"].as_object().Has("tags"));
}

TEST(MemoryPartition, N23_NoSpaceUsesUndefinedMaskKey) {
  Harness h;
  EXPECT_THAT(
      h.Apply({Update("b", R"({"masks":{"undefined":{"m":1}}})")}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"undefined":{"m":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"masks":{"undefined":{"m":1}}}})");
}

TEST(MemoryPartition, N24_AddKeepsMasksOfAllSpaces) {
  Harness h("sp");
  EXPECT_THAT(
      h.Apply({Add(
          R"({"id":"b","tags":{"a":1},"masks":{"sp":{"m":1},"other":{"o":2}}})")}),
      ElementsAre(
          R"(added [{"id":"b","tags":{"a":1},"masks":{"sp":{"m":1},"other":{"o":2}},"space":"sp"}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":1},"masks":{"sp":{"m":1},"other":{"o":2}},"space":"sp"}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(
      h.State(),
      R"({"b":{"id":"b","tags":{"a":1},"masks":{"sp":{"m":1},"other":{"o":2}},"space":"sp"}})");
}

TEST(MemoryPartition, N52_AddThenUpdateInOneBatchShowsFinalTags) {
  Harness h("sp");
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"b","tags":{"a":1,"c":1}})"),
               Update("b", R"({"tags":{"a":2,"c":null,"d":3}})")}),
      ElementsAre(
          R"(added [{"id":"b","tags":{"a":2,"d":3},"space":"sp"}])",
          R"(updated [{"bot":{"id":"b","tags":{"a":2,"d":3},"space":"sp"},"tags":["a","c","d"]}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":2,"c":null,"d":3},"space":"sp"}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"a":2,"d":3},"space":"sp"}})");
}

TEST(MemoryPartition, N53_AddThenMaskUpdateInOneBatch) {
  {
    // The added bot had no masks object: onBotsAdded shows it without masks.
    Harness h("sp");
    EXPECT_THAT(
        h.Apply({Add(R"({"id":"b","tags":{"a":1}})"),
                 Update("b", R"({"masks":{"sp":{"m":1}}})")}),
        ElementsAre(
            R"(added [{"id":"b","tags":{"a":1},"space":"sp"}])",
            R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":1},"space":"sp","masks":{"sp":{"m":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(
        h.State(),
        R"({"b":{"id":"b","tags":{"a":1},"space":"sp","masks":{"sp":{"m":1}}}})");
  }
  {
    // It had a masks object (for another space): onBotsAdded shows the new
    // mask too (section 7.3, objects shared within a batch).
    Harness h("sp");
    EXPECT_THAT(
        h.Apply({Add(R"({"id":"b","tags":{"a":1},"masks":{"other":{"o":1}}})"),
                 Update("b", R"({"masks":{"sp":{"m":1}}})")}),
        ElementsAre(
            R"(added [{"id":"b","tags":{"a":1},"masks":{"other":{"o":1},"sp":{"m":1}},"space":"sp"}])",
            R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":1},"masks":{"other":{"o":1},"sp":{"m":1}},"space":"sp"}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  }
}

// Diverges from upstream, see docs/compatibility.md: upstream rejects the
// batch with a TypeError and emits nothing; we create the missing tags
// object and apply the tags with the normal events.
TEST(MemoryPartition, N54_TagUpdateForEntryWithoutTagsCreatesTags) {
  {
    // A mask-only entry.
    Harness h("sp");
    h.Apply({Update("b", R"({"masks":{"sp":{"m":1}}})")});
    EXPECT_THAT(
        h.Apply({Update("b", R"({"tags":{"a":1}})")}),
        ElementsAre(
            R"(updated [{"bot":{"masks":{"sp":{"m":1}},"tags":{"a":1}},"tags":["a"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":1}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(h.State(), R"({"b":{"masks":{"sp":{"m":1}},"tags":{"a":1}}})");
  }
  {
    // The {} left after the last mask was deleted.
    Harness h("sp");
    h.Apply({Update("b", R"({"masks":{"sp":{"m":1}}})")});
    h.Apply({Update("b", R"({"masks":{"sp":{"m":null}}})")});
    ASSERT_EQ(h.State(), R"({"b":{}})");
    EXPECT_THAT(
        h.Apply({Update("b", R"({"tags":{"a":1}})")}),
        ElementsAre(
            R"(updated [{"bot":{"tags":{"a":1}},"tags":["a"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":1}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(h.State(), R"({"b":{"tags":{"a":1}}})");
  }
  {
    // A bot whose tags property was stripped (N22).
    Harness h;
    h.Apply({BotAdded(auxsync::bots::CreateBot("b")), Update("b", "{}")});
    ASSERT_EQ(h.State(), R"({"b":{"id":"b"}})");
    EXPECT_THAT(
        h.Apply({Update("b", R"({"tags":{"a":1}})")}),
        ElementsAre(
            R"(updated [{"bot":{"id":"b","tags":{"a":1}},"tags":["a"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":1}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"a":1}}})");
  }
  {
    // An empty update.tags does not throw upstream either and creates no
    // tags object (as upstream).
    Harness h("sp");
    h.Apply({Update("b", R"({"masks":{"sp":{"m":1}}})")});
    EXPECT_THAT(h.Apply({Update("b", R"({"tags":{}})")}), IsEmpty());
    EXPECT_EQ(h.State(), R"({"b":{"masks":{"sp":{"m":1}}}})");
    EXPECT_THAT(
        h.Apply({Update("b", R"({"tags":{},"masks":{"sp":{"n":2}}})")}),
        ElementsAre(
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"sp":{"n":2}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(h.State(), R"({"b":{"masks":{"sp":{"m":1,"n":2}}}})");
  }
  {
    Harness h("sp");
    h.Apply({BotAdded(auxsync::bots::CreateBot("b")), Update("b", "{}")});
    EXPECT_THAT(h.Apply({Update("b", R"({"tags":{}})")}), IsEmpty());
    EXPECT_EQ(h.State(), R"({"b":{"id":"b","space":"sp"}})");
  }
}

TEST(MemoryPartition, N55_DeletingTagTwiceErasesItFromStateEvent) {
  Harness h;
  h.Apply({Add(R"({"id":"b","tags":{"a":1,"c":1}})")});
  EXPECT_THAT(
      h.Apply({Update("b", R"({"tags":{"a":null}})"),
               Update("b", R"({"tags":{"a":null}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"b","tags":{"c":1}},"tags":["a"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"c":1}}})");
}

// ===========================================================================
// Further quirks of section 7.3 that no checklist id names.

// "Objects shared within a batch": an edit after an add in the same batch
// shows in onBotsAdded.
TEST(MemoryPartition, Sec7_3_AddThenEditInOneBatchShowsEditedValue) {
  Harness h("sp");
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"b","tags":{"a":"x"}})"),
               UpdateTag("b", "a", Edit(Vec(), {Insert("y")}))}),
      ElementsAre(
          R"(added [{"id":"b","tags":{"a":"yx"},"space":"sp"}])",
          R"(updated [{"bot":{"id":"b","tags":{"a":"yx"},"space":"sp"},"tags":["a"]}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":{"\u0011tag_edit":true,"version":{"L":1},"operations":[[{"type":"insert","text":"y"}]]}},"space":"sp"}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":1}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":1}})"));
  EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"a":"yx"},"space":"sp"}})");
}

// Part B: two object values for one mask in a batch are deep-merged in the
// event but not in the state.
TEST(MemoryPartition, Sec7_3_ObjectMaskValuesMergeInEventOnly) {
  Harness h("sp");
  EXPECT_THAT(
      h.Apply({Update("b", R"({"masks":{"sp":{"m":{"a":1}}}})"),
               Update("b", R"({"masks":{"sp":{"m":{"b":2}}}})")}),
      ElementsAre(
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"sp":{"m":{"a":1,"b":2}}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"masks":{"sp":{"m":{"b":2}}}}})");
}

// A tag update recorded in onBotsUpdated shares the entry's masks object
// with a later mask update of the same batch: the reported bot shows the
// new mask only when the bot already had a masks object (section 7.3).
TEST(MemoryPartition, Sec7_3_UpdatedBotSharesExistingMasksObject) {
  {
    Harness h("sp");
    h.Apply({Add(R"({"id":"b","tags":{"a":1}})")});
    EXPECT_THAT(
        h.Apply({Update("b", R"({"tags":{"a":2}})"),
                 Update("b", R"({"masks":{"sp":{"m":1}}})")}),
        ElementsAre(
            R"(updated [{"bot":{"id":"b","tags":{"a":2},"space":"sp"},"tags":["a"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":2},"masks":{"sp":{"m":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(
        h.State(),
        R"({"b":{"id":"b","tags":{"a":2},"space":"sp","masks":{"sp":{"m":1}}}})");
  }
  {
    Harness h("sp");
    h.Apply({Add(R"({"id":"b","tags":{"a":1}})"),
             Update("b", R"({"masks":{"sp":{"x":1}}})")});
    EXPECT_THAT(
        h.Apply({Update("b", R"({"tags":{"a":2}})"),
                 Update("b", R"({"masks":{"sp":{"m":1}}})")}),
        ElementsAre(
            R"(updated [{"bot":{"id":"b","tags":{"a":2},"space":"sp","masks":{"sp":{"x":1,"m":1}}},"tags":["a"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":2},"masks":{"sp":{"m":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  }
  {
    // Deleting the last mask empties the shared masks object; only the new
    // entry loses its masks property.
    Harness h("sp");
    h.Apply({Add(R"({"id":"b","tags":{"a":1}})"),
             Update("b", R"({"masks":{"sp":{"x":1}}})")});
    EXPECT_THAT(
        h.Apply({Update("b", R"({"tags":{"a":2}})"),
                 Update("b", R"({"masks":{"sp":{"x":null}}})")}),
        ElementsAre(
            R"(updated [{"bot":{"id":"b","tags":{"a":2},"space":"sp","masks":{}},"tags":["a"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":2},"masks":{"sp":{"x":null}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
    EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"a":2},"space":"sp"}})");
  }
}

// A bot added over a mask-only entry adopts its masks object, so a mask
// update later in the batch shows in onBotsAdded (section 7.3).
TEST(MemoryPartition, Sec7_3_AdoptedMasksShowLaterMaskUpdate) {
  Harness h("sp");
  h.Apply({Update("b", R"({"masks":{"sp":{"m":1}}})")});
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"b","tags":{"a":1}})"),
               Update("b", R"({"masks":{"sp":{"n":2}}})")}),
      ElementsAre(
          R"(added [{"id":"b","tags":{"a":1},"space":"sp","masks":{"sp":{"m":1,"n":2}}}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":1},"space":"sp","masks":{"sp":{"m":1,"n":2}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

// Strict equality (section 16.1): NaN is always changed; -0 === 0 is not a
// change, yet the stored value becomes -0.
TEST(MemoryPartition, Sec16_1_NaNAndNegativeZero) {
  {
    Harness h(std::nullopt, /*tagged=*/true);
    const Value nan(std::numeric_limits<double>::quiet_NaN());
    h.Apply(
        {BotAdded(auxsync::bots::CreateBot("b", MakeObject({{"n", nan}})))});
    EXPECT_THAT(
        h.Apply({UpdateTag("b", "n", nan)}),
        ElementsAre(
            R"(updated [{"bot":{"id":"b","tags":{"n":{"$type":"number","value":"NaN"}}},"tags":["n"]}])",
            R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"n":{"$type":"number","value":"NaN"}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  }
  {
    Harness h(std::nullopt, /*tagged=*/true);
    h.Apply({Add(R"({"id":"b","tags":{"n":0}})")});
    EXPECT_THAT(h.Apply({UpdateTag("b", "n", Value(-0.0))}), IsEmpty());
    EXPECT_EQ(
        h.State(),
        R"({"b":{"id":"b","tags":{"n":{"$type":"number","value":"-0"}}}})");
  }
}

// remove_bot then a mask update in one batch: the removal is reported, but
// the state event classifies the new mask-only entry as updated.
TEST(MemoryPartition, Sec7_3_RemoveThenMaskUpdateInOneBatch) {
  Harness h("sp");
  h.Apply({Add(R"({"id":"b","tags":{"a":1}})")});
  EXPECT_THAT(
      h.Apply({Remove("b"), Update("b", R"({"masks":{"sp":{"m":1}}})")}),
      ElementsAre(
          R"(removed ["b"])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"masks":{"sp":{"m":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"masks":{"sp":{"m":1}}}})");
}

// Section 6.3: a removal followed by a re-add is reported as added, then
// removed; the state event lists the bot as added only.
TEST(MemoryPartition, Sec6_3_RemoveThenReAddInOneBatch) {
  Harness h;
  h.Apply({Add(R"({"id":"b","tags":{"a":1}})")});
  EXPECT_THAT(
      h.Apply({Remove("b"), Add(R"({"id":"b","tags":{"c":2}})")}),
      ElementsAre(
          R"(added [{"id":"b","tags":{"c":2}}])", R"(removed ["b"])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"c":2}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"c":2}}})");
}

// Section 5.1: apply_state is expanded against the state before the batch,
// so a partial for a bot added earlier in the same batch becomes an add of
// a bot without id.
TEST(MemoryPartition, Sec5_1_ApplyStateExpandedAgainstStateBeforeBatch) {
  Harness h;
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"b","tags":{"a":1}})"),
               AddState(J(R"({"b":{"tags":{"a":2}}})"))}),
      ElementsAre(
          R"(added [{"id":"b","tags":{"a":1}},{"tags":{"a":2}}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":["undefined"],"state":{"b":{"id":"b","tags":{"a":1}},"undefined":{"tags":{"a":2}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

// Section 5.1: other action types are ignored and applyEvents returns [].
TEST(MemoryPartition, Sec5_1_OtherActionTypesAreIgnored) {
  Harness h;
  EXPECT_THAT(
      h.Apply(
          {J(R"({"type":"shout","eventName":"x"})"),
           Add(R"({"id":"b","tags":{"a":1}})"),
           J(R"({"type":"remote","event":{"type":"add_bot","id":"z","bot":{"id":"z","tags":{}}}})")}),
      ElementsAre(
          R"(added [{"id":"b","tags":{"a":1}}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":1}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
  EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"a":1}}})");
}

// Section 0.2 inside tags: array-index tag names come first.
TEST(MemoryPartition, Sec0_2_IndexTagNamesComeFirst) {
  Harness h;
  h.Apply({Add(R"({"id":"b","tags":{"b":1,"1":2}})")});
  EXPECT_EQ(h.State(), R"({"b":{"id":"b","tags":{"1":2,"b":1}}})");
  EXPECT_THAT(
      h.Apply({Update("b", R"({"tags":{"z":1,"0":5}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"b","tags":{"0":5,"1":2,"b":1,"z":1}},"tags":["0","z"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"0":5,"z":1}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

// Section 7.6: within a batch the base vector does not advance, so a remote
// edit followed by a local edit publishes only the local counter.
TEST(MemoryPartition, Sec7_6_RemoteAndLocalEditInOneBatch) {
  Harness h;
  h.Apply({Add(R"({"id":"b","tags":{"a":"abc"}})")});
  EXPECT_THAT(
      h.Apply({UpdateTag("b", "a", RemoteEdit(Vec(), {Insert("x")})),
               UpdateTag("b", "a", Edit(Vec(), {Insert("y")}))}),
      ElementsAre(
          R"(updated [{"bot":{"id":"b","tags":{"a":"yxabc"}},"tags":["a"]}])",
          R"(state {"addedBots":[],"removedBots":[],"updatedBots":["b"],"state":{"b":{"tags":{"a":{"\u0011tag_edit":true,"version":{"L":2},"operations":[[{"type":"insert","text":"x"}],[{"type":"insert","text":"y"}]]}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{"L":2}}})",
          R"(version {"currentSite":"L","remoteSite":"R","vector":{"L":2}})"));
}

// An empty-string space is still a space: masks under "" are applied.
TEST(MemoryPartition, Sec1_5_EmptyStringSpace) {
  Harness h("");
  EXPECT_THAT(
      h.Apply({Add(R"({"id":"b","tags":{"a":1}})"),
               Update("b", R"({"masks":{"":{"m":1}}})")}),
      ElementsAre(
          R"(added [{"id":"b","tags":{"a":1},"space":""}])",
          R"(state {"addedBots":["b"],"removedBots":[],"updatedBots":[],"state":{"b":{"id":"b","tags":{"a":1},"space":"","masks":{"":{"m":1}}}},"version":{"currentSite":"L","remoteSite":"R","vector":{}}})"));
}

// The partition reuses its payload objects from batch to batch when no
// observer kept them; payloads an observer did keep never change later.
TEST(MemoryPartition, Sec7_KeptPayloadsAreNotReused) {
  MemoryPartitionConfig config;
  config.local_site_id = "L";
  config.remote_site_id = "R";
  MemoryPartition p(std::move(config));
  p.set_space("shared");
  std::vector<StateUpdatedEvent> events;
  std::vector<std::string> event_json;
  std::vector<std::vector<UpdatedBot>> updates;
  auto s1 = p.OnStateUpdated([&](const StateUpdatedEvent& e) {
    events.push_back(e);
    event_json.push_back(JsonOf(e.ToValue()));
  });
  auto s2 = p.OnBotsUpdated(
      [&](const std::vector<UpdatedBot>& u) { updates.push_back(u); });
  ASSERT_TRUE(
      p.ApplyEvents({BotAdded(J(R"({"id":"a","tags":{"x":1}})"))}).ok());
  for (int i = 0; i < 5; ++i) {
    Value tags = MakeObject({{"x", i}, {"y", "v"}});
    ASSERT_TRUE(
        p.ApplyEvents({BotUpdated("a", MakeObject({{"tags", tags}}))}).ok());
  }
  s1.Unsubscribe();
  s2.Unsubscribe();
  // Without observers that keep anything, the storage is reused.
  for (int i = 0; i < 5; ++i) {
    Value tags = MakeObject({{"z", i}});
    ASSERT_TRUE(
        p.ApplyEvents({BotUpdated("a", MakeObject({{"tags", tags}}))}).ok());
  }
  // The replay on subscribe, the add, the 5 updates.
  // (The replay and the add event share the state's own objects, which
  // later updates change, as upstream's do; the update events' partial
  // states are the partition's own and must stay as they were.)
  ASSERT_EQ(events.size(), 7u);
  for (size_t i = 2; i < events.size(); ++i) {
    EXPECT_EQ(JsonOf(events[i].ToValue()), event_json[i]) << i;
  }
  // The kept UpdatedBot lists keep their tag names. (Their bots are not
  // frozen: like upstream's, a bot's tags object is updated in place.)
  ASSERT_EQ(updates.size(), 5u);
  EXPECT_THAT(updates[0][0].tags, ElementsAre("x", "y"));
  for (size_t i = 1; i < updates.size(); ++i) {
    ASSERT_EQ(updates[i].size(), 1u);
    EXPECT_THAT(updates[i][0].tags, ElementsAre("x")) << i;
  }
  EXPECT_EQ(event_json[2],
            R"({"addedBots":[],"removedBots":[],"updatedBots":["a"],)"
            R"("state":{"a":{"tags":{"x":0,"y":"v"}}},"version":)"
            R"({"currentSite":"L","remoteSite":"R","vector":{}}})");
  EXPECT_EQ(
      JsonOf(p.state()),
      R"({"a":{"id":"a","tags":{"x":4,"y":"v","z":4},"space":"shared"}})");
}

// Batches of one update_bot take a path of their own (no batch maps). These
// cover the shapes it handles and the ones it hands back, in one sequence
// so that its kept objects are reused across them. The expected lines are
// aux-common 3.10.5's for the same steps (interop/run_scenario.mjs).
TEST(MemoryPartition, Sec7_SingleUpdateShapes) {
  Harness h("shared");
  h.Apply({Add(R"({"id":"a","tags":{"x":1}})")});
  // An update carrying the bot's own id classifies the bot as added.
  EXPECT_THAT(
      h.Apply({Update("a", R"({"id":"a","tags":{"x":2}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"a","tags":{"x":2},"space":"shared"},"tags":["x"]}])",
          std::string(R"(state {"addedBots":["a"],"removedBots":[],)"
                      R"("updatedBots":[],"state":{"a":{"id":"a","tags":)"
                      R"({"x":2}}},"version":)") +
              std::string(kV0) + "}"));
  // A tag set to null.
  EXPECT_THAT(
      h.Apply({Update("a", R"({"tags":{"x":null}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"a","tags":{},"space":"shared"},"tags":["x"]}])",
          std::string(R"(state {"addedBots":[],"removedBots":[],)"
                      R"("updatedBots":["a"],"state":{"a":{"tags":)"
                      R"({"x":null}}},"version":)") +
              std::string(kV0) + "}"));
  // Deleting a missing tag leaves the partial empty: nothing is emitted.
  EXPECT_THAT(h.Apply({Update("a", R"({"tags":{"y":null}})")}), IsEmpty());
  // Other keys of the update are copied into the partial entry only.
  EXPECT_THAT(
      h.Apply({Update("a", R"({"tags":{"y":3},"signatures":{"s":"y"}})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"a","tags":{"y":3},"space":"shared"},"tags":["y"]}])",
          std::string(R"(state {"addedBots":[],"removedBots":[],)"
                      R"("updatedBots":["a"],"state":{"a":{"tags":{"y":3},)"
                      R"("signatures":{"s":"y"}}},"version":)") +
              std::string(kV0) + "}"));
  EXPECT_THAT(
      h.Apply({Update("a", R"({"tags":{"z":4},"masks":null})")}),
      ElementsAre(
          R"(updated [{"bot":{"id":"a","tags":{"y":3,"z":4},"space":"shared"},"tags":["z"]}])",
          std::string(R"(state {"addedBots":[],"removedBots":[],)"
                      R"("updatedBots":["a"],"state":{"a":{"tags":{"z":4},)"
                      R"("masks":null}},"version":)") +
              std::string(kV0) + "}"));
  // An update of a missing bot, an empty tags object, an unchanged value.
  EXPECT_THAT(h.Apply({Update("b", R"({"tags":{"z":4}})")}), IsEmpty());
  EXPECT_THAT(h.Apply({Update("a", R"({"tags":{}})")}), IsEmpty());
  EXPECT_THAT(h.Apply({Update("a", R"({"tags":{"z":4}})")}), IsEmpty());
  EXPECT_EQ(h.State(),
            R"({"a":{"id":"a","tags":{"y":3,"z":4},"space":"shared"}})");
  // Two bots in turn (the kept partial state changes its key).
  h.Apply({Add(R"({"id":"b","tags":{}})")});
  int n = 0;
  for (const char* id : {"b", "a", "b"}) {
    const std::string value = absl::StrCat(id, ++n);
    EXPECT_THAT(
        h.Apply({UpdateTag(id, "w", value)}),
        ElementsAre(testing::HasSubstr(R"("tags":["w"]}])"),
                    absl::StrCat(R"(state {"addedBots":[],"removedBots":[],)",
                                 R"("updatedBots":[")", id, R"("],"state":{")",
                                 id, R"(":{"tags":{"w":")", value,
                                 R"("}}},"version":)", std::string(kV0), "}")))
        << id;
  }
  // An action with more keys than the one-pass read of an action takes, and
  // one without an update.
  Value big = Update("a", R"({"tags":{"v":1}})");
  for (const char* key : {"k1", "k2", "k3"}) big.as_object().Set(key, 1);
  EXPECT_THAT(
      h.Apply({big}),
      ElementsAre(testing::HasSubstr(R"("tags":["v"]}])"),
                  testing::HasSubstr(R"("state":{"a":{"tags":{"v":1}}})")));
  EXPECT_THAT(h.Apply({J(R"({"type":"update_bot","id":"a"})")}), IsEmpty());
}

// The single update reuses its changed-tag list, its updatedBots list and its
// partial state's key from call to call: names of the same length, of other
// lengths and the same name again each give that call's own names.
TEST(MemoryPartition, Sec7_SingleUpdateReusedListsFollowEachCall) {
  Harness h("shared");
  for (const char* id : {"ab", "cd", "efgh", "abcdefghijkl", "abcdefghijkm"}) {
    h.Apply({Add(absl::StrCat(R"({"id":")", id, R"(","tags":{}})"))});
  }
  const std::vector<std::pair<const char*, const char*>> calls = {
      {"ab", "t1"},
      {"cd", "t2"},
      {"cd", "t2"},
      {"efgh", "tag3"},
      {"ab", "t"},
      {"abcdefghijkl", "abcdefghijklmnopq"},
      {"abcdefghijkm", "abcdefghijklmnopr"},
      {"ab", "abcdefghijklmnopr"}};
  int n = 0;
  for (const auto& [id, tag] : calls) {
    SCOPED_TRACE(absl::StrCat(id, " ", tag));
    const int value = ++n;
    EXPECT_THAT(
        h.Apply({UpdateTag(id, tag, value)}),
        ElementsAre(
            testing::EndsWith(absl::StrCat(R"(,"tags":[")", tag, R"("]}])")),
            absl::StrCat(R"(state {"addedBots":[],"removedBots":[],)",
                         R"("updatedBots":[")", id, R"("],"state":{")", id,
                         R"(":{"tags":{")", tag, R"(":)", value,
                         R"(}}},"version":)", std::string(kV0), "}")));
  }
}

// The partial entry of a single update is a shallow copy of the update that
// shares its tags object (as upstream's {...update}); an observer that keeps
// the event, or only its entry, keeps them as they were.
TEST(MemoryPartition, Sec7_SingleUpdateKeptPartialSharesUpdateTags) {
  MemoryPartition p(LrConfig());
  p.set_space("shared");
  std::vector<Value> kept_states;
  std::vector<Value> kept_entries;
  bool keep_state = true;
  auto sub = p.OnStateUpdated([&](const StateUpdatedEvent& e) {
    if (e.updated_bots.empty()) return;
    const std::string& id = e.updated_bots[0];
    if (keep_state) {
      kept_states.push_back(e.state);
    } else {
      kept_entries.push_back(e.state[id]);
    }
  });
  ASSERT_TRUE(p.ApplyEvents({Add(R"({"id":"a","tags":{}})"),
                             Add(R"({"id":"b","tags":{}})")})
                  .ok());
  std::vector<Value> updates;
  for (int i = 0; i < 6; ++i) {
    keep_state = i < 3;
    Value tags = MakeObject({{"t", i}, {"gone", nullptr}});
    updates.push_back(tags);
    ASSERT_TRUE(p.ApplyEvents({BotUpdated(i % 2 == 0 ? "a" : "b",
                                          MakeObject({{"tags", tags}}))})
                    .ok());
    // The deleted missing tag was erased from the update's own tags.
    EXPECT_EQ(JsonOf(tags), absl::StrCat(R"({"t":)", i, "}"));
  }
  ASSERT_EQ(kept_states.size(), 3u);
  ASSERT_EQ(kept_entries.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const char* id = i % 2 == 0 ? "a" : "b";
    EXPECT_EQ(JsonOf(kept_states[i]),
              absl::StrCat(R"({")", id, R"(":{"tags":{"t":)", i, "}}}"));
    EXPECT_TRUE(
        auxsync::bots::StrictEquals(kept_states[i][id]["tags"], updates[i]));
  }
  for (int i = 3; i < 6; ++i) {
    EXPECT_EQ(JsonOf(kept_entries[i - 3]),
              absl::StrCat(R"({"tags":{"t":)", i, "}}"));
    EXPECT_TRUE(
        auxsync::bots::StrictEquals(kept_entries[i - 3]["tags"], updates[i]));
  }
  EXPECT_EQ(JsonOf(p.state()),
            R"({"a":{"id":"a","tags":{"t":4},"space":"shared"},)"
            R"("b":{"id":"b","tags":{"t":5},"space":"shared"}})");
}
