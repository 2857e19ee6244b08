#pragma once
// Thin RAII wrappers over libpq, private to the PostgreSQL backend (the only place that includes
// libpq-fe.h). Every libpq return code is checked and turned into a StoreError. Values reach SQL
// only as bound parameters (binary format, explicit types); SQL text is only ever built from
// compile-time constants. Results are requested in binary format and decoded by column type.
//
// Thread safety: none. A Connection is used by one thread at a time (the pool hands it out).

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/sql/errors.h"
#include "storage/sql/try.h"
#include "storage/store.h"

namespace tollgate::storage::postgres {

using sql::InternalError;
using sql::UnavailableError;

// libpq's multi-line messages folded into one line ("a; b"), trailing whitespace removed.
std::string OneLine(std::string_view text);

// A byte string bound/read as bytea (sealed values, DER), as opposed to text.
struct Bytea {
  std::string_view bytes;
};

// Bound parameters $1..$N, all in binary format with explicit types.
class Params {
 public:
  template <class... A>
  explicit Params(const A&... args) {
    (Add(args), ...);
  }

  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return pointers_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }
  // Set when a value could not be bound (too long); reported by the query.
  const std::optional<StoreError>& error() const { return error_; }

 private:
  void Add(std::string_view v);
  void Add(const std::string& v) { Add(std::string_view(v)); }
  void Add(const char* v) { Add(std::string_view(v)); }
  void Add(int64_t v);
  void Add(int32_t v) { Add(static_cast<int64_t>(v)); }
  void Add(bool v);
  void Add(const Bytea& v);
  void Add(std::nullopt_t);
  void Add(const std::optional<int64_t>& v);
  void Add(const std::optional<Bytea>& v);
  void Push(Oid type, std::optional<std::string> bytes);

  // Each value owns its bytes; pointers_ is rebuilt after every Push.
  std::vector<std::unique_ptr<std::string>> values_;
  std::vector<Oid> types_;
  std::vector<const char*> pointers_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::optional<StoreError> error_;
};

// The rows of one successful query, in binary format. Column readers decode by the column's
// type; a column of an unexpected type or size is reported by ColumnError().
class Rows {
 public:
  Rows() = default;
  explicit Rows(PGresult* result) : result_(result, &PQclear) {}

  int count() const { return result_ ? PQntuples(result_.get()) : 0; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t affected() const;

  std::string Text(int row, int col) const;
  std::string Bytes(int row, int col) const { return Text(row, col); }
  int64_t Int(int row, int col) const;
  int32_t Int32(int row, int col) const;
  bool Bool(int row, int col) const;
  bool IsNull(int row, int col) const;
  std::optional<int64_t> OptionalInt(int row, int col) const;
  std::optional<std::string> OptionalBytes(int row, int col) const;
  StoreResult<void> ColumnError() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_{nullptr, &PQclear};
  mutable bool column_error_ = false;
};

// One owned database connection; closes it on destruction.
class Connection {
 public:
  // Connects with `conninfo` (a postgresql:// URI or key=value string). kUnavailable when the
  // server cannot be reached or refuses the login (the message, one line, says which); kInternal
  // for a malformed connection string. Messages never contain the password.
  static StoreResult<Connection> Connect(const std::string& conninfo);

  Connection() = default;
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;

  PGconn* Handle() const { return conn_.get(); }
  // True once libpq has seen the connection fail; such a connection is never reused.
  bool Broken() const;

  // Runs `sql` with `params`. kUnavailable when the connection is lost (or the server is shutting
  // down), kConflict for a unique violation, kInternal otherwise.
  StoreResult<Rows> Query(std::string_view sql, const Params& params) const;
  template <class... A>
  StoreResult<Rows> Run(std::string_view sql, const A&... args) const {
    return Query(sql, Params(args...));
  }
  // Runs constant SQL text without parameters (BEGIN, COMMIT, SAVEPOINT, schema scripts; may
  // hold several statements). Never pass text built from values.
  StoreResult<void> Exec(const char* constant_sql) const;

  // COMMIT, checking that the server did commit (an aborted transaction answers COMMIT with a
  // rollback). kUnavailable when the connection was lost: the outcome is then unknown.
  StoreResult<void> Commit() const;

  // Rolls back the open transaction, if any. Returns false when the connection is still inside a
  // transaction afterwards (or is broken).
  bool RollbackIfInTransaction() const;

 private:
  explicit Connection(PGconn* conn) : conn_(conn, &PQfinish) {}

  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_{nullptr, &PQfinish};
};

// Checks the syntax of a connection string without connecting; kInternal with libpq's (one
// line) message when it is malformed.
StoreResult<void> CheckConnectionString(const std::string& conninfo);

}  // namespace tollgate::storage::postgres
