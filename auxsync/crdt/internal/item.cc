#include "auxsync/crdt/internal/item.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "auxsync/crdt/internal/engine.h"

namespace auxsync::crdt::engine {

namespace {
// A pool switches to huge blocks once it holds this many items and types
// (≈ 2.7 MB in small blocks): small documents keep small blocks.
constexpr size_t kHugeAfter = 16384;
constexpr size_t kHugeBlock = size_t{2} << 20;  // one x86-64 huge page
// The text log's blocks: 4 KiB of text each, so that a block kept alive by
// one surviving view holds little; a longer text goes to the heap.
constexpr size_t kLogBlockUnits = 2048;
constexpr size_t kLogMaxText = kLogBlockUnits / 4;
}  // namespace

char16_t* ItemPool::LogRoom(size_t n, size_t& offset) {
  if (log_ == nullptr || log_->capacity() - log_->size() < n) {
    log_.reset(TextBlock::New(kLogBlockUnits));
  }
  offset = log_->size();
  return log_->Extend(n);
}

Text16 ItemPool::LocalText(std::u16string_view s) {
  Text16 t;
  if (s.size() <= Text16::kInline || s.size() > kLogMaxText) {
    t.assign(s);
    return t;
  }
  size_t offset = 0;
  std::memcpy(LogRoom(s.size(), offset), s.data(), s.size() * sizeof(char16_t));
  return Text16::View(log_.get(), offset, s.size());
}

void ItemPool::AppendLocalText(Text16& t, std::u16string_view s) {
  if (s.empty()) return;
  if (log_ != nullptr && t.EndsBlock(log_.get()) &&
      log_->capacity() - log_->size() >= s.size()) {
    std::memcpy(log_->Extend(s.size()), s.data(), s.size() * sizeof(char16_t));
    t.ExtendView(s.size());
    return;
  }
  const size_t n = t.size();
  const size_t total = n + s.size();
  if (total > kLogMaxText || (total <= Text16::kInline && !t.is_view())) {
    t.append(s);
    return;
  }
  // (`t` keeps its old block, even a full log block just replaced, alive
  // until the copy is made.)
  size_t offset = 0;
  char16_t* p = LogRoom(total, offset);
  std::memcpy(p, t.data(), n * sizeof(char16_t));
  std::memcpy(p + n, s.data(), s.size() * sizeof(char16_t));
  t = Text16::View(log_.get(), offset, total);
}

ItemPool::~ItemPool() {
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const size_t n = b + 1 == blocks_.size() ? block_used_ : blocks_[b].cap;
    Slot* slots = blocks_[b].slots.get();
    const uint64_t* aux = blocks_[b].aux_bits.get();
    // (Destroying an item gives its type's and text's slots back: aux
    // slots are skipped, whatever they hold by then.)
    for (size_t i = n; i-- > 0;) {
      if ((aux[i >> 6] >> (i & 63)) & 1) continue;
      std::destroy_at(slots[i].item());
    }
    // Free aux slots are poisoned under ASan: give the memory back clean.
    AUXSYNC_SLAB_UNPOISON(slots, blocks_[b].cap * sizeof(Slot));
  }
}

ItemPool::Slot* ItemPool::NewAuxSlot() {
  if (block_used_ == block_cap_) Grow();
  ++count_;
  ++aux_slots_;
  const size_t i = block_used_++;
  Block& b = blocks_.back();
  b.aux_bits[i >> 6] |= uint64_t{1} << (i & 63);
  return &b.slots.get()[i];
}

void ItemPool::ReleaseAuxSlot(std::byte* slot) {
  ItemPool* owner;
  std::memcpy(&owner, slot, sizeof(owner));
  AUXSYNC_SLAB_POISON(slot + kAuxOffset, sizeof(Slot) - kAuxOffset);
  std::memcpy(slot, &owner->free_aux_, sizeof(Slot*));
  owner->free_aux_ = reinterpret_cast<Slot*>(slot);
}

void ItemPool::DeleteType(TypeImpl* t) {
  std::destroy_at(t);
  ReleaseAuxSlot(reinterpret_cast<std::byte*>(t) - kAuxOffset);
}

void ItemPool::FreeText(char16_t* units) {
  ReleaseAuxSlot(reinterpret_cast<std::byte*>(units) - kAuxOffset);
}

void FreePooledText16(char16_t* units) { ItemPool::FreeText(units); }

void ItemPool::FreeSlots::operator()(Slot* p) const { std::free(p); }

void ItemPool::Grow() {
  size_t cap;
  size_t align = 64;
  if (count_ >= kHugeAfter) {
    cap = kHugeBlock / sizeof(Slot);
    align = kHugeBlock;
  } else {
    cap = blocks_.empty() ? 4 : std::min<size_t>(2 * block_cap_, 256);
  }
  // aligned_alloc wants a multiple of the alignment.
  const size_t bytes = (cap * sizeof(Slot) + align - 1) / align * align;
  void* p = std::aligned_alloc(align, bytes);
  if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advice only: without huge pages the block is used as it is.
  if (align == kHugeBlock) madvise(p, bytes, MADV_HUGEPAGE);
#endif
  Block block;
  block.slots.reset(static_cast<Slot*>(p));
  block.aux_bits = std::make_unique<uint64_t[]>((cap + 63) / 64);  // zeroed
  block.cap = cap;
  blocks_.push_back(std::move(block));
  block_cap_ = cap;
  block_used_ = 0;
}

void Content::FreePtr() {
  // Given back to its pool, or re-owned to be deleted as what it is.
  switch (own_) {
    case kOwnType | kOwnPooled:
      ItemPool::DeleteType(static_cast<TypeImpl*>(ptr_));
      break;
    case kOwnPooled:
      SlabPool<Extra>::Delete(static_cast<Extra*>(ptr_));
      break;
    case kOwnType:
      std::unique_ptr<TypeImpl>(static_cast<TypeImpl*>(ptr_)).reset();
      break;
    default:
      std::unique_ptr<Extra>(static_cast<Extra*>(ptr_)).reset();
      break;
  }
  ptr_ = nullptr;
  own_ = 0;
}

void Content::MakeExtra() {
  if (ptr_ != nullptr) FreePtr();
  ptr_ = std::make_unique<Extra>().release();
  own_ = 0;
}

uint64_t Content::Length() const {
  switch (ref) {
    case kRefDeleted:
      assert(false && "a deleted content's length is its item's");
      return 0;
    case kRefString:
      return str.size();
    case kRefAny:
    case kRefJson:
      return AnyCount();
    default:
      return 1;
  }
}

Content Content::Splice(uint64_t offset) {
  Content right;
  right.ref = ref;
  switch (ref) {
    case kRefDeleted:
      break;  // the items' lengths are the halves' lengths
    case kRefString: {
      // A decoded string's halves stay views of its update's text block.
      right.str = str.SplitOff(static_cast<size_t>(offset));
      // Splitting a surrogate pair replaces both halves with U+FFFD (§6).
      char16_t last = str.empty() ? 0 : str.back();
      if (last >= 0xD800 && last <= 0xDBFF) {
        str.back() = 0xFFFD;
        right.str[0] = 0xFFFD;
      }
      break;
    }
    case kRefAny:
    case kRefJson:
      right.anys().assign(
          std::make_move_iterator(anys().begin() +
                                  static_cast<std::ptrdiff_t>(offset)),
          std::make_move_iterator(anys().end()));
      anys().resize(offset);
      break;
    default:
      break;  // not splittable (length 1)
  }
  return right;
}

void Content::Append(Content&& r) {
  switch (ref) {
    case kRefDeleted:
      break;  // the merged item's length is the sum
    case kRefString:
      // Free when both are adjacent parts of one text block (a split
      // merged back, or consecutive strings of one update).
      str.AppendMove(std::move(r.str));
      break;
    case kRefAny:
    case kRefJson:
      anys().insert(anys().end(), std::make_move_iterator(r.anys().begin()),
                    std::make_move_iterator(r.anys().end()));
      break;
    default:
      break;
  }
}

void DeleteSet::SortAndMerge() {
  if (clients.empty()) return;  // skip the scan of a cleared table
  for (auto& [c, v] : clients) {
    // Ranges are mostly added in clock order (a remote delete set, a
    // cleanup's walk): check before sorting.
    auto by_clock = [](auto& a, auto& b) { return a.first < b.first; };
    if (!std::is_sorted(v.begin(), v.end(), by_clock)) {
      std::sort(v.begin(), v.end(), by_clock);
    }
    size_t j = 0;
    for (size_t i = 1; i < v.size(); ++i) {
      auto& l = v[j];
      auto& r = v[i];
      if (l.first + l.second >= r.first) {
        l.second = std::max(l.second, r.first + r.second - l.first);
      } else {
        v[++j] = r;
      }
    }
    if (!v.empty()) v.resize(j + 1);
  }
}

bool DeleteSet::Contains(Id id) const {
  auto it = clients.find(id.client);
  if (it == clients.end()) return false;
  const auto& v = it->second;
  size_t lo = 0, hi = v.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (v[mid].first <= id.clock) {
      if (id.clock < v[mid].first + v[mid].second) return true;
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return false;
}

absl::InlinedVector<uint64_t, 4> DeleteSet::SortedClientsDesc() const {
  // Inline: written with every update, which rarely has many clients.
  absl::InlinedVector<uint64_t, 4> cs;
  if (clients.empty()) return cs;
  for (auto& [c, v] : clients) {
    if (!v.empty()) cs.push_back(c);
  }
  std::sort(cs.begin(), cs.end(), std::greater<>());
  return cs;
}

}  // namespace auxsync::crdt::engine
