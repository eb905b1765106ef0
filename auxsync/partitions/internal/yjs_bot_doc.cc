#include "auxsync/partitions/internal/yjs_bot_doc.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/js_string.h"
#include "auxsync/crdt/internal/fast_access.h"
#include "auxsync/crdt/internal/item.h"
#include "auxsync/crdt/internal/utf8.h"

namespace auxsync::partitions::internal {

using bots::Value;
using crdt::JsValue;

std::string TagMaskId(std::string_view bot_id, std::string_view tag) {
  std::string out(bot_id);
  out += ':';
  out.append(tag.data(), tag.size());
  return out;
}

std::optional<TagMaskKey> ParseTagMaskId(std::string_view key) {
  size_t colon = key.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return TagMaskKey{std::string(key.substr(0, colon)),
                    std::string(key.substr(colon + 1))};
}

namespace {

// Strings in an Any must be valid UTF-8; a WTF-8 lone surrogate becomes
// U+FFFD, which is what lib0's TextEncoder writes for it.
std::string ToUtf8(const std::string& s) {
  if (bots::IsValidUtf8(s)) return s;
  std::u16string units = bots::ToUtf16(s);
  for (char16_t& u : units) {
    if (u >= 0xD800 && u <= 0xDFFF) {
      // Keep valid pairs; replace lone halves.
      size_t i = static_cast<size_t>(&u - units.data());
      bool high = u <= 0xDBFF;
      bool paired =
          high ? (i + 1 < units.size() && units[i + 1] >= 0xDC00 &&
                  units[i + 1] <= 0xDFFF)
               : (i > 0 && units[i - 1] >= 0xD800 && units[i - 1] <= 0xDBFF);
      if (!paired) u = 0xFFFD;
    }
  }
  return bots::FromUtf16(units);
}

}  // namespace

JsValue ToJsValue(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      return JsValue::MakeUndefined();
    case Value::Kind::kNull:
      return JsValue::MakeNull();
    case Value::Kind::kBool:
      return JsValue::MakeBool(value.as_bool());
    case Value::Kind::kNumber:
      return JsValue::MakeNumber(value.as_number());
    case Value::Kind::kString:
      return JsValue::MakeString(ToUtf8(value.as_string()));
    case Value::Kind::kArray: {
      JsValue::Array items;
      for (const Value& item : value.as_array().items) {
        items.push_back(ToJsValue(item));
      }
      return JsValue::MakeArray(std::move(items));
    }
    case Value::Kind::kObject: {
      JsValue::Map entries;
      value.as_object().ForEach([&](const std::string& key, const Value& v) {
        entries.emplace_back(ToUtf8(key), ToJsValue(v));
      });
      return JsValue::MakeMap(std::move(entries));
    }
    case Value::Kind::kHost:
      return ToJsValue(value.as_host().ToJsonValue());
  }
  return JsValue::MakeUndefined();
}

Value FromJsValue(const JsValue& value) {
  switch (value.kind()) {
    case JsValue::Kind::kUndefined:
      return Value();
    case JsValue::Kind::kNull:
      return Value(nullptr);
    case JsValue::Kind::kBool:
      return Value(value.bool_value());
    case JsValue::Kind::kNumber:
      return Value(value.number());
    case JsValue::Kind::kBigInt:
      return Value(static_cast<double>(value.bigint()));
    case JsValue::Kind::kString:
      return Value(value.string());
    case JsValue::Kind::kBytes: {
      Value out = Value::NewObject();
      const std::vector<uint8_t>& bytes = value.bytes();
      for (size_t i = 0; i < bytes.size(); ++i) {
        out.as_object().Set(absl::StrCat(i), Value(bytes[i]));
      }
      return out;
    }
    case JsValue::Kind::kArray: {
      std::vector<Value> items;
      items.reserve(value.array().size());
      for (const JsValue& item : value.array()) {
        items.push_back(FromJsValue(item));
      }
      return Value(std::make_shared<bots::Array>(std::move(items)));
    }
    case JsValue::Kind::kMap: {
      Value out = Value::NewObject();
      for (const auto& [key, v] : value.map()) {
        out.as_object().Set(key, FromJsValue(v));
      }
      return out;
    }
  }
  return Value();
}

crdt::Input ToSlotInput(const Value& value) {
  if (value.is_string())
    return crdt::Input::Text(bots::ToUtf16(value.as_string()));
  return crdt::Input(ToJsValue(value));
}

namespace {

// bots::ToUtf16, widening ASCII (most tag values) without its general
// decoder.
std::u16string Utf16Of(const std::string& s) {
  std::u16string out(s.size(), u'\0');
  if (crdt::internal::WidenIfAscii(s, out.data())) return out;
  return bots::ToUtf16(s);
}

// The longest tag value SetPlainSlot widens on the stack.
constexpr size_t kShortText = 128;

}  // namespace

crdt::engine::Item* SetSlot(crdt::YMap map, std::string_view key,
                            const Value& value) {
  if (value.is_string() || value.is_number() || value.is_bool()) {
    const crdt::engine::ItemKey k = crdt::engine::MapKeyOf(map.impl(), key);
    return SetPlainSlot(map, k, map.impl()->GetMap(k), value);
  }
  map.Set(key, crdt::Input(ToJsValue(value)));
  return nullptr;
}

crdt::engine::Item* SetPlainSlot(crdt::YMap map, crdt::engine::ItemKey key,
                                 crdt::engine::Item* current,
                                 const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kString: {
      // Most tag values are short ASCII: widened on the stack, not into a
      // heap string per write.
      const std::string& s = value.as_string();
      char16_t units[kShortText];
      if (s.size() <= kShortText && crdt::internal::WidenIfAscii(s, units)) {
        return crdt::engine::SetMapText(map, key, current,
                                        std::u16string_view(units, s.size()));
      }
      return crdt::engine::SetMapText(map, key, current, Utf16Of(s));
    }
    case Value::Kind::kNumber:
      return crdt::engine::SetMapValue(map, key, current,
                                       JsValue::MakeNumber(value.as_number()));
    case Value::Kind::kBool:
      return crdt::engine::SetMapValue(map, key, current,
                                       JsValue::MakeBool(value.as_bool()));
    default:
      // (Callers pass plain values only.)
      map.Set(key.get(), crdt::Input(ToJsValue(value)));
      return nullptr;
  }
}

Value ReadSlot(const crdt::OutValue& value) {
  if (value.type != nullptr) {
    crdt::YType type(value.type);
    if (type.kind() == crdt::engine::TypeKind::kText) {
      return Value(bots::FromUtf16(crdt::YText(value.type).ToString16()));
    }
    return FromJsValue(type.ToJson());
  }
  return FromJsValue(value.value);
}

bool SlotHasValue(const crdt::OutValue& value) {
  if (value.type != nullptr) return true;
  switch (value.value.kind()) {
    case JsValue::Kind::kUndefined:
    case JsValue::Kind::kNull:
      return false;
    case JsValue::Kind::kString:
      return !value.value.string().empty();
    default:
      return true;
  }
}

Value ReadBot(std::string_view id, const crdt::OutValue& slot) {
  Value tags = Value::NewObject();
  if (slot.type != nullptr &&
      crdt::YType(slot.type).kind() == crdt::engine::TypeKind::kMap) {
    crdt::YMap map(slot.type);
    for (const std::string& key : map.Keys()) {
      std::optional<crdt::OutValue> v = map.Get(key);
      if (!v.has_value() || !SlotHasValue(*v)) continue;
      tags.as_object().Set(key, ReadSlot(*v));
    }
  }
  return bots::CreateBot(id, tags);
}

std::optional<std::string> ParentKey(crdt::engine::TypeImpl* type) {
  if (type == nullptr || type->item == nullptr || !type->item->has_parent_sub) {
    return std::nullopt;
  }
  return std::string(type->item->parent_sub);
}

crdt::engine::TypeImpl* ParentType(crdt::engine::TypeImpl* type) {
  if (type == nullptr || type->item == nullptr) return nullptr;
  return type->item->parent;
}

}  // namespace auxsync::partitions::internal
