#include "auxsync/bots/object_merge.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "auxsync/bots/internal/js_ops.h"

namespace auxsync::bots {
namespace {

// `typeof v === "object" && !Array.isArray(v) && v !== null`.
bool IsMergeableObject(const Value& v) {
  return internal::IsTypeofObject(v) && !v.is_null() && !v.is_array();
}

Value MergeAll(const std::vector<Value>& objects);

// utils.js `decide`.
Value Decide(const std::vector<Value>& values) {
  std::vector<Value> defined;
  for (const Value& v : values) {
    if (!v.is_undefined()) defined.push_back(v);
  }
  if (defined.size() == 1) return defined[0];
  bool all_objects = true;
  bool some_differ = false;
  for (const Value& v : defined) {
    all_objects = all_objects && IsMergeableObject(v);
    some_differ = some_differ || !StrictEquals(v, defined[0]);
  }
  if (all_objects && some_differ) return MergeAll(defined);
  return defined.empty() ? Value() : defined.back();
}

// utils.js `merge(...objs)`.
Value MergeAll(const std::vector<Value>& objects) {
  // union(...Object.keys(o)): first-seen order.
  std::vector<std::string> keys;
  absl::flat_hash_set<std::string> seen;
  for (const Value& o : objects) {
    for (std::string& key : internal::ForInKeys(o)) {
      if (seen.insert(key).second) keys.push_back(std::move(key));
    }
  }
  // Assigning into a plain object puts array-index keys first again.
  Value result = Value::NewObject();
  std::vector<Value> values(objects.size());
  for (const std::string& key : keys) {
    for (size_t i = 0; i < objects.size(); ++i) {
      values[i] = internal::GetProp(objects[i], key);
    }
    result.as_object().Set(key, Decide(values));
  }
  return result;
}

}  // namespace

Value Merge(const Value& a, const Value& b) {
  // The two-object case without the general machinery: it runs for every
  // update of every batch.
  if (!a.is_object() || !b.is_object()) return MergeAll({a, b});
  const Object& x = a.as_object();
  const Object& y = b.as_object();
  if (x.empty()) return Value(y.ShallowCopy());
  Value result = Value::NewObject();
  Object& out = result.as_object();
  auto decide = [](const Value& first, const Value* second) -> Value {
    if (second == nullptr || second->is_undefined()) return first;
    if (first.is_undefined()) return *second;
    if (IsMergeableObject(first) && IsMergeableObject(*second) &&
        !StrictEquals(first, *second)) {
      return Merge(first, *second);
    }
    return *second;
  };
  x.ForEach([&](const std::string& key, const Value& v) {
    out.Set(key, decide(v, y.Find(key)));
  });
  y.ForEach([&](const std::string& key, const Value& v) {
    if (!x.Has(key)) out.Set(key, v);
  });
  return result;
}

}  // namespace auxsync::bots
