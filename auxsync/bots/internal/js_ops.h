// JavaScript operators on Values that the bot layer's algorithms rely on:
// property reads (`v[key]`), `for...in`, `Object.keys`, `Object.assign` /
// spread, `in` and `typeof`. Private to auxsync/bots.
//
// Host objects (Dates, runtime values) are treated as objects without own
// enumerable properties; the prototype chain of plain objects is not
// modelled (a key such as "toString" is only present when it is an own
// property).

#ifndef AUXSYNC_BOTS_INTERNAL_JS_OPS_H_
#define AUXSYNC_BOTS_INTERNAL_JS_OPS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auxsync/bots/js_string.h"
#include "auxsync/bots/value.h"

namespace auxsync::bots::internal {

// The canonical array index of `key`, or -1 when it is not one.
inline int64_t ArrayIndexOf(std::string_view key) {
  if (!IsArrayIndexKey(key)) return -1;
  int64_t n = 0;
  for (char c : key) n = n * 10 + (c - '0');
  return n;
}

// The UTF-16 code units of a string as one-unit strings (what indexing a
// JavaScript string yields).
inline std::vector<std::string> StringUnits(const std::string& s) {
  std::vector<std::string> units;
  bool ascii = true;
  for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    units.reserve(s.size());
    for (char c : s) units.emplace_back(1, c);
    return units;
  }
  std::u16string u = ToUtf16(s);
  units.reserve(u.size());
  for (char16_t c : u) units.push_back(FromUtf16(std::u16string_view(&c, 1)));
  return units;
}

// `v[key]` for any value: own properties of objects, items and "length" of
// arrays, code units and "length" of strings; undefined otherwise.
inline Value GetProp(const Value& v, std::string_view key) {
  switch (v.kind()) {
    case Value::Kind::kObject:
      return v.as_object().Get(key);
    case Value::Kind::kArray: {
      const auto& items = v.as_array().items;
      if (key == "length") return Value(static_cast<double>(items.size()));
      int64_t i = ArrayIndexOf(key);
      if (i >= 0 && static_cast<size_t>(i) < items.size()) return items[i];
      return Value();
    }
    case Value::Kind::kString: {
      if (key == "length") {
        return Value(static_cast<double>(Utf16Length(v.as_string())));
      }
      int64_t i = ArrayIndexOf(key);
      if (i < 0) return Value();
      std::vector<std::string> units = StringUnits(v.as_string());
      if (static_cast<size_t>(i) < units.size()) return Value(units[i]);
      return Value();
    }
    default:
      return Value();
  }
}

// The keys `for (k in v)` visits (and Object.keys(v) returns): own
// enumerable keys of objects in property order, indices of arrays and
// strings, nothing for other values.
inline std::vector<std::string> ForInKeys(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kObject:
      return v.as_object().Keys();
    case Value::Kind::kArray: {
      std::vector<std::string> keys;
      size_t n = v.as_array().items.size();
      keys.reserve(n);
      for (size_t i = 0; i < n; ++i) keys.push_back(std::to_string(i));
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<std::string> keys;
      size_t n = Utf16Length(v.as_string());
      keys.reserve(n);
      for (size_t i = 0; i < n; ++i) keys.push_back(std::to_string(i));
      return keys;
    }
    default:
      return {};
  }
}

// Object.keys(v).length.
inline size_t OwnKeyCount(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kObject:
      return v.as_object().size();
    case Value::Kind::kArray:
      return v.as_array().items.size();
    case Value::Kind::kString:
      return Utf16Length(v.as_string());
    default:
      return 0;
  }
}

// Object.assign(target, source) / `{...target, ...source}` for one source:
// copies the own enumerable properties of `source` (none for null,
// undefined, numbers, booleans and host objects).
inline void AssignFrom(Object& target, const Value& source) {
  switch (source.kind()) {
    case Value::Kind::kObject:
      source.as_object().ForEach(
          [&](const std::string& key, const Value& v) { target.Set(key, v); });
      return;
    case Value::Kind::kArray: {
      const auto& items = source.as_array().items;
      for (size_t i = 0; i < items.size(); ++i) {
        target.Set(std::to_string(i), items[i]);
      }
      return;
    }
    case Value::Kind::kString: {
      std::vector<std::string> units = StringUnits(source.as_string());
      for (size_t i = 0; i < units.size(); ++i) {
        target.Set(std::to_string(i), Value(std::move(units[i])));
      }
      return;
    }
    default:
      return;
  }
}

// A new plain object holding the own enumerable properties of `source`.
inline Value ShallowCopy(const Value& source) {
  if (source.is_object()) return Value(source.as_object().ShallowCopy());
  Value copy = Value::NewObject();
  AssignFrom(copy.as_object(), source);
  return copy;
}

// `typeof v === "object"`: null, arrays, objects and host objects other
// than functions.
inline bool IsTypeofObject(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
    case Value::Kind::kArray:
    case Value::Kind::kObject:
      return true;
    case Value::Kind::kHost:
      return v.as_host().class_name() != "Function";
    default:
      return false;
  }
}

// `key in v` for an object-typed `v`. Arrays also answer for their
// prototype's "values" and "length"; primitives (where JavaScript throws a
// TypeError) answer false.
inline bool HasProp(const Value& v, std::string_view key) {
  switch (v.kind()) {
    case Value::Kind::kObject:
      return v.as_object().Has(key);
    case Value::Kind::kArray: {
      if (key == "length" || key == "values") return true;
      int64_t i = ArrayIndexOf(key);
      return i >= 0 && static_cast<size_t>(i) < v.as_array().items.size();
    }
    default:
      return false;
  }
}

}  // namespace auxsync::bots::internal

#endif  // AUXSYNC_BOTS_INTERNAL_JS_OPS_H_
