#pragma once
// UUIDs as used for every ID on the wire: 36 characters, lower-case hex, version 4.

#include <optional>
#include <string>
#include <string_view>

namespace tollgate {

// A fresh random (version 4) UUID in lower case, from the CSPRNG of random.h. Thread-safe.
std::string NewUuid();

// The canonical lower-case form of `text` if it is a UUID in 8-4-4-4-12 hex form (any case),
// std::nullopt otherwise.
std::optional<std::string> NormalizeUuid(std::string_view text);

}  // namespace tollgate
