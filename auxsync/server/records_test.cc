// The permission model of record insts (records.h) and the grants of the
// stores.

#include "auxsync/server/records.h"

#include <filesystem>
#include <memory>
#include <string>

#include "auxsync/server/memory_store.h"
#include "auxsync/server/sqlite_store.h"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

TEST(Records, OwnerOfThePersonalRecordMayDoEverything) {
  for (InstAction a : {InstAction::kRead, InstAction::kCreate,
                       InstAction::kUpdateData, InstAction::kSendAction}) {
    EXPECT_TRUE(PermitsInstAction("u1", "u1", std::nullopt, a));
    EXPECT_FALSE(PermitsInstAction("u2", "u1", std::nullopt, a));
  }
}

TEST(Records, ReadGrantsReadAndWriteGrantsEverything) {
  RecordGrant read{"rec", "u2", true, false};
  RecordGrant write{"rec", "u2", false, true};
  EXPECT_TRUE(PermitsInstAction("u2", "rec", read, InstAction::kRead));
  EXPECT_FALSE(PermitsInstAction("u2", "rec", read, InstAction::kCreate));
  EXPECT_FALSE(PermitsInstAction("u2", "rec", read, InstAction::kUpdateData));
  EXPECT_FALSE(PermitsInstAction("u2", "rec", read, InstAction::kSendAction));
  for (InstAction a : {InstAction::kRead, InstAction::kCreate,
                       InstAction::kUpdateData, InstAction::kSendAction}) {
    EXPECT_TRUE(PermitsInstAction("u2", "rec", write, a));
  }
  EXPECT_FALSE(PermitsInstAction("", "", std::nullopt, InstAction::kRead));
  EXPECT_EQ(InstActionName(InstAction::kUpdateData), "updateData");
  EXPECT_EQ(InstActionName(InstAction::kSendAction), "sendAction");
}

void CheckGrantsAndInstExistence(Store& store) {
  EXPECT_FALSE(store.GetGrant("rec", "u2").value().has_value());
  ASSERT_TRUE(store.PutGrant({"rec", "u2", true, false}).ok());
  ASSERT_TRUE(store.PutGrant({"rec", "u3", true, true}).ok());
  EXPECT_EQ(store.GetGrant("rec", "u2").value(),
            (RecordGrant{"rec", "u2", true, false}));
  ASSERT_TRUE(store.PutGrant({"rec", "u2", true, true}).ok());
  EXPECT_EQ(store.GetGrant("rec", "u2").value(),
            (RecordGrant{"rec", "u2", true, true}));
  ASSERT_TRUE(store.PutGrant({"rec", "u2", false, false}).ok());
  EXPECT_FALSE(store.GetGrant("rec", "u2").value().has_value());
  EXPECT_TRUE(store.GetGrant("rec", "u3").value().has_value());

  EXPECT_FALSE(store.InstExists("rec", "i").value());
  ASSERT_TRUE(store.CreateBranch({std::nullopt, "i", "b"}, false).ok());
  ASSERT_TRUE(store.CreateBranch({"other", "i", "b"}, false).ok());
  ASSERT_TRUE(store.CreateBranch({"rec", "i2", "b"}, false).ok());
  EXPECT_FALSE(store.InstExists("rec", "i").value());
  ASSERT_TRUE(store.CreateBranch({"rec", "i", "z"}, true).ok());
  EXPECT_TRUE(store.InstExists("rec", "i").value());
  ASSERT_TRUE(store.DeleteBranch({"rec", "i", "z"}).ok());
  EXPECT_FALSE(store.InstExists("rec", "i").value());
}

TEST(Records, MemoryStoreGrants) {
  MemoryStore store;
  CheckGrantsAndInstExistence(store);
}

TEST(Records, SqliteStoreGrantsSurviveReopen) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "auxsync_records_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = (dir / "db.sqlite").string();
  {
    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    CheckGrantsAndInstExistence(**store);
  }
  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->GetGrant("rec", "u3").value(),
            (RecordGrant{"rec", "u3", true, true}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace auxsync::server
