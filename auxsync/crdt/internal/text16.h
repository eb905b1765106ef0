// The UTF-16 text of a string item (Text16), and the blocks that the
// strings of one decoded update share (TextBlock). Private to the engine.
//
// A decoded document holds thousands of strings: one heap allocation each
// cost more than converting their text. Instead the decoder writes every
// string longer than Text16's inline room into one TextBlock per update and
// gives each item a view of its part. A split makes two views, and merging
// two adjacent views of one block is free. A block is freed when its last
// view goes, so text that is deleted and collected gives its memory back
// once the rest of its update's text does.
#ifndef AUXSYNC_CRDT_INTERNAL_TEXT16_H_
#define AUXSYNC_CRDT_INTERNAL_TEXT16_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace auxsync::crdt::engine {

// Units of slack after the end of every buffer a Text16's units live in
// (a TextBlock's, a heap text's; an inline text lies within its item): a
// reader may load 16 units from any unit of a text (32 bytes) without
// reading past the allocation, e.g. the encoder's one-step short strings.
inline constexpr size_t kText16ReadSlack = 16;

// Frees the buffer of a pooled text (Text16::Pooled): defined by the pool
// that made it (item.cc).
void FreePooledText16(char16_t* units);

// UTF-16 text shared by the strings of one decoded update, counted by the
// views into it. Not thread-safe (a Doc is used from one thread). The
// buffer may move while the decoder grows it: views hold offsets, not
// pointers.
class TextBlock {
 public:
  // A new block with room for `capacity` units and one reference (the
  // maker's).
  static TextBlock* New(size_t capacity);
  TextBlock(const TextBlock&) = delete;
  TextBlock& operator=(const TextBlock&) = delete;

  void Ref() { ++refs_; }
  void Unref() {
    if (--refs_ == 0) Delete();
  }
  char16_t* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  // Room for `n` more units at the end (grows the buffer if needed):
  // returns where they go; their offset is size() before the call.
  char16_t* Extend(size_t n) {
    if (cap_ - size_ < n) Grow(n);
    char16_t* p = data_ + size_;
    size_ += n;
    return p;
  }
  // Gives back the unused end of the buffer (the decoder reserves a bound).
  void ShrinkToFit();
  // Drops the units from `size` on (size <= size()): an Extend undone.
  void Truncate(size_t size) {
    assert(size <= size_);
    size_ = size;
  }

 private:
  friend struct std::default_delete<TextBlock>;
  TextBlock() = default;
  ~TextBlock();
  void Delete();
  void Grow(size_t n);

  char16_t* data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
  size_t refs_ = 1;
};

// A string item's text: up to kInline units inline, else on the heap
// (owned) or a view of a TextBlock (holding a reference). The value
// semantics of a std::u16string: each Text16 owns its units, including a
// view's range of its block (no two views overlap), so writing through
// operator[] / front() / back() changes this text only. Move-only.
class Text16 {
 public:
  static constexpr size_t kInline = 8;

  Text16() = default;
  Text16(Text16&& o) noexcept : u_(o.u_), bits_(o.bits_) { o.bits_ = 0; }
  Text16& operator=(Text16&& o) noexcept {
    if (this != &o) {
      Release();
      u_ = o.u_;
      bits_ = o.bits_;
      o.bits_ = 0;
    }
    return *this;
  }
  Text16(const Text16&) = delete;
  Text16& operator=(const Text16&) = delete;
  ~Text16() { Release(); }

  // A view of units [offset, offset + n) of `block` (n > 0); takes a
  // reference to the block.
  static Text16 View(TextBlock* block, size_t offset, size_t n) {
    Text16 t;
    block->Ref();
    t.u_.view = {block, offset};
    t.bits_ = n | kView;
    return t;
  }
  // The `n` units at `units`, in a buffer of `cap` units (plus the read
  // slack) that FreePooledText16 frees; n > kInline. Behaves as a heap
  // text otherwise (and stays in its buffer while the text fits).
  static Text16 Pooled(char16_t* units, size_t n, size_t cap) {
    Text16 t;
    t.u_.heap = {units, cap | kPooledCap};
    t.bits_ = n | kHeap;
    return t;
  }
  // Sets this to `n` units to be written at the returned pointer (inline
  // when they fit, else a heap buffer of exactly n).
  char16_t* Overwrite(size_t n);
  // The same for n <= kInline.
  char16_t* OverwriteInline(size_t n) {
    assert(n <= kInline);
    Release();
    bits_ = n;
    return u_.buf;
  }

  size_t size() const { return bits_ & kSizeMask; }
  bool empty() const { return size() == 0; }
  const char16_t* data() const {
    switch (kind()) {
      case kInlineKind:
        return u_.buf;
      case kHeap:
        return u_.heap.p;
      default:
        return u_.view.block->data() + u_.view.offset;
    }
  }
  char16_t* data() {
    return const_cast<char16_t*>(static_cast<const Text16*>(this)->data());
  }
  const char16_t* begin() const { return data(); }
  const char16_t* end() const { return data() + size(); }
  char16_t operator[](size_t i) const { return data()[i]; }
  char16_t& operator[](size_t i) { return data()[i]; }
  char16_t front() const { return data()[0]; }
  char16_t& front() { return data()[0]; }
  char16_t back() const { return data()[size() - 1]; }
  char16_t& back() { return data()[size() - 1]; }
  std::u16string_view view() const { return {data(), size()}; }
  operator std::u16string_view() const { return view(); }  // NOLINT
  bool operator==(std::u16string_view s) const { return view() == s; }

  void assign(std::u16string_view s) {
    if (!s.empty()) {
      std::memcpy(Overwrite(s.size()), s.data(), s.size() * sizeof(char16_t));
    } else {
      Release();
    }
  }
  void assign(size_t n, char16_t c) {
    char16_t* p = Overwrite(n);
    for (size_t i = 0; i < n; ++i) p[i] = c;
  }
  Text16& operator=(std::u16string_view s) {
    assign(s);
    return *this;
  }
  // Appends `s` (which must not point into this text), growing a heap
  // buffer geometrically as std::u16string does.
  void append(std::u16string_view s);
  Text16& operator+=(std::u16string_view s) {
    append(s);
    return *this;
  }
  // Keeps units [0, n) and returns [n, size()) (n < size()): a view splits
  // into two views of its block; other text copies its tail.
  Text16 SplitOff(size_t n);
  // Appends `right` and empties it: adjacent views of one block just join.
  void AppendMove(Text16&& right);
  // Back to empty inline text, freeing a heap buffer or dropping the view.
  void Release() {
    switch (kind()) {
      case kInlineKind:
        break;
      case kHeap:
        FreeHeap();
        break;
      default:
        u_.view.block->Unref();
        break;
    }
    bits_ = 0;
  }
  void swap(Text16& o) noexcept {
    std::swap(u_, o.u_);
    std::swap(bits_, o.bits_);
  }
  bool is_view() const { return kind() == kView; }
  // Whether this is a view of `b` that ends at b's last unit (units added
  // to `b` next would follow it).
  bool EndsBlock(const TextBlock* b) const {
    return kind() == kView && u_.view.block == b &&
           u_.view.offset + size() == b->size();
  }
  // Takes in the `n` units just added to the end of the block this view
  // ends (EndsBlock before the block's Extend).
  void ExtendView(size_t n) {
    assert(kind() == kView);
    bits_ += n;
  }

 private:
  // The kind lives in the top two bits of bits_, the size in the rest.
  static constexpr uint64_t kInlineKind = 0;
  static constexpr uint64_t kHeap = uint64_t{1} << 62;
  static constexpr uint64_t kView = uint64_t{2} << 62;
  static constexpr uint64_t kKindMask = uint64_t{3} << 62;
  static constexpr uint64_t kSizeMask = ~kKindMask;

  // Set in a heap text's cap: its buffer is pooled (see Pooled).
  static constexpr size_t kPooledCap = size_t{1} << 63;

  uint64_t kind() const { return bits_ & kKindMask; }
  // The capacity of a heap text's buffer.
  size_t HeapCap() const { return u_.heap.cap & ~kPooledCap; }
  void FreeHeap();
  // Makes this a heap buffer of `cap` units holding the current text.
  void ToHeap(size_t cap);

  union U {
    char16_t buf[kInline];
    struct {
      char16_t* p;
      size_t cap;
    } heap;
    struct {
      TextBlock* block;
      size_t offset;
    } view;
  } u_ = {};
  uint64_t bits_ = 0;
};

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_TEXT16_H_
