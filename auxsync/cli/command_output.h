// How the `auxsync` subcommands report: output on stdout, errors on stderr,
// an exit code.
#ifndef AUXSYNC_CLI_COMMAND_OUTPUT_H_
#define AUXSYNC_CLI_COMMAND_OUTPUT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace auxsync::cli {

// Prints `out` (when not empty) and a newline on stdout, or "auxsync
// `command`: <message>" on stderr. Returns the exit code: 0 ok, 1 when
// stdout failed, 2 for the error.
int PrintCommandResult(std::string_view command,
                       const absl::StatusOr<std::string>& out);

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_COMMAND_OUTPUT_H_
