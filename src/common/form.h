#pragma once
// application/x-www-form-urlencoded decoding (WHATWG URL "application/x-www-form-urlencoded
// parser", stricter): `+` is a space, `%XX` an escaped byte. Used for request bodies and for
// the two halves of an HTTP Basic credential (RFC 6749 §2.3.1).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace tollgate {

// Decodes one name or value. std::nullopt when an escape is malformed, the result holds a NUL
// byte, or the result is not valid UTF-8.
std::optional<std::string> FormDecode(std::string_view text);

using FormPairs = std::vector<std::pair<std::string, std::string>>;

enum class FormError {
  kMalformed,     // an escape is malformed, a NUL byte, or not UTF-8 (as FormDecode)
  kTooManyPairs,  // more than `max_pairs` pairs
};

// SPEC §2.1 [Ours]: the most pairs a token, introspection or revocation body may hold. A real
// request has at most a handful; the cap keeps what an unauthenticated body costs linear and
// small.
inline constexpr size_t kMaxFormPairs = 64;

// Splits a body on `&` and decodes every pair (a pair without `=` has an empty value; empty
// pairs are skipped). Fails with kTooManyPairs as soon as pair `max_pairs` + 1 is found, before
// decoding it, and with kMalformed under the same conditions as FormDecode.
Result<FormPairs, FormError> ParseForm(std::string_view body, size_t max_pairs = kMaxFormPairs);

// True when two pairs of `form` share a name, other than those of `may_repeat`. Linear in the
// size of `form` and allocation-free for forms of up to kMaxFormPairs pairs.
bool HasDuplicateName(const FormPairs& form, std::span<const std::string_view> may_repeat);
inline bool HasDuplicateName(const FormPairs& form, std::string_view except) {
  return HasDuplicateName(form, std::span<const std::string_view>(&except, 1));
}

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Appends `text` as a JSON string literal (RFC 8259 §7), quotes included. `text` must be UTF-8.
void AppendJsonString(std::string& out, std::string_view text);

// Appends `value` in decimal (a JSON number, a header value), as fmt's "{}" would.
void AppendDecimal(std::string& out, int64_t value);

}  // namespace tollgate
