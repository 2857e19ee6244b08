#pragma once

#include <string_view>

namespace tollgate {

// True when a and b are equal. The time taken depends only on the lengths, never on where the
// contents differ (RFC 6749 §10 / RFC 9700: secrets are compared in constant time).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tollgate
