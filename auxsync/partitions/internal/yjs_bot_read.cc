#include "auxsync/partitions/internal/yjs_bot_read.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "auxsync/bots/bot.h"
#include "auxsync/bots/js_string.h"
#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/internal/item.h"
#include "auxsync/crdt/internal/utf16_ascii.h"
#include "auxsync/crdt/types.h"
#include "auxsync/partitions/internal/yjs_bot_doc.h"

namespace auxsync::partitions::internal {

namespace {

using bots::Value;
using crdt::engine::Item;
using crdt::engine::TypeImpl;
using crdt::engine::TypeKind;

// The text `item` holds if it is a Y.Text, else null.
const TypeImpl* TextOf(const Item* item) {
  if (item->content.ref != crdt::engine::kRefType) return nullptr;
  const TypeImpl* type = item->content.type();
  return type != nullptr && type->kind == TypeKind::kText ? type : nullptr;
}

// The usual text (one live string item, SetSlot writes one) of at most 16
// ASCII units, narrowed into `out`: its length, or -1 for any other text.
int ShortAsciiText(const TypeImpl* text, uint8_t (&out)[16]) {
  const Item* first = text->start;
  if (first == nullptr || first->right != nullptr || first->deleted ||
      first->content.ref != crdt::engine::kRefString) {
    return -1;
  }
  const size_t n = first->content.str.size();
  // Checked and narrowed in one SSE step (the text's buffer has
  // kText16ReadSlack units of slack to read).
  if (n > 16 ||
      !crdt::internal::WriteAsciiUpTo16(first->content.str.data(), n, out)) {
    return -1;
  }
  return static_cast<int>(n);
}

// Adds the tag `key` of a bot map, whose current item is `item` (or null),
// to `out` as ReadBot would (nothing when it has no value). The keys of one
// map are distinct, so no lookup is needed first.
void AddTag(bots::Object& out, const std::string& key, const Item* item,
            bool* plain, bots::StringBatch* batch) {
  if (item == nullptr || item->deleted) return;
  if (const TypeImpl* text = TextOf(item)) {
    // Shared types always have a value (an emptied text reads as "").
    if (batch == nullptr) {
      out.AddNew(key, Value(TextValue(text)));
      return;
    }
    // Most tag values are short: written straight into their node.
    uint8_t narrow[16];
    const int n = ShortAsciiText(text, narrow);
    out.AddNew(key, n >= 0 ? batch->Make(std::string_view(
                                 reinterpret_cast<const char*>(narrow), n))
                           : batch->Make(std::string_view(TextValue(text))));
    return;
  }
  if (item->content.ref == crdt::engine::kRefAny &&
      item->content.AnyCount() > 0) {
    // A number or a boolean (the usual non-string tag) straight from the
    // item's last value, as ReadSlot reads it (both have a value).
    const crdt::JsValue& any = item->content.anys().back();
    if (any.kind() == crdt::JsValue::Kind::kNumber) {
      out.AddNew(key, Value(any.number()));
      return;
    }
    if (any.kind() == crdt::JsValue::Kind::kBool) {
      out.AddNew(key, Value(any.bool_value()));
      return;
    }
  }
  crdt::OutValue v = crdt::engine::ItemValue(
      item, static_cast<size_t>(item->content.Length() - 1));
  if (!SlotHasValue(v)) return;
  Value value = ReadSlot(v);
  if (plain != nullptr && value.kind() >= Value::Kind::kArray) *plain = false;
  out.AddNew(key, std::move(value));
}

}  // namespace

const TypeImpl* ItemType(const Item* item) {
  return item->content.ref == crdt::engine::kRefType ? item->content.type()
                                                     : nullptr;
}

std::string TextValue(const TypeImpl* text) {
  // Most tag values are short.
  uint8_t narrow[16];
  const int short_ascii = ShortAsciiText(text, narrow);
  if (short_ascii >= 0) {
    return std::string(reinterpret_cast<const char*>(narrow), short_ascii);
  }
  // The usual text: one string item (SetSlot writes one), ASCII.
  const Item* first = text->start;
  if (first != nullptr && first->right == nullptr && !first->deleted &&
      first->content.ref == crdt::engine::kRefString) {
    const size_t n = first->content.str.size();
    const char16_t* units = first->content.str.data();
    char16_t all = 0;
    for (size_t i = 0; i < n; ++i) all |= units[i];
    if (all < 0x80) {
      std::string out(n, '\0');
      char* o = out.data();
      for (size_t i = 0; i < n; ++i) o[i] = static_cast<char>(units[i]);
      return out;
    }
  }
  // `length` counts every visible unit: an upper bound of the ASCII bytes.
  std::string out(text->length, '\0');
  size_t n = 0;
  for (const Item* it = text->start; it != nullptr; it = it->right) {
    if (it->deleted || it->content.ref != crdt::engine::kRefString) continue;
    for (char16_t unit : it->content.str) {
      if (unit >= 0x80) {
        return bots::FromUtf16(
            crdt::YText(const_cast<TypeImpl*>(text)).ToString16());
      }
      if (n < out.size()) {
        out[n] = static_cast<char>(unit);
      } else {
        out.push_back(static_cast<char>(unit));
      }
      ++n;
    }
  }
  out.resize(n);
  return out;
}

namespace {

// Whether `item` (a map's current item, or null) is a live number, boolean
// or text: the tags AddTag always adds, read by FastTagValue.
bool IsFastTag(const Item* item) {
  if (item == nullptr || item->deleted) return false;
  if (item->content.ref == crdt::engine::kRefType) {
    return TextOf(item) != nullptr;
  }
  if (item->content.ref != crdt::engine::kRefAny ||
      item->content.AnyCount() == 0) {
    return false;
  }
  const crdt::JsValue::Kind kind = item->content.anys().back().kind();
  return kind == crdt::JsValue::Kind::kNumber ||
         kind == crdt::JsValue::Kind::kBool;
}

// The value AddTag adds for an item IsFastTag accepts, its string (when a
// text) made from `batch` when not null.
Value FastTagValue(const Item* item, bots::StringBatch* batch) {
  if (item->content.ref == crdt::engine::kRefType) {
    const TypeImpl* text = item->content.type();
    uint8_t narrow[16];
    const int n = ShortAsciiText(text, narrow);
    if (batch == nullptr) {
      return n >= 0 ? Value(std::string_view(
                          reinterpret_cast<const char*>(narrow), n))
                    : Value(TextValue(text));
    }
    return n >= 0 ? batch->Make(std::string_view(
                        reinterpret_cast<const char*>(narrow), n))
                  : batch->Make(std::string_view(TextValue(text)));
  }
  const crdt::JsValue& any = item->content.anys().back();
  return any.kind() == crdt::JsValue::Kind::kNumber ? Value(any.number())
                                                    : Value(any.bool_value());
}

}  // namespace

Value ReadItemValue(const Item* item) {
  if (const TypeImpl* text = TextOf(item)) return Value(TextValue(text));
  return ReadSlot(crdt::engine::ItemValue(
      item, static_cast<size_t>(item->content.Length() - 1)));
}

namespace {

// Bots with more tags than this read their strings one allocation each (a
// StringBatch is for a bot's handful).
constexpr size_t kFew = 16;

// The texts among `map`'s current items (an upper bound of the strings
// read: a type item's type is counted without being read). Reads each
// item's first line, independent loads that the memory serves together,
// before the values are built.
size_t CountTexts(const TypeImpl* map) {
  size_t texts = 0;
  for (const crdt::engine::MapTable::Entry& e : map->map) {
    const Item* item = e.current;
    if (item != nullptr && !item->deleted &&
        item->content.ref == crdt::engine::kRefType) {
      ++texts;
    }
  }
  return texts;
}

// ReadBotTags; with `extra` strings more in the batch of its strings when
// `batch` is not null (which is then set to the batch, or left empty when
// there is none).
Value ReadTags(const TypeImpl* map, bool* plain,
               std::optional<bots::StringBatch>* batch, size_t extra) {
  if (plain != nullptr) *plain = true;
  if (map == nullptr || map->kind != TypeKind::kMap) return Value::NewObject();
  // The tags' slots in the object's own allocation.
  Value tags = Value::NewObject(map->map.size());
  bots::Object& out = tags.as_object();
  bots::StringBatch* strings = nullptr;
  if (batch != nullptr && map->map.size() <= kFew) {
    const size_t n = CountTexts(map) + extra;
    if (n > 1) strings = &batch->emplace(n);
  }
  // The map's entries are in key order, each with its current item.
  for (const crdt::engine::MapTable::Entry& e : map->map) {
    AddTag(out, e.key.get(), e.current, plain, strings);
  }
  return tags;
}

}  // namespace

Value ReadBotTags(const TypeImpl* map, bool* plain) {
  return ReadTags(map, plain, nullptr, 0);
}

NewBotRead ReadNewBot(std::string_view id, const TypeImpl* map) {
  NewBotRead out;
  std::optional<bots::StringBatch> batch;
  out.tags = ReadTags(map, &out.plain, &batch, 1);
  out.id = batch.has_value() ? batch->Make(id) : Value(id);
  return out;
}

NewBotRead NewBotReader::Read(std::string_view id, const TypeImpl* map) {
  const size_t n = map != nullptr && map->kind == TypeKind::kMap
                       ? map->map.size()
                       : size_t{0};
  if (n == 0 || n > kFew) return ReadNewBot(id, map);
  // One pass over the entries' items (their first lines, independent loads)
  // says whether the last bot's keys fit, and counts the strings.
  const crdt::engine::MapTable::Entry* entries = map->map.begin();
  bool same = n == keys_.size();
  size_t texts = 0;
  for (size_t i = 0; same && i < n; ++i) {
    const Item* item = entries[i].current;
    same = entries[i].key.address() == keys_[i] && IsFastTag(item);
    if (same && item->content.ref == crdt::engine::kRefType) ++texts;
  }
  if (!same) {
    NewBotRead out = ReadNewBot(id, map);
    // Every entry gave a primitive tag: its keys serve the next bots.
    if (out.plain && out.tags.as_object().size() == n) {
      keys_.resize(n);
      for (size_t i = 0; i < n; ++i) keys_[i] = entries[i].key.address();
      tags_ = out.tags;
    }
    return out;
  }
  NewBotRead out;
  std::optional<bots::StringBatch> batch;
  // The id is one more string (a batch only for two or more).
  if (texts > 0) batch.emplace(texts + 1);
  bots::StringBatch* strings = batch.has_value() ? &*batch : nullptr;
  out.tags = Value(bots::Object::WithKeysOf(tags_.as_object()));
  bots::Object& tags = out.tags.as_object();
  for (size_t i = 0; i < n; ++i) {
    tags.InsertedValue(i) = FastTagValue(entries[i].current, strings);
  }
  out.id = strings != nullptr ? strings->Make(id) : Value(id);
  return out;
}

Value ReadBotOfMap(std::string_view id, const TypeImpl* map) {
  return bots::CreateBot(id, ReadBotTags(map, nullptr));
}

}  // namespace auxsync::partitions::internal
