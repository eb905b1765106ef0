// inst_load_bench: loads a CasualOS inst server (auxsync serve, or the
// Node reference server) with many websocket clients and prints one JSON
// line with what it measured. bench/inst_load_bench.sh runs it against
// both servers and prints the comparison; see docs/performance.md.
//
//   inst_load_bench --port P --clients K [--per-inst M] [--rate R]
//                   [--warmup S] [--duration S] [--drain S] [--run-id ID]
//   inst_load_bench --port P --clients N --idle --server-pid PID [--settle S]
//
// The first form measures fan-out latency and acknowledged updates/s; the
// second opens N idle watching sockets and reports the server's resident
// memory per socket (VmRSS of PID after minus before, divided by N).

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "bench/inst_load_client.h"
#include "nlohmann/json.hpp"

namespace {

// VmRSS of a process in KiB, from /proc; nullopt if unreadable.
std::optional<int64_t> ResidentKib(int64_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  auxsync::bench::LoadOptions options;
  bool idle = false;
  double settle_s = 3;
  std::string label;
  std::string scenario;
  CLI::App app("Load a CasualOS inst server with many websocket clients");
  app.add_option("--host", options.host, "server address (an IP)")
      ->capture_default_str();
  app.add_option("--port", options.port, "server port")->required();
  app.add_option("--path", options.path)->capture_default_str();
  app.add_option("--clients", options.clients, "sockets")
      ->capture_default_str();
  app.add_option("--per-inst", options.clients_per_inst,
                 "clients per inst (0 = all on one)")
      ->capture_default_str();
  app.add_flag("--casualos-session", options.casualos_session,
               "also watch the player branch and the devices, like a "
               "CasualOS tab");
  app.add_option("--rate", options.rate_per_client,
                 "updates per second and client")
      ->capture_default_str();
  app.add_option("--warmup", options.warmup_s, "seconds")
      ->capture_default_str();
  app.add_option("--duration", options.duration_s, "measured seconds")
      ->capture_default_str();
  app.add_option("--drain", options.drain_s, "seconds to wait for stragglers")
      ->capture_default_str();
  app.add_option("--connects", options.max_concurrent_connects,
                 "connects in flight")
      ->capture_default_str();
  app.add_option("--setup-timeout", options.setup_timeout_s, "seconds")
      ->capture_default_str();
  app.add_option("--run-id", options.run_id, "prefix of inst names and ids")
      ->capture_default_str();
  app.add_option("--verify-every", options.verify_every,
                 "decode every Nth fast-path frame with the codec too")
      ->capture_default_str();
  app.add_flag("--idle", idle, "measure memory per idle socket");
  app.add_option("--server-pid", options.server_pid,
                 "server process: its RSS (--idle) and CPU time are read");
  app.add_option("--settle", settle_s, "seconds to wait before reading RSS")
      ->capture_default_str();
  app.add_option("--label", label, "copied into the output");
  app.add_option("--scenario", scenario, "copied into the output");
  CLI11_PARSE(app, argc, argv);

  nlohmann::ordered_json out;
  out["label"] = label;
  out["scenario"] = scenario;
  out["mode"] = idle ? "idle" : "load";
  out["perInst"] = options.clients_per_inst;
  out["ratePerClient"] = idle ? 0 : options.rate_per_client;
  out["casualosSession"] = options.casualos_session;

  std::optional<int64_t> before;
  if (idle) {
    if (options.server_pid <= 0) {
      std::cerr << "--idle needs --server-pid\n";
      return 2;
    }
    options.rate_per_client = 0;
    before = ResidentKib(options.server_pid);
  }
  auxsync::bench::LoadClient client(options);
  if (absl::Status s = client.Connect(); !s.ok()) {
    std::cerr << s << "\n";
    return 2;
  }
  if (idle) {
    client.Hold(settle_s);
    std::optional<int64_t> after = ResidentKib(options.server_pid);
    out["rssBeforeKib"] = before.value_or(-1);
    out["rssAfterKib"] = after.value_or(-1);
    int ready = client.result().ready;
    out["bytesPerConnection"] =
        before && after && ready > 0
            ? std::round(static_cast<double>(*after - *before) * 1024 / ready)
            : -1.0;
  } else {
    client.RunLoad();
  }
  nlohmann::ordered_json result =
      nlohmann::ordered_json::parse(client.result().ToJson());
  for (auto& [key, value] : result.items()) out[key] = value;
  std::cout << out.dump() << std::endl;
  return 0;
}
