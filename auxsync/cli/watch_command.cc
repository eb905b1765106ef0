#include "auxsync/cli/watch_command.h"

#include <csignal>
#include <iostream>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/value.h"
#include "auxsync/cli/remote_join.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/signal_set.hpp"

namespace auxsync::cli {
namespace {

void PrintLine(const bots::Value& object) {
  std::cout << bots::ToJson(object) << std::endl;
}

bots::Value Line(std::string_view event) {
  bots::Value line = bots::Value::NewObject();
  line.as_object().Set("event", event);
  return line;
}

}  // namespace

CLI::App* AddWatchCommand(CLI::App& app, WatchCommand& command) {
  CLI::App* watch = app.add_subcommand(
      "watch",
      "Join an inst branch and print its bot changes as JSON lines until "
      "interrupted");
  watch
      ->add_option("URL", command.url,
                   "server: ws(s)://host:port/websocket or http(s)://host")
      ->required();
  watch->add_option("--inst", command.inst, "inst name")->required();
  watch->add_option("--record", command.record,
                    "record name (default: the public inst)");
  watch->add_option("--branch", command.branch, "branch")
      ->capture_default_str();
  watch->add_option("--connection-id", command.connection_id,
                    "connection id to log in with (default: a new UUID)");
  watch->add_option("--token", command.token,
                    "vCT1 connection token to log in with");
  watch->add_flag("--verbose", command.verbose, "log the transport on stderr");
  return watch;
}

int RunWatchCommand(const WatchCommand& command) {
  boost::asio::io_context io(1);
  RemoteJoinOptions options;
  options.url = command.url;
  options.ns = inst::BranchNamespace{
      command.record.empty() ? std::nullopt
                             : std::optional<std::string>(command.record),
      command.inst, command.branch};
  options.connection_id = command.connection_id;
  options.connection_token = command.token;
  if (command.verbose) {
    options.log = [](std::string_view text) {
      std::cerr << "auxsync watch: " << text << "\n";
    };
  }
  absl::StatusOr<std::unique_ptr<RemoteJoin>> join =
      RemoteJoin::Create(io, std::move(options));
  if (!join.ok()) {
    std::cerr << "auxsync watch: " << join.status().message() << "\n";
    return 2;
  }
  client::RemoteYjsPartition& partition = (*join)->partition();
  std::vector<rx::Subscription> subs;
  subs.push_back(partition.OnStatusUpdated([](const bots::Value& status) {
    bots::Value line = Line("status");
    line.as_object().Set("status", status);
    PrintLine(line);
  }));
  subs.push_back(
      partition.OnBotsAdded([](const std::vector<bots::Value>& added) {
        for (const bots::Value& bot : added) {
          bots::Value line = Line("added");
          line.as_object().Set("bot", bot);
          PrintLine(line);
        }
      }));
  subs.push_back(
      partition.OnBotsUpdated([](const std::vector<bots::UpdatedBot>& updated) {
        for (const bots::UpdatedBot& u : updated) {
          bots::Value line = Line("updated");
          line.as_object().Set("id", u.bot["id"]);
          bots::Value tags = bots::Value::NewArray();
          for (const std::string& tag : u.tags) {
            tags.as_array().items.push_back(bots::Value(tag));
          }
          line.as_object().Set("tags", tags);
          line.as_object().Set("bot", u.bot);
          PrintLine(line);
        }
      }));
  subs.push_back(
      partition.OnBotsRemoved([](const std::vector<std::string>& removed) {
        for (const std::string& id : removed) {
          bots::Value line = Line("removed");
          line.as_object().Set("id", id);
          PrintLine(line);
        }
      }));
  subs.push_back(partition.OnError([](const bots::Value& error) {
    bots::Value line = Line("error");
    line.as_object().Set("error", error);
    PrintLine(line);
  }));
  subs.push_back((*join)->auth().OnAuthRequest([](const bots::Value& request) {
    bots::Value line = Line("auth_request");
    line.as_object().Set("request", request);
    PrintLine(line);
  }));

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) io.stop();
  });
  (*join)->Start();
  io.run();
  subs.clear();
  join->reset();
  return 0;
}

}  // namespace auxsync::cli
