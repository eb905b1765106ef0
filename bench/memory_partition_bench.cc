// MemoryPartition throughput, the same workload as
// bench/js/memory_partition_bench.mjs runs on aux-common:
//   2,000 bots x 10 tags;
//   "add":    2,000 ApplyEvents calls, each adding one bot with 10 tags;
//   "update": 20,000 ApplyEvents calls, each setting one tag (bot i % 2000,
//             tag (i / 2000) % 10) to a fresh value (a number for even i, a
//             string for odd i);
//   one subscriber on every observable; best of 5 runs after a warm-up.
// `--batch N` groups N actions per ApplyEvents call (default 1).
// Prints {"impl":"auxsync","batch":N,"addsPerSec":N,"updatesPerSec":N}.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/value.h"
#include "auxsync/partitions/memory_partition.h"
#include "bench/partition_workload.h"

namespace {

using auxsync::bench::AddActions;
using auxsync::bench::Batches;
using auxsync::bench::Counters;
using auxsync::bench::Observe;
using auxsync::bench::Seconds;
using auxsync::bench::UpdateActions;
using auxsync::bots::Value;
using auxsync::partitions::MemoryPartition;
using auxsync::partitions::MemoryPartitionConfig;

constexpr int kBots = auxsync::bench::kWorkloadBots;
constexpr int kUpdates = auxsync::bench::kWorkloadUpdates;
constexpr int kRuns = 5;

std::unique_ptr<MemoryPartition> NewPartition() {
  MemoryPartitionConfig config;
  config.local_site_id = "L";
  config.remote_site_id = "R";
  auto p = std::make_unique<MemoryPartition>(std::move(config));
  p->set_space("shared");
  p->Connect();
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  size_t batch = 1;
  if (argc == 3 && std::string(argv[1]) == "--batch") {
    batch = static_cast<size_t>(std::max(1, std::atoi(argv[2])));
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: memory_partition_bench [--batch N]\n");
    return 2;
  }
  double best_add = 1e300, best_update = 1e300;
  size_t emissions = 0;
  for (int run = 0; run <= kRuns; ++run) {  // run 0 is the warm-up
    // Actions are built outside the timed region, as in the JS harness.
    std::vector<std::vector<Value>> adds = Batches(AddActions(), batch);
    std::vector<std::vector<Value>> updates = Batches(UpdateActions(), batch);
    auto p = NewPartition();
    Counters counters;
    auto subs = Observe(*p, counters);
    auto t0 = std::chrono::steady_clock::now();
    for (const auto& a : adds) (void)p->ApplyEvents(a);
    auto t1 = std::chrono::steady_clock::now();
    for (const auto& u : updates) (void)p->ApplyEvents(u);
    auto t2 = std::chrono::steady_clock::now();
    if (run > 0) {
      best_add = std::min(best_add, Seconds(t1 - t0));
      best_update = std::min(best_update, Seconds(t2 - t1));
    }
    emissions += counters.emissions;
  }
  std::printf(
      "{\"impl\":\"auxsync\",\"batch\":%zu,\"addsPerSec\":%.0f,"
      "\"updatesPerSec\":%.0f,\"emissions\":%zu}\n",
      batch, kBots / best_add, kUpdates / best_update, emissions);
  return 0;
}
