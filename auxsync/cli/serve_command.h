// `auxsync serve`: the inst server that CasualOS clients connect to
// (ws://HOST:PORT/websocket).
//   auxsync serve [--host 127.0.0.1] [--port 2999]
//                 [--store sqlite|memory|redis]
//                 [--data-dir ./auxsync-data] [--sqlite-sync full|normal]
//                 [--redis-url redis://127.0.0.1:6379] [--redis-node-id ID]
//                 [--redis-public-ttl S] [--redis-temp-ttl S]
//                 [--redis-node-ttl S]
//                 [--max-inst-bytes N]
//                 [--max-frame-bytes N] [--compact-after N]
//                 [--rate-limit N] [--rate-window-ms MS] [--quiet]
// Prints the URL on stdout once listening, one log line per event on
// stderr, and exits 0 after SIGINT/SIGTERM once the open sockets are closed
// (every acknowledged update is already committed).

#ifndef AUXSYNC_CLI_SERVE_COMMAND_H_
#define AUXSYNC_CLI_SERVE_COMMAND_H_

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"

namespace auxsync::cli {

// The parsed command line of `auxsync serve`.
struct ServeCommand {
  std::string host = "127.0.0.1";
  int port = 2999;
  std::string store = "sqlite";  // or "memory", "redis"
  std::string data_dir = "./auxsync-data";
  std::string sqlite_sync = "full";  // or "normal" (see SqliteStore::Open)
  // --store redis: where, and this node's name among the nodes sharing it
  // (empty: "<hostname>:<port>", or random with --port 0).
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string redis_node_id;
  // Expiry of public insts after their first write and of temporary
  // branches after their last write or watch (see RedisStoreOptions).
  int64_t redis_public_ttl = 0;
  int64_t redis_temp_ttl = 24 * 60 * 60;
  // --store redis: a node without a heartbeat for this long is dead (its
  // sockets stop counting and their departures are announced); it beats
  // every third of it.
  int64_t redis_node_ttl = 15;
  int64_t max_inst_bytes = 0;  // 0 = no limit
  int64_t max_frame_bytes = 64 << 20;
  int64_t compact_after = 500;
  int64_t rate_limit = 0;  // frames per window and client address; 0 = none
  int64_t rate_window_ms =
      60000;  // updates per branch before a merge; 0 = never
  bool quiet = false;
};

// Adds the `serve` subcommand to `app`, parsing into `command`, which must
// outlive `app`'s parse.
CLI::App* AddServeCommand(CLI::App& app, ServeCommand& command);

// Runs the server until SIGINT/SIGTERM. Returns the exit code (0 after a
// clean shutdown, 2 when the store cannot be opened or the port bound).
int RunServeCommand(const ServeCommand& command);

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_SERVE_COMMAND_H_
