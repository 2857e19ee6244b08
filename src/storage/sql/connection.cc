#include "storage/sql/connection.h"

#include <fmt/format.h>

#include <cstdint>

#include "storage/sql/errors.h"

namespace tollgate::storage::sql {

int32_t Row::Int32(int col) const {
  const int64_t v = Int(col);
  if (v < INT32_MIN || v > INT32_MAX) {
    MarkColumnError();
    return 0;
  }
  return static_cast<int32_t>(v);
}

std::optional<int64_t> Row::OptionalInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

std::optional<std::string> Row::OptionalBytes(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Bytes(col);
}

StoreResult<void> Row::ColumnError() const {
  if (column_error_) {
    return Fail(InternalError(fmt::format(
        "{}: a column could not be read (missing, NULL, of another type or out of range)",
        backend_)));
  }
  return {};
}

}  // namespace tollgate::storage::sql
