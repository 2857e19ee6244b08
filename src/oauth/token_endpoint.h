#pragma once
// The token endpoint's protocol core (SPEC §2): grant checks, client authentication, scope and
// audience selection, signing. No HTTP, no SQL: it reads one environment snapshot.

#include "common/clock.h"
#include "common/result.h"
#include "config/snapshot.h"
#include "oauth/brute_force.h"
#include "oauth/oauth_error.h"
#include "oauth/token_issuer.h"
#include "oauth/token_request.h"

namespace tollgate::oauth {

class TokenEndpoint {
 public:
  // `throttle` is shared with the other endpoints that authenticate clients.
  TokenEndpoint(const Clock& clock, std::string api_url, FailureThrottle& throttle)
      : clock_(clock), issuer_(clock), api_url_(std::move(api_url)), throttle_(throttle) {}

  // Thread-safe. `request` has passed the HTTP checks of SPEC §2.1.
  Result<TokenResponse, OAuthError> Handle(const TokenRequest& request,
                                           const config::EnvironmentSnapshot& env) const;

 private:
  const Clock& clock_;
  TokenIssuer issuer_;
  std::string api_url_;
  FailureThrottle& throttle_;
};

}  // namespace tollgate::oauth
