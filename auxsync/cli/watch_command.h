// `auxsync watch URL --inst I [--record R] [--branch B]`: joins an inst
// branch as a RemoteYjsPartition and prints what happens to its bots as
// JSON lines until SIGINT/SIGTERM. One object per stdout line:
//   {"event":"status","status":{...}}          partition status updates
//   {"event":"added","bot":{...}}              one per added bot
//   {"event":"updated","id":..,"tags":[..],"bot":{...}}
//   {"event":"removed","id":".."}
//   {"event":"error","error":...}              partition errors
//   {"event":"auth_request","request":{...}}   credentials it would need
// Transport log lines go to stderr with --verbose.

#ifndef AUXSYNC_CLI_WATCH_COMMAND_H_
#define AUXSYNC_CLI_WATCH_COMMAND_H_

#include <string>

#include "CLI/CLI.hpp"

namespace auxsync::cli {

struct WatchCommand {
  std::string url;
  std::string inst;
  std::string record;  // empty = public inst (recordName null)
  std::string branch = "shared";
  std::string connection_id;  // empty = a fresh UUID
  std::string token;          // a vCT1 connection token
  bool verbose = false;
};

// Adds the `watch` subcommand to `app`, parsing into `command`, which must
// outlive the parse.
CLI::App* AddWatchCommand(CLI::App& app, WatchCommand& command);

// Runs until a signal; returns the exit code (0, or 2 for a bad URL).
int RunWatchCommand(const WatchCommand& command);

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_WATCH_COMMAND_H_
