#include "auxsync/server/redis_store.h"

#include <hiredis/hiredis.h>

#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace auxsync::server {
namespace {

using internal::RedisReply;

// Debian's absl::string_view is not std::string_view.
absl::string_view A(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// Shared by the branch scripts. KEYS[1..5]: the branch in the inst
// namespace (branchInfo, updates, branchSize, instSize, branches);
// KEYS[6..10]: the same in the temporary namespace; KEYS[11]: the nodes
// claiming the branch; KEYS[12]: the branches this node claims.
// ARGV[1]: temporary TTL (s), ARGV[2]: public TTL (s), ARGV[3]: "1" for a
// public inst, ARGV[4]: this node's id, ARGV[5]: the branch as this node's
// claim member, ARGV[6]: the own key prefix. Script-specific arguments
// start at ARGV[7].
constexpr std::string_view kPrelude = R"lua(
-- Where the branch lives: 0 (inst namespace, looked up first, as the Node
-- server does), 5 (temporary namespace) or -1 (nowhere). A branch written
-- by a CasualOS node may have updates without a branchInfo.
local function where()
  if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
  if redis.call('EXISTS', KEYS[6], KEYS[7]) > 0 then return 5 end
  return -1
end
-- Temporary branches expire after their last write or watch; public insts
-- after their first write (NX), as the CasualOS stores do.
local function expire(b)
  local ttl_t = tonumber(ARGV[1])
  local ttl_p = tonumber(ARGV[2])
  if b == 5 and ttl_t > 0 then
    for i = 6, 11 do redis.call('EXPIRE', KEYS[i], ttl_t) end
  elseif b == 0 and ARGV[3] == '1' and ttl_p > 0 then
    for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl_p, 'NX') end
  end
end
local function size_of(key)
  return tonumber(redis.call('GET', key) or '0')
end
-- How many nodes other than this one claim the temporary branch and are
-- alive. A node running the fan-out (redis_fanout.h) marks itself with a
-- `fanout` key and keeps an `alive` key with a TTL; one with the mark and
-- without `alive` crashed, and its sockets are gone. Nodes without the
-- mark (no fan-out) always count.
local function live_claims()
  local n = 0
  for _, node in ipairs(redis.call('SMEMBERS', KEYS[11])) do
    if node ~= ARGV[4] then
      local base = ARGV[6] .. '/nodes/' .. node
      if redis.call('EXISTS', base .. '/alive') == 1 or
          redis.call('EXISTS', base .. '/fanout') == 0 then
        n = n + 1
      end
    end
  end
  return n
end
-- Deletes the branch's keys in namespace base b (0 or 5).
local function drop(b)
  local size = size_of(KEYS[b + 3])
  if redis.call('DEL', KEYS[b + 1], KEYS[b + 2], KEYS[b + 3]) > 0 then
    redis.call('SREM', KEYS[b + 5], KEYS[b + 2])
    if size ~= 0 then redis.call('INCRBY', KEYS[b + 4], -size) end
  end
end
-- A script that fails half-way keeps its earlier writes (Redis does not
-- roll back), so the writing scripts check every key they may touch first:
-- an error names the key, and nothing is written.
local kinds = {'string', 'list', 'string', 'string', 'set'}
local function bad_keys(bases)
  local keys = {{11, 'set'}, {12, 'set'}}
  for _, b in ipairs(bases) do
    for i = 1, 5 do keys[#keys + 1] = {b + i, kinds[i]} end
  end
  for _, k in ipairs(keys) do
    local t = redis.call('TYPE', KEYS[k[1]]).ok
    if t ~= 'none' and t ~= k[2] then
      return 'WRONGTYPE ' .. KEYS[k[1]] .. ' holds a ' .. t
    end
  end
  for _, b in ipairs(bases) do
    for _, i in ipairs({3, 4}) do
      local v = redis.call('GET', KEYS[b + i])
      if v and not tonumber(v) then
        return 'ERR ' .. KEYS[b + i] .. ' is not an integer'
      end
    end
  end
  return nil
end
)lua";

// -> {where, branch size, update count}
constexpr std::string_view kGetBranch = R"lua(
local b = where()
if b < 0 then return {-1, 0, 0} end
return {b, size_of(KEYS[b + 3]), redis.call('LLEN', KEYS[b + 2])}
)lua";

// ARGV[7]: "1" to create a temporary branch, ARGV[8]/ARGV[9]: the
// branchInfo JSON for the inst/temporary namespace. -> where
constexpr std::string_view kCreateBranch = R"lua(
local b = where()
local bad = bad_keys({b < 0 and (ARGV[7] == '1' and 5 or 0) or b})
if bad then return redis.error_reply(bad) end
-- A temporary branch that only crashed nodes claimed lost its watchers
-- with them: it starts afresh, as after the last watcher left (7.4).
if b == 5 and redis.call('SCARD', KEYS[11]) > 0 and live_claims() == 0 and
    redis.call('SISMEMBER', KEYS[11], ARGV[4]) == 0 then
  drop(5)
  redis.call('DEL', KEYS[11])
  b = -1
end
if b < 0 then
  if ARGV[7] == '1' then
    b = 5
    redis.call('SET', KEYS[6], ARGV[9])
  else
    b = 0
    redis.call('SET', KEYS[1], ARGV[8])
  end
end
-- Listed in the inst's branches even before its first update (InstExists).
redis.call('SADD', KEYS[b + 5], KEYS[b + 2])
if b == 5 then
  redis.call('SADD', KEYS[11], ARGV[4])
  redis.call('SADD', KEYS[12], ARGV[5])
end
expire(b)
return b
)lua";

// ARGV[7]: total size, ARGV[8]: branchInfo JSON (inst namespace) for a
// new branch, ARGV[9..]: "<update>:<ms>" entries. -> where
constexpr std::string_view kAppend = R"lua(
local b = where()
local bad = bad_keys({math.max(b, 0)})
if bad then return redis.error_reply(bad) end
if b < 0 then
  b = 0
  redis.call('SET', KEYS[1], ARGV[8])
end
local n = #ARGV
for i = 9, n, 1000 do
  redis.call('RPUSH', KEYS[b + 2], unpack(ARGV, i, math.min(i + 999, n)))
end
local size = tonumber(ARGV[7])
redis.call('INCRBY', KEYS[b + 3], size)
redis.call('INCRBY', KEYS[b + 4], size)
redis.call('SADD', KEYS[b + 5], KEYS[b + 2])
expire(b)
return b
)lua";

constexpr std::string_view kGetUpdates = R"lua(
local b = where()
if b < 0 then return {} end
return redis.call('LRANGE', KEYS[b + 2], 0, -1)
)lua";

// ARGV[7]: expected count, ARGV[8]: the merged entry, ARGV[9]: its size.
// The list keeps its TTL (push then trim); the sizes are set, not summed.
constexpr std::string_view kReplace = R"lua(
local b = where()
if b < 0 then return 0 end
local bad = bad_keys({b})
if bad then return redis.error_reply(bad) end
local count = redis.call('LLEN', KEYS[b + 2])
if count ~= tonumber(ARGV[7]) then return 0 end
local old = size_of(KEYS[b + 3])
redis.call('RPUSH', KEYS[b + 2], ARGV[8])
redis.call('LTRIM', KEYS[b + 2], count, -1)
redis.call('SET', KEYS[b + 3], ARGV[9], 'KEEPTTL')
redis.call('INCRBY', KEYS[b + 4], tonumber(ARGV[9]) - old)
redis.call('SADD', KEYS[b + 5], KEYS[b + 2])
return 1
)lua";

// A temporary branch that another live node still claims (its sockets
// watch it) stays: this node only gives up its claim. Otherwise both namespaces
// go: a CasualOS node may have split the name (7.4). -> 1 when deleted
constexpr std::string_view kDeleteBranch = R"lua(
local bad = bad_keys({0, 5})
if bad then return redis.error_reply(bad) end
redis.call('SREM', KEYS[11], ARGV[4])
redis.call('SREM', KEYS[12], ARGV[5])
if where() == 5 and live_claims() > 0 then return 0 end
drop(0)
drop(5)
redis.call('DEL', KEYS[11])
return 1
)lua";

// This node gives up its claim; the temporary branch goes when no other
// live node claims it. -> 1 when deleted
constexpr std::string_view kRelease = R"lua(
local bad = bad_keys({5})
if bad then return redis.error_reply(bad) end
redis.call('SREM', KEYS[11], ARGV[4])
redis.call('SREM', KEYS[12], ARGV[5])
if live_claims() > 0 then return 0 end
if redis.call('EXISTS', KEYS[6], KEYS[7]) == 0 then return 0 end
drop(5)
redis.call('DEL', KEYS[11])
return 1
)lua";

// KEYS[1], KEYS[2]: the inst's branches sets (inst and temporary
// namespace); ARGV[1], ARGV[2]: the namespaces' prefixes. A member is the
// branch's updates key; it counts while that or its branchInfo exists
// (expired temporary keys leave stale members).
constexpr std::string_view kInstExists = R"lua(
for i = 1, 2 do
  local updates = ARGV[i] .. '/updates/'
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    local info = ARGV[i] .. '/branchInfo/' .. string.sub(member, #updates + 1)
    if redis.call('EXISTS', member, info) > 0 then return 1 end
  end
end
return 0
)lua";

// KEYS[1]: the session hash; ARGV: secret, revoked, expiry ("" = never).
constexpr std::string_view kPutSession = R"lua(
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'connectionSecret', ARGV[1], 'revoked', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'expireTimeMs', ARGV[3]) end
return 1
)lua";

std::string BranchScript(std::string_view body) {
  return absl::StrCat(A(kPrelude), A(body));
}

// "<recordName or empty>/<inst>" as CasualOS builds it (9.3): a null and an
// empty record name share keys, as both mean a public inst there.
std::string InstPath(const inst::RecordName& record_name,
                     std::string_view inst) {
  return absl::StrCat(record_name.value_or(""), "/", A(inst));
}

nlohmann::ordered_json RecordJson(const inst::RecordName& record_name) {
  return record_name ? nlohmann::ordered_json(*record_name)
                     : nlohmann::ordered_json(nullptr);
}

// The branchInfo value CasualOS stores (TempBranchInfo).
std::string BranchInfoJson(const inst::BranchNamespace& ns, bool temporary) {
  nlohmann::ordered_json info;
  info["recordName"] = RecordJson(ns.record_name);
  info["inst"] = ns.inst;
  info["branch"] = ns.branch;
  info["temporary"] = temporary;
  info["linkedInst"] = nullptr;
  return info.dump();
}

// A claim member: [recordName, inst, branch] (names may hold '/').
std::string ClaimMember(const inst::BranchNamespace& ns) {
  return nlohmann::ordered_json::array(
             {RecordJson(ns.record_name), ns.inst, ns.branch})
      .dump();
}

std::optional<inst::BranchNamespace> ParseClaimMember(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array() || j.size() != 3 || !j[1].is_string() ||
      !j[2].is_string() || !(j[0].is_null() || j[0].is_string())) {
    return std::nullopt;
  }
  inst::BranchNamespace ns;
  if (j[0].is_string()) ns.record_name = j[0].get<std::string>();
  ns.inst = j[1].get<std::string>();
  ns.branch = j[2].get<std::string>();
  return ns;
}

std::string RandomNodeId() {
  std::random_device random;
  return absl::StrFormat("%08x%08x", random(), random());
}

absl::Status ExpectArray(const redisReply& reply, size_t size,
                         std::string_view what) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements < size) {
    return absl::InternalError(
        absl::StrCat("redis: ", A(what), ": unexpected reply"));
  }
  return absl::OkStatus();
}

// "<update>:<ms>" -> (update, ms); the last ':' separates them (base64 has
// none). An entry without one (not written by a store we know) gets -1, as
// the CasualOS store reads it.
StoredUpdate ParseEntry(std::string_view entry) {
  size_t colon = entry.rfind(':');
  int64_t ms = 0;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(
          absl::string_view(entry.data() + colon + 1, entry.size() - colon - 1),
          &ms)) {
    return StoredUpdate{std::string(entry), -1};
  }
  return StoredUpdate{std::string(entry.substr(0, colon)), ms};
}

int DecimalDigitValue(char c) { return c >= '0' && c <= '9' ? c - '0' : -1; }

}  // namespace

absl::StatusOr<internal::RedisAddress> ParseRedisUrl(std::string_view url) {
  internal::RedisAddress address;
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis url \"", A(url), "\": ", A(why),
                     " (expected redis://[[user]:password@]host[:port][/db] "
                     "or unix:///path/to.sock[?db=N])"));
  };
  auto parse_db = [&](std::string_view text) -> bool {
    if (text.empty()) return true;
    int db = 0;
    for (char c : text) {
      int d = DecimalDigitValue(c);
      if (d < 0 || db > 100000) return false;
      db = db * 10 + d;
    }
    address.db = db;
    return true;
  };
  if (url.starts_with("unix://")) {
    std::string_view rest = url.substr(7);
    size_t query = rest.find('?');
    std::string_view path = rest.substr(0, query);
    if (path.empty() || path[0] != '/') return bad("the socket path");
    address.unix_socket = std::string(path);
    if (query != std::string_view::npos) {
      std::string_view q = rest.substr(query + 1);
      if (!q.starts_with("db=") || !parse_db(q.substr(3))) {
        return bad("the query (only db=N)");
      }
    }
    return address;
  }
  if (url.starts_with("rediss://")) {
    return bad("TLS (rediss://) is not supported");
  }
  if (!url.starts_with("redis://")) return bad("the scheme");
  std::string_view rest = url.substr(8);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    if (!parse_db(rest.substr(slash + 1))) return bad("the database number");
  }
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      address.password = std::string(userinfo);
    } else {
      address.username = std::string(userinfo.substr(0, colon));
      address.password = std::string(userinfo.substr(colon + 1));
    }
  }
  std::string_view port_text;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("the IPv6 address");
    address.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("the port");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    address.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (address.host.empty()) return bad("the host");
  if (!port_text.empty()) {
    int port = 0;
    if (!absl::SimpleAtoi(absl::string_view(port_text.data(), port_text.size()),
                          &port) ||
        port <= 0 || port > 65535) {
      return bad("the port");
    }
    address.port = port;
  }
  return address;
}

RedisStore::RedisStore(RedisStoreOptions options)
    : options_(std::move(options)),
      connection_(options_.address),
      get_branch_(BranchScript(kGetBranch)),
      create_branch_(BranchScript(kCreateBranch)),
      append_(BranchScript(kAppend)),
      get_updates_(BranchScript(kGetUpdates)),
      replace_(BranchScript(kReplace)),
      delete_branch_(BranchScript(kDeleteBranch)),
      release_(BranchScript(kRelease)),
      put_session_(kPutSession),
      inst_exists_(kInstExists) {
  if (options_.node_id.empty()) options_.node_id = RandomNodeId();
}

RedisStore::~RedisStore() = default;

absl::StatusOr<std::unique_ptr<RedisStore>> RedisStore::Open(
    RedisStoreOptions options) {
  std::unique_ptr<RedisStore> store(new RedisStore(std::move(options)));
  if (absl::Status s = store->connection_.Connect(); !s.ok()) return s;
  return store;
}

std::vector<std::string> RedisStore::BranchKeys(
    const inst::BranchNamespace& ns) const {
  std::string inst_path = InstPath(ns.record_name, ns.inst);
  std::string branch_path = absl::StrCat(inst_path, "/", ns.branch);
  std::vector<std::string> keys;
  keys.reserve(12);
  for (const std::string* prefix :
       {&options_.inst_prefix, &options_.temp_prefix}) {
    keys.push_back(absl::StrCat(*prefix, "/branchInfo/", branch_path));
    keys.push_back(absl::StrCat(*prefix, "/updates/", branch_path));
    keys.push_back(absl::StrCat(*prefix, "/branchSize/", branch_path));
    keys.push_back(absl::StrCat(*prefix, "/instSize/", inst_path));
    keys.push_back(absl::StrCat(*prefix, "/branches/", inst_path));
  }
  keys.push_back(
      absl::StrCat(options_.own_prefix, "/tempBranchNodes/", branch_path));
  keys.push_back(absl::StrCat(options_.own_prefix, "/nodes/", options_.node_id,
                              "/tempBranches"));
  return keys;
}

namespace {

// The common ARGV[1..5] of the branch scripts.
std::vector<std::string> BranchArgs(const RedisStoreOptions& options,
                                    const std::string& node_id,
                                    const inst::BranchNamespace& ns) {
  return {std::to_string(options.temporary_ttl_seconds),
          std::to_string(options.public_ttl_seconds),
          ns.record_name ? "0" : "1",
          node_id,
          ClaimMember(ns),
          options.own_prefix};
}

}  // namespace

absl::StatusOr<std::optional<BranchInfo>> RedisStore::GetBranch(
    const inst::BranchNamespace& ns) {
  absl::StatusOr<RedisReply> reply =
      connection_.Eval(get_branch_, BranchKeys(ns),
                       BranchArgs(options_, options_.node_id, ns), true);
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ExpectArray(**reply, 3, "get branch"); !s.ok()) return s;
  std::vector<int64_t> values;
  for (size_t i = 0; i < 3; ++i) {
    absl::StatusOr<int64_t> v =
        internal::ReplyInteger(*(*reply)->element[i], "get branch");
    if (!v.ok()) return v.status();
    values.push_back(*v);
  }
  if (values[0] < 0) return std::optional<BranchInfo>();
  return std::optional<BranchInfo>(
      BranchInfo{values[0] == 5, values[1], values[2]});
}

absl::Status RedisStore::CreateBranch(const inst::BranchNamespace& ns,
                                      bool temporary) {
  std::vector<std::string> args = BranchArgs(options_, options_.node_id, ns);
  args.push_back(temporary ? "1" : "0");
  args.push_back(BranchInfoJson(ns, false));
  args.push_back(BranchInfoJson(ns, true));
  // Idempotent: creating an existing branch changes nothing.
  return connection_.Eval(create_branch_, BranchKeys(ns), args, true).status();
}

absl::Status RedisStore::AppendUpdates(const inst::BranchNamespace& ns,
                                       const std::vector<std::string>& updates,
                                       int64_t timestamp_ms) {
  std::vector<std::string> args = BranchArgs(options_, options_.node_id, ns);
  int64_t size = 0;
  for (const std::string& u : updates) size += static_cast<int64_t>(u.size());
  args.push_back(std::to_string(size));
  args.push_back(BranchInfoJson(ns, false));
  std::string suffix = absl::StrCat(":", timestamp_ms);
  for (const std::string& u : updates) args.push_back(absl::StrCat(u, suffix));
  // Not retried when the connection breaks mid-call: the updates may be
  // stored already, and the client re-sends unacknowledged ones anyway.
  return connection_.Eval(append_, BranchKeys(ns), args, false).status();
}

absl::StatusOr<std::vector<StoredUpdate>> RedisStore::GetUpdates(
    const inst::BranchNamespace& ns) {
  absl::StatusOr<RedisReply> reply =
      connection_.Eval(get_updates_, BranchKeys(ns),
                       BranchArgs(options_, options_.node_id, ns), true);
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ExpectArray(**reply, 0, "get updates"); !s.ok()) {
    return s;
  }
  std::vector<StoredUpdate> out;
  out.reserve((*reply)->elements);
  for (size_t i = 0; i < (*reply)->elements; ++i) {
    absl::StatusOr<std::string> entry =
        internal::ReplyText(*(*reply)->element[i], "get updates");
    if (!entry.ok()) return entry.status();
    out.push_back(ParseEntry(*entry));
  }
  return out;
}

absl::StatusOr<bool> RedisStore::ReplaceUpdates(const inst::BranchNamespace& ns,
                                                size_t expected_count,
                                                const StoredUpdate& merged) {
  std::vector<std::string> args = BranchArgs(options_, options_.node_id, ns);
  args.push_back(std::to_string(expected_count));
  args.push_back(absl::StrCat(merged.update, ":", merged.timestamp_ms));
  args.push_back(std::to_string(merged.update.size()));
  absl::StatusOr<RedisReply> reply =
      connection_.Eval(replace_, BranchKeys(ns), args, false);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<int64_t> done =
      internal::ReplyInteger(**reply, "replace updates");
  if (!done.ok()) return done.status();
  return *done == 1;
}

absl::Status RedisStore::DeleteBranch(const inst::BranchNamespace& ns) {
  // Retrying is harmless: deleting twice deletes once.
  return connection_
      .Eval(delete_branch_, BranchKeys(ns),
            BranchArgs(options_, options_.node_id, ns), true)
      .status();
}

absl::StatusOr<int64_t> RedisStore::InstSize(
    const inst::RecordName& record_name, std::string_view inst) {
  std::string inst_path = InstPath(record_name, inst);
  absl::StatusOr<RedisReply> reply = connection_.Command(
      {"MGET", absl::StrCat(options_.inst_prefix, "/instSize/", inst_path),
       absl::StrCat(options_.temp_prefix, "/instSize/", inst_path)},
      true);
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ExpectArray(**reply, 2, "inst size"); !s.ok()) return s;
  int64_t total = 0;
  for (size_t i = 0; i < 2; ++i) {
    absl::StatusOr<int64_t> v =
        internal::ReplyInteger(*(*reply)->element[i], "inst size");
    if (!v.ok()) return v.status();
    total += *v;
  }
  return total;
}

absl::Status RedisStore::DeleteTemporaryBranches() {
  std::string claims = absl::StrCat(options_.own_prefix, "/nodes/",
                                    options_.node_id, "/tempBranches");
  absl::StatusOr<RedisReply> reply =
      connection_.Command({"SMEMBERS", claims}, true);
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ExpectArray(**reply, 0, "temporary branches"); !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < (*reply)->elements; ++i) {
    absl::StatusOr<std::string> member =
        internal::ReplyText(*(*reply)->element[i], "temporary branches");
    if (!member.ok()) return member.status();
    std::optional<inst::BranchNamespace> ns = ParseClaimMember(*member);
    if (!ns) {
      // Not written by us: drop the member, touch nothing else.
      absl::StatusOr<RedisReply> removed =
          connection_.Command({"SREM", claims, *member}, true);
      if (!removed.ok()) return removed.status();
      continue;
    }
    std::vector<std::string> args = BranchArgs(options_, options_.node_id, *ns);
    args[4] = *member;  // exactly as stored
    absl::StatusOr<RedisReply> released =
        connection_.Eval(release_, BranchKeys(*ns), args, true);
    if (!released.ok()) return released.status();
  }
  return absl::OkStatus();
}

std::string RedisStore::SessionKey(std::string_view user_id,
                                   std::string_view session_id) const {
  // The user id's length keeps "a/b"+"c" apart from "a"+"b/c".
  return absl::StrCat(options_.own_prefix, "/sessions/", user_id.size(), ":",
                      A(user_id), "/", A(session_id));
}

absl::StatusOr<std::optional<Session>> RedisStore::GetSession(
    std::string_view user_id, std::string_view session_id) {
  absl::StatusOr<RedisReply> reply =
      connection_.Command({"HGETALL", SessionKey(user_id, session_id)}, true);
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ExpectArray(**reply, 0, "get session"); !s.ok()) {
    return s;
  }
  if ((*reply)->elements == 0) return std::optional<Session>();
  Session session;
  session.user_id = std::string(user_id);
  session.session_id = std::string(session_id);
  bool has_secret = false;
  for (size_t i = 0; i + 1 < (*reply)->elements; i += 2) {
    absl::StatusOr<std::string> field =
        internal::ReplyText(*(*reply)->element[i], "get session");
    absl::StatusOr<std::string> value =
        internal::ReplyText(*(*reply)->element[i + 1], "get session");
    if (!field.ok()) return field.status();
    if (!value.ok()) return value.status();
    if (*field == "connectionSecret") {
      session.connection_secret = *value;
      has_secret = true;
    } else if (*field == "revoked") {
      session.revoked = *value == "1";
    } else if (*field == "expireTimeMs") {
      int64_t ms = 0;
      if (!absl::SimpleAtoi(absl::string_view(value->data(), value->size()),
                            &ms)) {
        return absl::InternalError("redis: session: bad expireTimeMs");
      }
      session.expire_time_ms = ms;
    }
  }
  if (!has_secret) {
    return absl::InternalError("redis: session without connectionSecret");
  }
  return std::optional<Session>(std::move(session));
}

absl::Status RedisStore::PutSession(const Session& session) {
  return connection_
      .Eval(put_session_, {SessionKey(session.user_id, session.session_id)},
            {session.connection_secret, session.revoked ? "1" : "0",
             session.expire_time_ms ? std::to_string(*session.expire_time_ms)
                                    : std::string()},
            true)
      .status();
}

absl::StatusOr<bool> RedisStore::InstExists(std::string_view record_name,
                                            std::string_view inst) {
  std::string inst_path = InstPath(std::string(record_name), inst);
  absl::StatusOr<RedisReply> reply = connection_.Eval(
      inst_exists_,
      {absl::StrCat(options_.inst_prefix, "/branches/", inst_path),
       absl::StrCat(options_.temp_prefix, "/branches/", inst_path)},
      {options_.inst_prefix, options_.temp_prefix}, true);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<int64_t> exists = internal::ReplyInteger(**reply, "inst");
  if (!exists.ok()) return exists.status();
  return *exists == 1;
}

absl::StatusOr<std::optional<RecordGrant>> RedisStore::GetGrant(
    std::string_view record_name, std::string_view user_id) {
  absl::StatusOr<RedisReply> reply = connection_.Command(
      {"HGET", absl::StrCat(options_.own_prefix, "/grants/", A(record_name)),
       std::string(user_id)},
      true);
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_NIL) return std::optional<RecordGrant>();
  absl::StatusOr<std::string> value = internal::ReplyText(**reply, "grant");
  if (!value.ok()) return value.status();
  RecordGrant grant{std::string(record_name), std::string(user_id),
                    absl::StrContains(*value, "r"),
                    absl::StrContains(*value, "w")};
  return std::optional<RecordGrant>(std::move(grant));
}

absl::Status RedisStore::PutGrant(const RecordGrant& grant) {
  std::string key =
      absl::StrCat(options_.own_prefix, "/grants/", grant.record_name);
  if (!grant.read && !grant.write) {
    return connection_.Command({"HDEL", key, grant.user_id}, true).status();
  }
  std::string value =
      absl::StrCat(grant.read ? "r" : "", grant.write ? "w" : "");
  return connection_.Command({"HSET", key, grant.user_id, value}, true)
      .status();
}

}  // namespace auxsync::server
