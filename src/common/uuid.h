#pragma once
// UUIDs as used for every ID on the wire: 36 characters, lower-case hex, version 4.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollgate {

// A fresh random (version 4) UUID in lower case, from the CSPRNG of random.h. Thread-safe.
std::string NewUuid();

// A fresh time-ordered (version 7, RFC 9562 §5.7) UUID in lower case: the first 48 bits are
// `unix_millis` (big-endian), the other 74 free bits random. IDs made in later milliseconds sort
// after earlier ones, so an index on them grows at its end (audit activities). Thread-safe.
std::string NewTimeOrderedUuid(int64_t unix_millis);

// The canonical lower-case form of `text` if it is a UUID in 8-4-4-4-12 hex form (any case),
// std::nullopt otherwise.
std::optional<std::string> NormalizeUuid(std::string_view text);

}  // namespace tollgate
