#include "bench/heap_usage.h"

#include <malloc.h>

namespace auxsync::bench {

size_t HeapInUseBytes() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

}  // namespace auxsync::bench
