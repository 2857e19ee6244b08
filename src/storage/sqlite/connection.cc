#include "storage/sqlite/connection.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/log.h"
#include "storage/sql/errors.h"
#include "storage/sql/query.h"
#include "storage/sql/try.h"

namespace tollgate::storage::sqlite {
namespace {

using sql::InternalError;

// How long a writer waits for another connection's write transaction before kUnavailable.
constexpr int kBusyTimeoutMillis = 5000;

// A StoreError for SQLite result code `rc` from an operation described by `what` (for the log;
// never holds bound values). SQLITE_BUSY/LOCKED/CANTOPEN map to kUnavailable, the rest to
// kInternal.
StoreError SqliteError(sqlite3* db, int rc, std::string_view what) {
  StoreError e;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
      e.code = StoreErrorCode::kUnavailable;
      break;
    default:
      e.code = StoreErrorCode::kInternal;
      break;
  }
  // sqlite3_errmsg describes the failure, never the bound values.
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  e.message = fmt::format("sqlite: {}: {} (code {})", what, detail != nullptr ? detail : "?", rc);
  return e;
}

// A connection's prepared statements that are not in use, by SQL text, for the next Query of
// the same text (parsing a statement costs about as much as running a small insert). At most
// kMaxIdle; a statement in use is out of it, so two at once of one text each get their own.
struct StatementCache {
  static constexpr size_t kMaxIdle = 64;
  std::unordered_map<std::string, sqlite3_stmt*> idle;

  StatementCache() = default;
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;
  ~StatementCache() {
    for (auto& entry : idle) sqlite3_finalize(entry.second);
  }

  // Reset, unbound, and kept for reuse; finalized when the cache is full or holds the text.
  void Return(std::string sql, sqlite3_stmt* stmt) {
    // sqlite3_reset repeats the last step's error code, which Step() already reported.
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (idle.size() >= kMaxIdle || !idle.try_emplace(std::move(sql), stmt).second) {
      sqlite3_finalize(stmt);
    }
  }
};

// One prepared statement and, once stepped, its current row.
class SqliteStatement final : public sql::Statement, public sql::Row {
 public:
  // Given back to `cache` (under `sql`) when done.
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, StatementCache& cache, std::string sql)
      : Row("sqlite"), db_(db), stmt_(stmt), cache_(cache), sql_(std::move(sql)) {}
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement() override { cache_.Return(std::move(sql_), stmt_); }

  // Binds params[n - 1] to ?n, for every n: the statement must number its parameters ?1..?N,
  // N being the number of values.
  StoreResult<void> BindAll(std::span<const sql::Value> params) {
    const int count = sqlite3_bind_parameter_count(stmt_);
    if (count < 0 || static_cast<size_t>(count) != params.size()) {
      return Fail(InternalError(fmt::format("sqlite: '{}' has {} parameters, {} values given",
                                            SqlForLog(), count, params.size())));
    }
    for (int index = 1; index <= count; ++index) {
      // ?N sits at index N, named "?N". A number the text skips has no name; an anonymous
      // (?) or named (:x, $x) parameter is refused.
      const char* name = sqlite3_bind_parameter_name(stmt_, index);
      if (name == nullptr || name[0] != '?') {
        return Fail(InternalError(fmt::format("sqlite: '{}': parameter {} is not ?{}", SqlForLog(),
                                              name != nullptr ? name : "(none)", index)));
      }
      TG_STORE_TRY(BindOne(index, params[static_cast<size_t>(index - 1)]));
    }
    return {};
  }

  StoreResult<bool> Step() override {
    if (done_) return false;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    done_ = true;
    if (rc == SQLITE_DONE) {
      changes_ = sqlite3_changes(db_);
      return false;
    }
    return Fail(SqliteError(db_, rc, fmt::format("step '{}'", SqlForLog())));
  }

  const sql::Row& row() const override { return *this; }
  int64_t Changes() const override { return changes_; }

  std::string Text(int col) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    if (p == nullptr) {
      if (sqlite3_column_type(stmt_, col) != SQLITE_NULL) MarkColumnError();
      return {};
    }
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(n)};
  }

  std::string Bytes(int col) const override {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    if (p == nullptr) {
      // NULL, a zero-length blob, or out of memory.
      if (sqlite3_column_type(stmt_, col) != SQLITE_NULL && n != 0) MarkColumnError();
      return {};
    }
    return {static_cast<const char*>(p), static_cast<size_t>(n)};
  }

  int64_t Int(int col) const override {
    return static_cast<int64_t>(sqlite3_column_int64(stmt_, col));
  }

  bool Bool(int col) const override { return Int(col) != 0; }

  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  std::string_view SqlForLog() const {
    const char* sql = sqlite3_sql(stmt_);
    return std::string_view(sql != nullptr ? sql : "").substr(0, 60);
  }

  StoreResult<void> Check(int rc, int index) {
    if (rc != SQLITE_OK) {
      return Fail(SqliteError(db_, rc, fmt::format("bind parameter {}", index)));
    }
    return {};
  }

  StoreResult<void> BindOne(int index, const sql::Value& v) {
    if (v.null()) return Check(sqlite3_bind_null(stmt_, index), index);
    switch (v.type()) {
      case sql::Value::Type::kInt:
      case sql::Value::Type::kBool:
        return Check(sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(v.integer())),
                     index);
      case sql::Value::Type::kText: {
        const std::string_view text = v.bytes();
        if (text.size() > static_cast<size_t>(INT_MAX)) {
          return Fail(InternalError("sqlite: text value too long"));
        }
        // An empty string_view may carry a null data pointer, which SQLite would bind as NULL.
        const char* data = text.data() != nullptr ? text.data() : "";
        return Check(
            sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_TRANSIENT),
            index);
      }
      case sql::Value::Type::kBlob: {
        const std::string_view bytes = v.bytes();
        if (bytes.size() > static_cast<size_t>(INT_MAX)) {
          return Fail(InternalError("sqlite: blob value too long"));
        }
        // sqlite3_bind_blob with a null pointer binds NULL; bind a zero-length blob explicitly.
        if (bytes.empty()) return Check(sqlite3_bind_zeroblob(stmt_, index, 0), index);
        return Check(sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                                       SQLITE_TRANSIENT),
                     index);
      }
    }
    return Fail(InternalError("sqlite: unknown value type"));
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  StatementCache& cache_;
  std::string sql_;
  bool done_ = false;
  int64_t changes_ = 0;
};

// An owned database handle; closes it on destruction.
class SqliteConnection final : public sql::Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  ~SqliteConnection() override {
    if (db_ == nullptr) return;
    cache_.reset();  // finalizes the idle statements; none is in use any more
    const int rc = sqlite3_close_v2(db_);
    if (rc != SQLITE_OK) {
      log::Error("sqlite: closing the store failed: {} (code {})", sqlite3_errstr(rc), rc);
    }
  }

  sqlite3* Handle() const { return db_; }

  const sql::Dialect& dialect() const override {
    static constexpr sql::Dialect kDialect{"sqlite", "INSERT OR IGNORE", ""};
    return kDialect;
  }

  StoreResult<std::unique_ptr<sql::Statement>> Query(std::string_view sql,
                                                     std::span<const sql::Value> params) override {
    if (sql.size() > static_cast<size_t>(INT_MAX)) {
      return Fail(InternalError("SQL text too long"));
    }
    std::string text(sql);
    sqlite3_stmt* raw = nullptr;
    if (auto idle = cache_->idle.find(text); idle != cache_->idle.end()) {
      raw = idle->second;
      cache_->idle.erase(idle);
    } else {
      const char* tail = nullptr;
      const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                        SQLITE_PREPARE_PERSISTENT, &raw, &tail);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(raw);
        return Fail(SqliteError(db_, rc, fmt::format("prepare '{}'", sql.substr(0, 60))));
      }
      if (raw == nullptr) return Fail(InternalError("sqlite: empty statement"));
    }
    auto stmt = std::make_unique<SqliteStatement>(db_, raw, *cache_, std::move(text));
    TG_STORE_TRY(stmt->BindAll(params));
    return std::unique_ptr<sql::Statement>(std::move(stmt));
  }

  StoreResult<void> Exec(const char* constant_sql) override {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, constant_sql, nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) {
      return Fail(SqliteError(db_, rc, std::string_view(constant_sql).substr(0, 40)));
    }
    return {};
  }

  StoreResult<void> Begin(sql::TransactionKind kind) override {
    // A read transaction takes its snapshot at its first read; writers take the file's write
    // lock at once, waiting up to the busy timeout for another connection's writer.
    return Exec(kind == sql::TransactionKind::kRead ? "BEGIN" : "BEGIN IMMEDIATE");
  }

  StoreResult<void> Commit() override { return Exec("COMMIT"); }

  bool Rollback() override {
    if (sqlite3_get_autocommit(db_) != 0) return true;  // SQLite already rolled back (or none)
    const int rc = sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      log::Error("sqlite: ROLLBACK failed: {} (code {})", sqlite3_errmsg(db_), rc);
    }
    return sqlite3_get_autocommit(db_) != 0;
  }

  bool Broken() const override { return false; }

 private:
  sqlite3* const db_;
  std::unique_ptr<StatementCache> cache_ = std::make_unique<StatementCache>();
};

// Reads the single-row result of a PRAGMA as text.
StoreResult<std::string> PragmaText(sql::Connection& db, const char* pragma) {
  TG_STORE_ASSIGN(auto stmt, sql::Query(db, pragma));
  TG_STORE_ASSIGN(bool row, stmt->Step());
  if (!row) return Fail(InternalError(fmt::format("sqlite: '{}' returned no row", pragma)));
  std::string value = stmt->row().Text(0);
  TG_STORE_TRY(stmt->row().ColumnError());
  return value;
}

StoreResult<void> Configure(SqliteConnection& db, bool in_memory) {
  int rc = sqlite3_extended_result_codes(db.Handle(), 1);
  if (rc != SQLITE_OK) return Fail(SqliteError(db.Handle(), rc, "enable extended result codes"));
  rc = sqlite3_busy_timeout(db.Handle(), kBusyTimeoutMillis);
  if (rc != SQLITE_OK) return Fail(SqliteError(db.Handle(), rc, "set busy timeout"));

  TG_STORE_TRY(db.Exec("PRAGMA foreign_keys = ON"));
  TG_STORE_ASSIGN(std::string foreign_keys, PragmaText(db, "PRAGMA foreign_keys"));
  if (foreign_keys != "1") {
    return Fail(InternalError("sqlite: foreign keys cannot be enabled in this SQLite build"));
  }

  // Durable writes: WAL with an fsync at every commit.
  TG_STORE_ASSIGN(std::string journal_mode, PragmaText(db, "PRAGMA journal_mode = WAL"));
  const std::string expected_mode = in_memory ? "memory" : "wal";
  if (journal_mode != expected_mode) {
    return Fail(InternalError(
        fmt::format("sqlite: could not switch to WAL (journal mode is '{}')", journal_mode)));
  }
  TG_STORE_TRY(db.Exec("PRAGMA synchronous = FULL"));
  TG_STORE_ASSIGN(std::string synchronous, PragmaText(db, "PRAGMA synchronous"));
  if (synchronous != "2") {
    return Fail(InternalError("sqlite: could not set synchronous = FULL"));
  }
  return {};
}

}  // namespace

StoreResult<std::unique_ptr<sql::Connection>> OpenConnection(const std::string& path) {
  const bool in_memory = path == ":memory:";
  if (!in_memory) {
    // The file holds sealed secrets and everything else: readable by its owner only. SQLite
    // gives the -wal and -shm files the mode of the database file.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
    } else if (errno != EEXIST) {
      return Fail(StoreError{
          StoreErrorCode::kUnavailable,
          fmt::format("sqlite: cannot create '{}': {}", path, std::strerror(errno)), ""});
    }
  }
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto db = std::make_unique<SqliteConnection>(raw);  // closes the handle even when opening failed
  if (rc != SQLITE_OK) return Fail(SqliteError(raw, rc, fmt::format("open '{}'", path)));
  TG_STORE_TRY(Configure(*db, in_memory));
  return std::unique_ptr<sql::Connection>(std::move(db));
}

}  // namespace tollgate::storage::sqlite
