// `auxsync aux`: CasualOS .aux files from the shell.
//   auxsync aux show FILE.aux          prints the bots state (JSON)
//   auxsync aux convert --to 1|2 IN OUT
// Version 2 files show the state of a Yjs partition after their updates;
// converting 1 -> 2 makes one initialization update as aux-records does
// (partitions/aux_file.h).
#ifndef AUXSYNC_CLI_AUX_COMMAND_H_
#define AUXSYNC_CLI_AUX_COMMAND_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"

namespace auxsync::cli {

// The parsed command line of `auxsync aux ACTION`.
struct AuxCommand {
  std::string action;  // "show" or "convert"
  std::string input;
  std::string output;  // convert
  int to_version = 0;  // convert: 1 or 2
};

// Adds the `aux` subcommand (and its actions) to `app`, parsing into
// `command`, which must outlive `app`'s parse.
CLI::App* AddAuxCommand(CLI::App& app, AuxCommand& command);

// Runs the command; returns what it prints on stdout (show: the state's
// JSON; convert: nothing). Errors name the file and the field.
absl::StatusOr<std::string> RunAux(const AuxCommand& command);

// RunAux with the output on stdout and errors on stderr; the exit code
// (0 ok, 2 error).
int RunAuxCommand(const AuxCommand& command);

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_AUX_COMMAND_H_
