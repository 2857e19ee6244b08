#pragma once
// The neutral database interface the shared SQL layer (src/storage/sql/) is written against.
// Each backend implements it over its client library: sqlite/statement.h over sqlite3.h,
// postgres/pg.h over libpq-fe.h. Nothing here names either library.
//
// SQL text given to Query is written once for both backends: parameters are numbered `?1`..`?N`
// (bound in order to the values given; SQLite's spelling, which the PostgreSQL backend turns into
// its `$1`..`$N`), and only syntax both engines accept is used, save what Dialect spells (see
// docs/decisions/0006-one-sql-layer.md). Values reach SQL only as bound parameters; SQL
// text is only ever built from compile-time constants.
//
// Thread safety: none. A Connection, and the Statements it returns, are used by one thread at a
// time (the owning store hands the connection out for one call).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace tollgate::storage::sql {

// A byte string bound and read as binary (BLOB in SQLite, bytea in PostgreSQL): sealed values,
// DER. Text values are bound from string types instead.
struct Blob {
  std::string_view bytes;
};

// One parameter value: a typed view of the caller's data, valid while the call that binds it
// runs. Built implicitly from text (std::string, std::string_view, const char*), int64_t,
// int32_t, bool, Blob, and std::optional<int64_t> / std::optional<Blob> /
// std::optional<std::string_view> (empty: a NULL of that type).
class Value {
 public:
  enum class Type { kText, kInt, kBool, kBlob };

  Value(std::string_view v) : type_(Type::kText), bytes_(v) {}             // NOLINT
  Value(const std::string& v) : Value(std::string_view(v)) {}              // NOLINT
  Value(const char* v) : Value(std::string_view(v)) {}                     // NOLINT
  Value(int64_t v) : type_(Type::kInt), int_(v) {}                         // NOLINT
  Value(int32_t v) : Value(static_cast<int64_t>(v)) {}                     // NOLINT
  Value(bool v) : type_(Type::kBool), int_(v ? 1 : 0) {}                   // NOLINT
  Value(Blob v) : type_(Type::kBlob), bytes_(v.bytes) {}                   // NOLINT
  Value(const std::optional<int64_t>& v) : type_(Type::kInt), null_(!v) {  // NOLINT
    if (v) int_ = *v;
  }
  Value(const std::optional<Blob>& v) : type_(Type::kBlob), null_(!v) {  // NOLINT
    if (v) bytes_ = v->bytes;
  }
  Value(const std::optional<std::string_view>& v) : type_(Type::kText), null_(!v) {  // NOLINT
    if (v) bytes_ = *v;
  }

  Type type() const { return type_; }
  bool null() const { return null_; }
  // kText and kBlob.
  std::string_view bytes() const { return bytes_; }
  // kInt; kBool as 0 or 1.
  int64_t integer() const { return int_; }

 private:
  Type type_;
  bool null_ = false;
  std::string_view bytes_;
  int64_t int_ = 0;
};

// The current row of a Statement. Readers never fail one by one: a column that cannot be read
// as asked (no such column, NULL where a value is required, another type, out of range, out of
// memory) reads as empty or 0 and makes ColumnError() fail; check it after reading a row.
class Row {
 public:
  virtual ~Row() = default;
  virtual std::string Text(int col) const = 0;
  virtual std::string Bytes(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual bool Bool(int col) const = 0;
  virtual bool IsNull(int col) const = 0;

  int32_t Int32(int col) const;
  std::optional<int64_t> OptionalInt(int col) const;
  std::optional<std::string> OptionalBytes(int col) const;
  // kInternal once any column of any row of the statement could not be read.
  StoreResult<void> ColumnError() const;

 protected:
  // `backend` ("sqlite", "postgres") prefixes the ColumnError message.
  explicit Row(std::string_view backend) : backend_(backend) {}
  void MarkColumnError() const { column_error_ = true; }

 private:
  std::string_view backend_;
  mutable bool column_error_ = false;
};

// One statement being run, its parameters bound.
class Statement {
 public:
  virtual ~Statement() = default;
  // Advances to the next row: true when row() holds one, false when the statement is done.
  virtual StoreResult<bool> Step() = 0;
  // The current row, after Step() returned true.
  virtual const Row& row() const = 0;
  // Rows inserted, updated or deleted by the statement, once Step() returned false.
  virtual int64_t Changes() const = 0;
};

// What a transaction is for; each backend begins it with its own locking.
enum class TransactionKind {
  // A consistent snapshot to read from.
  kRead,
  // A management write (Store::Write): serialized with every other one of the deployment, on
  // every node, so that the checks the Transaction makes before a change hold until commit.
  kWrite,
  // Remembering jtis: a write that needs no serialization with management writes.
  kJti,
  // Appending audit activities: serialized with every other append of the deployment (so that
  // the order they are numbered in is the order they commit in), not with management writes.
  kActivities,
  // Migrating the schema at open: serialized with every other node that migrates.
  kMigrate,
};

// How an engine spells what the shared SQL cannot write one way for both.
struct Dialect {
  // "sqlite" or "postgres", for messages.
  std::string_view name;
  // An INSERT that skips a row conflicting with a uniqueness constraint is written
  // `<insert_ignoring_conflicts> INTO ...<ignoring_conflicts_end>`: SQLite's INSERT OR IGNORE
  // (PostgreSQL has no such form), PostgreSQL's ON CONFLICT DO NOTHING (SQLite parses it more
  // slowly than OR IGNORE).
  std::string_view insert_ignoring_conflicts;
  std::string_view ignoring_conflicts_end;
};

class Connection {
 public:
  virtual ~Connection() = default;

  virtual const Dialect& dialect() const = 0;

  // Starts running `sql`, one statement whose parameters ?1..?N take `params` in order (their
  // count must match). kUnavailable when the database cannot be reached (or is locked for too
  // long), kInternal otherwise; errors while running are reported by Statement::Step.
  virtual StoreResult<std::unique_ptr<Statement>> Query(std::string_view sql,
                                                        std::span<const Value> params) = 0;
  // Runs constant SQL text without parameters (SAVEPOINT, schema scripts; may hold several
  // statements). Never pass text built from values.
  virtual StoreResult<void> Exec(const char* constant_sql) = 0;

  // Begins a transaction of `kind`, taking the locks it needs. On failure no transaction is
  // left open and nothing was written.
  virtual StoreResult<void> Begin(TransactionKind kind) = 0;
  // Commits, checking that the database did commit. kUnavailable when the connection was lost
  // during the commit, whose outcome is then unknown.
  virtual StoreResult<void> Commit() = 0;
  // Rolls back the open transaction, if any. False when the connection is still inside a
  // transaction afterwards, or lost.
  virtual bool Rollback() = 0;
  // True once the connection is known to be lost; it is then never used again.
  virtual bool Broken() const = 0;
};

}  // namespace tollgate::storage::sql
