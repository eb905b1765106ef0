// Copyright 2025 The auxsync Authors.

#ifndef AUXSYNC_CRDT_INTERNAL_SLAB_POOL_H_
#define AUXSYNC_CRDT_INTERNAL_SLAB_POOL_H_

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define AUXSYNC_SLAB_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define AUXSYNC_SLAB_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define AUXSYNC_SLAB_POISON(p, n) ((void)(p), (void)(n))
#define AUXSYNC_SLAB_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace auxsync::crdt::engine {

// Objects of one type in blocks owned by the pool, with a free list: a
// document's out-of-line content fields are made and dropped by the ten
// thousand (a map entry's number replaced by a new one),
// and malloc/free of each cost more than the object's own work. A freed
// slot is reused warm. Each slot records its pool, so that an owner that
// does not know the pool (Content) frees through Delete(ptr).
// Not thread-safe (one per Doc). Every object must be deleted before the
// pool is destroyed (the pool frees the memory only). T may be incomplete
// where the pool is declared.
template <typename T>
class SlabPool {
 public:
  SlabPool() = default;
  SlabPool(const SlabPool&) = delete;
  SlabPool& operator=(const SlabPool&) = delete;
  ~SlabPool() {
    // Free slots are poisoned under ASan: give the memory back clean.
    for (const Block& b : blocks_) {
      AUXSYNC_SLAB_UNPOISON(b.slots.get(), b.cap * sizeof(Slot));
    }
  }

  // A default-constructed T owned by the caller until Delete.
  T* New() {
    Slot* s = free_;
    if (s != nullptr) {
      AUXSYNC_SLAB_UNPOISON(s->obj, sizeof(T));
      free_ = s->next;
    } else {
      if (used_ == cap_) Grow();
      s = &blocks_.back().slots[used_++];
    }
    s->owner = this;
    return ::new (static_cast<void*>(s->obj)) T;
  }
  // Destroys `t` (made by some pool's New) and gives its slot back to
  // that pool.
  static void Delete(T* t) {
    Slot* s = reinterpret_cast<Slot*>(reinterpret_cast<std::byte*>(t) -
                                      offsetof(Slot, obj));
    SlabPool* owner = s->owner;
    std::destroy_at(t);
    AUXSYNC_SLAB_POISON(s->obj, sizeof(T));
    s->next = owner->free_;
    owner->free_ = s;
  }

 private:
  struct Slot {
    union {
      SlabPool* owner;  // while in use
      Slot* next;       // while free
    };
    alignas(T) std::byte obj[sizeof(T)];
  };
  void Grow() {
    // 8 slots first (a small document), doubling to 256.
    cap_ = blocks_.empty() ? 8 : std::min<size_t>(2 * cap_, 256);
    blocks_.push_back({std::make_unique_for_overwrite<Slot[]>(cap_), cap_});
    used_ = 0;
  }

  struct Block {
    std::unique_ptr<Slot[]> slots;
    size_t cap;
  };
  std::vector<Block> blocks_;  // all full but the last
  size_t used_ = 0;            // slots handed out from blocks_.back()
  size_t cap_ = 0;             // slots in blocks_.back()
  Slot* free_ = nullptr;
};

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_SLAB_POOL_H_
