#include "auxsync/cli/command_output.h"

#include <iostream>

namespace auxsync::cli {

int PrintCommandResult(std::string_view command,
                       const absl::StatusOr<std::string>& out) {
  if (!out.ok()) {
    std::cerr << "auxsync " << command << ": " << out.status().message()
              << "\n";
    return 2;
  }
  if (!out->empty()) std::cout << *out << "\n";
  return std::cout.good() ? 0 : 1;
}

}  // namespace auxsync::cli
