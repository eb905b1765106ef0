#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "auxsync/server/memory_store.h"
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

class StoreTest : public testing::TestWithParam<bool> {
 protected:
  // A fresh store (sqlite: at `path_`, reopened by Reopen()).
  void SetUp() override {
    path_ = TempDbPath(
        testing::UnitTest::GetInstance()->current_test_info()->name() +
        std::string(GetParam() ? "_sqlite" : "_memory"));
    store_ = Open();
  }
  std::unique_ptr<Store> Open() {
    if (!GetParam()) return std::make_unique<MemoryStore>();
    absl::StatusOr<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status();
    return std::move(*s);
  }
  std::string path_;
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

TEST_P(StoreTest, DataSurvivesReopen) {
  ASSERT_TRUE(store_->AppendUpdates(kRecord, {"AA=="}, 7).ok());
  ASSERT_TRUE(store_->PutSession({"u", "s", "c2VjcmV0", false, {}}).ok());
  if (!GetParam()) GTEST_SKIP() << "memory store";
  store_.reset();
  store_ = Open();
  EXPECT_EQ(*store_->GetUpdates(kRecord),
            (std::vector<StoredUpdate>{{"AA==", 7}}));
  EXPECT_FALSE((*store_->GetSession("u", "s"))->expire_time_ms.has_value());
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, testing::Values(false, true),
                         [](const auto& info) {
                           return info.param ? "Sqlite" : "Memory";
                         });

TEST(SqliteStore, OpenFailsCleanlyOnBadPath) {
  EXPECT_FALSE(SqliteStore::Open("/nonexistent-dir/x/y.db").ok());
}

}  // namespace
}  // namespace auxsync::server
