#include "auxsync/cli/bench_workload.h"

#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/tag_edit.h"

namespace auxsync::cli {
namespace {

using bots::Value;

constexpr std::string_view kTags[] = {"color", "label", "count", "flag",
                                      "list",  "obj",   "size",  "note"};
constexpr std::string_view kWords[] = {"alpha", "beta",  "gamma", "delta",
                                       "red",   "green", "blue",  "x",
                                       "hello", "world", "aux",   "bot"};

}  // namespace

BenchWorkload::BenchWorkload(uint64_t seed, std::string id_prefix,
                             std::string space)
    : state_(seed),
      id_prefix_(std::move(id_prefix)),
      space_(std::move(space)) {}

// splitmix64: the same sequence on every platform for a seed.
uint64_t BenchWorkload::Uniform(uint64_t n) {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return n == 0 ? 0 : z % n;
}

std::string BenchWorkload::Word() {
  return std::string(kWords[Uniform(std::size(kWords))]);
}

Value BenchWorkload::RandomValue(int depth) {
  switch (Uniform(depth < 2 ? 8 : 6)) {
    case 0:
      return Value(absl::StrCat(Word(), " ", Word()));
    case 1:
      return Value(static_cast<double>(Uniform(1000)));
    case 2:
      return Value(static_cast<double>(Uniform(100000)) / 64.0);
    case 3:
      return Value(true);
    case 4:
      return Value(false);
    case 5:
      return Value(-static_cast<double>(Uniform(500)) - 0.5);
    case 6: {
      Value array = Value::NewArray();
      for (uint64_t i = 0, n = 1 + Uniform(3); i < n; ++i) {
        array.as_array().items.push_back(RandomValue(depth + 1));
      }
      return array;
    }
    default: {
      Value object = Value::NewObject();
      for (uint64_t i = 0, n = 1 + Uniform(3); i < n; ++i) {
        object.as_object().Set(Word(), RandomValue(depth + 1));
      }
      return object;
    }
  }
}

std::string BenchWorkload::PickBot(const Value& state) {
  std::vector<std::string> ids;
  if (state.is_object()) {
    state.as_object().ForEach([&](const std::string& key, const Value& bot) {
      if (bot.is_object() && bot["id"].is_string()) ids.push_back(key);
    });
  }
  if (ids.empty()) return "";
  return ids[Uniform(ids.size())];
}

Value BenchWorkload::Next(const Value& state, const Value& version) {
  ++ops_;
  uint64_t roll = Uniform(100);
  std::string id = roll < 25 ? "" : PickBot(state);
  if (id.empty()) {
    // add_bot with a text tag (for edits) and a few of every value kind.
    Value tags = Value::NewObject();
    tags.as_object().Set("text", absl::StrCat(Word(), " ", Word()));
    for (uint64_t i = 0, n = 2 + Uniform(3); i < n; ++i) {
      tags.as_object().Set(kTags[Uniform(std::size(kTags))], RandomValue(0));
    }
    Value bot = Value::NewObject();
    bot.as_object().Set("id", absl::StrCat(id_prefix_, ++added_));
    bot.as_object().Set("tags", tags);
    return bots::BotAdded(bot);
  }
  const Value& bot = state[id];
  if (roll < 55) {
    // update_bot: set or delete (null) a few tags.
    Value tags = Value::NewObject();
    for (uint64_t i = 0, n = 1 + Uniform(3); i < n; ++i) {
      tags.as_object().Set(kTags[Uniform(std::size(kTags))],
                           Uniform(5) == 0 ? Value(nullptr) : RandomValue(0));
    }
    Value update = Value::NewObject();
    update.as_object().Set("tags", tags);
    return bots::BotUpdated(id, update);
  }
  if (roll < 70) {
    // A tag edit of the text tag at the current version.
    const Value& text = bot["tags"]["text"];
    size_t length = text.is_string() ? text.as_string().size() : 0;
    std::vector<Value> ops;
    uint64_t at = Uniform(length + 1);
    if (at > 0) ops.push_back(bots::Preserve(static_cast<double>(at)));
    if (at < length && Uniform(3) == 0) {
      ops.push_back(bots::Del(static_cast<double>(1 + Uniform(length - at))));
    } else {
      ops.push_back(bots::Insert(absl::StrCat(Word(), " ")));
    }
    Value tags = Value::NewObject();
    tags.as_object().Set(
        "text",
        bots::Edit(version.is_object() ? version.Clone() : Value::NewObject(),
                   std::move(ops)));
    Value update = Value::NewObject();
    update.as_object().Set("tags", tags);
    return bots::BotUpdated(id, update);
  }
  if (roll < 85) {
    // A tag mask in the partition's space (null deletes it).
    Value masks = Value::NewObject();
    masks.as_object().Set(kTags[Uniform(std::size(kTags))],
                          Uniform(4) == 0 ? Value(nullptr) : RandomValue(1));
    Value spaces = Value::NewObject();
    spaces.as_object().Set(space_, masks);
    Value update = Value::NewObject();
    update.as_object().Set("masks", spaces);
    return bots::BotUpdated(id, update);
  }
  return bots::BotRemoved(id);
}

}  // namespace auxsync::cli
