#include "auxsync/cli/bench_workload.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "auxsync/bots/json.h"
#include "auxsync/bots/tag_edit.h"
#include "auxsync/bots/version.h"
#include "auxsync/partitions/yjs_partition.h"
#include "gtest/gtest.h"

namespace auxsync::cli {
namespace {

using bots::Value;

// Runs `n` workload steps on a local yjs partition (the same document code
// the remote partition uses); returns the actions as JSON.
std::vector<std::string> RunWorkload(uint64_t seed, int n,
                                     std::set<std::string>* kinds = nullptr,
                                     Value* final_state = nullptr) {
  partitions::YjsPartitionConfig config;
  config.client_id = 7;
  partitions::YjsPartition partition(std::move(config));
  partition.set_space("shared");
  Value version = Value::NewObject();
  auto sub = partition.OnVersionUpdated(
      [&](const bots::CurrentVersion& v) { version = v.vector; });
  partition.Connect();
  BenchWorkload workload(seed, "b-", "shared");
  std::vector<std::string> actions;
  for (int i = 0; i < n; ++i) {
    Value action = workload.Next(partition.state(), version);
    actions.push_back(bots::ToJson(action));
    if (kinds != nullptr) {
      std::string kind = action["type"].as_string();
      const Value& update = action["update"];
      if (update.is_object() && update["masks"].is_object()) kind = "mask";
      if (update.is_object() && update["tags"].is_object() &&
          bots::IsTagEdit(update["tags"]["text"])) {
        kind = "edit";
      }
      kinds->insert(kind);
    }
    auto applied = partition.ApplyEvents({action});
    EXPECT_TRUE(applied.ok()) << applied.status() << " " << actions.back();
  }
  EXPECT_EQ(workload.ops(), static_cast<uint64_t>(n));
  if (final_state != nullptr) *final_state = partition.state().Clone();
  return actions;
}

TEST(BenchWorkload, SameSeedSameActions) {
  EXPECT_EQ(RunWorkload(5, 200), RunWorkload(5, 200));
  EXPECT_NE(RunWorkload(5, 50), RunWorkload(6, 50));
}

TEST(BenchWorkload, CoversEveryKindAndAppliesCleanly) {
  std::set<std::string> kinds;
  Value state;
  RunWorkload(11, 400, &kinds, &state);
  EXPECT_EQ(kinds, (std::set<std::string>{"add_bot", "update_bot", "edit",
                                          "mask", "remove_bot"}));
  ASSERT_TRUE(state.is_object());
  EXPECT_GT(state.as_object().size(), 0u);
  // Tag edits landed in text tags: some text has more than two words.
  bool edited = false;
  state.as_object().ForEach([&](const std::string&, const Value& bot) {
    const Value& text = bot["tags"]["text"];
    if (text.is_string() &&
        std::count(text.as_string().begin(), text.as_string().end(), ' ') > 1) {
      edited = true;
    }
  });
  EXPECT_TRUE(edited);
}

}  // namespace
}  // namespace auxsync::cli
