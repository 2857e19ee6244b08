// Fuzz target: DPoP proofs (RFC 9449 §4.3) as a token request's DPoP header carries them:
// the compact JWS, its JSON, the header's `jwk`, the claims and `htu` normalization, then the
// signature. Never crashes; an accepted proof has a thumbprint, a bounded jti, POST and an `iat`
// inside the window.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jwt/dpop.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tollgate;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr int64_t kNow = 1'800'000'000;
  const jwt::DpopRules rules{.method = "POST",
                             .uri = "https://auth.tollgate.test/env/as/token",
                             .now = FromUnixMillis(kNow * 1000)};
  auto proof = jwt::VerifyDpopProof(in, rules);
  if (!proof) return 0;
  if (proof->jkt.size() != 43 || proof->jti.empty() || proof->jti.size() > jwt::kMaxDpopJtiSize ||
      proof->htm != "POST" || proof->iat < kNow - 60 || proof->iat > kNow + 60) {
    __builtin_trap();
  }
  (void)jwt::DpopRememberUntil(*proof, rules);
  return 0;
}
