#include "auxsync/cli/serve_command.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "auxsync/server/inst_server.h"
#include "auxsync/server/memory_store.h"
#include "auxsync/server/redis_fanout.h"
#include "auxsync/server/redis_store.h"
#include "auxsync/server/sqlite_store.h"
#include "auxsync/server/websocket_server.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"

namespace auxsync::cli {
namespace {

// "2026-11-25T18:40:00Z auxsync: text" on stderr.
void LogLine(std::string_view text) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::cerr << stamp << " auxsync serve: " << text << "\n";
}

// The Redis store of `--store redis`. The node id defaults to
// "<hostname>:<port>": unique among live nodes, and the same after a
// restart, so the restarted node releases its old temporary branches.
absl::StatusOr<std::unique_ptr<server::RedisStore>> OpenRedisStore(
    const ServeCommand& command) {
  absl::StatusOr<server::internal::RedisAddress> address =
      server::ParseRedisUrl(command.redis_url);
  if (!address.ok()) return address.status();
  server::RedisStoreOptions options;
  options.address = *std::move(address);
  options.node_id = command.redis_node_id;
  options.public_ttl_seconds = command.redis_public_ttl;
  options.temporary_ttl_seconds = command.redis_temp_ttl;
  if (options.node_id.empty() && command.port != 0) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    options.node_id = absl::StrCat(host, ":", command.port);
  }
  return server::RedisStore::Open(std::move(options));
}

}  // namespace

CLI::App* AddServeCommand(CLI::App& app, ServeCommand& command) {
  CLI::App* serve = app.add_subcommand(
      "serve", "Run the inst server CasualOS clients connect to");
  serve->add_option("--host", command.host, "address to listen on")
      ->capture_default_str();
  serve->add_option("--port", command.port, "port (0 = any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve->add_option("--store", command.store, "where branch data is kept")
      ->capture_default_str()
      ->check(CLI::IsMember({"sqlite", "memory", "redis"}));
  serve
      ->add_option("--redis-url", command.redis_url,
                   "--store redis: redis://[[user]:password@]host[:port][/db] "
                   "or unix:///path/to/redis.sock[?db=N]")
      ->capture_default_str();
  serve->add_option("--redis-node-id", command.redis_node_id,
                    "--store redis: this node's name among the servers "
                    "sharing the Redis (default <hostname>:<port>)");
  serve
      ->add_option("--redis-public-ttl", command.redis_public_ttl,
                   "--store redis: public insts expire this many seconds "
                   "after their first write (0 = never; CasualOS: 86400)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve
      ->add_option("--redis-temp-ttl", command.redis_temp_ttl,
                   "--store redis: temporary branches expire this many "
                   "seconds after their last write or watch (0 = never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve
      ->add_option("--redis-node-ttl", command.redis_node_ttl,
                   "--store redis: a node silent this many seconds is dead "
                   "(heartbeat every third of it)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{3}, int64_t{3600}));
  serve
      ->add_option("--data-dir", command.data_dir,
                   "directory of the sqlite store (auxsync.db)")
      ->capture_default_str();
  serve
      ->add_option("--sqlite-sync", command.sqlite_sync,
                   "full: fsync every commit; normal: survive process "
                   "crashes only, much faster")
      ->capture_default_str()
      ->check(CLI::IsMember({"full", "normal"}));
  serve
      ->add_option("--max-inst-bytes", command.max_inst_bytes,
                   "largest inst in bytes of stored updates (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  serve
      ->add_option("--max-frame-bytes", command.max_frame_bytes,
                   "largest incoming websocket message; larger ones close "
                   "the socket")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 30));
  serve
      ->add_option("--compact-after", command.compact_after,
                   "merge a branch's updates into one once it has this many "
                   "(0 = never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve
      ->add_option("--rate-limit", command.rate_limit,
                   "frames per window and client address; more are dropped "
                   "with rate_limit_exceeded (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  serve
      ->add_option("--rate-window-ms", command.rate_window_ms,
                   "the rate limit's window")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve->add_flag("--quiet", command.quiet, "no per-socket log lines");
  return serve;
}

int RunServeCommand(const ServeCommand& command) {
  std::unique_ptr<server::Store> store;
  // --store redis: the Redis address and node id, for the fan-out.
  std::optional<server::internal::RedisAddress> redis_address;
  std::string redis_node_id;
  if (command.store == "memory") {
    store = std::make_unique<server::MemoryStore>();
  } else if (command.store == "redis") {
    absl::StatusOr<std::unique_ptr<server::RedisStore>> opened =
        OpenRedisStore(command);
    if (!opened.ok()) {
      LogLine(
          absl::StrCat("cannot open the store: ", opened.status().message()));
      return 2;
    }
    LogLine(absl::StrCat("store ", (*opened)->connection().address().Describe(),
                         " (redis, node ", (*opened)->node_id(), ")"));
    redis_address = (*opened)->connection().address();
    redis_node_id = (*opened)->node_id();
    store = std::move(*opened);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(command.data_dir, ec);
    std::string path =
        (std::filesystem::path(command.data_dir) / "auxsync.db").string();
    absl::StatusOr<std::unique_ptr<server::SqliteStore>> opened =
        server::SqliteStore::Open(path, command.sqlite_sync == "full");
    if (!opened.ok()) {
      LogLine(
          absl::StrCat("cannot open the store: ", opened.status().message()));
      return 2;
    }
    store = std::move(*opened);
    LogLine(absl::StrCat("store ", path));
  }
  // A restarted server has no watchers: every temporary branch is orphaned.
  if (absl::Status s = store->DeleteTemporaryBranches(); !s.ok()) {
    LogLine(absl::StrCat("store: ", s.message()));
    return 2;
  }

  server::InstServerOptions options;
  if (command.max_inst_bytes > 0) {
    options.max_inst_bytes = command.max_inst_bytes;
  }
  options.compact_after_updates = command.compact_after;
  options.rate_limit_frames = command.rate_limit;
  options.rate_limit_window_ms = command.rate_window_ms;
  options.limits.max_frame_bytes = static_cast<size_t>(command.max_frame_bytes);
  boost::asio::io_context io(1);
  // Group commit (SQLite): the writes of one round of ready frames share
  // one transaction, committed once the round is handled
  // (InstServer::Flush); acknowledgements follow the commit.
  if (command.store == "sqlite") {
    options.schedule_flush = [&io](std::function<void()> flush) {
      boost::asio::post(io, std::move(flush));
    };
  }
  // Several nodes on one Redis act as one server: updates, presence,
  // counts and remote actions cross nodes (docs/server.md).
  std::unique_ptr<server::RedisFanout> fanout;
  boost::asio::steady_timer heartbeat(io);
  std::function<void()> beat;
  if (redis_address) {
    server::RedisFanoutOptions fanout_options;
    fanout_options.address = *redis_address;
    fanout_options.node_id = redis_node_id;
    fanout_options.post = [&io](std::function<void()> f) {
      boost::asio::post(io, std::move(f));
    };
    fanout_options.log = LogLine;
    fanout_options.node_ttl_seconds = command.redis_node_ttl;
    absl::StatusOr<std::unique_ptr<server::RedisFanout>> started =
        server::RedisFanout::Start(std::move(fanout_options));
    if (!started.ok()) {
      LogLine(absl::StrCat("cannot start the fan-out: ",
                           started.status().message()));
      return 2;
    }
    fanout = std::move(*started);
    options.fanout = fanout.get();
    // A third of the node TTL, so one late beat does not kill the node.
    beat = [&] {
      fanout->Heartbeat();
      heartbeat.expires_after(std::chrono::seconds(command.redis_node_ttl / 3));
      heartbeat.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) beat();
      });
    };
    beat();
  }
  server::InstServer inst_server(*store, options);
  server::WebsocketServerOptions ws_options;
  ws_options.max_frame_bytes = options.limits.max_frame_bytes;
  if (!command.quiet) ws_options.log = LogLine;
  server::WebsocketServer ws(io, inst_server, ws_options);
  absl::StatusOr<uint16_t> port =
      ws.Listen(command.host, static_cast<uint16_t>(command.port));
  if (!port.ok()) {
    LogLine(absl::StrCat("cannot listen: ", port.status().message()));
    return 2;
  }
  std::string host = command.host.find(':') != std::string::npos
                         ? absl::StrCat("[", command.host, "]")
                         : command.host;
  std::cout << "ws://" << host << ":" << *port << "/websocket" << std::endl;
  LogLine(absl::StrCat("listening on ws://", host, ":", *port,
                       "/websocket (store: ", command.store, ")"));

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer drain(io);
  auto deadline = std::chrono::steady_clock::time_point();
  std::function<void()> wait_for_sockets = [&] {
    if (ws.open_sockets() == 0 || std::chrono::steady_clock::now() > deadline) {
      io.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(20));
    drain.async_wait(
        [&](const boost::system::error_code&) { wait_for_sockets(); });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    LogLine(absl::StrCat("signal ", signal, ": closing ", ws.open_sockets(),
                         " socket(s)"));
    // Handlers run one at a time on this thread, so no store write is in
    // flight here: everything acknowledged is committed.
    ws.Stop();
    heartbeat.cancel();
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    wait_for_sockets();
  });
  io.run();
  inst_server.Flush();  // a batch whose flush io.stop() pre-empted
  const server::InstServerStats& stats = inst_server.stats();
  LogLine(absl::StrCat("stopped: ", stats.frames_in, " frames in, ",
                       stats.frames_out, " out, ", stats.updates_stored,
                       " updates stored, ", stats.compactions, " compactions"));
  return 0;
}

}  // namespace auxsync::cli
