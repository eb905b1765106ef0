// A Store in process memory: for tests and `auxsync serve --store memory`.
// Nothing survives the process. Not thread-safe (see store.h).

#ifndef AUXSYNC_SERVER_MEMORY_STORE_H_
#define AUXSYNC_SERVER_MEMORY_STORE_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "auxsync/server/store.h"

namespace auxsync::server {

class MemoryStore : public Store {
 public:
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

 private:
  // (has record, record name, inst, branch): a null record name sorts apart
  // from every string.
  using Key = std::tuple<bool, std::string, std::string, std::string>;
  struct Branch {
    BranchInfo info;
    std::vector<StoredUpdate> updates;
  };
  static Key KeyOf(const inst::BranchNamespace& ns);

  std::map<Key, Branch> branches_;
  std::map<std::pair<std::string, std::string>, Session> sessions_;
  // (record name, user id) -> grant.
  std::map<std::pair<std::string, std::string>, RecordGrant> grants_;
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_MEMORY_STORE_H_
