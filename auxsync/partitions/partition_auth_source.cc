#include "auxsync/partitions/partition_auth_source.h"

#include <array>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "auxsync/bots/js_number.h"

namespace auxsync::partitions {

using bots::MakeObject;
using bots::Value;

namespace {

// JavaScript ToString, as a template literal applies it. Objects print as
// "[object Object]" and arrays as their elements joined with ",", nullish
// elements as "". (Host objects print as plain objects; they never appear in
// auth requests.)
void AppendJsToString(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      out += "undefined";
      return;
    case Value::Kind::kNull:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Kind::kNumber:
      bots::AppendJsNumber(out, v.as_number());
      return;
    case Value::Kind::kString:
      out += v.as_string();
      return;
    case Value::Kind::kArray: {
      bool first = true;
      for (const Value& item : v.as_array().items) {
        if (!first) out += ',';
        first = false;
        if (!item.is_nullish()) AppendJsToString(out, item);
      }
      return;
    }
    case Value::Kind::kObject:
    case Value::Kind::kHost:
      out += "[object Object]";
      return;
  }
}

}  // namespace

std::string AuthRequestKey(const Value& request) {
  const Value& resource = request["resource"];
  std::string key;
  AppendJsToString(key, request["origin"]);
  key += ':';
  AppendJsToString(key, request["kind"]);
  key += ':';
  AppendJsToString(key, request["errorCode"]);
  key += ':';
  AppendJsToString(key, resource["recordName"]);
  key += ':';
  AppendJsToString(key, resource["inst"]);
  key += '}';
  return key;
}

namespace {

Value PermissionResult(std::string_view type, std::string_view origin,
                       const AuthPermissionResultFields& f) {
  Value result = MakeObject({{"type", type},
                             {"success", f.success},
                             {"origin", origin},
                             {"recordName", f.record_name},
                             {"resourceKind", f.resource_kind},
                             {"resourceId", f.resource_id},
                             {"subjectType", f.subject_type},
                             {"subjectId", f.subject_id}});
  if (!f.error_code.is_undefined()) {
    result.as_object().Set("errorCode", f.error_code);
  }
  if (!f.error_message.is_undefined()) {
    result.as_object().Set("errorMessage", f.error_message);
  }
  return result;
}

}  // namespace

// --- Messages ----------------------------------------------------------------

Value InstResource(Value record_name, std::string_view inst,
                   std::string_view branch) {
  return MakeObject({{"type", "inst"},
                     {"recordName", std::move(record_name)},
                     {"inst", inst},
                     {"branch", branch}});
}

Value NeedIndicatorRequest(std::string_view origin) {
  return MakeObject({{"type", kAuthRequestType},
                     {"origin", origin},
                     {"kind", kNeedIndicator}});
}

Value InvalidIndicatorRequest(std::string_view origin, Value indicator,
                              Value error_code, Value error_message,
                              Value reason) {
  return MakeObject({{"type", kAuthRequestType},
                     {"origin", origin},
                     {"kind", kInvalidIndicator},
                     {"indicator", std::move(indicator)},
                     {"errorCode", std::move(error_code)},
                     {"errorMessage", std::move(error_message)},
                     {"reason", std::move(reason)}});
}

Value NotAuthorizedRequest(std::string_view origin, Value error_code,
                           Value error_message, Value reason, Value resource) {
  return MakeObject({{"type", kAuthRequestType},
                     {"kind", kNotAuthorized},
                     {"errorCode", std::move(error_code)},
                     {"errorMessage", std::move(error_message)},
                     {"origin", origin},
                     {"reason", std::move(reason)},
                     {"resource", std::move(resource)}});
}

Value AuthResponseSuccess(std::string_view origin, Value indicator) {
  return MakeObject({{"type", kAuthResponseType},
                     {"success", true},
                     {"origin", origin},
                     {"indicator", std::move(indicator)}});
}

Value AuthResponseFailure(std::string_view origin) {
  return MakeObject(
      {{"type", kAuthResponseType}, {"success", false}, {"origin", origin}});
}

Value AuthPermissionRequest(std::string_view origin, Value reason) {
  return MakeObject({{"type", kAuthPermissionRequestType},
                     {"origin", origin},
                     {"reason", std::move(reason)}});
}

Value AuthExternalPermissionRequest(std::string_view origin, Value reason,
                                    Value user) {
  return MakeObject({{"type", kAuthExternalPermissionRequestType},
                     {"origin", origin},
                     {"reason", std::move(reason)},
                     {"user", std::move(user)}});
}

Value AuthPermissionResult(std::string_view origin,
                           const AuthPermissionResultFields& fields) {
  return PermissionResult(kAuthPermissionResultType, origin, fields);
}

Value AuthExternalPermissionResult(std::string_view origin,
                                   const AuthPermissionResultFields& fields) {
  return PermissionResult(kAuthExternalPermissionResultType, origin, fields);
}

// --- AuthRequestHandle -------------------------------------------------------

void AuthRequestHandle::OnResolved(Continuation continuation) {
  if (resolved_) {
    continuation(response_);
  } else {
    continuations_.push_back(std::move(continuation));
  }
}

void AuthRequestHandle::SetResponse(Value response) {
  assert(!has_response_);
  has_response_ = true;
  response_ = std::move(response);
}

void AuthRequestHandle::Settle() {
  assert(has_response_ && !resolved_);
  resolved_ = true;
  // A continuation may attach more; those run at once (resolved_ is set).
  std::vector<Continuation> continuations = std::move(continuations_);
  continuations_.clear();
  for (Continuation& c : continuations) c(response_);
}

// --- PartitionAuthSource -----------------------------------------------------

class PartitionAuthSource::SendScope {
 public:
  explicit SendScope(PartitionAuthSource& source) : source_(source) {
    ++source_.send_depth_;
  }
  SendScope(const SendScope&) = delete;
  SendScope& operator=(const SendScope&) = delete;
  ~SendScope() {
    if (--source_.send_depth_ > 0) return;
    // Take the list first: continuations may send again (their own
    // outermost scope settles what they cause) or even destroy the source.
    std::vector<std::shared_ptr<AuthRequestHandle>> handles =
        std::move(source_.to_settle_);
    source_.to_settle_.clear();
    for (const std::shared_ptr<AuthRequestHandle>& handle : handles) {
      handle->Settle();
    }
  }

 private:
  PartitionAuthSource& source_;
};

PartitionAuthSource::PartitionAuthSource(
    const std::vector<std::pair<std::string, Value>>& initial_indicators) {
  for (const auto& [origin, indicator] : initial_indicators) {
    indicators_.insert_or_assign(origin, indicator);
  }
  // Subscribed first, so an indicator is stored before anyone else (in
  // particular a request waiting for it) sees the response.
  indicator_subscription_ = on_response_.Subscribe(
      [this](const Value& response) { StoreIndicator(response); });
}

PartitionAuthSource::~PartitionAuthSource() = default;

void PartitionAuthSource::StoreIndicator(const Value& response) {
  if (!bots::IsTruthy(response["success"])) return;
  const Value& origin = response["origin"];
  // Upstream keys a Map by the origin value; only string keys can ever be
  // looked up by GetConnectionIndicatorForOrigin(string).
  if (!origin.is_string()) return;
  indicators_.insert_or_assign(origin.as_string(), response["indicator"]);
}

rx::Subscription PartitionAuthSource::OnAuthRequest(
    AuthMessageCallback callback) {
  return on_request_.Subscribe(std::move(callback));
}
rx::Subscription PartitionAuthSource::OnAuthResponse(
    AuthMessageCallback callback) {
  return on_response_.Subscribe(std::move(callback));
}
rx::Subscription PartitionAuthSource::OnAuthPermissionRequest(
    AuthMessageCallback callback) {
  return on_permission_request_.Subscribe(std::move(callback));
}
rx::Subscription PartitionAuthSource::OnAuthPermissionResult(
    AuthMessageCallback callback) {
  return on_permission_result_.Subscribe(std::move(callback));
}
rx::Subscription PartitionAuthSource::OnAuthExternalPermissionRequest(
    AuthMessageCallback callback) {
  return on_external_permission_request_.Subscribe(std::move(callback));
}
rx::Subscription PartitionAuthSource::OnAuthExternalPermissionResult(
    AuthMessageCallback callback) {
  return on_external_permission_result_.Subscribe(std::move(callback));
}

rx::Subscription PartitionAuthSource::OnAuthMessage(
    AuthMessageCallback callback) {
  auto subs = std::make_shared<std::array<rx::Subscription, 6>>();
  (*subs)[0] = on_request_.Subscribe(callback);
  (*subs)[1] = on_response_.Subscribe(callback);
  (*subs)[2] = on_permission_request_.Subscribe(callback);
  (*subs)[3] = on_permission_result_.Subscribe(callback);
  (*subs)[4] = on_external_permission_request_.Subscribe(callback);
  (*subs)[5] = on_external_permission_result_.Subscribe(std::move(callback));
  return rx::Subscription([subs] {
    for (rx::Subscription& s : *subs) s.Unsubscribe();
  });
}

rx::Subscription PartitionAuthSource::OnAuthResponseForOrigin(
    std::string origin, AuthMessageCallback callback) {
  return on_response_.Subscribe(
      [origin = std::move(origin),
       callback = std::move(callback)](const Value& response) {
        const Value& o = response["origin"];
        if (o.is_string() && o.as_string() == origin) callback(response);
      });
}

Value PartitionAuthSource::GetConnectionIndicatorForOrigin(
    std::string_view origin) const {
  // Debian's Abseil has its own string_view type.
  auto it = indicators_.find(absl::string_view(origin.data(), origin.size()));
  // `this._indicators.get(origin) ?? null`
  if (it == indicators_.end() || it->second.is_nullish()) return nullptr;
  return it->second;
}

std::shared_ptr<AuthRequestHandle> PartitionAuthSource::SendAuthRequest(
    const Value& request) {
  assert(!request.is_nullish() && "an auth request must be an object");
  SendScope scope(*this);
  std::string key = AuthRequestKey(request);
  if (auto it = requests_.find(key); it != requests_.end()) {
    return it->second;
  }

  auto handle = std::make_shared<AuthRequestHandle>(AuthRequestHandle::Key());
  const uint64_t id = next_listener_id_++;
  listeners_.emplace(id, on_response_.Subscribe([this, id, key, handle,
                                                 origin = request["origin"]](
                                                    const Value& response) {
    if (!bots::StrictEquals(response["origin"], origin)) return;
    requests_.erase(key);
    handle->SetResponse(response);
    to_settle_.push_back(handle);
    // Last: ends this registration (upstream's `first`).
    listeners_.erase(id);
  }));
  on_request_.Next(request);
  // Cached only now: a response delivered during Next() has already tried
  // (and failed) to remove it, so a resolved handle stays cached (N60).
  requests_.insert_or_assign(std::move(key), handle);
  return handle;
}

void PartitionAuthSource::SendAuthResponse(const Value& response) {
  SendScope scope(*this);
  on_response_.Next(response);
}

void PartitionAuthSource::SendAuthPermissionRequest(const Value& request) {
  SendScope scope(*this);
  on_permission_request_.Next(request);
}

void PartitionAuthSource::SendAuthPermissionResult(const Value& result) {
  SendScope scope(*this);
  on_permission_result_.Next(result);
}

void PartitionAuthSource::SendAuthExternalPermissionRequest(
    const Value& request) {
  SendScope scope(*this);
  on_external_permission_request_.Next(request);
}

void PartitionAuthSource::SendAuthExternalPermissionResult(
    const Value& result) {
  SendScope scope(*this);
  on_external_permission_result_.Next(result);
}

absl::Status PartitionAuthSource::SendAuthMessage(const Value& message) {
  if (message.is_nullish()) {
    return absl::InvalidArgumentError(
        "auth message must not be null or undefined");
  }
  const Value& type = message["type"];
  if (!type.is_string()) return absl::OkStatus();
  const std::string& t = type.as_string();
  if (t == kAuthResponseType) {
    SendAuthResponse(message);
  } else if (t == kAuthRequestType) {
    SendAuthRequest(message);
  } else if (t == kAuthPermissionRequestType) {
    SendAuthPermissionRequest(message);
  } else if (t == kAuthPermissionResultType) {
    SendAuthPermissionResult(message);
  } else if (t == kAuthExternalPermissionRequestType) {
    SendAuthExternalPermissionRequest(message);
  } else if (t == kAuthExternalPermissionResultType) {
    SendAuthExternalPermissionResult(message);
  }
  return absl::OkStatus();
}

}  // namespace auxsync::partitions
