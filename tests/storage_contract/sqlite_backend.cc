#include "sqlite_backend.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/uuid.h"
#include "storage/sqlite/schema.h"

namespace tollgate::storage::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A raw connection for the test's back door; closes itself.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) ADD_FAILURE() << "raw open failed: " << sqlite3_errstr(rc);
    if (rc == SQLITE_OK) sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err != nullptr ? err : "");
    sqlite3_free(err);
  }

  std::string Query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db_);
    std::string out;
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(stmt);
      EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db_);
      if (rc == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(stmt, 0);
        if (text != nullptr) out = reinterpret_cast<const char*>(text);
      }
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

SqliteFileBackend::SqliteFileBackend()
    : path_((std::filesystem::temp_directory_path() /
             fmt::format("tollgate-store-test-{}-{}.db", ::getpid(), NewUuid()))
                .string()) {}

SqliteFileBackend::~SqliteFileBackend() {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path_ + suffix, ignored);
  }
}

StoreResult<std::unique_ptr<Store>> SqliteFileBackend::Open(
    std::shared_ptr<const SecretCodec> codec) {
  return OpenStore(uri(), std::move(codec));
}

bool SqliteFileBackend::RawContains(std::string_view needle) {
  // With WAL, recent pages live in the -wal file: search every file of the database.
  for (const char* suffix : {"", "-wal", "-journal"}) {
    if (ReadFile(path_ + suffix).find(needle) != std::string::npos) return true;
  }
  return false;
}

void SqliteFileBackend::BumpSchemaVersion() {
  RawDb db(path_);
  db.Exec(fmt::format("INSERT INTO schema_migrations (version, applied_at) VALUES ({}, 0)",
                      sqlite::LatestSchemaVersion() + 1));
}

void SqliteFileBackend::RawExec(const std::string& sql) { RawDb(path_).Exec(sql); }

std::string SqliteFileBackend::RawQuery(const std::string& sql) { return RawDb(path_).Query(sql); }

StoreResult<std::unique_ptr<Store>> SqliteMemoryBackend::Open(
    std::shared_ptr<const SecretCodec> codec) {
  return OpenStore("sqlite::memory:", std::move(codec));
}

bool SqliteMemoryBackend::RawContains(std::string_view) {
  ADD_FAILURE() << "an in-memory database has no bytes at rest";
  return false;
}

void SqliteMemoryBackend::BumpSchemaVersion() {
  ADD_FAILURE() << "an in-memory database cannot be reopened";
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreContractTest,
    ::testing::Values(BackendParam{"File", [] { return std::make_unique<SqliteFileBackend>(); }},
                      BackendParam{"Memory",
                                   [] { return std::make_unique<SqliteMemoryBackend>(); }}),
    BackendParamName);

}  // namespace tollgate::storage::testing
