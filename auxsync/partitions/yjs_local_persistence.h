// Local persistence of a Yjs document in an SQLite file (WAL), where
// CasualOS's YjsIndexedDBPersistence uses IndexedDB (spec/partitions.md
// section 8.11; checklist group M). One file per branch.
//
// What it keeps: every update of the document, appended as it happens, and
// compacted into one update (crdt::MergeUpdates, in one SQLite transaction)
// once the file holds `compact_threshold` entries; plus free key/value
// metadata (get/set/del). With an encryption key every stored update and
// metadata value is sealed with XChaCha20-Poly1305 under a key derived from
// the passphrase with Argon2id and a random per-file salt; metadata keys are
// stored as keyed hashes. A stored verifier makes a wrong key a clear error.
//
// Several persistences (in this or other processes) may share one file:
// each sees the others' updates when Poll() runs. Poll() compares SQLite's
// `PRAGMA data_version` (which changes when another connection commits) and
// only then reads the rows it has not seen; it costs one cheap query when
// nothing changed, so an owner can call it on every turn of its event loop
// or from a timer (CasualOS re-reads on a BroadcastChannel message).
//
// Durability: each update is committed in its own transaction before the
// update handler returns, so a process crash (kill -9) at any instant loses
// nothing that was committed and never corrupts the file (WAL). With
// `sync_full` every commit is also fsynced (survives power loss; slower).
//
// Threading: an object belongs to the thread of its Doc. Not copyable.

#ifndef AUXSYNC_PARTITIONS_YJS_LOCAL_PERSISTENCE_H_
#define AUXSYNC_PARTITIONS_YJS_LOCAL_PERSISTENCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auxsync/bots/value.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/partitions/yjs_partition.h"
#include "auxsync/rx/behavior_subject.h"

struct sqlite3;

namespace auxsync::partitions {

struct YjsSqlitePersistenceOptions {
  // The passphrase; nullopt stores in clear. A file created with a key
  // needs the same key to open, a file created without refuses one.
  std::optional<std::string> encryption_key;
  // Entries after which the file is compacted (upstream PREFERRED_TRIM_SIZE).
  size_t compact_threshold = 500;
  // fsync every commit (PRAGMA synchronous=FULL) instead of NORMAL.
  bool sync_full = false;
  // Argon2id costs for a *new* encrypted file (existing files keep theirs).
  // 0 = libsodium's interactive costs (64 MiB). Tests use the minimum.
  uint64_t kdf_ops_limit = 0;
  uint64_t kdf_mem_limit = 0;
  // How long to wait for another connection's write lock (milliseconds).
  int busy_timeout_ms = 5000;
};

class YjsSqlitePersistence {
 public:
  // Opens or creates the file at `path` (no document yet). Errors: the file
  // cannot be opened or is not a persistence file; it is encrypted and no
  // key or a wrong key was given; a key was given for a clear file.
  static absl::StatusOr<std::unique_ptr<YjsSqlitePersistence>> Create(
      const std::string& path, YjsSqlitePersistenceOptions options = {});

  ~YjsSqlitePersistence();
  YjsSqlitePersistence(const YjsSqlitePersistence&) = delete;
  YjsSqlitePersistence& operator=(const YjsSqlitePersistence&) = delete;

  // Binds `doc` (which must outlive this object or Destroy()): stores the
  // document's current state if it has any, applies every stored update in
  // one non-local transaction whose origin is this object, subscribes to
  // the document's updates, then reports sync. Errors: already opened or
  // destroyed; a stored update does not decrypt or decode (the document is
  // then left without the stored content and sync stays false).
  absl::Status Open(crdt::Doc& doc);

  // Applies the updates other connections committed since the last read
  // (one non-local transaction, origin this object). Cheap when nothing
  // changed. While reading, sync is false, as upstream on a broadcast.
  absl::Status Poll();

  // Merges every stored update into one (one transaction; nothing is lost:
  // the merge covers exactly the rows it deletes). Runs by itself as soon as
  // the entry count reaches the threshold (upstream debounces it by 1000 ms;
  // a synchronous partition has no timer, and the cost is the same).
  absl::Status Compact();

  // Metadata (upstream `custom` store). Keys are strings or numbers (4 and
  // "4" are different keys, as in IndexedDB); values are any Value that
  // tagged JSON can hold. Get returns undefined for a missing key.
  absl::StatusOr<bots::Value> Get(const bots::Value& key);
  absl::Status Set(const bots::Value& key, const bots::Value& value);
  absl::Status Del(const bots::Value& key);

  // Stops listening to the document and closes the file. Idempotent. After
  // it Open/Poll fail and sync never becomes true.
  void Destroy();
  // Destroy() and delete the file (and its WAL/SHM side files).
  absl::Status ClearData();

  // Whether the stored updates have been loaded (upstream onSyncChanged).
  rx::BehaviorSubject<bool>& OnSyncChanged() { return sync_; }
  bool synced() const { return sync_.value(); }
  bool destroyed() const { return db_ == nullptr; }
  // Entries currently in the file as last counted (upstream dbsize).
  uint64_t entry_count() const { return entry_count_; }
  // Updates of the document that could not be written yet (the file was
  // locked past busy_timeout_ms, the disk was full, ...). They are kept in
  // order and retried on the next update, Poll(), Compact() and Destroy().
  size_t unstored_count() const;
  // Errors while storing an update from the document's update handler
  // (which cannot return one); also passed to `on_error` when set.
  const absl::Status& last_error() const { return last_error_; }
  void set_on_error(std::function<void(const absl::Status&)> f) {
    on_error_ = std::move(f);
  }
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  YjsSqlitePersistence(std::string path, YjsSqlitePersistenceOptions options);
  void StoreUpdate(std::span<const uint8_t> update);
  absl::Status FlushUnstored();
  absl::Status ApplyNewRows(int64_t after_id);
  absl::Status CheckDataVersion(bool* changed);
  void ReportError(absl::Status status);

  std::string path_;
  YjsSqlitePersistenceOptions options_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Impl> impl_;
  crdt::Doc* doc_ = nullptr;
  crdt::Subscription update_sub_;
  rx::BehaviorSubject<bool> sync_{false};
  int64_t last_seen_id_ = 0;  // highest row applied to (or written by) us
  int64_t data_version_ = -1;
  uint64_t entry_count_ = 0;
  absl::Status last_error_;
  std::function<void(const absl::Status&)> on_error_;
};

// The file that holds `branch` inside `directory`: the branch name with
// every byte outside [A-Za-z0-9._-] percent-encoded (so distinct branches
// never share a file), plus ".sqlite"; names that would be too long for a
// file system end in a hash instead.
std::string YjsSqlitePersistencePath(const std::string& directory,
                                     const std::string& branch);

// The YjsPartition seam (YjsLocalPersistence) on this persistence. Open()
// opens the file and loads it into the document; Poll() picks up other
// connections' updates (the owner calls it from its loop). Owns the
// persistence; Destroy() on destruction.
class YjsSqliteLocalPersistence : public YjsLocalPersistence {
 public:
  YjsSqliteLocalPersistence(std::string path,
                            YjsSqlitePersistenceOptions options)
      : path_(std::move(path)), options_(std::move(options)) {}
  // Errors: those of YjsSqlitePersistence::Create and Open (wrong key,
  // foreign file, undecodable update).
  absl::Status Open(crdt::Doc& doc) override;
  // YjsSqlitePersistence::Poll(); FailedPrecondition before Open().
  absl::Status Poll() override;
  // Null until Open() succeeded.
  YjsSqlitePersistence* persistence() { return persistence_.get(); }

 private:
  std::string path_;
  YjsSqlitePersistenceOptions options_;
  std::unique_ptr<YjsSqlitePersistence> persistence_;
};

// A YjsPersistenceFactory for YjsPartitionConfig::persistence_factory: one
// file per branch in `directory` (which must exist). The localPersistence
// object's `encryptionKey` (a string; absent, null or "" = none) is the
// passphrase; `options` gives everything else. Errors: an encryptionKey
// that is not a string.
YjsPersistenceFactory MakeYjsSqlitePersistenceFactory(
    std::string directory, YjsSqlitePersistenceOptions options = {});

}  // namespace auxsync::partitions

#endif  // AUXSYNC_PARTITIONS_YJS_LOCAL_PERSISTENCE_H_
