// `auxsync bench`: the engine's benchmarks from the shell.
//   auxsync bench trace FILE.json.gz [--v2] [--reps N] [--dump-doc OUT]
//   auxsync bench suite WORKLOAD.json [--reps N]
// The workloads live in bench/ (trace_bench.h, crdt_suite_bench.h); the
// scripts bench/trace_bench.sh and bench/crdt_suite_bench.sh run them beside
// the real yjs.
#ifndef AUXSYNC_CLI_BENCH_COMMAND_H_
#define AUXSYNC_CLI_BENCH_COMMAND_H_

#include <string>

#include "CLI/CLI.hpp"

namespace auxsync::cli {

// The parsed command line of `auxsync bench ACTION`.
struct BenchCommand {
  std::string action;  // "trace" or "suite"
  std::string file;
  bool v2 = false;
  int reps = 3;
  std::string dump_doc;  // trace: write the encoded final doc here
};

// Adds the `bench` subcommand (and its actions) to `app`, parsing into
// `command`, which must outlive `app`'s parse.
CLI::App* AddBenchCommand(CLI::App& app, BenchCommand& command);

// Runs the parsed command: prints its JSON line(s) on stdout, errors on
// stderr. Returns the process exit code (0 ok, 1 a wrong result, 2 error).
int RunBenchCommand(const BenchCommand& command);

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_BENCH_COMMAND_H_
