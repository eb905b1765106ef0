#include "auxsync/partitions/memory_partition.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/object_merge.h"
#include "auxsync/bots/serialization.h"
#include "auxsync/bots/state_updated_event.h"
#include "auxsync/bots/tag_edit.h"
#include "auxsync/partitions/internal/insertion_ordered_map.h"
#include "auxsync/partitions/status_update.h"

namespace auxsync::partitions {

using bots::CurrentVersion;
using bots::HasValue;
using bots::IsTagEdit;
using bots::Object;
using bots::StrictEquals;
using bots::Value;

namespace {

// `Object.assign({}, v)` for an object (or {} for anything else): a new
// object sharing the property values.
Value ShallowCopy(const Value& v) {
  if (!v.is_object()) return Value::NewObject();
  return Value(v.as_object().ShallowCopy());
}

// The operation sequences of an edit, as a list.
std::vector<Value> Sequences(const Value& edit) {
  const Value& ops = edit["operations"];
  if (!ops.is_array()) return {};
  return ops.as_array().items;
}

// The emitted edit: edits(version, ...earlier, ...edit.operations).
Value CombinedEdit(const Value& vector, const Value& earlier,
                   const Value& edit) {
  std::vector<Value> sequences;
  if (!earlier.is_undefined()) sequences = Sequences(earlier);
  for (Value& s : Sequences(edit)) sequences.push_back(std::move(s));
  return bots::Edits(vector, std::move(sequences));
}

// JavaScript Object.is: StrictEquals, except that NaN is itself and -0 is
// not 0.
bool SameValue(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    return std::bit_cast<uint64_t>(a.as_number()) ==
               std::bit_cast<uint64_t>(b.as_number()) ||
           (std::isnan(a.as_number()) && std::isnan(b.as_number()));
  }
  return StrictEquals(a, b);
}

// What ApplyEvents does with an action, from its type.
enum class ActionKind : uint8_t {
  kIgnored,
  kAdd,
  kRemove,
  kUpdate,
  kApplyState
};

ActionKind KindOfType(const Value& type) {
  if (!type.is_string()) return ActionKind::kIgnored;
  // Compared as string_views: the length check comes first.
  const std::string_view t = type.as_string();
  if (t == "update_bot") return ActionKind::kUpdate;
  if (t == "add_bot") return ActionKind::kAdd;
  if (t == "remove_bot") return ActionKind::kRemove;
  if (t == "apply_state") return ActionKind::kApplyState;
  return ActionKind::kIgnored;
}

// `to = from`, without a call when both have the same short length (one id
// or tag name replacing another in a reused list).
void AssignString(std::string& to, const std::string& from) {
  const size_t n = from.size();
  if (n != to.size() || n > 16) {
    to = from;
    return;
  }
  char* d = to.data();
  const char* f = from.data();
  if (n >= 8) {
    uint64_t x0, x1;
    std::memcpy(&x0, f, 8);
    std::memcpy(&x1, f + n - 8, 8);
    std::memcpy(d, &x0, 8);
    std::memcpy(d + n - 8, &x1, 8);
  } else if (n >= 4) {
    uint32_t x0, x1;
    std::memcpy(&x0, f, 4);
    std::memcpy(&x1, f + n - 4, 4);
    std::memcpy(d, &x0, 4);
    std::memcpy(d + n - 4, &x1, 4);
  } else {
    for (size_t i = 0; i < n; ++i) d[i] = f[i];
  }
}

ActionKind KindOf(const Value& action) { return KindOfType(action["type"]); }

// Requests the first `lines` cache lines of a (usually cold) object, which
// hold its header and its first inline entries, so that their misses
// overlap with each other and with the work before they are read.
void PrefetchObject(const Object& object, int lines) {
  const char* p = reinterpret_cast<const char*>(&object);
  for (int i = 0; i < lines; ++i) __builtin_prefetch(p + 64 * i);
}

// An action's type, and its id and update (nullptr when absent).
struct ActionFields {
  ActionKind kind = ActionKind::kIgnored;
  const Value* id = nullptr;
  const Value* update = nullptr;
};

// Reads a small action's keys in one pass over its entries, which costs
// less than three hashed lookups and touches the same cache lines (each
// lookup reads its key's entry anyway).
ActionFields ReadAction(const Value& action) {
  ActionFields fields;
  if (!action.is_object()) return fields;
  const Object& object = action.as_object();
  PrefetchObject(object, 4);  // an action's three keys are read below
  if (object.size() > 4) {
    fields.kind = KindOf(action);
    fields.id = object.Find("id");
    fields.update = object.Find("update");
    return fields;
  }
  const Value* type = nullptr;
  object.ForEach([&](const std::string& key, const Value& value) {
    const std::string_view k = key;  // length first, then the bytes
    if (k == "type") {
      type = &value;
    } else if (k == "id") {
      fields.id = &value;
    } else if (k == "update") {
      fields.update = &value;
    }
  });
  // The action's id text and update object are usually cold, as is its
  // type's text: their misses overlap when all three are requested before
  // the first of them is read.
  if (fields.id != nullptr && fields.id->is_string()) {
    __builtin_prefetch(&fields.id->as_string());
  }
  if (fields.update != nullptr && fields.update->is_object()) {
    PrefetchObject(fields.update->as_object(), 2);
  }
  if (type != nullptr) fields.kind = KindOfType(*type);
  return fields;
}

}  // namespace

// The working data of one applyEvents batch. The partition keeps the batch
// object from call to call, and with it the storage below, so that a batch
// of one action allocates next to nothing.
struct MemoryPartition::Batch {
  internal::InsertionOrderedMap<Value> added;
  std::vector<std::string> removed;
  internal::InsertionOrderedMap<bots::UpdatedBot> updated;
  Value partial;  // the state event's partial state (an object)
  std::optional<CurrentVersion> next_version;

  // The payloads of onBotsAdded, onBotsUpdated and onStateUpdated.
  std::vector<Value> added_list;
  std::vector<bots::UpdatedBot> updated_list;
  bots::StateUpdatedEvent state_event;
  // Emptied lists of tag names and emptied objects, for the changed tags of
  // the next batch's UpdatedBots and its partial entries. Only what nothing
  // outside the partition can reach is kept here.
  std::vector<std::vector<std::string>> spare_tag_lists;
  std::vector<bots::ObjectRef> spare_objects;
  // The kind of each action of the call, read once.
  std::vector<ActionKind> kinds;

  // The storage of SingleUpdate, apart from the general path's. Its partial
  // state lives in `state_event.state`, which Emit leaves undefined: between
  // calls that is undefined, an empty object (a new event's), or an object
  // of one key whose value is an object, and in the last case nothing
  // outside the partition holds either object.
  std::vector<bots::UpdatedBot> single_updated;
};

namespace {

// Bounds on what a batch keeps for the next one (so that one large batch
// does not pin its memory).
constexpr size_t kMaxSpares = 64;
constexpr size_t kMaxReusedPartial = 256;

}  // namespace

std::vector<std::string> MemoryPartition::TakeTagList(Batch& batch) {
  if (batch.spare_tag_lists.empty()) return {};
  std::vector<std::string> list = std::move(batch.spare_tag_lists.back());
  batch.spare_tag_lists.pop_back();
  return list;
}

void MemoryPartition::KeepTagList(Batch& batch,
                                  std::vector<std::string>&& list) {
  if (list.capacity() == 0 || batch.spare_tag_lists.size() >= kMaxSpares) {
    return;
  }
  list.clear();
  batch.spare_tag_lists.push_back(std::move(list));
}

Value MemoryPartition::NewShallowCopy(Batch& batch, const Object& source) {
  if (batch.spare_objects.empty()) return Value(source.ShallowCopy());
  bots::ObjectRef object = std::move(batch.spare_objects.back());
  batch.spare_objects.pop_back();
  object->AssignShallowCopy(source);
  return Value(std::move(object));
}

void MemoryPartition::EndBatch(Batch& batch) {
  batch.added.Clear();
  batch.added_list.clear();
  batch.removed.clear();
  // UpdatedBots still in the map were not emitted (no observer).
  batch.updated.ForEach([&](const std::string&, bots::UpdatedBot& u) {
    KeepTagList(batch, std::move(u.tags));
  });
  batch.updated.Clear();
  for (bots::UpdatedBot& u : batch.updated_list) {
    KeepTagList(batch, std::move(u.tags));
  }
  batch.updated_list.clear();
  batch.next_version.reset();
  // The partial state and its entries are reused when no observer kept
  // them: then nothing else can see that they are emptied and filled again.
  if (!batch.partial.is_object() ||
      batch.partial.object_ref().use_count() != 1 ||
      batch.partial.as_object().size() > kMaxReusedPartial) {
    batch.partial = Value();
    return;
  }
  Object& partial = batch.partial.as_object();
  const size_t first_new = batch.spare_objects.size();
  partial.ForEach([&](const std::string&, const Value& entry) {
    if (entry.is_object() && entry.object_ref().use_count() == 1 &&
        batch.spare_objects.size() < kMaxSpares) {
      batch.spare_objects.push_back(entry.object_ref());
    }
  });
  partial.Clear();
  for (size_t i = first_new; i < batch.spare_objects.size(); ++i) {
    batch.spare_objects[i]->Clear();
  }
}

absl::StatusOr<MemoryPartitionConfig> MemoryPartitionConfig::FromValue(
    const Value& config) {
  if (!config.is_object()) {
    return absl::InvalidArgumentError("partition config must be an object");
  }
  MemoryPartitionConfig out;
  const Value& initial = config["initialState"];
  if (!initial.is_object()) {
    return absl::InvalidArgumentError(
        "partition.initialState must be an object");
  }
  absl::Status bad;
  initial.as_object().ForEach([&](const std::string& id, const Value& bot) {
    if (bad.ok() && !bot.is_object()) {
      bad = absl::InvalidArgumentError(absl::StrCat(
          "partition.initialState[\"", id, "\"] must be an object"));
    }
  });
  if (!bad.ok()) return bad;
  out.initial_state = initial;
  for (auto [key, field] : {std::pair{"localSiteId", &out.local_site_id},
                            std::pair{"remoteSiteId", &out.remote_site_id}}) {
    const Value& v = config[key];
    if (v.is_string()) {
      *field = v.as_string();
    } else if (!v.is_nullish()) {
      return absl::InvalidArgumentError(
          absl::StrCat("partition.", key, " must be a string"));
    }
  }
  const Value& priv = config["private"];
  out.is_private = bots::IsTruthy(priv);  // `config.private || false`
  return out;
}

MemoryPartition::MemoryPartition(MemoryPartitionConfig config)
    : state_(std::move(config.initial_state)),
      site_id_(config.local_site_id.value_or(bots::NewUuid())),
      remote_site_id_(config.remote_site_id.value_or(bots::NewUuid())),
      private_(config.is_private),
      on_version_(
          CurrentVersion{site_id_, remote_site_id_, Value::NewObject()}),
      version_value_(on_version_.value().ToValue()) {}

MemoryPartition::~MemoryPartition() = default;

void MemoryPartition::Connect() {
  if (space().has_value() && !space()->empty()) {
    state_.as_object().ForEach([&](const std::string&, const Value& bot) {
      if (bot.is_object()) bot.as_object().Set("space", Value(*space()));
    });
  }
  on_status_.Next(ConnectionStatus(true));
  on_status_.Next(AuthenticationStatus(true));
  on_status_.Next(AuthorizationStatus(true));
  on_status_.Next(SyncStatus(true));
}

absl::StatusOr<std::vector<Value>> MemoryPartition::ApplyEvents(
    const std::vector<Value>& events) {
  // The batch's containers are reused from call to call; a nested call (from
  // an observer during Emit) finds none spare and makes its own.
  std::unique_ptr<Batch> owned =
      spare_batch_ ? std::move(spare_batch_) : std::make_unique<Batch>();
  Batch& batch = *owned;
  std::vector<ActionKind>& kinds = batch.kinds;
  kinds.clear();
  // A batch of one update, the most common call, has a path of its own.
  if (events.size() == 1) {
    const ActionFields fields = ReadAction(events[0]);
    kinds.push_back(fields.kind);
    if (fields.kind == ActionKind::kUpdate && fields.id != nullptr &&
        fields.update != nullptr &&
        SingleUpdate(batch, *fields.id, *fields.update)) {
      spare_batch_ = std::move(owned);
      return std::vector<Value>{};
    }
  }
  // apply_state is expanded against the state as it was before the batch.
  std::vector<std::vector<Value>> expanded;
  for (size_t i = 0; i < events.size(); ++i) {
    const Value& e = events[i];
    if (i >= kinds.size()) kinds.push_back(KindOf(e));
    if (kinds[i] == ActionKind::kApplyState) {
      expanded.push_back(bots::BreakIntoIndividualEvents(state_, e));
    }
  }
  if (!batch.partial.is_object()) batch.partial = Value::NewObject();
  size_t next_expanded = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    switch (kinds[i]) {
      case ActionKind::kUpdate:
        UpdateBot(batch, events[i]);
        break;
      case ActionKind::kAdd:
        AddBot(batch, events[i]);
        break;
      case ActionKind::kRemove:
        RemoveBot(batch, events[i]);
        break;
      case ActionKind::kApplyState:
        for (const Value& action : expanded[next_expanded++]) {
          Apply(batch, action);
        }
        break;
      case ActionKind::kIgnored:
        break;  // every other action type is ignored, as upstream does
    }
  }
  Emit(batch);
  EndBatch(batch);
  spare_batch_ = std::move(owned);
  return std::vector<Value>{};
}

void MemoryPartition::Apply(Batch& batch, const Value& action) {
  switch (KindOf(action)) {
    case ActionKind::kUpdate:
      UpdateBot(batch, action);
      break;
    case ActionKind::kAdd:
      AddBot(batch, action);
      break;
    case ActionKind::kRemove:
      RemoveBot(batch, action);
      break;
    default:
      break;  // every other action type is ignored, as upstream does
  }
}

void MemoryPartition::AddBot(Batch& batch, const Value& action) {
  const Value& incoming = action["bot"];
  if (!incoming.is_object()) return;  // validated at the edge
  std::string id = bots::ToJsString(incoming["id"]);
  Value bot = ShallowCopy(bots::EnsureBotIsSerializable(incoming));
  bot.as_object().Set("space", space() ? Value(*space()) : Value());
  const Value* existing = state_.as_object().Find(id);
  if (existing != nullptr) {
    const Value& masks = (*existing)["masks"];
    if (bots::IsTruthy(masks)) bot.as_object().Set("masks", masks);
  }
  state_.as_object().Set(id, bot);
  batch.partial.as_object().Set(id, bot);
  batch.added.Set(id, bot);
}

void MemoryPartition::RemoveBot(Batch& batch, const Value& action) {
  std::string id = bots::ToJsString(action["id"]);
  state_.as_object().Erase(id);
  if (!batch.added.Erase(id)) batch.removed.push_back(id);
  batch.partial.as_object().Set(id, nullptr);
}

void MemoryPartition::UpdateBot(Batch& batch, const Value& action) {
  std::string id = bots::ToJsString(action["id"]);
  // The bot is looked up before the update is read: both are usually cold
  // (the bot was last touched many calls ago, the action was built long
  // before), and this order lets their cache misses overlap.
  Value* entry = state_.as_object().Find(id);
  if (entry != nullptr && entry->is_object()) {
    __builtin_prefetch(&entry->as_object());
  }
  const Value& update = action["update"];
  if (!update.is_object()) return;  // validated at the edge
  const Value& update_tags = update["tags"];
  bool partial_has_tags = false;
  if (update_tags.is_object() && entry != nullptr) {
    partial_has_tags = UpdateTags(batch, id, *entry, update, update_tags);
  }
  const Value& masks = update["masks"];
  if (masks.is_object()) {
    partial_has_tags = false;  // the masks' merge replaces the partial entry
    // With no space, upstream looks up the literal key "undefined".
    std::string space_key = space() ? *space() : "undefined";
    if (masks[space_key].is_object()) {
      UpdateMasks(batch, id, update, space_key);
    }
  }
  // A partial whose tags ended up empty loses its `tags` property; this can
  // be the very bot added earlier in the batch.
  if (partial_has_tags) return;
  const Value& partial = batch.partial.as_object().Get(id);
  if (partial.is_object()) {
    const Value& tags = partial["tags"];
    if (tags.is_object() && tags.as_object().empty()) {
      partial.as_object().Erase("tags");
    }
  }
}

MemoryPartition::Writable MemoryPartition::WritableCopy(const std::string& id) {
  return WritableCopy(state_.as_object().Find(id));
}

MemoryPartition::Writable MemoryPartition::WritableCopy(const Value* entry) {
  if (entry == nullptr || !entry->is_object()) {
    return {Value::NewObject(), false};
  }
  // Upstream writes an update into a shallow copy ({...state[id]}) that
  // replaces the entry. When nothing but the state refers to the entry, the
  // copy cannot be told apart from the original, so the original is reused
  // (and needs no storing back).
  if (entry->object_ref().use_count() == 1) return {*entry, true};
  return {ShallowCopy(*entry), false};
}

void MemoryPartition::StoreBack(const std::string& id, Writable& bot) {
  if (!bot.in_place) state_.as_object().Set(id, bot.value);
}

void MemoryPartition::ApplyEdit(Batch& batch, const std::string& tag,
                                const Value& edit, const Value& old_value,
                                Value last_emitted, Object& target,
                                Object& emitted) {
  target.Set(tag, bots::ApplyTagEdit(target.Get(tag), edit));
  CurrentVersion next = NextVersion(edit);
  // Earlier edits of this tag in the batch are reported together, unless
  // the tag was set to a plain value in between.
  Value earlier;
  if (!StrictEquals(last_emitted, old_value) && IsTagEdit(last_emitted)) {
    earlier = last_emitted;
  }
  emitted.Set(tag, CombinedEdit(next.vector, earlier, edit));
  batch.next_version = std::move(next);
}

void MemoryPartition::WriteTags(Batch& batch, Object& update_tags,
                                Object* tags_object, Object& partial_tags,
                                const Value& last_partial,
                                std::vector<std::string>& changed) {
  // The tag names are taken first: the loop may erase keys of the update's
  // own tags object, which the partial state shares. The scratch list keeps
  // its capacity between calls. The first tag's value is read here too:
  // nothing changes the update's tags before the loop reads it.
  std::vector<std::string>& tag_names = tag_scratch_;
  tag_names.clear();
  const Value* first_given = nullptr;
  update_tags.ForEach([&](const std::string& tag, const Value& value) {
    if (tag_names.empty()) first_given = &value;
    tag_names.push_back(tag);
  });
  // The partial entry's tags are the update's own when the entry is a
  // shallow copy of the update.
  const bool partial_tags_are_update_tags = &partial_tags == &update_tags;
  const Value undefined_value;
  for (const std::string& tag : tag_names) {
    Object& tags = *tags_object;
    const Value& given =
        &tag == tag_names.data() ? *first_given : update_tags.Get(tag);
    Value new_value = bots::EnsureTagIsSerializable(given);
    // Writing a value back where it came from changes nothing; checked now,
    // before `tags` (which might be the update's tags too) is written.
    const bool partial_holds_it =
        partial_tags_are_update_tags && SameValue(new_value, given);
    // Nothing below adds or removes keys of `tags` before the value is
    // replaced, so the slot stays valid until then.
    Value* slot = tags.Find(tag);
    // Read only until the slot is written (the edit path takes a copy).
    const Value& old_value = slot ? *slot : undefined_value;
    if ((!StrictEquals(new_value, old_value) &&
         (HasValue(new_value) || HasValue(old_value))) ||
        new_value.is_array()) {
      changed.push_back(tag);
    }
    if (HasValue(new_value)) {
      if (IsTagEdit(new_value)) {
        ApplyEdit(batch, tag, new_value, Value(old_value),
                  last_partial["tags"][tag], tags, partial_tags);
        if (!HasValue(tags.Get(tag))) tags.Erase(tag);
      } else {
        if (partial_holds_it) {
          if (slot) {
            *slot = std::move(new_value);
          } else {
            tags.Set(tag, std::move(new_value));
          }
        } else {
          if (slot) {
            *slot = new_value;
          } else {
            tags.Set(tag, new_value);
          }
          partial_tags.Set(tag, std::move(new_value));
        }
      }
    } else if (HasValue(old_value)) {
      tags.Erase(tag);
      partial_tags.Set(tag, nullptr);
    } else {
      tags.Erase(tag);
      partial_tags.Erase(tag);
    }
  }
}

bool MemoryPartition::UpdateTags(Batch& batch, const std::string& id,
                                 const Value& entry, const Value& update,
                                 const Value& update_tags) {
  Object& partial_state = batch.partial.as_object();
  Writable writable = WritableCopy(&entry);
  Value& new_bot = writable.value;
  // Upstream throws a TypeError when a tag is updated on an entry without a
  // tags object (a mask-only entry); we give it one instead
  // (docs/compatibility.md).
  const Value* bot_tags = new_bot.as_object().Find("tags");
  if ((bot_tags == nullptr || !bot_tags->is_object()) &&
      !update_tags.as_object().empty()) {
    new_bot.as_object().Set("tags", Value::NewObject());
    bot_tags = new_bot.as_object().Find("tags");
  }
  // The loop below changes this tags object, never new_bot's `tags`
  // property, and nothing before it changes new_bot (it is not in the
  // partial state).
  Object* tags_object = bot_tags != nullptr && bot_tags->is_object()
                            ? &bot_tags->as_object()
                            : nullptr;
  // One lookup for reading and replacing the partial entry (Merge does not
  // touch the partial state, so the pointer stays valid).
  Value* partial_entry = partial_state.Find(id);
  Value last_partial = partial_entry ? *partial_entry : Value();
  // Merging into {} is a shallow copy of the update.
  Value merged = last_partial.is_object()
                     ? bots::Merge(last_partial, update)
                     : NewShallowCopy(batch, update.as_object());
  if (partial_entry) {
    *partial_entry = merged;
  } else {
    partial_state.Set(id, merged);
  }
  // A shallow copy of the update shares the update's own tags object.
  Object& partial_tags = last_partial.is_object() ? merged["tags"].as_object()
                                                  : update_tags.as_object();

  std::vector<std::string> changed = TakeTagList(batch);
  WriteTags(batch, update_tags.as_object(), tags_object, partial_tags,
            last_partial, changed);
  StoreBack(id, writable);

  if (bots::UpdatedBot* entry = batch.updated.Find(id)) {
    entry->bot = new_bot;
    for (std::string& tag : changed) {
      if (std::find(entry->tags.begin(), entry->tags.end(), tag) ==
          entry->tags.end()) {
        entry->tags.push_back(std::move(tag));
      }
    }
    KeepTagList(batch, std::move(changed));
  } else if (!changed.empty()) {
    // new_bot is not read again (it is stored back already).
    batch.updated.Set(id, bots::UpdatedBot{std::move(new_bot),
                                           std::move(changed), std::nullopt});
  } else {
    if (!batch.added.contains(id)) {
      partial_state.Erase(id);
      KeepTagList(batch, std::move(changed));
      return false;
    }
    KeepTagList(batch, std::move(changed));
  }
  return !partial_tags.empty();
}

MemoryPartition::OneTag MemoryPartition::FindOneTag(Object& update_tags,
                                                    Object& tags) {
  // WriteTags' loop for its usual input: one tag set to a primitive (which
  // EnsureTagIsSerializable returns as it is, and which is no tag edit) in
  // a bot's tags object that is not the update's own.
  OneTag one;
  if (update_tags.size() != 1 || &tags == &update_tags) return one;
  update_tags.ForEach([&](const std::string& key, const Value& value) {
    one.tag = &key;
    one.given = &value;
  });
  if (one.given->kind() > Value::Kind::kString) {
    one.tag = nullptr;
    return one;
  }
  one.slot = tags.Find(*one.tag);
  // The old and new values are compared (and the old one released) when
  // the tag is written: their texts' misses overlap with the work before.
  if (one.slot != nullptr && one.slot->is_string()) {
    __builtin_prefetch(&one.slot->as_string());
  }
  if (one.given->is_string()) __builtin_prefetch(&one.given->as_string());
  return one;
}

void MemoryPartition::WriteOneTag(const OneTag& one, Object& update_tags,
                                  Object& tags,
                                  std::vector<std::string>& changed) {
  // The partial entry's tags are the update's, which already hold the value.
  const Value& given = *one.given;
  const std::string& tag = *one.tag;
  Value* slot = one.slot;
  const Value undefined_value;
  const Value& old_value = slot ? *slot : undefined_value;
  const bool has_value = HasValue(given);
  // The name is recorded before the update's tags can lose it below. The
  // list is usually the last call's, often with the same name in it.
  if (!StrictEquals(given, old_value) && (has_value || HasValue(old_value))) {
    if (changed.size() != 1) changed.resize(1);
    AssignString(changed[0], tag);
  } else {
    changed.clear();
  }
  if (has_value) {
    if (slot) {
      *slot = given;
    } else {
      tags.Set(tag, given);
    }
  } else if (HasValue(old_value)) {
    tags.Erase(tag);
    update_tags.Set(tag, nullptr);  // replaces `given`, keeps `tag`
  } else {
    tags.Erase(tag);
    update_tags.Erase(tag);  // `tag` is not read after this
  }
}

bool MemoryPartition::SingleUpdate(Batch& batch, const Value& id_value,
                                   const Value& update) {
  // What the general path would do for this batch, without its batch-wide
  // bookkeeping; every check that can send the call back to the general
  // path comes before the first change.
  if (!id_value.is_string()) return false;
  Value* entry = state_.as_object().Find(id_value.as_string());
  if (entry == nullptr || !entry->is_object()) return false;
  // The bot and the action are usually both cold: the bot's cache misses
  // overlap with the reading of the update.
  PrefetchObject(entry->as_object(), 3);
  if (!update.is_object()) return false;
  Object& update_object = update.as_object();
  // An update of only `tags` (the usual one) has no masks, and its shallow
  // copy has no `id` to classify the entry as added by. Its one key is read
  // without a hashed lookup.
  const bool tags_only = update_object.size() == 1;
  const Value* update_tags_ptr = nullptr;
  if (tags_only) {
    update_object.ForEach([&](const std::string& key, const Value& value) {
      if (std::string_view(key) == "tags") update_tags_ptr = &value;
    });
  } else {
    update_tags_ptr = update_object.Find("tags");
  }
  if (update_tags_ptr == nullptr || !update_tags_ptr->is_object()) {
    return false;
  }
  const Value& update_tags = *update_tags_ptr;
  PrefetchObject(update_tags.as_object(), 2);
  if (!tags_only && update_object.Get("masks").is_object()) return false;
  // A bot without a tags object gets one on the general path.
  const Value& entry_tags = entry->as_object().Get("tags");
  if (!entry_tags.is_object()) return false;
  Object& tags = entry_tags.as_object();
  PrefetchObject(tags, 2);

  // The partial state {id: {...update}}, in the objects of the last call
  // when it left them (nothing else holds them then). Its one key and entry
  // are read in one pass.
  const std::string& given_id = id_value.as_string();
  const std::string* id_ptr = nullptr;
  const Value* entry_ptr = nullptr;
  auto read_partial = [&](const std::string& key, const Value& value) {
    id_ptr = &key;
    entry_ptr = &value;
  };
  // The tag's slot in the bot is found between the steps below (which
  // change neither the bot nor its tags), so that the misses of the bot's
  // tags and of the tag's values overlap with them.
  OneTag one;
  // Kept in the state event, which lends it to observers as it is.
  Value& single_partial = batch.state_event.state;
  if (!single_partial.is_object() || single_partial.as_object().size() != 1) {
    single_partial = Value::NewObject();
    single_partial.as_object().Set(given_id,
                                   Value(update_object.ShallowCopy()));
    single_partial.as_object().ForEach(read_partial);
    one = FindOneTag(update_tags.as_object(), tags);
  } else {
    Object& partial = single_partial.as_object();
    partial.ForEach(read_partial);
    Object& kept = entry_ptr->as_object();
    // {...update} of an update with only tags, into an entry with only
    // tags, is one value to replace (its one key read without a lookup).
    const Value* kept_tags = nullptr;
    if (kept.size() == 1 && tags_only) {
      kept.ForEach([&](const std::string& key, const Value& value) {
        if (std::string_view(key) == "tags") kept_tags = &value;
      });
    }
    if (kept_tags != nullptr) {
      // The entry is ours alone (checked when it was kept), and replacing a
      // value adds or removes no key.
      const_cast<Value&>(*kept_tags) = update_tags;
    } else {
      kept.AssignShallowCopy(update_object);
    }
    one = FindOneTag(update_tags.as_object(), tags);
    if (std::string_view(*id_ptr) != std::string_view(given_id)) {
      // Re-keyed in place: the entry moves out of its slot and back in
      // under the new key (held in the old key's storage). The first entry
      // keeps its place, so id_ptr and entry_ptr still point at it.
      partial.AssignSingle(given_id, std::move(const_cast<Value&>(*entry_ptr)));
    }
  }
  // The partial's own key, not the action's (the caller's, which observers
  // might change); nothing outside can reach the partial before it is
  // emitted, and `id` is not read after that.
  const std::string& id = *id_ptr;
  Object& partial_entry = entry_ptr->as_object();

  // A bot that only the state holds is written in place, as WritableCopy
  // would decide, without taking a reference to it.
  const bool in_place = entry->object_ref().use_count() == 1;
  Writable writable = in_place ? Writable{Value(), true} : WritableCopy(entry);
  if (batch.single_updated.empty()) batch.single_updated.emplace_back();
  bots::UpdatedBot& updated = batch.single_updated.front();
  std::vector<std::string>& changed = updated.tags;
  // The entry is a shallow copy of the update: its tags are the update's.
  if (one.tag != nullptr) {
    WriteOneTag(one, update_tags.as_object(), tags, changed);
  } else {
    changed.clear();
    WriteTags(batch, update_tags.as_object(), &tags, update_tags.as_object(),
              Value(), changed);
  }
  StoreBack(id, writable);
  // A partial whose tags ended up empty loses its `tags` property. Only an
  // emitted partial matters, and a changed tag stays in the update's tags
  // unless those are the bot's own too (reading `empty()` costs a cache
  // miss).
  if (!changed.empty() && &tags == &update_tags.as_object() &&
      update_tags.as_object().empty()) {
    partial_entry.Erase("tags");
  }

  // Emit's order: onBotsUpdated, onStateUpdated, onVersionUpdated; with no
  // changed tag the partial state is empty and no list is emitted.
  if (!changed.empty() && on_bots_updated_.observer_count() > 0) {
    if (in_place) {
      updated.bot = *entry;
    } else {
      updated.bot = std::move(writable.value);
    }
    on_bots_updated_.Next(batch.single_updated);
  }
  if (on_state_updated_.observer_count() > 0) {
    if (changed.empty()) {
      // The general path asks the hook for the version even then.
      if (current_version_hook_) (void)current_version_hook_();
    } else {
      bots::StateUpdatedEvent& event = batch.state_event;
      // Left in the event after the call: a version object is replaced,
      // never changed, so keeping a reference to it changes nothing (and
      // the usual unchanged version needs no new reference).
      if (current_version_hook_) {
        event.version = current_version_hook_().ToValue();
      } else if (batch.next_version) {
        event.version = batch.next_version->ToValue();
      } else if (!SameValue(event.version, version_value_)) {
        event.version = version_value_;
      }
      // The same classification as AssignStateUpdatedEvent, for one key.
      bool added = false;
      if (!tags_only) {
        const Value& entry_id = partial_entry.Get("id");
        added = entry_id.is_string() && entry_id.as_string() == id;
      }
      std::vector<std::string>& listed =
          added ? event.added_bots : event.updated_bots;
      (added ? event.updated_bots : event.added_bots).clear();
      event.removed_bots.clear();
      // Assigned in place, so that a long id reuses the string's storage.
      if (listed.size() != 1) listed.resize(1);
      AssignString(listed[0], id);
      // event.state is the partial state (observers' copies count in the
      // reuse check below).
      on_state_updated_.Next(event);
    }
  }
  if (batch.next_version) {
    version_value_ = batch.next_version->ToValue();
    on_version_.Next(*std::move(batch.next_version));
    batch.next_version.reset();
  }
  updated.bot = Value();  // the state holds the bot
  // Kept for the next call only if no observer kept a reference.
  bool keep = single_partial.object_ref().use_count() == 1 &&
              single_partial.as_object().size() == 1;
  if (keep) {
    single_partial.as_object().ForEach(
        [&](const std::string&, const Value& value) {
          keep = value.is_object() && value.object_ref().use_count() == 1;
        });
  }
  if (!keep) single_partial = Value();
  return true;
}

void MemoryPartition::UpdateMasks(Batch& batch, const std::string& id,
                                  const Value& update,
                                  const std::string& space) {
  Object& partial_state = batch.partial.as_object();
  const Value& incoming = update["masks"][space];
  Writable writable = WritableCopy(id);
  Value& new_bot = writable.value;
  Object& bot = new_bot.as_object();
  if (!bot.Get("masks").is_object()) bot.Set("masks", Value::NewObject());
  Object& all_masks = bot.Get("masks").as_object();
  if (!all_masks.Get(space).is_object()) {
    all_masks.Set(space, Value::NewObject());
  }
  Value last_masks = partial_state.Get(id)["masks"][space];
  Object& masks = all_masks.Get(space).as_object();
  const Value& previous = partial_state.Get(id);
  Value merged =
      bots::Merge(previous.is_object() ? previous : Value::NewObject(), update);
  partial_state.Set(id, merged);
  Object& partial_masks = merged["masks"][space].as_object();

  for (const std::string& tag : incoming.as_object().Keys()) {
    const Value& given = incoming[tag];
    Value new_value = bots::EnsureTagIsSerializable(given);
    Value old_value = masks.Get(tag);
    if (HasValue(new_value)) {
      if (IsTagEdit(new_value)) {
        ApplyEdit(batch, tag, new_value, old_value, last_masks[tag], masks,
                  partial_masks);
      } else {
        masks.Set(tag, new_value);
        if (!StrictEquals(new_value, given)) partial_masks.Set(tag, new_value);
      }
    } else {
      masks.Erase(tag);
      partial_masks.Set(tag, nullptr);
    }
  }

  // Drop deleted masks and emptied spaces. Upstream throws a TypeError when
  // the update names a space the bot has no masks for; we skip that space
  // (docs/compatibility.md).
  for (const std::string& other : update["masks"].as_object().Keys()) {
    const Value& space_masks = all_masks.Get(other);
    if (!space_masks.is_object()) continue;
    for (const std::string& tag : incoming.as_object().Keys()) {
      const Value* v = space_masks.as_object().Find(tag);
      if (v != nullptr && v->is_null()) space_masks.as_object().Erase(tag);
    }
    if (space_masks.as_object().empty()) all_masks.Erase(other);
  }
  if (all_masks.empty()) bot.Erase("masks");
  StoreBack(id, writable);
}

void MemoryPartition::Emit(Batch& batch) {
  if (!batch.added.empty() && on_bots_added_.observer_count() > 0) {
    std::vector<Value>& added = batch.added_list;
    added.reserve(batch.added.size());
    batch.added.ForEach(
        [&](const std::string&, Value& bot) { added.push_back(bot); });
    on_bots_added_.Next(added);
  }
  if (!batch.removed.empty()) on_bots_removed_.Next(batch.removed);
  if (!batch.updated.empty() && on_bots_updated_.observer_count() > 0) {
    std::vector<bots::UpdatedBot>& updated = batch.updated_list;
    updated.reserve(batch.updated.size());
    batch.updated.ForEach([&](const std::string&, bots::UpdatedBot& u) {
      updated.push_back(std::move(u));
    });
    on_bots_updated_.Next(updated);
  }
  if (on_state_updated_.observer_count() > 0) {
    Value version = current_version_hook_ ? current_version_hook_().ToValue()
                    : batch.next_version  ? batch.next_version->ToValue()
                                          : version_value_;
    bots::StateUpdatedEvent& event = batch.state_event;
    bots::AssignStateUpdatedEvent(event, batch.partial, std::move(version));
    if (!event.added_bots.empty() || !event.removed_bots.empty() ||
        !event.updated_bots.empty()) {
      on_state_updated_.Next(event);
    }
    // Only observers' own copies keep the partial state now.
    event.state = Value();
    event.version = Value();
  }
  if (batch.next_version) {
    version_value_ = batch.next_version->ToValue();
    on_version_.Next(*std::move(batch.next_version));
  }
}

CurrentVersion MemoryPartition::NextVersion(const Value& edit) {
  if (next_version_hook_) return next_version_hook_(edit);
  const CurrentVersion& current = on_version_.value();
  CurrentVersion next;
  next.current_site = current.current_site;
  next.remote_site = current.remote_site;
  next.vector = ShallowCopy(current.vector);
  bool is_remote = bots::IsTruthy(edit["isRemote"]);
  update_counter_ += 1;
  next.vector.as_object().Set(is_remote ? remote_site_id_ : site_id_,
                              Value(update_counter_));
  return next;
}

rx::Subscription MemoryPartition::OnBotsAdded(BotsCallback callback) {
  std::vector<Value> replay;
  replay.reserve(state_.as_object().size());
  state_.as_object().ForEach(
      [&](const std::string&, const Value& bot) { replay.push_back(bot); });
  callback(replay);
  return on_bots_added_.Subscribe(std::move(callback));
}

rx::Subscription MemoryPartition::OnBotsRemoved(IdsCallback callback) {
  return on_bots_removed_.Subscribe(std::move(callback));
}

rx::Subscription MemoryPartition::OnBotsUpdated(UpdatedBotsCallback callback) {
  return on_bots_updated_.Subscribe(std::move(callback));
}

rx::Subscription MemoryPartition::OnStateUpdated(StateCallback callback) {
  bots::StateUpdatedEvent replay = bots::MakeStateUpdatedEvent(
      state_, current_version_hook_ ? current_version_hook_().ToValue()
                                    : version_value_);
  callback(replay);
  return on_state_updated_.Subscribe(std::move(callback));
}

rx::Subscription MemoryPartition::OnVersionUpdated(VersionCallback callback) {
  return on_version_.Subscribe(std::move(callback));
}

rx::Subscription MemoryPartition::OnError(ValueCallback callback) {
  return on_error_.Subscribe(std::move(callback));
}

rx::Subscription MemoryPartition::OnEvents(ActionsCallback callback) {
  return on_events_.Subscribe(std::move(callback));
}

rx::Subscription MemoryPartition::OnStatusUpdated(ValueCallback callback) {
  return on_status_.Subscribe(std::move(callback));
}

absl::StatusOr<std::unique_ptr<MemoryPartition>> CreateMemoryPartition(
    const Value& config) {
  if (!config["type"].is_string() || config["type"].as_string() != "memory" ||
      !config.as_object().Has("initialState")) {
    return std::unique_ptr<MemoryPartition>();
  }
  absl::StatusOr<MemoryPartitionConfig> parsed =
      MemoryPartitionConfig::FromValue(config);
  if (!parsed.ok()) return parsed.status();
  return std::make_unique<MemoryPartition>(*std::move(parsed));
}

}  // namespace auxsync::partitions
