// The clock ranges of a run of deleted structs, gathered without a branch
// per struct. Private to the engine.
#ifndef AUXSYNC_CRDT_INTERNAL_DELETED_RANGES_H_
#define AUXSYNC_CRDT_INTERNAL_DELETED_RANGES_H_

#include <cstddef>
#include <cstdint>
#include <utility>

namespace auxsync::crdt::engine {

// Gathers the ranges of the deleted structs among one client's structs,
// which are noted in clock order without gaps: consecutive deleted structs
// make one range. Whether a document's next struct is deleted is a coin
// toss to the branch predictor, so a note takes no branch on it. The
// ranges go to `hand(clock, length)` in clock order: in batches as they
// fill the buffer, and all that are left at Flush.
template <typename Hand>
class DeletedRanges {
 public:
  explicit DeletedRanges(Hand hand) : hand_(std::move(hand)) {}
  DeletedRanges(const DeletedRanges&) = delete;
  DeletedRanges& operator=(const DeletedRanges&) = delete;

  // Notes the next struct, [clock, clock + length).
  [[gnu::always_inline]] void Note(bool deleted, uint64_t clock,
                                   uint64_t length) {
    const uint64_t del = deleted;
    // A range ends before a struct that is not deleted (the slot is
    // written either way; only an ended range is kept) and starts at a
    // deleted struct after one that is not.
    ranges_[n_] = {start_, clock - start_};
    n_ += ~del & open_;
    start_ ^= (start_ ^ clock) & (uint64_t{0} - (del & ~open_));
    open_ = del;
    end_ = clock + length;
    if (n_ == kBatch) [[unlikely]] {
      HandEnded();
    }
  }
  // Hands every range noted, the open one too; the next note starts anew
  // (it may follow a gap).
  void Flush() {
    HandEnded();
    if (open_ != 0) hand_(start_, end_ - start_);
    open_ = 0;
  }

 private:
  void HandEnded() {
    for (size_t k = 0; k < n_; ++k) hand_(ranges_[k].clock, ranges_[k].length);
    n_ = 0;
  }

  static constexpr size_t kBatch = 64;
  // Left uninitialised (not std::pair, which would zero the buffer for
  // every run: a document of many clients has a run per client).
  struct Range {
    uint64_t clock;
    uint64_t length;
  };
  Hand hand_;
  Range ranges_[kBatch];
  size_t n_ = 0;
  uint64_t open_ = 0;  // 1 while the last struct noted is deleted
  uint64_t start_ = 0;
  uint64_t end_ = 0;
};

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_DELETED_RANGES_H_
