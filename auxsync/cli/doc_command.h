// `auxsync doc`: inspecting and combining Yjs updates from the shell.

#ifndef AUXSYNC_CLI_DOC_COMMAND_H_
#define AUXSYNC_CLI_DOC_COMMAND_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"

namespace auxsync::cli {

struct DocCommand {
  std::string action;               // show, encode, sv, merge, diff
  std::vector<std::string> files;   // update files, applied in order
  bool v2 = false;                  // updates (in and out) are v2
  bool gc = true;                   // --no-gc turns garbage collection off
  std::string target_sv;            // encode --sv / diff SV (base64)
  std::vector<std::string> maps;    // root kinds given with --map
  std::vector<std::string> texts;   // --text
  std::vector<std::string> arrays;  // --array
};

// Adds the `doc` subcommand (and its actions) to `app`, parsing into
// `command`, which must outlive `app`'s parse.
CLI::App* AddDocCommand(CLI::App& app, DocCommand& command);

// Runs the command and returns what it prints. A file holds raw update
// bytes, or base64 text with one update per line. Errors name the file, the
// update (1-based) and what the decoder said (with its byte offset).
absl::StatusOr<std::string> RunDocCommand(const DocCommand& command);

// RunDocCommand with the output on stdout and errors on stderr; the exit
// code (0 ok, 1 stdout failed, 2 error).
int PrintDocCommand(const DocCommand& command);

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_DOC_COMMAND_H_
