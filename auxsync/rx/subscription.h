// Copyright 2025 The auxsync Authors.
//
// Subscription: the RAII handle returned by every Subscribe() in auxsync.

#ifndef AUXSYNC_RX_SUBSCRIPTION_H_
#define AUXSYNC_RX_SUBSCRIPTION_H_

#include <functional>
#include <utility>

namespace auxsync::rx {

// Owns one registration with an observable (or any other teardown action).
// Dropping the handle unsubscribes; it is move-only, so exactly one owner can
// end the registration. Single-threaded: use it on the thread of the
// observable it came from.
class Subscription {
 public:
  // An empty subscription: Unsubscribe() and destruction do nothing.
  Subscription() = default;

  // Wraps `teardown`, which runs at most once: on the first Unsubscribe(), on
  // destruction, or when another subscription is move-assigned over this one.
  explicit Subscription(std::function<void()> teardown)
      : teardown_(std::move(teardown)) {}

  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Takes over `other`'s registration; `other` becomes empty.
  Subscription(Subscription&& other) noexcept
      : teardown_(std::exchange(other.teardown_, nullptr)) {}

  // Ends this subscription's current registration, then takes over `other`'s;
  // `other` becomes empty.
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      std::function<void()> incoming = std::exchange(other.teardown_, nullptr);
      Unsubscribe();
      teardown_ = std::move(incoming);
    }
    return *this;
  }

  // Unsubscribes (see Unsubscribe()).
  ~Subscription() { Unsubscribe(); }

  // Ends the registration. Idempotent, and safe to call from inside the very
  // callback it guards (that callback finishes its current run, and is not
  // called again) or after the observable has been destroyed (no-op).
  void Unsubscribe() {
    // Clear the handle before running the teardown, so a re-entrant call
    // (from inside the teardown itself) finds nothing left to do.
    std::function<void()> teardown = std::exchange(teardown_, nullptr);
    if (teardown) teardown();
  }

  // True until Unsubscribe() has run or the handle was moved from. It does not
  // track the observable: it stays true if the observable dies first.
  [[nodiscard]] bool active() const { return static_cast<bool>(teardown_); }

 private:
  std::function<void()> teardown_;
};

}  // namespace auxsync::rx

#endif  // AUXSYNC_RX_SUBSCRIPTION_H_
