// A string-keyed map that iterates in insertion order, like a JavaScript
// Map: setting an existing key keeps its place, erasing and re-adding moves
// it to the end.

#ifndef AUXSYNC_PARTITIONS_INTERNAL_INSERTION_ORDERED_MAP_H_
#define AUXSYNC_PARTITIONS_INTERNAL_INSERTION_ORDERED_MAP_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace auxsync::partitions::internal {

template <typename T>
class InsertionOrderedMap {
 public:
  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  bool contains(std::string_view key) const {
    return index_.contains(View(key));
  }

  T* Find(std::string_view key) {
    auto it = index_.find(View(key));
    return it == index_.end() ? nullptr : &*entries_[it->second].second;
  }

  // Inserts or replaces; an existing key keeps its position.
  T& Set(std::string_view key, T value) {
    auto it = index_.find(View(key));
    if (it != index_.end()) {
      entries_[it->second].second = std::move(value);
      return *entries_[it->second].second;
    }
    index_.emplace(std::string(key), entries_.size());
    entries_.emplace_back(std::string(key), std::move(value));
    return *entries_.back().second;
  }

  // Removes `key`; returns whether it was present.
  bool Erase(std::string_view key) {
    auto it = index_.find(View(key));
    if (it == index_.end()) return false;
    entries_[it->second].second.reset();
    index_.erase(it);
    return true;
  }

  // Calls f(const std::string& key, T& value) in insertion order.
  template <typename F>
  void ForEach(F&& f) {
    for (auto& [key, value] : entries_) {
      if (value) f(key, *value);
    }
  }

 private:
  // Debian's Abseil has its own string_view type.
  static absl::string_view View(std::string_view s) {
    return absl::string_view(s.data(), s.size());
  }

  std::vector<std::pair<std::string, std::optional<T>>> entries_;
  absl::flat_hash_map<std::string, size_t> index_;
};

}  // namespace auxsync::partitions::internal

#endif  // AUXSYNC_PARTITIONS_INTERNAL_INSERTION_ORDERED_MAP_H_
