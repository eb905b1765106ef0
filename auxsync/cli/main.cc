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
#include "auxsync/cli/scenario_runner.h"

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

int RunApply(const std::string& path, bool tagged) {
  absl::StatusOr<std::string> text = ReadInput(path);
  if (!text.ok()) {
    std::cerr << "auxsync apply: " << text.status().message() << "\n";
    return 2;
  }
  auxsync::cli::ScenarioOptions options;
  options.tagged = tagged;
  absl::StatusOr<std::string> out =
      auxsync::cli::RunScenarioText(*text, options);
  if (!out.ok()) {
    std::cerr << "auxsync apply: " << (path == "-" ? "<stdin>" : path) << ": "
              << out.status().message() << "\n";
    return 2;
  }
  std::cout << *out << "\n";
  return std::cout.good() ? 0 : 1;
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (apply->parsed()) return RunApply(apply_file, tagged);
  return 2;
}
