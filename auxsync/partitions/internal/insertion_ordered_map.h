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
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool contains(std::string_view key) const { return Locate(key) >= 0; }

  T* Find(std::string_view key) {
    int i = Locate(key);
    return i < 0 ? nullptr : &*entries_[i].second;
  }

  // Inserts or replaces; an existing key keeps its position.
  T& Set(std::string_view key, T value) {
    int i = Locate(key);
    if (i >= 0) {
      entries_[i].second = std::move(value);
      return *entries_[i].second;
    }
    entries_.emplace_back(std::string(key), std::move(value));
    ++size_;
    if (!index_.empty()) {
      index_.emplace(entries_.back().first, entries_.size() - 1);
    } else if (entries_.size() > kLinearLimit) {
      for (size_t k = 0; k < entries_.size(); ++k) {
        if (entries_[k].second) index_.emplace(entries_[k].first, k);
      }
    }
    return *entries_.back().second;
  }

  // Removes `key`; returns whether it was present.
  bool Erase(std::string_view key) {
    int i = Locate(key);
    if (i < 0) return false;
    entries_[i].second.reset();
    if (!index_.empty()) index_.erase(View(key));
    --size_;
    return true;
  }

  // Removes every entry, keeping the storage for reuse.
  void Clear() {
    entries_.clear();
    index_.clear();
    size_ = 0;
  }

  // Calls f(const std::string& key, T& value) in insertion order.
  template <typename F>
  void ForEach(F&& f) {
    for (auto& [key, value] : entries_) {
      if (value) f(key, *value);
    }
  }

 private:
  // Batches are usually small: search them linearly, index them when not.
  static constexpr size_t kLinearLimit = 8;

  // Debian's Abseil has its own string_view type.
  static absl::string_view View(std::string_view s) {
    return absl::string_view(s.data(), s.size());
  }

  int Locate(std::string_view key) const {
    if (!index_.empty()) {
      auto it = index_.find(View(key));
      return it == index_.end() ? -1 : static_cast<int>(it->second);
    }
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].second && entries_[i].first == key) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  std::vector<std::pair<std::string, std::optional<T>>> entries_;
  absl::flat_hash_map<std::string, size_t> index_;
  size_t size_ = 0;
};

}  // namespace auxsync::partitions::internal

#endif  // AUXSYNC_PARTITIONS_INTERNAL_INSERTION_ORDERED_MAP_H_
