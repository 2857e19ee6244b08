#pragma once
// The StoreErrors of the SQL backends, built in one place so that both word them alike.

#include <string>
#include <string_view>

#include "storage/store.h"

namespace tollgate::storage::sql {

// kInternal; `message` is for the log.
StoreError InternalError(std::string message);
// kUnavailable: the database cannot be reached.
StoreError UnavailableError(std::string message);
// kNotFound naming `target` (store.h lists the targets).
StoreError NotFound(std::string target, std::string message);
// kConflict naming the field `target` whose uniqueness rule was violated.
StoreError Conflict(std::string target, std::string message);
// kConflict on "id": a `what` (e.g. "environment") with this id already exists.
StoreError IdConflict(std::string_view what);
// kWrongMasterKey: `what` (e.g. "the secret of application X") does not open.
StoreError WrongMasterKey(std::string_view what);

}  // namespace tollgate::storage::sql
