#pragma once
// application/x-www-form-urlencoded decoding (WHATWG URL "application/x-www-form-urlencoded
// parser", stricter): `+` is a space, `%XX` an escaped byte. Used for request bodies and for
// the two halves of an HTTP Basic credential (RFC 6749 §2.3.1).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate {

// Decodes one name or value. std::nullopt when an escape is malformed, the result holds a NUL
// byte, or the result is not valid UTF-8.
std::optional<std::string> FormDecode(std::string_view text);

// Splits a body on `&` and decodes every pair (a pair without `=` has an empty value; empty
// pairs are skipped). std::nullopt under the same conditions as FormDecode.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Appends `text` as a JSON string literal (RFC 8259 §7), quotes included. `text` must be UTF-8.
void AppendJsonString(std::string& out, std::string_view text);

// Appends `value` in decimal (a JSON number, a header value), as fmt's "{}" would.
void AppendDecimal(std::string& out, int64_t value);

}  // namespace tollgate
