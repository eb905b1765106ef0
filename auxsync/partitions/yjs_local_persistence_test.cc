// Checklist group M (aux-common yjs/YjsIndexedDBPersistence.spec.ts) on the
// SQLite persistence, plus encryption, cross-process sharing and crash
// safety.

#include "auxsync/partitions/yjs_local_persistence.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/runtime_values.h"
#include "auxsync/crdt/encoding.h"
#include "gtest/gtest.h"

namespace auxsync::partitions {
namespace {

using crdt::Doc;

// The database files of one test process, in a directory of its own under
// the test's temp dir that is removed when the process exits (ctest runs
// each test in its own process; forked children leave with _exit, so they
// never remove it).
class TempFiles {
 public:
  TempFiles()
      : dir_(
            absl::StrCat(::testing::TempDir(), "/auxsync_persist_", getpid())) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::create_directories(dir_, ec);
  }
  ~TempFiles() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;

  const std::string& dir() const { return dir_; }
  // A path no earlier call returned.
  std::string Path(std::string_view name) {
    return absl::StrCat(dir_, "/", counter_++, "_", std::string(name),
                        ".sqlite");
  }

 private:
  std::string dir_;
  std::atomic<int> counter_{0};
};

TempFiles& Files() {
  static TempFiles files;
  return files;
}

// A fresh file path under the test's temp dir.
std::string TempPath(std::string_view name) { return Files().Path(name); }

YjsSqlitePersistenceOptions Fast(std::optional<std::string> key = {}) {
  YjsSqlitePersistenceOptions o;
  o.encryption_key = std::move(key);
  o.kdf_ops_limit = 1;     // crypto_pwhash_OPSLIMIT_MIN
  o.kdf_mem_limit = 8192;  // crypto_pwhash_MEMLIMIT_MIN
  return o;
}

std::unique_ptr<YjsSqlitePersistence> MustCreate(
    const std::string& path, YjsSqlitePersistenceOptions o = Fast()) {
  auto p = YjsSqlitePersistence::Create(path, std::move(o));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

int64_t CountRows(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM updates", -1, &st, nullptr);
  int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
  std::string out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The document content the tests compare: one shared text.
std::string TextOf(Doc& doc) { return doc.GetText("text").ToString(); }

void Append(Doc& doc, std::string_view s) {
  auto text = doc.GetText("text");
  text.InsertUtf8(text.Length(), s);
}

TEST(YjsSqlitePersistence, M1_MetadataGetSet) {
  for (bool encrypted : {false, true}) {
    SCOPED_TRACE(encrypted);
    const std::string path = TempPath("m1");
    auto p = MustCreate(
        path, Fast(encrypted ? std::optional<std::string>("k") : std::nullopt));
    ASSERT_TRUE(p->Set("a", 4).ok());
    ASSERT_TRUE(p->Set(4, "meta!").ok());
    auto obj = bots::ParseJson(R"({"a":4})");
    ASSERT_TRUE(p->Set("obj", *obj).ok());
    EXPECT_EQ(bots::ToJson(*p->Get("a")), "4");
    EXPECT_EQ(bots::ToJson(*p->Get(4)), "\"meta!\"");
    EXPECT_EQ(bots::ToJson(*p->Get("obj")), R"({"a":4})");
    // 4 and "4" are different keys, as in IndexedDB.
    EXPECT_TRUE(p->Get("4")->is_undefined());
    ASSERT_TRUE(p->Del(4).ok());
    EXPECT_TRUE(p->Get(4)->is_undefined());
    EXPECT_FALSE(p->Set(bots::Value(true), 1).ok());
    // Survives reopening.
    p.reset();
    auto q = MustCreate(
        path, Fast(encrypted ? std::optional<std::string>("k") : std::nullopt));
    EXPECT_EQ(bots::ToJson(*q->Get("obj")), R"({"a":4})");
  }
}

TEST(YjsSqlitePersistence, M2_DestroyedBeforeLoadNeverSyncs) {
  const std::string path = TempPath("m2");
  auto p = MustCreate(path);
  std::vector<bool> seen;
  auto sub = p->OnSyncChanged().Subscribe([&](bool s) { seen.push_back(s); });
  p->Destroy();
  Doc doc;
  EXPECT_EQ(p->Open(doc).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(seen, std::vector<bool>{false});
  EXPECT_FALSE(p->synced());
}

TEST(YjsSqlitePersistence, M3_TwoPersistencesOnOneFileSeeEachOther) {
  const std::string path = TempPath("m3");
  Doc doc1, doc2;
  auto p1 = MustCreate(path);
  auto p2 = MustCreate(path);
  ASSERT_TRUE(p1->Open(doc1).ok());
  ASSERT_TRUE(p2->Open(doc2).ok());
  EXPECT_TRUE(p1->synced());
  EXPECT_TRUE(p2->synced());
  Append(doc1, "012");
  ASSERT_TRUE(p2->Poll().ok());
  EXPECT_EQ(TextOf(doc2), "012");
  EXPECT_EQ(TextOf(doc2), TextOf(doc1));
  // And back, with nothing re-applied to the writer.
  Append(doc2, "3");
  ASSERT_TRUE(p1->Poll().ok());
  EXPECT_EQ(TextOf(doc1), "0123");
  ASSERT_TRUE(p1->Poll().ok());
  EXPECT_EQ(TextOf(doc1), "0123");
}

TEST(YjsSqlitePersistence, M4_LoadIsNonLocalAndCompactsPast500) {
  const std::string path = TempPath("m4");
  Doc doc1;
  auto p1 = MustCreate(path);
  ASSERT_TRUE(p1->Open(doc1).ok());
  Append(doc1, "0");

  Doc doc2;
  bool load_local = true;
  bool load_origin_is_p2 = false;
  std::vector<bool> sync_when_loaded;
  auto p2 = MustCreate(path);
  auto sub = doc2.OnAfterTransaction([&](const crdt::Transaction& tr) {
    if (tr.after_state().empty()) return;
    load_local = tr.local();
    const auto* o = std::any_cast<const YjsSqlitePersistence*>(&tr.origin());
    load_origin_is_p2 = o != nullptr && *o == p2.get();
    sync_when_loaded.push_back(p2->synced());
  });
  ASSERT_TRUE(p2->Open(doc2).ok());
  sub = crdt::Subscription();
  EXPECT_FALSE(load_local);
  EXPECT_TRUE(load_origin_is_p2);
  // The loaded content arrives before sync is reported.
  EXPECT_EQ(sync_when_loaded, std::vector<bool>{false});
  EXPECT_EQ(TextOf(doc2), "0");

  for (int i = 1; i <= 600; ++i) {
    Append(doc1, "x");
    // The 500th entry compacts the file to one.
    if (i == 499) {
      EXPECT_EQ(CountRows(path), 1);
    }
  }
  // 601 updates were written: the file was compacted once at 500 entries
  // and then grew by the later updates.
  EXPECT_LT(CountRows(path), 110);
  ASSERT_TRUE(p1->Compact().ok());
  EXPECT_EQ(CountRows(path), 1);
  EXPECT_EQ(p1->entry_count(), 1u);
  ASSERT_TRUE(p2->Poll().ok());
  EXPECT_EQ(TextOf(doc2), TextOf(doc1));
  // A third document loads the compacted file to the same content.
  Doc doc3;
  auto p3 = MustCreate(path);
  ASSERT_TRUE(p3->Open(doc3).ok());
  EXPECT_EQ(TextOf(doc3), TextOf(doc1));
}

TEST(YjsSqlitePersistence, M5_ConcurrentWritersCompactAndConverge) {
  const std::string path = TempPath("m5");
  Doc doc1, doc2;
  auto p1 = MustCreate(path);
  auto p2 = MustCreate(path);
  ASSERT_TRUE(p1->Open(doc1).ok());
  ASSERT_TRUE(p2->Open(doc2).ok());
  for (int i = 0; i < 700; ++i) {
    Append(doc1, "a");
    Append(doc2, "b");
    if (i % 37 == 0) {
      ASSERT_TRUE(p1->Poll().ok());
      ASSERT_TRUE(p2->Poll().ok());
    }
  }
  ASSERT_TRUE(p1->Poll().ok());
  ASSERT_TRUE(p2->Poll().ok());
  ASSERT_TRUE(p1->Compact().ok());
  ASSERT_TRUE(p2->Poll().ok());
  EXPECT_LT(CountRows(path), 10);
  EXPECT_EQ(TextOf(doc1), TextOf(doc2));
  EXPECT_EQ(doc1.GetText("text").Length(), 1400u);
  Doc doc3;
  auto p3 = MustCreate(path);
  ASSERT_TRUE(p3->Open(doc3).ok());
  EXPECT_EQ(TextOf(doc3), TextOf(doc1));
}

TEST(YjsSqlitePersistence, ReopenRestoresAndStoresPriorContent) {
  const std::string path = TempPath("reopen");
  {
    Doc doc;
    doc.GetMap("bots").Set("before", crdt::Input::Map());
    auto p = MustCreate(path);
    ASSERT_TRUE(p->Open(doc).ok());
    doc.GetMap("bots").Set("after", crdt::Input::Map());
    doc.GetText("t").InsertUtf8(0, "hello");
  }
  Doc doc;
  auto p = MustCreate(path);
  ASSERT_TRUE(p->Open(doc).ok());
  EXPECT_EQ(doc.GetMap("bots").Keys(),
            (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(doc.GetText("t").ToString(), "hello");
  EXPECT_EQ(p->Open(doc).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(YjsSqlitePersistence, EncryptionHidesContentAndChecksTheKey) {
  const std::string path = TempPath("enc");
  const std::string secret = "very-secret-tag-value-0123456789";
  {
    Doc doc;
    auto p = MustCreate(path, Fast("correct horse"));
    ASSERT_TRUE(p->Open(doc).ok());
    Append(doc, secret);
    ASSERT_TRUE(p->Set("note", secret + "-meta").ok());
  }
  // Neither the update nor the metadata value nor its key is in the clear.
  std::string bytes = ReadFile(path) + ReadFile(path + "-wal");
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(bytes.find("note"), std::string::npos);

  auto wrong = YjsSqlitePersistence::Create(path, Fast("wrong horse"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("wrong encryption key"),
            std::string::npos);
  auto none = YjsSqlitePersistence::Create(path, Fast());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);

  Doc doc;
  auto p = MustCreate(path, Fast("correct horse"));
  ASSERT_TRUE(p->Open(doc).ok());
  EXPECT_EQ(TextOf(doc), secret);
  EXPECT_EQ(bots::ToJson(*p->Get("note")), "\"" + secret + "-meta\"");
}

TEST(YjsSqlitePersistence, KeyForAClearFileIsRefused) {
  const std::string path = TempPath("clear");
  { MustCreate(path); }
  auto p = YjsSqlitePersistence::Create(path, Fast("key"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(YjsSqlitePersistence, TamperedUpdateIsAnErrorNotGarbage) {
  const std::string path = TempPath("tamper");
  {
    Doc doc;
    auto p = MustCreate(path, Fast("k"));
    ASSERT_TRUE(p->Open(doc).ok());
    doc.GetMap("m").Set("x", crdt::Input::Map());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE updates SET data = "
                         "substr(data, 1, 30) || x'00' || substr(data, 32)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Doc doc;
  auto p = MustCreate(path, Fast("k"));
  absl::Status s = p->Open(doc);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_FALSE(p->synced());
  EXPECT_TRUE(doc.GetMap("m").Keys().empty());
}

TEST(YjsSqlitePersistence, ForeignFilesAreRefused) {
  const std::string junk = TempPath("junk");
  {
    std::ofstream f(junk, std::ios::binary);
    f << std::string(4096, 'x');
  }
  auto a = YjsSqlitePersistence::Create(junk, Fast());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find(junk), std::string::npos);

  const std::string other = TempPath("other");
  sqlite3* db = nullptr;
  sqlite3_open(other.c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto b = YjsSqlitePersistence::Create(other, Fast());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("not an auxsync persistence file"),
            std::string::npos);
}

// Runs `child` in a forked process (its exit code is its result).
pid_t Fork(const std::function<int()>& child) {
  const pid_t pid = fork();
  if (pid == 0) _exit(child());
  return pid;
}

TEST(YjsSqlitePersistence, SeesUpdatesOfAnotherProcess) {
  const std::string path = TempPath("xproc");
  Doc doc;
  auto p = MustCreate(path, Fast("k"));
  ASSERT_TRUE(p->Open(doc).ok());
  const pid_t pid = Fork([&] {
    Doc child_doc;
    auto cp = YjsSqlitePersistence::Create(path, Fast("k"));
    if (!cp.ok() || !(*cp)->Open(child_doc).ok()) return 1;
    for (int i = 0; i < 50; ++i) {
      child_doc.GetMap("m").Set(absl::StrCat("c", i), crdt::Input::Map());
    }
    return 0;
  });
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(p->Poll().ok());
  EXPECT_EQ(doc.GetMap("m").Keys().size(), 50u);
}

// The child writes one map entry per update, compacting every 40 entries,
// and reports each index on the pipe after its commit returned. The parent
// kills it with SIGKILL at a random instant; every reported index must then
// be in the file, and the file must pass PRAGMA integrity_check.
TEST(YjsSqlitePersistence, KillNineNeverLosesACommittedUpdate) {
  const std::string path = TempPath("crash");
  std::mt19937 rng(12345);
  int64_t next = 0;
  int64_t committed_max = -1;
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE(round);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const int64_t start = next;
    const pid_t pid = Fork([&] {
      close(fds[0]);
      Doc doc;
      YjsSqlitePersistenceOptions o = Fast("crash-key");
      o.compact_threshold = 40;
      auto p = YjsSqlitePersistence::Create(path, o);
      if (!p.ok() || !(*p)->Open(doc).ok()) return 3;
      for (int64_t i = start;; ++i) {
        doc.GetMap("m").Set(absl::StrCat("k", i), crdt::Input::Map());
        if (!(*p)->last_error().ok()) return 4;
        if (write(fds[1], &i, sizeof(i)) != sizeof(i)) return 5;
      }
    });
    close(fds[1]);
    // Wait for the child's first commit (opening under load can be slow),
    // then let it run for a random time.
    int64_t v = 0;
    ASSERT_EQ(read(fds[0], &v, sizeof(v)), static_cast<ssize_t>(sizeof(v)))
        << "the child failed before its first commit";
    committed_max = std::max(committed_max, v);
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(30, 250)(rng)));
    kill(pid, SIGKILL);
    while (read(fds[0], &v, sizeof(v)) == sizeof(v)) {
      committed_max = std::max(committed_max, v);
    }
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "child exited early with " << WEXITSTATUS(status);
    EXPECT_EQ(IntegrityCheck(path), "ok");
    Doc doc;
    YjsSqlitePersistenceOptions o = Fast("crash-key");
    auto p = YjsSqlitePersistence::Create(path, o);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE((*p)->Open(doc).ok());
    auto m = doc.GetMap("m");
    for (int64_t i = 0; i <= committed_max; ++i) {
      ASSERT_TRUE(m.Has(absl::StrCat("k", i))) << "lost update " << i;
    }
    RecordProperty(absl::StrCat("round", round, "_committed"),
                   static_cast<int>(committed_max + 1 - start));
    next = committed_max + 1;
    // The next round continues after what this one committed (an update
    // written but not yet reported may also be there; it is overwritten).
    ASSERT_GE(committed_max, start) << "the child made no progress";
  }
}

// Three writers on one file in random interleavings of edits, polls,
// compactions (threshold 25) and restarts with a fresh document: every one
// converges to the same text, and a fresh load of the file holds it all.
TEST(YjsSqlitePersistence, RandomInterleavingsConverge) {
  for (int seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(seed);
    const std::string path = TempPath("interleave");
    YjsSqlitePersistenceOptions o =
        Fast(seed % 2 ? std::optional<std::string>("k") : std::nullopt);
    o.compact_threshold = 25;
    std::mt19937 rng(seed);
    struct Writer {
      std::unique_ptr<Doc> doc;
      std::unique_ptr<YjsSqlitePersistence> p;
    };
    std::vector<Writer> w(3);
    auto restart = [&](Writer& x) {
      x.p.reset();
      x.doc = std::make_unique<Doc>();
      x.p = MustCreate(path, o);
      ASSERT_TRUE(x.p->Open(*x.doc).ok());
    };
    for (auto& x : w) restart(x);
    size_t written = 0;
    for (int step = 0; step < 1500; ++step) {
      Writer& x = w[rng() % 3];
      const unsigned op = rng() % 100;
      if (op < 70) {
        auto text = x.doc->GetText("text");
        text.InsertUtf8(rng() % (text.Length() + 1), "x");
        ++written;
      } else if (op < 90) {
        ASSERT_TRUE(x.p->Poll().ok());
      } else if (op < 97) {
        ASSERT_TRUE(x.p->Compact().ok());
      } else {
        // A restart: what this writer had is all in the file already.
        restart(x);
      }
      ASSERT_TRUE(x.p->last_error().ok()) << x.p->last_error();
    }
    for (auto& x : w) ASSERT_TRUE(x.p->Poll().ok());
    Doc fresh;
    auto p = MustCreate(path, o);
    ASSERT_TRUE(p->Open(fresh).ok());
    EXPECT_EQ(fresh.GetText("text").Length(), written);
    for (auto& x : w) EXPECT_EQ(TextOf(*x.doc), TextOf(fresh));
    EXPECT_LE(p->entry_count(), 26u);
  }
}

// A write that fails (the file stays locked by another connection past the
// busy timeout) is kept and written later, in order.
TEST(YjsSqlitePersistence, UpdatesWaitWhileTheFileIsLocked) {
  const std::string path = TempPath("busy");
  YjsSqlitePersistenceOptions o = Fast();
  o.busy_timeout_ms = 20;
  Doc doc;
  auto p = MustCreate(path, o);
  ASSERT_TRUE(p->Open(doc).ok());
  Append(doc, "a");
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  Append(doc, "b");
  Append(doc, "c");
  EXPECT_EQ(p->unstored_count(), 2u);
  EXPECT_EQ(p->last_error().code(), absl::StatusCode::kUnavailable)
      << p->last_error();
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(other);
  Append(doc, "d");
  EXPECT_EQ(p->unstored_count(), 0u);
  p.reset();
  Doc reloaded;
  auto q = MustCreate(path);
  ASSERT_TRUE(q->Open(reloaded).ok());
  EXPECT_EQ(TextOf(reloaded), "abcd");
}

TEST(YjsSqlitePersistence, BranchFileNames) {
  EXPECT_EQ(YjsSqlitePersistencePath("/d", "main"), "/d/main.sqlite");
  EXPECT_EQ(YjsSqlitePersistencePath("/d/", "a/b c"), "/d/a%2Fb%20c.sqlite");
  EXPECT_EQ(YjsSqlitePersistencePath("d", ".."), "d/%2E..sqlite");
  EXPECT_EQ(YjsSqlitePersistencePath("d", ""), "d/.sqlite");
  EXPECT_LT(YjsSqlitePersistencePath("d", std::string(1000, 'x')).size(), 220u);
}

// The seam end to end: a YjsPartition with localPersistence keeps its bots
// across restarts, encrypted, and reports them before sync.
std::unique_ptr<YjsPartition> MakePartition(const bots::Value& json,
                                            YjsPersistenceFactory factory) {
  auto config = YjsPartitionConfig::FromValue(json);
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return nullptr;
  config->persistence_factory = std::move(factory);
  return std::make_unique<YjsPartition>(std::move(*config));
}

TEST(YjsSqlitePersistence, YjsPartitionKeepsBotsAcrossRestarts) {
  const std::string dir = Files().dir();
  const std::string branch = "branch";
  auto config = bots::ParseJson(absl::StrCat(
      R"({"type":"yjs","branch":")", branch,
      R"(","localPersistence":{"saveToIndexedDb":true,"encryptionKey":"pass"}})"));
  ASSERT_TRUE(config.ok());
  YjsSqlitePersistenceOptions options = Fast();
  {
    auto partition =
        MakePartition(*config, MakeYjsSqlitePersistenceFactory(dir, options));
    ASSERT_NE(partition, nullptr);
    partition->Connect();
    auto r = partition->ApplyEvents({bots::BotAdded(bots::CreateBot(
        "bot1", *bots::ParseJson(R"({"color":"red","n":1})")))});
    ASSERT_TRUE(r.ok()) << r.status();
  }
  std::vector<std::string> log;
  auto partition =
      MakePartition(*config, MakeYjsSqlitePersistenceFactory(dir, options));
  ASSERT_NE(partition, nullptr);
  auto added = partition->OnBotsAdded([&](const std::vector<bots::Value>& b) {
    for (const auto& bot : b) log.push_back("added " + bots::ToJson(bot));
  });
  auto errors = partition->OnError(
      [&](const bots::Value& e) { log.push_back("error " + bots::ToJson(e)); });
  auto status = partition->OnStatusUpdated([&](const bots::Value& s) {
    if (s["type"].is_string() && s["type"].as_string() == "sync") {
      log.push_back("sync");
    }
  });
  partition->Connect();
  EXPECT_EQ(
      log, (std::vector<std::string>{
               R"(added {"id":"bot1","tags":{"color":"red","n":1}})", "sync"}));
  // The file does not hold the tag value in the clear.
  const std::string path = YjsSqlitePersistencePath(dir, branch);
  const std::string bytes = ReadFile(path) + ReadFile(path + "-wal");
  EXPECT_EQ(bytes.find("color"), std::string::npos);

  // A wrong key: the partition reports the error and syncs empty.
  auto wrong = bots::ParseJson(absl::StrCat(
      R"({"type":"yjs","branch":")", branch,
      R"(","localPersistence":{"saveToIndexedDb":true,"encryptionKey":"nope"}})"));
  auto other =
      MakePartition(*wrong, MakeYjsSqlitePersistenceFactory(dir, options));
  ASSERT_NE(other, nullptr);
  std::vector<std::string> errs;
  auto sub = other->OnError([&](const bots::Value& e) {
    const auto* err = e.is_host()
                          ? dynamic_cast<const bots::ErrorObject*>(&e.as_host())
                          : nullptr;
    errs.push_back(err != nullptr ? err->message() : bots::ToJson(e));
  });
  other->Connect();
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("wrong encryption key"), std::string::npos) << errs[0];
  EXPECT_EQ(bots::ToJson(other->state()), "{}");
}

}  // namespace
}  // namespace auxsync::partitions
