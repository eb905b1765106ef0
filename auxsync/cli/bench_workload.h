// BenchWorkload: the seeded random bot workload of `auxsync bench client`
// (issue 7 item 5): adds with every value kind, updates that set and delete
// tags, tag edits, mask updates and removes.

#ifndef AUXSYNC_CLI_BENCH_WORKLOAD_H_
#define AUXSYNC_CLI_BENCH_WORKLOAD_H_

#include <cstdint>
#include <string>

#include "auxsync/bots/value.h"

namespace auxsync::cli {

// The generator: deterministic for a seed (splitmix64, the same on every
// platform). `state` is the
// partition's current state, `version` its current version vector (for tag
// edits), `space` the partition's space (for masks). Returns one bot action
// (add_bot, update_bot or remove_bot). Ids of added bots are
// "<prefix><n>".
class BenchWorkload {
 public:
  BenchWorkload(uint64_t seed, std::string id_prefix, std::string space);
  bots::Value Next(const bots::Value& state, const bots::Value& version);
  uint64_t ops() const { return ops_; }

 private:
  uint64_t Uniform(uint64_t n);  // [0, n)
  std::string Word();
  bots::Value RandomValue(int depth);
  std::string PickBot(const bots::Value& state);

  uint64_t state_;
  std::string id_prefix_;
  std::string space_;
  uint64_t added_ = 0;
  uint64_t ops_ = 0;
};

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_BENCH_WORKLOAD_H_
