#include "auxsync/bots/remote_actions.h"

#include <utility>

#include "auxsync/bots/internal/js_ops.h"

namespace auxsync::bots {
namespace {

// `{...head, ...selector}`: the selector's own keys after (or in place of)
// the head's.
Value Spread(Value head, const Value& selector) {
  internal::AssignFrom(head.as_object(), selector);
  return head;
}

}  // namespace

Value RemoteSelector::ToValue() const {
  Value v = Value::NewObject();
  Object& o = v.as_object();
  if (!connection_id.is_undefined()) o.Set("connectionId", connection_id);
  if (!session_id.is_undefined()) o.Set("sessionId", session_id);
  if (!user_id.is_undefined()) o.Set("userId", user_id);
  if (!broadcast.is_undefined()) o.Set("broadcast", broadcast);
  return v;
}

Value Remote(Value event, const Value& selector, Value allow_batching,
             Value task_id) {
  return Spread(MakeObject({{"type", "remote"},
                            {"event", std::move(event)},
                            {"allowBatching", std::move(allow_batching)},
                            {"taskId", std::move(task_id)}}),
                selector);
}

Value Remote(Value event, const RemoteSelector& selector, Value allow_batching,
             Value task_id) {
  return Remote(std::move(event), selector.ToValue(), std::move(allow_batching),
                std::move(task_id));
}

Value RemoteResult(Value result, const Value& selector, Value task_id) {
  return Spread(MakeObject({{"type", "remote_result"},
                            {"result", std::move(result)},
                            {"taskId", std::move(task_id)}}),
                selector);
}

Value RemoteResult(Value result, const RemoteSelector& selector,
                   Value task_id) {
  return RemoteResult(std::move(result), selector.ToValue(),
                      std::move(task_id));
}

Value RemoteError(Value error, const Value& selector, Value task_id) {
  return Spread(MakeObject({{"type", "remote_error"},
                            {"error", std::move(error)},
                            {"taskId", std::move(task_id)}}),
                selector);
}

Value RemoteError(Value error, const RemoteSelector& selector, Value task_id) {
  return RemoteError(std::move(error), selector.ToValue(), std::move(task_id));
}

Value ConnectionInfo(Value user_id, Value session_id, Value connection_id) {
  return MakeObject({{"userId", std::move(user_id)},
                     {"sessionId", std::move(session_id)},
                     {"connectionId", std::move(connection_id)}});
}

Value Device(Value connection, Value event, Value task_id) {
  return MakeObject({{"type", "device"},
                     {"connection", std::move(connection)},
                     {"event", std::move(event)},
                     {"taskId", std::move(task_id)}});
}

Value DeviceResult(Value connection, Value result, Value task_id) {
  return MakeObject({{"type", "device_result"},
                     {"connection", std::move(connection)},
                     {"result", std::move(result)},
                     {"taskId", std::move(task_id)}});
}

Value DeviceError(Value connection, Value error, Value task_id) {
  return MakeObject({{"type", "device_error"},
                     {"connection", std::move(connection)},
                     {"error", std::move(error)},
                     {"taskId", std::move(task_id)}});
}

Value AsyncResult(Value task_id, Value result, Value map_bots_in_result,
                  Value uncopiable) {
  return MakeObject({{"type", "async_result"},
                     {"taskId", std::move(task_id)},
                     {"result", std::move(result)},
                     {"mapBotsInResult", std::move(map_bots_in_result)},
                     {"uncopiable", std::move(uncopiable)}});
}

Value AsyncResult(Value task_id, Value result, Value map_bots_in_result) {
  return AsyncResult(std::move(task_id), std::move(result),
                     std::move(map_bots_in_result), Value());
}

Value AsyncError(Value task_id, Value error) {
  return MakeObject({{"type", "async_error"},
                     {"taskId", std::move(task_id)},
                     {"error", std::move(error)}});
}

Value Action(std::string_view event_name, Value bot_ids, Value user_id,
             Value argument, Value sort_ids) {
  // Default parameters apply to undefined only.
  if (bot_ids.is_undefined()) bot_ids = nullptr;
  if (user_id.is_undefined()) user_id = nullptr;
  if (sort_ids.is_undefined()) sort_ids = true;
  return MakeObject({{"type", "action"},
                     {"botIds", std::move(bot_ids)},
                     {"eventName", event_name},
                     {"userId", std::move(user_id)},
                     {"argument", std::move(argument)},
                     {"sortBotIds", std::move(sort_ids)}});
}

Value Action(std::string_view event_name, Value argument) {
  return Action(event_name, Value(), Value(), std::move(argument), Value());
}

}  // namespace auxsync::bots
