#pragma once
// The one environment loader of the SQL backends: what Store::LoadAll and LoadEnvironment
// return, read through the row mappers (tables.h). Call it inside a kRead transaction, so that
// everything returned is one consistent snapshot.

#include "common/ids.h"
#include "storage/sql/connection.h"
#include "storage/store.h"

namespace tollgate::storage::sql {

// The organization and every environment with everything in it. kWrongMasterKey when a sealed
// value does not open.
StoreResult<Deployment> LoadDeployment(Connection& db, const SecretCodec& codec);

// One environment with everything in it; kNotFound ("id") when it does not exist.
StoreResult<model::EnvironmentData> LoadEnvironment(Connection& db, const SecretCodec& codec,
                                                    const EnvId& id);

}  // namespace tollgate::storage::sql
