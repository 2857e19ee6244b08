#pragma once
// The SQLite backend of Store: one database file in WAL mode, every commit fsynced
// (synchronous=FULL), foreign keys enforced. One connection per Store, serialized by a mutex.
// Does not include sqlite3.h.

#include <memory>
#include <string>

#include "storage/store.h"

namespace tollgate::storage::sqlite {

// Opens (creating if needed) the database at `path` (":memory:" for a private in-memory
// database), applies pending migrations, and checks the master key. Errors:
// - kSchemaTooNew: the database records a schema version above what this build knows;
// - kWrongMasterKey: the database was initialized under a master key that `codec` does not hold;
// - kUnavailable: the file cannot be opened or stays locked beyond the busy timeout;
// - kInternal: anything else (not a database, SQLite without foreign keys, null codec...).
// `codec` must not be null; the store keeps it for its lifetime.
//
// Contract additions of this backend: a Write body must not call back into the same Store
// (such a call fails with kInternal); several Stores may be open on the same file (in this or
// other processes), writers wait up to the busy timeout for each other.
StoreResult<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                    std::shared_ptr<const SecretCodec> codec);

}  // namespace tollgate::storage::sqlite
