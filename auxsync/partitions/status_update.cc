#include "auxsync/partitions/status_update.h"

namespace auxsync::partitions {

using bots::MakeObject;
using bots::Value;

Value ConnectionStatus(bool connected) {
  return MakeObject({{"type", "connection"}, {"connected", connected}});
}

Value AuthenticationStatus(bool authenticated, Value info, Value reason) {
  Value v = MakeObject(
      {{"type", "authentication"}, {"authenticated", authenticated}});
  if (!info.is_undefined()) v.as_object().Set("info", std::move(info));
  if (!reason.is_undefined()) v.as_object().Set("reason", std::move(reason));
  return v;
}

Value AuthorizationStatus(bool authorized, Value error) {
  Value v = MakeObject({{"type", "authorization"}, {"authorized", authorized}});
  if (!error.is_undefined()) v.as_object().Set("error", std::move(error));
  return v;
}

Value SyncStatus(bool synced) {
  return MakeObject({{"type", "sync"}, {"synced", synced}});
}

}  // namespace auxsync::partitions
