// Fuzzes the YjsPartition's read and write paths on documents that other
// peers shaped: a shared inst accepts any Yjs update, so the bots map can
// hold anything (numbers where bot maps belong, texts nested in texts,
// masks for missing bots), and every later local write meets that document.
//
// The input is a list of records, each [op][length: 2 bytes LE][bytes]:
//   op % 4 == 0  the bytes as a remote v1 update (apply_updates_to_inst);
//   op % 4 == 1  set a tag of an existing bot (chosen by the bytes) to a
//                string, number, null, object or text edit;
//   op % 4 == 2  add a bot or remove one;
//   op % 4 == 3  set a mask of an existing bot.
// Checks: nothing crashes, every entry of the state is an object with the
// key as its id (or none, see CheckState), and a fresh partition loads the
// document's encoded state with every struct of it (see below). The states
// themselves are compared with the real aux-common's, on the remote updates of
// these inputs, by interop/yjs_partition_hostile_diff.mjs: upstream's own
// incremental and whole reads differ, so no check here can stand in.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/bots/tag_edit.h"
#include "auxsync/bots/value.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/partitions/yjs_partition.h"

namespace {

using ::auxsync::bots::MakeObject;
using ::auxsync::bots::Value;

// The partition's space: masks are written for it.
constexpr std::string_view kSpace = "shared";
using ::auxsync::partitions::YjsPartition;
using ::auxsync::partitions::YjsPartitionConfig;

std::unique_ptr<YjsPartition> NewPartition(uint64_t client_id) {
  YjsPartitionConfig config;
  config.client_id = client_id;
  config.remote_client_id = client_id + 1;
  config.now = [] { return 1.0; };
  // apply_updates_to_inst is a remote event: without this it is ignored.
  config.remote_events = Value(true);
  auto p = std::make_unique<YjsPartition>(std::move(config));
  p->set_space(std::string(kSpace));
  p->Connect();
  return p;
}

// A bot id of the state picked by `pick`, or "" for an empty state.
std::string PickId(const Value& state, uint8_t pick) {
  std::vector<std::string> keys = state.as_object().Keys();
  return keys.empty() ? "" : keys[pick % keys.size()];
}

// A tag value from the record's bytes: its first byte picks the kind.
Value ValueOf(std::string_view bytes) {
  const uint8_t kind = bytes.empty() ? 0 : static_cast<uint8_t>(bytes[0]);
  std::string_view rest = bytes.empty() ? bytes : bytes.substr(1);
  switch (kind % 6) {
    case 0:
      return Value(std::string(rest));
    case 1:
      return Value(static_cast<double>(rest.size()) - 3.5);
    case 2:
      return Value(nullptr);
    case 3:
      return MakeObject({{"text", Value(std::string(rest))}});
    default: {
      // A text edit at a position and length taken from the bytes.
      double at = rest.empty() ? 0 : static_cast<uint8_t>(rest[0]) % 16;
      double del = rest.size() < 2 ? 0 : static_cast<uint8_t>(rest[1]) % 8;
      std::vector<Value> ops = {auxsync::bots::Preserve(at)};
      if (del > 0) ops.push_back(auxsync::bots::Del(del));
      ops.push_back(
          auxsync::bots::Insert(rest.size() > 2 ? rest.substr(2) : "x"));
      return auxsync::bots::Edit(Value::NewObject(), std::move(ops));
    }
  }
}

void Apply(YjsPartition& p, std::vector<Value> actions) {
  (void)p.ApplyEvents(actions);
}

void ApplyUpdate(YjsPartition& p, std::string_view bytes) {
  Value update =
      MakeObject({{"id", Value(0)},
                  {"timestamp", Value(1)},
                  {"update", Value(absl::Base64Escape(absl::string_view(
                                 bytes.data(), bytes.size())))}});
  Value updates = Value::NewArray();
  updates.as_array().items.push_back(update);
  Value event = MakeObject(
      {{"type", Value("apply_updates_to_inst")}, {"updates", updates}});
  (void)p.SendRemoteEvents({auxsync::bots::Remote(
      event, auxsync::bots::RemoteSelector{}, Value(), Value("t"))});
}

// Upstream's state holds bots ({id, tags, space...}) and, for mask keys of
// ids that are not bots, entries without an id (masks alone, or nothing
// once those masks are deleted).
void CheckState(const Value& state) {
  if (!state.is_object()) abort();
  state.as_object().ForEach([&](const std::string& key, const Value& bot) {
    if (bot.is_object() &&
        (bot["id"].is_undefined() ||
         (bot["id"].is_string() && bot["id"].as_string() == key))) {
      return;
    }
    std::fprintf(stderr, "bot %s in state %s\n", key.c_str(),
                 auxsync::bots::ToJson(state, {.tagged = true}).c_str());
    abort();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // AUXSYNC_FUZZ_TRACE=1 prints the state after each record (triage).
  static const bool trace = std::getenv("AUXSYNC_FUZZ_TRACE") != nullptr;
  std::unique_ptr<YjsPartition> p = NewPartition(7);
  size_t pos = 0;
  int records = 0;
  while (pos + 3 <= size && records++ < 64) {
    const uint8_t op = data[pos];
    const size_t n =
        std::min<size_t>(data[pos + 1] | (data[pos + 2] << 8), size - pos - 3);
    std::string_view bytes(reinterpret_cast<const char*>(data + pos + 3), n);
    pos += 3 + n;
    const uint8_t pick = n > 0 ? static_cast<uint8_t>(bytes[0]) : 0;
    std::string_view rest = n > 0 ? bytes.substr(1) : bytes;
    const std::string tag = absl::StrCat("t", pick % 3);
    switch (op % 4) {
      case 0:
        ApplyUpdate(*p, bytes);
        break;
      case 1:
      case 3: {
        // A tag, or a mask in the partition's space.
        std::string id = PickId(p->state(), pick);
        if (id.empty()) break;
        Value tags = MakeObject({{tag, ValueOf(rest)}});
        Value update =
            op % 4 == 1 ? MakeObject({{"tags", tags}})
                        : MakeObject({{"masks", MakeObject({{kSpace, tags}})}});
        Apply(*p, {auxsync::bots::BotUpdated(id, update)});
        break;
      }
      default: {
        if (pick & 1) {
          std::string id = PickId(p->state(), pick >> 1);
          if (!id.empty()) Apply(*p, {auxsync::bots::BotRemoved(id)});
          break;
        }
        Apply(*p, {auxsync::bots::BotAdded(auxsync::bots::CreateBot(
                      absl::StrCat("b", pick % 5),
                      MakeObject({{tag, ValueOf(rest)}})))});
        break;
      }
    }
    if (trace) {
      std::fprintf(stderr, "record %d (op %d, %zu bytes): %s\n", records,
                   op % 4, n,
                   auxsync::bots::ToJson(p->state(), {.tagged = true}).c_str());
    }
    CheckState(p->state());
  }
  // The whole document read at once by a fresh partition. Its state may
  // differ from the one built transaction by transaction, as upstream's
  // does (a removed bot's masks stay in the document; a transaction with a
  // mask key without ':' is dropped), but it holds every struct (see below).
  std::unique_ptr<YjsPartition> fresh = NewPartition(9);
  std::string encoded;
  if (!absl::Base64Unescape(p->EncodeStateBase64(), &encoded)) abort();
  ApplyUpdate(*fresh, encoded);
  CheckState(fresh->state());
  // Every struct of the document is in the copy, pending structs or not
  // (the engine never lets a pending copy of an id replace the integrated
  // struct, where yjs 13.6 can; the copy may hold more: a pending struct
  // past the state can integrate there).
  for (const auto& [client, clock] : p->doc().store().StateVector()) {
    if (fresh->doc().State(client) < clock) abort();
  }
  return 0;
}
