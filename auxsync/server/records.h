// The permission model of record insts (docs/records.md): who may read and
// write the insts of a record. Small on purpose: a user owns the record
// named after their user id (their personal record, as in CasualOS), and an
// operator grants other users `read` or `write` on a record with
// `auxsync token create --grant` (the grants live in the Store).
//
// Pure functions; thread-safe.

#ifndef AUXSYNC_SERVER_RECORDS_H_
#define AUXSYNC_SERVER_RECORDS_H_

#include <optional>
#include <string_view>

#include "auxsync/server/store.h"

namespace auxsync::server {

// The inst actions of the records policy engine that the inst protocol
// needs (4.2), named on the wire by InstActionName.
enum class InstAction { kRead, kCreate, kUpdateData, kSendAction };

// "read", "create", "updateData", "sendAction": the `action` of a
// missing_permission reason (3.8).
std::string_view InstActionName(InstAction action);

// Whether `user_id` may perform `action` on the insts of `record_name`,
// given the user's grant on that record (nullopt = none): the owner of a
// personal record may do everything; `read` permits kRead; `write` permits
// every action.
bool PermitsInstAction(std::string_view user_id, std::string_view record_name,
                       const std::optional<RecordGrant>& grant,
                       InstAction action);

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_RECORDS_H_
