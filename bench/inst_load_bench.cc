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
// second opens N idle watching sockets (in two halves) and reports the
// server's resident memory per socket: VmRSS of PID after minus before,
// divided by N, and the second half's increase divided by N / 2.

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

  if (idle) {
    if (options.server_pid <= 0) {
      std::cerr << "--idle needs --server-pid\n";
      return 2;
    }
    // Two halves: (after - before) / N includes what the first sockets
    // cost the server's allocator and heap (Node's heap grows in steps),
    // the second half's (after - middle) / (N / 2) is the marginal cost
    // of one more socket.
    options.rate_per_client = 0;
    const int total = options.clients;
    std::optional<int64_t> before = ResidentKib(options.server_pid);
    auxsync::bench::LoadOptions first = options;
    first.clients = total / 2;
    first.run_id = options.run_id + "a";
    auxsync::bench::LoadOptions second = options;
    second.clients = total - first.clients;
    second.run_id = options.run_id + "b";
    auxsync::bench::LoadClient a(first);
    auxsync::bench::LoadClient b(second);
    for (auxsync::bench::LoadClient* c : {&a, &b}) {
      if (absl::Status s = c->Connect(); !s.ok()) {
        std::cerr << s << "\n";
        return 2;
      }
      c->Hold(settle_s);
      if (c == &a) {
        out["rssMiddleKib"] = ResidentKib(options.server_pid).value_or(-1);
      }
    }
    std::optional<int64_t> after = ResidentKib(options.server_pid);
    const int64_t middle = out["rssMiddleKib"].get<int64_t>();
    const int ready_a = a.result().ready, ready_b = b.result().ready;
    out["rssBeforeKib"] = before.value_or(-1);
    out["rssAfterKib"] = after.value_or(-1);
    out["bytesPerConnection"] =
        before && after && ready_a + ready_b > 0
            ? std::round(static_cast<double>(*after - *before) * 1024 /
                         (ready_a + ready_b))
            : -1.0;
    out["bytesPerConnectionMarginal"] =
        after && middle > 0 && ready_b > 0
            ? std::round(static_cast<double>(*after - middle) * 1024 / ready_b)
            : -1.0;
    nlohmann::ordered_json result =
        nlohmann::ordered_json::parse(b.result().ToJson());
    for (auto& [key, value] : result.items()) out[key] = value;
    out["clients"] = total;
    out["ready"] = ready_a + ready_b;
    out["connectErrors"] =
        a.result().connect_errors + b.result().connect_errors;
    out["setupS"] = a.result().setup_s + b.result().setup_s;
  } else {
    auxsync::bench::LoadClient client(options);
    if (absl::Status s = client.Connect(); !s.ok()) {
      std::cerr << s << "\n";
      return 2;
    }
    client.RunLoad();
    nlohmann::ordered_json result =
        nlohmann::ordered_json::parse(client.result().ToJson());
    for (auto& [key, value] : result.items()) out[key] = value;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}
