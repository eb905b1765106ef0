#include "auxsync/crdt/relative_position.h"

#include <utility>

#include "auxsync/crdt/internal/engine.h"
#include "auxsync/crdt/internal/lib0_decoder.h"

namespace auxsync::crdt {

using engine::Item;
using engine::TypeImpl;

namespace {
RelativePosition Make(TypeImpl* t, std::optional<ID> item, int64_t assoc) {
  RelativePosition r;
  TypeId id = YType(t).Id();
  if (id.item) {
    r.type = id.item;
  } else {
    r.tname = std::move(id.root);
  }
  r.item = item;
  r.assoc = assoc;
  return r;
}
}  // namespace

RelativePosition CreateRelativePositionFromTypeIndex(YType type, uint64_t index,
                                                     int64_t assoc) {
  TypeImpl* t = type.impl();
  if (assoc < 0) {
    if (index == 0) return Make(t, std::nullopt, assoc);
    --index;
  }
  for (Item* n = t->start; n != nullptr; n = n->right) {
    if (n->Visible()) {
      if (n->length > index)
        return Make(t, ID{n->id.client, n->id.clock + index}, assoc);
      index -= n->length;
    }
    if (n->right == nullptr && assoc < 0) {
      engine::Id last = n->LastId();
      return Make(t, ID{last.client, last.clock}, assoc);
    }
  }
  return Make(t, std::nullopt, assoc);
}

std::optional<AbsolutePosition> CreateAbsolutePositionFromRelativePosition(
    const RelativePosition& rpos, Doc& doc) {
  AbsolutePosition out;
  out.assoc = rpos.assoc;
  const engine::StructStore& store = doc.store();
  if (rpos.item) {
    if (store.State(rpos.item->client) <= rpos.item->clock) return std::nullopt;
    Item* right = store.Find({rpos.item->client, rpos.item->clock});
    if (right == nullptr || right->gc) return std::nullopt;
    TypeImpl* t = right->parent;
    out.type = t;
    if (t->item == nullptr || !t->item->deleted) {
      uint64_t diff = rpos.item->clock - right->id.clock;
      uint64_t index = (right->deleted || !right->Countable())
                           ? 0
                           : diff + (rpos.assoc >= 0 ? 0 : 1);
      for (Item* n = right->left; n != nullptr; n = n->left) {
        if (n->Visible()) index += n->length;
      }
      out.index = index;
    }
    return out;
  }
  TypeImpl* t = nullptr;
  if (rpos.tname) {
    t = engine::DocAccess::RootForRemote(doc, *rpos.tname);
  } else if (rpos.type) {
    TypeId id;
    id.item = rpos.type;
    t = doc.Resolve(id).impl();
    if (t == nullptr) return std::nullopt;
  } else {
    return std::nullopt;
  }
  out.type = t;
  out.index = rpos.assoc >= 0 ? t->length : 0;
  return out;
}

std::vector<uint8_t> EncodeRelativePosition(const RelativePosition& rpos) {
  engine::Writer w;
  if (rpos.item) {
    w.VarUint(0);
    w.VarUint(rpos.item->client);
    w.VarUint(rpos.item->clock);
  } else if (rpos.tname) {
    w.VarUint(1);
    w.VarString(*rpos.tname);
  } else if (rpos.type) {
    w.VarUint(2);
    w.VarUint(rpos.type->client);
    w.VarUint(rpos.type->clock);
  }
  w.VarInt(rpos.assoc);
  return w.Take();
}

absl::StatusOr<RelativePosition> DecodeRelativePosition(
    std::span<const uint8_t> bytes) {
  internal::Lib0Decoder r(bytes, 0, nullptr, "relative position");
  RelativePosition out;
  switch (r.ReadVarUint()) {
    case 0: {
      ID id;
      id.client = r.ReadVarUint();
      id.clock = r.ReadVarUint();
      out.item = id;
      break;
    }
    case 1: {
      std::span<const uint8_t> name = r.ReadVarUint8Array();
      out.tname = engine::ToUtf8(engine::ToUtf16(std::string_view(
          reinterpret_cast<const char*>(name.data()), name.size())));
      break;
    }
    case 2: {
      ID id;
      id.client = r.ReadVarUint();
      id.clock = r.ReadVarUint();
      out.type = id;
      break;
    }
    default:
      if (!r.ok()) return r.status();
      return absl::InvalidArgumentError("relative position: unknown kind");
  }
  if (r.ok() && r.has_content()) out.assoc = r.ReadVarInt();
  if (!r.ok()) return r.status();
  return out;
}

}  // namespace auxsync::crdt
