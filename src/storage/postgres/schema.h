#pragma once
// Versioned schema of the PostgreSQL backend. The versions mirror the SQLite backend's (1: the
// configuration, 2: remembered jtis), each with the change-feed objects its tables need. The
// applied versions are recorded in `schema_migrations(version, applied_at)`; the database's
// version is the highest one there.

#include <cstdint>
#include <span>

#include "storage/postgres/pg.h"
#include "storage/store.h"

namespace tollgate::storage::postgres {

struct Migration {
  int64_t version;
  const char* sql;  // constant schema script; runs inside the migration transaction
};

// All migrations this build knows, ascending by version (1, 2, ...).
std::span<const Migration> Migrations();

// The highest version this build knows.
int64_t LatestSchemaVersion();

// The LISTEN/NOTIFY channels the schema's triggers notify on commit:
// - kConfigChannel: payload "<environment id> <version>" once per changed environment and
//   transaction (the environment's row in config_versions after the change);
// - kJtiChannel: payload "<kind> <seq> <expires_at ms> <environment id> <jti>" per remembered
//   jti, or "<kind> <seq> *" when that would exceed NOTIFY's payload limit.
inline constexpr const char* kConfigChannel = "tollgate_config";
inline constexpr const char* kJtiChannel = "tollgate_jtis";

// Brings the schema to LatestSchemaVersion(). Must be called inside an open transaction that
// holds the migration lock (the caller commits or rolls back). Errors: kSchemaTooNew when the
// database records a version above LatestSchemaVersion() (nothing is changed); kUnavailable /
// kInternal from PostgreSQL.
StoreResult<void> Migrate(const Connection& db, int64_t now_unix_millis);

}  // namespace tollgate::storage::postgres
