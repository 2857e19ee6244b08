#include "storage/sqlite/statement.h"

#include <fmt/format.h>

#include <climits>
#include <utility>

#include "common/log.h"

namespace tollgate::storage::sqlite {

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

Connection::Connection(Connection&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    Connection old(std::exchange(db_, std::exchange(other.db_, nullptr)));
  }
  return *this;
}

Connection::~Connection() {
  if (db_ == nullptr) return;
  int rc = sqlite3_close_v2(db_);
  if (rc != SQLITE_OK) {
    log::Error("sqlite: closing the store failed: {} (code {})", sqlite3_errstr(rc), rc);
  }
}

StoreResult<void> Connection::Exec(const char* constant_sql) const {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, constant_sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string_view sql(constant_sql);
    StoreError e = SqliteError(db_, rc, sql.substr(0, 40));
    sqlite3_free(err);
    return Fail(std::move(e));
  }
  sqlite3_free(err);
  return {};
}

bool Connection::RollbackIfInTransaction() const {
  if (sqlite3_get_autocommit(db_) != 0) return true;  // SQLite already rolled back (or none)
  int rc = sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    log::Error("sqlite: ROLLBACK failed: {} (code {})", sqlite3_errmsg(db_), rc);
  }
  return sqlite3_get_autocommit(db_) != 0;
}

StoreResult<Statement> Statement::Prepare(sqlite3* db, std::string_view sql) {
  if (sql.size() > static_cast<size_t>(INT_MAX)) return Fail(InternalError("SQL text too long"));
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Fail(SqliteError(db, rc, fmt::format("prepare '{}'", sql.substr(0, 60))));
  }
  if (stmt == nullptr) return Fail(InternalError("sqlite: empty statement"));
  return Statement(db, stmt);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_error_(std::move(other.bind_error_)),
      column_error_(other.column_error_),
      done_(other.done_) {}

Statement::~Statement() {
  // sqlite3_finalize repeats the last step's error code, which Step() already reported.
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void Statement::CheckBind(int rc, int index) {
  if (rc != SQLITE_OK && !bind_error_) {
    bind_error_ = SqliteError(db_, rc, fmt::format("bind parameter {}", index));
  }
}

void Statement::BindOne(int index, std::string_view v) {
  if (v.size() > static_cast<size_t>(INT_MAX)) {
    if (!bind_error_) bind_error_ = InternalError("sqlite: text value too long");
    return;
  }
  // An empty string_view may carry a null data pointer, which SQLite would bind as NULL.
  const char* data = v.data() != nullptr ? v.data() : "";
  CheckBind(sqlite3_bind_text(stmt_, index, data, static_cast<int>(v.size()), SQLITE_TRANSIENT),
            index);
}

void Statement::BindOne(int index, int64_t v) {
  CheckBind(sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(v)), index);
}

void Statement::BindOne(int index, const Blob& v) {
  if (v.bytes.size() > static_cast<size_t>(INT_MAX)) {
    if (!bind_error_) bind_error_ = InternalError("sqlite: blob value too long");
    return;
  }
  // sqlite3_bind_blob with a null pointer binds NULL; bind a zero-length blob explicitly.
  if (v.bytes.empty()) {
    CheckBind(sqlite3_bind_zeroblob(stmt_, index, 0), index);
    return;
  }
  CheckBind(sqlite3_bind_blob(stmt_, index, v.bytes.data(), static_cast<int>(v.bytes.size()),
                              SQLITE_TRANSIENT),
            index);
}

void Statement::BindOne(int index, std::nullopt_t) {
  CheckBind(sqlite3_bind_null(stmt_, index), index);
}

void Statement::BindOne(int index, const std::optional<int64_t>& v) {
  if (v) {
    BindOne(index, *v);
  } else {
    BindOne(index, std::nullopt);
  }
}

void Statement::BindOne(int index, const std::optional<Blob>& v) {
  if (v) {
    BindOne(index, *v);
  } else {
    BindOne(index, std::nullopt);
  }
}

StoreResult<bool> Statement::Step() {
  if (bind_error_) return Fail(*bind_error_);
  if (done_) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  done_ = true;
  if (rc == SQLITE_DONE) return false;
  return Fail(SqliteError(
      db_, rc, fmt::format("step '{}'", std::string_view(sqlite3_sql(stmt_)).substr(0, 60))));
}

StoreResult<void> Statement::Run() {
  while (true) {
    TG_STORE_ASSIGN(bool row, Step());
    if (!row) return {};
  }
}

std::string Statement::Text(int col) {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) {
    if (sqlite3_column_type(stmt_, col) != SQLITE_NULL) column_error_ = true;
    return {};
  }
  return {reinterpret_cast<const char*>(p), static_cast<size_t>(n)};
}

std::string Statement::Bytes(int col) {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) {
    // NULL, a zero-length blob, or out of memory.
    if (sqlite3_column_type(stmt_, col) != SQLITE_NULL && n != 0) column_error_ = true;
    return {};
  }
  return {static_cast<const char*>(p), static_cast<size_t>(n)};
}

int64_t Statement::Int(int col) { return static_cast<int64_t>(sqlite3_column_int64(stmt_, col)); }

int32_t Statement::Int32(int col) {
  int64_t v = Int(col);
  if (v < INT32_MIN || v > INT32_MAX) {
    column_error_ = true;
    return 0;
  }
  return static_cast<int32_t>(v);
}

bool Statement::IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::optional<int64_t> Statement::OptionalInt(int col) {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

std::optional<std::string> Statement::OptionalBytes(int col) {
  if (IsNull(col)) return std::nullopt;
  return Bytes(col);
}

StoreResult<void> Statement::ColumnError() const {
  if (column_error_) return Fail(InternalError("sqlite: a column could not be read"));
  return {};
}

}  // namespace tollgate::storage::sqlite
