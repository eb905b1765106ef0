// A Store in one SQLite file (WAL journal, synchronous=FULL by default):
// every write is committed before the call returns, so an acknowledged
// update survives a crash or restart. `auxsync serve --store sqlite` keeps it
// at <data-dir>/auxsync.db. Not thread-safe (see store.h); one process per
// file.

#ifndef AUXSYNC_SERVER_SQLITE_STORE_H_
#define AUXSYNC_SERVER_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "auxsync/server/store.h"

struct sqlite3;

namespace auxsync::server {

class SqliteStore : public Store {
 public:
  // Opens (creating when missing) the database at `path` and its schema.
  // `full_sync`: every commit is fsynced (survives power loss; ~3 ms per
  // write on this machine); otherwise synchronous=NORMAL (a commit
  // survives a crash of the process, the last ones may be lost on power
  // loss; ~12x the write rate).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, bool full_sync = true);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::StatusOr<std::optional<BranchInfo>> GetBranch(
      const inst::BranchNamespace& ns) override;
  absl::Status CreateBranch(const inst::BranchNamespace& ns,
                            bool temporary) override;
  absl::Status AppendUpdates(const inst::BranchNamespace& ns,
                             const std::vector<std::string>& updates,
                             int64_t timestamp_ms) override;
  absl::StatusOr<std::vector<StoredUpdate>> GetUpdates(
      const inst::BranchNamespace& ns) override;
  absl::StatusOr<bool> ReplaceUpdates(const inst::BranchNamespace& ns,
                                      size_t expected_count,
                                      const StoredUpdate& merged) override;
  absl::Status DeleteBranch(const inst::BranchNamespace& ns) override;
  absl::StatusOr<int64_t> InstSize(const inst::RecordName& record_name,
                                   std::string_view inst) override;
  absl::Status DeleteTemporaryBranches() override;
  absl::StatusOr<std::optional<Session>> GetSession(
      std::string_view user_id, std::string_view session_id) override;
  absl::Status PutSession(const Session& session) override;
  absl::StatusOr<bool> InstExists(std::string_view record_name,
                                  std::string_view inst) override;
  absl::StatusOr<std::optional<RecordGrant>> GetGrant(
      std::string_view record_name, std::string_view user_id) override;
  absl::Status PutGrant(const RecordGrant& grant) override;
  // One transaction for every write until CommitBatch (one fsync).
  absl::Status BeginBatch() override;
  absl::Status CommitBatch() override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  absl::Status Exec(const char* sql);
  // Starts the transaction of one write: BEGIN IMMEDIATE, or a savepoint
  // inside a batch; End commits (releases) it or rolls it back.
  absl::Status BeginWrite();
  absl::Status EndWrite(bool ok);
  // The branch's row id, or 0 when missing.
  absl::StatusOr<int64_t> BranchId(const inst::BranchNamespace& ns);
  absl::StatusOr<int64_t> EnsureBranch(const inst::BranchNamespace& ns,
                                       bool temporary);

  sqlite3* db_;
  bool in_batch_ = false;
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_SQLITE_STORE_H_
