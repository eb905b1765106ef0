#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "auxsync/server/internal/redis_test_server.h"
#include "auxsync/server/memory_store.h"
#include "auxsync/server/redis_store.h"
#include "auxsync/server/sqlite_store.h"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

using StoreFactory = std::function<std::unique_ptr<Store>(const std::string&)>;

std::string TempDbPath(const std::string& name) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("auxsync_store_test_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "auxsync.db").string();
}

enum class StoreKind { kMemory, kSqlite, kRedis };

std::string KindName(StoreKind kind) {
  switch (kind) {
    case StoreKind::kMemory:
      return "Memory";
    case StoreKind::kSqlite:
      return "Sqlite";
    case StoreKind::kRedis:
      return "Redis";
  }
  return "?";
}

// For test names and failure messages.
void PrintTo(StoreKind kind, std::ostream* os) { *os << KindName(kind); }

// Every Store passes the same suite. Redis: a private redis-server per test
// (skipped when redis-server is not installed).
class StoreTest : public testing::TestWithParam<StoreKind> {
 protected:
  // A fresh store (sqlite: at `path_`; redis: on `redis_`; both reopened by
  // Open()).
  void SetUp() override {
    path_ = TempDbPath(
        testing::UnitTest::GetInstance()->current_test_info()->name() +
        ("_" + KindName(GetParam())));
    if (GetParam() == StoreKind::kRedis) {
      absl::StatusOr<std::unique_ptr<internal::RedisTestServer>> redis =
          internal::RedisTestServer::Start();
      if (absl::IsNotFound(redis.status())) GTEST_SKIP() << redis.status();
      ASSERT_TRUE(redis.ok()) << redis.status();
      redis_ = std::move(*redis);
    }
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<Store> Open() {
    if (GetParam() == StoreKind::kMemory) {
      return std::make_unique<MemoryStore>();
    }
    if (GetParam() == StoreKind::kRedis) {
      RedisStoreOptions options;
      options.address = redis_->address();
      options.node_id = "node-1";
      absl::StatusOr<std::unique_ptr<RedisStore>> s = RedisStore::Open(options);
      EXPECT_TRUE(s.ok()) << s.status();
      return s.ok() ? std::move(*s) : nullptr;
    }
    absl::StatusOr<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status();
    return std::move(*s);
  }
  std::string path_;
  std::unique_ptr<internal::RedisTestServer> redis_;
  std::unique_ptr<Store> store_;
};

const inst::BranchNamespace kPublic{std::nullopt, "inst", "default"};
const inst::BranchNamespace kRecord{"rec", "inst", "default"};

TEST_P(StoreTest, AppendCreatesBranchAndKeepsOrder) {
  ASSERT_TRUE(store_->AppendUpdates(kPublic, {"AAA=", "BB=="}, 10).ok());
  ASSERT_TRUE(store_->AppendUpdates(kPublic, {"CC=="}, 20).ok());
  auto info = store_->GetBranch(kPublic);
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(info->has_value());
  EXPECT_FALSE((*info)->temporary);
  EXPECT_EQ((*info)->size_bytes, 12);
  auto updates = store_->GetUpdates(kPublic);
  ASSERT_TRUE(updates.ok());
  EXPECT_EQ(*updates, (std::vector<StoredUpdate>{
                          {"AAA=", 10}, {"BB==", 10}, {"CC==", 20}}));
  // The null record name and "rec" are different insts.
  EXPECT_TRUE(store_->GetUpdates(kRecord)->empty());
  EXPECT_EQ(*store_->InstSize(std::nullopt, "inst"), 12);
  EXPECT_EQ(*store_->InstSize("rec", "inst"), 0);
}

TEST_P(StoreTest, TemporaryBranchesAndDelete) {
  ASSERT_TRUE(store_->CreateBranch(kRecord, true).ok());
  ASSERT_TRUE(store_->CreateBranch(kRecord, false).ok());  // keeps the flag
  EXPECT_TRUE((*store_->GetBranch(kRecord))->temporary);
  ASSERT_TRUE(store_->AppendUpdates(kRecord, {"AA=="}, 1).ok());
  EXPECT_TRUE((*store_->GetBranch(kRecord))->temporary);
  ASSERT_TRUE(store_->AppendUpdates(kPublic, {"AA=="}, 1).ok());
  ASSERT_TRUE(store_->DeleteTemporaryBranches().ok());
  EXPECT_FALSE(store_->GetBranch(kRecord)->has_value());
  EXPECT_TRUE(store_->GetUpdates(kRecord)->empty());
  EXPECT_TRUE(store_->GetBranch(kPublic)->has_value());
  ASSERT_TRUE(store_->DeleteBranch(kPublic).ok());
  EXPECT_FALSE(store_->GetBranch(kPublic)->has_value());
}

TEST_P(StoreTest, ReplaceUpdatesOnlyWhenUnchanged) {
  ASSERT_TRUE(store_->AppendUpdates(kPublic, {"AA==", "BB=="}, 1).ok());
  EXPECT_FALSE(*store_->ReplaceUpdates(kPublic, 3, {"M===", 5}));
  EXPECT_TRUE(*store_->ReplaceUpdates(kPublic, 2, {"MM==", 5}));
  EXPECT_EQ(*store_->GetUpdates(kPublic),
            (std::vector<StoredUpdate>{{"MM==", 5}}));
  EXPECT_EQ((*store_->GetBranch(kPublic))->size_bytes, 4);
}

TEST_P(StoreTest, Sessions) {
  EXPECT_FALSE(store_->GetSession("u", "s")->has_value());
  ASSERT_TRUE(store_->PutSession({"u", "s", "c2VjcmV0", false, 1234}).ok());
  auto s = store_->GetSession("u", "s");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->connection_secret, "c2VjcmV0");
  EXPECT_EQ((*s)->expire_time_ms, 1234);
}

// The stores that keep their data when closed: all but MemoryStore.
class DurableStoreTest : public StoreTest {};

TEST_P(DurableStoreTest, DataSurvivesReopen) {
  ASSERT_TRUE(store_->AppendUpdates(kRecord, {"AA=="}, 7).ok());
  ASSERT_TRUE(store_->PutSession({"u", "s", "c2VjcmV0", false, {}}).ok());
  store_.reset();
  store_ = Open();
  EXPECT_EQ(*store_->GetUpdates(kRecord),
            (std::vector<StoredUpdate>{{"AA==", 7}}));
  EXPECT_FALSE((*store_->GetSession("u", "s"))->expire_time_ms.has_value());
}

TEST_P(StoreTest, ManyUpdatesInOneAppend) {
  std::vector<std::string> updates;
  std::vector<StoredUpdate> expected;
  for (int i = 0; i < 2500; ++i) {
    updates.push_back("U" + std::to_string(i) + "==");
    expected.push_back({updates.back(), 42});
  }
  ASSERT_TRUE(store_->AppendUpdates(kRecord, updates, 42).ok());
  EXPECT_EQ(*store_->GetUpdates(kRecord), expected);
  auto info = store_->GetBranch(kRecord);
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->update_count, 2500);
  int64_t size = 0;
  for (const std::string& u : updates) size += static_cast<int64_t>(u.size());
  EXPECT_EQ((*info)->size_bytes, size);
  EXPECT_EQ(*store_->InstSize("rec", "inst"), size);
}

TEST_P(StoreTest, SizesFollowDeletesTemporaryBranchesAndCompaction) {
  const inst::BranchNamespace other{"rec", "inst", "other"};
  const inst::BranchNamespace temp{"rec", "inst", "temp"};
  ASSERT_TRUE(store_->AppendUpdates(kRecord, {"AA==", "BB=="}, 1).ok());
  ASSERT_TRUE(store_->AppendUpdates(other, {"CCCC"}, 1).ok());
  ASSERT_TRUE(store_->CreateBranch(temp, true).ok());
  ASSERT_TRUE(store_->AppendUpdates(temp, {"DDDDDDDD"}, 1).ok());
  EXPECT_EQ(*store_->InstSize("rec", "inst"), 20);
  EXPECT_TRUE(*store_->ReplaceUpdates(kRecord, 2, {"M=", 2}));
  EXPECT_EQ(*store_->InstSize("rec", "inst"), 14);
  ASSERT_TRUE(store_->DeleteBranch(other).ok());
  ASSERT_TRUE(store_->DeleteBranch(other).ok());  // no error when missing
  EXPECT_EQ(*store_->InstSize("rec", "inst"), 10);
  ASSERT_TRUE(store_->DeleteTemporaryBranches().ok());
  EXPECT_EQ(*store_->InstSize("rec", "inst"), 2);
  // A missing branch is never "replaced".
  EXPECT_FALSE(*store_->ReplaceUpdates(other, 0, {"M=", 2}));
  EXPECT_FALSE(store_->GetBranch(other)->has_value());
  // An empty append still creates the branch.
  ASSERT_TRUE(store_->AppendUpdates(other, {}, 3).ok());
  auto info = store_->GetBranch(other);
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->update_count, 0);
  EXPECT_FALSE((*info)->temporary);
}

TEST_P(StoreTest, SessionsAreReplaced) {
  ASSERT_TRUE(store_->PutSession({"u", "s", "c2VjcmV0", false, 1234}).ok());
  ASSERT_TRUE(store_->PutSession({"u", "s", "bmV3", true, {}}).ok());
  ASSERT_TRUE(store_->PutSession({"u", "t", "b3RoZXI=", false, 5}).ok());
  auto s = store_->GetSession("u", "s");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->user_id, "u");
  EXPECT_EQ((*s)->session_id, "s");
  EXPECT_EQ((*s)->connection_secret, "bmV3");
  EXPECT_TRUE((*s)->revoked);
  EXPECT_FALSE((*s)->expire_time_ms.has_value());
  EXPECT_EQ((*store_->GetSession("u", "t"))->connection_secret, "b3RoZXI=");
  EXPECT_FALSE(store_->GetSession("v", "s")->has_value());
}

TEST_P(StoreTest, InstExists) {
  EXPECT_FALSE(*store_->InstExists("rec", "inst"));
  ASSERT_TRUE(store_->CreateBranch(kRecord, false).ok());  // no updates yet
  EXPECT_TRUE(*store_->InstExists("rec", "inst"));
  EXPECT_FALSE(*store_->InstExists("rec", "other"));
  EXPECT_FALSE(*store_->InstExists("other", "inst"));
  ASSERT_TRUE(store_->DeleteBranch(kRecord).ok());
  EXPECT_FALSE(*store_->InstExists("rec", "inst"));
  ASSERT_TRUE(store_->CreateBranch(kRecord, true).ok());
  EXPECT_TRUE(*store_->InstExists("rec", "inst"));
  ASSERT_TRUE(store_->DeleteTemporaryBranches().ok());
  EXPECT_FALSE(*store_->InstExists("rec", "inst"));
  ASSERT_TRUE(store_->AppendUpdates({"rec", "inst", "b"}, {"AA=="}, 1).ok());
  EXPECT_TRUE(*store_->InstExists("rec", "inst"));
}

TEST_P(StoreTest, Grants) {
  EXPECT_FALSE(store_->GetGrant("rec", "u")->has_value());
  ASSERT_TRUE(store_->PutGrant({"rec", "u", true, false}).ok());
  ASSERT_TRUE(store_->PutGrant({"rec", "v", true, true}).ok());
  ASSERT_TRUE(store_->PutGrant({"rec2", "u", false, true}).ok());
  EXPECT_EQ(*store_->GetGrant("rec", "u"),
            (RecordGrant{"rec", "u", true, false}));
  EXPECT_EQ(*store_->GetGrant("rec", "v"),
            (RecordGrant{"rec", "v", true, true}));
  EXPECT_EQ(*store_->GetGrant("rec2", "u"),
            (RecordGrant{"rec2", "u", false, true}));
  ASSERT_TRUE(store_->PutGrant({"rec", "u", true, true}).ok());
  EXPECT_EQ(*store_->GetGrant("rec", "u"),
            (RecordGrant{"rec", "u", true, true}));
  ASSERT_TRUE(store_->PutGrant({"rec", "u", false, false}).ok());  // revoke
  EXPECT_FALSE(store_->GetGrant("rec", "u")->has_value());
  EXPECT_TRUE(store_->GetGrant("rec", "v")->has_value());
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest,
                         testing::Values(StoreKind::kMemory, StoreKind::kSqlite,
                                         StoreKind::kRedis),
                         [](const auto& info) { return KindName(info.param); });
INSTANTIATE_TEST_SUITE_P(DurableStores, DurableStoreTest,
                         testing::Values(StoreKind::kSqlite, StoreKind::kRedis),
                         [](const auto& info) { return KindName(info.param); });

TEST(SqliteStore, OpenFailsCleanlyOnBadPath) {
  EXPECT_FALSE(SqliteStore::Open("/nonexistent-dir/x/y.db").ok());
}

}  // namespace
}  // namespace auxsync::server
