// Copyright 2025 The auxsync Authors.
//
// ObserverList: the shared state behind Subject and BehaviorSubject. Private
// to auxsync/rx; other modules use subject.h and behavior_subject.h.

#ifndef AUXSYNC_RX_INTERNAL_OBSERVER_LIST_H_
#define AUXSYNC_RX_INTERNAL_OBSERVER_LIST_H_

#include <cassert>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

#include "auxsync/rx/subscription.h"

namespace auxsync::rx::internal {

// The observers of one subject, in subscription order. Always owned through
// a std::shared_ptr: each Subscription holds only a weak reference, so the
// list may die first. Single-threaded.
//
// Re-entrancy rules (a callback may subscribe, unsubscribe, emit again or
// destroy the owning subject while it runs):
//  - entries are never removed from `observers_` while an emission is in
//    progress (`depth_ > 0`); unsubscribing only clears `active`, so indices
//    and the running callback stay valid;
//  - an emission delivers to the entries that existed when it started;
//  - removed entries (and the captures of their callbacks) are destroyed only
//    after the list is consistent again, since destroying a capture may run
//    arbitrary code, including code that touches this list.
template <typename T>
class ObserverList : public std::enable_shared_from_this<ObserverList<T>> {
 public:
  using Callback = std::function<void(const T&)>;

  struct Entry {
    Callback callback;
    bool active = true;
  };

  ObserverList() = default;
  ObserverList(const ObserverList&) = delete;
  ObserverList& operator=(const ObserverList&) = delete;

  // Appends `callback`. Returns the Subscription that removes it and the
  // entry, which stays valid until the next emission or removal finishes.
  std::pair<Subscription, Entry*> Add(Callback callback) {
    assert(callback && "Subscribe() needs a callback");
    auto entry = std::make_shared<Entry>();
    entry->callback = std::move(callback);
    Entry* raw = entry.get();
    Subscription subscription(
        [list = this->weak_from_this(), weak_entry = std::weak_ptr(entry)] {
          // Keep the list alive for the whole removal, even if destroying
          // the callback's captures drops its last other owner.
          if (std::shared_ptr<ObserverList> locked = list.lock()) {
            locked->Remove(weak_entry);
          }
        });
    observers_.push_back(std::move(entry));
    ++active_count_;
    return {std::move(subscription), raw};
  }

  // Calls every active observer that exists now with `value`, in
  // subscription order. The caller must hold a shared_ptr to this list for
  // the duration of the call.
  void Emit(const T& value) {
    EmissionScope scope(*this);
    const size_t count = observers_.size();
    for (size_t i = 0; i < count; ++i) {
      // No entry is removed while depth_ > 0, so `entry` outlives the call.
      Entry* entry = observers_[i].get();
      if (entry->active) entry->callback(value);
    }
  }

  // Calls only `entry` (returned by Add()) with `value`, if it is still
  // active. Same lifetime rule as Emit().
  void EmitTo(Entry* entry, const T& value) {
    EmissionScope scope(*this);
    if (entry->active) entry->callback(value);
  }

  // The number of observers that have not unsubscribed.
  [[nodiscard]] size_t active_count() const { return active_count_; }

 private:
  // Marks an emission in progress; compacts when the outermost one ends.
  class EmissionScope {
   public:
    explicit EmissionScope(ObserverList& list) : list_(list) { ++list_.depth_; }
    EmissionScope(const EmissionScope&) = delete;
    EmissionScope& operator=(const EmissionScope&) = delete;
    ~EmissionScope() {
      if (--list_.depth_ == 0 && list_.inactive_count_ > 0) list_.Compact();
    }

   private:
    ObserverList& list_;
  };

  void Remove(const std::weak_ptr<Entry>& weak_entry) {
    std::shared_ptr<Entry> entry = weak_entry.lock();
    if (entry == nullptr || !entry->active) return;
    entry->active = false;
    --active_count_;
    ++inactive_count_;
    if (depth_ > 0) return;  // The emission compacts when it ends.
    // Nothing is running the callback: release its captures now. They are
    // destroyed at the end of this scope, after the list is consistent.
    Callback released = std::exchange(entry->callback, nullptr);
    // Amortised O(1): compact once at least half of the entries are dead.
    if (inactive_count_ * 2 >= observers_.size()) Compact();
  }

  // Drops inactive entries, keeping the order of the active ones.
  void Compact() {
    assert(depth_ == 0);
    size_t kept = 0;
    for (size_t i = 0; i < observers_.size(); ++i) {
      if (observers_[i]->active) {
        if (i != kept) std::swap(observers_[kept], observers_[i]);
        ++kept;
      }
    }
    // Move the dead entries out first and destroy them last: their callbacks'
    // destructors may call back into this list.
    std::vector<std::shared_ptr<Entry>> dead(
        std::make_move_iterator(observers_.begin() + kept),
        std::make_move_iterator(observers_.end()));
    observers_.resize(kept);
    inactive_count_ = 0;
  }

  std::vector<std::shared_ptr<Entry>> observers_;
  size_t active_count_ = 0;
  size_t inactive_count_ = 0;  // Entries in observers_ with active == false.
  int depth_ = 0;              // Nested emissions in progress.
};

}  // namespace auxsync::rx::internal

#endif  // AUXSYNC_RX_INTERNAL_OBSERVER_LIST_H_
