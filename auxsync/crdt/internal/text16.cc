#include "auxsync/crdt/internal/text16.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

namespace auxsync::crdt::engine {

// The buffer is malloc'ed so that ShrinkToFit can realloc it: shrinking
// keeps the memory in place (or remaps pages) instead of copying the text.
// Every buffer has kText16ReadSlack units more than its capacity.
TextBlock* TextBlock::New(size_t capacity) {
  auto b = std::unique_ptr<TextBlock>(new TextBlock());
  if (capacity > 0) {
    b->data_ = static_cast<char16_t*>(
        std::malloc((capacity + kText16ReadSlack) * sizeof(char16_t)));
    if (b->data_ == nullptr) throw std::bad_alloc();
    b->cap_ = capacity;
  }
  return b.release();
}

TextBlock::~TextBlock() { std::free(data_); }

void TextBlock::Delete() { std::unique_ptr<TextBlock>(this).reset(); }

void TextBlock::Grow(size_t n) {
  const size_t cap = std::max(size_ + n, 2 * cap_);
  auto* p = static_cast<char16_t*>(
      std::realloc(data_, (cap + kText16ReadSlack) * sizeof(char16_t)));
  if (p == nullptr) throw std::bad_alloc();
  data_ = p;
  cap_ = cap;
}

void TextBlock::ShrinkToFit() {
  if (size_ == cap_ || size_ == 0) return;
  auto* p = static_cast<char16_t*>(
      std::realloc(data_, (size_ + kText16ReadSlack) * sizeof(char16_t)));
  if (p == nullptr) return;  // keeps the larger buffer
  data_ = p;
  cap_ = size_;
}

void Text16::FreeHeap() {
  if (u_.heap.cap & kPooledCap) {
    FreePooledText16(u_.heap.p);
  } else {
    std::free(u_.heap.p);
  }
}

char16_t* Text16::Overwrite(size_t n) {
  if (n <= kInline) {
    Release();
    bits_ = n;
    return u_.buf;
  }
  if (kind() == kHeap && HeapCap() >= n) {
    bits_ = n | kHeap;
    return u_.heap.p;
  }
  Release();
  auto* p = static_cast<char16_t*>(
      std::malloc((n + kText16ReadSlack) * sizeof(char16_t)));
  if (p == nullptr) throw std::bad_alloc();
  u_.heap = {p, n};
  bits_ = n | kHeap;
  return p;
}

void Text16::ToHeap(size_t cap) {
  const size_t n = size();
  auto* p = static_cast<char16_t*>(
      std::malloc((cap + kText16ReadSlack) * sizeof(char16_t)));
  if (p == nullptr) throw std::bad_alloc();
  if (n > 0) std::memcpy(p, data(), n * sizeof(char16_t));
  Release();
  u_.heap = {p, cap};
  bits_ = n | kHeap;
}

void Text16::append(std::u16string_view s) {
  if (s.empty()) return;
  const size_t n = size();
  const size_t need = n + s.size();
  if (kind() == kInlineKind && need <= kInline) {
    std::memcpy(u_.buf + n, s.data(), s.size() * sizeof(char16_t));
    bits_ = need;
    return;
  }
  if (kind() != kHeap || HeapCap() < need) {
    const size_t old_cap = kind() == kHeap   ? HeapCap()
                           : kind() == kView ? n
                                             : kInline;
    ToHeap(std::max(need, 2 * old_cap));
  }
  std::memcpy(u_.heap.p + n, s.data(), s.size() * sizeof(char16_t));
  bits_ = need | kHeap;
}

Text16 Text16::SplitOff(size_t n) {
  const size_t total = size();
  assert(n < total);
  Text16 right;
  if (kind() == kView) {
    if (n == 0) {
      // The whole view moves to the right part.
      right.u_ = u_;
      right.bits_ = bits_;
      bits_ = 0;
      return right;
    }
    right = View(u_.view.block, u_.view.offset + n, total - n);
    bits_ = n | kView;
    return right;
  }
  right.assign(std::u16string_view(data() + n, total - n));
  // Keeps a heap buffer, as std::u16string::resize does.
  bits_ = n | kind();
  return right;
}

void Text16::AppendMove(Text16&& right) {
  if (right.empty()) return;
  if (empty()) {
    *this = std::move(right);
    return;
  }
  if (kind() == kView && right.kind() == kView &&
      u_.view.block == right.u_.view.block &&
      u_.view.offset + size() == right.u_.view.offset) {
    bits_ = (size() + right.size()) | kView;
    right.Release();
    return;
  }
  append(right.view());
  right.Release();
}

}  // namespace auxsync::crdt::engine
