#pragma once
// Client assertions (RFC 7523 §2.2, §3; SPEC §2.2 rule 6): decoding, and the rules on their
// claims. Signature verification needs the client's keys and is done by the caller
// (oauth/client_auth), after Decode and before the replay check.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "jwt/jws.h"

namespace tollgate::jwt {

constexpr size_t kMaxAssertionSize = 8192;  // bytes of the compact JWS
constexpr size_t kMaxJtiSize = 256;

// A decoded, NOT verified, client assertion.
struct Assertion {
  CompactParts parts;
  std::string alg;  // never "none"
  std::string kid;  // empty when the header has none
  std::string iss, sub, jti;
  std::vector<std::string> aud;
  int64_t exp = 0;             // NumericDate, whole seconds
  std::optional<int64_t> nbf;  // NumericDate, whole seconds
};

// Decodes `token`. Fails (with a reason for the log, never sent to the client) when it is not
// a compact JWS of at most kMaxAssertionSize bytes, its header or payload is not a JSON object,
// the header's `alg` is missing, not a string or "none", the header has `crit` (RFC 7515
// §4.1.11: no extension is understood here), or a claim has the wrong type: `iss`, `sub`,
// `jti` must be non-empty strings (`jti` at most kMaxJtiSize bytes), `aud` a string or a
// non-empty array of strings, `exp` (required) and `nbf` numbers.
Result<Assertion, std::string> DecodeAssertion(std::string_view token);

struct AssertionRules {
  std::string_view client_id;
  // Accepted audiences (RFC 7523 §3 item 3): the token endpoint URL, the issuer URL, ...
  std::vector<std::string_view> audiences;
  TimePoint now;
  std::chrono::seconds skew{60};            // SPEC §2.2 rule 6 [Ours]
  std::chrono::seconds max_lifetime{3600};  // exp at most this far ahead (plus skew)
};

// SPEC §2.2 rule 6: iss = sub = client_id; aud contains an accepted audience; exp not passed
// (with skew) and at most max_lifetime ahead (with skew); nbf, when present, not in the future
// (with skew). The failure names the rule, for the log.
Result<void, std::string> CheckAssertionClaims(const Assertion& assertion,
                                               const AssertionRules& rules);

// The time until which the assertion's jti must be remembered: exp plus the skew, because an
// assertion is accepted until then.
TimePoint RememberUntil(const Assertion& assertion, const AssertionRules& rules);

}  // namespace tollgate::jwt
