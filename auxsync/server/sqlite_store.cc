#include "auxsync/server/sqlite_store.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace auxsync::server {
namespace {

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  absl::Status status() const {
    if (rc_ == SQLITE_OK) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("sqlite prepare: ", sqlite3_errmsg(db_)));
  }
  void BindText(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
  }
  void BindInt(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
  }
  void BindNull(int index) { sqlite3_bind_null(stmt_, index); }
  // The record name column: NULL for a public inst.
  void BindRecord(int index, const inst::RecordName& record) {
    if (record) {
      BindText(index, *record);
    } else {
      BindNull(index);
    }
  }
  // SQLITE_ROW, SQLITE_DONE, or an error status.
  absl::StatusOr<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return absl::InternalError(
        absl::StrCat("sqlite step: ", sqlite3_errmsg(db_)));
  }
  int64_t Int(int column) { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  std::string Text(int column) {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    return text == nullptr
               ? std::string()
               : std::string(reinterpret_cast<const char*>(text), size);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS branches (
  id INTEGER PRIMARY KEY,
  has_record INTEGER NOT NULL,
  record_name TEXT NOT NULL,
  inst TEXT NOT NULL,
  branch TEXT NOT NULL,
  temporary INTEGER NOT NULL,
  size_bytes INTEGER NOT NULL DEFAULT 0,
  UNIQUE (has_record, record_name, inst, branch));
CREATE TABLE IF NOT EXISTS updates (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  branch_id INTEGER NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
  update_data TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS updates_by_branch ON updates (branch_id, seq);
CREATE TABLE IF NOT EXISTS sessions (
  user_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  connection_secret TEXT NOT NULL,
  revoked INTEGER NOT NULL,
  expire_time_ms INTEGER,
  PRIMARY KEY (user_id, session_id));
CREATE TABLE IF NOT EXISTS grants (
  record_name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  can_read INTEGER NOT NULL,
  can_write INTEGER NOT NULL,
  PRIMARY KEY (record_name, user_id));
)sql";

// Binds (has_record, record_name, inst, branch) at 1..4.
void BindNamespace(Statement& statement, const inst::BranchNamespace& ns) {
  statement.BindInt(1, ns.record_name.has_value() ? 1 : 0);
  statement.BindText(2, ns.record_name.value_or(""));
  statement.BindText(3, ns.inst);
  statement.BindText(4, ns.branch);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, bool full_sync) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat(path, ": ", message));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  sqlite3_busy_timeout(db, 5000);
  const char* synchronous =
      full_sync ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  for (const char* sql : {"PRAGMA journal_mode=WAL;", synchronous,
                          "PRAGMA foreign_keys=ON;", kSchema}) {
    if (absl::Status s = store->Exec(sql); !s.ok()) return s;
  }
  return store;
}

SqliteStore::~SqliteStore() { sqlite3_close(db_); }

absl::Status SqliteStore::Exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    return absl::InternalError(absl::StrCat("sqlite: ", message));
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::BeginWrite() {
  return Exec(in_batch_ ? "SAVEPOINT write;" : "BEGIN IMMEDIATE;");
}

absl::Status SqliteStore::EndWrite(bool ok) {
  if (in_batch_) {
    // A failed write leaves the batch's other writes in place.
    return Exec(ok ? "RELEASE write;" : "ROLLBACK TO write; RELEASE write;");
  }
  return Exec(ok ? "COMMIT;" : "ROLLBACK;");
}

absl::Status SqliteStore::BeginBatch() {
  if (in_batch_) return absl::FailedPreconditionError("batch already open");
  if (absl::Status s = Exec("BEGIN IMMEDIATE;"); !s.ok()) return s;
  in_batch_ = true;
  return absl::OkStatus();
}

absl::Status SqliteStore::CommitBatch() {
  if (!in_batch_) return absl::OkStatus();
  in_batch_ = false;
  if (absl::Status s = Exec("COMMIT;"); !s.ok()) {
    Exec("ROLLBACK;").IgnoreError();
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteStore::BranchId(const inst::BranchNamespace& ns) {
  Statement q(db_,
              "SELECT id FROM branches WHERE has_record=?1 AND "
              "record_name=?2 AND inst=?3 AND branch=?4");
  if (!q.status().ok()) return q.status();
  BindNamespace(q, ns);
  absl::StatusOr<bool> row = q.Step();
  if (!row.ok()) return row.status();
  return *row ? q.Int(0) : 0;
}

absl::StatusOr<int64_t> SqliteStore::EnsureBranch(
    const inst::BranchNamespace& ns, bool temporary) {
  Statement q(db_,
              "INSERT OR IGNORE INTO branches (has_record, record_name, inst, "
              "branch, temporary) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!q.status().ok()) return q.status();
  BindNamespace(q, ns);
  q.BindInt(5, temporary ? 1 : 0);
  if (absl::StatusOr<bool> done = q.Step(); !done.ok()) return done.status();
  return BranchId(ns);
}

absl::StatusOr<std::optional<BranchInfo>> SqliteStore::GetBranch(
    const inst::BranchNamespace& ns) {
  Statement q(db_,
              "SELECT temporary, size_bytes, (SELECT COUNT(*) FROM updates "
              "WHERE branch_id = branches.id) FROM branches WHERE "
              "has_record=?1 AND record_name=?2 AND inst=?3 AND branch=?4");
  if (!q.status().ok()) return q.status();
  BindNamespace(q, ns);
  absl::StatusOr<bool> row = q.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<BranchInfo>();
  return std::optional<BranchInfo>(
      BranchInfo{q.Int(0) != 0, q.Int(1), q.Int(2)});
}

absl::Status SqliteStore::CreateBranch(const inst::BranchNamespace& ns,
                                       bool temporary) {
  return EnsureBranch(ns, temporary).status();
}

absl::Status SqliteStore::AppendUpdates(const inst::BranchNamespace& ns,
                                        const std::vector<std::string>& updates,
                                        int64_t timestamp_ms) {
  if (absl::Status s = BeginWrite(); !s.ok()) return s;
  absl::Status status = [&]() -> absl::Status {
    absl::StatusOr<int64_t> id = EnsureBranch(ns, false);
    if (!id.ok()) return id.status();
    int64_t added = 0;
    for (const std::string& update : updates) {
      Statement q(db_,
                  "INSERT INTO updates (branch_id, update_data, size_bytes, "
                  "created_at_ms) VALUES (?1, ?2, ?3, ?4)");
      if (!q.status().ok()) return q.status();
      q.BindInt(1, *id);
      q.BindText(2, update);
      q.BindInt(3, static_cast<int64_t>(update.size()));
      q.BindInt(4, timestamp_ms);
      if (absl::StatusOr<bool> r = q.Step(); !r.ok()) return r.status();
      added += static_cast<int64_t>(update.size());
    }
    Statement size(db_,
                   "UPDATE branches SET size_bytes = size_bytes + ?1 WHERE "
                   "id = ?2");
    if (!size.status().ok()) return size.status();
    size.BindInt(1, added);
    size.BindInt(2, *id);
    return size.Step().status();
  }();
  if (!status.ok()) {
    EndWrite(false).IgnoreError();
    return status;
  }
  return EndWrite(true);
}

absl::StatusOr<std::vector<StoredUpdate>> SqliteStore::GetUpdates(
    const inst::BranchNamespace& ns) {
  Statement q(db_,
              "SELECT u.update_data, u.created_at_ms FROM updates u JOIN "
              "branches b ON u.branch_id = b.id WHERE b.has_record=?1 AND "
              "b.record_name=?2 AND b.inst=?3 AND b.branch=?4 ORDER BY u.seq");
  if (!q.status().ok()) return q.status();
  BindNamespace(q, ns);
  std::vector<StoredUpdate> out;
  while (true) {
    absl::StatusOr<bool> row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(StoredUpdate{q.Text(0), q.Int(1)});
  }
  return out;
}

absl::StatusOr<bool> SqliteStore::ReplaceUpdates(
    const inst::BranchNamespace& ns, size_t expected_count,
    const StoredUpdate& merged) {
  if (absl::Status s = BeginWrite(); !s.ok()) return s;
  absl::StatusOr<bool> result = [&]() -> absl::StatusOr<bool> {
    absl::StatusOr<int64_t> id = BranchId(ns);
    if (!id.ok()) return id.status();
    if (*id == 0) return false;
    Statement count(db_, "SELECT COUNT(*) FROM updates WHERE branch_id=?1");
    if (!count.status().ok()) return count.status();
    count.BindInt(1, *id);
    if (absl::StatusOr<bool> r = count.Step(); !r.ok()) return r.status();
    if (static_cast<size_t>(count.Int(0)) != expected_count) return false;
    Statement del(db_, "DELETE FROM updates WHERE branch_id=?1");
    del.BindInt(1, *id);
    if (absl::StatusOr<bool> r = del.Step(); !r.ok()) return r.status();
    Statement ins(db_,
                  "INSERT INTO updates (branch_id, update_data, size_bytes, "
                  "created_at_ms) VALUES (?1, ?2, ?3, ?4)");
    ins.BindInt(1, *id);
    ins.BindText(2, merged.update);
    ins.BindInt(3, static_cast<int64_t>(merged.update.size()));
    ins.BindInt(4, merged.timestamp_ms);
    if (absl::StatusOr<bool> r = ins.Step(); !r.ok()) return r.status();
    Statement size(db_, "UPDATE branches SET size_bytes=?1 WHERE id=?2");
    size.BindInt(1, static_cast<int64_t>(merged.update.size()));
    size.BindInt(2, *id);
    if (absl::StatusOr<bool> r = size.Step(); !r.ok()) return r.status();
    return true;
  }();
  if (!result.ok()) {
    EndWrite(false).IgnoreError();
    return result;
  }
  if (absl::Status s = EndWrite(true); !s.ok()) return s;
  return result;
}

absl::Status SqliteStore::DeleteBranch(const inst::BranchNamespace& ns) {
  Statement q(db_,
              "DELETE FROM branches WHERE has_record=?1 AND record_name=?2 AND "
              "inst=?3 AND branch=?4");
  if (!q.status().ok()) return q.status();
  BindNamespace(q, ns);
  return q.Step().status();
}

absl::StatusOr<int64_t> SqliteStore::InstSize(
    const inst::RecordName& record_name, std::string_view inst) {
  Statement q(db_,
              "SELECT COALESCE(SUM(size_bytes), 0) FROM branches WHERE "
              "has_record=?1 AND record_name=?2 AND inst=?3");
  if (!q.status().ok()) return q.status();
  q.BindInt(1, record_name.has_value() ? 1 : 0);
  q.BindText(2, record_name.value_or(""));
  q.BindText(3, inst);
  absl::StatusOr<bool> row = q.Step();
  if (!row.ok()) return row.status();
  return q.Int(0);
}

absl::Status SqliteStore::DeleteTemporaryBranches() {
  return Exec("DELETE FROM branches WHERE temporary = 1;");
}

absl::StatusOr<std::optional<Session>> SqliteStore::GetSession(
    std::string_view user_id, std::string_view session_id) {
  Statement q(db_,
              "SELECT connection_secret, revoked, expire_time_ms FROM sessions "
              "WHERE user_id=?1 AND session_id=?2");
  if (!q.status().ok()) return q.status();
  q.BindText(1, user_id);
  q.BindText(2, session_id);
  absl::StatusOr<bool> row = q.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<Session>();
  Session session;
  session.user_id = std::string(user_id);
  session.session_id = std::string(session_id);
  session.connection_secret = q.Text(0);
  session.revoked = q.Int(1) != 0;
  if (!q.IsNull(2)) session.expire_time_ms = q.Int(2);
  return std::optional<Session>(std::move(session));
}

absl::Status SqliteStore::PutSession(const Session& session) {
  Statement q(db_,
              "INSERT OR REPLACE INTO sessions (user_id, session_id, "
              "connection_secret, revoked, expire_time_ms) VALUES (?1, ?2, "
              "?3, ?4, ?5)");
  if (!q.status().ok()) return q.status();
  q.BindText(1, session.user_id);
  q.BindText(2, session.session_id);
  q.BindText(3, session.connection_secret);
  q.BindInt(4, session.revoked ? 1 : 0);
  if (session.expire_time_ms) {
    q.BindInt(5, *session.expire_time_ms);
  } else {
    q.BindNull(5);
  }
  return q.Step().status();
}

absl::StatusOr<bool> SqliteStore::InstExists(std::string_view record_name,
                                             std::string_view inst) {
  Statement q(db_,
              "SELECT 1 FROM branches WHERE has_record=1 AND record_name=?1 "
              "AND inst=?2 LIMIT 1");
  if (!q.status().ok()) return q.status();
  q.BindText(1, record_name);
  q.BindText(2, inst);
  return q.Step();
}

absl::StatusOr<std::optional<RecordGrant>> SqliteStore::GetGrant(
    std::string_view record_name, std::string_view user_id) {
  Statement q(db_,
              "SELECT can_read, can_write FROM grants WHERE record_name=?1 AND "
              "user_id=?2");
  if (!q.status().ok()) return q.status();
  q.BindText(1, record_name);
  q.BindText(2, user_id);
  absl::StatusOr<bool> row = q.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<RecordGrant>();
  return std::optional<RecordGrant>(RecordGrant{std::string(record_name),
                                                std::string(user_id),
                                                q.Int(0) != 0, q.Int(1) != 0});
}

absl::Status SqliteStore::PutGrant(const RecordGrant& grant) {
  if (!grant.read && !grant.write) {
    Statement q(db_, "DELETE FROM grants WHERE record_name=?1 AND user_id=?2");
    if (!q.status().ok()) return q.status();
    q.BindText(1, grant.record_name);
    q.BindText(2, grant.user_id);
    return q.Step().status();
  }
  Statement q(db_,
              "INSERT OR REPLACE INTO grants (record_name, user_id, can_read, "
              "can_write) VALUES (?1, ?2, ?3, ?4)");
  if (!q.status().ok()) return q.status();
  q.BindText(1, grant.record_name);
  q.BindText(2, grant.user_id);
  q.BindInt(3, grant.read ? 1 : 0);
  q.BindInt(4, grant.write ? 1 : 0);
  return q.Step().status();
}

}  // namespace auxsync::server
