// RedisStore beyond the shared store suite (store_test.cc): the CasualOS
// key layout (9.3), URLs, several nodes on one Redis, and Redis failures
// (refused, dropped, stalled connections, wrong key types, a flushed
// script cache).

#include "auxsync/server/redis_store.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "auxsync/server/internal/redis_test_server.h"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

using internal::RedisConnection;
using internal::RedisTestServer;

const inst::BranchNamespace kPublic{std::nullopt, "inst", "default"};
const inst::BranchNamespace kRecord{"rec", "inst", "default"};
const inst::BranchNamespace kTemp{"rec", "inst", "tmp"};

class RedisStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisTestServer>> redis =
        RedisTestServer::Start();
    if (absl::IsNotFound(redis.status())) GTEST_SKIP() << redis.status();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
    admin_ = std::make_unique<RedisConnection>(redis_->address());
  }
  std::unique_ptr<RedisStore> OpenNode(const std::string& node_id) {
    RedisStoreOptions options;
    options.address = redis_->address();
    options.node_id = node_id;
    absl::StatusOr<std::unique_ptr<RedisStore>> s = RedisStore::Open(options);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Runs a command on the admin connection; the reply as text (strings,
  // integers, nil as "(nil)", arrays joined with '|').
  std::string Admin(const std::vector<std::string>& args) {
    absl::StatusOr<internal::RedisReply> reply = admin_->Command(args, true);
    if (!reply.ok()) return std::string(reply.status().message());
    return Text(**reply);
  }
  static std::string Text(const redisReply& r) {
    switch (r.type) {
      case REDIS_REPLY_INTEGER:
        return std::to_string(r.integer);
      case REDIS_REPLY_NIL:
        return "(nil)";
      case REDIS_REPLY_ARRAY: {
        std::string out;
        for (size_t i = 0; i < r.elements; ++i) {
          if (i) out += "|";
          out += Text(*r.element[i]);
        }
        return out;
      }
      default:
        return std::string(r.str, r.len);
    }
  }

  std::unique_ptr<RedisTestServer> redis_;
  std::unique_ptr<RedisConnection> admin_;
};

TEST(RedisUrl, Parses) {
  auto a = ParseRedisUrl("redis://example.com:6380/2");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "example.com");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 2);
  a = ParseRedisUrl("redis://user:secret@[::1]");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 6379);
  EXPECT_EQ(a->username, "user");
  EXPECT_EQ(a->password, "secret");
  EXPECT_EQ(a->Describe(), "[::1]:6379");
  a = ParseRedisUrl("redis://:pw@localhost/");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->password, "pw");
  EXPECT_EQ(a->username, "");
  a = ParseRedisUrl("unix:///run/redis.sock?db=3");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->unix_socket, "/run/redis.sock");
  EXPECT_EQ(a->db, 3);
  for (const char* bad : {"http://x", "redis://", "redis://h:0",
                          "redis://h:99999", "redis://h:6379/x", "rediss://h",
                          "unix://relative", "unix:///s?x=1", "redis://[::1"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseRedisUrl(bad).status())) << bad;
  }
}

// The keys and values of spec 9.3, so CasualOS tooling can read them.
TEST_F(RedisStoreTest, CasualOsKeyLayout) {
  std::unique_ptr<RedisStore> store = OpenNode("n1");
  ASSERT_TRUE(store->AppendUpdates(kPublic, {"AAA=", "BB=="}, 10).ok());
  EXPECT_EQ(Admin({"LRANGE", "/insts/updates//inst/default", "0", "-1"}),
            "AAA=:10|BB==:10");
  EXPECT_EQ(Admin({"GET", "/insts/branchSize//inst/default"}), "8");
  EXPECT_EQ(Admin({"GET", "/insts/instSize//inst"}), "8");
  EXPECT_EQ(Admin({"SMEMBERS", "/insts/branches//inst"}),
            "/insts/updates//inst/default");
  EXPECT_EQ(Admin({"GET", "/insts/branchInfo//inst/default"}),
            R"({"recordName":null,"inst":"inst","branch":"default",)"
            R"("temporary":false,"linkedInst":null})");
  // Public insts keep their data by default (no TTL) ...
  EXPECT_EQ(Admin({"TTL", "/insts/updates//inst/default"}), "-1");

  ASSERT_TRUE(store->CreateBranch(kTemp, true).ok());
  ASSERT_TRUE(store->AppendUpdates(kTemp, {"CC=="}, 20).ok());
  EXPECT_EQ(Admin({"LRANGE", "/tempInsts/updates/rec/inst/tmp", "0", "-1"}),
            "CC==:20");
  EXPECT_EQ(Admin({"GET", "/tempInsts/branchInfo/rec/inst/tmp"}),
            R"({"recordName":"rec","inst":"inst","branch":"tmp",)"
            R"("temporary":true,"linkedInst":null})");
  EXPECT_EQ(Admin({"GET", "/tempInsts/instSize/rec/inst"}), "4");
  // ... temporary branches expire 24 h after their last write.
  int64_t ttl = std::stoll(Admin({"TTL", "/tempInsts/updates/rec/inst/tmp"}));
  EXPECT_GT(ttl, 86000);
  EXPECT_LE(ttl, 86400);
  EXPECT_EQ(Admin({"SMEMBERS", "/auxsync/tempBranchNodes/rec/inst/tmp"}), "n1");
  EXPECT_EQ(*store->InstSize("rec", "inst"), 4);

  // Compaction keeps the list's layout and fixes the sizes.
  ASSERT_TRUE(*store->ReplaceUpdates(kPublic, 2, {"MMMMMM==", 30}));
  EXPECT_EQ(Admin({"LRANGE", "/insts/updates//inst/default", "0", "-1"}),
            "MMMMMM==:30");
  EXPECT_EQ(Admin({"GET", "/insts/instSize//inst"}), "8");

  ASSERT_TRUE(store->PutSession({"u/1", "s", "c2VjcmV0", true, 99}).ok());
  EXPECT_EQ(Admin({"HGETALL", "/auxsync/sessions/3:u/1/s"}),
            "connectionSecret|c2VjcmV0|revoked|1|expireTimeMs|99");
}

TEST_F(RedisStoreTest, PublicInstExpiryOption) {
  RedisStoreOptions options;
  options.address = redis_->address();
  options.public_ttl_seconds = 100;
  auto store = RedisStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->AppendUpdates(kPublic, {"AA=="}, 1).ok());
  ASSERT_TRUE((*store)->AppendUpdates(kRecord, {"AA=="}, 1).ok());
  int64_t ttl = std::stoll(Admin({"TTL", "/insts/updates//inst/default"}));
  EXPECT_GT(ttl, 90);
  EXPECT_LE(ttl, 100);
  // Record insts never expire: Redis is their only copy here.
  EXPECT_EQ(Admin({"TTL", "/insts/updates/rec/inst/default"}), "-1");
}

// Data in the shape a CasualOS node writes (no branchInfo for a record
// inst's working list, entries without our timestamps) is readable.
TEST_F(RedisStoreTest, ReadsBranchesWrittenByOthers) {
  Admin({"RPUSH", "/insts/updates/rec/inst/default", "AA==:5", "BB=="});
  Admin({"SET", "/insts/branchSize/rec/inst/default", "8"});
  std::unique_ptr<RedisStore> store = OpenNode("n1");
  auto info = store->GetBranch(kRecord);
  ASSERT_TRUE(info.ok() && info->has_value()) << info.status();
  EXPECT_FALSE((*info)->temporary);
  EXPECT_EQ((*info)->size_bytes, 8);
  EXPECT_EQ((*info)->update_count, 2);
  EXPECT_EQ(*store->GetUpdates(kRecord),
            (std::vector<StoredUpdate>{{"AA==", 5}, {"BB==", -1}}));
}

// Several nodes share branches; a restart releases only the restarting
// node's temporary branches, and a branch another node still watches stays.
TEST_F(RedisStoreTest, TemporaryBranchesAreScopedToTheirNodes) {
  std::unique_ptr<RedisStore> n1 = OpenNode("n1");
  std::unique_ptr<RedisStore> n2 = OpenNode("n2");
  const inst::BranchNamespace shared{"rec", "inst", "shared"};
  const inst::BranchNamespace only1{"rec", "inst", "only1"};
  const inst::BranchNamespace only2{"rec", "inst", "only2"};
  const inst::BranchNamespace foreign{"rec", "inst", "foreign"};
  ASSERT_TRUE(n1->CreateBranch(shared, true).ok());
  ASSERT_TRUE(n2->CreateBranch(shared, true).ok());  // n2 watches it too
  ASSERT_TRUE(n1->CreateBranch(only1, true).ok());
  ASSERT_TRUE(n2->CreateBranch(only2, true).ok());
  ASSERT_TRUE(n1->AppendUpdates(shared, {"AA=="}, 1).ok());
  ASSERT_TRUE(n1->AppendUpdates(only1, {"BB=="}, 1).ok());
  // Written by a CasualOS node: nobody of ours claims it.
  Admin({"SET", "/tempInsts/branchInfo/rec/inst/foreign", "{}"});
  EXPECT_EQ(*n1->GetUpdates(shared), *n2->GetUpdates(shared));
  EXPECT_EQ(*n2->InstSize("rec", "inst"), 8);

  // n1 restarts (same id): its claims go; shared is still n2's.
  n1.reset();
  n1 = OpenNode("n1");
  ASSERT_TRUE(n1->DeleteTemporaryBranches().ok());
  EXPECT_FALSE(n1->GetBranch(only1)->has_value());
  EXPECT_TRUE(n1->GetBranch(shared)->has_value());
  EXPECT_EQ(n1->GetUpdates(shared)->size(), 1u);
  EXPECT_TRUE(n1->GetBranch(only2)->has_value());
  EXPECT_TRUE(n1->GetBranch(foreign)->has_value());
  EXPECT_EQ(*n1->InstSize("rec", "inst"), 4);
  EXPECT_EQ(Admin({"SMEMBERS", "/auxsync/nodes/n1/tempBranches"}), "");

  // n2 restarts: now nobody watches shared or only2.
  ASSERT_TRUE(OpenNode("n2")->DeleteTemporaryBranches().ok());
  EXPECT_FALSE(n1->GetBranch(shared)->has_value());
  EXPECT_FALSE(n1->GetBranch(only2)->has_value());
  EXPECT_TRUE(n1->GetBranch(foreign)->has_value());
  EXPECT_EQ(*n1->InstSize("rec", "inst"), 0);
  // Deleting a temporary branch another node still watches only releases
  // this node's claim; the last node to let go deletes it.
  ASSERT_TRUE(n1->CreateBranch(shared, true).ok());
  ASSERT_TRUE(n2->CreateBranch(shared, true).ok());
  ASSERT_TRUE(n1->AppendUpdates(shared, {"AA=="}, 1).ok());
  ASSERT_TRUE(n1->DeleteBranch(shared).ok());
  EXPECT_EQ(n2->GetUpdates(shared)->size(), 1u);
  ASSERT_TRUE(n2->DeleteBranch(shared).ok());
  EXPECT_FALSE(n1->GetBranch(shared)->has_value());
  EXPECT_EQ(*n1->InstSize("rec", "inst"), 0);
  // Non-temporary branches are deleted whoever claims what.
  ASSERT_TRUE(n1->AppendUpdates(kRecord, {"AA=="}, 1).ok());
  ASSERT_TRUE(n2->CreateBranch(kRecord, true).ok());  // exists: no claim
  ASSERT_TRUE(n1->DeleteBranch(kRecord).ok());
  EXPECT_FALSE(n2->GetBranch(kRecord)->has_value());
  // A deleted-and-recreated branch is not deleted by a stale claim.
  ASSERT_TRUE(n1->CreateBranch(only1, true).ok());
  ASSERT_TRUE(n1->DeleteBranch(only1).ok());
  ASSERT_TRUE(n2->CreateBranch(only1, true).ok());
  ASSERT_TRUE(n1->DeleteTemporaryBranches().ok());
  EXPECT_TRUE(n2->GetBranch(only1)->has_value());
}

TEST(RedisStoreTcp, ConnectsThroughARedisUrl) {
  auto redis = RedisTestServer::Start(/*tcp=*/true);
  if (absl::IsNotFound(redis.status())) GTEST_SKIP() << redis.status();
  ASSERT_TRUE(redis.ok()) << redis.status();
  auto address = ParseRedisUrl((*redis)->url() + "/1");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->port, (*redis)->port());
  RedisStoreOptions options;
  options.address = *address;
  auto store = RedisStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->AppendUpdates(kRecord, {"AA=="}, 1).ok());
  EXPECT_EQ(*(*store)->GetUpdates(kRecord),
            (std::vector<StoredUpdate>{{"AA==", 1}}));
}

TEST(RedisStoreErrors, RefusedConnection) {
  RedisStoreOptions options;
  options.address.unix_socket = "/nonexistent-dir/redis.sock";
  auto store = RedisStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsUnavailable(store.status())) << store.status();
  EXPECT_NE(store.status().message().find("unix:/nonexistent-dir/redis.sock"),
            std::string::npos)
      << store.status();
  options.address = internal::RedisAddress();
  options.address.port = 1;  // nothing listens there
  store = RedisStore::Open(options);
  EXPECT_TRUE(absl::IsUnavailable(store.status())) << store.status();
}

TEST_F(RedisStoreTest, WrongTypesAreErrors) {
  std::unique_ptr<RedisStore> store = OpenNode("n1");
  Admin({"SET", "/insts/updates//inst/default", "not a list"});
  auto updates = store->GetUpdates(kPublic);
  ASSERT_FALSE(updates.ok());
  EXPECT_TRUE(absl::IsInternal(updates.status()));
  EXPECT_NE(updates.status().message().find("WRONGTYPE"), std::string::npos)
      << updates.status();
  EXPECT_FALSE(store->AppendUpdates(kPublic, {"AA=="}, 1).ok());
  EXPECT_FALSE(store->GetBranch(kPublic).ok());
  Admin({"SET", "/insts/instSize//inst", "many"});
  EXPECT_FALSE(store->InstSize(std::nullopt, "inst").ok());
  Admin({"SET", "/auxsync/sessions/1:u/s", "x"});
  EXPECT_FALSE(store->GetSession("u", "s").ok());
  // A write that would fail half-way writes nothing.
  Admin({"SET", "/insts/branchSize/rec/inst/default", "lots"});
  auto failed = store->AppendUpdates(kRecord, {"AA=="}, 1);
  EXPECT_TRUE(absl::IsInternal(failed)) << failed;
  EXPECT_NE(failed.message().find("/insts/branchSize/rec/inst/default"),
            std::string::npos)
      << failed;
  EXPECT_EQ(Admin({"EXISTS", "/insts/updates/rec/inst/default",
                   "/insts/branchInfo/rec/inst/default"}),
            "0");
  Admin({"SADD", "/auxsync/tempBranchNodes/rec/inst/tmp", "n1"});
  Admin({"SET", "/tempInsts/updates/rec/inst/tmp", "x"});
  EXPECT_FALSE(store->CreateBranch(kTemp, true).ok());
  EXPECT_FALSE(store->DeleteBranch(kTemp).ok());
  EXPECT_EQ(Admin({"SMEMBERS", "/auxsync/tempBranchNodes/rec/inst/tmp"}), "n1");
  // The connection is still usable.
  Admin({"DEL", "/insts/branchSize/rec/inst/default"});
  EXPECT_TRUE(store->AppendUpdates(kRecord, {"AA=="}, 1).ok());
}

TEST_F(RedisStoreTest, ReconnectsAfterTheServerDropsTheConnection) {
  std::unique_ptr<RedisStore> store = OpenNode("n1");
  ASSERT_TRUE(store->AppendUpdates(kRecord, {"AA=="}, 1).ok());
  EXPECT_EQ(store->connection().connects(), 1);
  // Kill every other client (the store's connection).
  EXPECT_NE(Admin({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}), "0");
  // A write right after: the dead connection is noticed before sending.
  ASSERT_TRUE(store->AppendUpdates(kRecord, {"BB=="}, 2).ok());
  EXPECT_EQ(store->connection().connects(), 2);
  EXPECT_EQ(store->GetUpdates(kRecord)->size(), 2u);
  // The script cache is gone too (e.g. a restarted Redis): scripts reload.
  Admin({"SCRIPT", "FLUSH"});
  EXPECT_EQ(store->GetUpdates(kRecord)->size(), 2u);
}

TEST_F(RedisStoreTest, StalledServerTimesOutThenRecovers) {
  RedisStoreOptions options;
  options.address = redis_->address();
  options.address.command_timeout = std::chrono::milliseconds(200);
  auto store = RedisStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->AppendUpdates(kRecord, {"AA=="}, 1).ok());
  redis_->Pause();
  auto info = (*store)->GetBranch(kRecord);
  redis_->Resume();
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(info.status())) << info.status();
  EXPECT_NE(info.status().message().find("200 ms"), std::string::npos)
      << info.status();
  auto updates = (*store)->GetUpdates(kRecord);
  ASSERT_TRUE(updates.ok()) << updates.status();
  EXPECT_EQ(updates->size(), 1u);
}

TEST_F(RedisStoreTest, SelectsTheUrlsDatabase) {
  RedisStoreOptions options;
  auto address = ParseRedisUrl(redis_->url() + "?db=5");
  ASSERT_TRUE(address.ok()) << address.status();
  options.address = *address;
  auto store = RedisStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->AppendUpdates(kPublic, {"AA=="}, 1).ok());
  EXPECT_EQ(Admin({"EXISTS", "/insts/updates//inst/default"}), "0");
  Admin({"SELECT", "5"});
  EXPECT_EQ(Admin({"EXISTS", "/insts/updates//inst/default"}), "1");
}

}  // namespace
}  // namespace auxsync::server
