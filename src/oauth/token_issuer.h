#pragma once
// Signs RFC 9068 access tokens (SPEC §2.6) with the environment's default key.

#include <string>

#include "claims/expression.h"
#include "common/clock.h"
#include "common/result.h"
#include "config/snapshot.h"
#include "oauth/oauth_error.h"
#include "oauth/scope_resolver.h"

namespace tollgate::oauth {

struct IssuedToken {
  std::string jwt;
  std::string jti;
  int64_t expires_in = 0;
  int claims_left_out = 0;  // custom claims whose evaluation failed (custom_claims.h)
};

// Thread-safe; holds no state besides the clock.
class TokenIssuer {
 public:
  explicit TokenIssuer(const Clock& clock) : clock_(clock) {}

  // The token carries the custom claims of `decision` (custom_claims.h), evaluated against
  // `context`. server_error when the environment has no usable default key or signing fails.
  Result<IssuedToken, OAuthError> Issue(const config::EnvironmentSnapshot& env,
                                        const config::AppEntry& app, const ScopeDecision& decision,
                                        const claims::Context& context = {}) const;

 private:
  const Clock& clock_;
};

}  // namespace tollgate::oauth
