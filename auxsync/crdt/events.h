// Observer events of shared types (YEvent, YMapEvent keys, Text/Array
// deltas) and RAII subscriptions. Events are computed when the observer is
// called and stay valid only during the call.
#ifndef AUXSYNC_CRDT_EVENTS_H_
#define AUXSYNC_CRDT_EVENTS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auxsync/crdt/internal/engine_any.h"

namespace auxsync::crdt {

// A JavaScript value (lib0 Any): what maps, arrays and embeds hold.
using JsValue = engine::Any;

namespace engine {
class TypeImpl;
}

// A value read out of a shared type: a plain value or a nested shared type.
// `type` is non-null for nested types (borrowed; valid while the doc lives
// and the type is not collected: YType::Id names it for longer).
struct OutValue {
  JsValue value;
  engine::TypeImpl* type = nullptr;
  bool is_binary = false;  // value holds the bytes of a ContentBinary
  bool is_doc = false;     // a subdocument; value holds its guid (string)
};

// One step of an event path: a map key or a list index.
struct PathElement {
  bool is_key = false;
  std::string key;
  uint64_t index = 0;
};

// A map-like key change in yjs's vocabulary.
struct KeyChange {
  enum class Action { kAdd, kUpdate, kDelete };
  Action action = Action::kAdd;
  std::optional<OutValue> old_value;  // set for kUpdate / kDelete
};

// A delta op of a Text (string/embed inserts, with attributes) or an Array.
struct DeltaOp {
  enum class Kind { kInsert, kRetain, kDelete };
  Kind kind = Kind::kInsert;
  uint64_t length = 0;           // retain / delete
  bool is_text = false;          // insert of a string (text)
  std::u16string text;           // text insert
  std::vector<OutValue> values;  // array insert elements / one embed
  std::vector<std::pair<std::string, JsValue>> attributes;  // text only
};

// The event of one changed type in one transaction.
struct YEvent {
  engine::TypeImpl* target = nullptr;
  engine::TypeImpl* current_target = nullptr;
  std::vector<PathElement> path;  // from current_target down to target
  std::vector<std::pair<std::string, KeyChange>> keys;  // changed-key order
  std::vector<DeltaOp> delta;  // only when the list part changed
  bool local = false;
};

// Dropping a Subscription unsubscribes. Move-only; must not outlive the
// object it subscribed to.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel)
      : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& o) noexcept : cancel_(std::move(o.cancel_)) {
    o.cancel_ = nullptr;
  }
  Subscription& operator=(Subscription&& o) noexcept {
    if (this != &o) {
      Reset();
      cancel_ = std::move(o.cancel_);
      o.cancel_ = nullptr;
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { Reset(); }
  // Unsubscribes now.
  void Reset() {
    if (cancel_) {
      auto c = std::move(cancel_);
      cancel_ = nullptr;
      c();
    }
  }

 private:
  std::function<void()> cancel_;
};

}  // namespace auxsync::crdt

#endif  // AUXSYNC_CRDT_EVENTS_H_
