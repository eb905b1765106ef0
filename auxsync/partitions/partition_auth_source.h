// PartitionAuthSource: the message hub between partitions, which need
// credentials, and the UI, which can supply them (spec/partitions.md
// section 11; aux-common's PartitionAuthSource).

#ifndef AUXSYNC_PARTITIONS_PARTITION_AUTH_SOURCE_H_
#define AUXSYNC_PARTITIONS_PARTITION_AUTH_SOURCE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "auxsync/bots/value.h"
#include "auxsync/rx/subject.h"
#include "auxsync/rx/subscription.h"

namespace auxsync::partitions {

// ---------------------------------------------------------------------------
// Messages. Every auth message is a plain object whose "type" is one of
// these; the builders below produce the shapes (and key orders) that
// CasualOS itself sends. A key given the value undefined stays in the object
// as in JavaScript, and JSON leaves it out.

inline constexpr std::string_view kAuthRequestType = "request";
inline constexpr std::string_view kAuthResponseType = "response";
inline constexpr std::string_view kAuthPermissionRequestType =
    "permission_request";
inline constexpr std::string_view kAuthPermissionResultType =
    "permission_result";
inline constexpr std::string_view kAuthExternalPermissionRequestType =
    "external_permission_request";
inline constexpr std::string_view kAuthExternalPermissionResultType =
    "external_permission_result";

// The "kind" of a request.
inline constexpr std::string_view kNeedIndicator = "need_indicator";
inline constexpr std::string_view kInvalidIndicator = "invalid_indicator";
inline constexpr std::string_view kNotAuthorized = "not_authorized";

// {"type":"inst","recordName","inst","branch"}; `record_name` is a string
// or null.
bots::Value InstResource(bots::Value record_name, std::string_view inst,
                         std::string_view branch);

// What a connection without an indicator asks for:
// {"type":"request","origin","kind":"need_indicator"}.
bots::Value NeedIndicatorRequest(std::string_view origin);

// What a connection sends when the server rejected `indicator` at login:
// {"type":"request","origin","kind":"invalid_indicator","indicator",
// "errorCode","errorMessage","reason"}.
bots::Value InvalidIndicatorRequest(std::string_view origin,
                                    bots::Value indicator,
                                    bots::Value error_code,
                                    bots::Value error_message,
                                    bots::Value reason);

// What a remote partition sends when it was denied a branch:
// {"type":"request","kind":"not_authorized","errorCode","errorMessage",
// "origin","reason","resource"} (`resource` from InstResource()).
bots::Value NotAuthorizedRequest(std::string_view origin,
                                 bots::Value error_code,
                                 bots::Value error_message, bots::Value reason,
                                 bots::Value resource);

// {"type":"response","success":true,"origin","indicator"}; the indicator is
// {"connectionToken"} or {"connectionId"}.
bots::Value AuthResponseSuccess(std::string_view origin, bots::Value indicator);
// {"type":"response","success":false,"origin"}
bots::Value AuthResponseFailure(std::string_view origin);

// {"type":"permission_request","origin","reason"}; `reason` is a
// missing-permission denial ({"type":"missing_permission","recordName",
// "resourceKind","resourceId","action","subjectType","subjectId"}).
bots::Value AuthPermissionRequest(std::string_view origin, bots::Value reason);
// {"type":"external_permission_request","origin","reason","user"}; `user`
// is public user info or null.
bots::Value AuthExternalPermissionRequest(std::string_view origin,
                                          bots::Value reason, bots::Value user);

// The fields of a (external) permission result. A failure also carries
// error_code and error_message; leave them undefined on success.
struct AuthPermissionResultFields {
  bool success = false;
  std::string record_name;
  std::string resource_kind;
  std::string resource_id;
  std::string subject_type;
  std::string subject_id;
  bots::Value error_code;
  bots::Value error_message;
};
// {"type":"permission_result","success","origin","recordName",
// "resourceKind","resourceId","subjectType","subjectId"} plus "errorCode" and
// "errorMessage" when they are not undefined.
bots::Value AuthPermissionResult(std::string_view origin,
                                 const AuthPermissionResultFields& fields);
// The same with "type":"external_permission_result".
bots::Value AuthExternalPermissionResult(
    std::string_view origin, const AuthPermissionResultFields& fields);

// The de-duplication key of an auth request: the template string
// `${origin}:${kind}:${errorCode}:${resource?.recordName}:${resource?.inst}}`
// with JavaScript's ToString of each part, so an absent part prints
// "undefined" and null prints "null" (a null record name and the record
// name "null" share a key). The branch is not part of it, and the key really
// ends with a stray "}", as upstream's does.
std::string AuthRequestKey(const bots::Value& request);

// ---------------------------------------------------------------------------

// The pending result of SendAuthRequest(): the C++ form of the promise
// aux-common returns. It resolves once, with the first auth response whose
// origin equals the request's (success or failure, whatever its kind).
//
// Handles are shared: identical requests sent while one is pending get the
// same handle, so compare the std::shared_ptrs for identity. Single-threaded,
// like the source that made it.
class AuthRequestHandle {
 public:
  using Continuation = std::function<void(const bots::Value& response)>;

  // Only PartitionAuthSource can make one (it alone holds a Key).
  class Key {
    friend class PartitionAuthSource;
    Key() = default;
  };
  explicit AuthRequestHandle(Key) {}
  AuthRequestHandle(const AuthRequestHandle&) = delete;
  AuthRequestHandle& operator=(const AuthRequestHandle&) = delete;

  // True once the continuations of the resolution have been released (see
  // PartitionAuthSource for when that happens).
  [[nodiscard]] bool resolved() const { return resolved_; }
  // The response; only valid when resolved().
  [[nodiscard]] const bots::Value& response() const { return response_; }

  // Runs `continuation` with the response: at once if already resolved,
  // otherwise when the handle resolves. Continuations run in the order they
  // were attached.
  void OnResolved(Continuation continuation);

 private:
  friend class PartitionAuthSource;

  // Records the response; Settle() later marks the handle resolved and runs
  // the continuations.
  void SetResponse(bots::Value response);
  void Settle();

  bool has_response_ = false;
  bool resolved_ = false;
  bots::Value response_;
  std::vector<Continuation> continuations_;
};

using AuthMessageCallback = std::function<void(const bots::Value& message)>;

// Six hot streams of auth messages, one per message type, plus request
// de-duplication and a per-origin store of connection indicators.
//
// Single-threaded: all calls and all callbacks happen on one thread. Every
// stream is a Subject: subscribers only get messages sent after they
// subscribed, synchronously, in subscription order. Callbacks may send
// further messages. The source must not be destroyed from inside one of its
// own callbacks or continuations.
//
// Promise timing: aux-common resolves the request's promise synchronously
// but runs `then` callbacks as microtasks. Here an AuthRequestHandle
// resolves (and runs its continuations) when the outermost Send* call on
// this source that delivered its response returns, i.e. after every
// subscriber has seen that response.
class PartitionAuthSource {
 public:
  // `initial_indicators`: origin -> connection indicator pairs, as given to
  // the upstream constructor's Map (a later duplicate origin wins).
  explicit PartitionAuthSource(
      const std::vector<std::pair<std::string, bots::Value>>&
          initial_indicators = {});
  ~PartitionAuthSource();

  PartitionAuthSource(const PartitionAuthSource&) = delete;
  PartitionAuthSource& operator=(const PartitionAuthSource&) = delete;

  // The streams. Each returns the RAII registration of `callback`.
  [[nodiscard]] rx::Subscription OnAuthRequest(AuthMessageCallback callback);
  [[nodiscard]] rx::Subscription OnAuthResponse(AuthMessageCallback callback);
  [[nodiscard]] rx::Subscription OnAuthPermissionRequest(
      AuthMessageCallback callback);
  [[nodiscard]] rx::Subscription OnAuthPermissionResult(
      AuthMessageCallback callback);
  [[nodiscard]] rx::Subscription OnAuthExternalPermissionRequest(
      AuthMessageCallback callback);
  [[nodiscard]] rx::Subscription OnAuthExternalPermissionResult(
      AuthMessageCallback callback);
  // All six streams merged.
  [[nodiscard]] rx::Subscription OnAuthMessage(AuthMessageCallback callback);
  // The responses whose origin is `origin` (a string, compared exactly).
  [[nodiscard]] rx::Subscription OnAuthResponseForOrigin(
      std::string origin, AuthMessageCallback callback);

  // The indicator stored for `origin` by the last successful response (or
  // the constructor), or null when there is none. The value is shared with
  // the response it came from, as in JavaScript.
  [[nodiscard]] bots::Value GetConnectionIndicatorForOrigin(
      std::string_view origin) const;

  // Sends a request and returns the handle for its response.
  //
  // De-duplication, exactly as upstream, by AuthRequestKey(). While a handle
  // for the key is cached, it is returned and nothing is emitted. Otherwise a
  // listener for the first response with the same origin is attached, the
  // request is emitted on OnAuthRequest, and only then is the handle cached. A
  // response removes its request's key from the cache. So a response sent
  // synchronously by an OnAuthRequest listener arrives before the handle is
  // cached, and the (resolved) handle then stays cached for good: later
  // identical requests return it and emit nothing (checklist N60).
  //
  // `request` should be an object ({"type":"request",...}); upstream throws
  // on null/undefined (asserted here).
  std::shared_ptr<AuthRequestHandle> SendAuthRequest(
      const bots::Value& request);

  // Emits on the matching stream. Before any other subscriber sees a
  // response, one with a truthy "success" and a string "origin" stores its
  // "indicator" for that origin.
  void SendAuthResponse(const bots::Value& response);
  void SendAuthPermissionRequest(const bots::Value& request);
  void SendAuthPermissionResult(const bots::Value& result);
  void SendAuthExternalPermissionRequest(const bots::Value& request);
  void SendAuthExternalPermissionResult(const bots::Value& result);

  // Dispatches on message["type"] to the six senders above; a message of
  // any other type is ignored (OK). A null/undefined message is an
  // InvalidArgument error (upstream throws a TypeError).
  absl::Status SendAuthMessage(const bots::Value& message);

  // The number of cached request handles (pending ones, plus those kept by
  // the N60 quirk). For tests and diagnostics.
  [[nodiscard]] size_t cached_request_count() const { return requests_.size(); }

 private:
  // Counts nested Send* calls; the outermost one settles the handles whose
  // responses arrived during it.
  class SendScope;
  struct PendingListener;

  void StoreIndicator(const bots::Value& response);

  rx::Subject<bots::Value> on_request_;
  rx::Subject<bots::Value> on_response_;
  rx::Subject<bots::Value> on_permission_request_;
  rx::Subject<bots::Value> on_permission_result_;
  rx::Subject<bots::Value> on_external_permission_request_;
  rx::Subject<bots::Value> on_external_permission_result_;

  absl::flat_hash_map<std::string, bots::Value> indicators_;
  // De-duplication key -> handle.
  absl::flat_hash_map<std::string, std::shared_ptr<AuthRequestHandle>>
      requests_;
  // Listeners waiting for a response, by id.
  absl::flat_hash_map<uint64_t, rx::Subscription> listeners_;
  uint64_t next_listener_id_ = 0;

  int send_depth_ = 0;
  std::vector<std::shared_ptr<AuthRequestHandle>> to_settle_;

  // Declared last so it is released first: it stores indicators.
  rx::Subscription indicator_subscription_;
};

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_PARTITION_AUTH_SOURCE_H_
