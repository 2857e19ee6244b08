#pragma once
// Base64 (RFC 4648 §4) and base64url without padding (RFC 4648 §5, as JOSE uses it).

#include <optional>
#include <string>
#include <string_view>

namespace tollgate {

std::string Base64UrlEncode(std::string_view bytes);
// Appends the encoding of `bytes` to `out` (no allocation when `out` has the capacity).
void Base64UrlEncodeTo(std::string_view bytes, std::string& out);
// Accepts only the unpadded url-safe alphabet; std::nullopt for anything else (including
// impossible lengths and non-zero trailing bits).
std::optional<std::string> Base64UrlDecode(std::string_view text);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with the required `=` padding; std::nullopt for anything else.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace tollgate
