// Validation errors of the inst codec, with the field path kept in a
// status payload so the frame layer can build the server's `issues` list.
// Private to auxsync/inst.

#ifndef AUXSYNC_INST_INTERNAL_FIELD_ERROR_H_
#define AUXSYNC_INST_INTERNAL_FIELD_ERROR_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "auxsync/bots/value.h"

namespace auxsync::inst::internal {

// A JSON path: string keys and array indices (numbers), as zod reports it.
using FieldPath = std::vector<bots::Value>;

inline constexpr std::string_view kIssuePayloadUrl = "auxsync.inst/issue";

// "message.updates[2]" for {"updates", 2} under `root`.
std::string PathToString(std::string_view root, const FieldPath& path);

// kInvalidArgument "<root><path>: <message>" carrying the zod-style issue
// {"code","path","message"} (JSON) as a payload.
absl::Status FieldError(std::string_view root, const FieldPath& path,
                        std::string_view code, std::string_view message);

// Like FieldError, with a complete issue object (for the issues whose exact
// zod form is known, e.g. an unknown message type).
absl::Status IssueError(std::string_view root, const FieldPath& path,
                        std::string_view message, const bots::Value& issue);

// The issue object of a FieldError status, or undefined if it has none.
bots::Value IssueOf(const absl::Status& status);

// The type name zod's messages use for a value ("received number"): the
// JavaScript typeof, except "null" and "array".
std::string_view ZodTypeName(const bots::Value& v);

}  // namespace auxsync::inst::internal

#endif  // AUXSYNC_INST_INTERNAL_FIELD_ERROR_H_
