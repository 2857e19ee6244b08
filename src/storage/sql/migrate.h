#pragma once
// Opening a database for a Store: versioned migrations and the master-key check, the same for
// every SQL backend; the migrations themselves are each backend's own (sqlite/schema.cc,
// postgres/schema.cc). The applied versions are recorded in `schema_migrations(version,
// applied_at)`; the database's version is the highest one there.

#include <cstdint>
#include <span>

#include "storage/sql/connection.h"
#include "storage/store.h"

namespace tollgate::storage::sql {

struct Migration {
  int64_t version;
  const char* sql;  // constant schema script; runs inside the migration transaction
};

struct Schema {
  // CREATE TABLE IF NOT EXISTS schema_migrations (version ... PRIMARY KEY, applied_at ...), in
  // the backend's types.
  const char* create_migrations_table;
  // Every migration the build knows, ascending by version (1, 2, ...). Applied ones are never
  // changed or renumbered.
  std::span<const Migration> migrations;

  // The highest version this build knows.
  int64_t LatestVersion() const { return migrations.back().version; }
};

// In one kMigrate transaction: brings the schema to schema.LatestVersion(), then seals the
// master-key check value into `meta` at the first open, or checks it at every later one.
// Errors: kSchemaTooNew when the database records a version above LatestVersion() (nothing is
// changed); kWrongMasterKey when the check value does not open under `codec`; kUnavailable /
// kInternal from the database. Nothing is kept on failure.
StoreResult<void> PrepareDatabase(Connection& db, const Schema& schema, const SecretCodec& codec,
                                  int64_t now_unix_millis);

}  // namespace tollgate::storage::sql
