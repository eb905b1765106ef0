#include "auxsync/partitions/yjs_helpers.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "auxsync/crdt/id.h"

namespace auxsync::partitions {

namespace {

using crdt::engine::Item;
using crdt::engine::TypeImpl;

// Builds the position the way yjs does: root types by name, nested types by
// the ID of the item that holds them.
crdt::RelativePosition MakePosition(const TypeImpl* t,
                                    std::optional<crdt::ID> item,
                                    int64_t assoc) {
  crdt::RelativePosition r;
  if (t->item == nullptr) {
    r.tname = std::string(t->root_name());
  } else {
    r.type = crdt::ID{t->item->id.client, t->item->id.clock};
  }
  r.item = item;
  r.assoc = assoc;
  return r;
}

// The value upstream finds under String(client), if it is a number.
const double* Lookup(const ClockVector& vector, uint64_t client) {
  auto it = vector.find(client);
  return it == vector.end() ? nullptr : &it->second;
}

// Whether `key` is what JavaScript's Number#toString prints for a client id
// (a safe integer): digits, no leading zero unless "0".
std::optional<uint64_t> CanonicalClient(const std::string& key) {
  if (key.empty() || key.size() > 16) return std::nullopt;
  if (key.size() > 1 && key[0] == '0') return std::nullopt;
  uint64_t n = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > crdt::kMaxSafeInteger) return std::nullopt;
  return n;
}

// yjs fixes an item's `countable` flag when the item is created, so a
// string collected after its deletion (content replaced by ContentDeleted)
// still counts; the engine only keeps the content. Deleted content is
// therefore taken as countable here (only include_deleted can see it). This
// differs from yjs for items that arrived already collected (loaded from an
// update that carried them as deleted), which yjs does not count.
bool CountsAsCountable(const Item& n) {
  return n.Countable() ||
         (n.deleted && !n.gc && n.content.ref == crdt::engine::kRefDeleted);
}

}  // namespace

std::map<uint64_t, uint64_t> GetStateVector(const crdt::Doc& doc) {
  std::map<uint64_t, uint64_t> sv;
  for (const auto& [client, structs] : doc.store().clients()) {
    if (structs.empty()) continue;
    sv[client] = structs.back()->EndClock();
  }
  return sv;
}

namespace {

// (client, next clock) of every client with structs, clients ascending.
// Built once per transaction: no ordered map, just the few clients sorted.
absl::InlinedVector<std::pair<uint64_t, uint64_t>, 4> SortedStateVector(
    const crdt::Doc& doc) {
  absl::InlinedVector<std::pair<uint64_t, uint64_t>, 4> sv;
  for (const auto& [client, structs] : doc.store().clients()) {
    if (structs.empty()) continue;
    sv.emplace_back(client, structs.back()->EndClock());
  }
  std::sort(sv.begin(), sv.end());
  return sv;
}

}  // namespace

bots::Value GetStateVectorValue(const crdt::Doc& doc) {
  const auto sv = SortedStateVector(doc);
  bots::Value v = bots::Value::NewObject();
  bots::Object& out = v.as_object();
  for (const auto& [client, clock] : sv) {
    out.Set(absl::StrCat(client), bots::Value(clock));
  }
  return v;
}

bots::Value StateVectorValueCache::Get(const crdt::Doc& doc) {
  // The usual document has one client, the one of the last value: its
  // clock goes into the value before the last one when no one holds it any
  // more (see below), without collecting and sorting the state vector.
  const auto& clients = doc.store().clients();
  if (clients.size() == 1 && clients_.size() == 1 && spare_.is_object() &&
      spare_.object_ref().use_count() == 1 && last_.is_object()) {
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    const uint64_t client = clients.begin()->first;
    const auto& structs = clients.begin()->second;
    bots::Object& out = spare_.as_object();
    if (client == clients_[0] && !structs.empty() && out.size() == 1 &&
        last_.as_object().size() == 1) {
      bool found = false;
      out.ForEach([&](const std::string& key, const bots::Value& clock) {
        if (key != keys_[0]) return;
        const_cast<bots::Value&>(clock) =
            bots::Value(structs.back()->EndClock());
        found = true;
      });
      if (found) {
        std::swap(spare_, last_);
        return last_;
      }
    }
  }
  const auto sv = SortedStateVector(doc);
  bool same = sv.size() == clients_.size();
  for (size_t i = 0; same && i < sv.size(); ++i) {
    same = sv[i].first == clients_[i];
  }
  if (same && last_.is_object() && last_.as_object().size() == sv.size()) {
    // A copy of the last value with the new clocks: the same keys in the
    // same order. Every key found means the copy has exactly these keys
    // (even if someone changed the last value since). The value before the
    // last one serves as that copy when no one else holds it any more (a
    // partition keeps the last two: its current version and the new one),
    // so no one can tell it from a new object.
    bots::Value v = spare_.is_object() &&
                            spare_.object_ref().use_count() == 1 &&
                            spare_.as_object().size() == sv.size()
                        ? std::move(spare_)
                        : bots::Value(last_.as_object().ShallowCopy());
    spare_ = bots::Value();
    bots::Object& out = v.as_object();
    // The keys in order (as built): each clock is set in one pass without a
    // lookup. (ForEach allows re-assigning a key's value.)
    bool all_found = true;
    size_t i = 0;
    out.ForEach([&](const std::string& key, const bots::Value& clock) {
      if (!all_found || i >= sv.size() || key != keys_[i]) {
        all_found = false;
        return;
      }
      const_cast<bots::Value&>(clock) = bots::Value(sv[i].second);
      ++i;
    });
    if (all_found && i == sv.size()) {
      spare_ = std::move(last_);
      last_ = v;
      return v;
    }
  }
  if (!same) {
    clients_.clear();
    keys_.clear();
    for (const auto& [client, clock] : sv) {
      clients_.push_back(client);
      keys_.push_back(absl::StrCat(client));
    }
  }
  // The same object GetStateVectorValue builds: clients ascending.
  bots::Value v = bots::Value::NewObject();
  bots::Object& out = v.as_object();
  out.Reserve(sv.size());
  for (size_t i = 0; i < sv.size(); ++i) {
    out.Set(keys_[i], bots::Value(sv[i].second));
  }
  spare_ = std::move(last_);
  last_ = v;
  return v;
}

std::optional<uint64_t> GetClock(const crdt::Doc& doc, uint64_t client) {
  const auto* structs = doc.store().Client(client);
  if (structs == nullptr || structs->empty()) return std::nullopt;
  return structs->back()->EndClock();
}

ClockVector ClockVectorFromValue(const bots::Value& vector) {
  ClockVector out;
  if (!vector.is_object()) return out;
  vector.as_object().ForEach([&](const std::string& key, const bots::Value& v) {
    if (!v.is_number()) return;
    if (auto client = CanonicalClient(key)) out[*client] = v.as_number();
  });
  return out;
}

crdt::RelativePosition CreateRelativePositionFromStateVector(
    crdt::YType text, const ClockVector& vector, uint64_t index, int64_t assoc,
    bool include_deleted) {
  const TypeImpl* t = text.impl();
  if (assoc < 0) {
    // Left association: the position names the unit before the index.
    if (index == 0) return MakePosition(t, std::nullopt, assoc);
    --index;
  }
  for (const Item* n = t->start; n != nullptr; n = n->right) {
    const double* seen = Lookup(vector, n->id.client);
    // A merged item is judged by its first clock only, as upstream does.
    if (seen == nullptr || !(static_cast<double>(n->id.clock) <= *seen)) {
      continue;
    }
    if ((!n->deleted || include_deleted) && CountsAsCountable(*n)) {
      if (n->length > index) {
        return MakePosition(t, crdt::ID{n->id.client, n->id.clock + index},
                            assoc);
      }
      index -= n->length;
    }
    if (n->right == nullptr && assoc < 0) {
      const auto last = n->LastId();
      return MakePosition(t, crdt::ID{last.client, last.clock}, assoc);
    }
  }
  return MakePosition(t, std::nullopt, assoc);
}

crdt::RelativePosition CreateRelativePositionFromStateVector(
    crdt::YType text, const bots::Value& vector, uint64_t index, int64_t assoc,
    bool include_deleted) {
  return CreateRelativePositionFromStateVector(
      text, ClockVectorFromValue(vector), index, assoc, include_deleted);
}

std::optional<crdt::AbsolutePosition> CreateAbsolutePositionFromStateVector(
    crdt::Doc& doc, crdt::YType text, const ClockVector& vector, uint64_t index,
    int64_t assoc, bool include_deleted) {
  return crdt::CreateAbsolutePositionFromRelativePosition(
      CreateRelativePositionFromStateVector(text, vector, index, assoc,
                                            include_deleted),
      doc);
}

std::optional<char16_t> GetTextChar(crdt::YText text, int64_t index) {
  if (index < 0) return std::nullopt;
  uint64_t i = 0;
  const auto want = static_cast<uint64_t>(index);
  for (const Item* n = text.impl()->start; n != nullptr; n = n->right) {
    if (n->deleted || !n->Countable() ||
        n->content.ref != crdt::engine::kRefString) {
      continue;
    }
    if (i + n->length > want) return n->content.str[want - i];
    i += n->length;
  }
  return std::nullopt;
}

}  // namespace auxsync::partitions
