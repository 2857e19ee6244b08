#include "storage/sql/errors.h"

#include <fmt/format.h>

#include <utility>

namespace tollgate::storage::sql {

StoreError InternalError(std::string message) {
  return StoreError{StoreErrorCode::kInternal, std::move(message), ""};
}

StoreError UnavailableError(std::string message) {
  return StoreError{StoreErrorCode::kUnavailable, std::move(message), ""};
}

StoreError NotFound(std::string target, std::string message) {
  return StoreError{StoreErrorCode::kNotFound, std::move(message), std::move(target)};
}

StoreError Conflict(std::string target, std::string message) {
  return StoreError{StoreErrorCode::kConflict, std::move(message), std::move(target)};
}

StoreError IdConflict(std::string_view what) {
  return Conflict("id", fmt::format("a {} with this id already exists", what));
}

StoreError WrongMasterKey(std::string_view what) {
  return StoreError{StoreErrorCode::kWrongMasterKey,
                    fmt::format("{} does not open with the configured master key (the store was "
                                "initialized under another master key, or the data was altered)",
                                what),
                    ""};
}

}  // namespace tollgate::storage::sql
