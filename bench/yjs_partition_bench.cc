// YjsPartition throughput, the same workloads as
// bench/js/yjs_partition_bench.mjs runs on aux-common's YjsPartition:
//
//   `--batch N` (default 1): 2,000 bots x 10 tags, N actions per
//     ApplyEvents call;
//     "add":    2,000 actions, each adding bot<i> with tag<t> = "value<i>_<t>";
//     "update": 20,000 actions, action i setting tag<(i / 2000) % 10> of
//               bot<i % 2000> to the number i (even i) or "s<i>" (odd i);
//     one subscriber on every observable; best of 5 runs after a warm-up;
//     the actions are built outside the timed region.
//     (`--only add|update` runs one phase, for profiling; the digest is
//     then not computed.)
//   `--init`: one initialization update of 10,000 bots (init<i>, tag<t> =
//     the number i * 10 + t for even t, "v<i>_<t>" for odd t) made once
//     with ConstructInitializationUpdate; timed: a fresh connected partition
//     (made outside the timed region) answering apply_updates_to_inst with
//     it, until its state has all bots ("init"), then answering
//     get_current_inst_update ("encode"); best of 5 after a warm-up.
//
// Each mode prints one JSON line with a digest of the final state (FNV-1a
// 32 over the bots sorted by id, tags sorted by name, "id\ttag\t" + "s" or
// "n" + String(value) + "\n") and one sample bot's sorted tags, which the
// JavaScript harness computes the same way.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/bots/value.h"
#include "auxsync/partitions/inst_updates.h"
#include "auxsync/partitions/yjs_partition.h"
#include "bench/partition_workload.h"

namespace {

using auxsync::bench::AddActions;
using auxsync::bench::Batches;
using auxsync::bench::BotId;
using auxsync::bench::Counters;
using auxsync::bench::Observe;
using auxsync::bench::Seconds;
using auxsync::bench::TagName;
using auxsync::bench::UpdateActions;
using auxsync::bots::MakeObject;
using auxsync::bots::Value;
using auxsync::partitions::InstUpdate;
using auxsync::partitions::YjsPartition;
using auxsync::partitions::YjsPartitionConfig;

constexpr int kBots = auxsync::bench::kWorkloadBots;
constexpr int kTags = auxsync::bench::kWorkloadTags;
constexpr int kUpdates = auxsync::bench::kWorkloadUpdates;
constexpr int kInitBots = 10000;
// Timed runs after the warm-up; `--runs N` changes it (N = 0: the warm-up
// alone, for instruction counts under callgrind).
constexpr int kRuns = 5;

// {"type":"yjs","remoteEvents":true}, space "shared", connected; random
// client ids, as upstream.
std::unique_ptr<YjsPartition> NewPartition() {
  YjsPartitionConfig config;
  config.remote_events = Value(true);
  auto p = std::make_unique<YjsPartition>(std::move(config));
  p->set_space("shared");
  p->Connect();
  return p;
}

std::vector<Value> InitBots() {
  std::vector<Value> bots;
  for (int i = 0; i < kInitBots; ++i) {
    Value tags = Value::NewObject();
    for (int t = 0; t < kTags; ++t) {
      tags.as_object().Set(
          TagName(t),
          t % 2 == 0 ? Value(i * 10 + t) : Value(absl::StrCat("v", i, "_", t)));
    }
    bots.push_back(
        MakeObject({{"id", absl::StrCat("init", i)}, {"tags", tags}}));
  }
  return bots;
}

// The bot's tags sorted by name: name -> "s<string>" / "n<number>" / other.
std::map<std::string, std::string> SortedTags(const Value& bot) {
  std::map<std::string, std::string> out;
  if (!bot["tags"].is_object()) return out;
  bot["tags"].as_object().ForEach([&](const std::string& k, const Value& v) {
    out[k] = absl::StrCat(v.is_string()   ? "s"
                          : v.is_number() ? "n"
                                          : "?",
                          auxsync::bots::ToJsString(v));
  });
  return out;
}

// FNV-1a 32 of the state (see the file comment), as 8 hex digits.
std::string Digest(const Value& state) {
  std::vector<std::string> ids = state.as_object().Keys();
  std::sort(ids.begin(), ids.end());
  uint32_t h = 2166136261u;
  auto feed = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 16777619u;
    }
  };
  for (const std::string& id : ids) {
    for (const auto& [tag, value] : SortedTags(state[id])) {
      feed(id);
      feed("\t");
      feed(tag);
      feed("\t");
      feed(value);
      feed("\n");
    }
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", h);
  return buf;
}

// {"tag0":"n10",...}: the sample bot's sorted tags as JSON.
std::string Sample(const Value& state, const std::string& id) {
  Value out = Value::NewObject();
  for (const auto& [tag, value] : SortedTags(state[id])) {
    out.as_object().Set(tag, value);
  }
  return auxsync::bots::ToJson(out);
}

void Fail(const std::string& what) {
  std::fprintf(stderr, "benchmark sanity check failed: %s\n", what.c_str());
  std::exit(1);
}

// `only`: "" for both phases, "add" to skip the update phase, "update" to
// apply the adds in one call (for profiling one phase with perf).
int RunAddUpdate(size_t batch, const std::string& only, int runs) {
  double best_add = 1e300, best_update = 1e300;
  std::string digest, sample = "null";
  for (int run = 0; run <= runs; ++run) {  // run 0 is the warm-up
    // Actions are built outside the timed region, as in the JS harness.
    std::vector<std::vector<Value>> adds =
        Batches(AddActions(), only == "update" ? kBots : batch);
    std::vector<std::vector<Value>> updates = Batches(UpdateActions(), batch);
    auto p = NewPartition();
    Counters counters;
    auto subs = Observe(*p, counters);
    auto t0 = std::chrono::steady_clock::now();
    for (const auto& a : adds) {
      if (!p->ApplyEvents(a).ok()) Fail("add");
    }
    auto t1 = std::chrono::steady_clock::now();
    if (only != "add") {
      for (const auto& u : updates) {
        if (!p->ApplyEvents(u).ok()) Fail("update");
      }
    }
    auto t2 = std::chrono::steady_clock::now();
    if (p->state().as_object().size() != kBots) Fail("state size");
    if (run > 0) {
      best_add = std::min(best_add, Seconds(t1 - t0));
      best_update = std::min(best_update, Seconds(t2 - t1));
    }
    if (only.empty()) {
      digest = Digest(p->state());
      sample = Sample(p->state(), BotId(1235));
    }
  }
  std::printf(
      "{\"impl\":\"auxsync\",\"batch\":%zu,\"addsPerSec\":%.0f,"
      "\"updatesPerSec\":%.0f,\"digest\":\"%s\",\"sample\":%s}\n",
      batch, kBots / best_add, kUpdates / best_update, digest.c_str(),
      sample.c_str());
  return 0;
}

int RunInit(int runs) {
  absl::StatusOr<std::optional<InstUpdate>> update =
      auxsync::partitions::ConstructInitializationUpdate(InitBots());
  if (!update.ok() || !update->has_value()) Fail("initialization update");
  Value apply = MakeObject(
      {{"type", "apply_updates_to_inst"}, {"updates", Value::NewArray()}});
  apply["updates"].as_array().items.push_back((*update)->ToValue());
  double best_init = 1e300, best_encode = 1e300;
  std::string digest, sample = "null";
  size_t encoded = 0;
  for (int run = 0; run <= runs; ++run) {
    std::vector<Value> apply_actions = {auxsync::bots::Remote(
        apply, auxsync::bots::RemoteSelector{}, Value(), Value("apply"))};
    std::vector<Value> encode_actions = {auxsync::bots::Remote(
        MakeObject({{"type", "get_current_inst_update"}}),
        auxsync::bots::RemoteSelector{}, Value(), Value("encode"))};
    auto p = NewPartition();
    Counters counters;
    auto subs = Observe(*p, counters);
    auto t0 = std::chrono::steady_clock::now();
    if (!p->SendRemoteEvents(apply_actions).ok()) Fail("apply");
    if (p->state().as_object().size() != kInitBots) Fail("init state size");
    auto t1 = std::chrono::steady_clock::now();
    if (!p->SendRemoteEvents(encode_actions).ok()) Fail("encode");
    auto t2 = std::chrono::steady_clock::now();
    const Value& result = counters.last_event["result"]["update"];
    if (!result.is_string()) Fail("encode result");
    encoded = result.as_string().size();
    if (run > 0) {
      best_init = std::min(best_init, Seconds(t1 - t0));
      best_encode = std::min(best_encode, Seconds(t2 - t1));
    }
    digest = Digest(p->state());
    sample = Sample(p->state(), "init4321");
  }
  std::printf(
      "{\"impl\":\"auxsync\",\"initBots\":%d,\"initMs\":%.3f,"
      "\"encodeMs\":%.3f,\"updateBase64Chars\":%zu,\"initUpdateBase64Chars\":"
      "%zu,\"digest\":\"%s\",\"sample\":%s}\n",
      kInitBots, best_init * 1e3, best_encode * 1e3, encoded,
      (*update)->update.size(), digest.c_str(), sample.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = kRuns;
  if (argc >= 3 && std::string(argv[argc - 2]) == "--runs") {
    runs = std::max(0, std::atoi(argv[argc - 1]));
    argc -= 2;
  }
  if (argc == 2 && std::string(argv[1]) == "--init") return RunInit(runs);
  if (argc == 1) return RunAddUpdate(1, "", runs);
  if ((argc == 3 || argc == 5) && std::string(argv[1]) == "--batch") {
    std::string only;
    if (argc == 5 && std::string(argv[3]) == "--only") only = argv[4];
    if (argc == 5 && only != "add" && only != "update") only = "bad";
    if (only != "bad") {
      return RunAddUpdate(static_cast<size_t>(std::max(1, std::atoi(argv[2]))),
                          only, runs);
    }
  }
  std::fprintf(stderr,
               "usage: yjs_partition_bench [--batch N [--only add|update] | "
               "--init] [--runs N]\n");
  return 2;
}
