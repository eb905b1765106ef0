#include "auxsync/cli/bench_client_command.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/version.h"
#include "auxsync/cli/bench_workload.h"
#include "auxsync/cli/remote_join.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"

namespace auxsync::cli {
namespace {

using bots::Value;

void PrintLine(const Value& object) {
  std::cout << bots::ToJson(object) << std::endl;
}

Value EventLine(std::string_view event) {
  Value line = Value::NewObject();
  line.as_object().Set("event", event);
  return line;
}

}  // namespace

CLI::App* AddBenchClientCommand(CLI::App& bench, BenchClientCommand& command) {
  CLI::App* client = bench.add_subcommand(
      "client",
      "Join a public inst and apply a seeded random bot workload (mixed and "
      "load tests); stdin: dump, quit");
  client->add_option("--url", command.url, "server websocket URL")->required();
  client->add_option("--inst", command.inst, "inst name")->required();
  client->add_option("--branch", command.branch, "branch")
      ->capture_default_str();
  client->add_option("--duration", command.duration_s, "workload seconds")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  client->add_option("--rate", command.rate, "operations per second")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  client->add_option("--seed", command.seed, "workload seed")
      ->capture_default_str();
  client->add_option("--connection-id", command.connection_id,
                     "connection id (default: a new UUID)");
  client->add_flag("--verbose", command.verbose, "log the transport on stderr");
  return client;
}

int RunBenchClientCommand(const BenchClientCommand& command) {
  boost::asio::io_context io(1);
  RemoteJoinOptions options;
  options.url = command.url;
  options.ns =
      inst::BranchNamespace{std::nullopt, command.inst, command.branch};
  options.connection_id = command.connection_id;
  if (command.verbose) {
    options.log = [](std::string_view text) {
      std::cerr << "auxsync bench client: " << text << "\n";
    };
  }
  absl::StatusOr<std::unique_ptr<RemoteJoin>> made =
      RemoteJoin::Create(io, std::move(options));
  if (!made.ok()) {
    std::cerr << "auxsync bench client: " << made.status().message() << "\n";
    return 2;
  }
  RemoteJoin& join = **made;
  client::RemoteYjsPartition& partition = join.partition();
  // The id the client logs in with (RemoteJoin picks one when not given).
  const Value indicator = join.connection().indicator();
  const Value& id_value = indicator["connectionId"];
  std::string connection_id =
      id_value.is_string() ? id_value.as_string() : command.connection_id;
  BenchWorkload workload(command.seed, absl::StrCat("b-", connection_id, "-"),
                         partition.space().value_or("shared"));

  Value version = Value::NewObject();
  std::vector<rx::Subscription> subs;
  subs.push_back(partition.OnVersionUpdated(
      [&](const bots::CurrentVersion& v) { version = v.vector; }));
  subs.push_back(partition.OnError([](const Value& error) {
    std::cerr << "auxsync bench client: partition error: "
              << bots::ToJson(error) << "\n";
  }));

  boost::asio::steady_timer timer(io);
  auto start = std::chrono::steady_clock::now();
  const auto duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(command.duration_s));
  const auto interval =
      command.rate > 0 ? std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::duration<double>(1.0 / command.rate))
                       : duration;
  uint64_t tick = 0;
  std::function<void()> step = [&] {
    auto now = std::chrono::steady_clock::now();
    if (command.rate <= 0 || now - start >= duration) {
      Value line = EventLine("workload-done");
      line.as_object().Set("ops", static_cast<double>(workload.ops()));
      PrintLine(line);
      return;
    }
    Value action = workload.Next(partition.state(), version);
    absl::StatusOr<std::vector<Value>> applied =
        partition.ApplyEvents({action});
    if (!applied.ok()) {
      std::cerr << "auxsync bench client: " << applied.status().message()
                << " (" << bots::ToJson(action) << ")\n";
    }
    ++tick;
    timer.expires_at(start + interval * tick);
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) step();
    });
  };
  bool ready = false;
  subs.push_back(partition.OnStatusUpdated([&](const Value& status) {
    if (ready || !status["type"].is_string() ||
        status["type"].as_string() != "sync" || !status["synced"].is_bool() ||
        !status["synced"].as_bool()) {
      return;
    }
    ready = true;
    PrintLine(EventLine("ready"));
    start = std::chrono::steady_clock::now();
    // Not from inside the partition's emission: the workload runs on its
    // own turns of the loop.
    boost::asio::post(io, step);
  }));

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) io.stop();
  });
  // stdin is read on a thread (it may be a file, a pipe or a terminal);
  // each line is handled on the loop. The thread may outlive this function
  // (blocked in a read when a signal ends the run), so it posts only while
  // `link` says the loop is still there.
  struct Link {
    std::mutex mu;
    boost::asio::io_context* io = nullptr;
    std::function<void(std::optional<std::string>)> on_line;
  };
  auto link = std::make_shared<Link>();
  link->io = &io;
  link->on_line = [&](std::optional<std::string> line) {
    if (!line.has_value() || *line == "quit") {
      io.stop();
    } else if (*line == "dump") {
      Value out = EventLine("dump");
      out.as_object().Set("state", partition.state());
      PrintLine(out);
    } else if (!line->empty()) {
      std::cerr << "auxsync bench client: unknown command \"" << *line
                << "\" (dump, quit)\n";
    }
  };
  auto work = boost::asio::make_work_guard(io);
  std::thread([link] {
    std::string text;
    bool more = true;
    while (more) {
      std::optional<std::string> line;
      if (std::getline(std::cin, text)) {
        if (!text.empty() && text.back() == '\r') text.pop_back();
        line = text;
      }
      more = line.has_value() && *line != "quit";
      std::lock_guard<std::mutex> lock(link->mu);
      if (link->io == nullptr) return;
      boost::asio::post(*link->io, [link, line] { link->on_line(line); });
    }
  }).detach();

  join.Start();
  io.run();
  {
    std::lock_guard<std::mutex> lock(link->mu);
    link->io = nullptr;
    link->on_line = nullptr;
  }
  subs.clear();
  made->reset();
  std::cout.flush();
  return 0;
}

}  // namespace auxsync::cli
