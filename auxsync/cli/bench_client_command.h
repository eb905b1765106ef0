// `auxsync bench client`: a scripted native client for mixed and load tests
// (issue 7 item 5).
//
//   auxsync bench client --url URL --inst I --branch B --duration SEC
//       --rate OPS --seed N --connection-id ID
//
// Joins the public inst I (recordName null), branch B, as a
// RemoteYjsPartition; prints {"event":"ready"} once synced; applies a
// seeded random bot workload (adds with every value kind, updates with
// deletes, tag edits, mask updates, removes) for SEC seconds at OPS ops/s;
// prints {"event":"workload-done","ops":N}; keeps applying remote updates;
// prints {"event":"dump","state":<BotsState>} for each stdin line "dump";
// exits on "quit" or end of input. One JSON object per stdout line.

#ifndef AUXSYNC_CLI_BENCH_CLIENT_COMMAND_H_
#define AUXSYNC_CLI_BENCH_CLIENT_COMMAND_H_

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"

namespace auxsync::cli {

struct BenchClientCommand {
  std::string url;
  std::string inst;
  std::string branch = "shared";
  double duration_s = 10;
  double rate = 10;  // ops per second
  uint64_t seed = 1;
  std::string connection_id;  // empty = a new UUID
  bool verbose = false;
};

// Adds `client` under the `bench` subcommand, parsing into `command`, which
// must outlive the parse.
CLI::App* AddBenchClientCommand(CLI::App& bench, BenchClientCommand& command);

// Runs the client; returns the exit code (0, or 2 for bad arguments).
int RunBenchClientCommand(const BenchClientCommand& command);

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_BENCH_CLIENT_COMMAND_H_
