#include "auxsync/server/memory_store.h"

#include <utility>

namespace auxsync::server {

MemoryStore::Key MemoryStore::KeyOf(const inst::BranchNamespace& ns) {
  return Key(ns.record_name.has_value(), ns.record_name.value_or(""), ns.inst,
             ns.branch);
}

absl::StatusOr<std::optional<BranchInfo>> MemoryStore::GetBranch(
    const inst::BranchNamespace& ns) {
  auto it = branches_.find(KeyOf(ns));
  if (it == branches_.end()) return std::optional<BranchInfo>();
  BranchInfo info = it->second.info;
  info.update_count = static_cast<int64_t>(it->second.updates.size());
  return std::optional<BranchInfo>(info);
}

absl::Status MemoryStore::CreateBranch(const inst::BranchNamespace& ns,
                                       bool temporary) {
  Key key = KeyOf(ns);
  if (!branches_.contains(key)) {
    Branch branch;
    branch.info.temporary = temporary;
    branches_.emplace(std::move(key), std::move(branch));
  }
  return absl::OkStatus();
}

absl::Status MemoryStore::AppendUpdates(const inst::BranchNamespace& ns,
                                        const std::vector<std::string>& updates,
                                        int64_t timestamp_ms) {
  Branch& branch = branches_[KeyOf(ns)];
  for (const std::string& update : updates) {
    branch.updates.push_back(StoredUpdate{update, timestamp_ms});
    branch.info.size_bytes += static_cast<int64_t>(update.size());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StoredUpdate>> MemoryStore::GetUpdates(
    const inst::BranchNamespace& ns) {
  auto it = branches_.find(KeyOf(ns));
  if (it == branches_.end()) return std::vector<StoredUpdate>();
  return it->second.updates;
}

absl::StatusOr<bool> MemoryStore::ReplaceUpdates(
    const inst::BranchNamespace& ns, size_t expected_count,
    const StoredUpdate& merged) {
  auto it = branches_.find(KeyOf(ns));
  if (it == branches_.end() || it->second.updates.size() != expected_count) {
    return false;
  }
  it->second.updates = {merged};
  it->second.info.size_bytes = static_cast<int64_t>(merged.update.size());
  return true;
}

absl::Status MemoryStore::DeleteBranch(const inst::BranchNamespace& ns) {
  branches_.erase(KeyOf(ns));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryStore::InstSize(
    const inst::RecordName& record_name, std::string_view inst) {
  int64_t total = 0;
  for (const auto& [key, branch] : branches_) {
    if (std::get<0>(key) == record_name.has_value() &&
        std::get<1>(key) == record_name.value_or("") &&
        std::get<2>(key) == inst) {
      total += branch.info.size_bytes;
    }
  }
  return total;
}

absl::Status MemoryStore::DeleteTemporaryBranches() {
  std::erase_if(branches_,
                [](const auto& entry) { return entry.second.info.temporary; });
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Session>> MemoryStore::GetSession(
    std::string_view user_id, std::string_view session_id) {
  auto it = sessions_.find({std::string(user_id), std::string(session_id)});
  if (it == sessions_.end()) return std::optional<Session>();
  return std::optional<Session>(it->second);
}

absl::Status MemoryStore::PutSession(const Session& session) {
  sessions_[{session.user_id, session.session_id}] = session;
  return absl::OkStatus();
}

absl::StatusOr<bool> MemoryStore::InstExists(std::string_view record_name,
                                             std::string_view inst) {
  // Branch keys sort by (has record, record, inst, ...): the first key at or
  // after (true, record, inst, "") tells.
  auto it = branches_.lower_bound(
      Key(true, std::string(record_name), std::string(inst), std::string()));
  return it != branches_.end() && std::get<0>(it->first) &&
         std::get<1>(it->first) == record_name &&
         std::get<2>(it->first) == inst;
}

absl::StatusOr<std::optional<RecordGrant>> MemoryStore::GetGrant(
    std::string_view record_name, std::string_view user_id) {
  auto it = grants_.find({std::string(record_name), std::string(user_id)});
  if (it == grants_.end()) return std::optional<RecordGrant>();
  return std::optional<RecordGrant>(it->second);
}

absl::Status MemoryStore::PutGrant(const RecordGrant& grant) {
  std::pair<std::string, std::string> key(grant.record_name, grant.user_id);
  if (!grant.read && !grant.write) {
    grants_.erase(key);
  } else {
    grants_[key] = grant;
  }
  return absl::OkStatus();
}

}  // namespace auxsync::server
