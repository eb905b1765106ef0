#include "auxsync/server/records.h"

namespace auxsync::server {

std::string_view InstActionName(InstAction action) {
  switch (action) {
    case InstAction::kRead:
      return "read";
    case InstAction::kCreate:
      return "create";
    case InstAction::kUpdateData:
      return "updateData";
    case InstAction::kSendAction:
      return "sendAction";
  }
  return "read";
}

bool PermitsInstAction(std::string_view user_id, std::string_view record_name,
                       const std::optional<RecordGrant>& grant,
                       InstAction action) {
  // The personal record: CasualOS creates a record named after the user's
  // id, owned by that user.
  if (!user_id.empty() && user_id == record_name) return true;
  if (!grant) return false;
  if (grant->write) return true;
  return grant->read && action == InstAction::kRead;
}

}  // namespace auxsync::server
