#include "auxsync/cli/bench_command.h"

#include <fstream>
#include <iostream>

#include "absl/status/statusor.h"
#include "bench/crdt_suite_bench.h"
#include "bench/trace_bench.h"
#include "bench/trace_file.h"

namespace auxsync::cli {
namespace {

// "…/automerge-paper.json.gz" -> "automerge-paper".
std::string TraceName(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  for (const char* ext : {".gz", ".json"}) {
    std::string e(ext);
    if (name.size() > e.size() &&
        name.compare(name.size() - e.size(), e.size(), e) == 0) {
      name.resize(name.size() - e.size());
    }
  }
  return name;
}

int RunTrace(const BenchCommand& c) {
  absl::StatusOr<bench::Trace> trace = bench::LoadTrace(c.file);
  if (!trace.ok()) {
    std::cerr << "auxsync bench trace: " << trace.status().message() << "\n";
    return 2;
  }
  bench::TraceBenchOptions opt;
  opt.v2 = c.v2;
  opt.reps = c.reps;
  absl::StatusOr<bench::TraceBenchResult> r = bench::RunTraceBench(*trace, opt);
  if (!r.ok()) {
    std::cerr << "auxsync bench trace: " << r.status().message() << "\n";
    return 2;
  }
  if (!c.dump_doc.empty()) {
    std::ofstream out(c.dump_doc, std::ios::binary);
    out.write(reinterpret_cast<const char*>(r->doc.data()),
              static_cast<std::streamsize>(r->doc.size()));
    if (!out) {
      std::cerr << "auxsync bench trace: cannot write " << c.dump_doc << "\n";
      return 2;
    }
  }
  std::cout << bench::TraceBenchResultJson(*r, TraceName(c.file), c.v2) << "\n";
  return r->ok ? 0 : 1;
}

int RunSuite(const BenchCommand& c) {
  absl::StatusOr<std::string> workload = bench::ReadGzipFile(c.file);
  if (!workload.ok()) {
    std::cerr << "auxsync bench suite: " << workload.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::vector<bench::SuiteCaseResult>> results =
      bench::RunCrdtSuite(*workload, c.reps);
  if (!results.ok()) {
    std::cerr << "auxsync bench suite: " << results.status().message() << "\n";
    return 2;
  }
  bool ok = true;
  for (const bench::SuiteCaseResult& r : *results) {
    std::cout << bench::SuiteCaseResultJson(r) << "\n";
    ok = ok && r.ok;
  }
  return ok ? 0 : 1;
}

}  // namespace

CLI::App* AddBenchCommand(CLI::App& app, BenchCommand& command) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Benchmarks of the CRDT engine (one JSON line per result)");
  bench->require_subcommand(1);
  CLI::App* trace = bench->add_subcommand(
      "trace",
      "Replay an editing trace (.json.gz), encode and parse the final doc");
  trace->add_option("FILE", command.file, "trace file")->required();
  trace->add_flag("--v2", command.v2, "capture, encode and parse format v2");
  trace->add_option("--reps", command.reps, "best of N runs (default 3)");
  trace->add_option("--dump-doc", command.dump_doc,
                    "write the encoded final doc to this file");
  trace->callback([&command] { command.action = "trace"; });
  CLI::App* suite = bench->add_subcommand(
      "suite",
      "Run B1-B3 of crdt-benchmarks from a workload written by "
      "bench/js/crdt_suite_gen.mjs");
  suite->add_option("FILE", command.file, "workload file")->required();
  suite->add_option("--reps", command.reps, "best of N runs (default 3)");
  suite->callback([&command] { command.action = "suite"; });
  return bench;
}

int RunBenchCommand(const BenchCommand& command) {
  if (command.action == "trace") return RunTrace(command);
  if (command.action == "suite") return RunSuite(command);
  std::cerr << "auxsync bench: unknown action\n";
  return 2;
}

}  // namespace auxsync::cli
