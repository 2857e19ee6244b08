#pragma once
// sql::Connection over libpq, private to the PostgreSQL backend (the only place that includes
// libpq-fe.h). Every libpq return code is checked and turned into a StoreError. Parameters are
// sent in binary format with explicit types (text, int8, bool, bytea), results requested in
// binary format and decoded by column type. Dialect: the shared SQL's ?1..?N are sent as $1..$N;
// INSERT ... ON CONFLICT DO NOTHING; write and migration transactions take a
// deployment-wide advisory lock (pg_advisory_xact_lock), so that nodes sharing the database
// write in turn as SQLite's BEGIN IMMEDIATE makes connections to one file do; reads run in
// REPEATABLE READ, READ ONLY transactions (one snapshot).
//
// Thread safety: none. A connection is used by one thread at a time (the pool hands it out).

#include <libpq-fe.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "storage/sql/connection.h"
#include "storage/sql/errors.h"
#include "storage/sql/try.h"
#include "storage/store.h"

namespace tollgate::storage::postgres {

using sql::InternalError;
using sql::UnavailableError;

// libpq's multi-line messages folded into one line ("a; b"), trailing whitespace removed.
std::string OneLine(std::string_view text);

// One owned database connection; closes it on destruction.
class PgConnection final : public sql::Connection {
 public:
  // Connects with `conninfo` (a postgresql:// URI or key=value string). kUnavailable when the
  // server cannot be reached or refuses the login (the message, one line, says which); kInternal
  // for a malformed connection string. Messages never contain the password.
  static StoreResult<PgConnection> Connect(const std::string& conninfo);

  PgConnection() = default;
  PgConnection(PgConnection&&) noexcept = default;
  PgConnection& operator=(PgConnection&&) noexcept = default;

  PGconn* Handle() const { return conn_.get(); }

  const sql::Dialect& dialect() const override;
  // Also kConflict for a unique violation (not reached through the Transaction, which checks
  // uniqueness first).
  StoreResult<std::unique_ptr<sql::Statement>> Query(std::string_view sql,
                                                     std::span<const sql::Value> params) override;
  StoreResult<void> Exec(const char* constant_sql) override;
  // kRead: REPEATABLE READ, READ ONLY; kWrite and kMigrate: BEGIN, then the write or the
  // migration advisory lock; kJti: BEGIN.
  StoreResult<void> Begin(sql::TransactionKind kind) override;
  // An aborted transaction answers COMMIT with a rollback: that is kInternal.
  StoreResult<void> Commit() override;
  bool Rollback() override;
  bool Broken() const override;

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn, &PQfinish) {}

  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_{nullptr, &PQfinish};
};

// Checks the syntax of a connection string without connecting; kInternal with libpq's (one
// line) message when it is malformed.
StoreResult<void> CheckConnectionString(const std::string& conninfo);

}  // namespace tollgate::storage::postgres
