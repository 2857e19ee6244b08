#pragma once
// The one Transaction of the SQL backends: the rules of store.h's Transaction (uniqueness,
// references, the cascades the schema's foreign keys do not express), each call under a
// savepoint so that a failed call leaves the rest of the transaction as it was.

#include <functional>

#include "storage/sql/connection.h"
#include "storage/store.h"

namespace tollgate::storage::sql {

// Runs a Store::Write body on `db`, which must be inside a kWrite transaction; the caller
// commits when this succeeds and rolls back otherwise. kInternal when the body throws (the
// exception is not logged: its text may hold anything) or when a failed call could not be
// undone; otherwise the body's own result.
StoreResult<void> RunWriteBody(Connection& db, const SecretCodec& codec,
                               const std::function<StoreResult<void>(Transaction&)>& body);

}  // namespace tollgate::storage::sql
