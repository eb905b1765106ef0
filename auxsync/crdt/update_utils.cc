// Copyright 2025 The auxsync Authors.
//
// The lazy struct reader/writer algorithms of yjs utils/updates.js, step for
// step, so that the output bytes are identical.

#include "auxsync/crdt/update_utils.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "auxsync/crdt/delete_set.h"
#include "auxsync/crdt/internal/struct_reader.h"
#include "auxsync/crdt/internal/update_decoder.h"
#include "auxsync/crdt/internal/update_encoder.h"
#include "auxsync/crdt/state_vector.h"
#include "auxsync/crdt/wire_struct.h"

namespace auxsync::crdt {

namespace {

using internal::StringArena;
using internal::StructBudget;
using internal::StructReader;

// LazyStructWriter: sections in the order written, each buffered until the
// client changes, then "numSections, (numStructs, bytes)*" at the end.
template <typename Enc>
class LazyWriter {
 public:
  explicit LazyWriter(Enc& enc) : enc_(enc) {}

  absl::Status Write(const WireStruct& s, uint64_t offset) {
    if (written_ > 0 && client_ != s.id.client) Flush();
    if (written_ == 0) {
      client_ = s.id.client;
      enc_.WriteClient(s.id.client);
      enc_.rest().WriteVarUint(s.id.clock + offset);
    }
    ++written_;
    return WriteStruct(enc_, s, offset);
  }

  // Leaves the encoder's rest stream holding the struct part; the caller
  // appends the delete set.
  void Finish() {
    Flush();
    auto& rest = enc_.rest();
    rest.WriteVarUint(sections_.size());
    for (auto& [n, bytes] : sections_) {
      rest.WriteVarUint(n);
      rest.WriteRaw(bytes);
    }
  }

 private:
  void Flush() {
    if (written_ == 0) return;
    sections_.emplace_back(written_, enc_.rest().Take());
    written_ = 0;
  }

  Enc& enc_;
  uint64_t client_ = 0;
  uint64_t written_ = 0;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> sections_;
};

// The comparator of mergeUpdatesV2's reader sort. It is not a strict weak
// order (a GC and an Item at the same ID each compare "less" than the
// other), so the result depends on the sort algorithm; see SortLikeV8.
int CompareStructs(const WireStruct& a, const WireStruct& b) {
  if (a.id.client == b.id.client) {
    if (a.id.clock == b.id.clock) {
      if (a.kind == b.kind) return 0;
      return a.kind == StructKind::kSkip ? 1 : -1;
    }
    return a.id.clock < b.id.clock ? -1 : 1;
  }
  return b.id.client < a.id.client ? -1 : 1;
}

// Arrays this short are sorted by V8's TimSort as one binary-insertion run.
constexpr size_t kV8ShortSort = 64;

// CompareStructs with the GC/Item tie resolved as "equal".
template <typename R>
int CompareConsistent(const R* a, const R* b) {
  const WireStruct& x = *a->curr();
  const WireStruct& y = *b->curr();
  if (x.id.client != y.id.client) return y.id.client < x.id.client ? -1 : 1;
  if (x.id.clock != y.id.clock) return x.id.clock < y.id.clock ? -1 : 1;
  return 0;
}

// Array.prototype.sort as V8's TimSort runs it on arrays shorter than 64
// (one run found by CountAndMakeRun, extended by binary insertion), which
// matters for the comparator above. Longer arrays use a stable sort, which
// agrees with V8 whenever the comparator is consistent.
template <typename Container, typename Cmp>
void SortLikeV8(Container& v, Cmp cmp) {
  using T = typename Container::value_type;
  const size_t n = v.size();
  if (n < 2) return;
  if (n >= kV8ShortSort) {
    // Ties of the inconsistent comparator count as equal here, so the
    // order is a strict weak one.
    std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) {
      return CompareConsistent(a, b) < 0;
    });
    return;
  }
  // CountAndMakeRun(0, n).
  size_t run = 2;
  const bool descending = cmp(v[1], v[0]) < 0;
  for (size_t i = 2; i < n; ++i) {
    const int order = cmp(v[i], v[i - 1]);
    if (descending ? order >= 0 : order < 0) break;
    ++run;
  }
  if (descending)
    std::reverse(v.begin(), v.begin() + static_cast<ptrdiff_t>(run));
  // BinaryInsertionSort(0, run, n).
  for (size_t start = run; start < n; ++start) {
    size_t left = 0;
    size_t right = start;
    T pivot = v[start];
    while (left < right) {
      const size_t mid = left + ((right - left) >> 1);
      if (cmp(pivot, v[mid]) < 0) {
        right = mid;
      } else {
        left = mid + 1;
      }
    }
    for (size_t p = start; p > left; --p) v[p] = v[p - 1];
    v[left] = pivot;
  }
}

bool Merge(WireStruct& left, const WireStruct& right) {
  // GC+GC and Skip+Skip merge; Items never do here (their run-time `right`
  // link is unset).
  if (left.kind != right.kind || left.kind == StructKind::kItem) return false;
  left.length += right.length;
  return true;
}

std::string Label(size_t i, size_t n) {
  return absl::StrCat("update ", i + 1, " of ", n);
}

template <typename Dec, typename Enc>
absl::StatusOr<Bytes> MergeImpl(std::span<const BytesView> updates,
                                const ReadOptions& options) {
  if (updates.size() == 1) return Bytes(updates[0].begin(), updates[0].end());
  const size_t n = updates.size();
  StringArena arena;
  std::vector<std::string> labels;
  labels.reserve(n);
  std::vector<std::unique_ptr<Dec>> decoders;
  std::vector<std::unique_ptr<StructReader<Dec>>> readers;
  decoders.reserve(n);
  readers.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    labels.push_back(Label(i, n));
    decoders.push_back(
        std::make_unique<Dec>(updates[i], labels.back(), &arena));
    readers.push_back(std::make_unique<StructReader<Dec>>(
        *decoders.back(), true, &arena,
        StructBudget::For(updates[i].size(), options.max_structs_per_byte)));
  }
  auto first_error = [&]() -> absl::Status {
    for (auto& d : decoders) {
      if (!d->ok()) return d->status();
    }
    return absl::OkStatus();
  };

  Enc enc;
  LazyWriter<Enc> writer(enc);
  std::optional<WireStruct> cw;  // currWrite (its offset is always 0 here)
  using Reader = StructReader<Dec>;
  auto cmp = [](Reader* a, Reader* b) {
    return CompareStructs(*a->curr(), *b->curr());
  };
  std::deque<Reader*> active;
  for (auto& r : readers) {
    if (r->curr() != nullptr) active.push_back(r.get());
  }
  if (absl::Status st = first_error(); !st.ok()) return st;
  SortLikeV8(active, cmp);

  bool first = true;
  while (true) {
    if (!first && !active.empty()) {
      // yjs filters and re-sorts every reader each round; only the first
      // one can have moved since, so re-place just that one.
      Reader* moved = active.front();
      active.pop_front();
      if (!moved->ok()) return moved->status();
      if (moved->curr() == nullptr) {
        // Re-sorting a sorted array is not a no-op for the inconsistent
        // comparator: V8 reverses a leading GC/Item tie.
        if (active.size() < kV8ShortSort) SortLikeV8(active, cmp);
      } else {
        if (active.size() + 1 < kV8ShortSort) {
          active.push_front(moved);
          SortLikeV8(active, cmp);
        } else {
          // A stable sort puts it before the readers that compare equal.
          auto pos = std::lower_bound(
              active.begin(), active.end(), moved,
              [](Reader* a, Reader* b) { return CompareConsistent(a, b) < 0; });
          active.insert(pos, moved);
        }
      }
    }
    first = false;
    if (active.empty()) break;
    StructReader<Dec>& rd = *active[0];
    const uint64_t first_client = rd.curr()->id.client;
    if (cw) {
      WireStruct* curr = rd.curr();
      bool iterated = false;
      // Pass over what has been written already (higher clients first).
      while (curr != nullptr && curr->end() <= cw->end() &&
             curr->id.client >= cw->id.client) {
        curr = rd.Next();
        iterated = true;
      }
      if (!rd.ok()) continue;  // reported at the top of the loop
      if (curr == nullptr || curr->id.client != first_client ||
          (iterated && curr->id.clock > cw->end())) {
        continue;
      }
      if (first_client != cw->id.client) {
        if (absl::Status st = writer.Write(*cw, 0); !st.ok()) return st;
        cw = *curr;
        rd.Next();
      } else if (cw->end() < curr->id.clock) {
        if (cw->kind == StructKind::kSkip) {
          // Extend the existing skip (over `curr` too, as yjs does).
          cw->length = curr->end() - cw->id.clock;
        } else {
          if (absl::Status st = writer.Write(*cw, 0); !st.ok()) return st;
          WireStruct skip;
          skip.kind = StructKind::kSkip;
          skip.id = ID{first_client, cw->end()};
          skip.length = curr->id.clock - cw->end();
          cw = std::move(skip);
        }
      } else {
        const uint64_t diff = cw->end() - curr->id.clock;
        WireStruct next = *curr;
        if (diff > 0) {
          if (cw->kind == StructKind::kSkip) {
            if (diff > cw->length) {
              return absl::InvalidArgumentError(
                  "mergeUpdates: inconsistent updates (a skip would get a "
                  "negative length)");
            }
            cw->length -= diff;
          } else {
            next = SliceStruct(*curr, diff, &arena);
          }
        }
        if (!Merge(*cw, next)) {
          if (absl::Status st = writer.Write(*cw, 0); !st.ok()) return st;
          cw = std::move(next);
          rd.Next();
        }
      }
    } else {
      cw = *rd.curr();
      rd.Next();
    }
    for (WireStruct* next = rd.curr();
         next != nullptr && next->id.client == first_client &&
         next->id.clock == cw->end() && next->kind != StructKind::kSkip;
         next = rd.Next()) {
      if (absl::Status st = writer.Write(*cw, 0); !st.ok()) return st;
      cw = *next;
    }
  }
  if (cw) {
    if (absl::Status st = writer.Write(*cw, 0); !st.ok()) return st;
  }
  writer.Finish();
  std::vector<DeleteSet> dss;
  dss.reserve(n);
  for (auto& d : decoders) {
    dss.push_back(DeleteSet::Read(*d));
    if (!d->ok()) return d->status();
  }
  MergeDeleteSets(dss).Write(enc);
  if (!enc.status().ok()) return enc.status();
  return enc.ToBytes();
}

template <typename Dec, typename Enc>
absl::StatusOr<Bytes> DiffImpl(BytesView update, BytesView sv_bytes,
                               const ReadOptions& options) {
  absl::StatusOr<StateVector> sv = StateVector::Decode(sv_bytes);
  if (!sv.ok()) return sv.status();
  StringArena arena;
  Dec dec(update, options.label, &arena);
  StructReader<Dec> reader(
      dec, false, &arena,
      StructBudget::For(update.size(), options.max_structs_per_byte));
  Enc enc;
  LazyWriter<Enc> writer(enc);
  while (WireStruct* curr = reader.curr()) {
    const uint64_t client = curr->id.client;
    const uint64_t sv_clock = sv->Get(client);
    if (curr->kind == StructKind::kSkip) {
      reader.Next();  // the first written struct must not be a skip
      continue;
    }
    if (curr->end() > sv_clock) {
      const uint64_t offset =
          sv_clock > curr->id.clock ? sv_clock - curr->id.clock : 0;
      if (absl::Status st = writer.Write(*curr, offset); !st.ok()) return st;
      for (WireStruct* s = reader.Next();
           s != nullptr && s->id.client == client; s = reader.Next()) {
        if (absl::Status st = writer.Write(*s, 0); !st.ok()) return st;
      }
    } else {
      for (WireStruct* s = reader.curr();
           s != nullptr && s->id.client == client && s->end() <= sv_clock;
           s = reader.Next()) {
      }
    }
  }
  if (!dec.ok()) return dec.status();
  writer.Finish();
  DeleteSet ds = DeleteSet::Read(dec);
  if (!dec.ok()) return dec.status();
  ds.Write(enc);
  if (!enc.status().ok()) return enc.status();
  return enc.ToBytes();
}

template <typename Dec>
absl::StatusOr<Bytes> StateVectorFromUpdateImpl(BytesView update,
                                                const ReadOptions& options) {
  StringArena arena;
  Dec dec(update, options.label, &arena);
  StructReader<Dec> reader(
      dec, false, &arena,
      StructBudget::For(update.size(), options.max_structs_per_byte));
  internal::Lib0Encoder pairs;
  uint64_t size = 0;
  WireStruct* curr = reader.curr();
  if (curr != nullptr) {
    uint64_t curr_client = curr->id.client;
    bool stop_counting = curr->id.clock != 0;  // must start at 0
    uint64_t curr_clock = stop_counting ? 0 : curr->end();
    for (; curr != nullptr; curr = reader.Next()) {
      if (curr_client != curr->id.client) {
        if (curr_clock != 0) {
          ++size;
          pairs.WriteVarUint(curr_client);
          pairs.WriteVarUint(curr_clock);
        }
        curr_client = curr->id.client;
        curr_clock = 0;
        stop_counting = curr->id.clock != 0;
      }
      if (curr->kind == StructKind::kSkip) stop_counting = true;
      if (!stop_counting) curr_clock = curr->end();
    }
    if (curr_clock != 0) {
      ++size;
      pairs.WriteVarUint(curr_client);
      pairs.WriteVarUint(curr_clock);
    }
  }
  if (!dec.ok()) return dec.status();
  internal::Lib0Encoder out;
  out.WriteVarUint(size);
  out.WriteRaw(pairs.view());
  return out.Take();
}

template <typename Dec>
absl::StatusOr<UpdateMeta> MetaImpl(BytesView update,
                                    const ReadOptions& options) {
  StringArena arena;
  Dec dec(update, options.label, &arena);
  StructReader<Dec> reader(
      dec, false, &arena,
      StructBudget::For(update.size(), options.max_structs_per_byte));
  UpdateMeta meta;
  WireStruct* curr = reader.curr();
  if (curr != nullptr) {
    uint64_t curr_client = curr->id.client;
    uint64_t curr_clock = curr->id.clock;
    meta.from[curr_client] = curr_clock;
    for (; curr != nullptr; curr = reader.Next()) {
      if (curr_client != curr->id.client) {
        meta.to[curr_client] = curr_clock;
        meta.from[curr->id.client] = curr->id.clock;
        curr_client = curr->id.client;
      }
      curr_clock = curr->end();
    }
    meta.to[curr_client] = curr_clock;
  }
  if (!dec.ok()) return dec.status();
  return meta;
}

template <typename Dec, typename Enc>
absl::StatusOr<Bytes> ConvertImpl(BytesView update,
                                  const ReadOptions& options) {
  StringArena arena;
  Dec dec(update, options.label, &arena);
  StructReader<Dec> reader(
      dec, false, &arena,
      StructBudget::For(update.size(), options.max_structs_per_byte));
  Enc enc;
  LazyWriter<Enc> writer(enc);
  for (WireStruct* curr = reader.curr(); curr != nullptr;
       curr = reader.Next()) {
    if (absl::Status st = writer.Write(*curr, 0); !st.ok()) return st;
  }
  if (!dec.ok()) return dec.status();
  writer.Finish();
  DeleteSet ds = DeleteSet::Read(dec);
  if (!dec.ok()) return dec.status();
  ds.Write(enc);
  if (!enc.status().ok()) return enc.status();
  return enc.ToBytes();
}

using internal::UpdateDecoderV1;
using internal::UpdateDecoderV2;
using internal::UpdateEncoderV1;
using internal::UpdateEncoderV2;

}  // namespace

absl::StatusOr<Bytes> MergeUpdates(std::span<const BytesView> updates,
                                   const ReadOptions& options) {
  return MergeImpl<UpdateDecoderV1, UpdateEncoderV1>(updates, options);
}
absl::StatusOr<Bytes> MergeUpdatesV2(std::span<const BytesView> updates,
                                     const ReadOptions& options) {
  return MergeImpl<UpdateDecoderV2, UpdateEncoderV2>(updates, options);
}
absl::StatusOr<Bytes> DiffUpdate(BytesView update, BytesView sv,
                                 const ReadOptions& options) {
  return DiffImpl<UpdateDecoderV1, UpdateEncoderV1>(update, sv, options);
}
absl::StatusOr<Bytes> DiffUpdateV2(BytesView update, BytesView sv,
                                   const ReadOptions& options) {
  return DiffImpl<UpdateDecoderV2, UpdateEncoderV2>(update, sv, options);
}
absl::StatusOr<Bytes> EncodeStateVectorFromUpdate(BytesView update,
                                                  const ReadOptions& options) {
  return StateVectorFromUpdateImpl<UpdateDecoderV1>(update, options);
}
absl::StatusOr<Bytes> EncodeStateVectorFromUpdateV2(
    BytesView update, const ReadOptions& options) {
  return StateVectorFromUpdateImpl<UpdateDecoderV2>(update, options);
}
absl::StatusOr<Bytes> ConvertUpdateFormatV1ToV2(BytesView update,
                                                const ReadOptions& options) {
  return ConvertImpl<UpdateDecoderV1, UpdateEncoderV2>(update, options);
}
absl::StatusOr<Bytes> ConvertUpdateFormatV2ToV1(BytesView update,
                                                const ReadOptions& options) {
  return ConvertImpl<UpdateDecoderV2, UpdateEncoderV1>(update, options);
}
absl::StatusOr<UpdateMeta> ParseUpdateMeta(BytesView update,
                                           const ReadOptions& options) {
  return MetaImpl<UpdateDecoderV1>(update, options);
}
absl::StatusOr<UpdateMeta> ParseUpdateMetaV2(BytesView update,
                                             const ReadOptions& options) {
  return MetaImpl<UpdateDecoderV2>(update, options);
}

}  // namespace auxsync::crdt
