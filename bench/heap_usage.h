// How much heap memory the process holds, for "memory held by a document"
// figures: the difference of two readings around building the document.
#ifndef AUXSYNC_BENCH_HEAP_USAGE_H_
#define AUXSYNC_BENCH_HEAP_USAGE_H_

#include <cstddef>

namespace auxsync::bench {

// Bytes of heap currently allocated by malloc/operator new (glibc
// mallinfo2: in-use chunks of the main arena, including each chunk's
// header, plus mmapped blocks). Freed memory is not counted. Single-threaded
// use: other threads' arenas are not included.
size_t HeapInUseBytes();

}  // namespace auxsync::bench

#endif  // AUXSYNC_BENCH_HEAP_USAGE_H_
