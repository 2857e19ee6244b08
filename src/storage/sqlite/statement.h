#pragma once
// Thin RAII wrappers over the SQLite C API, private to the SQLite backend (the only place that
// includes sqlite3.h). Every SQLite return code is checked and turned into a StoreError. Values
// reach SQL only as bound parameters; SQL text is only ever built from compile-time constants.
//
// Thread safety: none. A Connection and its Statements are used by one thread at a time; the
// owning SqliteStore serializes access with its mutex.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/sql/errors.h"
#include "storage/sql/try.h"
#include "storage/store.h"

namespace tollgate::storage::sqlite {

using sql::InternalError;

// A StoreError for SQLite result code `rc` from an operation described by `what` (for the log;
// never holds bound values). SQLITE_BUSY/LOCKED/CANTOPEN map to kUnavailable, the rest to
// kInternal.
StoreError SqliteError(sqlite3* db, int rc, std::string_view what);

// An owned database connection; closes it on destruction.
class Connection {
 public:
  Connection() = default;
  explicit Connection(sqlite3* db) : db_(db) {}
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  sqlite3* Handle() const { return db_; }

  // Runs constant SQL text that binds nothing and returns no rows needed by the caller
  // (BEGIN, COMMIT, SAVEPOINT, schema scripts). Never pass text built from values.
  StoreResult<void> Exec(const char* constant_sql) const;

  // Rolls back the open transaction, if any. Returns false only when the connection is still
  // inside a transaction afterwards.
  bool RollbackIfInTransaction() const;

 private:
  sqlite3* db_ = nullptr;
};

// A byte string bound/read as a BLOB (sealed values, DER), as opposed to TEXT.
struct Blob {
  std::string_view bytes;
};

// One prepared statement. Bind errors are remembered and reported by the next Step().
class Statement {
 public:
  static StoreResult<Statement> Prepare(sqlite3* db, std::string_view sql);

  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds ?1..?N to `args` in order. Supported: text (std::string, std::string_view, const
  // char*), int64_t, int32_t, bool, Blob, std::nullopt, and std::optional of int64_t / Blob.
  template <class... A>
  Statement& Bind(const A&... args) {
    int index = 0;
    (BindOne(++index, args), ...);
    return *this;
  }

  // Advances: true when a row is available, false when the statement is done.
  StoreResult<bool> Step();
  // Steps to completion, ignoring any rows.
  StoreResult<void> Run();
  // Steps once: true when the query yields at least one row.
  StoreResult<bool> HasRow() { return Step(); }

  // Columns of the current row. A column that cannot be read (out of memory) is reported by
  // ColumnError() rather than by each accessor.
  std::string Text(int col);
  std::string Bytes(int col);
  int64_t Int(int col);
  int32_t Int32(int col);
  bool Bool(int col) { return Int(col) != 0; }
  bool IsNull(int col);
  std::optional<int64_t> OptionalInt(int col);
  std::optional<std::string> OptionalBytes(int col);
  StoreResult<void> ColumnError() const;

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  void BindOne(int index, std::string_view v);
  void BindOne(int index, const std::string& v) { BindOne(index, std::string_view(v)); }
  void BindOne(int index, const char* v) { BindOne(index, std::string_view(v)); }
  void BindOne(int index, int64_t v);
  void BindOne(int index, int32_t v) { BindOne(index, static_cast<int64_t>(v)); }
  void BindOne(int index, bool v) { BindOne(index, static_cast<int64_t>(v ? 1 : 0)); }
  void BindOne(int index, const Blob& v);
  void BindOne(int index, std::nullopt_t);
  void BindOne(int index, const std::optional<int64_t>& v);
  void BindOne(int index, const std::optional<Blob>& v);
  void CheckBind(int rc, int index);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::optional<StoreError> bind_error_;
  bool column_error_ = false;
  bool done_ = false;
};

}  // namespace tollgate::storage::sqlite
