#include "auxsync/inst/message_codec.h"

#include <array>
#include <cmath>
#include <string_view>
#include <utility>

#include "auxsync/bots/json.h"
#include "auxsync/inst/internal/field_error.h"
#include "auxsync/inst/internal/strings.h"

namespace auxsync::inst {
namespace {

using bots::Object;
using bots::Value;
using internal::FieldPath;

constexpr std::string_view kRoot = "message";

// The enumerations of the records permission model that the permission
// messages are validated against (aux-common 3.10.5's PolicyPermissions).
constexpr std::array<std::string_view, 19> kResourceKinds = {
    "data",
    "file",
    "event",
    "marker",
    "role",
    "inst",
    "loom",
    "ai.sloyd",
    "ai.hume",
    "ai.openai.realtime",
    "webhook",
    "notification",
    "package",
    "package.version",
    "search",
    "database",
    "purchasableItem",
    "contract",
    "invoice"};
constexpr std::array<std::string_view, 23> kActionKinds = {"create",
                                                           "read",
                                                           "update",
                                                           "updateData",
                                                           "delete",
                                                           "list",
                                                           "sendAction",
                                                           "assign",
                                                           "unassign",
                                                           "grant",
                                                           "revoke",
                                                           "increment",
                                                           "count",
                                                           "grantPermission",
                                                           "revokePermission",
                                                           "run",
                                                           "send",
                                                           "subscribe",
                                                           "unsubscribe",
                                                           "listSubscriptions",
                                                           "purchase",
                                                           "approve",
                                                           "cancel"};
constexpr std::array<std::string_view, 3> kSubjectTypes = {"user", "inst",
                                                           "role"};
constexpr std::array<std::string_view, 6> kHttpMethods = {
    "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"};

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& names, std::string_view s) {
  for (std::string_view n : names) {
    if (n == s) return true;
  }
  return false;
}

Value PathValue(const FieldPath& path) {
  Value a = Value::NewArray();
  for (const Value& p : path) a.as_array().items.push_back(p);
  return a;
}

// A type mismatch, with the issue zod reports for it:
// {"expected","code":"invalid_type","path","message":"Invalid input: ..."}
// (zod puts "code" first for discriminated unions).
absl::Status TypeErrorAt(const FieldPath& path, std::string_view expected,
                         const Value* got) {
  std::string_view zod_expected = expected;
  if (expected == "non-empty string or null" || expected == "string or null") {
    zod_expected = "string";
  }
  std::string_view received = got ? internal::ZodTypeName(*got) : "undefined";
  std::string zod_message = internal::Cat(
      "Invalid input: expected ", zod_expected, ", received ", received);
  // zod writes "code" first for the discriminated unions (the message
  // itself and repo/send_action's `action`).
  const bool union_position =
      path.empty() ||
      (path.back().is_string() && path.back().as_string() == "action");
  Value issue = zod_expected == "object" && union_position
                    ? bots::MakeObject({{"code", "invalid_type"},
                                        {"expected", zod_expected},
                                        {"path", PathValue(path)},
                                        {"message", zod_message}})
                    : bots::MakeObject({{"expected", zod_expected},
                                        {"code", "invalid_type"}});
  if (!issue.as_object().Has("path")) {
    // zod names a non-finite number (1e999 parses to Infinity) in
    // "received", as "Infinity" whatever its sign.
    if (got != nullptr && got->is_number() &&
        !std::isfinite(got->as_number())) {
      issue.as_object().Set("received", "Infinity");
    }
    issue.as_object().Set("path", PathValue(path));
    issue.as_object().Set("message", zod_message);
  }
  return internal::IssueError(
      kRoot, path,
      internal::Cat("expected ", expected, ", received ", received), issue);
}

// A value outside an enumeration, with zod's issue for z.enum.
template <size_t N>
absl::Status EnumErrorAt(const FieldPath& path,
                         const std::array<std::string_view, N>& names,
                         std::string_view value) {
  Value values = Value::NewArray();
  std::string options;
  for (std::string_view n : names) {
    values.as_array().items.emplace_back(n);
    options += internal::Cat(options.empty() ? "" : "|", "\"", n, "\"");
  }
  return internal::IssueError(
      kRoot, path, internal::Cat("invalid option \"", value, "\""),
      bots::MakeObject(
          {{"code", "invalid_value"},
           {"values", values},
           {"path", PathValue(path)},
           {"message",
            internal::Cat("Invalid option: expected one of ", options)}}));
}

// A discriminated union without a match at `path`.type (zod's issue).
absl::Status NoDiscriminatorAt(const FieldPath& path) {
  return internal::IssueError(
      kRoot, path, "no matching discriminator",
      bots::MakeObject({{"code", "invalid_union"},
                        {"errors", Value::NewArray()},
                        {"note", "No matching discriminator"},
                        {"discriminator", "type"},
                        {"path", PathValue(path)},
                        {"message", "Invalid input"}}));
}

// Reads the fields of one JSON object, remembering where it is so every
// error names its field.
class Fields {
 public:
  Fields(const Object& object, FieldPath path)
      : object_(&object), path_(std::move(path)) {}

  const Value* Find(std::string_view key) const { return object_->Find(key); }
  const Object& object() const { return *object_; }
  const FieldPath& path() const { return path_; }

  FieldPath PathOf(std::string_view key) const {
    FieldPath p = path_;
    p.emplace_back(std::string(key));
    return p;
  }

  absl::Status TypeError(std::string_view key, std::string_view expected,
                         const Value* got) const {
    return TypeErrorAt(PathOf(key), expected, got);
  }

  absl::StatusOr<std::string> String(std::string_view key) const {
    const Value* v = Find(key);
    if (!v || !v->is_string()) return TypeError(key, "string", v);
    return v->as_string();
  }
  absl::Status OptString(std::string_view key,
                         std::optional<std::string>& out) const {
    const Value* v = Find(key);
    if (!v) return absl::OkStatus();
    if (!v->is_string()) return TypeError(key, "string", v);
    out = v->as_string();
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<std::string>> NullableString(
      std::string_view key) const {
    const Value* v = Find(key);
    if (v && v->is_null()) return std::optional<std::string>();
    if (!v || !v->is_string()) return TypeError(key, "string or null", v);
    return std::optional<std::string>(v->as_string());
  }
  // zod's z.number() also rejects the infinities (JSON text like 1e400).
  static bool IsNumber(const Value* v) {
    return v && v->is_number() && std::isfinite(v->as_number());
  }
  absl::StatusOr<double> Number(std::string_view key) const {
    const Value* v = Find(key);
    if (!IsNumber(v)) return TypeError(key, "number", v);
    return v->as_number();
  }
  absl::Status OptNumber(std::string_view key,
                         std::optional<double>& out) const {
    const Value* v = Find(key);
    if (!v) return absl::OkStatus();
    if (!IsNumber(v)) return TypeError(key, "number", v);
    out = v->as_number();
    return absl::OkStatus();
  }
  absl::StatusOr<bool> Bool(std::string_view key) const {
    const Value* v = Find(key);
    if (!v || !v->is_bool()) return TypeError(key, "boolean", v);
    return v->as_bool();
  }
  absl::Status OptBool(std::string_view key, std::optional<bool>& out) const {
    const Value* v = Find(key);
    if (!v) return absl::OkStatus();
    if (!v->is_bool()) return TypeError(key, "boolean", v);
    out = v->as_bool();
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> StringArray(
      std::string_view key) const {
    const Value* v = Find(key);
    if (!v || !v->is_array()) return TypeError(key, "array", v);
    std::vector<std::string> out;
    const auto& items = v->as_array().items;
    out.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) {
        FieldPath p = PathOf(key);
        p.emplace_back(static_cast<double>(i));
        return TypeErrorAt(p, "string", &items[i]);
      }
      out.push_back(items[i].as_string());
    }
    return out;
  }
  absl::StatusOr<std::vector<double>> NumberArray(std::string_view key) const {
    const Value* v = Find(key);
    if (!v || !v->is_array()) return TypeError(key, "array", v);
    std::vector<double> out;
    const auto& items = v->as_array().items;
    out.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      if (!IsNumber(&items[i])) {
        FieldPath p = PathOf(key);
        p.emplace_back(static_cast<double>(i));
        return TypeErrorAt(p, "number", &items[i]);
      }
      out.push_back(items[i].as_number());
    }
    return out;
  }
  // A present value of any kind but undefined (absent -> undefined).
  Value Any(std::string_view key) const {
    const Value* v = Find(key);
    return v ? *v : Value();
  }
  absl::StatusOr<Fields> Nested(std::string_view key) const {
    const Value* v = Find(key);
    if (!v || !v->is_object()) return TypeError(key, "object", v);
    return Fields(v->as_object(), PathOf(key));
  }
  // A string of an enumeration; anything else (also an absent key) is
  // zod's invalid_value issue.
  template <size_t N>
  absl::StatusOr<std::string> Enum(
      std::string_view key,
      const std::array<std::string_view, N>& names) const {
    const Value* v = Find(key);
    if (v && v->is_string() && OneOf(names, v->as_string())) {
      return v->as_string();
    }
    return EnumErrorAt(
        PathOf(key), names,
        v && v->is_string()
            ? std::string_view(v->as_string())
            : std::string_view(internal::ZodTypeName(v ? *v : Value())));
  }

 private:
  const Object* object_;  // not owned
  FieldPath path_;
};

#define AUXSYNC_ASSIGN(lhs, expr)     \
  do {                                \
    auto _r = (expr);                 \
    if (!_r.ok()) return _r.status(); \
    lhs = *std::move(_r);             \
  } while (0)
#define AUXSYNC_TRY(var, expr)                  \
  auto var##_or = (expr);                       \
  if (!var##_or.ok()) return var##_or.status(); \
  auto& var = *var##_or
#define AUXSYNC_RETURN(expr)  \
  do {                        \
    absl::Status _s = (expr); \
    if (!_s.ok()) return _s;  \
  } while (0)

// recordName: a non-empty string or null, required.
absl::StatusOr<RecordName> ReadRecordName(const Fields& f) {
  const Value* v = f.Find("recordName");
  if (v && v->is_null()) return RecordName();
  if (!v || !v->is_string()) {
    return f.TypeError("recordName", "non-empty string or null", v);
  }
  if (v->as_string().empty()) {
    return internal::IssueError(
        kRoot, f.PathOf("recordName"), "expected a non-empty string or null",
        bots::MakeObject(
            {{"origin", "string"},
             {"code", "too_small"},
             {"minimum", 1},
             {"inclusive", true},
             {"path", PathValue(f.PathOf("recordName"))},
             {"message",
              "Too small: expected string to have >=1 characters"}}));
  }
  return RecordName(v->as_string());
}

absl::StatusOr<BranchNamespace> ReadNamespace(const Fields& f) {
  BranchNamespace ns;
  AUXSYNC_ASSIGN(ns.record_name, ReadRecordName(f));
  AUXSYNC_ASSIGN(ns.inst, f.String("inst"));
  AUXSYNC_ASSIGN(ns.branch, f.String("branch"));
  return ns;
}

// ConnectionInfo; the real server writes null ids for anonymous sockets,
// which aux-common's own schema (strings only) would reject, so null is
// accepted here.
absl::StatusOr<ConnectionInfo> ReadConnectionInfo(const Fields& parent,
                                                  std::string_view key) {
  AUXSYNC_TRY(f, parent.Nested(key));
  ConnectionInfo info;
  AUXSYNC_ASSIGN(info.connection_id, f.String("connectionId"));
  AUXSYNC_ASSIGN(info.session_id, f.NullableString("sessionId"));
  AUXSYNC_ASSIGN(info.user_id, f.NullableString("userId"));
  return info;
}

// taskId: string or number, optional.
absl::StatusOr<Value> ReadTaskId(const Fields& f) {
  const Value* v = f.Find("taskId");
  if (!v) return Value();
  if (!v->is_string() && !v->is_number()) {
    return f.TypeError("taskId", "string or number", v);
  }
  return *v;
}

absl::StatusOr<RemoteKind> ReadKind(const Fields& f, bool device) {
  const Value* t = f.Find("type");
  for (RemoteKind k :
       {RemoteKind::kRemote, RemoteKind::kResult, RemoteKind::kError}) {
    if (t && t->is_string() &&
        t->as_string() == (device ? DeviceTypeName(k) : RemoteTypeName(k))) {
      return k;
    }
  }
  return NoDiscriminatorAt(f.PathOf("type"));
}

absl::StatusOr<RemoteAction> ReadRemoteAction(const Fields& parent) {
  AUXSYNC_TRY(f, parent.Nested("action"));
  RemoteAction a;
  AUXSYNC_ASSIGN(a.kind, ReadKind(f, /*device=*/false));
  a.payload = f.Any(PayloadKey(a.kind));
  if (a.kind == RemoteKind::kRemote) {
    AUXSYNC_RETURN(f.OptBool("allowBatching", a.allow_batching));
  }
  AUXSYNC_ASSIGN(a.task_id, ReadTaskId(f));
  AUXSYNC_RETURN(f.OptString("connectionId", a.connection_id));
  AUXSYNC_RETURN(f.OptString("sessionId", a.session_id));
  AUXSYNC_RETURN(f.OptString("userId", a.user_id));
  AUXSYNC_RETURN(f.OptBool("broadcast", a.broadcast));
  return a;
}

absl::StatusOr<std::variant<DeviceAction, Value>> ReadDeviceAction(
    const Fields& parent) {
  AUXSYNC_TRY(f, parent.Nested("action"));
  const Value& action = *parent.Find("action");
  std::string_view t = action["type"].is_string()
                           ? std::string_view(action["type"].as_string())
                           : std::string_view();
  if (t != "device" && t != "device_result" && t != "device_error") {
    // A bare action (the legacy webhook path): passed through as is.
    return std::variant<DeviceAction, Value>(action);
  }
  DeviceAction a;
  AUXSYNC_ASSIGN(a.kind, ReadKind(f, /*device=*/true));
  AUXSYNC_ASSIGN(a.connection, ReadConnectionInfo(f, "connection"));
  a.payload = f.Any(PayloadKey(a.kind));
  AUXSYNC_ASSIGN(a.task_id, ReadTaskId(f));
  return std::variant<DeviceAction, Value>(std::move(a));
}

absl::StatusOr<WatchBranchMessage> ReadWatchBranch(const Fields& f) {
  WatchBranchMessage m;
  AUXSYNC_ASSIGN(m.ns, ReadNamespace(f));
  AUXSYNC_RETURN(f.OptBool("temporary", m.temporary));
  if (f.Find("markers")) {
    AUXSYNC_ASSIGN(m.markers, f.StringArray("markers"));
  }
  return m;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadStringMap(
    const Fields& parent, std::string_view key) {
  const Value* v = parent.Find(key);
  if (!v || !v->is_object()) return parent.TypeError(key, "object", v);
  std::vector<std::pair<std::string, std::string>> out;
  absl::Status status;
  v->as_object().ForEach([&](const std::string& k, const Value& item) {
    if (!status.ok()) return;
    if (!item.is_string()) {
      FieldPath p = parent.PathOf(key);
      p.emplace_back(k);
      status = TypeErrorAt(p, "string", &item);
      return;
    }
    out.emplace_back(k, item.as_string());
  });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<MissingPermissionReason> ReadReason(const Fields& f) {
  MissingPermissionReason r;
  AUXSYNC_ASSIGN(r.record_name, f.String("recordName"));
  AUXSYNC_ASSIGN(r.resource_kind, f.Enum("resourceKind", kResourceKinds));
  AUXSYNC_ASSIGN(r.resource_id, f.String("resourceId"));
  AUXSYNC_ASSIGN(r.action, f.Enum("action", kActionKinds));
  AUXSYNC_ASSIGN(r.subject_type, f.Enum("subjectType", kSubjectTypes));
  AUXSYNC_ASSIGN(r.subject_id, f.String("subjectId"));
  return r;
}

// The optional fields of a failure that are not typed: everything but the
// listed keys, in their order.
Value ExtraFields(const Object& object,
                  std::initializer_list<std::string_view> known) {
  Value extra;
  object.ForEach([&](const std::string& k, const Value& v) {
    for (std::string_view n : known) {
      if (n == k) return;
    }
    if (extra.is_undefined()) extra = Value::NewObject();
    extra.as_object().Set(k, v);
  });
  return extra;
}

using Decoder = absl::StatusOr<Message> (*)(const Fields&, Direction);

absl::StatusOr<Message> DecodeLogin(const Fields& f, Direction) {
  LoginMessage m;
  AUXSYNC_RETURN(f.OptString("connectionToken", m.connection_token));
  AUXSYNC_RETURN(f.OptString("connectionId", m.connection_id));
  return m;
}

absl::StatusOr<Message> DecodeLoginResult(const Fields& f, Direction) {
  LoginResultMessage m;
  AUXSYNC_ASSIGN(m.success, f.Bool("success"));
  if (m.success) {
    AUXSYNC_ASSIGN(m.info, ReadConnectionInfo(f, "info"));
  } else {
    AUXSYNC_ASSIGN(m.error_code, f.String("errorCode"));
    AUXSYNC_ASSIGN(m.error_message, f.String("errorMessage"));
    m.reason = f.Any("reason");
  }
  return m;
}

absl::StatusOr<Message> DecodeWatchBranch(const Fields& f, Direction) {
  AUXSYNC_TRY(m, ReadWatchBranch(f));
  return m;
}

absl::StatusOr<Message> DecodeWatchBranchResult(const Fields& f, Direction) {
  WatchBranchResultMessage m;
  AUXSYNC_ASSIGN(m.ns, ReadNamespace(f));
  AUXSYNC_ASSIGN(m.success, f.Bool("success"));
  if (!m.success) {
    AUXSYNC_ASSIGN(m.error_code, f.String("errorCode"));
    AUXSYNC_ASSIGN(m.error_message, f.String("errorMessage"));
    m.reason = f.Any("reason");
    m.extra = ExtraFields(f.object(),
                          {"type", "recordName", "inst", "branch", "success",
                           "errorCode", "errorMessage", "reason"});
    std::vector<std::string> keys = f.object().Keys();
    if (!keys.empty() && keys.front() != "type") m.key_order = std::move(keys);
  }
  return m;
}

template <typename T>
absl::StatusOr<Message> DecodeNamespaceOnly(const Fields& f, Direction) {
  T m;
  AUXSYNC_ASSIGN(m.ns, ReadNamespace(f));
  return m;
}

absl::StatusOr<Message> DecodeAddUpdates(const Fields& f, Direction) {
  AddUpdatesMessage m;
  AUXSYNC_ASSIGN(m.ns, ReadNamespace(f));
  AUXSYNC_ASSIGN(m.updates, f.StringArray("updates"));
  AUXSYNC_RETURN(f.OptNumber("updateId", m.update_id));
  AUXSYNC_RETURN(f.OptBool("initial", m.initial));
  if (f.Find("timestamps")) {
    AUXSYNC_ASSIGN(m.timestamps, f.NumberArray("timestamps"));
  }
  return m;
}

absl::StatusOr<Message> DecodeUpdatesReceived(const Fields& f, Direction) {
  UpdatesReceivedMessage m;
  AUXSYNC_ASSIGN(m.ns, ReadNamespace(f));
  AUXSYNC_RETURN(f.OptNumber("updateId", m.update_id));
  AUXSYNC_RETURN(f.OptString("errorCode", m.error_code));
  AUXSYNC_RETURN(
      f.OptNumber("maxBranchSizeInBytes", m.max_branch_size_in_bytes));
  AUXSYNC_RETURN(
      f.OptNumber("neededBranchSizeInBytes", m.needed_branch_size_in_bytes));
  return m;
}

absl::StatusOr<Message> DecodeSendAction(const Fields& f, Direction) {
  SendActionMessage m;
  AUXSYNC_ASSIGN(m.ns, ReadNamespace(f));
  AUXSYNC_ASSIGN(m.action, ReadRemoteAction(f));
  return m;
}

absl::StatusOr<Message> DecodeReceiveAction(const Fields& f, Direction) {
  ReceiveActionMessage m;
  AUXSYNC_ASSIGN(m.ns, ReadNamespace(f));
  AUXSYNC_ASSIGN(m.action, ReadDeviceAction(f));
  return m;
}

absl::StatusOr<Message> DecodeConnectedToBranch(const Fields& f, Direction) {
  ConnectedToBranchMessage m;
  AUXSYNC_ASSIGN(m.broadcast, f.Bool("broadcast"));
  AUXSYNC_TRY(branch, f.Nested("branch"));
  AUXSYNC_ASSIGN(m.branch, ReadWatchBranch(branch));
  AUXSYNC_ASSIGN(m.connection, ReadConnectionInfo(f, "connection"));
  // Remember which of the server's two key orders this was.
  for (const std::string& key : f.object().Keys()) {
    if (key == "branch") break;
    if (key == "connection") {
      m.listing = true;
      break;
    }
  }
  return m;
}

absl::StatusOr<Message> DecodeDisconnectedFromBranch(const Fields& f,
                                                     Direction) {
  DisconnectedFromBranchMessage m;
  AUXSYNC_ASSIGN(m.broadcast, f.Bool("broadcast"));
  AUXSYNC_ASSIGN(m.ns, ReadNamespace(f));
  AUXSYNC_ASSIGN(m.connection, ReadConnectionInfo(f, "connection"));
  return m;
}

absl::StatusOr<Message> DecodeConnectionCount(const Fields& f, Direction) {
  ConnectionCountMessage m;
  AUXSYNC_ASSIGN(m.record_name, ReadRecordName(f));
  AUXSYNC_ASSIGN(m.inst, f.NullableString("inst"));
  AUXSYNC_ASSIGN(m.branch, f.NullableString("branch"));
  AUXSYNC_RETURN(f.OptNumber("count", m.count));
  return m;
}

absl::StatusOr<Message> DecodeSyncTime(const Fields& f, Direction) {
  SyncTimeMessage m;
  AUXSYNC_ASSIGN(m.id, f.Number("id"));
  AUXSYNC_ASSIGN(m.client_request_time, f.Number("clientRequestTime"));
  return m;
}

absl::StatusOr<Message> DecodeSyncTimeResponse(const Fields& f, Direction) {
  SyncTimeResponseMessage m;
  AUXSYNC_ASSIGN(m.id, f.Number("id"));
  AUXSYNC_ASSIGN(m.client_request_time, f.Number("clientRequestTime"));
  AUXSYNC_ASSIGN(m.server_receive_time, f.Number("serverReceiveTime"));
  AUXSYNC_ASSIGN(m.server_transmit_time, f.Number("serverTransmitTime"));
  return m;
}

absl::StatusOr<Message> DecodeRateLimitExceeded(const Fields& f, Direction) {
  RateLimitExceededMessage m;
  AUXSYNC_ASSIGN(m.retry_after, f.Number("retryAfter"));
  AUXSYNC_ASSIGN(m.total_hits, f.Number("totalHits"));
  return m;
}

absl::StatusOr<Message> DecodeRequestMissingPermission(const Fields& f,
                                                       Direction direction) {
  RequestMissingPermissionMessage m;
  AUXSYNC_TRY(reason, f.Nested("reason"));
  const Value* t = reason.Find("type");
  if (!t || !t->is_string() || t->as_string() != "missing_permission") {
    return internal::IssueError(
        kRoot, reason.PathOf("type"), "expected \"missing_permission\"",
        bots::MakeObject(
            {{"code", "invalid_value"},
             {"values", bots::MakeArray({"missing_permission"})},
             {"path", PathValue(reason.PathOf("type"))},
             {"message", "Invalid input: expected \"missing_permission\""}}));
  }
  AUXSYNC_ASSIGN(m.reason, ReadReason(reason));
  if (direction == Direction::kServerToClient) {
    if (f.Find("connection")) {
      AUXSYNC_ASSIGN(m.connection, ReadConnectionInfo(f, "connection"));
    }
    m.user = f.Any("user");
  }
  return m;
}

absl::StatusOr<Message> DecodeRequestMissingPermissionResponse(
    const Fields& f, Direction direction) {
  RequestMissingPermissionResponseMessage m;
  AUXSYNC_ASSIGN(m.success, f.Bool("success"));
  AUXSYNC_ASSIGN(m.record_name, f.String("recordName"));
  AUXSYNC_ASSIGN(m.resource_kind, f.Enum("resourceKind", kResourceKinds));
  AUXSYNC_ASSIGN(m.resource_id, f.String("resourceId"));
  AUXSYNC_ASSIGN(m.subject_type, f.Enum("subjectType", kSubjectTypes));
  AUXSYNC_ASSIGN(m.subject_id, f.String("subjectId"));
  AUXSYNC_RETURN(f.OptString("errorCode", m.error_code));
  AUXSYNC_RETURN(f.OptString("errorMessage", m.error_message));
  if (direction == Direction::kServerToClient && f.Find("connection")) {
    AUXSYNC_ASSIGN(m.connection, ReadConnectionInfo(f, "connection"));
  }
  return m;
}

absl::StatusOr<Message> DecodeHttpRequest(const Fields& f, Direction) {
  HttpRequestMessage m;
  AUXSYNC_TRY(r, f.Nested("request"));
  AUXSYNC_ASSIGN(m.request.path, r.String("path"));
  AUXSYNC_ASSIGN(m.request.path_params, ReadStringMap(r, "pathParams"));
  AUXSYNC_ASSIGN(m.request.method, r.Enum("method", kHttpMethods));
  AUXSYNC_ASSIGN(m.request.query, ReadStringMap(r, "query"));
  AUXSYNC_ASSIGN(m.request.headers, ReadStringMap(r, "headers"));
  AUXSYNC_ASSIGN(m.request.body, r.NullableString("body"));
  AUXSYNC_ASSIGN(m.id, f.Number("id"));
  return m;
}

absl::StatusOr<Message> DecodeHttpResponse(const Fields& f, Direction) {
  HttpResponseMessage m;
  AUXSYNC_ASSIGN(m.id, f.Number("id"));
  const Value* r = f.Find("response");
  if (!r || !r->is_object()) return f.TypeError("response", "object", r);
  m.response = *r;
  return m;
}

absl::StatusOr<Message> DecodeHttpPartialResponse(const Fields& f, Direction) {
  HttpPartialResponseMessage m;
  AUXSYNC_ASSIGN(m.id, f.Number("id"));
  AUXSYNC_ASSIGN(m.index, f.Number("index"));
  AUXSYNC_RETURN(f.OptBool("final", m.final));
  const Value* r = f.Find("response");
  if (!r || !r->is_object()) return f.TypeError("response", "object", r);
  m.response = *r;
  return m;
}

struct TypeEntry {
  std::string_view type;
  bool client_to_server;
  bool server_to_client;
  Decoder decode;
};

constexpr TypeEntry kTypes[] = {
    {"login", true, false, DecodeLogin},
    {"login_result", false, true, DecodeLoginResult},
    {"repo/watch_branch", true, false, DecodeWatchBranch},
    {"repo/watch_branch_result", false, true, DecodeWatchBranchResult},
    {"repo/unwatch_branch", true, false,
     DecodeNamespaceOnly<UnwatchBranchMessage>},
    {"repo/add_updates", true, true, DecodeAddUpdates},
    {"repo/updates_received", false, true, DecodeUpdatesReceived},
    {"repo/get_updates", true, false, DecodeNamespaceOnly<GetUpdatesMessage>},
    {"repo/send_action", true, false, DecodeSendAction},
    {"repo/receive_action", false, true, DecodeReceiveAction},
    {"repo/watch_branch_devices", true, false,
     DecodeNamespaceOnly<WatchBranchDevicesMessage>},
    {"repo/unwatch_branch_devices", true, false,
     DecodeNamespaceOnly<UnwatchBranchDevicesMessage>},
    {"repo/connected_to_branch", false, true, DecodeConnectedToBranch},
    {"repo/disconnected_from_branch", false, true,
     DecodeDisconnectedFromBranch},
    {"repo/connection_count", true, true, DecodeConnectionCount},
    {"sync/time", true, false, DecodeSyncTime},
    {"sync/time/response", false, true, DecodeSyncTimeResponse},
    {"rate_limit_exceeded", false, true, DecodeRateLimitExceeded},
    {"permission/request/missing", true, true, DecodeRequestMissingPermission},
    {"permission/request/missing/response", true, true,
     DecodeRequestMissingPermissionResponse},
    {"http_request", true, false, DecodeHttpRequest},
    {"http_response", false, true, DecodeHttpResponse},
    {"http_partial_response", false, true, DecodeHttpPartialResponse},
};

// ---------------------------------------------------------------- encoding

Value Str(const std::string& s) { return Value(s); }
Value NullableStr(const std::optional<std::string>& s) {
  return s ? Value(*s) : Value(nullptr);
}

void PutNamespace(Object& o, const BranchNamespace& ns) {
  o.Set("recordName", NullableStr(ns.record_name));
  o.Set("inst", Str(ns.inst));
  o.Set("branch", Str(ns.branch));
}

Value StringArrayValue(const std::vector<std::string>& items) {
  Value a = Value::NewArray();
  a.as_array().items.reserve(items.size());
  for (const std::string& s : items) a.as_array().items.emplace_back(s);
  return a;
}

Value StringMapValue(
    const std::vector<std::pair<std::string, std::string>>& items) {
  Value o = Value::NewObject();
  for (const auto& [k, v] : items) o.as_object().Set(k, Value(v));
  return o;
}

Value WatchBranchValue(const WatchBranchMessage& m) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  o.Set("type", "repo/watch_branch");
  PutNamespace(o, m.ns);
  if (m.temporary) o.Set("temporary", *m.temporary);
  if (m.markers) o.Set("markers", StringArrayValue(*m.markers));
  return v;
}

Value RemoteActionValue(const RemoteAction& a) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  o.Set("type", std::string(RemoteTypeName(a.kind)));
  if (!a.payload.is_undefined()) o.Set(PayloadKey(a.kind), a.payload);
  if (a.kind == RemoteKind::kRemote && a.allow_batching) {
    o.Set("allowBatching", *a.allow_batching);
  }
  if (!a.task_id.is_undefined()) o.Set("taskId", a.task_id);
  if (a.connection_id) o.Set("connectionId", *a.connection_id);
  if (a.session_id) o.Set("sessionId", *a.session_id);
  if (a.user_id) o.Set("userId", *a.user_id);
  if (a.broadcast) o.Set("broadcast", *a.broadcast);
  return v;
}

Value DeviceActionValue(const DeviceAction& a) {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  o.Set("type", std::string(DeviceTypeName(a.kind)));
  o.Set("connection", ConnectionInfoToValue(a.connection));
  if (!a.payload.is_undefined()) o.Set(PayloadKey(a.kind), a.payload);
  if (!a.task_id.is_undefined()) o.Set("taskId", a.task_id);
  return v;
}

Value ReasonValue(const MissingPermissionReason& r) {
  return bots::MakeObject({{"type", "missing_permission"},
                           {"recordName", r.record_name},
                           {"resourceKind", r.resource_kind},
                           {"resourceId", r.resource_id},
                           {"action", r.action},
                           {"subjectType", r.subject_type},
                           {"subjectId", r.subject_id}});
}

// The object with the keys of `order` first (those it has), then the rest.
Value Reordered(const Value& object, const std::vector<std::string>& order) {
  Value out = Value::NewObject();
  for (const std::string& key : order) {
    if (const Value* v = object.as_object().Find(key)) {
      out.as_object().Set(key, *v);
    }
  }
  object.as_object().ForEach([&](const std::string& k, const Value& v) {
    if (!out.as_object().Has(k)) out.as_object().Set(k, v);
  });
  return out;
}

void AppendExtra(Object& o, const Value& extra) {
  if (!extra.is_object()) return;
  extra.as_object().ForEach(
      [&](const std::string& k, const Value& v) { o.Set(k, v); });
}

struct ToValue {
  Value operator()(const LoginMessage& m) const {
    Value v = Value::NewObject();
    Object& o = v.as_object();
    o.Set("type", "login");
    if (m.connection_token) o.Set("connectionToken", *m.connection_token);
    if (m.connection_id) o.Set("connectionId", *m.connection_id);
    return v;
  }
  Value operator()(const LoginResultMessage& m) const {
    Value v = Value::NewObject();
    Object& o = v.as_object();
    o.Set("type", "login_result");
    o.Set("success", m.success);
    if (m.success) {
      o.Set("info",
            bots::MakeObject({{"userId", NullableStr(m.info.user_id)},
                              {"sessionId", NullableStr(m.info.session_id)},
                              {"connectionId", m.info.connection_id}}));
    } else {
      o.Set("errorCode", m.error_code);
      o.Set("errorMessage", m.error_message);
      if (!m.reason.is_undefined()) o.Set("reason", m.reason);
    }
    return v;
  }
  Value operator()(const WatchBranchMessage& m) const {
    return WatchBranchValue(m);
  }
  Value operator()(const WatchBranchResultMessage& m) const {
    Value v = Value::NewObject();
    Object& o = v.as_object();
    o.Set("type", "repo/watch_branch_result");
    if (m.success) {
      PutNamespace(o, m.ns);
      o.Set("success", true);
    } else {
      // The order of the server's own denials (token scope, limits).
      o.Set("success", false);
      o.Set("errorCode", m.error_code);
      o.Set("errorMessage", m.error_message);
      PutNamespace(o, m.ns);
      if (!m.reason.is_undefined()) o.Set("reason", m.reason);
      AppendExtra(o, m.extra);
      if (!m.key_order.empty()) return Reordered(v, m.key_order);
    }
    return v;
  }
  template <typename T>
  Value NamespaceOnly(std::string_view type, const T& m) const {
    Value v = Value::NewObject();
    v.as_object().Set("type", std::string(type));
    PutNamespace(v.as_object(), m.ns);
    return v;
  }
  Value operator()(const UnwatchBranchMessage& m) const {
    return NamespaceOnly("repo/unwatch_branch", m);
  }
  Value operator()(const GetUpdatesMessage& m) const {
    return NamespaceOnly("repo/get_updates", m);
  }
  Value operator()(const WatchBranchDevicesMessage& m) const {
    return NamespaceOnly("repo/watch_branch_devices", m);
  }
  Value operator()(const UnwatchBranchDevicesMessage& m) const {
    return NamespaceOnly("repo/unwatch_branch_devices", m);
  }
  Value operator()(const AddUpdatesMessage& m) const {
    Value v = NamespaceOnly("repo/add_updates", m);
    Object& o = v.as_object();
    o.Set("updates", StringArrayValue(m.updates));
    if (m.update_id) o.Set("updateId", *m.update_id);
    if (m.initial) o.Set("initial", *m.initial);
    if (m.timestamps) {
      Value a = Value::NewArray();
      for (double t : *m.timestamps) a.as_array().items.emplace_back(t);
      o.Set("timestamps", a);
    }
    return v;
  }
  Value operator()(const UpdatesReceivedMessage& m) const {
    Value v = NamespaceOnly("repo/updates_received", m);
    Object& o = v.as_object();
    if (m.update_id) o.Set("updateId", *m.update_id);
    if (m.error_code) o.Set("errorCode", *m.error_code);
    if (m.max_branch_size_in_bytes) {
      o.Set("maxBranchSizeInBytes", *m.max_branch_size_in_bytes);
    }
    if (m.needed_branch_size_in_bytes) {
      o.Set("neededBranchSizeInBytes", *m.needed_branch_size_in_bytes);
    }
    return v;
  }
  Value operator()(const SendActionMessage& m) const {
    Value v = NamespaceOnly("repo/send_action", m);
    v.as_object().Set("action", RemoteActionValue(m.action));
    return v;
  }
  Value operator()(const ReceiveActionMessage& m) const {
    Value v = NamespaceOnly("repo/receive_action", m);
    if (const DeviceAction* d = std::get_if<DeviceAction>(&m.action)) {
      v.as_object().Set("action", DeviceActionValue(*d));
    } else {
      v.as_object().Set("action", std::get<Value>(m.action));
    }
    return v;
  }
  Value operator()(const ConnectedToBranchMessage& m) const {
    Value v = Value::NewObject();
    Object& o = v.as_object();
    o.Set("type", "repo/connected_to_branch");
    o.Set("broadcast", m.broadcast);
    if (m.listing) {
      o.Set("connection", ConnectionInfoToValue(m.connection));
      o.Set("branch", WatchBranchValue(m.branch));
    } else {
      o.Set("branch", WatchBranchValue(m.branch));
      o.Set("connection", ConnectionInfoToValue(m.connection));
    }
    return v;
  }
  Value operator()(const DisconnectedFromBranchMessage& m) const {
    Value v = Value::NewObject();
    Object& o = v.as_object();
    o.Set("type", "repo/disconnected_from_branch");
    o.Set("broadcast", m.broadcast);
    PutNamespace(o, m.ns);
    o.Set("connection", ConnectionInfoToValue(m.connection));
    return v;
  }
  Value operator()(const ConnectionCountMessage& m) const {
    Value v = Value::NewObject();
    Object& o = v.as_object();
    o.Set("type", "repo/connection_count");
    o.Set("recordName", NullableStr(m.record_name));
    o.Set("inst", NullableStr(m.inst));
    o.Set("branch", NullableStr(m.branch));
    if (m.count) o.Set("count", *m.count);
    return v;
  }
  Value operator()(const SyncTimeMessage& m) const {
    return bots::MakeObject({{"type", "sync/time"},
                             {"id", m.id},
                             {"clientRequestTime", m.client_request_time}});
  }
  Value operator()(const SyncTimeResponseMessage& m) const {
    return bots::MakeObject({{"type", "sync/time/response"},
                             {"id", m.id},
                             {"clientRequestTime", m.client_request_time},
                             {"serverReceiveTime", m.server_receive_time},
                             {"serverTransmitTime", m.server_transmit_time}});
  }
  Value operator()(const RateLimitExceededMessage& m) const {
    return bots::MakeObject({{"type", "rate_limit_exceeded"},
                             {"retryAfter", m.retry_after},
                             {"totalHits", m.total_hits}});
  }
  Value operator()(const RequestMissingPermissionMessage& m) const {
    Value v = bots::MakeObject({{"type", "permission/request/missing"},
                                {"reason", ReasonValue(m.reason)}});
    if (m.connection) {
      v.as_object().Set("connection", ConnectionInfoToValue(*m.connection));
    }
    if (!m.user.is_undefined()) v.as_object().Set("user", m.user);
    return v;
  }
  Value operator()(const RequestMissingPermissionResponseMessage& m) const {
    Value v = bots::MakeObject({{"type", "permission/request/missing/response"},
                                {"success", m.success},
                                {"recordName", m.record_name},
                                {"resourceKind", m.resource_kind},
                                {"resourceId", m.resource_id},
                                {"subjectType", m.subject_type},
                                {"subjectId", m.subject_id}});
    Object& o = v.as_object();
    if (m.error_code) o.Set("errorCode", *m.error_code);
    if (m.error_message) o.Set("errorMessage", *m.error_message);
    if (m.connection) o.Set("connection", ConnectionInfoToValue(*m.connection));
    return v;
  }
  Value operator()(const HttpRequestMessage& m) const {
    const HttpRequest& r = m.request;
    Value request =
        bots::MakeObject({{"path", r.path},
                          {"method", r.method},
                          {"pathParams", StringMapValue(r.path_params)},
                          {"query", StringMapValue(r.query)},
                          {"headers", StringMapValue(r.headers)},
                          {"body", NullableStr(r.body)}});
    return bots::MakeObject(
        {{"type", "http_request"}, {"id", m.id}, {"request", request}});
  }
  Value operator()(const HttpResponseMessage& m) const {
    return bots::MakeObject(
        {{"type", "http_response"}, {"id", m.id}, {"response", m.response}});
  }
  Value operator()(const HttpPartialResponseMessage& m) const {
    Value v = bots::MakeObject(
        {{"type", "http_partial_response"}, {"id", m.id}, {"index", m.index}});
    if (m.final) v.as_object().Set("final", *m.final);
    v.as_object().Set("response", m.response);
    return v;
  }
};

}  // namespace

bots::Value ConnectionInfoToValue(const ConnectionInfo& info) {
  return bots::MakeObject({{"connectionId", info.connection_id},
                           {"sessionId", NullableStr(info.session_id)},
                           {"userId", NullableStr(info.user_id)}});
}

absl::StatusOr<Message> DecodeMessage(const bots::Value& object,
                                      Direction direction) {
  if (!object.is_object()) {
    return TypeErrorAt({}, "object", &object);
  }
  const Value& type = object["type"];
  if (type.is_string()) {
    for (const TypeEntry& e : kTypes) {
      if (e.type != type.as_string()) continue;
      bool allowed = direction == Direction::kClientToServer
                         ? e.client_to_server
                         : e.server_to_client;
      if (!allowed) break;
      return e.decode(Fields(object.as_object(), {}), direction);
    }
  }
  return NoDiscriminatorAt({Value("type")});
}

bots::Value MessageToValue(const Message& message) {
  return std::visit(ToValue{}, message);
}

std::string EncodeMessage(const Message& message) {
  return bots::ToJson(MessageToValue(message));
}

std::string_view MessageType(const Message& message) {
  static_assert(std::variant_size_v<Message> == std::size(kTypes));
  return kTypes[message.index()].type;
}

}  // namespace auxsync::inst
