// Handles of shared types (Y.Map, Y.Array, Y.Text, XML) and the values that
// can be inserted into them. A handle is a borrowed pointer: copy it freely,
// but do not use it after its Doc is destroyed or its type was collected
// (a peer's update can delete a nested type; keep a TypeId across
// transactions instead). Every mutating call runs in the Doc's current
// transaction or opens one.
#ifndef AUXSYNC_CRDT_TYPES_H_
#define AUXSYNC_CRDT_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "auxsync/crdt/events.h"
#include "auxsync/crdt/id.h"

namespace auxsync::crdt {

class Doc;
class Transaction;
namespace engine {
class TypeImpl;
enum class TypeKind : uint8_t;
}  // namespace engine

// A value to insert: a plain JS value or a new (preliminary) shared type
// with its initial content. A top-level bytes value becomes ContentBinary.
struct Input {
  enum class Kind {
    kValue,
    kMap,
    kArray,
    kText,
    kXmlFragment,
    kXmlElement,
    kXmlText,
    kXmlHook,
    kDoc
  };
  Kind kind = Kind::kValue;
  JsValue value;
  std::vector<std::pair<std::string, Input>> entries;  // kMap / xml attributes
  std::vector<Input> items;                            // kArray / xml children
  std::u16string text;                                 // kText
  std::string name;  // xml node / hook name; doc guid
  Input() = default;
  Input(JsValue v) : value(std::move(v)) {}  // NOLINT: implicit by design
  static Input Map(std::vector<std::pair<std::string, Input>> e = {}) {
    Input i;
    i.kind = Kind::kMap;
    i.entries = std::move(e);
    return i;
  }
  static Input Array(std::vector<Input> items = {}) {
    Input i;
    i.kind = Kind::kArray;
    i.items = std::move(items);
    return i;
  }
  static Input Text(std::u16string t = {}) {
    Input i;
    i.kind = Kind::kText;
    i.text = std::move(t);
    return i;
  }
};

// Text attributes (format key -> value; null removes).
using Attributes = std::vector<std::pair<std::string, JsValue>>;

// A lasting name of a shared type, as yjs names one in a relative position:
// a root by its name, a nested type by the id of the item holding it. Unlike
// a handle it stays safe to keep while transactions may collect the type:
// Doc::Resolve gives the handle back as long as the type exists.
struct TypeId {
  std::string root;        // the root's name (when `item` is unset)
  std::optional<ID> item;  // the holding item's id (a nested type)
  friend bool operator==(const TypeId&, const TypeId&) = default;
};

// Base handle with what every shared type offers.
class YType {
 public:
  YType() = default;
  // Wraps a type owned by a Doc (borrowed).
  explicit YType(engine::TypeImpl* t) : t_(t) {}
  // The engine's type (for the engine's own code and tests).
  engine::TypeImpl* impl() const { return t_; }
  explicit operator bool() const { return t_ != nullptr; }
  // Array, Map, Text, XML kinds; kUnknown for a root only known remotely.
  engine::TypeKind kind() const;
  // Observers, called at the end of each transaction that changed the type
  // (deep: the type or any descendant), in yjs's order. Dropping the
  // Subscription unsubscribes; it is safe even after the type was collected.
  Subscription Observe(
      std::function<void(const YEvent&, const Transaction&)> fn);
  Subscription ObserveDeep(
      std::function<void(const std::vector<const YEvent*>&, const Transaction&)>
          fn);
  // Length of the list part (visible countable units).
  uint64_t Length() const;
  // JSON of the type (maps: objects, arrays: arrays, text: string).
  JsValue ToJson() const;
  // The type's lasting name (see TypeId).
  TypeId Id() const;

 protected:
  engine::TypeImpl* t_ = nullptr;
};

// Y.Map.
class YMap : public YType {
 public:
  using YType::YType;
  // Sets key to a value or a new nested type (the last writer wins).
  void Set(std::string_view key, Input value);
  // Deletes the key; nothing happens (and nothing is written) if unknown.
  void Delete(std::string_view key);
  // The current value, nullopt if absent or deleted.
  std::optional<OutValue> Get(std::string_view key) const;
  bool Has(std::string_view key) const;
  // Present keys in first-integration order (JS Map order).
  std::vector<std::string> Keys() const;
};

// Y.Array.
class YArray : public YType {
 public:
  using YType::YType;
  // Errors: index > length ("Length exceeded!"), undefined/bigint values.
  // Nothing is inserted on error.
  absl::Status Insert(uint64_t index, std::vector<Input> values);
  // Appends after the very last item, deleted or not (yjs push); invalid
  // values make it a no-op.
  void Push(std::vector<Input> values);
  // Errors: the range exceeds the length (nothing is deleted then).
  absl::Status Delete(uint64_t index, uint64_t length = 1);
  // Element at index, nullopt if out of range.
  std::optional<OutValue> Get(uint64_t index) const;
  // All visible elements.
  std::vector<OutValue> ToVector() const;
};

// Y.Text (UTF-16 indices).
class YText : public YType {
 public:
  using YType::YType;
  // Without attributes the attributes current at the position are used.
  void Insert(uint64_t index, std::u16string_view text,
              const Attributes* attributes = nullptr);
  // Same with UTF-8 text (converted; invalid bytes become U+FFFD).
  void InsertUtf8(uint64_t index, std::string_view text,
                  const Attributes* attributes = nullptr);
  // Inserts an embed (plain value) or a nested type; without attributes the
  // current ones are negated (as yjs passes `{}`).
  void InsertEmbed(uint64_t index, Input embed,
                   const Attributes* attributes = nullptr);
  // Deletes up to `length` units; never fails for too long ranges.
  void Delete(uint64_t index, uint64_t length);
  // Applies attributes (null removes) to the range.
  void Format(uint64_t index, uint64_t length, const Attributes& attributes);
  // Visible text as UTF-16 / UTF-8 (lone surrogates become U+FFFD).
  std::u16string ToString16() const;
  std::string ToString() const;
  // yjs toDelta(): inserts with their attributes.
  std::vector<DeltaOp> ToDelta() const;
};

// Y.XmlFragment / Y.XmlElement (children as a list, attributes as a map).
class YXmlFragment : public YArray {
 public:
  using YArray::YArray;
  // Element attribute (a map entry of the element).
  void SetAttribute(std::string_view name, Input value);
  // yjs toString(): children concatenated, elements as <name attrs>…</name>.
  std::string ToXmlString() const;
};

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_TYPES_H_
