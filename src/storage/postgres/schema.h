#pragma once
// The PostgreSQL backend's versioned schema: its migrations, run by sql::PrepareDatabase. The
// versions mirror the SQLite backend's (1: the configuration, 2: remembered jtis), each with the
// change-feed objects its tables need (docs/decisions/0004-change-feed.md).

#include <cstdint>

#include "storage/sql/migrate.h"

namespace tollgate::storage::postgres {

const sql::Schema& Schema();

// The highest version this build knows.
int64_t LatestSchemaVersion();

// The LISTEN/NOTIFY channels the schema's triggers notify on commit:
// - kConfigChannel: payload "<environment id> <version>" once per changed environment and
//   transaction (the environment's row in config_versions after the change);
// - kJtiChannel: payload "<kind> <seq> <expires_at ms> <environment id> <jti>" per remembered
//   jti, or "<kind> <seq> *" when that would exceed NOTIFY's payload limit.
inline constexpr const char* kConfigChannel = "tollgate_config";
inline constexpr const char* kJtiChannel = "tollgate_jtis";

}  // namespace tollgate::storage::postgres
