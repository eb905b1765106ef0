#include "auxsync/inst/frame.h"

#include <cmath>

#include "absl/strings/cord.h"
#include "auxsync/bots/json.h"
#include "auxsync/inst/internal/field_error.h"
#include "auxsync/inst/internal/strings.h"

namespace auxsync::inst {
namespace {

using bots::Value;

constexpr std::string_view kFramePayloadUrl = "auxsync.inst/frame";
constexpr std::string_view kUnacceptableRequestMessage =
    "The request was invalid. One or more fields were invalid.";

// A decode failure of `kind`; `issue` (if any) is the zod-style issue
// object the server lists in its reply, or an array of them.
absl::Status Fail(FrameErrorKind kind, std::optional<double> id,
                  std::string message, Value issue = Value()) {
  absl::Status status = absl::InvalidArgumentError(std::move(message));
  Value payload = bots::MakeObject({{"kind", static_cast<double>(kind)},
                                    {"id", id ? Value(*id) : Value(nullptr)},
                                    {"issue", issue}});
  status.SetPayload(internal::Sv(kFramePayloadUrl),
                    absl::Cord(bots::ToJson(payload)));
  return status;
}

Value EnvelopeIssue(std::string_view expected, std::string_view code,
                    Value path, const Value& got) {
  Value issue = bots::MakeObject(
      {{"expected", std::string(expected)}, {"code", std::string(code)}});
  // zod names a non-finite number (1e999 parses to Infinity) in
  // "received", as "Infinity" whatever its sign.
  if (got.is_number() && !std::isfinite(got.as_number())) {
    issue.as_object().Set("received", "Infinity");
  }
  issue.as_object().Set("path", std::move(path));
  issue.as_object().Set(
      "message", internal::Cat("Invalid input: expected ", expected,
                               ", received ", internal::ZodTypeName(got)));
  return issue;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadHeaders(
    const Value& v) {
  if (!v.is_object()) return absl::InvalidArgumentError("expected object");
  std::vector<std::pair<std::string, std::string>> out;
  bool ok = true;
  v.as_object().ForEach([&](const std::string& k, const Value& item) {
    if (!item.is_string()) {
      ok = false;
      return;
    }
    out.emplace_back(k, item.as_string());
  });
  if (!ok) return absl::InvalidArgumentError("expected string values");
  return out;
}

// [3|4, id, url, method, headers]
absl::StatusOr<TransferEvent> ReadTransfer(const std::vector<Value>& items,
                                           FrameErrorKind kind) {
  double id = items[1].as_number();
  if (items.size() < 5 || !items[2].is_string() || !items[3].is_string()) {
    return Fail(kind, id,
                "frame: expected [type, id, url, method, headers] with "
                "string url and method");
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> headers =
      ReadHeaders(items[4]);
  if (!headers.ok()) {
    return Fail(
        kind, id,
        internal::Cat("frame[4] (headers): ", headers.status().message()));
  }
  TransferEvent t;
  t.id = id;
  t.url = items[2].as_string();
  t.method = items[3].as_string();
  t.headers = *std::move(headers);
  return t;
}

Value HeadersValue(const std::vector<std::pair<std::string, std::string>>& h) {
  Value o = Value::NewObject();
  for (const auto& [k, v] : h) o.as_object().Set(k, Value(v));
  return o;
}

Value IdValue(std::optional<double> id) {
  return id ? Value(*id) : Value(nullptr);
}

}  // namespace

std::string_view ErrorInfo::error_code() const {
  const Value& v = fields["errorCode"];
  return v.is_string() ? std::string_view(v.as_string()) : std::string_view();
}

std::string_view ErrorInfo::error_message() const {
  const Value& v = fields["errorMessage"];
  return v.is_string() ? std::string_view(v.as_string()) : std::string_view();
}

std::optional<BranchNamespace> ErrorInfo::branch() const {
  const Value& r = fields["recordName"];
  const Value& i = fields["inst"];
  const Value& b = fields["branch"];
  if (!(r.is_null() || r.is_string()) || !i.is_string() || !b.is_string()) {
    return std::nullopt;
  }
  BranchNamespace ns;
  if (r.is_string()) ns.record_name = r.as_string();
  ns.inst = i.as_string();
  ns.branch = b.as_string();
  return ns;
}

ErrorInfo MakeErrorInfo(std::string_view error_code,
                        std::string_view error_message) {
  return ErrorInfo{
      bots::MakeObject({{"success", false},
                        {"errorCode", std::string(error_code)},
                        {"errorMessage", std::string(error_message)}})};
}

ErrorInfo MakeBranchErrorInfo(std::string_view error_code,
                              std::string_view error_message,
                              const BranchNamespace& ns, bots::Value reason) {
  ErrorInfo info = MakeErrorInfo(error_code, error_message);
  bots::Object& o = info.fields.as_object();
  o.Set("recordName", ns.record_name ? Value(*ns.record_name) : Value(nullptr));
  o.Set("inst", ns.inst);
  o.Set("branch", ns.branch);
  if (!reason.is_undefined()) o.Set("reason", std::move(reason));
  return info;
}

absl::StatusOr<Event> DecodeFrame(std::string_view text, Direction direction,
                                  const FrameLimits& limits) {
  const bool from_client = direction == Direction::kClientToServer;
  if (text.size() > limits.max_frame_bytes) {
    return Fail(
        FrameErrorKind::kIgnored, std::nullopt,
        internal::Cat("frame: ", text.size(), " bytes exceed the limit of ",
                      limits.max_frame_bytes));
  }
  absl::StatusOr<Value> parsed = bots::ParseJson(
      text, {.max_depth = limits.max_depth, .decode_tags = false});
  if (!parsed.ok()) {
    return Fail(FrameErrorKind::kIgnored, std::nullopt,
                internal::Cat("frame: not JSON: ", parsed.status().message()));
  }
  const Value& root = *parsed;
  if (root.is_bool() || root.is_number() || root.is_string()) {
    return Fail(FrameErrorKind::kIgnored, std::nullopt,
                "frame: a JSON primitive, not an event array");
  }
  // The envelope: [type 1-5, numeric id, ...]. The client side drops
  // anything that is not an array of at least 3 items (an Error may carry a
  // null id); the server side answers [5, null, ...].
  const FrameErrorKind envelope_kind =
      from_client ? FrameErrorKind::kBadEnvelope : FrameErrorKind::kIgnored;
  if (!root.is_array()) {
    return Fail(
        envelope_kind, std::nullopt,
        internal::Cat("frame: expected an event array, received ",
                      internal::ZodTypeName(root)),
        EnvelopeIssue("tuple", "invalid_type", Value::NewArray(), root));
  }
  const std::vector<Value>& items = root.as_array().items;
  if (!from_client && items.size() < 3) {
    return Fail(FrameErrorKind::kIgnored, std::nullopt,
                "frame: expected at least 3 items");
  }
  // zod checks both tuple elements and lists every failure: a bad type at
  // [0] and a missing or non-finite id at [1].
  const Value missing;
  const Value& type_value = items.empty() ? missing : items[0];
  int type = 0;
  if (type_value.is_number() && std::isfinite(type_value.as_number())) {
    double t = type_value.as_number();
    if (t == 1 || t == 2 || t == 3 || t == 4 || t == 5)
      type = static_cast<int>(t);
  }
  const Value& id_value = items.size() > 1 ? items[1] : missing;
  const bool null_id_ok = !from_client && type == 5;
  const bool id_ok =
      id_value.is_number() && std::isfinite(id_value.as_number());
  Value issues = Value::NewArray();
  std::string problem;
  if (type == 0) {
    problem = "frame[0] (type): expected one of 1, 2, 3, 4, 5";
    issues.as_array().items.push_back(bots::MakeObject(
        {{"code", "invalid_value"},
         {"values", bots::MakeArray({1, 2, 3, 4, 5})},
         {"path", bots::MakeArray({0})},
         {"message", "Invalid option: expected one of 1|2|3|4|5"}}));
  }
  if (!id_ok && !(null_id_ok && id_value.is_null())) {
    if (problem.empty()) {
      problem = internal::Cat("frame[1] (id): expected number, received ",
                              internal::ZodTypeName(id_value));
    }
    issues.as_array().items.push_back(EnvelopeIssue(
        "number", "invalid_type", bots::MakeArray({1}), id_value));
  }
  if (!issues.as_array().items.empty()) {
    return Fail(envelope_kind, std::nullopt, std::move(problem),
                std::move(issues));
  }
  std::optional<double> id;
  if (id_ok) id = id_value.as_number();

  switch (type) {
    case 1: {
      const Value message_value = items.size() > 2 ? items[2] : Value();
      if (!from_client && !message_value.is_object()) {
        return Fail(FrameErrorKind::kIgnored, id,
                    "frame[2] (message): expected an object");
      }
      absl::StatusOr<Message> message = DecodeMessage(message_value, direction);
      if (!message.ok()) {
        return Fail(from_client ? FrameErrorKind::kBadMessage
                                : FrameErrorKind::kIgnored,
                    id, std::string(message.status().message()),
                    internal::IssueOf(message.status()));
      }
      return MessageEvent{*id, *std::move(message)};
    }
    case 2:
      if (!from_client) {
        return Fail(FrameErrorKind::kIgnored, id,
                    "frame: an upload request from a server");
      }
      return UploadRequestEvent{*id};
    case 3: {
      if (from_client) {
        return Fail(FrameErrorKind::kUnexpectedEvent, id,
                    "frame: an upload response from a client");
      }
      absl::StatusOr<TransferEvent> t =
          ReadTransfer(items, FrameErrorKind::kIgnored);
      if (!t.ok()) return t.status();
      return UploadResponseEvent{*std::move(t)};
    }
    case 4: {
      absl::StatusOr<TransferEvent> t =
          ReadTransfer(items, from_client ? FrameErrorKind::kBadMessage
                                          : FrameErrorKind::kIgnored);
      if (!t.ok()) return t.status();
      return DownloadRequestEvent{*std::move(t)};
    }
    default: {
      if (from_client) {
        return Fail(FrameErrorKind::kUnexpectedEvent, id,
                    "frame: an error event from a client");
      }
      const Value& info = items[2];
      if (!info.is_object() || !info["errorCode"].is_string() ||
          !info["errorMessage"].is_string()) {
        return Fail(FrameErrorKind::kIgnored, id,
                    "frame[2] (errorInfo): expected an object with string "
                    "errorCode and errorMessage");
      }
      const Value& issues = info["issues"];
      if (!issues.is_undefined() && !issues.is_array()) {
        return Fail(FrameErrorKind::kIgnored, id,
                    "frame[2].issues: expected an array");
      }
      return ErrorEvent{id, ErrorInfo{info}};
    }
  }
}

FrameError FrameErrorOf(const absl::Status& status) {
  FrameError error;
  auto payload = status.GetPayload(internal::Sv(kFramePayloadUrl));
  if (!payload) return error;
  absl::StatusOr<Value> v = bots::ParseJson(std::string(*payload));
  if (!v.ok()) return error;
  error.kind = static_cast<FrameErrorKind>((*v)["kind"].as_number());
  if ((*v)["id"].is_number()) error.request_id = (*v)["id"].as_number();
  error.issues = Value::NewArray();
  const Value& issue = (*v)["issue"];
  if (issue.is_object()) {
    error.issues.as_array().items.push_back(issue);
  } else if (issue.is_array()) {
    error.issues = issue;
  }
  return error;
}

std::optional<std::string> ServerReplyToBadFrame(const absl::Status& status) {
  FrameError error = FrameErrorOf(status);
  if (error.kind != FrameErrorKind::kBadEnvelope &&
      error.kind != FrameErrorKind::kBadMessage) {
    return std::nullopt;
  }
  ErrorInfo info =
      MakeErrorInfo("unacceptable_request", kUnacceptableRequestMessage);
  info.fields.as_object().Set("issues", error.issues);
  return EncodeFrame(ErrorEvent{error.kind == FrameErrorKind::kBadEnvelope
                                    ? std::nullopt
                                    : error.request_id,
                                std::move(info)});
}

std::string EncodeFrame(const Event& event) {
  struct ToArray {
    Value operator()(const MessageEvent& e) const {
      return bots::MakeArray({1, e.id, MessageToValue(e.message)});
    }
    Value operator()(const UploadRequestEvent& e) const {
      return bots::MakeArray({2, e.id});
    }
    Value operator()(const UploadResponseEvent& e) const {
      return bots::MakeArray(
          {3, e.id, e.url, e.method, HeadersValue(e.headers)});
    }
    Value operator()(const DownloadRequestEvent& e) const {
      return bots::MakeArray(
          {4, e.id, e.url, e.method, HeadersValue(e.headers)});
    }
    Value operator()(const ErrorEvent& e) const {
      return bots::MakeArray({5, IdValue(e.id), e.info.fields});
    }
  };
  return bots::ToJson(std::visit(ToArray{}, event));
}

std::string EncodeMessageFrame(const Message& message, double id) {
  return EncodeFrame(MessageEvent{id, message});
}

std::string UploadNotSupportedFrame(double request_id) {
  return EncodeFrame(ErrorEvent{
      request_id,
      MakeErrorInfo("not_supported", "Upload requests are not supported.")});
}

std::string DownloadNotFoundFrame(double request_id) {
  return EncodeFrame(ErrorEvent{
      request_id, MakeErrorInfo("message_not_found", "Message not found.")});
}

HttpResponseMessage HttpNotSupportedResponse(double request_id) {
  Value body = bots::MakeObject(
      {{"success", false},
       {"errorCode", "not_supported"},
       {"errorMessage", "HTTP requests over websockets are not supported."}});
  Value response = bots::MakeObject(
      {{"statusCode", 501},
       {"headers", bots::MakeObject({{"content-type", "application/json"}})},
       {"body", bots::ToJson(body)}});
  return HttpResponseMessage{request_id, response};
}

}  // namespace auxsync::inst
