// `auxsync token create`: issues a session (and optionally per-record
// grants) in the server's store and prints its connection key and a vCT1
// connection token as JSON (docs/records.md).
//   auxsync token create --user U [--record R] [--inst I]
//                        [--connection-id C] [--grant read|write ...]
//                        [--expires-in SEC] [--data-dir D]
//                        [--store sqlite|redis] [--redis-url URL]
// Safe while `auxsync serve` runs on the same store (SQLite WAL, or the
// same Redis): the server reads sessions and grants at each login and
// request.

#ifndef AUXSYNC_CLI_TOKEN_COMMAND_H_
#define AUXSYNC_CLI_TOKEN_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "auxsync/server/store.h"

namespace auxsync::cli {

// The parsed command line of `auxsync token create`.
struct TokenCommand {
  std::string user;
  std::string record;               // empty = a token for a public inst
  std::string inst;                 // empty = no token, only the connection key
  std::string connection_id;        // empty = a random one
  std::vector<std::string> grants;  // "read", "write" on `record`
  int64_t expires_in_seconds = 0;   // 0 = never expires
  std::string data_dir = "./auxsync-data";
  std::string store = "sqlite";  // or "redis"
  std::string redis_url = "redis://127.0.0.1:6379";
};

// Adds `token` with its `create` subcommand to `app`; returns `create`.
// `command` must outlive the parse.
CLI::App* AddTokenCommand(CLI::App& app, TokenCommand& command);

// Writes the session (and the grant, when --grant is given) into `store`
// and returns the JSON object to print: userId, sessionId, connectionKey,
// expireTimeMs (null = never), recordName, inst, connectionId,
// connectionToken (null without --inst) and grant. `random_bytes(n)` gives
// n random bytes (injectable for tests). Errors: invalid arguments, store
// failures.
absl::StatusOr<std::string> CreateToken(
    const TokenCommand& command, server::Store& store, int64_t now_ms,
    const std::function<std::string(size_t)>& random_bytes);

// Opens the store of `command`, runs CreateToken and prints the JSON.
// Returns the exit code (0, or 2 with a message on stderr).
int RunTokenCommand(const TokenCommand& command);

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_TOKEN_COMMAND_H_
