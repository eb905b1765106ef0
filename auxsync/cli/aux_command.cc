#include "auxsync/cli/aux_command.h"

#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "auxsync/cli/command_output.h"
#include "auxsync/partitions/aux_file.h"

namespace auxsync::cli {

CLI::App* AddAuxCommand(CLI::App& app, AuxCommand& command) {
  CLI::App* aux =
      app.add_subcommand("aux", "Read, show and convert CasualOS .aux files");
  aux->require_subcommand(1);
  CLI::App* show =
      aux->add_subcommand("show", "Print the bots state of an .aux file");
  show->add_option("FILE", command.input, ".aux file (version 1 or 2)")
      ->required();
  show->callback([&command] { command.action = "show"; });
  CLI::App* convert = aux->add_subcommand(
      "convert", "Write an .aux file in the other stored version");
  convert->add_option("--to", command.to_version, "target version, 1 or 2")
      ->required()
      ->check(CLI::IsMember({1, 2}));
  convert->add_option("IN", command.input, "input .aux file")->required();
  convert->add_option("OUT", command.output, "output .aux file")->required();
  convert->callback([&command] { command.action = "convert"; });
  return aux;
}

absl::StatusOr<std::string> RunAux(const AuxCommand& command) {
  absl::StatusOr<partitions::StoredAux> aux =
      partitions::ReadAuxFile(command.input);
  if (!aux.ok()) return aux.status();
  if (command.action == "show") {
    absl::StatusOr<bots::Value> state =
        partitions::GetBotsStateFromStoredAux(*aux);
    if (!state.ok()) {
      return absl::Status(
          state.status().code(),
          absl::StrCat(command.input, ": ", state.status().message()));
    }
    return bots::ToJson(*state);
  }
  if (command.action == "convert") {
    absl::StatusOr<partitions::StoredAux> out =
        partitions::ConvertStoredAux(*aux, command.to_version);
    if (!out.ok()) {
      return absl::Status(
          out.status().code(),
          absl::StrCat(command.input, ": ", out.status().message()));
    }
    if (absl::Status s = partitions::WriteAuxFile(command.output, *out);
        !s.ok()) {
      return s;
    }
    return std::string();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown aux action \"", command.action, "\""));
}

int RunAuxCommand(const AuxCommand& command) {
  return PrintCommandResult(absl::StrCat("aux ", command.action),
                            RunAux(command));
}

}  // namespace auxsync::cli
