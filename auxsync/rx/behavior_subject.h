// Copyright 2025 The auxsync Authors.
//
// BehaviorSubject<T>: a Subject that holds a current value and replays it to
// each new subscriber, like RxJS's BehaviorSubject.

#ifndef AUXSYNC_RX_BEHAVIOR_SUBJECT_H_
#define AUXSYNC_RX_BEHAVIOR_SUBJECT_H_

#include <cassert>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include "auxsync/rx/internal/observer_list.h"
#include "auxsync/rx/subscription.h"

namespace auxsync::rx {

// Holds the latest value. Subscribe() first registers the observer, then
// calls it with the current value before returning; after that the observer
// gets every later Next() value. Same threading and re-entrancy contract as
// Subject<T> (single-threaded; callbacks may subscribe, unsubscribe, emit or
// destroy the BehaviorSubject).
//
// Each Next() value is shared by every observer of that emission, even if a
// callback calls Next() again before the emission has finished.
//
// Movable, not copyable; a moved-from BehaviorSubject may only be destroyed or
// assigned to.
template <typename T>
class BehaviorSubject {
 public:
  using Callback = std::function<void(const T&)>;

  // Starts with `initial` as the current value.
  explicit BehaviorSubject(T initial)
      : value_(std::make_shared<T>(std::move(initial))),
        observers_(std::make_shared<List>()) {}

  BehaviorSubject(const BehaviorSubject&) = delete;
  BehaviorSubject& operator=(const BehaviorSubject&) = delete;
  BehaviorSubject(BehaviorSubject&&) noexcept = default;
  BehaviorSubject& operator=(BehaviorSubject&&) noexcept = default;
  // Observers stop receiving values; their Subscriptions become no-ops.
  ~BehaviorSubject() = default;

  // The current value: the last one given to Next(), or the initial one.
  // The reference is valid until the next Next() or destruction.
  [[nodiscard]] const T& value() const {
    assert(value_ != nullptr && "use of a moved-from BehaviorSubject");
    return *value_;
  }

  // Registers `callback` (must be non-empty), calls it with the current
  // value, then with every later Next() value, until the returned
  // Subscription is unsubscribed or dropped.
  [[nodiscard]] Subscription Subscribe(Callback callback) {
    assert(observers_ != nullptr && "use of a moved-from BehaviorSubject");
    // Local owners: the replay may replace the value or destroy *this.
    std::shared_ptr<List> observers = observers_;
    std::shared_ptr<const T> current = value_;
    auto [subscription, entry] = observers->Add(std::move(callback));
    observers->EmitTo(entry, *current);
    return std::move(subscription);
  }

  // Makes `value` current, then calls every observer subscribed before this
  // call with it, in subscription order. The current value's storage is
  // reused (assigned into) when nothing else holds it: no running emission
  // or replay, so no observer can tell the difference.
  void Next(T&& value) {
    assert(observers_ != nullptr && "use of a moved-from BehaviorSubject");
    if (value_.use_count() == 1) {
      *value_ = std::move(value);
    } else {
      value_ = std::make_shared<T>(std::move(value));
    }
    Emit();
  }
  void Next(const T& value) {
    assert(observers_ != nullptr && "use of a moved-from BehaviorSubject");
    if (value_.use_count() == 1) {
      *value_ = value;
    } else {
      value_ = std::make_shared<T>(value);
    }
    Emit();
  }

  // Next(value) through `assign(T& current, const T& value)`, which must
  // leave `current` equal to `value`: it is called on the current value's
  // storage when nothing else holds it (so a caller whose values mostly
  // share their parts can copy only what changed); otherwise `value` is
  // copied whole into new storage.
  template <typename Assign>
  void NextAssigning(const T& value, Assign&& assign) {
    assert(observers_ != nullptr && "use of a moved-from BehaviorSubject");
    if (value_.use_count() == 1) {
      assign(*value_, value);
    } else {
      value_ = std::make_shared<T>(value);
    }
    Emit();
  }

  // The number of observers currently subscribed.
  [[nodiscard]] size_t observer_count() const {
    return observers_ == nullptr ? 0 : observers_->active_count();
  }

 private:
  using List = internal::ObserverList<T>;

  // Emits the current value. Local owners: a callback may replace the value
  // (which then gets new storage, as this one is held) or destroy *this.
  void Emit() {
    std::shared_ptr<const T> current = value_;
    std::shared_ptr<List> observers = observers_;
    observers->Emit(*current);
  }

  // Never shared outside: only Subscribe() and Emit() hold extra owners,
  // for the duration of a call.
  std::shared_ptr<T> value_;
  std::shared_ptr<List> observers_;
};

}  // namespace auxsync::rx

#endif  // AUXSYNC_RX_BEHAVIOR_SUBJECT_H_
