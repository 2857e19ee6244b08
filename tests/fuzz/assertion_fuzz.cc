// Fuzz target: client assertions (RFC 7523) before their signature is checked: decoding the
// compact JWS and its JSON, then the claim rules of SPEC §2.2 rule 6. Never crashes; a decoded
// assertion always has an algorithm other than "none" and its iss, sub and jti.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jwt/assertion.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tollgate;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto decoded = jwt::DecodeAssertion(in);
  if (!decoded) return 0;
  if (decoded->alg.empty() || decoded->alg == "none" || decoded->iss.empty() ||
      decoded->sub.empty() || decoded->jti.empty() || decoded->jti.size() > jwt::kMaxJtiSize) {
    __builtin_trap();
  }
  jwt::AssertionRules rules;
  rules.client_id = decoded->sub;
  rules.audiences = {"https://auth.tollgate.test/env/as/token"};
  rules.now = FromUnixMillis(1'800'000'000'000);
  (void)jwt::CheckAssertionClaims(*decoded, rules);
  (void)jwt::RememberUntil(*decoded, rules);
  return 0;
}
