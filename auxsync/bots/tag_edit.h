// Tag edits: in-place text changes of a tag or mask value
// (spec/partitions.md section 3).
//
// A TagEdit is the JavaScript object
//   {"\u0011tag_edit": true, "version": {...}, "operations": [[op, ...], ...]}
// with ops {"type":"preserve","count":n}, {"type":"insert","text":s},
// {"type":"delete","count":n}, and optionally "isRemote": true. It stays a
// Value so that it travels and merges exactly as in aux-common.

#ifndef AUXSYNC_BOTS_TAG_EDIT_H_
#define AUXSYNC_BOTS_TAG_EDIT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"

namespace auxsync::bots {

// The marker key: U+0011 followed by "tag_edit".
inline constexpr std::string_view kTagEditMarker = "\x11tag_edit";

// isTagEdit: a non-null object whose marker property is exactly true.
bool IsTagEdit(const Value& v);

// Operation builders: preserve(n), insert(s), del(n).
Value Preserve(double count);
Value Insert(std::string_view text);
Value Del(double count);

// edit(version, ...ops): one operation sequence.
Value Edit(Value version, std::vector<Value> ops);
// edits(version, ...sequences): each sequence an array Value of ops.
Value Edits(Value version, std::vector<Value> sequences);
// The same with "isRemote": true appended.
Value RemoteEdit(Value version, std::vector<Value> ops);
Value RemoteEdits(Value version, std::vector<Value> sequences);

// mergeVersions(a, b): the keys of a, then for every key of b the larger of
// both counters: Math.max(a[k] || 0, b[k] || 0), so falsy counters (NaN,
// missing) count as 0 and numeric strings as their number.
Value MergeVersions(const Value& a, const Value& b);
// mergeEdits(a, b): edits(mergeVersions(...), ...a.operations,
// ...b.operations), remote when either is.
Value MergeEdits(const Value& a, const Value& b);

// V8's longest string, in UTF-16 code units. Applying an edit that would
// produce a longer text throws a RangeError in JavaScript.
inline constexpr size_t kMaxJsStringLength = (size_t{1} << 29) - 24;

// applyEdit: converts `value` to a string (ConvertToString) and applies every
// sequence in turn, positions in UTF-16 code units, clamped like
// JavaScript's slice. The edit's version is ignored.
//
// Malformed parts behave as upstream where that is defined: an op whose type
// is neither "preserve" nor "insert" deletes `count`; a missing or
// non-number count is ToNumber of it, strings and objects counting as NaN
// (so a delete without count repeats the text before the index); negative
// and fractional counts follow slice's rules. Where JavaScript
// would throw (operations or a sequence not an array, an op not an object)
// that part is skipped. If the text would exceed kMaxJsStringLength (where
// JavaScript throws), ConvertToString(value) is returned unchanged; use
// TryApplyEdit to see that error.
std::string ApplyEdit(const Value& value, const Value& edit);
// ApplyEdit with a bound on the result's length (UTF-16 code units); fails
// with ResourceExhausted naming the op that crossed it.
absl::StatusOr<std::string> TryApplyEdit(
    const Value& value, const Value& edit,
    size_t max_length = kMaxJsStringLength);
// applyTagEdit: ApplyEdit, then null when the result is "".
Value ApplyTagEdit(const Value& value, const Value& edit);

// Checks that a TagEdit from outside is well formed: the marker is true;
// `version`, when present, an object of finite numbers; `isRemote`, when
// present, a boolean; `operations` an array of arrays of ops whose type is
// "preserve"/"delete" with a safe-integer count (negative counts are
// allowed, as upstream applies them) or "insert" with a string text. The
// message names the offending field, prefixed with `path`. Applying a valid
// edit can still fail on length (TryApplyEdit).
absl::Status ValidateTagEdit(const Value& edit, std::string_view path);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_TAG_EDIT_H_
