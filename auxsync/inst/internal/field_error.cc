#include "auxsync/inst/internal/field_error.h"

#include <optional>

#include "absl/strings/cord.h"
#include "auxsync/bots/json.h"
#include "auxsync/inst/internal/strings.h"

namespace auxsync::inst::internal {

std::string PathToString(std::string_view root, const FieldPath& path) {
  std::string out(root);
  for (const bots::Value& p : path) {
    if (p.is_number()) {
      out += Cat("[", static_cast<int64_t>(p.as_number()), "]");
    } else {
      out += Cat(".", p.as_string());
    }
  }
  return out;
}

absl::Status FieldError(std::string_view root, const FieldPath& path,
                        std::string_view code, std::string_view message) {
  absl::Status status =
      absl::InvalidArgumentError(Cat(PathToString(root, path), ": ", message));
  bots::Value path_value = bots::Value::NewArray();
  for (const bots::Value& p : path) path_value.as_array().items.push_back(p);
  bots::Value issue = bots::MakeObject({{"code", std::string(code)},
                                        {"path", path_value},
                                        {"message", std::string(message)}});
  status.SetPayload(Sv(kIssuePayloadUrl), absl::Cord(bots::ToJson(issue)));
  return status;
}

absl::Status IssueError(std::string_view root, const FieldPath& path,
                        std::string_view message, const bots::Value& issue) {
  absl::Status status =
      absl::InvalidArgumentError(Cat(PathToString(root, path), ": ", message));
  status.SetPayload(Sv(kIssuePayloadUrl), absl::Cord(bots::ToJson(issue)));
  return status;
}

bots::Value IssueOf(const absl::Status& status) {
  auto payload = status.GetPayload(Sv(kIssuePayloadUrl));
  if (!payload) return bots::Value();
  absl::StatusOr<bots::Value> v = bots::ParseJson(std::string(*payload));
  return v.ok() ? *v : bots::Value();
}

std::string_view ZodTypeName(const bots::Value& v) {
  switch (v.kind()) {
    case bots::Value::Kind::kUndefined:
      return "undefined";
    case bots::Value::Kind::kNull:
      return "null";
    case bots::Value::Kind::kBool:
      return "boolean";
    case bots::Value::Kind::kNumber:
      return "number";
    case bots::Value::Kind::kString:
      return "string";
    case bots::Value::Kind::kArray:
      return "array";
    default:
      return "object";
  }
}

}  // namespace auxsync::inst::internal
