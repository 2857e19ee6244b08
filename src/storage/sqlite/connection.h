#pragma once
// sql::Connection over the SQLite C API, private to the SQLite backend: connection.cc is the one
// file that includes sqlite3.h. Every SQLite return code is checked and turned into a
// StoreError. Dialect: parameters are SQLite's own ?1..?N; booleans are INTEGER 0/1; INSERT OR
// IGNORE; a read transaction is BEGIN, every other kind BEGIN IMMEDIATE (the file's write lock,
// waited for up to the busy timeout).
//
// Thread safety: none. A connection and its statements are used by one thread at a time; the
// owning SqliteStore serializes access with its mutex.

#include <memory>
#include <string>

#include "storage/sql/connection.h"
#include "storage/store.h"

namespace tollgate::storage::sqlite {

// Opens (creating it, readable by its owner only, if needed) the database file at `path`, or a
// private in-memory database for ":memory:", and configures the connection: extended result
// codes, a busy timeout, foreign keys, WAL with synchronous=FULL (every commit durable).
// Errors: kUnavailable when the file cannot be created or opened; kInternal when it is not a
// database or the configuration does not take.
StoreResult<std::unique_ptr<sql::Connection>> OpenConnection(const std::string& path);

}  // namespace tollgate::storage::sqlite
