#include "auxsync/bots/serialization.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/internal/js_ops.h"
#include "auxsync/bots/runtime_values.h"

namespace auxsync::bots {
namespace {

// Nesting deeper than this is "[Nested object]" (convertToCopiableValue) or
// not looked into (ensureBotIsSerializable).
constexpr int kMaxDepth = 1000;

// The string form of DateTime / Vector2 / Vector3 / Rotation, if `v` is one.
std::optional<std::string> SpecialValueString(const Value& v) {
  if (!v.is_host()) return std::nullopt;
  const HostObject* h = &v.as_host();
  if (const auto* dt = dynamic_cast<const DateTimeObject*>(h)) {
    return dt->FormatBotDate();
  }
  if (const auto* v2 = dynamic_cast<const Vector2Object*>(h)) {
    return v2->Format();
  }
  if (const auto* v3 = dynamic_cast<const Vector3Object*>(h)) {
    return v3->Format();
  }
  if (const auto* r = dynamic_cast<const RotationObject*>(h)) {
    return r->Format();
  }
  return std::nullopt;
}

const WrapperObject* AsWrapper(const Value& v) {
  if (!v.is_host()) return nullptr;
  return dynamic_cast<const WrapperObject*>(&v.as_host());
}

// Identity of an array, object or host value (the key of the copy map).
const void* Identity(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kArray:
      return v.array_ref().get();
    case Value::Kind::kObject:
      return v.object_ref().get();
    case Value::Kind::kHost:
      return v.host_ref().get();
    default:
      return nullptr;
  }
}

class Copier {
 public:
  // Returns false when the value nests deeper than kMaxDepth.
  bool Convert(const Value& value, int depth, Value& out) {
    if (depth > kMaxDepth) return false;
    if (value.is_host()) {
      const HostObject* h = &value.as_host();
      if (const auto* fn = dynamic_cast<const FunctionObject*>(h)) {
        out = Value(absl::StrCat("[Function ", fn->name(), "]"));
        return true;
      }
      if (const auto* err = dynamic_cast<const ErrorObject*>(h)) {
        out = Value(absl::StrCat(err->name(), ": ", err->message()));
        return true;
      }
    }
    if (!internal::IsTypeofObject(value) || value.is_null()) {
      out = value;
      return true;
    }
    const void* id = Identity(value);
    if (auto it = copies_.find(id); it != copies_.end()) {
      out = it->second;
      return true;
    }
    if (value.is_host()) {
      const HostObject* h = &value.as_host();
      if (const auto* rb = dynamic_cast<const RuntimeBotObject*>(h)) {
        Value result = MakeObject({{"id", rb->id()}, {"tags", rb->tags()}});
        if (HasValue(rb->space())) result.as_object().Set("space", rb->space());
        copies_[id] = result;
        out = result;
        return true;
      }
    }
    // isBot: truthy id and tags.
    Value bot_id = internal::GetProp(value, "id");
    Value bot_tags = internal::GetProp(value, "tags");
    if (IsTruthy(bot_id) && IsTruthy(bot_tags)) {
      Value result = MakeObject({{"id", bot_id}, {"tags", bot_tags}});
      copies_[id] = result;
      out = result;
      return true;
    }
    if (value.is_array()) {
      Value result = Value::NewArray();
      copies_[id] = result;
      const auto& items = value.as_array().items;
      auto& dest = result.as_array().items;
      dest.reserve(items.size());
      for (const Value& item : items) {
        Value converted;
        if (!Convert(item, depth + 1, converted)) return false;
        dest.push_back(std::move(converted));
      }
      out = result;
      return true;
    }
    if (value.is_host()) {
      // Date, Blob, ArrayBuffer and views pass through; DateTime, vectors
      // and rotations become strings; a wrapper becomes its original.
      if (std::optional<std::string> s = SpecialValueString(value)) {
        out = Value(*std::move(s));
        return true;
      }
      if (const WrapperObject* w = AsWrapper(value)) {
        copies_[id] = w->original();
        out = w->original();
        return true;
      }
      out = value;
      return true;
    }
    Value result = Value::NewObject();
    copies_[id] = result;
    // Keys first: the callback below does not change `value`, but a cycle
    // may lead back to it.
    for (const std::string& key : value.as_object().Keys()) {
      Value converted;
      if (!Convert(value.as_object().Get(key), depth + 1, converted)) {
        return false;
      }
      result.as_object().Set(key, std::move(converted));
    }
    out = result;
    return true;
  }

 private:
  absl::flat_hash_map<const void*, Value> copies_;
};

// deepTraverse looking for a wrapper at any depth up to kMaxDepth.
bool ContainsWrapper(const Value& value, int depth) {
  if (depth > kMaxDepth) return false;
  auto check = [&](const Value& child) {
    if (AsWrapper(child)) return true;
    return ContainsWrapper(child, depth + 1);
  };
  if (value.is_array()) {
    for (const Value& item : value.as_array().items) {
      if (check(item)) return true;
    }
  } else if (value.is_object()) {
    for (const std::string& key : value.as_object().Keys()) {
      if (check(value.as_object().Get(key))) return true;
    }
  }
  return false;
}

}  // namespace

Value EnsureTagIsSerializable(const Value& value) {
  if (std::optional<std::string> s = SpecialValueString(value)) {
    return Value(*std::move(s));
  }
  if (const WrapperObject* w = AsWrapper(value)) return w->original();
  return value;
}

Value EnsureBotIsSerializable(const Value& bot) {
  // The common case: tags that are all primitives need no conversion, and
  // the bot is returned as it is without copying the tag list.
  if (bot.is_object()) {
    const Value* tags = bot.as_object().Find("tags");
    if (tags != nullptr && tags->is_object()) {
      bool all_primitive = true;
      tags->as_object().ForEach([&](const std::string&, const Value& v) {
        all_primitive = all_primitive && v.kind() < Value::Kind::kArray;
      });
      if (all_primitive) return bot;
    }
  }
  Value tags = internal::GetProp(bot, "tags");
  Value new_bot;
  auto update_tag = [&](const std::string& tag, Value v) {
    if (new_bot.is_undefined()) {
      Value id = internal::GetProp(bot, "id");
      new_bot = CreateBot(id.is_string() ? id.as_string() : std::string(),
                          internal::ShallowCopy(tags),
                          internal::GetProp(bot, "space"));
      // createBot(bot.id, ...) keeps a non-string id as it is.
      if (!id.is_string()) new_bot.as_object().Set("id", id);
    }
    new_bot["tags"].as_object().Set(tag, std::move(v));
  };
  for (const std::string& tag : internal::ForInKeys(tags)) {
    Value value = internal::GetProp(tags, tag);
    if (std::optional<std::string> s = SpecialValueString(value)) {
      update_tag(tag, Value(*std::move(s)));
    } else if (HasValue(value) && internal::IsTypeofObject(value)) {
      if (const WrapperObject* w = AsWrapper(value)) {
        update_tag(tag, w->original());
      } else if (ContainsWrapper(value, 0)) {
        update_tag(tag, ConvertToCopiableValue(value));
      }
    }
  }
  return new_bot.is_undefined() ? bot : new_bot;
}

Value ConvertToCopiableValue(const Value& value) {
  Copier copier;
  Value out;
  if (!copier.Convert(value, 0, out)) return Value("[Nested object]");
  return out;
}

Value ConvertErrorToCopiableValue(const Value& value) {
  if (!value.is_host()) return value;
  const auto* err = dynamic_cast<const ErrorObject*>(&value.as_host());
  if (!err) return value;
  Value obj = MakeObject({{"message", err->message()},
                          {"name", err->name()},
                          {"stack", err->stack()}});
  const Value& response = err->response();
  if (IsTruthy(response)) {
    obj.as_object().Set(
        "response",
        MakeObject(
            {{"data", internal::GetProp(response, "data")},
             {"headers", internal::GetProp(response, "headers")},
             {"status", internal::GetProp(response, "status")},
             {"statusText", internal::GetProp(response, "statusText")}}));
  }
  return obj;
}

}  // namespace auxsync::bots
