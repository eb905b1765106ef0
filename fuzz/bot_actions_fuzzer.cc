// Fuzzes what a partition does with bot actions from outside (a scenario
// file, a script): the input is JSON (tagged forms decoded), an array of
// batches, each an array of actions (or one action). Every action passes
// bots::ValidateBotAction first, as `auxsync apply` checks it; a batch with
// an invalid action is left out whole. The batches go to a MemoryPartition
// and a YjsPartition (space "shared"). Checks: nothing crashes, and each
// state stays an object of objects.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/value.h"
#include "auxsync/partitions/memory_partition.h"
#include "auxsync/partitions/yjs_partition.h"

namespace {

using ::auxsync::bots::Value;

void CheckState(const Value& state) {
  if (!state.is_object()) abort();
  state.as_object().ForEach([](const std::string&, const Value& bot) {
    if (!bot.is_object()) abort();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auxsync::bots::JsonParseOptions options;
  options.decode_tags = true;
  absl::StatusOr<Value> input = auxsync::bots::ParseJson(
      std::string_view(reinterpret_cast<const char*>(data), size), options);
  if (!input.ok() || !input->is_array()) return 0;
  std::vector<std::vector<Value>> batches;
  for (const Value& item : input->as_array().items) {
    std::vector<Value> batch =
        item.is_array() ? item.as_array().items : std::vector<Value>{item};
    bool valid = batch.size() <= 64;
    for (const Value& action : batch) {
      valid = valid && auxsync::bots::ValidateBotAction(action, "a").ok();
    }
    if (valid) batches.push_back(std::move(batch));
    if (batches.size() >= 32) break;
  }
  auxsync::partitions::MemoryPartitionConfig memory_config;
  memory_config.local_site_id = "L";
  memory_config.remote_site_id = "R";
  auxsync::partitions::MemoryPartition memory(std::move(memory_config));
  auxsync::partitions::YjsPartitionConfig yjs_config;
  yjs_config.client_id = 7;
  yjs_config.remote_client_id = 8;
  yjs_config.now = [] { return 1.0; };
  auxsync::partitions::YjsPartition yjs(std::move(yjs_config));
  for (auxsync::partitions::Partition* p :
       std::vector<auxsync::partitions::Partition*>{&memory, &yjs}) {
    p->set_space("shared");
    p->Connect();
    // Each partition gets its own copies: partitions may keep (and share)
    // the objects of the actions they apply.
    for (const std::vector<Value>& batch : batches) {
      std::vector<Value> copy;
      for (const Value& action : batch) copy.push_back(action.Clone());
      (void)p->ApplyEvents(copy);
      CheckState(p->state());
    }
  }
  return 0;
}
