#include "auxsync/partitions/yjs_partition_core.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/js_number.h"
#include "auxsync/bots/js_string.h"
#include "auxsync/bots/remote_actions.h"
#include "auxsync/bots/runtime_values.h"
#include "auxsync/bots/serialization.h"
#include "auxsync/bots/tag_edit.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/internal/fast_access.h"
#include "auxsync/crdt/internal/item.h"
#include "auxsync/crdt/internal/prefetch.h"
#include "auxsync/crdt/relative_position.h"
#include "auxsync/partitions/inst_updates.h"
#include "auxsync/partitions/internal/yjs_bot_doc.h"
#include "auxsync/partitions/internal/yjs_bot_read.h"
#include "auxsync/partitions/partition_utils.h"
#include "auxsync/partitions/status_update.h"
#include "auxsync/partitions/yjs_helpers.h"

namespace auxsync::partitions {

using bots::CurrentVersion;
using bots::HasValue;
using bots::IsTruthy;
using bots::Value;

namespace {

// A key as JavaScript would write `${value}` for the usual cases.
std::string KeyString(const Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_undefined()) return "undefined";
  return bots::ConvertToString(v.is_null() ? Value("null") : v);
}

uint64_t RandomClientId() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) & 0xFFFFFFFFu);
}

// Object.keys of an object (nothing for other values).
std::vector<std::string> KeysOf(const Value& v) {
  if (!v.is_object()) return {};
  return v.as_object().Keys();
}

Value TypeError(std::string message) {
  return bots::MakeError("TypeError", std::move(message));
}

// compareVersions of SimpleVersionNumbers (aux-common common/Version).
int CompareVersions(const Value& a, const Value& b) {
  for (const char* part : {"major", "minor", "patch"}) {
    const Value& x = a[part];
    const Value& y = b[part];
    double xv = x.is_number() ? x.as_number() : std::nan("");
    double yv = y.is_number() ? y.as_number() : std::nan("");
    if (xv < yv) return -1;
    if (xv > yv) return 1;
  }
  const Value& ta = a["tag"];
  const Value& tb = b["tag"];
  if (ta.is_null() && !tb.is_null()) return 1;
  if (!ta.is_null() && tb.is_null()) return -1;
  if (ta.is_string() && tb.is_string()) {
    // localeCompare; plain code-unit order is close enough for tags.
    int c = ta.as_string().compare(tb.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return 0;
}

std::string FormatVersion(const Value& v) {
  auto num = [&](const char* k) { return bots::ConvertToString(v[k]); };
  const Value& tag = v["tag"];
  std::string t = tag.is_nullish() ? "" : bots::ConvertToString(tag);
  return absl::StrCat("v", num("major"), ".", num("minor"), ".", num("patch"),
                      t.empty() ? "" : absl::StrCat("-", t));
}

using internal::TextValue;

// Whether upstream's `instanceof Text` holds for a type of this kind: a
// Y.Text, or a Y.XmlText (a subclass) that another peer put in a tag.
bool IsTextKind(crdt::engine::TypeKind kind) {
  return kind == crdt::engine::TypeKind::kText ||
         kind == crdt::engine::TypeKind::kXmlText;
}

// internal::ReadSlot, with a text read by TextValue.
Value ReadSlotValue(const crdt::OutValue& v) {
  if (v.type != nullptr && v.type->kind == crdt::engine::TypeKind::kText) {
    return Value(TextValue(v.type));
  }
  return internal::ReadSlot(v);
}

// internal::ReadBot: the same bot, read straight from the engine's items.
Value ReadBotDirect(std::string_view id, const crdt::OutValue& slot) {
  return internal::ReadBotOfMap(id, slot.type);
}

// to = from, for the short names of the single-tag path: an equal-length
// name is copied in place without a call.
void CopyShortString(const std::string& from, std::string& to) {
  const size_t n = from.size();
  if (n != to.size() || n > 32) {
    to.assign(from);
    return;
  }
  char* out = to.data();
  for (size_t i = 0; i < n; ++i) out[i] = from[i];
}

// A set of addresses that is a short array while it is small (a
// transaction's updated bots are one or a few) and hashed once it grows
// (a batch of many), so that filling it stays linear.
class AddressSet {
 public:
  // False when `p` is in the set already.
  bool Insert(const void* p) {
    if (hashed_.empty()) {
      for (const void* q : small_) {
        if (q == p) return false;
      }
      if (small_.size() < kSmall) {
        small_.push_back(p);
        return true;
      }
      hashed_.insert(small_.begin(), small_.end());
    }
    return hashed_.insert(p).second;
  }

 private:
  static constexpr size_t kSmall = 16;
  absl::InlinedVector<const void*, 4> small_;
  absl::flat_hash_set<const void*> hashed_;
};

// The value of a map key's live current item as ProcessDirect reads it:
// ReadSlotValue of its value without the OutValue copy.
Value ReadItemDirect(const crdt::engine::Item* item) {
  return internal::ReadItemValue(item);
}

// Whether `item`, the map item of a Y.Text that SetSlot made from the
// string `value`, still holds just that text, which reads back as `value`
// (ASCII: FromUtf16 gives the same bytes).
bool TextReadsAs(const crdt::engine::Item* item, const std::string& value) {
  if (item->content.ref != crdt::engine::kRefType ||
      item->content.type() == nullptr ||
      item->content.type()->kind != crdt::engine::TypeKind::kText) {
    return false;
  }
  const crdt::engine::Item* s = item->content.type()->start;
  if (s == nullptr || s->right != nullptr || s->deleted ||
      s->content.ref != crdt::engine::kRefString ||
      s->content.str.size() != value.size()) {
    return false;
  }
  const std::u16string_view units = s->content.str;
  for (size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80 || units[i] != c) return false;
  }
  return true;
}

// The value of `key` in a live map as ProcessDirect reads it (undefined
// when absent or deleted): map.Get(key) and ReadSlotValue without the
// OutValue copy.
Value ReadEntryDirect(const crdt::engine::TypeImpl* map,
                      const std::string& key) {
  const crdt::engine::Item* item = map->GetMap(std::string_view(key));
  if (item == nullptr || item->deleted) return Value();
  return ReadItemDirect(item);
}

}  // namespace

YjsPartitionCore::YjsPartitionCore(YjsPartitionCoreOptions config)
    : on_version_(CurrentVersion{}) {
  crdt::DocOptions options;
  options.client_id = config.client_id.value_or(0);
  doc_ = std::make_unique<crdt::Doc>(options);
  // DocOptions takes 0 as "random"; an explicit 0 is set afterwards.
  if (config.client_id.has_value()) doc_->set_client_id(*config.client_id);
  // Tag edits judge items by their first clock between the inserts of one
  // transaction (CreateAbsolutePositionFromStateVector): they need yjs's
  // item boundaries there, not typing appended at creation.
  doc_->set_append_local_typing(false);
  // The direct read path reads changed types and keys without events; the
  // general path asks for them before the partition changes the doc.
  doc_->set_lazy_events(true);
  local_id_ = doc_->client_id();
  remote_id_ = config.remote_client_id.has_value() ? *config.remote_client_id
                                                   : RandomClientId();
  current_site_ = absl::StrCat(local_id_);
  remote_site_ = absl::StrCat(remote_id_);
  private_ = config.is_private;
  now_ = std::move(config.now);
  local_flag_only_during_writes_ = config.local_flag_only_during_writes;
  answer_empty_initialization_ = config.answer_empty_initialization;

  current_version_ =
      CurrentVersion{current_site_, remote_site_, Value::NewObject()};
  on_version_.Next(current_version_);

  bots_ = doc_->GetMap(internal::kBotsMapName);
  masks_ = doc_->GetMap(internal::kMasksMapName);

  MemoryPartitionConfig memory;
  memory.local_site_id = current_site_;
  memory.remote_site_id = remote_site_;
  internal_ = std::make_unique<MemoryPartition>(std::move(memory));
  internal_->set_current_version_hook([this] { return current_version_; });
  internal_->set_next_version_hook(
      [this](const Value& edit) { return NextVersion(edit); });
  // The replays these subscriptions get now go to no one.
  forward_.push_back(internal_->OnBotsAdded(
      [this](const std::vector<Value>& bots) { on_bots_added_.Next(bots); }));
  forward_.push_back(
      internal_->OnBotsRemoved([this](const std::vector<std::string>& ids) {
        on_bots_removed_.Next(ids);
      }));
  forward_.push_back(internal_->OnBotsUpdated(
      [this](const std::vector<bots::UpdatedBot>& updated) {
        on_bots_updated_.Next(updated);
      }));
  forward_.push_back(
      internal_->OnStateUpdated([this](const bots::StateUpdatedEvent& event) {
        on_state_updated_.Next(event);
      }));

  after_transaction_ = doc_->OnAfterTransaction(
      [this](const crdt::Transaction& tr) { ProcessTransaction(tr); });
}

YjsPartitionCore::~YjsPartitionCore() { after_transaction_.Reset(); }

double YjsPartitionCore::Now() const { return now_ ? now_() : NowMs(); }

void YjsPartitionCore::SyncSpace() {
  if (internal_->space() != space()) internal_->set_space(space());
}

CurrentVersion YjsPartitionCore::NextVersion(const Value& edit) {
  Value version = GetStateVectorValue(*doc_);
  Value vector = Value::NewObject();
  if (is_remote_update_) {
    version.as_object().ForEach([&](const std::string& key, const Value& v) {
      if (key != current_site_) vector.as_object().Set(key, v);
    });
  } else {
    const std::string& site =
        IsTruthy(edit["isRemote"]) ? remote_site_ : current_site_;
    const Value* clock =
        version.as_object().Find(absl::StrCat(doc_->client_id()));
    vector.as_object().Set(site, clock != nullptr ? *clock : Value(0));
  }
  return CurrentVersion{current_site_, remote_site_, vector};
}

void YjsPartitionCore::Defer(std::function<void()> fn) {
  // (An empty function in deferred_ is a version emission.)
  if (fn) deferred_.push_back(std::move(fn));
}

void YjsPartitionCore::QueueVersions(int count) {
  // Each emission reads the version current when it runs, as upstream's
  // awaited handler does. An empty function stands for one.
  for (int i = 0; i < count; ++i) deferred_.emplace_back();
}

void YjsPartitionCore::FlushDeferred() {
  // An emission may call back into the partition and queue more; those run
  // in this same loop, after the ones already queued.
  size_t next = 0;
  while (next < deferred_.size()) {
    if (!deferred_[next]) {
      ++next;
      // Versions of one partition differ in their vector (the sites are
      // set once): the held one's site strings are kept when they match.
      on_version_.NextAssigning(
          current_version_, [](CurrentVersion& to, const CurrentVersion& from) {
            if (to.current_site != from.current_site) {
              to.current_site = from.current_site;
            }
            if (to.remote_site != from.remote_site) {
              to.remote_site = from.remote_site;
            }
            to.vector = from.vector;
          });
      continue;
    }
    std::function<void()> fn = std::move(deferred_[next++]);
    fn();
  }
  deferred_.clear();
}

// ---------------------------------------------------------------------------
// Write path (section 8.3)

namespace {

// What the write path does with an action, from its type (read once).
enum class WriteKind : uint8_t {
  kIgnored,
  kAdd,
  kRemove,
  kUpdate,
  kApplyState
};

WriteKind WriteKindOfType(const Value& type) {
  if (!type.is_string()) return WriteKind::kIgnored;
  // By length first: one fixed-size compare per action.
  const std::string& t = type.as_string();
  switch (t.size()) {
    case 10:
      if (std::memcmp(t.data(), "update_bot", 10) == 0) {
        return WriteKind::kUpdate;
      }
      if (std::memcmp(t.data(), "remove_bot", 10) == 0) {
        return WriteKind::kRemove;
      }
      break;
    case 7:
      if (std::memcmp(t.data(), "add_bot", 7) == 0) return WriteKind::kAdd;
      break;
    case 11:
      if (std::memcmp(t.data(), "apply_state", 11) == 0) {
        return WriteKind::kApplyState;
      }
      break;
    default:
      break;
  }
  return WriteKind::kIgnored;
}

// How far below and above an action's object PrefetchActionParts asks
// for memory.
constexpr uintptr_t kActionPartsBelow = 1024;
constexpr uintptr_t kActionPartsAbove = 256;

// Asks for the memory around an action's object before it is read. A
// caller builds an action's parts (its update, the update's tags, their
// strings) right before the action, so they usually lie just below it;
// read one after another, each part is found only once the one holding it
// has arrived, a chain of misses when the caller's actions are cold (a
// queue of actions built earlier). Addresses only, never a read: a
// prefetch of any address is harmless.
void PrefetchActionParts(const Value& action) {
  if (!action.is_object()) return;
  const uintptr_t p = reinterpret_cast<uintptr_t>(&action.as_object());
  crdt::engine::PrefetchLines(p - kActionPartsBelow, p + kActionPartsAbove, 64);
}

}  // namespace

// The fields of an action the write path reads, found in one pass over its
// keys (an action has three or four): what action["type"], action["id"],
// action["bot"] and action["update"] give, without a lookup each.
struct YjsPartitionCore::WriteAction {
  WriteKind kind = WriteKind::kIgnored;
  const Value* id = nullptr;      // null: undefined
  const Value* bot = nullptr;     // null: undefined
  const Value* update = nullptr;  // null: undefined

  static WriteAction Of(const Value& action) {
    WriteAction out;
    if (!action.is_object()) return out;
    const Value* type = nullptr;
    action.as_object().ForEach([&](const std::string& key, const Value& v) {
      // Fixed-size compares (no strlen, no call).
      const char* k = key.data();
      switch (key.size()) {
        case 2:
          if (k[0] == 'i' && k[1] == 'd') out.id = &v;
          break;
        case 3:
          if (std::memcmp(k, "bot", 3) == 0) out.bot = &v;
          break;
        case 4:
          if (std::memcmp(k, "type", 4) == 0) type = &v;
          break;
        case 6:
          if (std::memcmp(k, "update", 6) == 0) out.update = &v;
          break;
        default:
          break;
      }
    });
    if (type != nullptr) out.kind = WriteKindOfType(*type);
    return out;
  }
};

absl::Status YjsPartitionCore::ApplyBotEvents(
    const std::vector<Value>& events) {
  CallScope scope(this);
  absl::Status error;
  absl::InlinedVector<WriteAction, 4> read;
  read.reserve(events.size());
  bool has_apply_state = false;
  for (const Value& e : events) {
    PrefetchActionParts(e);
    read.push_back(WriteAction::Of(e));
    // An update's bot ref is looked up once its update object has been
    // read: its table slot is asked for now, from the id.
    const WriteAction& a = read.back();
    if (a.kind == WriteKind::kUpdate && a.id != nullptr && a.id->is_string()) {
      const std::string& id = a.id->as_string();
      bot_refs_.prefetch(absl::string_view(id.data(), id.size()));
    }
    if (read.back().kind == WriteKind::kApplyState) has_apply_state = true;
  }
  if (!has_apply_state) {
    // ApplyActions skips every other type itself: no copy of the list.
    ApplyActions(events, read.data(), &error);
    return error;
  }
  std::vector<Value> actions;
  actions.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const Value& e = events[i];
    switch (read[i].kind) {
      case WriteKind::kApplyState:
        for (Value& a : bots::BreakIntoIndividualEvents(state(), e)) {
          actions.push_back(std::move(a));
        }
        break;
      case WriteKind::kAdd:
      case WriteKind::kRemove:
      case WriteKind::kUpdate:
        actions.push_back(e);
        break;
      case WriteKind::kIgnored:
        break;
    }
  }
  ApplyActions(actions, nullptr, &error);
  return error;
}

void YjsPartitionCore::ApplyActions(const std::vector<Value>& actions,
                                    const WriteAction* read,
                                    absl::Status* error) {
  is_local_transaction_ = true;
  const bool has_space = space().has_value() && !space()->empty();
  const Value undefined;
  doc_->Transact([&](crdt::Transaction& tr) {
    // The read path may take over a batch's plain tag writes (see
    // ProcessTagWrite); a second batch in the same transaction, or any
    // other change, rules them out (`other`).
    TagWrite& noted = tag_write_;
    if (noted.tr == &tr) {
      noted.other = true;
    } else {
      noted.tr = &tr;
      noted.other = false;
      noted.count = 0;
      noted.more.clear();
      noted.epoch = state_epoch_;
    }
    for (size_t i = 0; i < actions.size(); ++i) {
      const Value& event = actions[i];
      const WriteAction action =
          read != nullptr ? read[i] : WriteAction::Of(event);
      const WriteKind kind = action.kind;
      if (kind == WriteKind::kIgnored || kind == WriteKind::kApplyState) {
        continue;
      }
      if (kind != WriteKind::kUpdate) noted.other = true;
      // `${id}`: the id itself when it is a string (no copy).
      std::string id_text;
      const std::string& id =
          action.id != nullptr && action.id->is_string()
              ? action.id->as_string()
              : (id_text =
                     KeyString(action.id != nullptr ? *action.id : undefined));
      if (kind == WriteKind::kAdd) {
        const Value& bot = action.bot != nullptr ? *action.bot : undefined;
        std::vector<std::pair<const std::string*, Value>> entries;
        const Value& tags = bot["tags"];
        if (tags.is_object()) {
          entries.reserve(tags.as_object().size());
          tags.as_object().ForEach([&](const std::string& tag, const Value& v) {
            Value val = bots::EnsureTagIsSerializable(v);
            if (HasValue(val)) entries.emplace_back(&tag, std::move(val));
          });
        }
        if (has_space && IsTruthy(bot["masks"])) {
          const Value& masks = bot["masks"][*space()];
          if (IsTruthy(masks)) {
            for (const std::string& tag : KeysOf(masks)) {
              Value val = bots::EnsureTagIsSerializable(masks[tag]);
              if (HasValue(val)) {
                internal::SetSlot(masks_, internal::TagMaskId(id, tag), val);
              }
            }
          }
        }
        // An empty map and then each tag writes the same items in the same
        // order as `new Y.Map(entries)` (prelim content is set key by key
        // right after the map is integrated), without the engine copying
        // every entry into prelim content first.
        bots_.Set(id, crdt::Input::Map());
        if (!entries.empty()) {
          std::optional<crdt::OutValue> created = bots_.Get(id);
          crdt::YMap bot_map(created->type);
          for (const auto& [tag, val] : entries) {
            internal::SetSlot(bot_map, *tag, val);
          }
        }
      } else if (kind == WriteKind::kRemove) {
        bots_.Delete(id);
      } else {
        const Value& update =
            action.update != nullptr ? *action.update : undefined;
        // update["tags"] and update["masks"] in one pass over its keys (an
        // update has one or two).
        const Value* tags_field = &undefined;
        const Value* masks_field = &undefined;
        if (update.is_object()) {
          update.as_object().ForEach([&](const std::string& key,
                                         const Value& v) {
            if (key.size() == 4 && std::memcmp(key.data(), "tags", 4) == 0) {
              tags_field = &v;
            } else if (key.size() == 5 &&
                       std::memcmp(key.data(), "masks", 5) == 0) {
              masks_field = &v;
            }
          });
        }
        const Value& update_tags = *tags_field;
        // The bot's state entry, its tags object and its live map in the
        // document: from bot_refs_ when it has them, else looked up (and
        // noted there when the bot has all three).
        Value* current_bot = nullptr;
        bots::Object* current_tags = nullptr;
        crdt::engine::TypeImpl* bot_map = nullptr;
        BotRef* ref = nullptr;
        if (update_tags.is_object()) {
          auto it = bot_refs_.find(absl::string_view(id.data(), id.size()));
          if (it != bot_refs_.end()) ref = &it->second;
        }
        if (ref != nullptr && ref->epoch == bot_refs_epoch_ &&
            !ref->item->deleted) {
          current_bot = ref->entry;
          current_tags = ref->tags;
          bot_map = ref->map;
          // The tags object's header (its key hashes), the map's table and
          // the bot's state entry (read next, by the truthiness test).
          crdt::engine::PrefetchLine(current_tags);
          crdt::engine::PrefetchType(bot_map);
          crdt::engine::PrefetchLine(current_bot);
        } else {
          current_bot =
              state().is_object() ? state().as_object().Find(id) : nullptr;
          if (IsTruthy(update_tags) && current_bot != nullptr &&
              IsTruthy(*current_bot) && update_tags.is_object()) {
            // bots_.Get(id) without the OutValue: the live map of the bot.
            if (const crdt::engine::Item* item =
                    bots_.impl()->GetMap(std::string_view(id))) {
              if (!item->deleted &&
                  item->content.ref == crdt::engine::kRefType &&
                  item->content.type() != nullptr &&
                  item->content.type()->kind == crdt::engine::TypeKind::kMap) {
                bot_map = item->content.type();
              }
            }
            const Value& tags_value = (*current_bot)["tags"];
            if (tags_value.is_object()) current_tags = &tags_value.as_object();
            if (bot_map != nullptr && current_tags != nullptr) {
              BotRef& fill =
                  ref != nullptr
                      ? *ref
                      : bot_refs_[absl::string_view(id.data(), id.size())];
              fill = BotRef{bot_refs_epoch_, current_bot, current_tags, bot_map,
                            bot_map->item};
            }
          }
        }
        if (IsTruthy(update_tags) && current_bot != nullptr &&
            IsTruthy(*current_bot) && update_tags.is_object()) {
          if (current_bot->is_object()) {
            // The bot object's reference count, which the report reads last
            // (an entry nothing else holds is written in place): a shared
            // object made by make_shared keeps it just before the object,
            // and a request now arrives during the write.
            crdt::engine::PrefetchLine(
                reinterpret_cast<const char*>(&current_bot->as_object()) - 16);
          }
          if (bot_map != nullptr) {
            crdt::YMap map(bot_map);
            bool stop = false;
            update_tags.as_object().ForEach([&](const std::string& tag,
                                                const Value& given) {
              if (stop) return;
              Value new_val = bots::EnsureTagIsSerializable(given);
              if (current_tags == nullptr) {
                // currentBot.tags[tag] on an entry without tags.
                *error = absl::InvalidArgumentError(absl::StrCat(
                    "TypeError: Cannot read properties of undefined (reading "
                    "'",
                    tag, "')"));
                stop = true;
                return;
              }
              // The document's half of the write (the key's old item, which
              // is replaced and deleted) is requested first and arrives
              // while the state's half (the old value) is read.
              // (By the Doc's key: a bot map's few keys are then compared
              // by address, not text; the write reuses key and item.)
              const crdt::engine::ItemKey tag_key =
                  crdt::engine::MapKeyOf(bot_map, tag);
              crdt::engine::Item* old_item = bot_map->GetMap(tag_key);
              crdt::engine::PrefetchAround(old_item);
              Value* old_slot = current_tags->Find(tag);
              const Value& old_val =
                  old_slot != nullptr ? *old_slot : undefined;
              // An old string's node (made by an earlier write, cold) is
              // released when the new value is stored, after the
              // document's write: requested now, it arrives meanwhile.
              if (old_val.is_string()) __builtin_prefetch(&old_val.as_string());
              if (old_item != nullptr &&
                  old_item->content.ref == crdt::engine::kRefType) {
                crdt::engine::PrefetchType(old_item->content.type());
              }
              if (bots::StrictEquals(new_val, old_val)) {
                if (new_val.is_array()) {
                  new_val = Value(
                      std::make_shared<bots::Array>(new_val.as_array().items));
                } else {
                  return;
                }
              }
              if ((new_val.is_string() && !new_val.as_string().empty()) ||
                  new_val.is_number() || new_val.is_bool()) {
                // UpdateValueInMap of a plain value with a value, noting
                // the write for the read path.
                doc_->set_client_id(local_id_);
                crdt::engine::Item* item =
                    internal::SetPlainSlot(map, tag_key, old_item, new_val);
                if (noted.other || item == nullptr) {
                  noted.other = true;
                } else {
                  NotedWrite& w = noted.count == 0 ? noted.first
                                                   : noted.more.emplace_back();
                  ++noted.count;
                  w.map = bot_map;
                  w.item = item;
                  w.entry = current_bot;
                  w.tags = current_tags;
                  w.slot = old_slot;
                  w.value = std::move(new_val);
                }
                return;
              }
              noted.other = true;
              if (absl::Status st =
                      UpdateValueInMap(map, tag, std::move(new_val));
                  !st.ok()) {
                *error = st;
                stop = true;
              }
            });
            if (stop) return;
          }
        }
        if (has_space) {
          const Value& masks_update = *masks_field;
          if (IsTruthy(masks_update)) {
            noted.other = true;
            const Value& masks = masks_update[*space()];
            if (IsTruthy(masks)) {
              for (const std::string& tag : KeysOf(masks)) {
                absl::Status st =
                    UpdateValueInMap(masks_, internal::TagMaskId(id, tag),
                                     bots::EnsureTagIsSerializable(masks[tag]));
                if (!st.ok()) {
                  *error = st;
                  return;
                }
              }
            }
          }
        }
      }
    }
  });
  // RemoteYjsPartition's flag is reset after the batch (also after an
  // error), so later server updates count as remote.
  if (local_flag_only_during_writes_) is_local_transaction_ = false;
}

absl::Status YjsPartitionCore::UpdateValueInMap(crdt::YMap map,
                                                const std::string& key,
                                                Value value) {
  doc_->set_client_id(local_id_);
  if (!HasValue(value)) {
    map.Delete(key);
    return absl::OkStatus();
  }
  if (!bots::IsTagEdit(value)) {
    internal::SetSlot(map, key, value);
    return absl::OkStatus();
  }
  if (IsTruthy(value["isRemote"])) {
    doc_->set_client_id(remote_id_);
    is_local_transaction_ = false;
  }
  std::optional<crdt::OutValue> current = map.Get(key);
  crdt::YText text;
  if (current.has_value() && current->type != nullptr &&
      IsTextKind(crdt::YType(current->type).kind())) {
    text = crdt::YText(current->type);
  } else {
    std::string initial =
        current.has_value()
            ? bots::ConvertToString(internal::ReadSlot(*current))
            : std::string();
    // The edit goes into the new text, as upstream's goes into the
    // `new Text()` it set, even where the document does not make that text
    // the key's value (another peer linked foreign items into the key).
    const crdt::engine::Item* item =
        crdt::engine::SetMapText(map, key, bots::ToUtf16(initial));
    // Null when the bot's map is deleted: the text went in deleted, and
    // nothing can read an edit of it.
    if (item == nullptr) return absl::OkStatus();
    text = crdt::YText(item->content.type());
  }
  // The edit's version, with the local client always fully visible.
  ClockVector version = ClockVectorFromValue(value["version"]);
  auto set_local_clock = [&] {
    std::optional<uint64_t> clock = GetClock(*doc_, local_id_);
    if (clock.has_value()) {
      version[local_id_] = static_cast<double>(*clock);
    } else {
      version.erase(local_id_);
    }
  };
  set_local_clock();
  // The absolute index of visible index `index` under `version`.
  auto position = [&](double index) -> uint64_t {
    // Positions past any real text (huge, infinite) are all "the end".
    uint64_t i = !(index > 0)    ? 0
                 : index >= 9e15 ? uint64_t{1} << 53
                                 : static_cast<uint64_t>(std::floor(index));
    std::optional<crdt::AbsolutePosition> pos =
        CreateAbsolutePositionFromStateVector(*doc_, text, version, i);
    return pos.has_value() ? pos->index : text.Length();
  };
  const Value& operations = value["operations"];
  if (!operations.is_array()) return absl::OkStatus();
  for (const Value& sequence : operations.as_array().items) {
    if (!sequence.is_array()) continue;
    double index = 0;
    for (const Value& op : sequence.as_array().items) {
      const Value& type = op["type"];
      if (!type.is_string()) continue;
      if (type.as_string() == "preserve") {
        if (op["count"].is_number()) index += op["count"].as_number();
      } else if (type.as_string() == "insert") {
        if (!op["text"].is_string()) continue;
        std::u16string insert = bots::ToUtf16(op["text"].as_string());
        if (insert.empty()) continue;
        text.Insert(position(index), insert);
        index += static_cast<double>(insert.size());
      } else if (type.as_string() == "delete") {
        const Value& count = op["count"];
        if (!count.is_number() || !(count.as_number() > 0)) continue;
        if (text.impl()->start == nullptr) {
          // yjs 13.6.8 (aux-common's) cannot delete from a text that never
          // held an item: deleteText reads `.parent` of null.
          return absl::InvalidArgumentError(
              "TypeError: Cannot read properties of null (reading 'parent')");
        }
        double n = std::floor(count.as_number());
        text.Delete(position(index),
                    n > 9e15 ? uint64_t{1} << 53 : static_cast<uint64_t>(n));
      }
    }
    set_local_clock();
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Read path (section 8.4)

bool YjsPartitionCore::ProcessDirect(const crdt::Transaction& tr,
                                     Value& version) {
  // Collect first (no side effects), so that any shape the direct path does
  // not cover can still go the general way.
  // The ids of new bots (keys of `bots`); read from the document, and
  // added to the state one by one, once the shape is known to be covered.
  std::vector<NewBot> added;
  // id -> tags; one bot in the common single-tag update.
  absl::InlinedVector<std::pair<std::string, Value>, 1> updated;
  AddressSet seen_ids;  // the ids in `updated`
  // The changed types and keys are read straight from the transaction (the
  // doc builds events lazily, and only the general path asks for them): in
  // the order of the events of `bots` (every changed type that is not
  // deleted has one), with the key changes its event would list
  // (engine::MapKeyChange).
  crdt::engine::TypeImpl* const bots = bots_.impl();
  crdt::engine::TypeImpl* const masks = masks_.impl();
  using crdt::engine::MapKeyAction;
  for (crdt::engine::TypeImpl* target : tr.changed_types()) {
    if (target->item != nullptr && target->item->deleted) continue;
    crdt::engine::TypeImpl* root = target;
    while (root->item != nullptr) root = root->item->parent;
    if (root == masks) return false;
    if (root != bots) continue;  // ignored, as in the general path
    const std::vector<const std::string*>* keys =
        crdt::engine::ChangedMapKeys(tr, target);
    if (target == bots) {
      if (keys == nullptr) continue;
      // New bots (all of an initialization's) are the map's last keys: their
      // entries give their items without a lookup by id.
      const crdt::engine::MapTable::Entry* const at_end =
          crdt::engine::ChangedKeysAtEnd(tr, bots);
      for (size_t i = 0; i < keys->size(); ++i) {
        const std::string& key = *(*keys)[i];
        const crdt::engine::Item* item = nullptr;
        MapKeyAction action;
        if (at_end != nullptr) {
          item = at_end[i].current;
          action = crdt::engine::MapKeyChangeOfCurrent(tr, item);
        } else {
          action = crdt::engine::MapKeyChange(tr, bots, key, &item);
        }
        if (action == MapKeyAction::kNone) continue;
        if (action != MapKeyAction::kAdd) return false;
        added.push_back(NewBot{&key, item});
      }
      continue;
    }
    const crdt::engine::TypeKind kind = crdt::YType(target).kind();
    if (IsTextKind(kind)) return false;
    // Nested types below a tag are ignored, as in the general path.
    if (kind != crdt::engine::TypeKind::kMap ||
        internal::ParentType(target) != bots) {
      continue;
    }
    if (target->item == nullptr || !target->item->has_parent_sub) continue;
    const std::string& id = target->item->parent_sub;
    // A bot seen twice would merge partial states: the general path. The
    // ids are the Doc's interned keys (ItemKey): one address per id.
    if (!seen_ids.Insert(&id)) return false;
    Value tags = TakeSpareObject();
    if (keys != nullptr) {
      for (const std::string* key_id : *keys) {
        const std::string& key = *key_id;
        const MapKeyAction action = crdt::engine::MapKeyChange(tr, target, key);
        if (action == MapKeyAction::kNone) continue;
        Value value;
        if (action == MapKeyAction::kDelete) {
          value = Value(nullptr);
        } else {
          value = ReadEntryDirect(target, key);
          if (bots::IsTagEdit(value)) return false;
        }
        bots::Object& object = tags.as_object();
        if (object.empty()) {
          // The usual single tag: the (empty) object becomes {key: value}
          // without a lookup.
          object.AssignSingle(key, std::move(value));
        } else {
          object.Set(key, std::move(value));
        }
      }
    }
    updated.emplace_back(id, std::move(tags));
  }
  if (!added.empty() && !updated.empty()) return false;
  // The sites never change after construction: only the vector does.
  current_version_.vector = std::move(version);
  SyncSpace();
  if (!added.empty()) {
    // New bots move the state's slots (and may replace a removed bot's).
    DropBotRefs();
    EmitAdded(added);
  } else if (!updated.empty()) {
    EmitTagUpdates(absl::MakeSpan(updated));
    // Tags objects no observer kept serve the next transaction.
    for (auto& entry : updated) ReturnSpareObject(std::move(entry.second));
  }
  return true;
}

void YjsPartitionCore::DropBotRefs() {
  ++bot_refs_epoch_;
  // Entries of removed bots are never looked up again: the table is
  // emptied once it holds many more ids than the state has bots, so that it
  // stays bounded by the live bots (each clear follows as many new
  // entries as it drops).
  const size_t bots =
      state().is_object() ? state().as_object().size() : size_t{0};
  if (bot_refs_.size() > 2 * bots + 64) bot_refs_.clear();
}

[[gnu::always_inline]] inline bool YjsPartitionCore::NotedWriteHolds(
    const crdt::Transaction& tr, NotedWrite& w, Value* value) {
  crdt::engine::TypeImpl* const map = w.map;
  const crdt::engine::Item* const item = w.item;
  // The transaction changed this one key of the bot map (the caller checked
  // that the map is the changed type), and the key's current item is the
  // new one: its event says add or update, and the value read is that
  // item's.
  if (map->item == nullptr || map->item->deleted ||
      !map->item->has_parent_sub || map->item->parent != bots_.impl()) {
    return false;
  }
  const std::vector<const std::string*>* keys =
      crdt::engine::ChangedMapKeys(tr, map);
  if (keys == nullptr || keys->size() != 1 || item->deleted ||
      item->right != nullptr || item->parent != map || !item->has_parent_sub) {
    return false;
  }
  // (The Doc's interned keys: the same text is the same address.)
  if ((*keys)[0] != item->parent_sub.address()) return false;
  if (item->content.ref == crdt::engine::kRefAny) {
    *value = std::move(w.value);  // the number or boolean as written
  } else if (w.value.is_string() && TextReadsAs(item, w.value.as_string())) {
    *value = std::move(w.value);
  } else {
    *value = ReadItemDirect(item);
    // ProcessDirect covers what is left (an emptied text, ...).
    if (!HasValue(*value) ||
        !(value->is_string() || value->is_number() || value->is_bool())) {
      return false;
    }
  }
  w.value = Value();
  return true;
}

bool YjsPartitionCore::ProcessTagWrite(const crdt::Transaction& tr,
                                       Value& version) {
  if (tag_write_.count > 1) return ProcessTagWrites(tr, version);
  if (one_busy_) return false;  // an emission of it is under way
  NotedWrite& w = tag_write_.first;
  const std::vector<crdt::engine::TypeImpl*>& changed = tr.changed_types();
  Value value;
  if (changed.size() != 1 || changed[0] != w.map ||
      !NotedWriteHolds(tr, w, &value)) {
    return false;
  }
  current_version_.vector = std::move(version);
  SyncSpace();
  EmitOneTagUpdate(w.map->item->parent_sub.get(), w.item->parent_sub.get(),
                   std::move(value));
  return true;
}

bool YjsPartitionCore::ProcessTagWrites(const crdt::Transaction& tr,
                                        Value& version) {
  // Each bot map changed once, in the order of the writes (a bot written
  // twice has fewer changed maps than writes: ProcessDirect takes it).
  const std::vector<crdt::engine::TypeImpl*>& changed = tr.changed_types();
  TagWrite& noted = tag_write_;
  const size_t n = noted.count;
  if (changed.size() != n) return false;
  absl::InlinedVector<std::pair<std::string, Value>, 1> updated;
  updated.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    NotedWrite& w = k == 0 ? noted.first : noted.more[k - 1];
    Value value;
    if (changed[k] != w.map || !NotedWriteHolds(tr, w, &value)) {
      for (auto& entry : updated) ReturnSpareObject(std::move(entry.second));
      return false;
    }
    Value tags = TakeSpareObject();
    tags.as_object().AssignSingle(w.item->parent_sub.get(), std::move(value));
    updated.emplace_back(w.map->item->parent_sub.get(), std::move(tags));
  }
  // The pointers, in one list that is this call's (an observer's own batch
  // notes its writes in tag_write_ again).
  std::vector<NotedWrite> found = std::move(noted.more);
  noted.more.clear();
  found.insert(found.begin(), noted.first);
  noted.count = 0;
  current_version_.vector = std::move(version);
  SyncSpace();
  EmitTagUpdates(absl::MakeSpan(updated), found.data());
  for (auto& entry : updated) ReturnSpareObject(std::move(entry.second));
  // Its storage serves the next batch when no other one took its place.
  found.clear();
  if (noted.more.capacity() < found.capacity()) noted.more.swap(found);
  return true;
}

void YjsPartitionCore::EmitOneTagUpdate(const std::string& id,
                                        const std::string& tag, Value value) {
  // The noted pointers, read before any observer runs.
  const NotedWrite& w = tag_write_.first;
  Value* const entry = w.entry;
  bots::Object& tags = *w.tags;
  Value* const slot = w.slot;
  // Upstream writes into {...state[id]} and stores that copy; an entry
  // nothing else refers to is written in place, which no one can tell
  // apart. The write path found the bot with a tags object, which a copy
  // shares.
  if (entry->object_ref().use_count() != 1) {
    *entry = Value(entry->as_object().ShallowCopy());
  }
  // (Compared in place: a copy of the old value would touch its string's
  // reference count, which a number replacing it never needs.)
  const Value undefined;
  const bool changed =
      !bots::StrictEquals(value, slot != nullptr ? *slot : undefined);
  if (slot != nullptr) {
    *slot = value;
  } else {
    tags.Set(tag, value);
  }
  if (!changed) return;  // the partial state loses the bot: nothing to emit
  one_busy_ = true;
  if (on_bots_updated_.observer_count() > 0) {
    if (one_updated_.size() != 1) one_updated_.resize(1);
    bots::UpdatedBot& u = one_updated_[0];
    u.bot = *entry;
    if (u.tags.size() != 1) u.tags.resize(1);
    CopyShortString(tag, u.tags[0]);
    u.signatures.reset();
    on_bots_updated_.Next(one_updated_);
    // Only observers' copies may keep the bot.
    one_updated_[0].bot = Value();
  }
  if (on_state_updated_.observer_count() > 0) {
    // {id: {tags: {tag: value}}} in the event's state: the objects of the
    // last call when no one else holds them (only re-keyed), new ones
    // otherwise.
    bots::StateUpdatedEvent& event = one_event_;
    Value& partial = event.state;
    if (one_entry_.is_object() && partial.is_object() &&
        partial.object_ref().use_count() == 1 &&
        one_entry_.object_ref().use_count() == 2 &&
        one_tags_.object_ref().use_count() == 2) {
      one_tags_.as_object().AssignSingle(tag, std::move(value));
      partial.as_object().AssignSingle(id, one_entry_);
    } else {
      one_tags_ = Value::NewObject();
      one_tags_.as_object().Set(tag, std::move(value));
      one_entry_ = Value::NewObject();
      one_entry_.as_object().Set("tags", one_tags_);
      partial = Value::NewObject();
      partial.as_object().Set(id, one_entry_);
    }
    event.added_bots.clear();
    event.removed_bots.clear();
    if (event.updated_bots.size() != 1) event.updated_bots.resize(1);
    CopyShortString(id, event.updated_bots[0]);
    event.version = VersionValue();
    on_state_updated_.Next(event);
    event.version = Value();
  }
  one_busy_ = false;
}

Value YjsPartitionCore::VersionValue() {
  if (version_value_.is_object() &&
      version_value_.object_ref().use_count() == 1) {
    // The sites never change: {currentSite, remoteSite, vector} only needs
    // its vector (found once per object: only this partition writes it).
    if (version_vector_ == nullptr) {
      version_vector_ = version_value_.as_object().Find("vector");
    }
    if (version_vector_ != nullptr) {
      *version_vector_ = current_version_.vector;
      return version_value_;
    }
  }
  version_value_ = current_version_.ToValue();
  version_vector_ = nullptr;
  return version_value_;
}

void YjsPartitionCore::EmitStateUpdate(Value partial, PartialKind kind) {
  if (on_state_updated_.observer_count() == 0) return;
  // A nested emission (from an observer) finds no spare and makes its own.
  std::unique_ptr<bots::StateUpdatedEvent> event =
      spare_event_ != nullptr ? std::move(spare_event_)
                              : std::make_unique<bots::StateUpdatedEvent>();
  if (kind != PartialKind::kMixed) {
    // What AssignStateUpdatedEvent classifies for entries that are objects
    // without an `id` (every key is an updated bot) or bots whose id is
    // their key (every key is an added bot).
    event->added_bots.clear();
    event->removed_bots.clear();
    event->updated_bots.clear();
    std::vector<std::string>& ids = kind == PartialKind::kAllUpdated
                                        ? event->updated_bots
                                        : event->added_bots;
    ids.reserve(partial.as_object().size());
    partial.as_object().ForEach(
        [&](const std::string& id, const Value&) { ids.push_back(id); });
    event->state = std::move(partial);
    event->version = VersionValue();
  } else {
    bots::AssignStateUpdatedEvent(*event, std::move(partial), VersionValue());
  }
  if (!event->added_bots.empty() || !event->removed_bots.empty() ||
      !event->updated_bots.empty()) {
    on_state_updated_.Next(*event);
  }
  // Only observers' own copies keep the partial state and version now; a
  // small partial state no observer kept is emptied for the next call.
  Value done = std::move(event->state);
  event->state = Value();
  event->version = Value();
  spare_event_ = std::move(event);
  if (done.is_object() && done.object_ref().use_count() == 1) {
    // {tags} entries only this partial state holds serve the next ones (a
    // batch of updates takes one per bot).
    if (spare_entries_.size() < kSpareEntries) {
      done.as_object().ForEach([&](const std::string&, const Value& entry) {
        if (spare_entries_.size() >= kSpareEntries || !entry.is_object() ||
            entry.object_ref().use_count() != 1 ||
            entry.as_object().size() != 1) {
          return;
        }
        Value* tags = entry.as_object().Find("tags");
        if (tags == nullptr) return;
        *tags = Value();
        spare_entries_.push_back(entry);
      });
    }
    if (done.as_object().size() <= 16) {
      done.as_object().Clear();
      spare_partial_ = std::move(done);
    }
  }
}

Value YjsPartitionCore::TakePartial() {
  if (spare_partial_.is_object()) return std::move(spare_partial_);
  return Value::NewObject();
}

Value YjsPartitionCore::TakeEntry(const Value& tags) {
  if (!spare_entries_.empty()) {
    Value entry = std::move(spare_entries_.back());
    spare_entries_.pop_back();
    // {tags: undefined} becomes {tags} without a lookup.
    entry.as_object().AssignSingle("tags", tags);
    return entry;
  }
  Value entry = Value::NewObject();
  entry.as_object().Set("tags", tags);
  return entry;
}

Value YjsPartitionCore::TakeSpareObject() {
  if (spare_objects_.empty()) return Value::NewObject();
  Value out = std::move(spare_objects_.back());
  spare_objects_.pop_back();
  return out;
}

void YjsPartitionCore::ReturnSpareObject(Value object) {
  if (!object.is_object() || object.object_ref().use_count() != 1 ||
      object.as_object().size() > 16 || spare_objects_.size() >= 8) {
    return;
  }
  object.as_object().Clear();
  spare_objects_.push_back(std::move(object));
}

namespace {

// How many bots ahead of the one it reads EmitAdded asks for a bot's items
// (PrefetchSlotsBetween): far enough for the memory to answer in time.
constexpr size_t kBotsAhead = 3;

// bots_.Get(id)'s type for a new bot whose key's current item is `item`:
// its Y.Map, or null.
const crdt::engine::TypeImpl* NewBotMap(const crdt::engine::Item* item) {
  return item != nullptr && !item->deleted ? internal::ItemType(item) : nullptr;
}

}  // namespace

// MemoryPartition's addBot for each bot, then its emission.
void YjsPartitionCore::EmitAdded(absl::Span<const NewBot> ids) {
  bots::Object& state_object = state().as_object();
  Value partial = TakePartial();
  // An initialization update adds thousands of bots at once: into an empty
  // state (every id new, no masks to keep) they are appended without a
  // lookup each, as into the partial state.
  const bool state_was_empty = state_object.empty();
  if (!state_was_empty) {
    state_object.Reserve(state_object.size() + ids.size());
  }
  std::vector<Value> added;
  added.reserve(ids.size());
  const Value space_value = space().has_value() ? Value(*space()) : Value();
  // The keys of a primitive bot, in createBot's order (then the space):
  // copied into each such bot (Object::WithKeysOf), not added one by one.
  const Value plain_keys = bots::MakeObject(
      {{"id", Value()}, {"tags", Value()}, {"space", Value()}});
  // Dropped (with the last bot's tags it keeps) before anyone sees the bots.
  std::optional<internal::NewBotReader> reader(std::in_place);
  // The ids are distinct (a transaction's changed keys). Each bot is read
  // and stored while its objects are in the cache: adding them to the
  // objects after the loop took a miss per bot and object for its reference
  // count and its id.
  std::optional<bots::Object::NewKeys> state_keys;
  if (state_was_empty) state_keys.emplace(state_object, ids.size());
  std::optional<bots::Object::NewKeys> partial_keys(
      std::in_place, partial.as_object(), ids.size());
  for (size_t k = 0; k < ids.size(); ++k) {
    const NewBot& new_bot = ids[k];
    if (k + kBotsAhead + 1 < ids.size()) {
      // A bot map's tag items lie in the pool between its item and the
      // next bot's (a decoded run of structs, a local add).
      crdt::engine::PrefetchSlotsBetween(ids[k + kBotsAhead].item,
                                         ids[k + kBotsAhead + 1].item);
    }
    const std::string& id = *new_bot.id;
    const crdt::engine::TypeImpl* map = NewBotMap(new_bot.item);
    internal::NewBotRead read = reader->Read(id, map);
    Value bot;
    if (read.plain) {
      // createBot(id, tags), which EnsureBotIsSerializable returns as it
      // is, and the space: one object.
      bot = Value(bots::Object::WithKeysOf(plain_keys.as_object()));
      bots::Object& b = bot.as_object();
      b.InsertedValue(0) = std::move(read.id);
      b.InsertedValue(1) = std::move(read.tags);
      b.InsertedValue(2) = space_value;
    } else {
      Value incoming = bots::CreateBot(id, std::move(read.tags));
      Value serializable = bots::EnsureBotIsSerializable(incoming);
      // The bot read from the document is ours alone: when it needed no
      // conversion, it can stand for the shallow copy upstream makes.
      bot = serializable.is_object() &&
                    serializable.object_ref() == incoming.object_ref()
                ? std::move(incoming)
                : Value(serializable.as_object().ShallowCopy());
      bot.as_object().Set("space", space_value);
    }
    if (state_was_empty) {
      state_keys->Add(id, bot);
    } else {
      bool is_new = false;
      Value& slot = state_object.FindOrAdd(id, is_new);
      if (!is_new) {
        const Value& masks = slot["masks"];
        if (IsTruthy(masks)) bot.as_object().Set("masks", masks);
      }
      slot = bot;
    }
    partial_keys->Add(id, bot);
    added.push_back(std::move(bot));
  }
  reader.reset();
  state_keys.reset();
  partial_keys.reset();
  if (on_bots_added_.observer_count() > 0) on_bots_added_.Next(added);
  EmitStateUpdate(std::move(partial), PartialKind::kAllAdded);
}

// MemoryPartition's updateBot of {tags} for each bot (every id once, no tag
// edits), then its emission.
void YjsPartitionCore::EmitTagUpdates(
    absl::Span<std::pair<std::string, Value>> list, const NotedWrite* found) {
  bots::Object& state_object = state().as_object();
  Value partial = TakePartial();
  // A nested emission (from an observer) finds no spare list.
  std::unique_ptr<std::vector<bots::UpdatedBot>> updated_list =
      spare_updated_ != nullptr
          ? std::move(spare_updated_)
          : std::make_unique<std::vector<bots::UpdatedBot>>();
  std::vector<bots::UpdatedBot>& updated = *updated_list;
  // Tags to drop from a partial entry (no callbacks run while it is used).
  std::vector<std::string>& dropped = tag_scratch_;
  const Value undefined;
  for (size_t k = 0; k < list.size(); ++k) {
    auto& [id, update_tags_value] = list[k];
    Value* entry = found != nullptr ? found[k].entry : state_object.Find(id);
    if (entry == nullptr) continue;  // upstream skips the tags of a new id
    bots::Object& update_tags = update_tags_value.as_object();
    // Upstream writes into {...state[id]}; an entry nothing else refers to
    // can be written in place, which no one can tell apart.
    Value new_bot;
    bool in_place = false;
    if (!entry->is_object()) {
      new_bot = Value::NewObject();
    } else if (entry->object_ref().use_count() == 1) {
      new_bot = *entry;
      in_place = true;
    } else {
      new_bot = Value(entry->as_object().ShallowCopy());
    }
    bots::Object& bot = new_bot.as_object();
    // The bot's tags object (a copy of the bot shares it).
    bots::Object* bot_tags = found != nullptr ? found[k].tags : nullptr;
    if (bot_tags == nullptr) {
      const Value* tags_value = bot.Find("tags");
      if ((tags_value == nullptr || !tags_value->is_object()) &&
          !update_tags.empty()) {
        bot.Set("tags", Value::NewObject());
        tags_value = bot.Find("tags");
      }
      if (tags_value != nullptr && tags_value->is_object()) {
        bot_tags = &tags_value->as_object();
      }
    }
    // The partial state's entry is {...update}: it shares the tags object.
    Value partial_entry = TakeEntry(update_tags_value);
    if (partial.as_object().empty()) {
      partial.as_object().AssignSingle(id, partial_entry);
    } else {
      partial.as_object().AddNew(id, partial_entry);  // (distinct ids)
    }
    std::vector<std::string> changed = TakeTagList();
    dropped.clear();
    // The values were read from the document: never host objects, so
    // EnsureTagIsSerializable would return each one as it is.
    update_tags.ForEach([&](const std::string& tag, const Value& new_value) {
      bots::Object& tags = *bot_tags;
      Value* slot = found != nullptr ? found[k].slot : tags.Find(tag);
      const Value& old_value = slot != nullptr ? *slot : undefined;
      const bool has_new = HasValue(new_value);
      const bool has_old = HasValue(old_value);
      if ((!bots::StrictEquals(new_value, old_value) && (has_new || has_old)) ||
          new_value.is_array()) {
        changed.push_back(tag);
      }
      if (has_new) {
        if (slot != nullptr) {
          *slot = new_value;
        } else {
          tags.Set(tag, new_value);
        }
      } else if (has_old) {
        tags.Erase(tag);
        // Re-assigning a key while iterating is allowed (ForEach).
        update_tags.Set(tag, Value(nullptr));
      } else {
        tags.Erase(tag);
        dropped.push_back(tag);
      }
    });
    for (const std::string& tag : dropped) update_tags.Erase(tag);
    if (!in_place) {
      if (found != nullptr) {
        *entry = new_bot;
      } else {
        state_object.Set(id, new_bot);
      }
    }
    if (!changed.empty()) {
      updated.push_back(
          bots::UpdatedBot{std::move(new_bot), std::move(changed), {}});
      if (update_tags.empty()) partial_entry.as_object().Erase("tags");
    } else {
      partial.as_object().Erase(id);
      ReturnTagList(std::move(changed));
    }
  }
  if (!updated.empty() && on_bots_updated_.observer_count() > 0) {
    on_bots_updated_.Next(updated);
  }
  for (bots::UpdatedBot& u : updated) ReturnTagList(std::move(u.tags));
  updated.clear();
  spare_updated_ = std::move(updated_list);
  // Every entry left is {tags} or {} of a bot that changed.
  EmitStateUpdate(std::move(partial), PartialKind::kAllUpdated);
}

std::vector<std::string> YjsPartitionCore::TakeTagList() {
  if (spare_tag_lists_.empty()) return {};
  std::vector<std::string> out = std::move(spare_tag_lists_.back());
  spare_tag_lists_.pop_back();
  return out;
}

void YjsPartitionCore::ReturnTagList(std::vector<std::string> tags) {
  // A few lists cover any batch an observer does not keep.
  if (tags.capacity() == 0 || spare_tag_lists_.size() >= 64) return;
  tags.clear();
  spare_tag_lists_.push_back(std::move(tags));
}

void YjsPartitionCore::ProcessTransaction(const crdt::Transaction& tr) {
  // A write noted for this transaction, with the state as it saw it.
  const bool noted = tag_write_.tr == &tr && !tag_write_.other &&
                     tag_write_.count > 0 && tag_write_.epoch == state_epoch_;
  tag_write_.tr = nullptr;
  // Writes noted from now on (by observers of what follows) see a state
  // this transaction is changing: the epoch moves again at the end.
  ++state_epoch_;
  struct EpochEnd {
    uint64_t& epoch;
    ~EpochEnd() { ++epoch; }
  } epoch_end{state_epoch_};
  Value version = state_vector_cache_.Get(*doc_);
  if ((noted && ProcessTagWrite(tr, version)) || ProcessDirect(tr, version)) {
    QueueVersions(1);
    if (call_depth_ == 0) FlushDeferred();
    return;
  }
  std::vector<Value> actions;
  int text_events = 0;
  bool failed = false;
  for (crdt::engine::TypeImpl* type : tr.changed_parent_types()) {
    const std::vector<crdt::YEvent*>* events = tr.EventsOf(type);
    if (events == nullptr) continue;
    if (type == bots_.impl()) {
      for (const crdt::YEvent* event : *events) {
        if (event->target == type) {
          for (const auto& [key, change] : event->keys) {
            switch (change.action) {
              case crdt::KeyChange::Action::kAdd: {
                std::optional<crdt::OutValue> slot = bots_.Get(key);
                actions.push_back(bots::BotAdded(
                    ReadBotDirect(key, slot.value_or(crdt::OutValue{}))));
                break;
              }
              case crdt::KeyChange::Action::kDelete:
                actions.push_back(bots::BotRemoved(key));
                break;
              case crdt::KeyChange::Action::kUpdate: {
                actions.push_back(bots::BotRemoved(key));
                std::optional<crdt::OutValue> slot = bots_.Get(key);
                actions.push_back(bots::BotAdded(
                    ReadBotDirect(key, slot.value_or(crdt::OutValue{}))));
                break;
              }
            }
          }
        } else {
          if (!HandleValueUpdates(*event, false, actions, version,
                                  text_events)) {
            failed = true;
          }
        }
      }
    } else if (type == masks_.impl()) {
      for (const crdt::YEvent* event : *events) {
        if (!HandleValueUpdates(*event, true, actions, version, text_events)) {
          failed = true;
        }
      }
    }
  }
  if (failed) {
    // Upstream throws (an invalid mask key) before it records the version
    // or applies anything; only the text reads before it opened
    // transactions.
    QueueVersions(text_events);
    if (call_depth_ == 0) FlushDeferred();
    return;
  }
  current_version_ = CurrentVersion{current_site_, remote_site_, version};
  SyncSpace();
  // Any shape: bots added, removed or replaced in the state and the doc.
  DropBotRefs();
  (void)internal_->ApplyEvents(actions);
  QueueVersions(1 + text_events);
  if (call_depth_ == 0) FlushDeferred();
}

bool YjsPartitionCore::HandleValueUpdates(const crdt::YEvent& event, bool masks,
                                          std::vector<Value>& actions,
                                          const Value& version,
                                          int& text_events) {
  crdt::engine::TypeImpl* target = event.target;
  const crdt::engine::TypeKind kind = crdt::YType(target).kind();
  const std::string space_key = space().has_value() ? *space() : "undefined";
  auto mask_update = [&](const std::string& id, Value tags) {
    Value space_masks = Value::NewObject();
    space_masks.as_object().Set(space_key, std::move(tags));
    Value update = Value::NewObject();
    update.as_object().Set("masks", std::move(space_masks));
    actions.push_back(bots::BotUpdated(id, std::move(update)));
  };
  auto tag_update = [&](const std::string& id, Value tags) {
    Value update = Value::NewObject();
    update.as_object().Set("tags", std::move(tags));
    actions.push_back(bots::BotUpdated(id, std::move(update)));
  };
  if (kind == crdt::engine::TypeKind::kMap) {
    crdt::YMap map(target);
    auto value_of = [&](const std::string& key,
                        const crdt::KeyChange& change) -> Value {
      if (change.action == crdt::KeyChange::Action::kDelete) {
        return Value(nullptr);
      }
      std::optional<crdt::OutValue> v = map.Get(key);
      return v.has_value() ? ReadSlotValue(*v) : Value();
    };
    if (target == masks_.impl()) {
      // Bots in first-seen order, with an index by id.
      std::vector<std::pair<std::string, Value>> by_bot;
      absl::flat_hash_map<std::string, size_t> index;
      for (const auto& [key, change] : event.keys) {
        std::optional<internal::TagMaskKey> parsed =
            internal::ParseTagMaskId(key);
        if (!parsed.has_value()) return false;
        auto [it, inserted] = index.try_emplace(parsed->bot_id, by_bot.size());
        if (inserted) by_bot.emplace_back(parsed->bot_id, Value::NewObject());
        by_bot[it->second].second.as_object().Set(parsed->tag,
                                                  value_of(key, change));
      }
      for (auto& [id, tags] : by_bot) mask_update(id, std::move(tags));
      return true;
    }
    if (masks || internal::ParentType(target) != bots_.impl()) return true;
    std::optional<std::string> id = internal::ParentKey(target);
    if (!id.has_value()) return true;
    Value tags = Value::NewObject();
    for (const auto& [key, change] : event.keys) {
      tags.as_object().Set(key, value_of(key, change));
    }
    tag_update(*id, std::move(tags));
    return true;
  }
  if (!IsTextKind(kind)) return true;
  // Locate the text: a tag (bots/<id>/<tag>) or a mask (masks/<key>).
  std::string id;
  std::string tag;
  crdt::engine::TypeImpl* parent = internal::ParentType(target);
  std::optional<std::string> key = internal::ParentKey(target);
  if (!key.has_value()) return true;
  if (masks) {
    if (parent != masks_.impl()) return true;
  } else {
    if (internal::ParentType(parent) != bots_.impl()) return true;
    std::optional<std::string> bot_id = internal::ParentKey(parent);
    if (!bot_id.has_value()) return true;
    id = *bot_id;
    tag = *key;
  }
  // Reading a text event's delta opens an (empty) transaction upstream.
  ++text_events;
  if (masks) {
    std::optional<internal::TagMaskKey> parsed = internal::ParseTagMaskId(*key);
    if (!parsed.has_value()) return false;
    id = parsed->bot_id;
    tag = parsed->tag;
  }
  std::vector<Value> ops;
  for (const crdt::DeltaOp& op : event.delta) {
    switch (op.kind) {
      case crdt::DeltaOp::Kind::kRetain:
        ops.push_back(bots::Preserve(static_cast<double>(op.length)));
        break;
      case crdt::DeltaOp::Kind::kDelete:
        ops.push_back(bots::Del(static_cast<double>(op.length)));
        break;
      case crdt::DeltaOp::Kind::kInsert:
        if (op.is_text) {
          ops.push_back(bots::Insert(bots::FromUtf16(op.text)));
        } else {
          // An embed: upstream only turns array embeds into inserts.
          for (const crdt::OutValue& embed : op.values) {
            if (embed.type == nullptr &&
                embed.value.kind() == crdt::JsValue::Kind::kArray) {
              for (const crdt::JsValue& item : embed.value.array()) {
                Value v = internal::FromJsValue(item);
                ops.push_back(bots::Insert(
                    v.is_string() ? v.as_string() : bots::ConvertToString(v)));
              }
            }
          }
        }
        break;
    }
  }
  const std::string& site =
      is_local_transaction_ ? current_site_ : remote_site_;
  Value edit_version = Value::NewObject();
  edit_version.as_object().Set(site, version[site]);
  Value edit = bots::Edit(std::move(edit_version), std::move(ops));
  edit.as_object().Set("isRemote", Value(!is_local_transaction_));
  Value tags = Value::NewObject();
  tags.as_object().Set(tag, std::move(edit));
  if (masks) {
    mask_update(id, std::move(tags));
  } else {
    tag_update(id, std::move(tags));
  }
  return true;
}

// ---------------------------------------------------------------------------
// Binary updates (section 8.7)

absl::Status YjsPartitionCore::ApplyUpdates(
    const std::vector<std::string>& base64_updates) {
  return ApplyUpdatesWithOrigin(base64_updates, true);
}

absl::Status YjsPartitionCore::ApplyUpdatesWithOrigin(
    const std::vector<std::string>& base64_updates, bool apply_origin) {
  std::vector<std::string_view> views(base64_updates.begin(),
                                      base64_updates.end());
  return ApplyUpdateTexts(views, apply_origin);
}

absl::Status YjsPartitionCore::ApplyUpdateTexts(
    absl::Span<const std::string_view> base64_updates, bool apply_origin) {
  CallScope scope(this);
  is_remote_update_ = true;
  absl::Status status;
  for (const std::string_view text : base64_updates) {
    // (FromBase64 decodes canonical text with its own tables; the 10,000-bot
    // initialization update is 3.8 MB of it.)
    // (Into a buffer that is not zero-filled first.)
    absl::StatusOr<Base64Bytes> bytes = FromBase64Uninitialized(text);
    if (!bytes.ok()) {
      status = bytes.status();
      break;
    }
    status = crdt::ApplyUpdate(
        *doc_, bytes->span(),
        apply_origin ? crdt::Origin(std::string(kApplyUpdatesToInstOrigin))
                     : crdt::Origin());
    if (!status.ok()) break;
  }
  is_remote_update_ = false;
  return status;
}

std::string YjsPartitionCore::EncodeStateBase64() const {
  absl::StatusOr<std::vector<uint8_t>> bytes = crdt::EncodeStateAsUpdate(*doc_);
  return bytes.ok() ? ToBase64(*bytes) : std::string();
}

Value YjsPartitionCore::GetStateUpdate() {
  return InstUpdate{0, Now(), EncodeStateBase64()}.ToValue();
}
rx::Subscription YjsPartitionCore::OnBotsAdded(BotsCallback callback) {
  // As MemoryPartition: the current bots first, then every later batch.
  SyncSpace();
  std::vector<Value> replay;
  const bots::Object& bots = state().as_object();
  replay.reserve(bots.size());
  bots.ForEach(
      [&](const std::string&, const Value& bot) { replay.push_back(bot); });
  callback(replay);
  return on_bots_added_.Subscribe(std::move(callback));
}
rx::Subscription YjsPartitionCore::OnBotsRemoved(IdsCallback callback) {
  return on_bots_removed_.Subscribe(std::move(callback));
}
rx::Subscription YjsPartitionCore::OnBotsUpdated(UpdatedBotsCallback callback) {
  return on_bots_updated_.Subscribe(std::move(callback));
}
rx::Subscription YjsPartitionCore::OnStateUpdated(StateCallback callback) {
  SyncSpace();
  callback(bots::MakeStateUpdatedEvent(state(), current_version_.ToValue()));
  return on_state_updated_.Subscribe(std::move(callback));
}
rx::Subscription YjsPartitionCore::OnVersionUpdated(VersionCallback callback) {
  return on_version_.Subscribe(std::move(callback));
}
rx::Subscription YjsPartitionCore::OnError(ValueCallback callback) {
  return on_error_.Subscribe(std::move(callback));
}
rx::Subscription YjsPartitionCore::OnEvents(ActionsCallback callback) {
  return on_events_.Subscribe(std::move(callback));
}
rx::Subscription YjsPartitionCore::OnStatusUpdated(ValueCallback callback) {
  return on_status_.Subscribe(std::move(callback));
}

// ---------------------------------------------------------------------------
// Remote events (sections 8.8, 8.9)

void YjsPartitionCore::Answer(Value action) {
  on_events_.Next(std::vector<Value>{std::move(action)});
}
namespace {

// The InstUpdates of an action field; errors as upstream's TypeErrors.
absl::StatusOr<std::vector<InstUpdate>> UpdatesOf(const Value& v) {
  return InstUpdatesFromValue(v, "updates");
}

Value ErrorValue(const absl::Status& s) {
  std::string message(s.message());
  std::string name = "Error";
  if (message.rfind("TypeError: ", 0) == 0) {
    name = "TypeError";
    message = message.substr(11);
  }
  return bots::MakeError(name, message);
}

}  // namespace

bool YjsPartitionCore::HandleLocalRemote(const Value& task_id,
                                         const Value& event) {
  const Value& type = event["type"];
  if (!type.is_string()) return false;
  const std::string& t = type.as_string();
  if (t == "get_inst_state_from_updates") {
    absl::StatusOr<std::vector<InstUpdate>> updates =
        UpdatesOf(event["updates"]);
    absl::StatusOr<Value> state = updates.ok()
                                      ? GetStateFromUpdates(*updates)
                                      : absl::StatusOr<Value>(updates.status());
    if (state.ok()) {
      Answer(bots::AsyncResult(task_id, *state, Value(false)));
    } else {
      Answer(bots::AsyncError(task_id, ErrorValue(state.status())));
    }
  } else if (t == "create_initialization_update") {
    const Value& list = event["bots"];
    if (!list.is_array()) {
      Answer(bots::AsyncError(
          task_id,
          TypeError("Cannot read properties of undefined (reading 'map')")));
      return true;
    }
    absl::StatusOr<std::optional<InstUpdate>> update =
        ConstructInitializationUpdate(list.as_array().items, Now());
    if (update.ok() && !update->has_value() && !answer_empty_initialization_) {
      // RemoteYjsPartition answers from the update handler of a document
      // that never changes: nothing at all (N45).
    } else if (update.ok()) {
      Answer(bots::AsyncResult(
          task_id, update->has_value() ? (*update)->ToValue() : Value(),
          Value(false)));
    } else {
      Answer(bots::AsyncError(task_id, ErrorValue(update.status())));
    }
  } else if (t == "apply_updates_to_inst") {
    // The texts are read where they are (an initialization update is
    // megabytes of base64), held by `texts` while they are applied.
    absl::StatusOr<std::vector<Value>> texts =
        InstUpdateTextsFromValue(event["updates"], "updates");
    absl::Status s = texts.status();
    if (s.ok()) {
      std::vector<std::string_view> views;
      views.reserve(texts->size());
      for (const Value& text : *texts) views.push_back(text.as_string());
      s = ApplyUpdateTexts(views, true);
    }
    if (s.ok()) {
      Answer(bots::AsyncResult(task_id, Value(nullptr), Value(false)));
    } else {
      Answer(bots::AsyncError(task_id, ErrorValue(s)));
    }
  } else if (t == "get_current_inst_update") {
    Answer(bots::AsyncResult(task_id, GetStateUpdate(), Value(false)));
  } else if (t == "install_aux_file") {
    InstallAuxFile(task_id, event);
  } else {
    return false;
  }
  return true;
}

void YjsPartitionCore::InstallAuxFile(const Value& task_id,
                                      const Value& action) {
  auto fail = [&](const absl::Status& s) {
    Answer(bots::AsyncError(task_id, ErrorValue(s)));
  };
  const Value& aux = action["aux"];
  if (!aux.is_object()) {
    return fail(absl::InvalidArgumentError(
        "TypeError: Cannot read properties of undefined (reading 'version')"));
  }
  const bool v2 = aux["version"].is_number() && aux["version"].as_number() == 2;
  const bool v1 = aux["version"].is_number() && aux["version"].as_number() == 1;
  const Value& mode = action["mode"];
  // The bot values of a v1 aux's state (Object.values).
  auto v1_bots = [&]() -> absl::StatusOr<std::vector<Value>> {
    const Value& state = aux["state"];
    if (state.is_nullish()) {
      return absl::InvalidArgumentError(
          "TypeError: Cannot convert undefined or null to object");
    }
    return bots::GetActiveObjects(state);
  };
  if (mode.is_string() && mode.as_string() == "copy") {
    std::vector<Value> list;
    if (v2) {
      absl::StatusOr<std::vector<InstUpdate>> updates =
          UpdatesOf(aux["updates"]);
      if (!updates.ok()) return fail(updates.status());
      absl::StatusOr<Value> state = GetStateFromUpdates(*updates);
      if (!state.ok()) return fail(state.status());
      list = bots::GetActiveObjects(*state);
    } else {
      absl::StatusOr<std::vector<Value>> b = v1_bots();
      if (!b.ok()) return fail(b.status());
      list = std::move(*b);
    }
    if (!list.empty()) {
      std::vector<Value> adds;
      for (const Value& b : list) {
        adds.push_back(
            bots::BotAdded(bots::CreateBot(bots::NewUuid(), b["tags"])));
      }
      absl::Status error;
      ApplyActions(adds, nullptr, &error);
      if (!error.ok()) return fail(error);
    }
  } else if (v2) {
    absl::StatusOr<std::vector<InstUpdate>> updates = UpdatesOf(aux["updates"]);
    if (!updates.ok()) return fail(updates.status());
    const Value& source = action["source"];
    const Value& version = action["version"];
    bool installed = false;
    if (HasValue(source)) {
      auto it = installed_.find(KeyString(source));
      if (it != installed_.end()) {
        InstalledAux& previous = it->second;
        if (IsTruthy(version) && IsTruthy(previous.version) &&
            CompareVersions(version, previous.version) < 0 &&
            !IsTruthy(action["downgrade"])) {
          Answer(bots::AsyncError(
              task_id,
              bots::MakeError(
                  "Error", absl::StrCat("Cannot downgrade aux file ",
                                        KeyString(source), " from version ",
                                        FormatVersion(previous.version), " to ",
                                        FormatVersion(version),
                                        " without downgrade flag."))));
          return;
        }
        if (previous.broken) {
          // updateToNewStateUpdate([undefined], ...) destructures undefined.
          return fail(absl::InvalidArgumentError(
              "TypeError: Cannot destructure property 'update' of 'undefined' "
              "as it is undefined."));
        }
        absl::StatusOr<std::optional<InstUpdate>> combined =
            UpdateToNewStateUpdate(previous.updates, *updates, Now());
        if (!combined.ok()) return fail(combined.status());
        previous.version = version;
        if (!combined->has_value()) {
          // Nothing changed: upstream stores [undefined] and then fails to
          // read `.update` of it (section 8.9, N34).
          previous.updates.clear();
          previous.broken = true;
          return fail(absl::InvalidArgumentError(
              "TypeError: Cannot read properties of undefined (reading "
              "'update')"));
        }
        previous.updates = {**combined};
        absl::Status s = ApplyUpdates({(**combined).update});
        if (!s.ok()) return fail(s);
        installed = true;
      }
    }
    if (!installed) {
      installed_[KeyString(source)] = InstalledAux{version, *updates, false};
      std::vector<std::string> texts;
      for (const InstUpdate& u : *updates) texts.push_back(u.update);
      absl::Status s = ApplyUpdates(texts);
      if (!s.ok()) return fail(s);
    }
  } else if (v1) {
    absl::StatusOr<std::vector<Value>> b = v1_bots();
    if (!b.ok()) return fail(b.status());
    std::vector<Value> adds;
    for (const Value& bot : *b) {
      adds.push_back(
          bots::BotAdded(bots::CreateBot(KeyString(bot["id"]), bot["tags"])));
    }
    absl::Status error;
    ApplyActions(adds, nullptr, &error);
    if (!error.ok()) return fail(error);
  }
  Answer(bots::AsyncResult(task_id, Value(nullptr), Value(false)));
  return;
}

}  // namespace auxsync::partitions
