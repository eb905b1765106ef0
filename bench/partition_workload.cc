#include "bench/partition_workload.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot_actions.h"

namespace auxsync::bench {

using bots::MakeObject;
using bots::Value;

std::vector<rx::Subscription> Observe(partitions::Partition& p, Counters& c) {
  std::vector<rx::Subscription> subs;
  subs.push_back(p.OnBotsAdded([&](const auto&) { ++c.emissions; }));
  subs.push_back(p.OnBotsRemoved([&](const auto&) { ++c.emissions; }));
  subs.push_back(p.OnBotsUpdated([&](const auto&) { ++c.emissions; }));
  subs.push_back(p.OnStateUpdated([&](const auto&) { ++c.emissions; }));
  subs.push_back(p.OnVersionUpdated([&](const auto&) { ++c.emissions; }));
  subs.push_back(p.OnError([&](const auto&) { ++c.emissions; }));
  subs.push_back(p.OnEvents([&](const std::vector<Value>& events) {
    ++c.emissions;
    if (!events.empty()) c.last_event = events.back();
  }));
  subs.push_back(p.OnStatusUpdated([&](const auto&) { ++c.emissions; }));
  return subs;
}

std::string BotId(int i) { return absl::StrCat("bot", i); }
std::string TagName(int t) { return absl::StrCat("tag", t); }

std::vector<Value> AddActions() {
  std::vector<Value> actions;
  for (int i = 0; i < kWorkloadBots; ++i) {
    Value tags = Value::NewObject();
    for (int t = 0; t < kWorkloadTags; ++t) {
      tags.as_object().Set(TagName(t), absl::StrCat("value", i, "_", t));
    }
    actions.push_back(
        bots::BotAdded(MakeObject({{"id", BotId(i)}, {"tags", tags}})));
  }
  return actions;
}

std::vector<Value> UpdateActions() {
  std::vector<Value> actions;
  for (int i = 0; i < kWorkloadUpdates; ++i) {
    Value v = i % 2 == 0 ? Value(i) : Value(absl::StrCat("s", i));
    actions.push_back(bots::BotUpdated(
        BotId(i % kWorkloadBots),
        MakeObject(
            {{"tags", MakeObject({{TagName((i / kWorkloadBots) % kWorkloadTags),
                                   v}})}})));
  }
  return actions;
}

std::vector<std::vector<Value>> Batches(const std::vector<Value>& actions,
                                        size_t size) {
  std::vector<std::vector<Value>> out;
  for (size_t i = 0; i < actions.size(); i += size) {
    out.emplace_back(actions.begin() + static_cast<ptrdiff_t>(i),
                     actions.begin() + static_cast<ptrdiff_t>(
                                           std::min(i + size, actions.size())));
  }
  return out;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace auxsync::bench
