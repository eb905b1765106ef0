// Bots, their tags and spaces: the constants and helpers of CasualOS's bot
// model (spec/partitions.md section 1).
//
// A bot is a JavaScript object Value {"id", "tags", "space"?, "signatures"?,
// "masks"?}; a BotsState is an object of id -> bot. They stay Values rather
// than C++ structs because partitions may hold partial entries (a mask-only
// `{"masks": ...}`, an `{}`) and because property order and sharing are
// observable.

#ifndef AUXSYNC_BOTS_BOT_H_
#define AUXSYNC_BOTS_BOT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auxsync/bots/value.h"

namespace auxsync::bots {

// Partition keys, which are also the spaces of the bots they hold.
inline constexpr std::string_view kSharedPartitionId = "shared";
inline constexpr std::string_view kTemporaryBotPartitionId = "tempLocal";
inline constexpr std::string_view kCookieBotPartitionId = "local";
inline constexpr std::string_view kTemporarySharedPartitionId = "tempShared";
inline constexpr std::string_view kRemoteTemporarySharedPartitionId =
    "remoteTempShared";
inline constexpr std::string_view kBootstrapPartitionId = "bootstrap";
inline constexpr std::string_view kAdminPartitionId = "admin";
inline constexpr std::string_view kDeviceBotId = "device";
inline constexpr std::string_view kLocalBotId = "local";
inline constexpr std::string_view kCookieBotId = "cookie";
inline constexpr std::string_view kAdminBranchName = "$admin";
inline constexpr std::string_view kDefaultBranchName = "default";
inline constexpr std::string_view kDefaultTagMaskSpace = "tempLocal";

// TAG_MASK_SPACE_PRIORITIES: highest priority first.
const std::vector<std::string_view>& TagMaskSpacePriorities();

// The branch of connection `connection_id`'s player on `branch`
// ("B-player-C").
std::string PlayerBranchName(std::string_view branch,
                             std::string_view connection_id);

// hasValue: false exactly for null, undefined and "".
bool HasValue(const Value& v);

// convertToString: "" for no value, strings as they are, numbers as
// JavaScript prints them, booleans as "true"/"false", Dates as ISO-8601 with
// milliseconds, other objects and arrays as compact JSON (host objects as
// JSON.stringify writes them). Where JavaScript would throw (an invalid
// Date) this gives "Invalid Date"; a function gives
// "function <name>() { [native code] }" (JavaScript gives its source).
std::string ConvertToString(const Value& v);

// createBot(id, tags, space): {id, tags} plus space when it has a value.
// `tags` undefined means a new empty object.
Value CreateBot(std::string_view id, Value tags = Value(),
                const Value& space = Value());
// createBot() without an id: a new random UUID v4 id and empty tags.
Value CreateBot();

// getActiveObjects: the values of a state object in property order
// (Object.values; the items of an array; nothing for other values).
std::vector<Value> GetActiveObjects(const Value& state);

// A random UUID v4 string, lower-case hex (used for site ids and bot ids).
// Thread-safe: each thread has its own random_device-seeded generator.
std::string NewUuid();

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_BOT_H_
