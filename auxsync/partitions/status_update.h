// Status updates a partition reports while it connects
// (spec/partitions.md section 5.6).

#ifndef AUXSYNC_PARTITIONS_STATUS_UPDATE_H_
#define AUXSYNC_PARTITIONS_STATUS_UPDATE_H_

#include "auxsync/bots/value.h"

namespace auxsync::partitions {

// {"type":"connection","connected":connected}
bots::Value ConnectionStatus(bool connected);
// {"type":"authentication","authenticated"} plus "info" (a ConnectionInfo)
// and "reason" when they are not undefined.
bots::Value AuthenticationStatus(bool authenticated,
                                 bots::Value info = bots::Value(),
                                 bots::Value reason = bots::Value());
// {"type":"authorization","authorized"} plus "error" when not undefined.
bots::Value AuthorizationStatus(bool authorized,
                                bots::Value error = bots::Value());
// {"type":"sync","synced":synced}
bots::Value SyncStatus(bool synced);

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_STATUS_UPDATE_H_
