// A fixed-window rate limiter per key (the client's IP address), as the
// CasualOS server applies to websocket frames (spec 5.15): at most
// `max_hits` hits per `window_ms`; a hit beyond that is refused with the
// time left in the window.
//
// Process-local: with several server processes (a Redis store) the counters
// would move there. Not thread-safe (the server's one thread). Memory is
// bounded by the number of keys seen in one window: expired windows are
// dropped as new keys arrive.

#ifndef AUXSYNC_SERVER_RATE_LIMITER_H_
#define AUXSYNC_SERVER_RATE_LIMITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace auxsync::server {

struct RateLimitResult {
  bool allowed = true;
  double retry_after_seconds = 0;  // when refused: until the window ends
  int64_t total_hits = 0;          // hits in the current window, this one too
};

class RateLimiter {
 public:
  // max_hits <= 0 disables the limiter (every hit allowed).
  RateLimiter(int64_t max_hits, int64_t window_ms)
      : max_hits_(max_hits), window_ms_(window_ms > 0 ? window_ms : 1) {}

  // Counts one hit of `key` at `now_ms`.
  RateLimitResult Hit(std::string_view key, int64_t now_ms);

  bool enabled() const { return max_hits_ > 0; }

 private:
  struct Window {
    int64_t start_ms = 0;
    int64_t hits = 0;
  };
  int64_t max_hits_;
  int64_t window_ms_;
  std::unordered_map<std::string, Window> windows_;
  size_t purge_at_ = 1024;
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_RATE_LIMITER_H_
