#include "auxsync/crdt/internal/local_update.h"

#include <algorithm>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "auxsync/crdt/internal/utf8.h"

namespace auxsync::crdt::engine {
namespace {

// Appends lib0 values to `buf` through a raw cursor: room is made in
// steps (Ensure), so the per-byte work is a store and an increment.
class Out {
 public:
  explicit Out(std::vector<uint8_t>* buf) : buf_(*buf) {
    if (buf_.size() < 64) buf_.resize(64);
    p_ = buf_.data();
    end_ = p_ + buf_.size();
  }
  // Room for k more bytes.
  void Ensure(size_t k) {
    if (static_cast<size_t>(end_ - p_) >= k) return;
    size_t n = size();
    buf_.resize(std::max(2 * buf_.size(), n + k));
    p_ = buf_.data() + n;
    end_ = buf_.data() + buf_.size();
  }
  void U8(uint8_t b) {
    Ensure(1);
    *p_++ = b;
  }
  void VarUint(uint64_t v) {
    Ensure(10);
    VarUintInRoom(v);
  }
  // As U8 / VarUint after an Ensure that made room for them.
  void U8InRoom(uint8_t b) { *p_++ = b; }
  void VarUintInRoom(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<uint8_t>(0x80 | (v & 0x7f));
      v >>= 7;
    }
    *p_++ = static_cast<uint8_t>(v);
  }
  void VarString(std::string_view s) {
    VarUint(s.size());
    Ensure(s.size());
    p_ = std::copy(s.begin(), s.end(), p_);
  }
  // UTF-16 as UTF-8 with its byte length, as TextEncoder writes it (a lone
  // surrogate becomes U+FFFD).
  void VarString16(std::u16string_view s) {
    size_t len = internal::Utf8LengthOfUtf16(s);
    VarUint(len);
    Ensure(len);
    p_ = internal::WriteUtf16AsUtf8Short(s, p_);
  }
  size_t size() const { return static_cast<size_t>(p_ - buf_.data()); }

 private:
  std::vector<uint8_t>& buf_;
  uint8_t* p_;    // next byte
  uint8_t* end_;  // end of the room
};

bool Handled(const Item& it) {
  if (it.gc) return true;
  switch (it.content.ref) {
    case kRefString:
    case kRefDeleted:
    case kRefType:
      return true;
    default:
      return false;
  }
}

// Item (or GC struct) from unit `offset`, as WriteItem does with a v1
// writer.
void PutItem(Out& o, const Item& it, uint64_t offset) {
  if (it.gc) {
    o.U8(0);
    o.VarUint(it.length - offset);
    return;
  }
  OptId origin = offset > 0
                     ? OptId{{it.id.client, it.id.clock + offset - 1}, true}
                     : it.Origin();
  // Room for the info byte and both origins (four varints of at most 10
  // bytes each) at once.
  o.Ensure(1 + 4 * 10);
  o.U8InRoom(static_cast<uint8_t>(
      (it.content.ref & 0x1f) | (origin.has ? 0x80 : 0) |
      (it.has_right_origin ? 0x40 : 0) | (it.has_parent_sub ? 0x20 : 0)));
  if (origin.has) {
    o.VarUintInRoom(origin.id.client);
    o.VarUintInRoom(origin.id.clock);
  }
  if (it.has_right_origin) {
    o.VarUintInRoom(it.right_origin.client);
    o.VarUintInRoom(it.right_origin.clock);
  }
  if (!origin.has && !it.has_right_origin) {
    const TypeImpl* p = it.parent;
    if (p->item == nullptr) {
      o.VarUint(1);
      o.VarString(p->root_name());
    } else {
      o.VarUint(0);
      o.VarUint(p->item->id.client);
      o.VarUint(p->item->id.clock);
    }
    if (it.has_parent_sub) o.VarString(it.parent_sub.get());
  }
  const Content& c = it.content;
  switch (c.ref) {
    case kRefDeleted:
      o.VarUint(it.length - offset);
      return;
    case kRefString:
      o.VarString16(std::u16string_view(c.str).substr(offset));
      return;
    case kRefType:
      o.VarUint(static_cast<uint64_t>(c.type()->kind));
      if (c.type()->kind == TypeKind::kXmlElement ||
          c.type()->kind == TypeKind::kXmlHook) {
        o.VarString(c.type()->node_name());
      }
      return;
    default:
      return;  // excluded by Handled
  }
}

}  // namespace

size_t WriteTransactionUpdateV1(const StructStore& store,
                                absl::FunctionRef<uint64_t(uint64_t)> before,
                                const DeleteSet& ds,
                                std::vector<uint8_t>* buf) {
  // The clients with structs after `before` and where their writing starts
  // (client, clock, list, index), descending by client as yjs writes them.
  struct Span {
    uint64_t client;
    uint64_t clock;
    const StructList* list;
    size_t start;
  };
  absl::InlinedVector<Span, 4> spans;
  for (const auto& [c, v] : store.clients()) {
    if (v.empty()) continue;
    const uint64_t start = before(c);
    if (v.back()->EndClock() <= start) continue;
    uint64_t clock = std::max(start, v.front()->id.clock);
    // (A keystroke's struct is the client's last one, which FindIndex
    // tries first.)
    spans.push_back({c, clock, &v, StructStore::FindIndex(v, clock)});
  }
  // A document edited by one client (most keystrokes) has nothing to sort.
  if (spans.size() > 1) {
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.client > b.client; });
  }
  Out o(buf);
  o.VarUint(spans.size());
  for (const Span& s : spans) {
    o.Ensure(3 * 10);
    o.VarUintInRoom(s.list->size() - s.start);
    o.VarUintInRoom(s.client);
    o.VarUintInRoom(s.clock);
    bool first = true;
    bool ok = true;
    s.list->ForEachFrom(s.start, [&](const Item* it) {
      if (!ok || !Handled(*it)) {
        ok = false;
        return;
      }
      PutItem(o, *it, first ? s.clock - it->id.clock : 0);
      first = false;
    });
    if (!ok) return 0;
  }
  auto put_ranges = [&o](uint64_t c, const auto& ranges) {
    o.VarUint(c);
    o.VarUint(ranges.size());
    for (const auto& [clock, len] : ranges) {
      o.VarUint(clock);
      o.VarUint(len);
    }
  };
  // Typing deletes nothing, a deletion is one client's: neither needs the
  // sorted client list (and its lookups back into the table).
  if (ds.clients.empty()) {
    o.U8(0);
  } else if (ds.clients.size() == 1) {
    const auto& [c, ranges] = *ds.clients.begin();
    if (ranges.empty()) {
      o.U8(0);
    } else {
      o.U8(1);
      put_ranges(c, ranges);
    }
  } else {
    auto cs = ds.SortedClientsDesc();
    o.VarUint(cs.size());
    for (uint64_t c : cs) put_ranges(c, ds.clients.at(c));
  }
  return o.size();
}

}  // namespace auxsync::crdt::engine
