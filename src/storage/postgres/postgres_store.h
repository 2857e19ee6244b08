#pragma once
// The PostgreSQL backend of Store: several Tollgate nodes share one database. A small pool of
// libpq connections serves the Store's calls; every Write is one transaction that holds a
// deployment-wide advisory lock (writes are serialized across nodes, as SQLite serializes them
// within one file), and reads run in REPEATABLE READ transactions (one consistent snapshot).
// Triggers keep a change counter per environment and notify the change feed at commit
// (OpenChangeSource, see schema.h and docs/decisions/0004-change-feed.md).
// Does not include libpq-fe.h.

#include <memory>
#include <string>

#include "storage/store.h"

namespace tollgate::storage::postgres {

// Connects to `conninfo` (a postgresql:// or postgres:// URI, or libpq key=value text; the
// database must exist), applies pending migrations (serialized across nodes that start at once)
// and checks the master key. Errors:
// - kSchemaTooNew: the database records a schema version above what this build knows;
// - kWrongMasterKey: the database was initialized under a master key that `codec` does not hold;
// - kUnavailable: the server cannot be reached, or refuses the login (wrong password, no such
//   database); the message is libpq's, on one line, without the password;
// - kInternal: a malformed connection string, a server older than PostgreSQL 13, a database
//   whose encoding is not UTF8, a null codec.
// `codec` must not be null; the store keeps it for its lifetime.
//
// Once open, a lost connection is replaced on the next call: calls fail with kUnavailable while
// the server is away and succeed again when it is back, without reopening the Store.
StoreResult<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo,
                                                      std::shared_ptr<const SecretCodec> codec);

}  // namespace tollgate::storage::postgres
