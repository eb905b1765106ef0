// A cache-line prefetch that the compiler keeps. Private to the engine
// and its hot-path callers (fast_access).
#ifndef AUXSYNC_CRDT_INTERNAL_PREFETCH_H_
#define AUXSYNC_CRDT_INTERNAL_PREFETCH_H_

namespace auxsync::crdt::engine {

// Asks for the cache line holding `p` for reading, without waiting for it.
// Any address may be given (a prefetch never faults): callers pass guesses
// about memory. Why not __builtin_prefetch: GCC 12 emitted nothing for it
// once inlined into DeleteItem (StructList::PrefetchFind) and into the
// YjsPartition's action loop (PrefetchLines), so on x86-64 the instruction
// is written out.
inline void PrefetchLine(const void* p) {
#if defined(__x86_64__) && defined(__GNUC__)
  asm volatile("prefetcht0 (%0)" : : "r"(p));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_PREFETCH_H_
