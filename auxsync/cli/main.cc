// The auxsync command.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "auxsync/cli/aux_command.h"
#include "auxsync/cli/bench_client_command.h"
#include "auxsync/cli/bench_command.h"
#include "auxsync/cli/bench_latency_command.h"
#include "auxsync/cli/command_output.h"
#include "auxsync/cli/doc_command.h"
#include "auxsync/cli/scenario_runner.h"
#include "auxsync/cli/serve_command.h"
#include "auxsync/cli/token_command.h"
#include "auxsync/cli/watch_command.h"

namespace {

// Files larger than this are refused rather than read into memory.
constexpr std::streamsize kMaxInputBytes = 256 << 20;

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::string data;
  if (path == "-") {
    std::ostringstream buf;
    buf << std::cin.rdbuf();
    data = buf.str();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
    in.seekg(0, std::ios::end);
    std::streamsize size = in.tellg();
    if (size > kMaxInputBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": larger than ", kMaxInputBytes, " bytes"));
    }
    in.seekg(0);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (static_cast<std::streamsize>(data.size()) > kMaxInputBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than ", kMaxInputBytes, " bytes"));
  }
  return data;
}

int RunApply(const std::string& path, bool tagged,
             const std::string& persistence_dir) {
  absl::StatusOr<std::string> text = ReadInput(path);
  if (!text.ok()) return auxsync::cli::PrintCommandResult("apply", text);
  auxsync::cli::ScenarioOptions options;
  options.tagged = tagged;
  options.persistence_dir = persistence_dir;
  options.on_partition_error = [](const std::string& error) {
    std::cerr << "auxsync apply: partition error: " << error << "\n";
  };
  absl::StatusOr<std::string> out =
      auxsync::cli::RunScenarioText(*text, options);
  if (!out.ok()) {
    out = absl::Status(out.status().code(),
                       absl::StrCat(path == "-" ? "<stdin>" : path, ": ",
                                    out.status().message()));
  }
  return auxsync::cli::PrintCommandResult("apply", out);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"auxsync: the CasualOS partitions layer in C++"};
  app.require_subcommand(1);

  std::string apply_file;
  bool tagged = false;
  CLI::App* apply = app.add_subcommand(
      "apply", "Run a scenario file against a partition and print its events");
  apply->add_option("FILE", apply_file, "scenario file, or - for stdin")
      ->required();
  apply->add_flag("--tagged", tagged,
                  "write NaN, Infinity, -0 and undefined in tagged form");
  std::string persistence_dir;
  apply->add_option("--persistence-dir", persistence_dir,
                    "keep yjs branches with localPersistence.saveToIndexedDb "
                    "in SQLite files in this directory (created if missing)");

  auxsync::cli::DocCommand doc_command;
  CLI::App* doc = auxsync::cli::AddDocCommand(app, doc_command);

  auxsync::cli::AuxCommand aux_command;
  CLI::App* aux = auxsync::cli::AddAuxCommand(app, aux_command);

  auxsync::cli::BenchCommand bench_command;
  CLI::App* bench = auxsync::cli::AddBenchCommand(app, bench_command);
  auxsync::cli::BenchClientCommand bench_client_command;
  CLI::App* bench_client =
      auxsync::cli::AddBenchClientCommand(*bench, bench_client_command);
  auxsync::cli::BenchLatencyCommand bench_latency_command;
  CLI::App* bench_latency =
      auxsync::cli::AddBenchLatencyCommand(*bench, bench_latency_command);

  auxsync::cli::WatchCommand watch_command;
  CLI::App* watch = auxsync::cli::AddWatchCommand(app, watch_command);

  auxsync::cli::ServeCommand serve_command;
  CLI::App* serve = auxsync::cli::AddServeCommand(app, serve_command);

  auxsync::cli::TokenCommand token_command;
  CLI::App* token_create = auxsync::cli::AddTokenCommand(app, token_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (apply->parsed()) return RunApply(apply_file, tagged, persistence_dir);
  if (doc->parsed()) return auxsync::cli::PrintDocCommand(doc_command);
  if (aux->parsed()) return auxsync::cli::RunAuxCommand(aux_command);
  if (bench_client->parsed()) {
    return auxsync::cli::RunBenchClientCommand(bench_client_command);
  }
  if (bench_latency->parsed()) {
    return auxsync::cli::RunBenchLatencyCommand(bench_latency_command);
  }
  if (bench->parsed()) return auxsync::cli::RunBenchCommand(bench_command);
  if (watch->parsed()) return auxsync::cli::RunWatchCommand(watch_command);
  if (serve->parsed()) return auxsync::cli::RunServeCommand(serve_command);
  if (token_create->parsed()) {
    return auxsync::cli::RunTokenCommand(token_command);
  }
  return 2;
}
