#include "auxsync/server/redis_fanout.h"

#include <hiredis/hiredis.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "auxsync/inst/frame.h"
#include "nlohmann/json.hpp"

namespace auxsync::server {
namespace {

// Debian's absl::string_view is not std::string_view.
absl::string_view A(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// KEYS[1]: the branch's sequence; ARGV: channel, message JSON, increment.
// Incrementing and publishing in one script gives every listener the
// numbers in the order Redis delivers the messages.
constexpr std::string_view kPublishSeq = R"lua(
local n = redis.call('INCRBY', KEYS[1], tonumber(ARGV[3]))
redis.call('PUBLISH', ARGV[1], n .. ' ' .. ARGV[2])
return n
)lua";

// KEYS[1]: the branch's watcher hash, KEYS[2]: this node's set of such
// hashes (cleared at its next start); ARGV: field, registration JSON.
constexpr std::string_view kAddWatcher = R"lua(
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], KEYS[1])
return 1
)lua";

// KEYS[1]: the branch's watcher hash; ARGV: key prefix, this node. -> the
// registrations of the other live nodes.
constexpr std::string_view kListWatchers = R"lua(
local out, alive = {}, {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, v = pcall(cjson.decode, all[i + 1])
  if ok and type(v) == 'table' and type(v.node) == 'string' and
      v.node ~= ARGV[2] then
    local a = alive[v.node]
    if a == nil then
      a = redis.call('EXISTS', ARGV[1] .. '/nodes/' .. v.node .. '/alive') == 1
      alive[v.node] = a
    end
    if a then out[#out + 1] = all[i + 1] end
  end
end
return out
)lua";

// KEYS[1]: the set of nodes; ARGV: key prefix, this node. -> the logged-in
// sockets of the other live nodes.
constexpr std::string_view kCountSockets = R"lua(
local total = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local base = ARGV[1] .. '/nodes/' .. node
  if node ~= ARGV[2] and redis.call('EXISTS', base .. '/alive') == 1 then
    total = total + (tonumber(redis.call('GET', base .. '/sockets')) or 0)
  end
end
return total
)lua";

// Shared by the scripts that forget nodes; ARGV[1]: key prefix. forget()
// removes a node's registrations and returns them, so that their
// departures can be announced.
constexpr std::string_view kForgetPrelude = R"lua(
local function forget(node)
  local out = {}
  local watches = ARGV[1] .. '/nodes/' .. node .. '/watches'
  for _, key in ipairs(redis.call('SMEMBERS', watches)) do
    if redis.call('TYPE', key).ok == 'hash' then
      local all = redis.call('HGETALL', key)
      for i = 1, #all, 2 do
        local ok, v = pcall(cjson.decode, all[i + 1])
        if ok and type(v) == 'table' and v.node == node then
          redis.call('HDEL', key, all[i])
          out[#out + 1] = all[i + 1]
        end
      end
    end
  end
  redis.call('DEL', watches)
  return out
end
)lua";

// ARGV[2]: this node, starting: what its previous process registered.
constexpr std::string_view kForgetNode = "return forget(ARGV[2])";

// KEYS[1]: the set of nodes; ARGV[2]: this node. Forgets every node whose
// heartbeat expired (atomically: one node reaps each) and returns their
// registrations.
constexpr std::string_view kReapNodes = R"lua(
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local base = ARGV[1] .. '/nodes/' .. node
  if node ~= ARGV[2] and redis.call('EXISTS', base .. '/alive') == 0 then
    for _, v in ipairs(forget(node)) do out[#out + 1] = v end
    redis.call('SREM', KEYS[1], node)
    redis.call('DEL', base .. '/sockets')
  end
end
return out
)lua";

nlohmann::json OptionalString(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

std::optional<std::string> ReadOptionalString(const nlohmann::json& j,
                                              const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

RedisFanout::RedisFanout(RedisFanoutOptions options)
    : options_(std::move(options)),
      connection_(options_.address),
      publish_seq_(kPublishSeq),
      add_watcher_(kAddWatcher),
      list_watchers_(kListWatchers),
      count_sockets_(kCountSockets),
      forget_node_(absl::StrCat(A(kForgetPrelude), A(kForgetNode))),
      reap_nodes_(absl::StrCat(A(kForgetPrelude), A(kReapNodes))) {}

RedisFanout::~RedisFanout() {
  *alive_ = false;
  bus_.reset();
  // A clean stop: the node stops counting at once, not after its TTL (best
  // effort; a crash leaves that to the expiry).
  if (!options_.node_id.empty()) {
    connection_
        .Command({"DEL", NodeKey(options_.node_id, "alive"),
                  NodeKey(options_.node_id, "sockets")},
                 true)
        .IgnoreError();
  }
}

absl::StatusOr<std::unique_ptr<RedisFanout>> RedisFanout::Start(
    RedisFanoutOptions options) {
  std::unique_ptr<RedisFanout> fanout(new RedisFanout(std::move(options)));
  RedisFanout* self = fanout.get();
  if (absl::Status s = self->connection_.Connect(); !s.ok()) return s;
  // The previous process of this node (a crash or kill -9) leaves its
  // registrations: they go, and the other nodes hear of the departures.
  absl::StatusOr<internal::RedisReply> forgot = self->connection_.Eval(
      self->forget_node_, {}, {self->options_.prefix, self->options_.node_id},
      true);
  if (!forgot.ok()) return forgot.status();
  self->AnnounceGone(**forgot);
  // Posted functions check `alive` (on the server thread, where the
  // destructor runs too), so those still queued after it are no-ops.
  auto post = self->options_.post;
  std::shared_ptr<bool> alive = self->alive_;
  absl::StatusOr<std::unique_ptr<RedisBus>> bus = RedisBus::Start(
      self->options_.address,
      [self, post, alive](RedisBus::Message m) {
        post([self, alive, m = std::move(m)] {
          if (*alive) self->OnMessage(m);
        });
      },
      [self, post, alive] {
        post([self, alive] {
          if (*alive) self->OnGap();
        });
      });
  if (!bus.ok()) return bus.status();
  self->bus_ = std::move(*bus);
  if (absl::Status s =
          self->bus_->Subscribe(self->NodeChannel(self->options_.node_id));
      !s.ok()) {
    return s;
  }
  self->Heartbeat();
  // Marks the node as one with a heartbeat, so that the store ignores its
  // temporary-branch claims once `alive` expired (redis_store.cc).
  absl::StatusOr<internal::RedisReply> marked = self->connection_.Command(
      {"SET", self->NodeKey(self->options_.node_id, "fanout"), "1"}, true);
  if (!marked.ok()) return marked.status();
  return fanout;
}

std::string RedisFanout::BranchPath(const inst::BranchNamespace& ns) const {
  return absl::StrCat(A(ns.record_name.value_or("")), "/", A(ns.inst), "/",
                      A(ns.branch));
}
std::string RedisFanout::BranchChannel(const inst::BranchNamespace& ns) const {
  return absl::StrCat(A(options_.prefix), "/bus/branch/", BranchPath(ns));
}
std::string RedisFanout::NodeChannel(const std::string& node) const {
  return absl::StrCat(A(options_.prefix), "/bus/node/", A(node));
}
std::string RedisFanout::SeqKey(const inst::BranchNamespace& ns) const {
  return absl::StrCat(A(options_.prefix), "/seq/", BranchPath(ns));
}
std::string RedisFanout::WatchersKey(const inst::BranchNamespace& ns) const {
  return absl::StrCat(A(options_.prefix), "/watchers/", BranchPath(ns));
}
std::string RedisFanout::NodeKey(const std::string& node,
                                 std::string_view what) const {
  return absl::StrCat(A(options_.prefix), "/nodes/", A(node), "/", A(what));
}
std::string RedisFanout::FieldOf(const std::string& socket) const {
  return nlohmann::json::array({options_.node_id, socket}).dump();
}

void RedisFanout::Fail(std::string_view what, const absl::Status& status) {
  ++errors_;
  if (options_.log) {
    options_.log(absl::StrCat(
        "fanout: ", A(what), ": ",
        A(std::string_view(status.message().data(), status.message().size()))));
  }
}

void RedisFanout::Heartbeat() {
  std::string ttl = std::to_string(options_.node_ttl_seconds);
  absl::StatusOr<internal::RedisReply> was_alive = connection_.Command(
      {"SET", NodeKey(options_.node_id, "alive"), "1", "EX", ttl, "GET"}, true);
  if (!was_alive.ok()) return Fail("heartbeat", was_alive.status());
  if ((*was_alive)->type == REDIS_REPLY_NIL && beats_ > 0) {
    // This node was taken for dead (stalled past its TTL, or Redis lost
    // its keys) and may have been reaped: register its watchers again.
    Fail("heartbeat", absl::UnavailableError(
                          "the node's heartbeat had expired; re-registering"));
    for (const auto& [key_field, value] : registered_) {
      absl::StatusOr<internal::RedisReply> r = connection_.Eval(
          add_watcher_, {key_field.first, NodeKey(options_.node_id, "watches")},
          {key_field.second, value}, true);
      if (!r.ok()) return Fail("register watcher", r.status());
    }
  }
  ++beats_;
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"SET", NodeKey(options_.node_id, "sockets"),
                                 std::to_string(local_sockets_), "EX", ttl},
        std::vector<std::string>{"SADD",
                                 absl::StrCat(A(options_.prefix), "/nodes"),
                                 options_.node_id}}) {
    absl::StatusOr<internal::RedisReply> r = connection_.Command(command, true);
    if (!r.ok()) return Fail("heartbeat", r.status());
  }
  // Crashed nodes: their sockets' departures are announced (7.10) by
  // whichever live node's heartbeat finds them first.
  absl::StatusOr<internal::RedisReply> reaped = connection_.Eval(
      reap_nodes_, {absl::StrCat(A(options_.prefix), "/nodes")},
      {options_.prefix, options_.node_id}, true);
  if (!reaped.ok()) return Fail("reap nodes", reaped.status());
  AnnounceGone(**reaped);
  // Branches whose update message was lost: a jump of two makes every
  // listener re-read them.
  std::map<std::string, inst::BranchNamespace> unpublished =
      std::move(unpublished_);
  unpublished_.clear();
  for (const auto& [channel, ns] : unpublished) {
    PublishSeq(ns,
               nlohmann::json{{"node", options_.node_id}, {"frame", ""}}.dump(),
               2);
  }
}

int64_t RedisFanout::ReadSeq(const inst::BranchNamespace& ns) {
  absl::StatusOr<internal::RedisReply> r =
      connection_.Command({"GET", SeqKey(ns)}, true);
  if (!r.ok()) {
    Fail("read sequence", r.status());
    return -1;
  }
  absl::StatusOr<int64_t> n = internal::ReplyInteger(**r, "sequence");
  return n.ok() ? *n : -1;
}

void RedisFanout::Listen(const inst::BranchNamespace& ns) {
  std::string channel = BranchChannel(ns);
  if (listening_.contains(channel)) return;
  // Subscribed before the sequence and the store are read, so nothing
  // stored afterwards goes unheard. A failed subscription is repaired by
  // the bus (it keeps trying, then reports a gap).
  if (absl::Status s = bus_->Subscribe(channel); !s.ok()) {
    Fail("subscribe", s);
  }
  listening_[channel] = Listening{ns, ReadSeq(ns)};
}

void RedisFanout::StopListening(const inst::BranchNamespace& ns) {
  std::string channel = BranchChannel(ns);
  if (listening_.erase(channel) == 0) return;
  bus_->Unsubscribe(channel);
}

void RedisFanout::AddWatcher(const inst::BranchNamespace& ns,
                             const std::string& socket,
                             const inst::ConnectionInfo& identity,
                             bool temporary) {
  nlohmann::json value = {{"node", options_.node_id},
                          {"socket", socket},
                          {"recordName", OptionalString(ns.record_name)},
                          {"inst", ns.inst},
                          {"branch", ns.branch},
                          {"connectionId", identity.connection_id},
                          {"sessionId", OptionalString(identity.session_id)},
                          {"userId", OptionalString(identity.user_id)},
                          {"temporary", temporary}};
  std::string text = value.dump();
  registered_[{WatchersKey(ns), FieldOf(socket)}] = text;
  absl::StatusOr<internal::RedisReply> r = connection_.Eval(
      add_watcher_, {WatchersKey(ns), NodeKey(options_.node_id, "watches")},
      {FieldOf(socket), text}, true);
  if (!r.ok()) Fail("register watcher", r.status());
}

void RedisFanout::RemoveWatcher(const inst::BranchNamespace& ns,
                                const std::string& socket) {
  registered_.erase({WatchersKey(ns), FieldOf(socket)});
  absl::StatusOr<internal::RedisReply> r =
      connection_.Command({"HDEL", WatchersKey(ns), FieldOf(socket)}, true);
  if (!r.ok()) Fail("unregister watcher", r.status());
}

std::vector<RemoteWatcher> RedisFanout::RemoteWatchers(
    const inst::BranchNamespace& ns) {
  std::vector<RemoteWatcher> out;
  absl::StatusOr<internal::RedisReply> r =
      connection_.Eval(list_watchers_, {WatchersKey(ns)},
                       {options_.prefix, options_.node_id}, true);
  if (!r.ok()) {
    Fail("list watchers", r.status());
    return out;
  }
  if ((*r)->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i < (*r)->elements; ++i) {
    absl::StatusOr<std::string> text =
        internal::ReplyText(*(*r)->element[i], "watchers");
    if (!text.ok()) continue;
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object()) continue;
    std::optional<std::string> node = ReadOptionalString(j, "node");
    std::optional<std::string> socket = ReadOptionalString(j, "socket");
    std::optional<std::string> connection_id =
        ReadOptionalString(j, "connectionId");
    if (!node || !socket || !connection_id) continue;
    auto temporary = j.find("temporary");
    out.push_back(RemoteWatcher{
        *node, *socket,
        inst::ConnectionInfo{*connection_id, ReadOptionalString(j, "sessionId"),
                             ReadOptionalString(j, "userId")},
        temporary != j.end() && temporary->is_boolean() &&
            temporary->get<bool>()});
  }
  return out;
}

int64_t RedisFanout::RemoteSocketCount() {
  absl::StatusOr<internal::RedisReply> r = connection_.Eval(
      count_sockets_, {absl::StrCat(A(options_.prefix), "/nodes")},
      {options_.prefix, options_.node_id}, true);
  if (!r.ok()) {
    Fail("count sockets", r.status());
    return 0;
  }
  absl::StatusOr<int64_t> n = internal::ReplyInteger(**r, "count sockets");
  return n.ok() ? *n : 0;
}

void RedisFanout::SetLocalSocketCount(int64_t count) {
  local_sockets_ = count;
  absl::StatusOr<internal::RedisReply> r = connection_.Command(
      {"SET", NodeKey(options_.node_id, "sockets"), std::to_string(count), "EX",
       std::to_string(options_.node_ttl_seconds)},
      true);
  if (!r.ok()) Fail("socket count", r.status());
}

bool RedisFanout::PublishSeq(const inst::BranchNamespace& ns,
                             const std::string& payload, int64_t increment) {
  // Not retried: a duplicate message would be delivered twice.
  absl::StatusOr<internal::RedisReply> r = connection_.Eval(
      publish_seq_, {SeqKey(ns)},
      {BranchChannel(ns), payload, std::to_string(increment)}, false);
  if (!r.ok()) {
    Fail("publish updates", r.status());
    unpublished_.emplace(BranchChannel(ns), ns);
    return false;
  }
  return true;
}

void RedisFanout::PublishUpdates(const inst::BranchNamespace& ns,
                                 const std::string& frame) {
  PublishSeq(
      ns, nlohmann::json{{"node", options_.node_id}, {"frame", frame}}.dump(),
      1);
}

void RedisFanout::PublishPresence(const inst::BranchNamespace& ns,
                                  const std::string& frame) {
  std::string payload = absl::StrCat(
      "0 ",
      nlohmann::json{{"node", options_.node_id}, {"frame", frame}}.dump());
  absl::StatusOr<internal::RedisReply> r =
      connection_.Command({"PUBLISH", BranchChannel(ns), payload}, false);
  if (!r.ok()) Fail("publish presence", r.status());
}

void RedisFanout::SendToSockets(const std::string& node,
                                const std::vector<std::string>& sockets,
                                const std::string& frame) {
  std::string payload =
      absl::StrCat("0 ", nlohmann::json{{"node", options_.node_id},
                                        {"sockets", sockets},
                                        {"frame", frame}}
                             .dump());
  absl::StatusOr<internal::RedisReply> r =
      connection_.Command({"PUBLISH", NodeChannel(node), payload}, false);
  if (!r.ok()) Fail("send to node", r.status());
}

void RedisFanout::AnnounceGone(const redisReply& registrations) {
  if (registrations.type != REDIS_REPLY_ARRAY) return;
  for (size_t i = 0; i < registrations.elements; ++i) {
    absl::StatusOr<std::string> text =
        internal::ReplyText(*registrations.element[i], "registrations");
    if (!text.ok()) continue;
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object()) continue;
    std::optional<std::string> node = ReadOptionalString(j, "node");
    std::optional<std::string> inst = ReadOptionalString(j, "inst");
    std::optional<std::string> branch = ReadOptionalString(j, "branch");
    std::optional<std::string> connection_id =
        ReadOptionalString(j, "connectionId");
    if (!node || !inst || !branch || !connection_id) continue;
    inst::DisconnectedFromBranchMessage gone;
    gone.ns = inst::BranchNamespace{ReadOptionalString(j, "recordName"), *inst,
                                    *branch};
    gone.connection =
        inst::ConnectionInfo{*connection_id, ReadOptionalString(j, "sessionId"),
                             ReadOptionalString(j, "userId")};
    // In the dead node's name, so every live node (this one too) tells its
    // device watchers.
    std::string payload = absl::StrCat(
        "0 ", nlohmann::json{{"node", *node},
                             {"frame", inst::EncodeMessageFrame(gone)}}
                  .dump());
    absl::StatusOr<internal::RedisReply> r = connection_.Command(
        {"PUBLISH", BranchChannel(gone.ns), payload}, false);
    if (!r.ok()) Fail("announce departure", r.status());
  }
}

void RedisFanout::OnMessage(const RedisBus::Message& message) {
  if (receiver_ == nullptr) return;
  const std::string& payload = message.payload;
  size_t space = payload.find(' ');
  int64_t seq = 0;
  if (space == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(payload.data(), space), &seq)) {
    return;
  }
  nlohmann::json j = nlohmann::json::parse(
      std::string_view(payload).substr(space + 1), nullptr, false);
  if (!j.is_object()) return;
  std::optional<std::string> node = ReadOptionalString(j, "node");
  std::optional<std::string> frame = ReadOptionalString(j, "frame");
  if (!node || !frame) return;
  const bool own = *node == options_.node_id;
  if (message.channel == NodeChannel(options_.node_id)) {
    auto sockets = j.find("sockets");
    if (sockets == j.end() || !sockets->is_array()) return;
    std::vector<std::string> ids;
    for (const nlohmann::json& s : *sockets) {
      if (s.is_string()) ids.push_back(s.get<std::string>());
    }
    receiver_->DeliverToSockets(ids, *frame);
    return;
  }
  auto it = listening_.find(message.channel);
  if (it == listening_.end()) return;
  Listening& l = it->second;
  if (seq == 0) {
    // Presence: the origin told its own device watchers already.
    if (!own) receiver_->DeliverToDeviceWatchers(l.ns, *frame);
    return;
  }
  // Up to last_seq everything was delivered or is in a store read that
  // came later (messages still queued from before a re-listen).
  if (l.last_seq >= 0 && seq <= l.last_seq) return;
  const bool gap = l.last_seq < 0 || seq != l.last_seq + 1;
  l.last_seq = seq;
  if (gap) {
    // Read after the message was published: the store has all of it.
    ++resyncs_;
    receiver_->ResyncBranch(l.ns);
  } else if (!own && !frame->empty()) {
    receiver_->DeliverToBranchWatchers(l.ns, *frame);
  }
}

void RedisFanout::OnGap() {
  if (receiver_ == nullptr) return;
  // The sequence before the store, as in Listen.
  for (auto& [channel, l] : listening_) {
    l.last_seq = ReadSeq(l.ns);
    ++resyncs_;
    receiver_->ResyncBranch(l.ns);
  }
}

}  // namespace auxsync::server
