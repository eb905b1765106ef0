#include "auxsync/crdt/types.h"

#include <cstring>
#include <memory>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/internal/engine.h"

namespace auxsync::crdt {

using engine::Content;
using engine::Item;
using engine::TypeImpl;
using engine::TypeKind;

namespace engine {
namespace {

void MapSet(Transaction& tr, TypeImpl* t, const std::string& key,
            const Input& v);
void ListInsertAfter(Transaction& tr, TypeImpl* t, Item* ref,
                     const std::vector<Input>& values);
void TextInsertAt(Transaction& tr, TypeImpl* t, uint64_t index,
                  std::u16string_view text, const Attributes* attrs);

TypeKind KindOf(Input::Kind k) {
  switch (k) {
    case Input::Kind::kMap:
      return TypeKind::kMap;
    case Input::Kind::kArray:
      return TypeKind::kArray;
    case Input::Kind::kText:
      return TypeKind::kText;
    case Input::Kind::kXmlFragment:
      return TypeKind::kXmlFragment;
    case Input::Kind::kXmlElement:
      return TypeKind::kXmlElement;
    case Input::Kind::kXmlText:
      return TypeKind::kXmlText;
    case Input::Kind::kXmlHook:
      return TypeKind::kXmlHook;
    default:
      return TypeKind::kUnknown;
  }
}

std::vector<std::pair<std::string, Input>> DedupeEntries(
    const std::vector<std::pair<std::string, Input>>& e) {
  std::vector<std::pair<std::string, Input>> out;
  for (const auto& entry : e) {
    // (No structured binding: clang 14 cannot capture one in a lambda.)
    const std::string& k = entry.first;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](auto& p) { return p.first == k; });
    if (it != out.end()) {
      it->second = entry.second;
    } else {
      out.push_back(entry);
    }
  }
  return out;
}

}  // namespace

Content ContentForValue(const Input& in, Doc& doc) {
  Content c;
  if (in.kind == Input::Kind::kValue) {
    if (in.value.kind() == AnyKind::kBytes) {
      c.ref = kRefBinary;
      c.bytes() = BytesOf(in.value);
    } else {
      c.ref = kRefAny;
      c.anys().push_back(in.value);
    }
    return c;
  }
  if (in.kind == Input::Kind::kDoc) {
    c.ref = kRefDoc;
    c.bytes() = in.name;
    c.anys().push_back(in.value.kind() == AnyKind::kMap ? in.value
                                                        : Any::MakeMap({}));
    return c;
  }
  c.ref = kRefType;
  // From the Doc's pool: next to its item, and reused warm once collected.
  TypeImpl* t = doc.pool().NewType(c);
  t->doc = &doc;
  t->kind = KindOf(in.kind);
  // (A name is rare: most types never allocate their rare fields.)
  if (!in.name.empty()) t->set_node_name(in.name);
  switch (in.kind) {
    case Input::Kind::kMap:
      // new Y.Map(entries) keeps a JS Map: a repeated key keeps its first
      // position and takes the last value.
      for (const auto& [k, v] : DedupeEntries(in.entries)) {
        t->prelim().push_back([k = k, v = v](Transaction& tr, TypeImpl* self) {
          MapSet(tr, self, k, v);
        });
      }
      break;
    case Input::Kind::kText:
    case Input::Kind::kXmlText:
      if (!in.text.empty()) {
        t->prelim().push_back([s = in.text](Transaction& tr, TypeImpl* self) {
          TextInsertAt(tr, self, 0, s, nullptr);
        });
      }
      break;
    case Input::Kind::kArray:
    case Input::Kind::kXmlFragment:
    case Input::Kind::kXmlElement:
      if (!in.items.empty()) {
        t->prelim().push_back(
            [items = in.items](Transaction& tr, TypeImpl* self) {
              ListInsertAfter(tr, self, nullptr, items);
            });
      }
      if (in.kind == Input::Kind::kXmlElement) {
        for (const auto& [k, v] : DedupeEntries(in.entries)) {
          t->prelim().push_back(
              [k = k, v = v](Transaction& tr, TypeImpl* self) {
                MapSet(tr, self, k, v);
              });
        }
      }
      break;
    default:
      break;
  }
  return c;
}

namespace {

void MapSet(Transaction& tr, TypeImpl* t, const std::string& key,
            const Input& v) {
  Item* left = t->GetMap(key);
  NewLocalItem(tr, t, left, nullptr, &key, ContentForValue(v, tr.doc()));
}

void ListInsertAfter(Transaction& tr, TypeImpl* t, Item* ref,
                     const std::vector<Input>& values) {
  Item* left = ref;
  Item* right = ref == nullptr ? t->start : ref->right;
  Content pack;
  pack.ref = kRefAny;
  auto flush = [&]() {
    if (!pack.anys().empty()) {
      left = NewLocalItem(tr, t, left, right, nullptr, std::move(pack));
      pack = Content();
      pack.ref = kRefAny;
    }
  };
  for (const Input& v : values) {
    if (v.kind == Input::Kind::kValue && v.value.kind() != AnyKind::kBytes) {
      pack.anys().push_back(v.value);
    } else {
      flush();
      left = NewLocalItem(tr, t, left, right, nullptr,
                          ContentForValue(v, tr.doc()));
    }
  }
  flush();
}

// Walks to the item holding list index `index` (visible countable units)
// and splits it so that the index falls on an item boundary. Returns the
// item left of the position (null at the start).
Item* ListRefForInsert(Transaction& tr, TypeImpl* t, uint64_t index) {
  if (index == 0) return nullptr;
  for (Item* n = t->start; n != nullptr; n = n->right) {
    if (n->Visible()) {
      if (index <= n->length) {
        if (index < n->length)
          GetItemCleanStart(tr, {n->id.client, n->id.clock + index});
        return n;
      }
      index -= n->length;
    }
  }
  return nullptr;
}

struct TextPos {
  Item* left = nullptr;
  Item* right = nullptr;
  uint64_t index = 0;
  uint64_t steps = 0;  // items walked to get here
  std::vector<std::pair<std::string, Any>> attrs;
  void Forward() {
    if (right->content.ref == kRefFormat) {
      if (!right->deleted) UpdateAttrs(right);
    } else if (!right->deleted) {
      index += right->length;
    }
    left = right;
    right = right->right;
  }
  void UpdateAttrs(Item* f) {
    const std::string& k = f->content.bytes();
    const Any& v = f->content.anys()[0];
    auto it = std::find_if(attrs.begin(), attrs.end(),
                           [&](auto& p) { return p.first == k; });
    if (v.kind() == AnyKind::kNull) {
      if (it != attrs.end()) attrs.erase(it);
    } else if (it != attrs.end()) {
      it->second = v;
    } else {
      attrs.push_back({k, v});
    }
  }
  const Any* Get(const std::string& k) const {
    for (auto& [key, v] : attrs) {
      if (key == k) return &v;
    }
    return nullptr;
  }
};

// Starts the walk from the type's cached position when there is no
// formatting (attributes before the cache would be unknown). The walk then
// ends exactly where a walk from the start would: on the item that makes
// `count` reach 0.
// Markers (TypeImpl::markers) kept at most; beyond, the least recently
// used one is replaced.
constexpr size_t kMaxMarkers = 32;
// A walk over more items than this leaves a new marker where it ended.
constexpr uint64_t kMarkerSteps = 16;
// The markers are consulted when the cache is farther than this (units).
constexpr uint64_t kMarkerDistance = 8;

uint64_t Distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

// Picks the nearest known position to `count` (the cache, a marker, or the
// start) and moves `pos` there. Returns the marker used (index into
// t->markers) or -1.
int SeekFromCache(TypeImpl* t, uint64_t* count, TextPos* pos) {
  if (t->has_formatting || t->cache_item == nullptr) {
    // Unknown attributes before a marker / a change from outside the text
    // API moved indexes: the markers are no longer trustworthy.
    t->markers.clear();
  }
  Item* n = t->cache_item;
  if (n == nullptr || *count == 0 || t->has_formatting) return -1;
  uint64_t idx = t->cache_index;
  int used = -1;
  uint64_t best = Distance(idx, *count);
  // Sequential editing stays near the cache: no need to look further.
  if (best > kMarkerDistance) {
    for (size_t i = 0; i < t->markers.size();) {
      TypeImpl::Marker& m = t->markers[i];
      uint64_t d = Distance(m.index, *count);
      if (d >= best) {
        ++i;
        continue;
      }
      // The marker's index is right for its unit in any case (see
      // MarkersInserted); its item may have been merged away.
      if (!(m.item->id == m.id) || m.item->parent != t) {
        t->markers.erase(t->markers.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      best = d;
      n = m.item;
      idx = m.index;
      used = static_cast<int>(i);
      ++i;
    }
  }
  if (*count < best) return -1;  // the start is nearer
  while (idx >= *count) {
    n = n->left;
    if (n == nullptr) return -1;
    ++pos->steps;
    if (n->Visible()) idx -= n->length;
  }
  pos->left = n->left;
  pos->right = n;
  pos->index = idx;
  *count -= idx;
  return used;
}

// Records where a walk ended: moves the marker it started from, or adds
// one when the walk was long.
void NoteMarker(TypeImpl* t, int used, const TextPos& pos) {
  if (t->has_formatting || pos.right == nullptr) return;
  TypeImpl::Marker m{pos.right, pos.right->id, pos.index};
  if (used >= 0) {
    t->markers[static_cast<size_t>(used)] = m;
    return;
  }
  if (pos.steps <= kMarkerSteps) return;
  if (t->markers.size() >= kMaxMarkers) t->markers.erase(t->markers.begin());
  t->markers.push_back(m);
}

// An insert of `len` visible units at index `at`, `it` being the new item:
// markers of units after it move right. A marker whose index is `at` is
// kept only if its item is found right of `it` (before the next visible
// unit); otherwise it is left of `it` (index unchanged) or its item was
// merged away, and dropping it is always right. So a marker's index is
// exact for its unit whether or not its item still exists.
void MarkersInserted(TypeImpl* t, Item* it, uint64_t at, uint64_t len) {
  // Markers right of the insert move (one branch-free pass over all of
  // them, every keystroke); a marker exactly at the insert is rare and
  // judged in a second pass. Moved markers end above `at`, so that pass
  // sees only markers that were at `at` before.
  bool at_insert = false;
  for (TypeImpl::Marker& m : t->markers) {
    at_insert |= m.index == at;
    m.index += m.index > at ? len : 0;
  }
  if (!at_insert) return;
  for (size_t i = 0; i < t->markers.size();) {
    TypeImpl::Marker& m = t->markers[i];
    if (m.index == at) {
      bool right = false;
      for (Item* r = it->right; r != nullptr; r = r->right) {
        if (r == m.item) {
          right = true;
          break;
        }
        if (r->Visible()) break;
      }
      if (!right) {
        t->markers.erase(t->markers.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      m.index += len;
    }
    ++i;
  }
}

// A delete of `len` visible units at index `at` (exact for every unit).
void MarkersDeleted(TypeImpl* t, uint64_t at, uint64_t len) {
  for (TypeImpl::Marker& m : t->markers) {
    if (m.index >= at + len) {
      m.index -= len;
    } else if (m.index > at) {
      m.index = at;
    }
  }
}

TextPos FindTextPos(Transaction& tr, TypeImpl* t, uint64_t count) {
  TextPos pos;
  pos.right = t->start;
  int used = SeekFromCache(t, &count, &pos);
  while (pos.right != nullptr && count > 0) {
    Item* r = pos.right;
    ++pos.steps;
    if (r->content.ref == kRefFormat) {
      if (!r->deleted) pos.UpdateAttrs(r);
    } else if (!r->deleted) {
      if (count < r->length)
        GetItemCleanStart(tr, {r->id.client, r->id.clock + count});
      pos.index += r->length;
      count -= r->length;
    }
    pos.left = r;
    pos.right = r->right;
  }
  NoteMarker(t, used, pos);
  return pos;
}

// ListRefForInsert through the position cache and markers (arrays have no
// formatting, so a text position lookup gives the same item: the walk ends
// right after the visible unit that completes `index`).
Item* ListRefAt(Transaction& tr, TypeImpl* t, uint64_t index) {
  // As SeekFromCache does: after a change from outside (the cache was
  // cleared) the markers are stale; index 0 does not get there.
  if (t->cache_item == nullptr || t->has_formatting) t->markers.clear();
  if (index == 0 || t->has_formatting) return ListRefForInsert(tr, t, index);
  return FindTextPos(tr, t, index).left;
}

// After `count` values were inserted at `index` right of `ref`: the first
// new item becomes the cached position and the markers move.
void NoteListInsert(TypeImpl* t, Item* ref, uint64_t index, uint64_t count) {
  Item* first = ref != nullptr ? ref->right : t->start;
  if (count == 0 || first == nullptr || first->deleted || t->has_formatting) {
    t->markers.clear();
    return;
  }
  t->cache_item = first;
  t->cache_index = index;
  if (!t->markers.empty()) MarkersInserted(t, first, index, count);
}

bool AttrEq(const Any* a, const Any* b) {
  Any null = Any::MakeNull();
  if (a == nullptr) a = &null;
  if (b == nullptr) b = &null;
  return JsEquals(*a, *b);
}

const Any* AttrGet(const Attributes& a, const std::string& k) {
  for (auto& [key, v] : a) {
    if (key == k) return &v;
  }
  return nullptr;
}

void MinimizeAttributeChanges(TextPos& pos, const Attributes& attrs) {
  while (pos.right != nullptr) {
    Item* r = pos.right;
    if (r->deleted ||
        (r->content.ref == kRefFormat &&
         AttrEq(AttrGet(attrs, r->content.bytes()), &r->content.anys()[0]))) {
      pos.Forward();
    } else {
      break;
    }
  }
}

// MinimizeAttributeChanges with no attributes (plain typing): skips deleted
// items and formats whose value equals null, without an attribute list.
void SkipDeletedAndNullFormats(TextPos& pos) {
  while (pos.right != nullptr) {
    Item* r = pos.right;
    if (r->deleted || (r->content.ref == kRefFormat &&
                       AttrEq(nullptr, &r->content.anys()[0]))) {
      pos.Forward();
    } else {
      break;
    }
  }
}

Item* InsertFormat(Transaction& tr, TypeImpl* t, TextPos& pos,
                   const std::string& key, const Any& v) {
  Content c;
  c.ref = kRefFormat;
  c.bytes() = key;
  c.anys().push_back(v);
  Item* it = NewLocalItem(tr, t, pos.left, pos.right, nullptr, std::move(c));
  pos.right = it;
  pos.Forward();
  return it;
}

// Returns negated attributes (key -> previous value).
Attributes InsertAttributes(Transaction& tr, TypeImpl* t, TextPos& pos,
                            const Attributes& attrs) {
  Attributes negated;
  for (const auto& [k, v] : attrs) {
    const Any* cur = pos.Get(k);
    if (!AttrEq(cur, &v)) {
      negated.push_back({k, cur != nullptr ? *cur : Any::MakeNull()});
      InsertFormat(tr, t, pos, k, v);
    }
  }
  return negated;
}

void InsertNegatedAttributes(Transaction& tr, TypeImpl* t, TextPos& pos,
                             Attributes negated) {
  while (pos.right != nullptr) {
    Item* r = pos.right;
    // yjs compares negatedAttributes.get(key) without `?? null`: a key not
    // negated is undefined, which equals no format value (not even null).
    const Any* neg = r->deleted || r->content.ref != kRefFormat
                         ? nullptr
                         : AttrGet(negated, r->content.bytes());
    if (r->deleted || (neg != nullptr && AttrEq(neg, &r->content.anys()[0]))) {
      if (!r->deleted) {
        const std::string& k = r->content.bytes();
        negated.erase(std::remove_if(negated.begin(), negated.end(),
                                     [&](auto& p) { return p.first == k; }),
                      negated.end());
      }
      pos.Forward();
    } else {
      break;
    }
  }
  for (const auto& [k, v] : negated) InsertFormat(tr, t, pos, k, v);
}

// JS property order of an attributes object built by assignment.
Attributes JsOrder(Attributes a) {
  // Any's map keeps JS property order (index keys first; a repeated key
  // keeps its first place and last value).
  Any o = Any::MakeMap(std::move(a));
  return Attributes(o.map().begin(), o.map().end());
}

// After a local text insert of `it` at visible index `at`: the position
// cache points at it and the markers shift; a deleted insert (into a
// deleted parent) invalidates the markers instead.
void NoteTextInserted(TypeImpl* t, Item* it, uint64_t at) {
  if (!it->deleted) {
    t->cache_item = it;
    t->cache_index = at;
    if (!t->markers.empty()) MarkersInserted(t, it, at, it->length);
  } else {
    t->markers.clear();
  }
}

void InsertTextAt(Transaction& tr, TypeImpl* t, TextPos& pos, Content content,
                  Attributes attrs) {
  for (auto& [k, v] : pos.attrs) {
    if (AttrGet(attrs, k) == nullptr) attrs.push_back({k, Any::MakeNull()});
  }
  // One key or none is already in JS order (plain typing has none).
  if (attrs.size() > 1) attrs = JsOrder(std::move(attrs));
  MinimizeAttributeChanges(pos, attrs);
  Attributes negated = InsertAttributes(tr, t, pos, attrs);
  uint64_t at = pos.index;
  Item* it =
      NewLocalItem(tr, t, pos.left, pos.right, nullptr, std::move(content));
  pos.right = it;
  pos.Forward();
  InsertNegatedAttributes(tr, t, pos, std::move(negated));
  NoteTextInserted(t, it, at);
}

// A string item's content (built only when no append takes the text).
Content StringContent(Transaction& tr, std::u16string_view text) {
  Content c;
  c.ref = kRefString;
  c.str = tr.doc().pool().LocalText(text);
  return c;
}

void TextInsertAt(Transaction& tr, TypeImpl* t, uint64_t index,
                  std::u16string_view text, const Attributes* attrs) {
  TextPos pos = FindTextPos(tr, t, index);
  if (pos.attrs.empty() && (attrs == nullptr || attrs->empty())) {
    // Plain typing: no attributes to apply or negate, so InsertTextAt's
    // attribute steps reduce to skipping deleted items (and formats that
    // set nothing) to the right, as yjs's minimizeAttributeChanges does.
    SkipDeletedAndNullFormats(pos);
    uint64_t at = pos.index;
    uint64_t left_len = pos.left != nullptr ? pos.left->length : 0;
    if (Item* l = AppendLocalText(tr, t, pos.left, pos.right, text)) {
      // As NoteTextInserted, for the grown left item (starting left_len
      // units before the insert).
      t->cache_item = l;
      t->cache_index = at - left_len;
      if (!t->markers.empty()) MarkersInserted(t, l, at, l->length - left_len);
      return;
    }
    Item* it = NewLocalItem(tr, t, pos.left, pos.right, nullptr,
                            StringContent(tr, text));
    NoteTextInserted(t, it, at);
    return;
  }
  Attributes a = attrs != nullptr ? *attrs : pos.attrs;
  InsertTextAt(tr, t, pos, StringContent(tr, text), std::move(a));
}

void CleanupFormattingGap(
    Transaction& tr, Item* start, Item* curr,
    const std::vector<std::pair<std::string, Any>>& start_attrs, TextPos& pos) {
  Item* end = start;
  std::vector<std::pair<std::string, Item*>> end_formats;
  while (end != nullptr && (!end->Countable() || end->deleted)) {
    if (!end->deleted && end->content.ref == kRefFormat) {
      const std::string& k = end->content.bytes();
      auto it = std::find_if(end_formats.begin(), end_formats.end(),
                             [&](auto& p) { return p.first == k; });
      if (it != end_formats.end()) {
        it->second = end;
      } else {
        end_formats.push_back({k, end});
      }
    }
    end = end->right;
  }
  bool reached = false;
  auto strict_eq = [](const Any* a, const Any& b) {
    Any null = Any::MakeNull();
    if (a == nullptr) a = &null;
    if (a->kind() == AnyKind::kMap || a->kind() == AnyKind::kArray)
      return false;  // JS ===
    return JsEquals(*a, b);
  };
  while (start != end) {
    if (curr == start) reached = true;
    if (!start->deleted && start->content.ref == kRefFormat) {
      const std::string& k = start->content.bytes();
      const Any& v = start->content.anys()[0];
      const Any* sv = nullptr;
      for (auto& [key, val] : start_attrs) {
        if (key == k) sv = &val;
      }
      Item* ef = nullptr;
      for (auto& [key, f] : end_formats) {
        if (key == k) ef = f;
      }
      if (ef != start || strict_eq(sv, v)) {
        DeleteItem(tr, start);
        if (!reached && strict_eq(pos.Get(k), v) && !strict_eq(sv, v)) {
          pos.attrs.erase(std::remove_if(pos.attrs.begin(), pos.attrs.end(),
                                         [&](auto& p) { return p.first == k; }),
                          pos.attrs.end());
          if (sv != nullptr && sv->kind() != AnyKind::kNull)
            pos.attrs.push_back({k, *sv});
        }
      }
      if (!reached && !start->deleted) pos.UpdateAttrs(start);
    }
    start = start->right;
  }
}

void TextDeleteAt(Transaction& tr, TypeImpl* t, uint64_t index,
                  uint64_t length) {
  TextPos pos = FindTextPos(tr, t, index);
  auto start_attrs = pos.attrs;
  Item* start = pos.right;
  uint64_t start_index = pos.index;
  const uint64_t requested = length;
  while (length > 0 && pos.right != nullptr) {
    Item* r = pos.right;
    if (!r->deleted) {
      uint8_t ref = r->content.ref;
      if (ref == kRefType || ref == kRefEmbed || ref == kRefString) {
        if (length < r->length)
          GetItemCleanStart(tr, {r->id.client, r->id.clock + length});
        length -= r->length;
        DeleteItem(tr, r);
      }
    }
    pos.Forward();
  }
  if (start != nullptr && t->has_formatting)
    CleanupFormattingGap(tr, start, pos.right, start_attrs, pos);
  // Deleting does not move the start of `start`.
  if (start != nullptr && !t->has_formatting) {
    t->cache_item = start;
    t->cache_index = start_index;
    if (!t->markers.empty()) {
      MarkersDeleted(t, start_index, requested - length);
    }
  }
}

void TextFormatAt(Transaction& tr, TypeImpl* t, uint64_t index, uint64_t length,
                  const Attributes& attributes) {
  TextPos pos = FindTextPos(tr, t, index);
  if (pos.right == nullptr) return;
  Attributes attrs = JsOrder(attributes);
  MinimizeAttributeChanges(pos, attrs);
  Attributes negated = InsertAttributes(tr, t, pos, attrs);
  auto neg_find = [&](const std::string& k) {
    return std::find_if(negated.begin(), negated.end(),
                        [&](auto& p) { return p.first == k; });
  };
  while (pos.right != nullptr &&
         (length > 0 ||
          (!negated.empty() &&
           (pos.right->deleted || pos.right->content.ref == kRefFormat)))) {
    Item* r = pos.right;
    if (!r->deleted) {
      if (r->content.ref == kRefFormat) {
        const std::string& k = r->content.bytes();
        const Any& v = r->content.anys()[0];
        const Any* a = AttrGet(attrs, k);
        if (a != nullptr) {
          if (AttrEq(a, &v)) {
            auto it = neg_find(k);
            if (it != negated.end()) negated.erase(it);
          } else {
            if (length == 0) break;
            auto it = neg_find(k);
            if (it != negated.end()) {
              it->second = v;
            } else {
              negated.push_back({k, v});
            }
          }
          DeleteItem(tr, r);
        } else {
          auto it = std::find_if(pos.attrs.begin(), pos.attrs.end(),
                                 [&](auto& p) { return p.first == k; });
          if (it != pos.attrs.end()) {
            it->second = v;
          } else {
            pos.attrs.push_back({k, v});
          }
        }
      } else {
        if (length < r->length)
          GetItemCleanStart(tr, {r->id.client, r->id.clock + length});
        length -= std::min(length, r->length);
      }
    }
    pos.Forward();
  }
  if (length > 0) {
    Content c;
    c.ref = kRefString;
    c.str.assign(length, u'\n');
    Item* it = NewLocalItem(tr, t, pos.left, pos.right, nullptr, std::move(c));
    pos.right = it;
    pos.Forward();
  }
  InsertNegatedAttributes(tr, t, pos, std::move(negated));
}

void Run(TypeImpl* t, absl::FunctionRef<void(Transaction&)> fn) {
  t->doc->Transact(fn);
}
size_t FindIndexCleanStart(Transaction& tr, StructList& v, uint64_t clock) {
  size_t idx = StructStore::FindIndex(v, clock);
  Item* s = v[idx];
  if (s->id.clock < clock && !s->gc) {
    SplitItem(tr, s, clock - s->id.clock);
    return idx + 1;
  }
  return idx;
}

// yjs iterateStructs: splits at the range start (and end, if inside).
template <typename F>
void IterateStructs(Transaction& tr, uint64_t client, uint64_t clock_start,
                    uint64_t len, F f) {
  if (len == 0) return;
  auto* v = tr.doc().store().Client(client);
  if (v == nullptr || v->empty() || clock_start >= v->back()->EndClock())
    return;
  uint64_t clock_end = clock_start + len;
  size_t index = FindIndexCleanStart(tr, *v, clock_start);
  do {
    Item* s = (*v)[index++];
    if (clock_end < s->EndClock()) FindIndexCleanStart(tr, *v, clock_end);
    f(s);
  } while (index < v->size() && (*v)[index]->id.clock < clock_end);
}

void CleanupContextlessFormattingGap(Transaction& tr, Item* item) {
  while (item != nullptr && item->right != nullptr &&
         (item->right->deleted || !item->right->Countable())) {
    item = item->right;
  }
  std::vector<std::string> attrs;
  while (item != nullptr && (item->deleted || !item->Countable())) {
    if (!item->deleted && item->content.ref == kRefFormat) {
      const std::string& key = item->content.bytes();
      if (std::find(attrs.begin(), attrs.end(), key) != attrs.end()) {
        DeleteItem(tr, item);
      } else {
        attrs.push_back(key);
      }
    }
    item = item->left;
  }
}

void CleanupYTextFormatting(Transaction& tr, TypeImpl* type) {
  Item* start = type->start;
  Item* end = type->start;
  std::vector<std::pair<std::string, Any>> start_attrs;
  TextPos cur;  // holds the current attributes
  while (end != nullptr) {
    if (!end->deleted) {
      if (end->content.ref == kRefFormat) {
        cur.UpdateAttrs(end);
      } else {
        CleanupFormattingGap(tr, start, end, start_attrs, cur);
        start_attrs = cur.attrs;
        start = end;
      }
    }
    end = end->right;
  }
}

JsValue ValueJson(const OutValue& v);

std::string AttrString(const Any& v) {
  switch (v.kind()) {
    case AnyKind::kString:
      return v.string();
    case AnyKind::kNumber:
      return JsNumberToString(v.number());
    case AnyKind::kBool:
      return v.bool_value() ? "true" : "false";
    case AnyKind::kNull:
      return "null";
    case AnyKind::kUndefined:
      return "undefined";
    case AnyKind::kArray: {
      std::string out;
      const Any::Array& elems = v.array();
      for (size_t i = 0; i < elems.size(); ++i) {
        if (i) out += ',';
        if (elems[i].kind() != AnyKind::kNull &&
            elems[i].kind() != AnyKind::kUndefined)
          out += AttrString(elems[i]);
      }
      return out;
    }
    case AnyKind::kBigInt:
      return std::to_string(v.bigint());
    case AnyKind::kBytes: {
      // A Uint8Array: its elements joined with commas.
      std::string out;
      for (size_t i = 0; i < v.bytes().size(); ++i) {
        if (i) out += ',';
        out += std::to_string(v.bytes()[i]);
      }
      return out;
    }
    default:
      return "[object Object]";
  }
}

// JavaScript's `a < b` on strings: by UTF-16 code units.
bool JsLess(const std::string& a, const std::string& b) {
  return ToUtf16(a) < ToUtf16(b);
}

// `for (const key in value)` with `String(value[key])`: the own keys of an
// object (in property order), the indices of an array, a string (by UTF-16
// unit) or a Uint8Array; nothing for any other value.
std::vector<std::pair<std::string, std::string>> ForInEntries(const Any& v) {
  std::vector<std::pair<std::string, std::string>> out;
  switch (v.kind()) {
    case AnyKind::kMap:
      for (const auto& [key, value] : v.map()) {
        out.emplace_back(key, AttrString(value));
      }
      break;
    case AnyKind::kArray:
      for (size_t i = 0; i < v.array().size(); ++i) {
        out.emplace_back(std::to_string(i), AttrString(v.array()[i]));
      }
      break;
    case AnyKind::kString: {
      const std::u16string units = ToUtf16(v.string());
      for (size_t i = 0; i < units.size(); ++i) {
        out.emplace_back(std::to_string(i),
                         ToUtf8(std::u16string_view(&units[i], 1)));
      }
      break;
    }
    case AnyKind::kBytes:
      for (size_t i = 0; i < v.bytes().size(); ++i) {
        out.emplace_back(std::to_string(i), std::to_string(v.bytes()[i]));
      }
      break;
    default:
      break;
  }
  return out;
}

std::string XmlString(const TypeImpl* t);

// YXmlText.toString(): each op of the text's delta, wrapped in one element
// per formatting attribute (sorted by name), whose XML attributes are the
// for-in entries of the attribute's value (sorted by key).
std::string XmlTextString(const TypeImpl* t) {
  std::string out;
  for (const DeltaOp& op : YText(const_cast<TypeImpl*>(t)).ToDelta()) {
    std::vector<std::pair<std::string, const Any*>> nodes;
    for (const auto& [name, value] : op.attributes) {
      nodes.emplace_back(name, &value);
    }
    std::stable_sort(
        nodes.begin(), nodes.end(),
        [](const auto& a, const auto& b) { return JsLess(a.first, b.first); });
    for (const auto& [name, value] : nodes) {
      out += "<" + name;
      std::vector<std::pair<std::string, std::string>> attrs =
          ForInEntries(*value);
      std::stable_sort(attrs.begin(), attrs.end(),
                       [](const auto& a, const auto& b) {
                         return JsLess(a.first, b.first);
                       });
      for (const auto& [key, text] : attrs) {
        out += " " + key + "=\"" + text + "\"";
      }
      out += ">";
    }
    if (op.is_text) {
      out += ToUtf8(op.text);
    } else {
      for (const OutValue& v : op.values) {
        out += v.type != nullptr ? XmlString(v.type) : AttrString(v.value);
      }
    }
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
      out += "</" + it->first + ">";
    }
  }
  return out;
}

// yjs toString() of XML types (attributes sorted by key; a Y.Text plain,
// a Y.XmlText with its formatting, XmlTextString).
std::string XmlString(const TypeImpl* t) {
  switch (t->kind) {
    case TypeKind::kXmlText:
      return XmlTextString(t);
    case TypeKind::kText: {
      std::u16string s;
      for (Item* it = t->start; it != nullptr; it = it->right) {
        if (!it->deleted && it->content.ref == kRefString) s += it->content.str;
      }
      return ToUtf8(s);
    }
    case TypeKind::kXmlHook:
    case TypeKind::kMap:
      return "[object Object]";
    case TypeKind::kXmlElement:
    case TypeKind::kXmlFragment: {
      std::string inner;
      for (Item* it = t->start; it != nullptr; it = it->right) {
        if (!it->Visible()) continue;
        if (it->content.ref == kRefType) {
          inner += XmlString(it->content.type());
        } else {
          for (size_t k = 0; k < it->content.Length(); ++k) {
            OutValue v = ItemValue(it, k);
            inner +=
                v.type != nullptr ? XmlString(v.type) : AttrString(v.value);
          }
        }
      }
      if (t->kind == TypeKind::kXmlFragment) return inner;
      std::vector<std::string> keys;
      for (const engine::MapTable::Entry& e : t->map) {
        Item* it = e.current;
        if (it != nullptr && !it->deleted) keys.push_back(e.key.get());
      }
      std::sort(keys.begin(), keys.end());
      std::string name(t->node_name());
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string out = "<" + name;
      for (const auto& k : keys) {
        Item* it = t->GetMap(k);
        OutValue v =
            ItemValue(it, static_cast<size_t>(it->content.Length() - 1));
        out += " " + k + "=\"" +
               (v.type != nullptr ? XmlString(v.type) : AttrString(v.value)) +
               "\"";
      }
      return out + ">" + inner + "</" + name + ">";
    }
    default:
      return "";
  }
}

JsValue TypeJson(const TypeImpl* t) {
  switch (t->kind) {
    case TypeKind::kXmlFragment:
    case TypeKind::kXmlElement:
    case TypeKind::kXmlText:
      return Any::MakeString(XmlString(t));
    case TypeKind::kXmlHook:
    case TypeKind::kMap: {
      Any::Map entries;
      for (const engine::MapTable::Entry& e : t->map) {
        Item* it = e.current;
        if (it == nullptr || it->deleted) continue;
        entries.emplace_back(
            e.key.get(),
            ValueJson(
                ItemValue(it, static_cast<size_t>(it->content.Length() - 1))));
      }
      return Any::MakeMap(std::move(entries));
    }
    case TypeKind::kText: {
      std::u16string s;
      for (Item* it = t->start; it != nullptr; it = it->right) {
        if (!it->deleted && it->content.ref == kRefString) s += it->content.str;
      }
      return Any::MakeString(ToUtf8(s));
    }
    case TypeKind::kArray:
    case TypeKind::kUnknown: {
      Any::Array elems;
      for (Item* it = t->start; it != nullptr; it = it->right) {
        if (!it->Visible()) continue;
        for (size_t k = 0; k < it->content.Length(); ++k)
          elems.push_back(ValueJson(ItemValue(it, k)));
      }
      return Any::MakeArray(std::move(elems));
    }
  }
  return {};
}

JsValue ValueJson(const OutValue& v) {
  if (v.type != nullptr) return TypeJson(v.type);
  return v.value;
}

}  // namespace

void CleanupYTextAfterTransaction(Transaction& old_tr) {
  Doc& doc = old_tr.doc();
  std::vector<TypeImpl*> full;
  auto add_full = [&](TypeImpl* t) {
    if (std::find(full.begin(), full.end(), t) == full.end()) full.push_back(t);
  };
  for (const auto& [client, after] : old_tr.after_state()) {
    uint64_t before = DocAccess::Before(old_tr, client);
    if (after == before) continue;
    // yjs passes the end clock as the length here; the range runs to the end.
    IterateStructs(old_tr, client, before, after, [&](Item* it) {
      if (!it->gc && !it->deleted && it->content.ref == kRefFormat)
        add_full(it->parent);
    });
  }
  doc.Transact([&](Transaction& t) {
    // Clients in yjs's order (iterateDeletedStructs walks the delete set's
    // Map): a contextless cleanup before a full one can delete other items.
    const DeleteSet& ds = DocAccess::Ds(old_tr);
    for (uint64_t client : ds.order) {
      auto found = ds.clients.find(client);
      if (found == ds.clients.end()) continue;
      for (auto [clock, len] : found->second) {
        IterateStructs(old_tr, client, clock, len, [&](Item* it) {
          if (it->gc || it->parent == nullptr || !it->parent->has_formatting)
            return;
          if (std::find(full.begin(), full.end(), it->parent) != full.end())
            return;
          if (it->content.ref == kRefFormat) {
            add_full(it->parent);
          } else {
            CleanupContextlessFormattingGap(t, it);
          }
        });
      }
    }
    for (TypeImpl* t2 : full) CleanupYTextFormatting(t, t2);
  });
}

}  // namespace engine

using engine::Any;
using engine::AnyKind;

engine::TypeKind YType::kind() const { return t_->kind; }

uint64_t YType::Length() const { return t_->length; }

JsValue YType::ToJson() const { return engine::TypeJson(t_); }

TypeId YType::Id() const {
  TypeId r;
  if (t_->item == nullptr) {
    r.root = std::string(t_->root_name());
  } else {
    r.item = ID{t_->item->id.client, t_->item->id.clock};
  }
  return r;
}

Subscription YType::Observe(
    std::function<void(const YEvent&, const Transaction&)> fn) {
  auto& holder = t_->handlers_holder();
  if (!holder) holder = std::make_shared<engine::EventHandlers>();
  auto h = holder;
  int id = h->next_id++;
  h->observe.push_back({id, std::move(fn)});
  std::weak_ptr<engine::EventHandlers> weak = h;
  return Subscription([weak, id]() {
    if (auto s = weak.lock()) {
      std::erase_if(s->observe, [id](auto& p) { return p.first == id; });
    }
  });
}

Subscription YType::ObserveDeep(
    std::function<void(const std::vector<const YEvent*>&, const Transaction&)>
        fn) {
  auto& holder = t_->handlers_holder();
  if (!holder) holder = std::make_shared<engine::EventHandlers>();
  auto h = holder;
  int id = h->next_id++;
  h->deep.push_back({id, std::move(fn)});
  std::weak_ptr<engine::EventHandlers> weak = h;
  return Subscription([weak, id]() {
    if (auto s = weak.lock()) {
      std::erase_if(s->deep, [id](auto& p) { return p.first == id; });
    }
  });
}

void YMap::Set(std::string_view key, Input value) {
  std::string k(key);
  engine::Run(t_, [&](Transaction& tr) { engine::MapSet(tr, t_, k, value); });
}

void YMap::Delete(std::string_view key) {
  engine::Run(t_, [&](Transaction& tr) {
    Item* it = t_->GetMap(key);
    if (it != nullptr) engine::DeleteItem(tr, it);
  });
}

std::optional<OutValue> YMap::Get(std::string_view key) const {
  Item* it = t_->GetMap(key);
  if (it == nullptr || it->deleted) return std::nullopt;
  return engine::ItemValue(it, static_cast<size_t>(it->content.Length() - 1));
}

bool YMap::Has(std::string_view key) const {
  Item* it = t_->GetMap(key);
  return it != nullptr && !it->deleted;
}

std::vector<std::string> YMap::Keys() const {
  std::vector<std::string> out;
  for (const engine::MapTable::Entry& e : t_->map) {
    if (e.current != nullptr && !e.current->deleted) out.push_back(e.key.get());
  }
  return out;
}

namespace {
absl::Status CheckArrayValues(const std::vector<Input>& values) {
  for (const Input& v : values) {
    if (v.kind == Input::Kind::kValue &&
        (v.value.kind() == AnyKind::kUndefined ||
         v.value.kind() == AnyKind::kBigInt)) {
      return absl::InvalidArgumentError(
          "Unexpected content type in insert operation");
    }
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status YArray::Insert(uint64_t index, std::vector<Input> values) {
  if (index > t_->length) return absl::OutOfRangeError("Length exceeded!");
  if (auto s = CheckArrayValues(values); !s.ok()) return s;
  engine::Run(t_, [&](Transaction& tr) {
    Item* ref = engine::ListRefAt(tr, t_, index);
    engine::ListInsertAfter(tr, t_, ref, values);
    engine::NoteListInsert(t_, ref, index, values.size());
  });
  return absl::OkStatus();
}

void YArray::Push(std::vector<Input> values) {
  if (!CheckArrayValues(values).ok()) return;
  engine::Run(t_, [&](Transaction& tr) {
    Item* n = t_->start;
    if (n != nullptr) {
      while (n->right != nullptr) n = n->right;
    }
    engine::ListInsertAfter(tr, t_, n, values);
  });
}

absl::Status YArray::Delete(uint64_t index, uint64_t length) {
  if (length == 0) return absl::OkStatus();
  if (index + length > t_->length)
    return absl::OutOfRangeError("Length exceeded!");
  engine::Run(t_, [&](Transaction& tr) {
    Item* n = t_->start;
    for (; n != nullptr && index > 0; n = n->right) {
      if (n->Visible()) {
        if (index < n->length)
          engine::GetItemCleanStart(tr, {n->id.client, n->id.clock + index});
        index -= std::min(index, n->length);
      }
    }
    while (length > 0 && n != nullptr) {
      if (!n->deleted) {
        if (length < n->length)
          engine::GetItemCleanStart(tr, {n->id.client, n->id.clock + length});
        engine::DeleteItem(tr, n);
        length -= std::min(length, n->length);
      }
      n = n->right;
    }
  });
  return absl::OkStatus();
}

std::optional<OutValue> YArray::Get(uint64_t index) const {
  for (Item* n = t_->start; n != nullptr; n = n->right) {
    if (!n->Visible()) continue;
    if (index < n->length)
      return engine::ItemValue(n, static_cast<size_t>(index));
    index -= n->length;
  }
  return std::nullopt;
}

std::vector<OutValue> YArray::ToVector() const {
  std::vector<OutValue> out;
  for (Item* n = t_->start; n != nullptr; n = n->right) {
    if (!n->Visible()) continue;
    for (size_t k = 0; k < n->content.Length(); ++k)
      out.push_back(engine::ItemValue(n, k));
  }
  return out;
}

void YText::Insert(uint64_t index, std::u16string_view text,
                   const Attributes* attributes) {
  if (text.empty()) return;
  engine::Run(t_, [&](Transaction& tr) {
    engine::TextInsertAt(tr, t_, index, text, attributes);
  });
}

void YText::InsertUtf8(uint64_t index, std::string_view text,
                       const Attributes* attributes) {
  Insert(index, engine::ToUtf16(text), attributes);
}

void YText::InsertEmbed(uint64_t index, Input embed,
                        const Attributes* attributes) {
  engine::Run(t_, [&](Transaction& tr) {
    Content c;
    if (embed.kind == Input::Kind::kValue) {
      c.ref = engine::kRefEmbed;
      c.anys().push_back(embed.value);
    } else {
      c = engine::ContentForValue(embed, tr.doc());
    }
    Attributes empty;
    auto pos = engine::FindTextPos(tr, t_, index);
    engine::InsertTextAt(tr, t_, pos, std::move(c),
                         attributes != nullptr ? *attributes : empty);
  });
}

void YText::Delete(uint64_t index, uint64_t length) {
  if (length == 0) return;
  engine::Run(t_, [&](Transaction& tr) {
    engine::TextDeleteAt(tr, t_, index, length);
  });
}

void YText::Format(uint64_t index, uint64_t length,
                   const Attributes& attributes) {
  if (length == 0) return;
  engine::Run(t_, [&](Transaction& tr) {
    engine::TextFormatAt(tr, t_, index, length, attributes);
  });
}

namespace {

// YText::ToString16 one append per item.
std::u16string AppendedText(const engine::TypeImpl* t) {
  std::u16string s;
  for (const Item* it = t->start; it != nullptr; it = it->right) {
    if (!it->deleted && it->content.ref == engine::kRefString) {
      s.append(it->content.str.data(), it->content.str.size());
    }
  }
  return s;
}

}  // namespace

std::u16string YText::ToString16() const {
  // The visible length counts every string unit (and each embed): room for
  // all of them, and for a copy of up to 16 units past the end. Texts are
  // copied 16 units at a time (every text's buffer can be read that far,
  // kText16ReadSlack): no call per item (a loaded document has thousands
  // of short ones). They go straight into the result, which is cut to
  // length after: one buffer of the text's size, not a second one and a
  // copy (a document's text is often past malloc's mmap threshold, so
  // each buffer is fresh pages).
  constexpr size_t kStep = engine::kText16ReadSlack;
  const size_t room = t_->length;
  std::u16string out;
  out.resize(room + kStep);
  char16_t* const buf = out.data();
  size_t n = 0;
  // Every item's first step is copied, counted or not (every item has a
  // text, empty where it holds other content): whether the next item is
  // deleted is random to the branch predictor, and an unused copy is
  // overwritten by the next.
  for (const Item* it = t_->start; it != nullptr; it = it->right) {
    const bool counted = !it->deleted & (it->content.ref == engine::kRefString);
    const size_t m = it->content.str.size() & (size_t{0} - counted);
    if (m > room - n) return AppendedText(t_);  // (length is wrong)
    const char16_t* src = it->content.str.data();
    std::memcpy(buf + n, src, kStep * sizeof(char16_t));
    for (size_t i = kStep; i < m; i += kStep) {
      std::memcpy(buf + n + i, src + i, kStep * sizeof(char16_t));
    }
    n += m;
  }
  out.resize(n);
  return out;
}

std::string YText::ToString() const { return engine::ToUtf8(ToString16()); }

std::vector<DeltaOp> YText::ToDelta() const {
  std::vector<DeltaOp> ops;
  std::vector<std::pair<std::string, Any>> current;
  std::u16string str;
  auto pack = [&]() {
    if (str.empty()) return;
    DeltaOp op;
    op.kind = DeltaOp::Kind::kInsert;
    op.is_text = true;
    op.text = std::move(str);
    op.attributes = current;
    ops.push_back(std::move(op));
    str.clear();
  };
  for (Item* n = t_->start; n != nullptr; n = n->right) {
    if (n->deleted) continue;
    switch (n->content.ref) {
      case engine::kRefString:
        str += n->content.str;
        break;
      case engine::kRefType:
      case engine::kRefEmbed: {
        pack();
        DeltaOp op;
        op.kind = DeltaOp::Kind::kInsert;
        op.values.push_back(engine::ItemValue(n, 0));
        op.attributes = current;
        ops.push_back(std::move(op));
        break;
      }
      case engine::kRefFormat: {
        pack();
        const std::string& k = n->content.bytes();
        const Any& v = n->content.anys()[0];
        auto it = std::find_if(current.begin(), current.end(),
                               [&](auto& p) { return p.first == k; });
        if (v.kind() == AnyKind::kNull) {
          if (it != current.end()) current.erase(it);
        } else if (it != current.end()) {
          it->second = v;  // Map.set on an existing key keeps its position
        } else {
          current.push_back({k, v});
        }
        break;
      }
      default:
        break;
    }
  }
  pack();
  return ops;
}

void YXmlFragment::SetAttribute(std::string_view name, Input value) {
  std::string k(name);
  engine::Run(t_, [&](Transaction& tr) { engine::MapSet(tr, t_, k, value); });
}

std::string YXmlFragment::ToXmlString() const { return engine::XmlString(t_); }

}  // namespace auxsync::crdt
