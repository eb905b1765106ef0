// Transaction cleanup pieces: garbage collection, struct merging, events.
#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "auxsync/crdt/internal/engine.h"

namespace auxsync::crdt::engine {
namespace {

void ToGc(Item* it) {
  it->gc = true;
  it->deleted = true;
  it->content = Content();
  it->parent = nullptr;
  it->left = it->right = nullptr;
  it->has_parent_sub = false;
  it->parent_sub.clear();
}

// Before `holder`'s content is dropped: a pinned type is retired, not freed
// (TypeImpl::pinned).
inline void RetireIfPinned(Doc& doc, Item* holder) {
  const TypeImpl* t = holder->content.type();
  if (t != nullptr && t->pinned) [[unlikely]] {
    DocAccess::Retire(doc, holder);
  }
}

// Item.gc: collects content; the children of a collected type (all of its
// descendants) become GC structs. Iterative: nesting depth is unbounded.
// A pinned type is retired rather than freed (DocAccess::Retire).
void GcItem(Doc& doc, Item* it, bool parent_gcd) {
  // A collected type usually has a handful of children: no allocation.
  absl::InlinedVector<Item*, 16> todo;
  auto collect_children = [&todo](Item* x) {
    if (x->content.ref != kRefType) return;
    TypeImpl* t = x->content.type();
    for (Item* c = t->start; c != nullptr; c = c->right) todo.push_back(c);
    t->start = nullptr;
    for (const MapTable::Entry& e : t->map) {
      for (Item* c = e.current; c != nullptr; c = c->left) todo.push_back(c);
    }
    t->map.Clear();
  };
  collect_children(it);
  while (!todo.empty()) {
    Item* c = todo.back();
    todo.pop_back();
    collect_children(c);
    RetireIfPinned(doc, c);
    ToGc(c);
  }
  RetireIfPinned(doc, it);
  if (parent_gcd) {
    ToGc(it);
  } else {
    Content c;
    c.ref = kRefDeleted;
    it->content = std::move(c);
  }
}

bool TryMerge(Item* left, Item* right) {
  if (left->gc != right->gc) return false;
  if (left->gc) {
    left->length += right->length;
    return true;
  }
  if (!(right->has_origin && right->origin == left->LastId())) return false;
  if (left->right != right) return false;
  if (!(left->RightOrigin() == right->RightOrigin())) return false;
  if (left->id.client != right->id.client ||
      left->EndClock() != right->id.clock)
    return false;
  if (left->deleted != right->deleted) return false;
  if (left->content.ref != right->content.ref || !left->content.Mergeable())
    return false;
  TypeImpl* p = left->parent;
  if (p != nullptr && p->cache_item == right) {
    // The cached position moves to the merged item, which starts earlier.
    p->cache_item = left;
    if (left->Visible()) p->cache_index -= left->length;
  }
  left->content.Append(std::move(right->content));
  if (right->keep) left->keep = true;
  left->right = right->right;
  if (left->right != nullptr) left->right->left = left;
  left->length += right->length;
  return true;
}

// Whether TryMerge(left, right) would merge, without changing anything:
// most neighbours fail on the first tests (a cleanup tries every new
// struct, and a decoded state arrives merged).
// The tests are combined without early exits (`&`, not `&&`): which one
// fails first is random for a loaded state's neighbours, and each exit
// would be a mispredicted branch; their result is almost always false.
inline bool CanMerge(const Item* left, const Item* right) {
  const bool flags =
      (left->deleted == right->deleted) & (left->gc == right->gc);
  if (left->gc) return flags;
  auto same = [](Id a, Id b) {
    return (a.client == b.client) & (a.clock == b.clock);
  };
  const bool rights = (left->has_right_origin == right->has_right_origin) &
                      ((!left->has_right_origin) |
                       same(left->right_origin, right->right_origin));
  const bool linked = (left->right == right) & right->has_origin &
                      same(right->origin, left->LastId()) & rights &
                      same({left->id.client, left->EndClock()}, right->id) &
                      (left->content.ref == right->content.ref);
  return flags & linked && left->content.Mergeable();
}

// Merges structs[pos] into its lefts as far as possible, the first pair
// being known to merge; returns how many structs were absorbed.
size_t MergeRun(StructList& v, size_t pos, ItemPool* freed) {
  size_t i = pos;
  // The struct at i after a merge is the one that was at i - 1: carry it
  // instead of looking it up again.
  Item* right = v[i];
  for (; i > 0; --i) {
    Item* left = v[i - 1];
    if (CanMerge(left, right) && TryMerge(left, right)) {
      if (!right->gc && right->has_parent_sub && right->parent != nullptr &&
          right->parent->GetMap(right->parent_sub.get()) == right) {
        right->parent->SetMap(right->parent_sub, left);
      }
      freed->DeferFree(right);
      right = left;
      continue;
    }
    break;
  }
  size_t merged = pos - i;
  if (merged > 0) {
    v.Erase(pos + 1 - merged, pos + 1);
  }
  return merged;
}

// Merges structs[pos] into its lefts as far as possible; returns how many
// structs were absorbed.
inline size_t MergeWithLefts(StructList& v, size_t pos, ItemPool* freed) {
  if (pos == 0 || !CanMerge(v[pos - 1], v[pos])) return 0;
  return MergeRun(v, pos, freed);
}

}  // namespace

void TryGcAndMerge(Transaction& tr, Doc& doc) {
  StructStore& store = doc.store();
  const DeleteSet& ds = DocAccess::Ds(tr);
  // (A cleared delete set keeps its table's capacity: iterating an empty
  // one still scans every slot, so it is skipped.)
  // (A delete set of deleted content only, as a decoded state brings, has
  // nothing to collect.)
  if (doc.gc() && !ds.clients.empty() && ds.MayHoldContent()) {
    for (const auto& [client, ranges] : ds.clients) {
      auto* v = store.Client(client);
      if (v == nullptr) continue;
      for (size_t di = ranges.size(); di-- > 0;) {
        auto [clock, len] = ranges[di];
        uint64_t end = clock + len;
        for (size_t si = StructStore::FindIndex(*v, clock); si < v->size();
             ++si) {
          Item* s = (*v)[si];
          if (s->id.clock >= end) break;
          // Deleted content (as a decoded state brings) is already what
          // collecting it would make.
          if (!s->gc && s->deleted && !s->keep &&
              s->content.ref != kRefDeleted) {
            GcItem(doc, s, false);
          }
        }
      }
    }
  }
  // Merging finds the same runs in any order: whether two neighbours can
  // merge does not change when either merges with another, and every merge
  // goes on leftwards until a pair fails. So a pair that the pass over the
  // new structs below visits anyway (its right struct starts at or after
  // the client's state before the transaction) is not tried here first.
  ItemPool* freed = &doc.pool();
  if (!ds.clients.empty()) {
    for (const auto& [client, ranges] : ds.clients) {
      auto* v = store.Client(client);
      if (v == nullptr) continue;
      const uint64_t before = DocAccess::Before(tr, client);
      for (size_t di = ranges.size(); di-- > 0;) {
        auto [clock, len] = ranges[di];
        if (clock >= before) continue;
        size_t most_right = std::min(
            v->size() - 1, 1 + StructStore::FindIndex(*v, clock + len - 1));
        for (size_t si = most_right; si > 0 && (*v)[si]->id.clock >= clock;) {
          si -= std::min(si, 1 + MergeWithLefts(*v, si, freed));
        }
      }
    }
  }
  // A new struct merges with its left one only if it has an origin or is
  // GC, or after a split or a delete: without any of them (a loaded
  // document of maps and first items: every struct names its parent) no
  // pair can merge, and the pass would only read every new struct again.
  bool& added_mergeable = DocAccess::AddedMergeable(tr);
  const bool walk = added_mergeable || !ds.clients.empty() ||
                    !DocAccess::MergeStructs(tr).empty();
  added_mergeable = false;
  for (const auto& [client, clock] : tr.after_state()) {
    if (!walk) break;
    uint64_t before = DocAccess::Before(tr, client);
    if (before == clock) continue;
    auto* v = store.Client(client);
    size_t first = std::max<size_t>(StructStore::FindIndex(*v, before), 1);
    // From the right, each struct that merges with its left one (found
    // without trying the others one by one) merges leftwards as far as it
    // goes, and the walk goes on left of the merged run.
    for (size_t i = v->size() - 1; i >= first;) {
      const size_t p = v->LastPairWhere(first, i, CanMerge);
      if (p == v->size()) break;
      const size_t m = MergeRun(*v, p, freed);
      if (p < 1 + m) break;
      i = p - 1 - m;
    }
  }
  auto& ms = DocAccess::MergeStructs(tr);
  for (size_t i = ms.size(); i-- > 0;) {
    Id id = ms[i]->id;
    // Both pairs of (the struct now holding) a new struct were tried above:
    // a merged struct that starts before the transaction's state was left
    // by a leftward merge that failed at its left pair.
    if (id.clock >= DocAccess::Before(tr, id.client)) continue;
    auto* v = store.Client(id.client);
    size_t pos = StructStore::FindIndex(*v, id.clock);
    if (pos + 1 < v->size()) {
      if (MergeWithLefts(*v, pos + 1, freed) > 1) continue;
    }
    if (pos > 0) MergeWithLefts(*v, pos, freed);
  }
  freed->FlushDeferred();
}

// ---- events
// ----------------------------------------------------------------------

OutValue ItemValue(const Item* it, size_t index) {
  OutValue v;
  switch (it->content.ref) {
    case kRefAny:
    case kRefJson:
      v.value = it->content.anys()[index];
      break;
    case kRefEmbed:
      v.value = it->content.anys()[0];
      break;
    case kRefBinary:
      v.value = BytesAny(it->content.bytes());
      v.is_binary = true;
      break;
    case kRefString:
      v.value =
          Any::MakeString(ToUtf8(std::u16string(1, it->content.str[index])));
      break;
    case kRefType:
      v.type = it->content.type();
      break;
    case kRefDoc:
      v.value = Any::MakeString(it->content.bytes());
      v.is_doc = true;
      break;
    default:
      break;
  }
  return v;
}

namespace {
OutValue LastValue(const Item* it) {
  if (it->gc || it->content.ref == kRefDeleted) return OutValue{};
  if (it->content.ref == kRefString) {
    OutValue v;
    v.value =
        Any::MakeString(ToUtf8(it->content.str));  // not reachable for maps
    return v;
  }
  return ItemValue(it, static_cast<size_t>(it->content.Length() - 1));
}

bool AttrEq(const Any* a, const Any* b) {
  Any null = Any::MakeNull();
  if (a == nullptr) a = &null;
  if (b == nullptr) b = &null;
  return JsEquals(*a, *b);
}

const Any* FindAttr(const std::vector<std::pair<std::string, Any>>& m,
                    const std::string& k) {
  for (auto& [key, v] : m) {
    if (key == k) return &v;
  }
  return nullptr;
}
void SetAttr(std::vector<std::pair<std::string, Any>>& m, const std::string& k,
             const Any& v) {
  for (auto& [key, val] : m) {
    if (key == k) {
      val = v;
      return;
    }
  }
  m.push_back({k, v});
}
void EraseAttr(std::vector<std::pair<std::string, Any>>& m,
               const std::string& k) {
  m.erase(
      std::remove_if(m.begin(), m.end(), [&](auto& p) { return p.first == k; }),
      m.end());
}
}  // namespace

std::vector<PathElement> PathTo(TypeImpl* parent, TypeImpl* child) {
  std::vector<PathElement> path;
  while (child->item != nullptr && child != parent) {
    PathElement e;
    const Item* ci = child->item;
    if (ci->has_parent_sub) {
      e.is_key = true;
      e.key = ci->parent_sub;
    } else {
      uint64_t i = 0;
      for (Item* c = ci->parent->start; c != ci && c != nullptr; c = c->right) {
        if (c->Visible()) i += c->length;
      }
      e.index = i;
    }
    path.push_back(std::move(e));
    child = ci->parent;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

bool MapKeyEventOf(const Transaction& tr, const Item* item,
                   KeyChange::Action* action, const Item** old) {
  *old = nullptr;
  if (AddedBy(tr, item)) {
    const Item* prev = item->left;
    while (prev != nullptr && AddedBy(tr, prev)) prev = prev->left;
    const bool prev_deleted = prev != nullptr && DeletedBy(tr, prev);
    if (DeletedBy(tr, item)) {
      if (!prev_deleted) return false;
      *action = KeyChange::Action::kDelete;
    } else {
      *action =
          prev_deleted ? KeyChange::Action::kUpdate : KeyChange::Action::kAdd;
    }
    if (prev_deleted) *old = prev;
    return true;
  }
  if (!DeletedBy(tr, item)) return false;
  *action = KeyChange::Action::kDelete;
  *old = item;
  return true;
}

void ComputeEvent(const Transaction& tr, TypeImpl* t, YEvent* ev,
                  bool side_effects) {
  const auto* ch = DocAccess::Changed(tr, t);
  if (ch == nullptr) return;
  for (const std::string* key_id : ch->key_ids) {
    const std::string& key = *key_id;
    Item* item = t->GetMap(key);
    if (item == nullptr) continue;
    KeyChange kc;
    const Item* old = nullptr;
    if (!MapKeyEventOf(tr, item, &kc.action, &old)) continue;
    if (old != nullptr) kc.old_value = LastValue(old);
    ev->keys.push_back({key, std::move(kc)});
  }
  if (!ch->list) return;
  bool is_text = t->kind == TypeKind::kText || t->kind == TypeKind::kXmlText;
  auto& delta = ev->delta;
  if (!is_text) {
    DeltaOp* last = nullptr;
    for (Item* it = t->start; it != nullptr; it = it->right) {
      if (it->deleted) {
        if (DeletedBy(tr, it) && !AddedBy(tr, it)) {
          if (last == nullptr || last->kind != DeltaOp::Kind::kDelete) {
            delta.push_back({});
            last = &delta.back();
            last->kind = DeltaOp::Kind::kDelete;
          }
          last->length += it->length;
        }
      } else if (AddedBy(tr, it)) {
        if (last == nullptr || last->kind != DeltaOp::Kind::kInsert) {
          delta.push_back({});
          last = &delta.back();
          last->kind = DeltaOp::Kind::kInsert;
        }
        if (it->Countable()) {
          for (size_t k = 0; k < it->content.Length(); ++k)
            last->values.push_back(ItemValue(it, k));
        }
      } else {
        if (last == nullptr || last->kind != DeltaOp::Kind::kRetain) {
          delta.push_back({});
          last = &delta.back();
          last->kind = DeltaOp::Kind::kRetain;
        }
        last->length += it->length;
      }
    }
    if (!delta.empty() && delta.back().kind == DeltaOp::Kind::kRetain)
      delta.pop_back();
    return;
  }
  // Text delta (yjs YTextEvent.delta without the marker cleanup deletes).
  std::vector<std::pair<std::string, Any>> current, old_attrs, attributes;
  enum { kNone, kIns, kRet, kDel } action = kNone;
  std::u16string insert;
  OutValue embed;
  bool insert_embed = false;
  uint64_t retain = 0, del = 0;
  auto add_op = [&]() {
    if (action == kNone) return;
    DeltaOp op;
    bool push = false;
    switch (action) {
      case kDel:
        if (del > 0) {
          op.kind = DeltaOp::Kind::kDelete;
          op.length = del;
          push = true;
        }
        del = 0;
        break;
      case kIns:
        if (insert_embed || !insert.empty()) {
          op.kind = DeltaOp::Kind::kInsert;
          if (insert_embed) {
            op.values.push_back(embed);
          } else {
            op.is_text = true;
            op.text = insert;
          }
          for (auto& [k, v] : current) {
            if (v.kind() != AnyKind::kNull) op.attributes.push_back({k, v});
          }
          push = true;
        }
        insert.clear();
        insert_embed = false;
        break;
      case kRet:
        if (retain > 0) {
          op.kind = DeltaOp::Kind::kRetain;
          op.length = retain;
          op.attributes = attributes;
          push = true;
        }
        retain = 0;
        break;
      default:
        break;
    }
    if (push) delta.push_back(std::move(op));
    action = kNone;
  };
  // yjs computes the delta inside a new transaction (run after the current
  // one) and deletes redundant format markers in it.
  Transaction* nt = nullptr;
  auto walk = [&]() {
    for (Item* it = t->start; it != nullptr; it = it->right) {
      if (it->gc) continue;
      switch (it->content.ref) {
        case kRefType:
        case kRefEmbed:
          if (AddedBy(tr, it)) {
            if (!DeletedBy(tr, it)) {
              add_op();
              action = kIns;
              insert_embed = true;
              embed = ItemValue(it, 0);
              add_op();
            }
          } else if (DeletedBy(tr, it)) {
            if (action != kDel) {
              add_op();
              action = kDel;
            }
            del += 1;
          } else if (!it->deleted) {
            if (action != kRet) {
              add_op();
              action = kRet;
            }
            retain += 1;
          }
          break;
        case kRefString:
          if (AddedBy(tr, it)) {
            if (!DeletedBy(tr, it)) {
              if (action != kIns) {
                add_op();
                action = kIns;
              }
              insert += it->content.str;
            }
          } else if (DeletedBy(tr, it)) {
            if (action != kDel) {
              add_op();
              action = kDel;
            }
            del += it->length;
          } else if (!it->deleted) {
            if (action != kRet) {
              add_op();
              action = kRet;
            }
            retain += it->length;
          }
          break;
        case kRefFormat: {
          const std::string& key = it->content.bytes();
          const Any& value = it->content.anys()[0];
          if (AddedBy(tr, it)) {
            if (!DeletedBy(tr, it)) {
              if (!AttrEq(FindAttr(current, key), &value)) {
                if (action == kRet) add_op();
                if (AttrEq(&value, FindAttr(old_attrs, key))) {
                  EraseAttr(attributes, key);
                } else {
                  SetAttr(attributes, key, value);
                }
              } else if (value.kind() != AnyKind::kNull) {
                if (nt != nullptr) DeleteItem(*nt, it);
              }
            }
          } else if (DeletedBy(tr, it)) {
            SetAttr(old_attrs, key, value);
            const Any* cur = FindAttr(current, key);
            if (!AttrEq(cur, &value)) {
              if (action == kRet) add_op();
              SetAttr(attributes, key, cur != nullptr ? *cur : Any::MakeNull());
            }
          } else if (!it->deleted) {
            SetAttr(old_attrs, key, value);
            const Any* attr = FindAttr(attributes, key);
            if (attr != nullptr) {
              if (!AttrEq(attr, &value)) {
                if (action == kRet) add_op();
                if (value.kind() == AnyKind::kNull) {
                  EraseAttr(attributes, key);
                } else {
                  SetAttr(attributes, key, value);
                }
              } else if (attr->kind() != AnyKind::kNull) {
                if (nt != nullptr) DeleteItem(*nt, it);
              }
            }
          }
          if (!it->deleted) {
            if (action == kIns) add_op();
            if (value.kind() == AnyKind::kNull) {
              EraseAttr(current, key);
            } else {
              SetAttr(current, key, value);
            }
          }
          break;
        }
        default:
          break;
      }
    }
    add_op();
  };
  if (side_effects) {
    t->doc->Transact([&](Transaction& tx) {
      nt = &tx;
      walk();
    });
  } else {
    walk();  // read-only: nobody observes this type, yjs would not compute it
  }
  while (!delta.empty() && delta.back().kind == DeltaOp::Kind::kRetain &&
         delta.back().attributes.empty()) {
    delta.pop_back();
  }
}

}  // namespace auxsync::crdt::engine
