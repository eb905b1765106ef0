// Remote and device envelopes, async results and shouts
// (spec/partitions.md sections 5.2 - 5.5).
//
// The builders reproduce aux-common's object literals exactly, including
// keys whose value is undefined: such keys are present in the Value (and in
// tagged JSON) and vanish from plain JSON, as in JavaScript.

#ifndef AUXSYNC_BOTS_REMOTE_ACTIONS_H_
#define AUXSYNC_BOTS_REMOTE_ACTIONS_H_

#include <string_view>

#include "auxsync/bots/value.h"

namespace auxsync::bots {

// Who a remote action is for (the selector fields of a remote envelope).
// Spread into the envelope in the order connectionId, sessionId, userId,
// broadcast, skipping fields that are undefined. To reproduce a selector
// object with another key order, or with keys present but undefined, pass
// the selector as a Value instead.
struct RemoteSelector {
  Value connection_id;  // undefined = not set
  Value session_id;
  Value user_id;
  Value broadcast;

  // The selector as the object literal {connectionId?, sessionId?,
  // userId?, broadcast?} with only the set fields.
  Value ToValue() const;
};

// remote(event, selector, allowBatching, taskId):
// {"type":"remote","event","allowBatching","taskId", ...selector}.
// "allowBatching" and "taskId" are always keys (undefined when not given);
// the selector's own keys follow in its order (a selector key that repeats
// an earlier key replaces its value in place, as spread does).
Value Remote(Value event, const RemoteSelector& selector = {},
             Value allow_batching = Value(), Value task_id = Value());
Value Remote(Value event, const Value& selector, Value allow_batching,
             Value task_id);
// {"type":"remote_result","result","taskId", ...selector}
Value RemoteResult(Value result, const RemoteSelector& selector = {},
                   Value task_id = Value());
Value RemoteResult(Value result, const Value& selector, Value task_id);
// {"type":"remote_error","error","taskId", ...selector}
Value RemoteError(Value error, const RemoteSelector& selector = {},
                  Value task_id = Value());
Value RemoteError(Value error, const Value& selector, Value task_id);

// connectionInfo(userId, sessionId, connectionId) ->
// {"userId","sessionId","connectionId"} (that key order, as upstream).
Value ConnectionInfo(Value user_id, Value session_id, Value connection_id);
// {"type":"device","connection","event","taskId"}
Value Device(Value connection, Value event, Value task_id = Value());
// {"type":"device_result","connection","result","taskId"}
Value DeviceResult(Value connection, Value result, Value task_id);
// {"type":"device_error","connection","error","taskId"}
Value DeviceError(Value connection, Value error, Value task_id);

// asyncResult(taskId, result, mapBots, uncopiable):
// {"type":"async_result","taskId","result","mapBotsInResult","uncopiable"};
// all five are always keys ("mapBotsInResult" and "uncopiable" undefined
// when not given).
Value AsyncResult(Value task_id, Value result,
                  Value map_bots_in_result = Value());
Value AsyncResult(Value task_id, Value result, Value map_bots_in_result,
                  Value uncopiable);
// {"type":"async_error","taskId","error"}
Value AsyncError(Value task_id, Value error);

// The shout partitions emit on onEvents: action(eventName, null, null, arg)
// = {"type":"action","botIds":null,"eventName","userId":null,"argument",
// "sortBotIds":true} ("argument" is a key even when undefined).
Value Action(std::string_view event_name, Value argument = Value());
// action(eventName, botIds, userId, arg, sortIds) in full; undefined
// botIds/userId/sortIds take the defaults null/null/true.
Value Action(std::string_view event_name, Value bot_ids, Value user_id,
             Value argument, Value sort_ids);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_REMOTE_ACTIONS_H_
