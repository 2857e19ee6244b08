#pragma once
// The SQLite backend's versioned schema: its migrations, run by sql::PrepareDatabase.

#include <cstdint>

#include "storage/sql/migrate.h"

namespace tollgate::storage::sqlite {

const sql::Schema& Schema();

// The highest version this build knows.
int64_t LatestSchemaVersion();

}  // namespace tollgate::storage::sqlite
