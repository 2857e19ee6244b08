#pragma once
// The PostgreSQL backend's change feed (docs/decisions/0004-change-feed.md): a dedicated
// connection that LISTENs to the channels the schema's triggers notify (schema.h).

#include <memory>
#include <string>
#include <vector>

#include "storage/sql/connection.h"
#include "storage/store.h"

namespace tollgate::storage::postgres {

// Connects to `conninfo` and starts listening; kUnavailable when the server cannot be reached.
StoreResult<std::unique_ptr<ChangeSource>> OpenChangeSource(const std::string& conninfo);

// The current version of every environment that was ever changed (ChangeSource::Versions).
StoreResult<std::vector<EnvironmentVersion>> LoadVersions(sql::Connection& db);

}  // namespace tollgate::storage::postgres
