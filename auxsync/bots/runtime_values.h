// The runtime object types that can reach the bot layer's entry points
// (spec/partitions.md sections 4.1 and 4.4). They are HostObjects: partitions
// convert them on entry and never store them.

#ifndef AUXSYNC_BOTS_RUNTIME_VALUES_H_
#define AUXSYNC_BOTS_RUNTIME_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auxsync/bots/value.h"

namespace auxsync::bots {

// A JavaScript Date (milliseconds since the epoch, UTC).
Value MakeDate(double epoch_ms);
// A Luxon DateTime in a zone: "UTC", a fixed offset ("UTC+2"), the system
// zone ("local"), or an IANA zone name; `offset_minutes` is the zone's offset
// at that instant.
Value MakeDateTime(double epoch_ms, std::string zone, int offset_minutes = 0);
Value MakeVector2(double x, double y);
Value MakeVector3(double x, double y, double z);
// A Rotation given by its quaternion.
Value MakeRotation(double x, double y, double z, double w);
// An Error with its constructor name, message and optional stack and
// response ({data, headers, status, statusText, ...}).
Value MakeError(std::string name, std::string message, std::string stack = "",
                Value response = Value());
// A function with a name.
Value MakeFunction(std::string name);
// Binary data (ArrayBuffer, typed-array views, Blob): the class name and
// bytes; passed through unchanged.
Value MakeBinary(std::string class_name, std::vector<uint8_t> bytes);
// A runtime wrapper (an object holding ORIGINAL_OBJECT): serialises to
// `original`.
Value MakeWrapper(Value original);
// A runtime bot (a script-side bot object) with its plain tags and space.
// Its JSON is assumed to be {id, tags[, space]} (aux-runtime's toJSON is not
// in the published aux-common package).
Value MakeRuntimeBot(std::string id, Value tags, Value space = Value());

// The classes behind the builders above, for code that needs to recognise
// them (JavaScript `instanceof`). All are immutable.

// A Date. The time is TimeClip'ed as JavaScript does (truncated to whole
// milliseconds; NaN when not finite or beyond +-8.64e15).
class DateObject final : public HostObject {
 public:
  explicit DateObject(double epoch_ms);
  std::string_view class_name() const override { return "Date"; }
  // toJSON(): the ISO string, or null for an invalid Date.
  Value ToJsonValue() const override;
  double epoch_ms() const { return epoch_ms_; }
  // toISOString(): "2021-11-16T14:32:14.000Z" (years outside 0..9999 as
  // +-YYYYYY); nullopt for an invalid Date (JavaScript throws).
  std::optional<std::string> ToIsoString() const;

 private:
  double epoch_ms_;
};

// A Luxon DateTime.
class DateTimeObject final : public HostObject {
 public:
  enum class ZoneKind { kFixed, kSystem, kIana };
  // `zone` as for MakeDateTime. "utc"/"gmt" and "UTC+h[:mm]" are fixed
  // offsets whose offset comes from the name; "local"/"system" is the system
  // zone; anything else is an IANA zone.
  DateTimeObject(double epoch_ms, std::string zone, int offset_minutes);
  std::string_view class_name() const override { return "DateTime"; }
  // toJSON() = toISO(): always with milliseconds.
  Value ToJsonValue() const override;
  // toISO({suppressMilliseconds}); "Z" for a fixed zone at offset 0,
  // "+hh:mm" otherwise.
  std::string ToIso(bool suppress_milliseconds) const;
  // formatBotDate: "📅" + ToIso(true) + zone suffix (" local" for the system
  // zone, " <name>" for an IANA zone, nothing for fixed offsets).
  std::string FormatBotDate() const;
  ZoneKind zone_kind() const { return zone_kind_; }
  const std::string& zone_name() const { return zone_; }
  int offset_minutes() const { return offset_minutes_; }

 private:
  double epoch_ms_;
  std::string zone_;
  ZoneKind zone_kind_;
  int offset_minutes_;
};

class Vector2Object final : public HostObject {
 public:
  Vector2Object(double x, double y) : x_(x), y_(y) {}
  std::string_view class_name() const override { return "Vector2"; }
  Value ToJsonValue() const override;  // {"x","y"}
  // formatBotVector: "➡️x,y".
  std::string Format() const;
  double x() const { return x_; }
  double y() const { return y_; }

 private:
  double x_, y_;
};

class Vector3Object final : public HostObject {
 public:
  Vector3Object(double x, double y, double z) : x_(x), y_(y), z_(z) {}
  std::string_view class_name() const override { return "Vector3"; }
  Value ToJsonValue() const override;  // {"x","y","z"}
  // formatBotVector: "➡️x,y,z".
  std::string Format() const;

 private:
  double x_, y_, z_;
};

class RotationObject final : public HostObject {
 public:
  RotationObject(double x, double y, double z, double w)
      : x_(x), y_(y), z_(z), w_(w) {}
  std::string_view class_name() const override { return "Rotation"; }
  Value ToJsonValue() const override;  // {"_q":{"x","y","z","w"}}
  // formatBotRotation: "🔁x,y,z,w".
  std::string Format() const;

 private:
  double x_, y_, z_, w_;
};

class ErrorObject final : public HostObject {
 public:
  ErrorObject(std::string name, std::string message, std::string stack,
              Value response);
  // The constructor name is taken to be the error's name.
  std::string_view class_name() const override { return name_; }
  // JSON.stringify writes only own enumerable properties: {} or, when a
  // response was attached, {"response": ...}.
  Value ToJsonValue() const override;
  const std::string& name() const { return name_; }
  const std::string& message() const { return message_; }
  // The given stack, or "<name>: <message>" (just the name when the message
  // is empty) when none was given.
  const std::string& stack() const { return stack_; }
  const Value& response() const { return response_; }

 private:
  std::string name_, message_, stack_;
  Value response_;
};

class FunctionObject final : public HostObject {
 public:
  explicit FunctionObject(std::string name) : name_(std::move(name)) {}
  std::string_view class_name() const override { return "Function"; }
  // JSON.stringify skips functions: undefined.
  Value ToJsonValue() const override { return Value(); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

class BinaryObject final : public HostObject {
 public:
  BinaryObject(std::string class_name, std::vector<uint8_t> bytes)
      : class_name_(std::move(class_name)), bytes_(std::move(bytes)) {}
  std::string_view class_name() const override { return class_name_; }
  // Typed arrays: {"0": n, "1": n, ...} of their little-endian elements;
  // Buffer: {"type":"Buffer","data":[...]}; ArrayBuffer, DataView, Blob: {}.
  Value ToJsonValue() const override;
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::string class_name_;
  std::vector<uint8_t> bytes_;
};

// An object carrying the runtime's ORIGINAL_OBJECT symbol: the value it was
// made from. Its own properties are not modelled (it has none here), so it
// is never bot-like.
class WrapperObject final : public HostObject {
 public:
  explicit WrapperObject(Value original) : original_(std::move(original)) {}
  std::string_view class_name() const override { return "Object"; }
  Value ToJsonValue() const override { return original_; }
  // The wrapped object (`value[ORIGINAL_OBJECT]`).
  const Value& original() const { return original_; }

 private:
  Value original_;
};

class RuntimeBotObject final : public HostObject {
 public:
  RuntimeBotObject(std::string id, Value tags, Value space)
      : id_(std::move(id)), tags_(std::move(tags)), space_(std::move(space)) {}
  std::string_view class_name() const override { return "RuntimeBot"; }
  // {"id", "tags"} plus "space" when it has a value.
  Value ToJsonValue() const override;
  const std::string& id() const { return id_; }
  // `bot.tags.toJSON()`: the plain tags object.
  const Value& tags() const { return tags_; }
  const Value& space() const { return space_; }

 private:
  std::string id_;
  Value tags_;
  Value space_;
};

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_RUNTIME_VALUES_H_
