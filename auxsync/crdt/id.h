// Copyright 2025 The auxsync Authors.
//
// ID: the (client, clock) pair that names one unit of a Yjs document.

#ifndef AUXSYNC_CRDT_ID_H_
#define AUXSYNC_CRDT_ID_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

namespace auxsync::crdt {

// The largest client id or clock a Yjs peer can express: lib0 reads var-ints
// as JS numbers and rejects anything above Number.MAX_SAFE_INTEGER.
inline constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

// The ID of one unit: unit i of a struct starting at (c, k) is (c, k + i).
// Ordered by client, then clock. Trivially copyable; hashable with Abseil and
// std::hash.
struct ID {
  uint64_t client = 0;
  uint64_t clock = 0;

  friend constexpr bool operator==(const ID&, const ID&) = default;
  friend constexpr auto operator<=>(const ID&, const ID&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const ID& id) {
    return H::combine(std::move(h), id.client, id.clock);
  }
};

}  // namespace auxsync::crdt

template <>
struct std::hash<auxsync::crdt::ID> {
  size_t operator()(const auxsync::crdt::ID& id) const noexcept {
    // Clients are random 32-bit numbers, clocks small: mix both halves.
    uint64_t h =
        id.client * 0x9E3779B97F4A7C15ull ^ (id.clock + 0x632BE59BD9B4E019ull);
    h ^= h >> 29;
    return static_cast<size_t>(h * 0xBF58476D1CE4E5B9ull);
  }
};

#endif  // AUXSYNC_CRDT_ID_H_
