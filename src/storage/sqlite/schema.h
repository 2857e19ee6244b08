#pragma once
// Versioned schema of the SQLite backend. The applied versions are recorded in the table
// `schema_migrations(version, applied_at)`; the database's version is the highest one there.

#include <cstdint>
#include <span>

#include "storage/sqlite/statement.h"
#include "storage/store.h"

namespace tollgate::storage::sqlite {

struct Migration {
  int64_t version;
  const char* sql;  // constant schema script; runs inside the migration transaction
};

// All migrations this build knows, ascending by version (1, 2, ...).
std::span<const Migration> Migrations();

// The highest version this build knows.
int64_t LatestSchemaVersion();

// Brings the schema to LatestSchemaVersion(). Must be called inside an open write transaction
// (the caller commits or rolls back). Errors: kSchemaTooNew when the database records a version
// above LatestSchemaVersion() (nothing is changed); kUnavailable / kInternal from SQLite.
StoreResult<void> Migrate(const Connection& db, int64_t now_unix_millis);

}  // namespace tollgate::storage::sqlite
