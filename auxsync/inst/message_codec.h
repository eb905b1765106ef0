// The JSON codec of inst-protocol messages: a parsed JSON object <-> the
// typed Message of messages.h.
//
// Decoding validates like the real peers: in the client-to-server
// direction exactly the request schemas the CasualOS server parses a frame
// with (required recordName that is a non-empty string or null, optional
// fields absent or of their type but never null, unknown fields dropped);
// in the server-to-client direction the shapes the CasualOS client reads
// (ConnectionInfo ids may be null, updateId of updates_received may be
// absent). Encoding writes the key order of the real sender, so a message
// encodes to the bytes CasualOS itself would send.

#ifndef AUXSYNC_INST_MESSAGE_CODEC_H_
#define AUXSYNC_INST_MESSAGE_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"
#include "auxsync/inst/messages.h"

namespace auxsync::inst {

// Who sent the message being decoded. Some types travel both ways
// (repo/add_updates, repo/connection_count, the permission messages); the
// others are only accepted in their own direction.
enum class Direction { kClientToServer, kServerToClient };

// Decodes one message object. Errors are kInvalidArgument and name the
// field ("message.updates[2]: expected a string"); an unknown or
// wrong-direction `type` is an error too. Never throws; `object` is not
// modified and may be any Value.
absl::StatusOr<Message> DecodeMessage(const bots::Value& object,
                                      Direction direction);

// The message as a JSON object Value in the real sender's key order.
bots::Value MessageToValue(const Message& message);

// The compact JSON text of the message object (JSON.stringify's output).
std::string EncodeMessage(const Message& message);

// ConnectionInfo as the server writes it in presence and action envelopes:
// {connectionId, sessionId, userId}.
bots::Value ConnectionInfoToValue(const ConnectionInfo& info);

}  // namespace auxsync::inst

#endif  // AUXSYNC_INST_MESSAGE_CODEC_H_
