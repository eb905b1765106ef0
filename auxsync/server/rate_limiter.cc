#include "auxsync/server/rate_limiter.h"

#include <algorithm>

namespace auxsync::server {

RateLimitResult RateLimiter::Hit(std::string_view key, int64_t now_ms) {
  RateLimitResult result;
  if (!enabled()) return result;
  if (windows_.size() >= purge_at_) {
    std::erase_if(windows_, [&](const auto& entry) {
      return now_ms - entry.second.start_ms >= window_ms_;
    });
    purge_at_ = std::max<size_t>(1024, windows_.size() * 2);
  }
  Window& window = windows_[std::string(key)];
  if (window.hits == 0 || now_ms - window.start_ms >= window_ms_) {
    window.start_ms = now_ms;
    window.hits = 0;
  }
  ++window.hits;
  result.total_hits = window.hits;
  if (window.hits > max_hits_) {
    result.allowed = false;
    result.retry_after_seconds =
        static_cast<double>(window.start_ms + window_ms_ - now_ms) / 1000.0;
  }
  return result;
}

}  // namespace auxsync::server
