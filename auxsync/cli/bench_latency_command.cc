#include "auxsync/cli/bench_latency_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/value.h"
#include "auxsync/cli/remote_join.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"

namespace auxsync::cli {
namespace {

using bots::MakeObject;
using bots::Value;
using Clock = std::chrono::steady_clock;

// The measurement as a small state machine on the event loop: wait for both
// clients to sync, add `lat`, then one round at a time. Every step is
// posted, so no partition call runs inside another partition's callback.
class LatencyRun {
 public:
  LatencyRun(boost::asio::io_context& io, const BenchLatencyCommand& command,
             RemoteJoin& a, RemoteJoin& b)
      : io_(io), command_(command), a_(a), b_(b), deadline_(io) {}

  // Runs until done or failed; returns the exit code.
  int Run() {
    subs_.push_back(a_.partition().OnStatusUpdated(
        [this](const Value& s) { OnStatus(s, synced_a_); }));
    subs_.push_back(b_.partition().OnStatusUpdated(
        [this](const Value& s) { OnStatus(s, synced_b_); }));
    subs_.push_back(
        b_.partition().OnBotsAdded([this](const std::vector<Value>& bots) {
          for (const Value& bot : bots) {
            if (bot["id"].is_string() && bot["id"].as_string() == "lat" &&
                round_ < 0) {
              round_ = 0;
              boost::asio::post(io_, [this] { StartRound(); });
            }
          }
        }));
    subs_.push_back(b_.partition().OnBotsUpdated(
        [this](const std::vector<bots::UpdatedBot>& updates) {
          for (const bots::UpdatedBot& u : updates) OnUpdated(u.bot);
        }));
    Arm("sync");
    a_.Start();
    b_.Start();
    io_.run();
    return exit_code_;
  }

 private:
  void OnStatus(const Value& status, bool& synced) {
    if (status["type"].is_string() && status["type"].as_string() == "sync" &&
        status["synced"].is_bool() && status["synced"].as_bool()) {
      synced = true;
      if (synced_a_ && synced_b_ && !added_) {
        added_ = true;
        boost::asio::post(io_, [this] {
          Arm("bot lat at B");
          Value tags = MakeObject({{"seq", Value(-1)}});
          (void)a_.partition().ApplyEvents(
              {bots::BotAdded(bots::CreateBot("lat", tags))});
        });
      }
    }
  }

  void StartRound() {
    if (round_ >= command_.warmup + command_.rounds) {
      Finish();
      return;
    }
    Arm(absl::StrCat("seq ", round_, " at B"));
    started_ = Clock::now();
    (void)a_.partition().ApplyEvents({bots::BotUpdated(
        "lat", MakeObject({{"tags", MakeObject({{"seq", Value(round_)}})}}))});
  }

  void OnUpdated(const Value& bot) {
    if (round_ < 0 || done_ || !bot["id"].is_string() ||
        bot["id"].as_string() != "lat") {
      return;
    }
    const Value& seq = bot["tags"]["seq"];
    if (!seq.is_number() || seq.as_number() != round_) return;
    double ms =
        std::chrono::duration<double, std::milli>(Clock::now() - started_)
            .count();
    if (round_ >= command_.warmup) samples_.push_back(ms);
    ++round_;
    boost::asio::post(io_, [this] { StartRound(); });
  }

  // (Re)starts the watchdog for the step named `what`.
  void Arm(std::string what) {
    deadline_.expires_after(std::chrono::milliseconds(command_.timeout_ms));
    deadline_.async_wait([this, what](const boost::system::error_code& ec) {
      if (ec || done_) return;
      std::cerr << "auxsync bench latency: timed out waiting for " << what
                << "\n";
      exit_code_ = 1;
      Stop();
    });
  }

  void Finish() {
    std::sort(samples_.begin(), samples_.end());
    auto pct = [&](double p) {
      size_t i = static_cast<size_t>(p / 100 * samples_.size());
      return samples_[std::min(samples_.size() - 1, i)];
    };
    double sum = 0;
    for (double s : samples_) sum += s;
    std::cout << absl::StrFormat(
                     "{\"impl\":\"auxsync\",\"n\":%d,\"p50Ms\":%.3f,"
                     "\"p99Ms\":%.3f,\"meanMs\":%.3f,\"maxMs\":%.3f}",
                     static_cast<int>(samples_.size()), pct(50), pct(99),
                     sum / samples_.size(), samples_.back())
              << std::endl;
    Stop();
  }

  void Stop() {
    done_ = true;
    deadline_.cancel();
    subs_.clear();
    a_.connection().set_forced_offline(true);
    b_.connection().set_forced_offline(true);
    io_.stop();
  }

  boost::asio::io_context& io_;
  const BenchLatencyCommand& command_;
  RemoteJoin& a_;
  RemoteJoin& b_;
  boost::asio::steady_timer deadline_;
  std::vector<rx::Subscription> subs_;
  bool synced_a_ = false;
  bool synced_b_ = false;
  bool added_ = false;
  bool done_ = false;
  int round_ = -1;  // -1 until B has seen `lat`
  Clock::time_point started_;
  std::vector<double> samples_;
  int exit_code_ = 0;
};

}  // namespace

CLI::App* AddBenchLatencyCommand(CLI::App& bench,
                                 BenchLatencyCommand& command) {
  CLI::App* latency = bench.add_subcommand(
      "latency",
      "Client-to-client latency of two native clients through an inst "
      "server (p50/p99 of applyEvents -> seen by the other client)");
  latency->add_option("--url", command.url, "server websocket URL")->required();
  latency->add_option("--n", command.rounds, "measured rounds")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  latency->add_option("--warmup", command.warmup, "rounds not counted")
      ->capture_default_str()
      ->check(CLI::Range(0, 10'000'000));
  latency
      ->add_option("--timeout-ms", command.timeout_ms, "longest wait per step")
      ->capture_default_str()
      ->check(CLI::Range(1, 3'600'000));
  return latency;
}

int RunBenchLatencyCommand(const BenchLatencyCommand& command) {
  boost::asio::io_context io(1);
  std::string inst = absl::StrCat(
      "latency-", std::chrono::system_clock::now().time_since_epoch().count());
  std::vector<std::unique_ptr<RemoteJoin>> joins;
  for (const char* id : {"latA", "latB"}) {
    RemoteJoinOptions options;
    options.url = command.url;
    options.ns = inst::BranchNamespace{std::nullopt, inst, "default"};
    options.connection_id = id;
    absl::StatusOr<std::unique_ptr<RemoteJoin>> made =
        RemoteJoin::Create(io, std::move(options));
    if (!made.ok()) {
      std::cerr << "auxsync bench latency: " << made.status().message() << "\n";
      return 2;
    }
    joins.push_back(*std::move(made));
  }
  LatencyRun run(io, command, *joins[0], *joins[1]);
  return run.Run();
}

}  // namespace auxsync::cli
