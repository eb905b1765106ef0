// The durable state of `auxsync serve`: branch updates (with their arrival
// times and sizes), which branches exist and whether they are temporary,
// the sessions that connection tokens are verified against, and the
// per-record read/write grants of users.
//
// Everything a second server process would need to take over an inst lives
// behind this interface, so a Redis (or other shared) store can implement it
// later (spec/inst-protocol.md 9.3). Only live sockets and their
// registrations stay in process memory.
//
// Threading: implementations are not thread-safe; the server calls them from
// its one io_context thread. Calls are synchronous: when a write returns OK
// the data is durable for that store (SqliteStore: committed), which is why
// the server acknowledges an update only after AppendUpdates returned.

#ifndef AUXSYNC_SERVER_STORE_H_
#define AUXSYNC_SERVER_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/inst/messages.h"

namespace auxsync::server {

// One stored update: the base64 text exactly as the client sent it, and its
// arrival time in epoch milliseconds.
struct StoredUpdate {
  std::string update;
  int64_t timestamp_ms = 0;
  friend bool operator==(const StoredUpdate&, const StoredUpdate&) = default;
};

// What the store knows about a branch.
struct BranchInfo {
  bool temporary = false;
  // Sum of the UTF-8 byte lengths of the stored base64 strings (7.5).
  int64_t size_bytes = 0;
  // How many updates are stored (compaction trigger).
  int64_t update_count = 0;
};

// A session that can sign connection tokens (3.2): its connection secret
// (base64) and when it stops being valid.
struct Session {
  std::string user_id;
  std::string session_id;
  std::string connection_secret;
  bool revoked = false;
  std::optional<int64_t> expire_time_ms;  // nullopt = never
};

// What one user may do with the insts of one record (docs/records.md):
// `read` (watch, history, devices, counts) and `write` (create insts, add
// updates, send actions; implies read). Both false = no grant.
struct RecordGrant {
  std::string record_name;
  std::string user_id;
  bool read = false;
  bool write = false;
  friend bool operator==(const RecordGrant&, const RecordGrant&) = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // The branch, or nullopt when it does not exist.
  virtual absl::StatusOr<std::optional<BranchInfo>> GetBranch(
      const inst::BranchNamespace& ns) = 0;

  // Creates the branch when missing (keeping an existing one unchanged).
  virtual absl::Status CreateBranch(const inst::BranchNamespace& ns,
                                    bool temporary) = 0;

  // Appends `updates` in order with `timestamp_ms`, creating a
  // non-temporary branch when missing. Atomic: all or none are stored.
  virtual absl::Status AppendUpdates(const inst::BranchNamespace& ns,
                                     const std::vector<std::string>& updates,
                                     int64_t timestamp_ms) = 0;

  // The branch's updates in arrival order ([] for a missing branch).
  virtual absl::StatusOr<std::vector<StoredUpdate>> GetUpdates(
      const inst::BranchNamespace& ns) = 0;

  // Replaces the branch's updates by one (a merged snapshot) when the
  // branch still has exactly `expected_count` updates; returns whether it
  // did. The compaction entry point.
  virtual absl::StatusOr<bool> ReplaceUpdates(const inst::BranchNamespace& ns,
                                              size_t expected_count,
                                              const StoredUpdate& merged) = 0;

  // Deletes the branch and its updates (no error when missing).
  virtual absl::Status DeleteBranch(const inst::BranchNamespace& ns) = 0;

  // The total stored size of the inst's branches (for size limits).
  virtual absl::StatusOr<int64_t> InstSize(const inst::RecordName& record_name,
                                           std::string_view inst) = 0;

  // Deletes every temporary branch: a restarted server has no watchers, so
  // they are all orphaned (7.4).
  virtual absl::Status DeleteTemporaryBranches() = 0;

  // Sessions (the minimal sessions table of the records server).
  virtual absl::StatusOr<std::optional<Session>> GetSession(
      std::string_view user_id, std::string_view session_id) = 0;
  virtual absl::Status PutSession(const Session& session) = 0;

  // Whether any branch of the record inst (record_name, inst) is stored:
  // the records server's "the inst exists" (4.2).
  virtual absl::StatusOr<bool> InstExists(std::string_view record_name,
                                          std::string_view inst) = 0;

  // Group commit (optional): between BeginBatch and CommitBatch the writes
  // may be made durable together, at CommitBatch; each write stays atomic
  // on its own. The server sends nothing that depends on a batched write
  // before CommitBatch returned OK. When CommitBatch fails, none of the
  // batch's writes is kept. Default: every write is durable when it
  // returns, and these do nothing (MemoryStore; a shared store).
  virtual absl::Status BeginBatch() { return absl::OkStatus(); }
  virtual absl::Status CommitBatch() { return absl::OkStatus(); }

  // Per-record grants: the user's grant on the record, nullopt when none.
  virtual absl::StatusOr<std::optional<RecordGrant>> GetGrant(
      std::string_view record_name, std::string_view user_id) = 0;
  // Replaces the user's grant on the record (read = write = false revokes).
  virtual absl::Status PutGrant(const RecordGrant& grant) = 0;
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_STORE_H_
