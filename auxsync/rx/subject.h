// Copyright 2025 The auxsync Authors.
//
// Subject<T>: a synchronous multicast stream, the C++ form of RxJS's Subject
// as CasualOS's partitions use it (onBotsAdded, onError, ...).

#ifndef AUXSYNC_RX_SUBJECT_H_
#define AUXSYNC_RX_SUBJECT_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include "auxsync/rx/internal/observer_list.h"
#include "auxsync/rx/subscription.h"

namespace auxsync::rx {

// Delivers each value given to Next() to every current observer,
// synchronously, in subscription order.
//
// Single-threaded by contract: Subscribe, Next, Unsubscribe and destruction
// must all happen on one thread (the owning partition's event loop).
//
// Re-entrant use from inside a callback is safe: a callback may unsubscribe
// itself or any other observer (an observer unsubscribed before its turn does
// not get the value), subscribe new observers (they get only later values),
// call Next() again (the nested value reaches every current observer before
// the outer emission continues), or destroy the Subject (the running emission
// still reaches the observers that are still subscribed).
//
// Movable: the observers and their subscriptions follow the moved-to Subject;
// the moved-from Subject is empty and usable. Not copyable.
template <typename T>
class Subject {
 public:
  using Callback = std::function<void(const T&)>;

  // An empty subject. Allocates nothing until the first Subscribe().
  Subject() = default;
  Subject(const Subject&) = delete;
  Subject& operator=(const Subject&) = delete;
  Subject(Subject&&) noexcept = default;
  Subject& operator=(Subject&&) noexcept = default;
  // Observers stop receiving values; their Subscriptions become no-ops.
  ~Subject() = default;

  // Registers `callback` (must be non-empty) for every later Next(). The
  // registration lasts until the returned Subscription is unsubscribed or
  // dropped, so discarding the result unsubscribes at once.
  [[nodiscard]] Subscription Subscribe(Callback callback) {
    if (state_ == nullptr) state_ = std::make_shared<List>();
    return state_->Add(std::move(callback)).first;
  }

  // Calls every observer subscribed before this call with `value`, in
  // subscription order, and returns when all of them have returned. O(n).
  void Next(const T& value) {
    // A local owner keeps the list alive if a callback destroys *this.
    std::shared_ptr<List> state = state_;
    if (state != nullptr) state->Emit(value);
  }

  // The number of observers currently subscribed.
  [[nodiscard]] size_t observer_count() const {
    return state_ == nullptr ? 0 : state_->active_count();
  }

 private:
  using List = internal::ObserverList<T>;

  std::shared_ptr<List> state_;  // Null until the first Subscribe().
};

}  // namespace auxsync::rx

#endif  // AUXSYNC_RX_SUBJECT_H_
