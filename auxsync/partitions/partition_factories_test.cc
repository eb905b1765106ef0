#include "auxsync/partitions/partition_factories.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/runtime_values.h"
#include "auxsync/bots/value.h"
#include "auxsync/partitions/memory_partition.h"
#include "auxsync/partitions/yjs_local_persistence.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::partitions {
namespace {

using bots::MakeObject;
using bots::Value;

// A partition that does nothing; tests only compare identities.
class FakePartition final : public Partition {
 public:
  explicit FakePartition(std::string type = "fake") : type_(std::move(type)) {}
  std::string_view type() const override { return type_; }
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
  void Unsubscribe() override { closed_ = true; }
  bool closed() const override { return closed_; }
  rx::Subscription OnBotsAdded(BotsCallback) override { return {}; }
  rx::Subscription OnBotsRemoved(IdsCallback) override { return {}; }
  rx::Subscription OnBotsUpdated(UpdatedBotsCallback) override { return {}; }
  rx::Subscription OnStateUpdated(StateCallback) override { return {}; }
  rx::Subscription OnVersionUpdated(VersionCallback) override { return {}; }
  rx::Subscription OnError(ValueCallback) override { return {}; }
  rx::Subscription OnEvents(ActionsCallback) override { return {}; }
  rx::Subscription OnStatusUpdated(ValueCallback) override { return {}; }

 private:
  std::string type_;
  Value state_ = Value::NewObject();
  bool closed_ = false;
};

// A factory that records its calls and makes a FakePartition of `type` for
// configs of that type.
PartitionFactory RecordingFactory(const std::string& type,
                                  std::vector<std::string>* calls) {
  return [type, calls](
             const Value& config,
             PartitionServices&) -> absl::StatusOr<std::unique_ptr<Partition>> {
    calls->push_back(type);
    if (config["type"].is_string() && config["type"].as_string() == type) {
      return std::unique_ptr<Partition>(std::make_unique<FakePartition>(type));
    }
    return std::unique_ptr<Partition>();
  };
}

TEST(PartitionFactories, C4_InjectedConfigReturnsThePartitionWithoutFactories) {
  InjectedPartitions injected;
  PartitionServices services;
  services.injected = &injected;
  auto partition = std::make_unique<FakePartition>();
  Partition* raw = partition.get();
  std::string name = injected.Add(std::move(partition));

  std::vector<std::string> calls;
  absl::StatusOr<std::unique_ptr<Partition>> result = CreateAuxPartition(
      InjectedPartitionConfig(name), services,
      {RecordingFactory("fake", &calls), RecordingFactory("injected", &calls)});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->get(), raw);
  EXPECT_TRUE(calls.empty());
  // Ownership moved to the caller.
  EXPECT_FALSE(injected.Contains(name));
  EXPECT_EQ(injected.size(), 0u);
}

TEST(PartitionFactories, C4_InjectedConfigWithoutPartitionIsUndefined) {
  InjectedPartitions injected;
  PartitionServices services;
  services.injected = &injected;
  std::vector<std::string> calls;
  for (const Value& config :
       {MakeObject({{"type", "injected"}}),
        MakeObject({{"type", "injected"}, {"partition", nullptr}})}) {
    absl::StatusOr<std::unique_ptr<Partition>> result = CreateAuxPartition(
        config, services, {RecordingFactory("injected", &calls)});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(*result, nullptr);
  }
  EXPECT_TRUE(calls.empty());
}

TEST(PartitionFactories, C4_InjectedPartitionCanBeTakenOnlyOnce) {
  InjectedPartitions injected;
  PartitionServices services;
  services.injected = &injected;
  ASSERT_TRUE(injected.Add("mine", std::make_unique<FakePartition>()).ok());
  EXPECT_EQ(injected.Add("mine", std::make_unique<FakePartition>()).code(),
            absl::StatusCode::kAlreadyExists);

  ASSERT_TRUE(
      CreateAuxPartition(InjectedPartitionConfig("mine"), services, {}).ok());
  EXPECT_EQ(CreateAuxPartition(InjectedPartitionConfig("mine"), services, {})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(PartitionFactories, C4_InjectedConfigErrors) {
  PartitionServices no_registry;
  EXPECT_EQ(CreateAuxPartition(InjectedPartitionConfig("x"), no_registry, {})
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  InjectedPartitions injected;
  PartitionServices services;
  services.injected = &injected;
  EXPECT_EQ(
      CreateAuxPartition(MakeObject({{"type", "injected"}, {"partition", 3}}),
                         services, {})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateAuxPartition(Value(), services, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PartitionFactories, C5_FirstNonNullFactoryResultWins) {
  PartitionServices services;
  std::vector<std::string> calls;
  std::vector<PartitionFactory> factories = {
      RecordingFactory("a", &calls), RecordingFactory("b", &calls),
      RecordingFactory("b", &calls), RecordingFactory("c", &calls)};
  absl::StatusOr<std::unique_ptr<Partition>> result =
      CreateAuxPartition(MakeObject({{"type", "b"}}), services, factories);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_NE(*result, nullptr);
  EXPECT_EQ((*result)->type(), "b");
  EXPECT_THAT(calls, ::testing::ElementsAre("a", "b"));
}

TEST(PartitionFactories, C5_NoMatchingFactoryGivesNull) {
  PartitionServices services;
  std::vector<std::string> calls;
  absl::StatusOr<std::unique_ptr<Partition>> result = CreateAuxPartition(
      MakeObject({{"type", "zzz"}}), services,
      {RecordingFactory("a", &calls), RecordingFactory("b", &calls)});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, nullptr);
  EXPECT_THAT(calls, ::testing::ElementsAre("a", "b"));

  result = CreateAuxPartition(MakeObject({{"type", "zzz"}}), services, {});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, nullptr);
}

TEST(PartitionFactories, C5_FactoryErrorStopsTheSearch) {
  PartitionServices services;
  std::vector<std::string> calls;
  PartitionFactory failing =
      [](const Value&,
         PartitionServices&) -> absl::StatusOr<std::unique_ptr<Partition>> {
    return absl::InvalidArgumentError("bad config");
  };
  absl::StatusOr<std::unique_ptr<Partition>> result =
      CreateAuxPartition(MakeObject({{"type", "a"}}), services,
                         {failing, RecordingFactory("a", &calls)});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(calls.empty());
}

TEST(PartitionFactories, FactoriesReceiveTheServices) {
  PartitionAuthSource auth;
  PartitionServices services;
  services.auth_source = &auth;
  PartitionAuthSource* seen = nullptr;
  PartitionFactory factory =
      [&](const Value&,
          PartitionServices& s) -> absl::StatusOr<std::unique_ptr<Partition>> {
    seen = s.auth_source;
    return std::unique_ptr<Partition>();
  };
  ASSERT_TRUE(
      CreateAuxPartition(MakeObject({{"type", "x"}}), services, {factory})
          .ok());
  EXPECT_EQ(seen, &auth);
}

TEST(PartitionFactories, E5_MemoryConfigWithoutInitialStateReturnsPartition) {
  InjectedPartitions injected;
  PartitionServices services;
  services.injected = &injected;
  auto partition = std::make_unique<FakePartition>();
  Partition* raw = partition.get();
  std::string name = injected.Add(std::move(partition));

  PartitionFactory memory = CreateMemoryPartitionFactory();
  absl::StatusOr<std::unique_ptr<Partition>> result =
      memory(MakeObject({{"type", "memory"}, {"partition", name}}), services);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->get(), raw);

  // Without a partition it yields nothing, so the next factory is asked.
  std::vector<std::string> calls;
  result = CreateAuxPartition(MakeObject({{"type", "memory"}}), services,
                              {memory, RecordingFactory("memory", &calls)});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_NE(*result, nullptr);
  EXPECT_EQ((*result)->type(), "memory");
  EXPECT_THAT(calls, ::testing::ElementsAre("memory"));
}

TEST(PartitionFactories, E5_MemoryFactoryIgnoresOtherConfigs) {
  InjectedPartitions injected;
  std::string name = injected.Add(std::make_unique<FakePartition>());
  PartitionServices services;
  services.injected = &injected;
  PartitionFactory memory = CreateMemoryPartitionFactory();
  for (const Value& config :
       {MakeObject({{"type", "yjs"}, {"partition", name}}),
        MakeObject({{"type", "injected"}, {"partition", name}}),
        MakeObject({{"type", "Memory"}, {"initialState", MakeObject({})}}),
        MakeObject({{"partition", name}}), Value("memory"), Value(nullptr)}) {
    absl::StatusOr<std::unique_ptr<Partition>> result =
        memory(config, services);
    ASSERT_TRUE(result.ok()) << bots::ToJson(config) << result.status();
    EXPECT_EQ(*result, nullptr) << bots::ToJson(config);
  }
  EXPECT_TRUE(injected.Contains(name));
}

TEST(PartitionFactories, E5_MemoryConfigWithInitialStateMakesMemoryPartition) {
  PartitionServices services;
  Value config = MakeObject(
      {{"type", "memory"},
       {"initialState",
        MakeObject({{"test",
                     MakeObject({{"id", "test"}, {"tags", MakeObject({})}})}})},
       {"localSiteId", "L"},
       {"private", true}});
  absl::StatusOr<std::unique_ptr<Partition>> result =
      CreateAuxPartition(config, services, DefaultFactories());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_NE(*result, nullptr);
  EXPECT_EQ((*result)->type(), "memory");
  EXPECT_EQ((*result)->is_private(), std::optional<bool>(true));
  EXPECT_EQ(bots::ToJson((*result)->state()),
            R"({"test":{"id":"test","tags":{}}})");

  // A memory config whose initialState is unusable is an error, not "not
  // mine".
  EXPECT_FALSE(
      CreateAuxPartition(MakeObject({{"type", "memory"}, {"initialState", 5}}),
                         services, DefaultFactories())
          .ok());

  // `'initialState' in config` counts a key whose value is undefined: such a
  // config asks for a new partition, not for the one it names.
  InjectedPartitions injected;
  services.injected = &injected;
  std::string name = injected.Add(std::make_unique<FakePartition>());
  EXPECT_FALSE(CreateAuxPartition(MakeObject({{"type", "memory"},
                                              {"initialState", Value()},
                                              {"partition", name}}),
                                  services, DefaultFactories())
                   .ok());
  EXPECT_TRUE(injected.Contains(name));
}

TEST(PartitionFactories, InjectedPartitionsGeneratesFreshNames) {
  InjectedPartitions injected;
  ASSERT_TRUE(
      injected.Add("injected-1", std::make_unique<FakePartition>()).ok());
  std::string a = injected.Add(std::make_unique<FakePartition>());
  std::string b = injected.Add(std::make_unique<FakePartition>());
  EXPECT_NE(a, "injected-1");
  EXPECT_NE(a, b);
  EXPECT_EQ(injected.size(), 3u);
  EXPECT_NE(injected.Take(a), nullptr);
  EXPECT_EQ(injected.Take(a), nullptr);
  EXPECT_EQ(bots::ToJson(InjectedPartitionConfig("p")),
            R"({"type":"injected","partition":"p"})");
}

// A fresh, empty directory under the test's temp dir.
std::string FreshDir(std::string_view name) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/auxsync_pf_", getpid(),
                                 "_", std::string(name));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

PartitionServices PersistingServices(const std::string& dir) {
  PartitionServices services;
  services.local_persistence_dir = dir;
  services.local_persistence_options.kdf_ops_limit = 1;     // OPSLIMIT_MIN
  services.local_persistence_options.kdf_mem_limit = 8192;  // MEMLIMIT_MIN
  return services;
}

// Creates and connects the partition of `config`; errors on onError (as
// JSON) go to `errors`.
std::unique_ptr<Partition> Connected(const std::string& config,
                                     PartitionServices& services,
                                     std::vector<std::string>* errors) {
  absl::StatusOr<Value> parsed = bots::ParseJson(config);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<std::unique_ptr<Partition>> p =
      CreateAuxPartition(*parsed, services, DefaultFactories());
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok() || *p == nullptr) return nullptr;
  // An Error's JSON is {}: record "name: message".
  rx::Subscription sub = (*p)->OnError([errors](const Value& e) {
    const auto* error =
        e.is_host() ? dynamic_cast<const bots::ErrorObject*>(&e.as_host())
                    : nullptr;
    errors->push_back(
        error == nullptr ? bots::ToJson(e)
                         : absl::StrCat(error->name(), ": ", error->message()));
  });
  (*p)->Connect();
  return *std::move(p);
}

// The embedding application's persistence directory reaches yjs configs
// that ask for local persistence through the default factory chain: a
// second partition on the same branch loads the first one's bots.
TEST(PartitionFactories, M4_LocalPersistenceDirPersistsYjsBranches) {
  const std::string dir = FreshDir("persist");
  PartitionServices services = PersistingServices(dir);
  const std::string config =
      R"({"type":"yjs","branch":"b1","localPersistence":)"
      R"({"saveToIndexedDb":true}})";
  std::vector<std::string> errors;
  {
    std::unique_ptr<Partition> p = Connected(config, services, &errors);
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(p->ApplyEvents({bots::BotAdded(*bots::ParseJson(
                                   R"({"id":"a","tags":{"x":"y"}})"))})
                    .ok());
  }
  EXPECT_TRUE(std::filesystem::exists(YjsSqlitePersistencePath(dir, "b1")));
  std::unique_ptr<Partition> again = Connected(config, services, &errors);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(bots::ToJson(again->state()),
            R"({"a":{"id":"a","tags":{"x":"y"}}})");
  // Another branch is another file.
  std::unique_ptr<Partition> other =
      Connected(R"({"type":"yjs","branch":"b2","localPersistence":)"
                R"({"saveToIndexedDb":true}})",
                services, &errors);
  EXPECT_EQ(bots::ToJson(other->state()), "{}");
  EXPECT_TRUE(errors.empty()) << errors[0];
  again.reset();
  other.reset();
  std::filesystem::remove_all(dir);
}

// Without saveToIndexedDb, without a branch, or without a directory in the
// services, nothing is stored.
TEST(PartitionFactories, LocalPersistenceNeedsFlagBranchAndDir) {
  const std::string dir = FreshDir("nopersist");
  PartitionServices services = PersistingServices(dir);
  std::vector<std::string> errors;
  for (
      const char* config :
      {R"({"type":"yjs","branch":"b"})",
       R"({"type":"yjs","branch":"b","localPersistence":{"saveToIndexedDb":false}})",
       R"({"type":"yjs","localPersistence":{"saveToIndexedDb":true}})"}) {
    std::unique_ptr<Partition> p = Connected(config, services, &errors);
    ASSERT_NE(p, nullptr) << config;
    ASSERT_TRUE(p->ApplyEvents({bots::BotAdded(*bots::ParseJson(
                                   R"({"id":"a","tags":{}})"))})
                    .ok());
  }
  PartitionServices no_dir;
  std::unique_ptr<Partition> p = Connected(
      R"({"type":"yjs","branch":"b","localPersistence":{"saveToIndexedDb":true}})",
      no_dir, &errors);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  EXPECT_TRUE(errors.empty()) << errors[0];
  std::filesystem::remove_all(dir);
}

// A wrong encryptionKey is an onError emission (the partition then runs
// without the stored bots, and reports sync as upstream does on a failed
// load); the right key reads the bots.
TEST(PartitionFactories, M4_WrongEncryptionKeyIsAnError) {
  const std::string dir = FreshDir("key");
  PartitionServices services = PersistingServices(dir);
  auto config = [](const char* key) {
    return absl::StrCat(R"({"type":"yjs","branch":"secret","localPersistence":)"
                        R"({"saveToIndexedDb":true,"encryptionKey":")",
                        key, R"("}})");
  };
  std::vector<std::string> errors;
  {
    std::unique_ptr<Partition> p =
        Connected(config("right"), services, &errors);
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(p->ApplyEvents({bots::BotAdded(*bots::ParseJson(
                                   R"({"id":"s","tags":{"k":"v"}})"))})
                    .ok());
  }
  ASSERT_TRUE(errors.empty()) << errors[0];
  std::unique_ptr<Partition> wrong =
      Connected(config("wrong"), services, &errors);
  ASSERT_NE(wrong, nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::StartsWith("Error: "));
  EXPECT_THAT(errors[0], ::testing::HasSubstr("key"));
  EXPECT_EQ(bots::ToJson(wrong->state()), "{}");
  wrong.reset();
  std::unique_ptr<Partition> right =
      Connected(config("right"), services, &errors);
  EXPECT_EQ(bots::ToJson(right->state()),
            R"({"s":{"id":"s","tags":{"k":"v"}}})");
  EXPECT_EQ(errors.size(), 1u);
  right.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace auxsync::partitions
