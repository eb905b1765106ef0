// Runs a scenario file against a partition and records what it emits
// (docs/scenarios.md). Used by `auxsync apply` and by the differential
// tests against aux-common.

#ifndef AUXSYNC_CLI_SCENARIO_RUNNER_H_
#define AUXSYNC_CLI_SCENARIO_RUNNER_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"

namespace auxsync::cli {

struct ScenarioOptions {
  // Write non-JSON numbers and undefined properties in tagged form.
  bool tagged = false;
  // Where a yjs partition whose config asks for local persistence
  // (`localPersistence.saveToIndexedDb` and a `branch`) keeps its SQLite
  // file (one per branch; created if missing). Empty: no persistence, as
  // before. A second run with the same directory starts from the bots of
  // the first.
  std::string persistence_dir;
  // Called with "<name>: <message>" for every onError emission (the output
  // records an Error as JSON.stringify does, as {}), e.g. a wrong
  // encryptionKey. May be empty.
  std::function<void(const std::string&)> on_partition_error;
};

// Checks a parsed scenario completely before anything runs: the partition
// config, the space, every step and every action. The error names the step
// and field (e.g. "steps[2].applyEvents[0].bot.id: must be a string").
absl::Status ValidateScenario(const bots::Value& scenario);

// Runs a validated scenario and returns the output JSON text. Fails only
// when the partition cannot be created from its config (e.g. a remote
// config's host is not an http(s)/ws(s) URL) or `persistence_dir` cannot
// be created. A remote config (remote_yjs, yjs_client, other_players_repo,
// other_players_client) joins its host's inst over a websocket on an event
// loop of its own, which the waitFor and wait steps turn; a waitFor that
// times out is a step error in the output, not a failure.
absl::StatusOr<std::string> RunScenario(const bots::Value& scenario,
                                        const ScenarioOptions& options);

// Parses (with the tagged forms decoded), validates and runs scenario text.
absl::StatusOr<std::string> RunScenarioText(std::string_view text,
                                            const ScenarioOptions& options);

}  // namespace auxsync::cli

#endif  // AUXSYNC_CLI_SCENARIO_RUNNER_H_
