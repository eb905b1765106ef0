// The partition throughput workload shared by memory_partition_bench and
// yjs_partition_bench (and repeated by their JS twins in bench/js/): 2,000
// bots x 10 tags added, then 20,000 single-tag updates, with one counting
// subscriber on every observable.

#ifndef AUXSYNC_BENCH_PARTITION_WORKLOAD_H_
#define AUXSYNC_BENCH_PARTITION_WORKLOAD_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "auxsync/bots/value.h"
#include "auxsync/partitions/partition.h"
#include "auxsync/rx/subscription.h"

namespace auxsync::bench {

inline constexpr int kWorkloadBots = 2000;
inline constexpr int kWorkloadTags = 10;
inline constexpr int kWorkloadUpdates = 20000;

// What the subscribers of Observe() saw.
struct Counters {
  size_t emissions = 0;
  bots::Value last_event;  // the last action emitted on onEvents
};

// One subscriber on each of the 8 observables, counting into `counters`
// (which must outlive the returned subscriptions).
std::vector<rx::Subscription> Observe(partitions::Partition& partition,
                                      Counters& counters);

// "bot<i>" and "tag<t>".
std::string BotId(int i);
std::string TagName(int t);

// add_bot of bot<i> with tag<t> = "value<i>_<t>", for every bot.
std::vector<bots::Value> AddActions();
// Update i sets tag<(i / bots) % tags> of bot<i % bots> to i (even i) or
// "s<i>" (odd i): every (bot, tag) pair once.
std::vector<bots::Value> UpdateActions();

// The actions cut into ApplyEvents batches of `size`.
std::vector<std::vector<bots::Value>> Batches(
    const std::vector<bots::Value>& actions, size_t size);

double Seconds(std::chrono::steady_clock::duration d);

}  // namespace auxsync::bench

#endif  // AUXSYNC_BENCH_PARTITION_WORKLOAD_H_
