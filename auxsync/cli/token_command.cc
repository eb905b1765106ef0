#include "auxsync/cli/token_command.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/value.h"
#include "auxsync/inst/connection_token.h"
#include "auxsync/server/redis_store.h"
#include "auxsync/server/sqlite_store.h"

namespace auxsync::cli {
namespace {

std::string RandomBytes(size_t n) {
  // std::random_device reads the kernel's generator on Linux: fit for
  // secrets.
  std::random_device device;
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(device() & 0xFF);
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool Has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

CLI::App* AddTokenCommand(CLI::App& app, TokenCommand& command) {
  CLI::App* token = app.add_subcommand(
      "token", "Manage the sessions and grants of auxsync serve");
  token->require_subcommand(1);
  CLI::App* create = token->add_subcommand(
      "create",
      "Issue a session for a user (and grants on a record) in the server's "
      "store; print its connection key and connection token as JSON");
  create->add_option("--user", command.user, "the user id")->required();
  create->add_option("--record", command.record,
                     "the record the token (and --grant) is for; none = a "
                     "public inst");
  create->add_option("--inst", command.inst,
                     "the inst the connection token is for (without it only "
                     "the connection key is printed)");
  create->add_option("--connection-id", command.connection_id,
                     "the token's connection id (default: a random one)");
  create
      ->add_option("--grant", command.grants,
                   "grant the user read or write on --record (write "
                   "includes read); replaces an earlier grant")
      ->check(CLI::IsMember({"read", "write"}));
  create
      ->add_option("--expires-in", command.expires_in_seconds,
                   "seconds until the session expires (default: never)")
      ->check(CLI::NonNegativeNumber);
  create
      ->add_option("--data-dir", command.data_dir,
                   "the data directory of auxsync serve (auxsync.db)")
      ->capture_default_str();
  create->add_option("--store", command.store, "the server's store")
      ->capture_default_str()
      ->check(CLI::IsMember({"sqlite", "redis"}));
  create
      ->add_option("--redis-url", command.redis_url,
                   "--store redis: the Redis of the server nodes")
      ->capture_default_str();
  return create;
}

absl::StatusOr<std::string> CreateToken(
    const TokenCommand& command, server::Store& store, int64_t now_ms,
    const std::function<std::string(size_t)>& random_bytes) {
  if (command.user.empty()) {
    return absl::InvalidArgumentError("--user must not be empty");
  }
  if (!command.grants.empty() && command.record.empty()) {
    return absl::InvalidArgumentError("--grant needs --record");
  }
  server::Session session;
  session.user_id = command.user;
  session.session_id = inst::Base64Encode(random_bytes(16));
  session.connection_secret = inst::Base64Encode(random_bytes(16));
  if (command.expires_in_seconds > 0) {
    session.expire_time_ms = now_ms + command.expires_in_seconds * 1000;
  }
  if (absl::Status s = store.PutSession(session); !s.ok()) return s;

  bots::Value grant = nullptr;
  if (!command.grants.empty()) {
    bool write = Has(command.grants, "write");
    if (absl::Status s = store.PutGrant(
            {command.record, command.user, /*read=*/true, write});
        !s.ok()) {
      return s;
    }
    grant = write ? "write" : "read";
  }

  inst::RecordName record_name;
  if (!command.record.empty()) record_name = command.record;
  bots::Value connection_id = nullptr;
  bots::Value token = nullptr;
  if (!command.inst.empty()) {
    std::string id = command.connection_id.empty()
                         ? absl::StrCat("auxsync-", Hex(random_bytes(8)))
                         : command.connection_id;
    absl::StatusOr<inst::ConnectionToken> made = inst::MakeConnectionToken(
        session.user_id, session.session_id, session.connection_secret, id,
        record_name, command.inst);
    if (!made.ok()) return made.status();
    connection_id = id;
    token = inst::FormatConnectionToken(*made);
  }
  std::string expiry = session.expire_time_ms
                           ? absl::StrCat(*session.expire_time_ms)
                           : std::string("Infinity");
  bots::Value out = bots::MakeObject(
      {{"userId", session.user_id},
       {"sessionId", session.session_id},
       {"connectionKey",
        inst::FormatConnectionKey(session.user_id, session.session_id,
                                  session.connection_secret, expiry)},
       {"expireTimeMs",
        session.expire_time_ms
            ? bots::Value(static_cast<double>(*session.expire_time_ms))
            : bots::Value(nullptr)},
       {"recordName",
        record_name ? bots::Value(*record_name) : bots::Value(nullptr)},
       {"inst", command.inst.empty() ? bots::Value(nullptr)
                                     : bots::Value(command.inst)},
       {"connectionId", connection_id},
       {"connectionToken", token},
       {"grant", grant}});
  return bots::ToJson(out);
}

namespace {

absl::StatusOr<std::unique_ptr<server::Store>> OpenStore(
    const TokenCommand& command) {
  if (command.store == "redis") {
    absl::StatusOr<server::internal::RedisAddress> address =
        server::ParseRedisUrl(command.redis_url);
    if (!address.ok()) return address.status();
    server::RedisStoreOptions options;
    options.address = *std::move(address);
    // Sessions and grants only: this process claims no branches.
    options.node_id = "auxsync-token-create";
    absl::StatusOr<std::unique_ptr<server::RedisStore>> store =
        server::RedisStore::Open(std::move(options));
    if (!store.ok()) return store.status();
    return std::unique_ptr<server::Store>(std::move(*store));
  }
  std::error_code ec;
  std::filesystem::create_directories(command.data_dir, ec);
  std::string path =
      (std::filesystem::path(command.data_dir) / "auxsync.db").string();
  absl::StatusOr<std::unique_ptr<server::SqliteStore>> store =
      server::SqliteStore::Open(path);
  if (!store.ok()) return store.status();
  return std::unique_ptr<server::Store>(std::move(*store));
}

}  // namespace

int RunTokenCommand(const TokenCommand& command) {
  absl::StatusOr<std::unique_ptr<server::Store>> store = OpenStore(command);
  if (!store.ok()) {
    std::cerr << "auxsync token create: " << store.status().message() << "\n";
    return 2;
  }
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  absl::StatusOr<std::string> json =
      CreateToken(command, **store, now_ms, RandomBytes);
  if (!json.ok()) {
    std::cerr << "auxsync token create: " << json.status().message() << "\n";
    return 2;
  }
  std::cout << *json << "\n";
  return std::cout.good() ? 0 : 1;
}

}  // namespace auxsync::cli
