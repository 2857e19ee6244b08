#pragma once
// Small helpers over sql::Connection: run a statement with its arguments, check whether it
// yields a row, walk its rows. Arguments are anything sql::Value is built from.

#include <fmt/format.h>

#include <array>
#include <memory>
#include <string_view>
#include <utility>

#include "storage/sql/connection.h"
#include "storage/sql/errors.h"
#include "storage/sql/try.h"

namespace tollgate::storage::sql {

// Starts running `sql` with `args` bound to ?1..?N.
template <class... A>
StoreResult<std::unique_ptr<Statement>> Query(Connection& db, std::string_view sql,
                                              const A&... args) {
  const std::array<Value, sizeof...(A)> values{Value(args)...};
  return db.Query(sql, values);
}

// Runs `sql` to completion, ignoring any rows; returns the number of rows it changed.
template <class... A>
StoreResult<int64_t> ExecuteCounting(Connection& db, std::string_view sql, const A&... args) {
  TG_STORE_ASSIGN(auto stmt, Query(db, sql, args...));
  while (true) {
    TG_STORE_ASSIGN(bool row, stmt->Step());
    if (!row) return stmt->Changes();
  }
}

// Runs `sql` to completion, ignoring any rows.
template <class... A>
StoreResult<void> Execute(Connection& db, std::string_view sql, const A&... args) {
  TG_STORE_TRY(ExecuteCounting(db, sql, args...));
  return {};
}

// True when the query yields at least one row.
template <class... A>
StoreResult<bool> HasRow(Connection& db, std::string_view sql, const A&... args) {
  TG_STORE_ASSIGN(auto stmt, Query(db, sql, args...));
  return stmt->Step();
}

// Fails with `error` when the query yields a row.
template <class... A>
StoreResult<void> FailIfRow(Connection& db, StoreError error, std::string_view sql,
                            const A&... args) {
  TG_STORE_ASSIGN(bool row, HasRow(db, sql, args...));
  if (row) return Fail(std::move(error));
  return {};
}

// Fails with `error` when the query yields no row.
template <class... A>
StoreResult<void> FailIfNoRow(Connection& db, StoreError error, std::string_view sql,
                              const A&... args) {
  TG_STORE_ASSIGN(bool row, HasRow(db, sql, args...));
  if (!row) return Fail(std::move(error));
  return {};
}

// Runs a DELETE/UPDATE of one row by key; kNotFound on "id" (naming `what`) when no row changed.
template <class... A>
StoreResult<void> ChangeOneRow(Connection& db, std::string_view what, std::string_view sql,
                               const A&... args) {
  TG_STORE_ASSIGN(int64_t changed, ExecuteCounting(db, sql, args...));
  if (changed == 0) return Fail(NotFound("id", fmt::format("no such {}", what)));
  return {};
}

// Calls `f(row)` (returning StoreResult<void>) for each row of `stmt`, stopping at the first
// error, including a column that could not be read.
template <class F>
StoreResult<void> ForEachRow(Statement& stmt, F&& f) {
  while (true) {
    TG_STORE_ASSIGN(bool row, stmt.Step());
    if (!row) return {};
    TG_STORE_TRY(f(stmt.row()));
    TG_STORE_TRY(stmt.row().ColumnError());
  }
}

}  // namespace tollgate::storage::sql
