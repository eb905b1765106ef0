#include "auxsync/partitions/partition_utils.h"

#include <array>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/bots/value.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::partitions {
namespace {

using bots::MakeArray;
using bots::MakeObject;
using bots::Value;
using ::testing::ElementsAre;
using ::testing::Pair;

class FakePartition final : public Partition {
 public:
  std::string_view type() const override { return "fake"; }
  std::optional<bool> is_private() const override { return std::nullopt; }
  RealtimeStrategy realtime_strategy() const override {
    return RealtimeStrategy::kImmediate;
  }
  const Value& state() const override { return state_; }
  absl::StatusOr<std::vector<Value>> ApplyEvents(
      const std::vector<Value>&) override {
    return std::vector<Value>();
  }
  void Connect() override {}
  void Unsubscribe() override {}
  bool closed() const override { return false; }
  rx::Subscription OnBotsAdded(BotsCallback) override { return {}; }
  rx::Subscription OnBotsRemoved(IdsCallback) override { return {}; }
  rx::Subscription OnBotsUpdated(UpdatedBotsCallback) override { return {}; }
  rx::Subscription OnStateUpdated(StateCallback) override { return {}; }
  rx::Subscription OnVersionUpdated(VersionCallback) override { return {}; }
  rx::Subscription OnError(ValueCallback) override { return {}; }
  rx::Subscription OnEvents(ActionsCallback) override { return {}; }
  rx::Subscription OnStatusUpdated(ValueCallback) override { return {}; }

  Value state_ = Value::NewObject();
};

std::vector<std::string> Keys(const std::vector<PartitionEntry>& entries) {
  std::vector<std::string> keys;
  keys.reserve(entries.size());
  for (const PartitionEntry& e : entries) keys.push_back(e.first);
  return keys;
}

TEST(PartitionUtils, C1_CanonicalOrderIsKept) {
  std::array<FakePartition, 6> p;
  std::vector<PartitionEntry> in = {
      {"shared", &p[0]},     {"tempLocal", &p[1]},        {"local", &p[2]},
      {"tempShared", &p[3]}, {"remoteTempShared", &p[4]}, {"bootstrap", &p[5]}};
  std::vector<PartitionEntry> out = IteratePartitions(in);
  EXPECT_THAT(out, ElementsAre(Pair("shared", &p[0]), Pair("tempLocal", &p[1]),
                               Pair("local", &p[2]), Pair("tempShared", &p[3]),
                               Pair("remoteTempShared", &p[4]),
                               Pair("bootstrap", &p[5])));
}

TEST(PartitionUtils, C2_KnownKeysAreSortedIntoCanonicalOrder) {
  std::array<FakePartition, 6> p;
  std::vector<PartitionEntry> in = {
      {"tempLocal", &p[1]}, {"shared", &p[0]},    {"tempShared", &p[3]},
      {"local", &p[2]},     {"bootstrap", &p[5]}, {"remoteTempShared", &p[4]}};
  std::vector<PartitionEntry> out = IteratePartitions(in);
  EXPECT_THAT(out, ElementsAre(Pair("shared", &p[0]), Pair("tempLocal", &p[1]),
                               Pair("local", &p[2]), Pair("tempShared", &p[3]),
                               Pair("remoteTempShared", &p[4]),
                               Pair("bootstrap", &p[5])));
}

TEST(PartitionUtils, C3_UnknownKeysComeLastInTheirOriginalOrder) {
  FakePartition p;
  std::vector<PartitionEntry> in;
  for (const char* key :
       {"unknown2", "tempLocal", "shared", "unknown1", "tempShared", "local",
        "unknown3", "bootstrap", "remoteTempShared"}) {
    in.emplace_back(key, &p);
  }
  EXPECT_THAT(Keys(IteratePartitions(in)),
              ElementsAre("shared", "tempLocal", "local", "tempShared",
                          "remoteTempShared", "bootstrap", "unknown2",
                          "unknown1", "unknown3"));
}

TEST(PartitionUtils, N2_IndexKeysFirstAmongUnknownsAndFalsySkipped) {
  FakePartition a, b, c, d, e;
  std::vector<PartitionEntry> in = {
      {"5", &a}, {"zeta", &b},           {"shared", &c},
      {"1", &d}, {"tempLocal", nullptr}, {"local", &e}};
  EXPECT_THAT(IteratePartitions(in),
              ElementsAre(Pair("shared", &c), Pair("local", &e), Pair("1", &d),
                          Pair("5", &a), Pair("zeta", &b)));
}

TEST(PartitionUtils, RepeatedKeyKeepsFirstPlaceAndLastValue) {
  FakePartition a, b, c;
  std::vector<PartitionEntry> in = {{"x", &a},  {"y", &b},  {"x", &c},
                                    {"01", &a}, {"10", &b}, {"2", &c}};
  // "01" is not a canonical index, so it stays among the named keys.
  EXPECT_THAT(IteratePartitions(in),
              ElementsAre(Pair("2", &c), Pair("10", &b), Pair("x", &c),
                          Pair("y", &b), Pair("01", &a)));
  // A key re-assigned to a falsy value is skipped.
  std::vector<PartitionEntry> cleared = {{"shared", &a}, {"shared", nullptr}};
  EXPECT_TRUE(IteratePartitions(cleared).empty());
}

TEST(PartitionUtils, PartitionOrderRank) {
  EXPECT_EQ(PartitionOrderRank("shared"), 0);
  EXPECT_EQ(PartitionOrderRank("tempLocal"), 1);
  EXPECT_EQ(PartitionOrderRank("local"), 2);
  EXPECT_EQ(PartitionOrderRank("tempShared"), 3);
  EXPECT_EQ(PartitionOrderRank("remoteTempShared"), 4);
  EXPECT_EQ(PartitionOrderRank("bootstrap"), 5);
  EXPECT_EQ(PartitionOrderRank("Shared"), 6);
  EXPECT_EQ(PartitionOrderRank(""), 6);
}

TEST(PartitionUtils, GetPartitionStateIsTheState) {
  FakePartition p;
  p.state_.as_object().Set("b", MakeObject({{"id", "b"}}));
  EXPECT_TRUE(bots::StrictEquals(GetPartitionState(p), p.state_));
}

Value RemoteOf(Value event) { return bots::Remote(std::move(event)); }

Value CreateInitializationUpdate() {
  return MakeObject(
      {{"type", "create_initialization_update"}, {"bots", MakeArray({})}});
}

bool Supports(const Value& config, const Value& action) {
  absl::StatusOr<bool> result = SupportsRemoteEvent(config, action);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() && *result;
}

TEST(PartitionUtils, J33_ListedRemoteEventTypeIsSupported) {
  EXPECT_TRUE(Supports(MakeObject({{"create_initialization_update", true}}),
                       RemoteOf(CreateInitializationUpdate())));
}

TEST(PartitionUtils, J34_RemoteActionsCoversUnlistedRemoteEvents) {
  EXPECT_TRUE(Supports(MakeObject({{"remoteActions", true}}),
                       RemoteOf(bots::Action("event"))));
}

TEST(PartitionUtils, J35_RemoteActionsCoversRemoteResults) {
  EXPECT_TRUE(
      Supports(MakeObject({{"remoteActions", true}}), bots::RemoteResult(123)));
  EXPECT_FALSE(
      Supports(MakeObject({{"remote_result", true}}), bots::RemoteResult(123)));
}

TEST(PartitionUtils, J36_EmptyConfigSupportsNothing) {
  EXPECT_FALSE(
      Supports(MakeObject({}), RemoteOf(CreateInitializationUpdate())));
  EXPECT_FALSE(Supports(MakeObject({}), bots::RemoteError("e")));
}

TEST(PartitionUtils, J37_TrueSupportsEverythingFalseNothing) {
  for (const Value& action :
       {RemoteOf(CreateInitializationUpdate()), bots::RemoteResult(1),
        MakeObject({}), Value("x")}) {
    EXPECT_TRUE(Supports(true, action));
    EXPECT_FALSE(Supports(false, action));
  }
}

TEST(PartitionUtils, ListedTypeWinsOverRemoteActions) {
  Value config = MakeObject({{"get_remotes", false},
                             {"list_inst_updates", Value()},
                             {"install_aux_file", nullptr},
                             {"remoteActions", true}});
  Value get_remotes = MakeObject({{"type", "get_remotes"}});
  EXPECT_FALSE(Supports(config, RemoteOf(get_remotes)));
  // Present with undefined/null: `in` is true, `?? false` gives false.
  EXPECT_FALSE(
      Supports(config, RemoteOf(MakeObject({{"type", "list_inst_updates"}}))));
  EXPECT_FALSE(
      Supports(config, RemoteOf(MakeObject({{"type", "install_aux_file"}}))));
  EXPECT_TRUE(Supports(config, RemoteOf(MakeObject({{"type", "other"}}))));
  // Truthiness of non-boolean settings, as callers use it.
  EXPECT_TRUE(
      Supports(MakeObject({{"remoteActions", "yes"}}), bots::RemoteResult(1)));
  EXPECT_FALSE(
      Supports(MakeObject({{"remoteActions", 0}}), bots::RemoteResult(1)));
}

TEST(PartitionUtils, EventTypeIsConvertedToAPropertyKey) {
  // action.event.type undefined looks up "undefined"; a number its string.
  Value no_type = RemoteOf(MakeObject({}));
  EXPECT_FALSE(Supports(MakeObject({}), no_type));
  EXPECT_TRUE(Supports(MakeObject({{"undefined", true}}), no_type));
  EXPECT_TRUE(
      Supports(MakeObject({{"1", true}}), RemoteOf(MakeObject({{"type", 1}}))));
}

TEST(PartitionUtils, InheritedPropertiesCountAsListed) {
  // `"toString" in {}` is true and the method is truthy (observed).
  for (const char* type :
       {"toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"}) {
    EXPECT_TRUE(
        Supports(MakeObject({}), RemoteOf(MakeObject({{"type", type}}))))
        << type;
  }
  // Own properties shadow them.
  EXPECT_FALSE(Supports(MakeObject({{"toString", false}}),
                        RemoteOf(MakeObject({{"type", "toString"}}))));
  // Arrays: index keys, "length" and Array.prototype methods.
  Value array = MakeArray({true, false});
  EXPECT_TRUE(Supports(array, RemoteOf(MakeObject({{"type", "0"}}))));
  EXPECT_FALSE(Supports(array, RemoteOf(MakeObject({{"type", "1"}}))));
  EXPECT_FALSE(Supports(array, RemoteOf(MakeObject({{"type", "2"}}))));
  EXPECT_TRUE(Supports(array, RemoteOf(MakeObject({{"type", "length"}}))));
  EXPECT_FALSE(
      Supports(MakeArray({}), RemoteOf(MakeObject({{"type", "length"}}))));
  EXPECT_TRUE(Supports(array, RemoteOf(MakeObject({{"type", "push"}}))));
}

TEST(PartitionUtils, SupportsRemoteEventErrorsWhereUpstreamThrows) {
  Value remote = RemoteOf(MakeObject({{"type", "a"}}));
  auto code = [](const Value& config, const Value& action) {
    return SupportsRemoteEvent(config, action).status().code();
  };
  EXPECT_EQ(code(nullptr, bots::RemoteResult(1)),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Value(), remote), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(5, remote), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("s", remote), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(MakeObject({}), MakeObject({{"type", "remote"}})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(MakeObject({}), nullptr), absl::StatusCode::kInvalidArgument);
  // Primitive configs are fine for other actions: no `in` is evaluated.
  EXPECT_FALSE(Supports(5, MakeObject({{"type", "x"}})));
  EXPECT_FALSE(Supports("s", bots::RemoteResult(1)));
}

}  // namespace
}  // namespace auxsync::partitions
