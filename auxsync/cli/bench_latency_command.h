// `auxsync bench latency`: client-to-client latency through an inst server
// (issue 7 item 7), the C++ twin of bench/js/client_latency_bench.mjs.
//
//   auxsync bench latency --url URL [--n N] [--warmup W]
//
// Two RemoteYjsPartition clients A and B in one process (one event loop)
// join a fresh public inst, branch "default". A adds bot `lat`; then, N
// times one after another, A applies update_bot lat {seq: i} and the clock
// stops when B's onBotsUpdated reports seq i. The first W rounds are not
// counted. Prints one JSON line:
//   {"impl":"auxsync","n":N,"p50Ms":..,"p99Ms":..,"meanMs":..,"maxMs":..}

#ifndef AUXSYNC_CLI_BENCH_LATENCY_COMMAND_H_
#define AUXSYNC_CLI_BENCH_LATENCY_COMMAND_H_

#include <string>

#include "CLI/CLI.hpp"

namespace auxsync::cli {

struct BenchLatencyCommand {
  std::string url;
  int rounds = 1000;
  int warmup = 50;
  // Longest wait for one step (sync, one round) before giving up.
  int timeout_ms = 10000;
};

// Adds `latency` under the `bench` subcommand, parsing into `command`, which
// must outlive the parse.
CLI::App* AddBenchLatencyCommand(CLI::App& bench, BenchLatencyCommand& command);

// Runs the measurement; returns the exit code (0; 1 when the server does not
// answer in time; 2 for a bad URL).
int RunBenchLatencyCommand(const BenchLatencyCommand& command);

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_BENCH_LATENCY_COMMAND_H_
