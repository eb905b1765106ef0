#include "auxsync/partitions/yjs_local_persistence.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/update_utils.h"
#include "auxsync/partitions/internal/yjs_local_persistence_crypto.h"

namespace auxsync::partitions {

namespace {

namespace pi = persistence_internal;
using Bytes = std::vector<uint8_t>;

// The file's format; bumped when the schema changes incompatibly.
constexpr int64_t kFormat = 1;
// Plaintext of the key verifier and the associated data of each kind of
// sealed value (a value cannot be moved to another place undetected).
constexpr std::string_view kVerifierText = "auxsync yjs persistence key check";
constexpr std::string_view kAdVerifier = "auxsync/verifier";
constexpr std::string_view kAdUpdate = "auxsync/update";

// Debian's absl::string_view is its own type: StrCat needs it.
absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

absl::Status SqlError(sqlite3* db, std::string_view what) {
  const int code = db != nullptr ? sqlite3_errcode(db) : SQLITE_ERROR;
  std::string msg = absl::StrCat(Sv(what), ": ",
                                 db != nullptr ? sqlite3_errmsg(db) : "no db");
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
    return absl::DataLossError(msg);
  }
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

// A prepared statement, finalized when dropped.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }

  static absl::StatusOr<Stmt> Prepare(sqlite3* db, std::string_view sql) {
    Stmt st;
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st.s_,
                           nullptr) != SQLITE_OK) {
      return SqlError(db, absl::StrCat("preparing \"", Sv(sql), "\""));
    }
    return st;
  }
  sqlite3_stmt* get() const { return s_; }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Bind(int i, std::span<const uint8_t> b) {
    sqlite3_bind_blob64(s_, i, b.data(), b.size(), SQLITE_TRANSIENT);
  }
  void BindText(int i, std::string_view t) {
    sqlite3_bind_text64(s_, i, t.data(), t.size(), SQLITE_TRANSIENT,
                        SQLITE_UTF8);
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  Bytes Blob(int col) const {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s_, col));
    const int n = sqlite3_column_bytes(s_, col);
    return p == nullptr ? Bytes{} : Bytes(p, p + n);
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

absl::Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    absl::Status s = SqlError(db, sql);
    return absl::Status(s.code(), absl::StrCat(sql, ": ", msg));
  }
  return absl::OkStatus();
}

// Rolls back on scope exit unless committed.
class WriteTransaction {
 public:
  explicit WriteTransaction(sqlite3* db) : db_(db) {}
  ~WriteTransaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  absl::Status Begin(bool immediate) {
    absl::Status s = Exec(db_, immediate ? "BEGIN IMMEDIATE" : "BEGIN");
    open_ = s.ok();
    return s;
  }
  absl::Status Commit() {
    absl::Status s = Exec(db_, "COMMIT");
    if (s.ok()) open_ = false;
    return s;
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

// Metadata keys as IndexedDB tells them apart: strings and numbers.
absl::StatusOr<std::string> EncodeKey(const bots::Value& key) {
  if (key.is_string()) return absl::StrCat("s", key.as_string());
  if (key.is_number()) return absl::StrCat("n", bots::ToJsString(key));
  return absl::InvalidArgumentError(
      "a metadata key must be a string or a number");
}

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Associated data of a metadata value: bound to its key.
std::string CustomAd(std::string_view encoded_key) {
  return absl::StrCat("auxsync/custom/", Sv(encoded_key));
}

bool IsPersistenceOrigin(const crdt::Origin& origin,
                         const YjsSqlitePersistence* self) {
  const auto* p = std::any_cast<const YjsSqlitePersistence*>(&origin);
  return p != nullptr && *p == self;
}

}  // namespace

struct YjsSqlitePersistence::Impl {
  std::optional<pi::Keys> keys;
  Stmt insert_update;
  Stmt data_version;
  // Rows this connection wrote that are above last_seen_id_ (written while
  // another connection's rows were still unread): Poll skips them.
  absl::flat_hash_set<int64_t> own_ids;
  // Sealed updates not yet written (see FlushUnstored).
  std::vector<Bytes> unstored;

  absl::StatusOr<Bytes> Unseal(Bytes stored, std::string_view ad) const {
    if (!keys) return stored;
    return keys->Open(stored, ad);
  }
  Bytes Seal(std::span<const uint8_t> plain, std::string_view ad) const {
    if (!keys) return Bytes(plain.begin(), plain.end());
    return keys->Seal(plain, ad);
  }
  // The stored form of a metadata key: hashed when encrypting.
  Bytes LookupKey(std::string_view encoded_key) const {
    if (keys) return keys->Hash(AsBytes(encoded_key));
    return Bytes(encoded_key.begin(), encoded_key.end());
  }
};

YjsSqlitePersistence::YjsSqlitePersistence(std::string path,
                                           YjsSqlitePersistenceOptions options)
    : path_(std::move(path)),
      options_(std::move(options)),
      impl_(std::make_unique<Impl>()) {}

YjsSqlitePersistence::~YjsSqlitePersistence() { Destroy(); }

absl::StatusOr<std::unique_ptr<YjsSqlitePersistence>>
YjsSqlitePersistence::Create(const std::string& path,
                             YjsSqlitePersistenceOptions options) {
  std::unique_ptr<YjsSqlitePersistence> p(
      new YjsSqlitePersistence(path, std::move(options)));
  const YjsSqlitePersistenceOptions& o = p->options_;
  if (sqlite3_open_v2(path.c_str(), &p->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    absl::Status s = SqlError(p->db_, absl::StrCat("opening ", path));
    sqlite3_close_v2(p->db_);
    p->db_ = nullptr;
    return s;
  }
  sqlite3* db = p->db_;
  sqlite3_busy_timeout(db, o.busy_timeout_ms);
  auto fail = [&](absl::Status s) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  };
  // WAL: readers never block the writer, and a crash mid-commit leaves the
  // last committed state.
  if (auto s = Exec(db, "PRAGMA journal_mode=WAL"); !s.ok()) return fail(s);
  if (auto s = Exec(db, o.sync_full ? "PRAGMA synchronous=FULL"
                                    : "PRAGMA synchronous=NORMAL");
      !s.ok()) {
    return fail(s);
  }

  WriteTransaction tr(db);
  if (auto s = tr.Begin(/*immediate=*/true); !s.ok()) return fail(s);
  // A file that holds other tables is somebody else's database.
  {
    auto st = Stmt::Prepare(
        db,
        "SELECT count(*), sum(name = 'auxsync_meta') FROM sqlite_master "
        "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    if (!st.ok()) return fail(st.status());
    if (st->Step() != SQLITE_ROW) return fail(SqlError(db, "reading schema"));
    if (st->Int(0) > 0 && st->Int(1) == 0) {
      return fail(absl::FailedPreconditionError(
          "not an auxsync persistence file (it holds other tables)"));
    }
  }
  if (auto s = Exec(db,
                    "CREATE TABLE IF NOT EXISTS auxsync_meta("
                    "  k TEXT PRIMARY KEY, v BLOB NOT NULL);"
                    "CREATE TABLE IF NOT EXISTS updates("
                    "  id INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT "
                    "NULL);"
                    "CREATE TABLE IF NOT EXISTS custom("
                    "  k BLOB PRIMARY KEY, v BLOB NOT NULL);");
      !s.ok()) {
    return fail(s);
  }
  absl::flat_hash_map<std::string, Bytes> meta;
  {
    auto st = Stmt::Prepare(db, "SELECT k, v FROM auxsync_meta");
    if (!st.ok()) return fail(st.status());
    while (st->Step() == SQLITE_ROW) {
      const auto* k =
          reinterpret_cast<const char*>(sqlite3_column_text(st->get(), 0));
      meta[k != nullptr ? k : ""] = st->Blob(1);
    }
  }
  auto put_meta = [&](std::string_view k, std::span<const uint8_t> v) {
    auto st = Stmt::Prepare(db, "INSERT INTO auxsync_meta(k, v) VALUES(?, ?)");
    if (!st.ok()) return st.status();
    st->BindText(1, k);
    st->Bind(2, v);
    return st->Step() == SQLITE_DONE ? absl::OkStatus()
                                     : SqlError(db, "writing metadata");
  };
  auto meta_int = [&](std::string_view k) -> std::optional<int64_t> {
    auto it = meta.find(std::string(k));
    if (it == meta.end() || it->second.size() != 8) return std::nullopt;
    int64_t v = 0;
    for (uint8_t b : it->second) v = (v << 8) | b;
    return v;
  };
  auto int_bytes = [](int64_t v) {
    Bytes b(8);
    for (int i = 7; i >= 0; --i, v >>= 8) b[i] = static_cast<uint8_t>(v);
    return b;
  };

  if (meta.empty()) {
    // A new file.
    if (auto s = put_meta("format", int_bytes(kFormat)); !s.ok()) {
      return fail(s);
    }
    const bool encrypted = o.encryption_key.has_value();
    if (auto s = put_meta("encrypted", int_bytes(encrypted ? 1 : 0)); !s.ok()) {
      return fail(s);
    }
    if (encrypted) {
      pi::KdfParams params = pi::InteractiveKdfParams();
      if (o.kdf_ops_limit != 0) params.ops_limit = o.kdf_ops_limit;
      if (o.kdf_mem_limit != 0) params.mem_limit = o.kdf_mem_limit;
      Bytes salt = pi::RandomBytes(pi::SaltSize());
      auto keys = pi::Keys::Derive(*o.encryption_key, salt, params);
      if (!keys.ok()) return fail(keys.status());
      Bytes verifier = keys->Seal(AsBytes(kVerifierText), kAdVerifier);
      for (auto s :
           {put_meta("salt", salt),
            put_meta("kdf_ops",
                     int_bytes(static_cast<int64_t>(params.ops_limit))),
            put_meta("kdf_mem",
                     int_bytes(static_cast<int64_t>(params.mem_limit))),
            put_meta("verifier", verifier)}) {
        if (!s.ok()) return fail(s);
      }
      p->impl_->keys = std::move(*keys);
    }
  } else {
    if (meta_int("format") != kFormat) {
      return fail(
          absl::FailedPreconditionError("unsupported persistence file format"));
    }
    const bool encrypted = meta_int("encrypted").value_or(0) != 0;
    if (encrypted && !o.encryption_key) {
      return fail(absl::FailedPreconditionError(
          "the file is encrypted: an encryptionKey is needed to open it"));
    }
    if (!encrypted && o.encryption_key) {
      return fail(absl::FailedPreconditionError(
          "the file was created without encryption; refusing to use an "
          "encryptionKey with it"));
    }
    if (encrypted) {
      auto ops = meta_int("kdf_ops");
      auto mem = meta_int("kdf_mem");
      auto salt = meta.find("salt");
      auto verifier = meta.find("verifier");
      if (!ops || !mem || *ops <= 0 || *mem <= 0 || salt == meta.end() ||
          verifier == meta.end()) {
        return fail(absl::DataLossError("the encryption metadata is damaged"));
      }
      auto keys = pi::Keys::Derive(
          *o.encryption_key, salt->second,
          {static_cast<uint64_t>(*ops), static_cast<uint64_t>(*mem)});
      if (!keys.ok()) return fail(keys.status());
      auto check = keys->Open(verifier->second, kAdVerifier);
      if (!check.ok() ||
          std::string_view(reinterpret_cast<const char*>(check->data()),
                           check->size()) != kVerifierText) {
        return fail(absl::PermissionDeniedError("wrong encryption key"));
      }
      p->impl_->keys = std::move(*keys);
    }
  }
  if (auto s = tr.Commit(); !s.ok()) return fail(s);

  auto ins = Stmt::Prepare(db, "INSERT INTO updates(data) VALUES(?)");
  if (!ins.ok()) return fail(ins.status());
  p->impl_->insert_update = std::move(*ins);
  auto dv = Stmt::Prepare(db, "PRAGMA data_version");
  if (!dv.ok()) return fail(dv.status());
  p->impl_->data_version = std::move(*dv);
  return p;
}

void YjsSqlitePersistence::ReportError(absl::Status status) {
  last_error_ = status;
  if (on_error_) on_error_(status);
}

absl::Status YjsSqlitePersistence::CheckDataVersion(bool* changed) {
  Stmt& st = impl_->data_version;
  st.Reset();
  if (st.Step() != SQLITE_ROW) return SqlError(db_, "PRAGMA data_version");
  const int64_t v = st.Int(0);
  st.Reset();
  *changed = v != data_version_;
  data_version_ = v;
  return absl::OkStatus();
}

absl::Status YjsSqlitePersistence::Open(crdt::Doc& doc) {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError("the persistence was destroyed");
  }
  if (doc_ != nullptr) {
    return absl::FailedPreconditionError("the persistence is already open");
  }
  bool ignored = false;
  if (auto s = CheckDataVersion(&ignored); !s.ok()) return s;
  // Read what is stored and, in the same transaction, add what the document
  // already holds (as upstream does before applying), so that nothing the
  // document had before it was opened is missing from the file.
  std::vector<Bytes> stored;
  {
    WriteTransaction tr(db_);
    if (auto s = tr.Begin(/*immediate=*/true); !s.ok()) return s;
    auto st = Stmt::Prepare(db_, "SELECT id, data FROM updates ORDER BY id");
    if (!st.ok()) return st.status();
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) {
      auto plain = impl_->Unseal(st->Blob(1), kAdUpdate);
      if (!plain.ok()) {
        return absl::Status(plain.status().code(),
                            absl::StrCat(path_, ": stored update ", st->Int(0),
                                         ": ", plain.status().message()));
      }
      stored.push_back(std::move(*plain));
      last_seen_id_ = st->Int(0);
    }
    if (rc != SQLITE_DONE) return SqlError(db_, "reading updates");
    if (!doc.store().clients().empty()) {
      auto state = crdt::EncodeStateAsUpdate(doc);
      if (!state.ok()) return state.status();
      Stmt& ins = impl_->insert_update;
      ins.Reset();
      ins.Bind(1, impl_->Seal(*state, kAdUpdate));
      if (ins.Step() != SQLITE_DONE) return SqlError(db_, "storing the state");
      ins.Reset();
      last_seen_id_ = sqlite3_last_insert_rowid(db_);
    }
    auto count = Stmt::Prepare(db_, "SELECT count(*) FROM updates");
    if (!count.ok()) return count.status();
    if (count->Step() != SQLITE_ROW) return SqlError(db_, "counting updates");
    entry_count_ = static_cast<uint64_t>(count->Int(0));
    if (auto s = tr.Commit(); !s.ok()) return s;
  }
  absl::Status applied = absl::OkStatus();
  const YjsSqlitePersistence* self = this;
  doc.Transact(
      [&](crdt::Transaction&) {
        for (const Bytes& u : stored) {
          absl::Status s = crdt::ApplyUpdate(doc, u, self);
          if (!s.ok() && applied.ok()) applied = s;
        }
      },
      self, /*local=*/false);
  if (!applied.ok()) {
    return absl::DataLossError(absl::StrCat(
        path_, ": a stored update does not decode: ", applied.message()));
  }
  doc_ = &doc;
  update_sub_ = doc.OnUpdate(
      [this](std::span<const uint8_t> update, const crdt::Transaction& tr) {
        if (IsPersistenceOrigin(tr.origin(), this)) return;
        StoreUpdate(update);
      });
  sync_.Next(true);
  if (entry_count_ >= options_.compact_threshold) {
    if (auto s = Compact(); !s.ok()) ReportError(s);
  }
  return absl::OkStatus();
}

void YjsSqlitePersistence::StoreUpdate(std::span<const uint8_t> update) {
  if (db_ == nullptr) return;
  impl_->unstored.push_back(impl_->Seal(update, kAdUpdate));
  if (absl::Status s = FlushUnstored(); !s.ok()) ReportError(s);
}

absl::Status YjsSqlitePersistence::FlushUnstored() {
  // Updates that could not be written (e.g. the write lock stayed busy past
  // the timeout) wait here, in order, and are retried on the next update,
  // Poll() or Compact(), so a passing failure loses nothing.
  size_t done = 0;
  absl::Status status = absl::OkStatus();
  Stmt& ins = impl_->insert_update;
  for (; done < impl_->unstored.size(); ++done) {
    ins.Reset();
    ins.Bind(1, impl_->unstored[done]);
    const int rc = ins.Step();
    ins.Reset();
    if (rc != SQLITE_DONE) {
      status = SqlError(
          db_, absl::StrCat(path_, ": storing an update (",
                            impl_->unstored.size() - done, " waiting)"));
      break;
    }
    const int64_t id = sqlite3_last_insert_rowid(db_);
    // Consecutive ids mean nobody else wrote in between.
    if (id == last_seen_id_ + 1 && impl_->own_ids.empty()) {
      last_seen_id_ = id;
    } else {
      impl_->own_ids.insert(id);
    }
    ++entry_count_;
  }
  impl_->unstored.erase(impl_->unstored.begin(),
                        impl_->unstored.begin() + static_cast<ptrdiff_t>(done));
  if (!status.ok()) return status;
  if (entry_count_ >= options_.compact_threshold) return Compact();
  return absl::OkStatus();
}

size_t YjsSqlitePersistence::unstored_count() const {
  return impl_->unstored.size();
}

absl::Status YjsSqlitePersistence::ApplyNewRows(int64_t after_id) {
  std::vector<Bytes> fresh;
  int64_t max_id = after_id;
  {
    // One read transaction: a consistent snapshot of the rows.
    WriteTransaction tr(db_);
    if (auto s = tr.Begin(/*immediate=*/false); !s.ok()) return s;
    auto st = Stmt::Prepare(
        db_, "SELECT id, data FROM updates WHERE id > ? ORDER BY id");
    if (!st.ok()) return st.status();
    st->Bind(1, after_id);
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) {
      const int64_t id = st->Int(0);
      max_id = id;
      if (impl_->own_ids.contains(id)) continue;
      auto plain = impl_->Unseal(st->Blob(1), kAdUpdate);
      if (!plain.ok()) {
        return absl::Status(plain.status().code(),
                            absl::StrCat(path_, ": stored update ", id, ": ",
                                         plain.status().message()));
      }
      fresh.push_back(std::move(*plain));
    }
    if (rc != SQLITE_DONE) return SqlError(db_, "reading updates");
    auto count = Stmt::Prepare(db_, "SELECT count(*) FROM updates");
    if (!count.ok()) return count.status();
    if (count->Step() != SQLITE_ROW) return SqlError(db_, "counting updates");
    entry_count_ = static_cast<uint64_t>(count->Int(0));
    if (auto s = tr.Commit(); !s.ok()) return s;
  }
  last_seen_id_ = max_id;
  absl::erase_if(impl_->own_ids, [&](int64_t id) { return id <= max_id; });
  if (fresh.empty() || doc_ == nullptr) return absl::OkStatus();
  absl::Status applied = absl::OkStatus();
  const YjsSqlitePersistence* self = this;
  doc_->Transact(
      [&](crdt::Transaction&) {
        for (const Bytes& u : fresh) {
          absl::Status s = crdt::ApplyUpdate(*doc_, u, self);
          if (!s.ok() && applied.ok()) applied = s;
        }
      },
      self, /*local=*/false);
  return applied;
}

absl::Status YjsSqlitePersistence::Poll() {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError("the persistence was destroyed");
  }
  if (doc_ == nullptr) {
    return absl::FailedPreconditionError("the persistence is not open");
  }
  if (absl::Status s = FlushUnstored(); !s.ok()) return s;
  bool changed = false;
  if (auto s = CheckDataVersion(&changed); !s.ok()) return s;
  if (!changed) return absl::OkStatus();
  sync_.Next(false);
  absl::Status s = ApplyNewRows(last_seen_id_);
  if (db_ != nullptr && s.ok()) sync_.Next(true);
  return s;
}

absl::Status YjsSqlitePersistence::Compact() {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError("the persistence was destroyed");
  }
  if (!impl_->unstored.empty()) {
    // Written first (FlushUnstored compacts afterwards when due).
    return FlushUnstored();
  }
  std::vector<Bytes> all;
  std::vector<Bytes> unseen;
  int64_t max_id = 0;
  WriteTransaction tr(db_);
  // IMMEDIATE: no other connection can add a row between reading and
  // deleting, so the merge covers exactly the rows it replaces.
  if (auto s = tr.Begin(/*immediate=*/true); !s.ok()) return s;
  {
    auto st = Stmt::Prepare(db_, "SELECT id, data FROM updates ORDER BY id");
    if (!st.ok()) return st.status();
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) {
      const int64_t id = st->Int(0);
      max_id = id;
      auto plain = impl_->Unseal(st->Blob(1), kAdUpdate);
      if (!plain.ok()) {
        return absl::Status(plain.status().code(),
                            absl::StrCat(path_, ": stored update ", id, ": ",
                                         plain.status().message()));
      }
      if (id > last_seen_id_ && !impl_->own_ids.contains(id)) {
        unseen.push_back(*plain);
      }
      all.push_back(std::move(*plain));
    }
    if (rc != SQLITE_DONE) return SqlError(db_, "reading updates");
  }
  if (all.size() <= 1) {
    entry_count_ = all.size();
    return tr.Commit();
  }
  std::vector<crdt::BytesView> views(all.begin(), all.end());
  auto merged = crdt::MergeUpdates(views);
  if (!merged.ok()) {
    return absl::Status(
        merged.status().code(),
        absl::StrCat(path_, ": compacting: ", merged.status().message()));
  }
  {
    Stmt& ins = impl_->insert_update;
    ins.Reset();
    ins.Bind(1, impl_->Seal(*merged, kAdUpdate));
    const int rc = ins.Step();
    ins.Reset();
    if (rc != SQLITE_DONE) return SqlError(db_, "storing the merged update");
  }
  const int64_t merged_id = sqlite3_last_insert_rowid(db_);
  {
    auto del = Stmt::Prepare(db_, "DELETE FROM updates WHERE id <= ?");
    if (!del.ok()) return del.status();
    del->Bind(1, max_id);
    if (del->Step() != SQLITE_DONE) return SqlError(db_, "deleting updates");
  }
  if (auto s = tr.Commit(); !s.ok()) return s;
  entry_count_ = 1;
  last_seen_id_ = merged_id;
  impl_->own_ids.clear();
  if (unseen.empty() || doc_ == nullptr) return absl::OkStatus();
  // Rows of other connections that were merged before this one read them.
  absl::Status applied = absl::OkStatus();
  const YjsSqlitePersistence* self = this;
  doc_->Transact(
      [&](crdt::Transaction&) {
        for (const Bytes& u : unseen) {
          absl::Status s = crdt::ApplyUpdate(*doc_, u, self);
          if (!s.ok() && applied.ok()) applied = s;
        }
      },
      self, /*local=*/false);
  return applied;
}

absl::StatusOr<bots::Value> YjsSqlitePersistence::Get(const bots::Value& key) {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError("the persistence was destroyed");
  }
  auto k = EncodeKey(key);
  if (!k.ok()) return k.status();
  auto st = Stmt::Prepare(db_, "SELECT v FROM custom WHERE k = ?");
  if (!st.ok()) return st.status();
  st->Bind(1, impl_->LookupKey(*k));
  const int rc = st->Step();
  if (rc == SQLITE_DONE) return bots::Value();
  if (rc != SQLITE_ROW) return SqlError(db_, "reading metadata");
  auto plain = impl_->Unseal(st->Blob(0), CustomAd(*k));
  if (!plain.ok()) return plain.status();
  bots::JsonParseOptions opts;
  opts.decode_tags = true;
  auto v = bots::ParseJson(
      std::string_view(reinterpret_cast<const char*>(plain->data()),
                       plain->size()),
      opts);
  if (!v.ok()) {
    return absl::DataLossError(absl::StrCat(
        "a stored metadata value is damaged: ", v.status().message()));
  }
  return v;
}

absl::Status YjsSqlitePersistence::Set(const bots::Value& key,
                                       const bots::Value& value) {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError("the persistence was destroyed");
  }
  auto k = EncodeKey(key);
  if (!k.ok()) return k.status();
  bots::JsonWriteOptions wo;
  wo.tagged = true;
  const std::string json = bots::ToJson(value, wo);
  auto st =
      Stmt::Prepare(db_, "INSERT OR REPLACE INTO custom(k, v) VALUES(?, ?)");
  if (!st.ok()) return st.status();
  st->Bind(1, impl_->LookupKey(*k));
  st->Bind(2, impl_->Seal(AsBytes(json), CustomAd(*k)));
  if (st->Step() != SQLITE_DONE) return SqlError(db_, "writing metadata");
  return absl::OkStatus();
}

absl::Status YjsSqlitePersistence::Del(const bots::Value& key) {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError("the persistence was destroyed");
  }
  auto k = EncodeKey(key);
  if (!k.ok()) return k.status();
  auto st = Stmt::Prepare(db_, "DELETE FROM custom WHERE k = ?");
  if (!st.ok()) return st.status();
  st->Bind(1, impl_->LookupKey(*k));
  if (st->Step() != SQLITE_DONE) return SqlError(db_, "deleting metadata");
  return absl::OkStatus();
}

void YjsSqlitePersistence::Destroy() {
  update_sub_ = crdt::Subscription();
  doc_ = nullptr;
  if (db_ == nullptr) return;
  if (!impl_->unstored.empty()) {
    if (absl::Status s = FlushUnstored(); !s.ok()) ReportError(s);
  }
  impl_->insert_update = Stmt();
  impl_->data_version = Stmt();
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

absl::Status YjsSqlitePersistence::ClearData() {
  Destroy();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string f = path_ + suffix;
    if (std::remove(f.c_str()) != 0 && suffix[0] == '\0') {
      return absl::InternalError(absl::StrCat("could not delete ", f));
    }
  }
  return absl::OkStatus();
}

std::string YjsSqlitePersistencePath(const std::string& directory,
                                     const std::string& branch) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name;
  for (unsigned char c : branch) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        (c == '.' && !name.empty())) {
      name += static_cast<char>(c);
    } else {
      name += '%';
      name += kHex[c >> 4];
      name += kHex[c & 15];
    }
  }
  // File systems limit names to 255 bytes: keep a readable prefix and make
  // the rest unique with a hash of the whole branch name.
  if (name.size() > 200) {
    const size_t h = std::hash<std::string>()(branch);
    name = absl::StrCat(name.substr(0, 160), "~", absl::Hex(h));
  }
  std::string path = directory;
  if (!path.empty() && path.back() != '/') path += '/';
  return absl::StrCat(path, name, ".sqlite");
}

absl::Status YjsSqliteLocalPersistence::Open(crdt::Doc& doc) {
  if (persistence_ != nullptr) {
    return absl::FailedPreconditionError("the persistence is already open");
  }
  auto p = YjsSqlitePersistence::Create(path_, options_);
  if (!p.ok()) return p.status();
  if (absl::Status s = (*p)->Open(doc); !s.ok()) return s;
  persistence_ = std::move(*p);
  return absl::OkStatus();
}

absl::Status YjsSqliteLocalPersistence::Poll() {
  if (persistence_ == nullptr) {
    return absl::FailedPreconditionError("the persistence is not open");
  }
  return persistence_->Poll();
}

YjsPersistenceFactory MakeYjsSqlitePersistenceFactory(
    std::string directory, YjsSqlitePersistenceOptions options) {
  return [directory = std::move(directory), options = std::move(options)](
             const std::string& branch, const bots::Value& local_persistence)
             -> absl::StatusOr<std::unique_ptr<YjsLocalPersistence>> {
    YjsSqlitePersistenceOptions o = options;
    const bots::Value& key = local_persistence["encryptionKey"];
    if (key.is_string()) {
      if (!key.as_string().empty()) o.encryption_key = key.as_string();
    } else if (!key.is_nullish()) {
      return absl::InvalidArgumentError(
          "localPersistence.encryptionKey must be a string");
    }
    return std::make_unique<YjsSqliteLocalPersistence>(
        YjsSqlitePersistencePath(directory, branch), std::move(o));
  };
}

}  // namespace auxsync::partitions
