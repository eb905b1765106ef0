// The reference count of a shared immutable node (a string value's text).
// Private to auxsync/bots.
//
// Counts are changed with plain adds while the process has one thread and
// with atomic ones once it has started another, as libstdc++ does for
// shared_ptr: a Value graph belongs to one thread, but immutable nodes may
// be reached from constants that several threads copy.

#ifndef AUXSYNC_BOTS_INTERNAL_REF_COUNT_H_
#define AUXSYNC_BOTS_INTERNAL_REF_COUNT_H_

#if __has_include(<ext/atomicity.h>)
#include <ext/atomicity.h>
#else
#include <atomic>
#endif

namespace auxsync::bots::internal {

#if __has_include(<ext/atomicity.h>)
using RefCount = _Atomic_word;

inline void RefCountAdd(RefCount& count) {
  __gnu_cxx::__atomic_add_dispatch(&count, 1);
}

// Drops one reference; true when it was the last.
inline bool RefCountDrop(RefCount& count) {
  return __gnu_cxx::__exchange_and_add_dispatch(&count, -1) == 1;
}
#else
using RefCount = int;

inline void RefCountAdd(RefCount& count) {
  std::atomic_ref<int>(count).fetch_add(1, std::memory_order_relaxed);
}

inline bool RefCountDrop(RefCount& count) {
  return std::atomic_ref<int>(count).fetch_sub(1, std::memory_order_acq_rel) ==
         1;
}
#endif

}  // namespace auxsync::bots::internal

#endif  // AUXSYNC_BOTS_INTERNAL_REF_COUNT_H_
