#pragma once
// Stores for unit tests that need a real one (config/store, mgmt).

#include <memory>

#include "storage/store.h"

namespace tollgate::testutil {

// An empty `sqlite::memory:` store whose codec does not encrypt (tests only).
std::unique_ptr<storage::Store> OpenMemoryStore();

}  // namespace tollgate::testutil
