#pragma once
// Signs RFC 9068 access tokens (SPEC §2.6) with the environment's default key.

#include <boost/json/object.hpp>
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

// Who a token exchange's token is about (RFC 8693 §4.1): its `sub` is the subject token's, and
// `act`, when not null, names the actor (and the actors before it). Borrowed for the call.
// `issued_at`: the token's `iat`, read once by the caller that capped its lifetime by it.
struct Delegation {
  std::string_view subject;
  const boost::json::object* act = nullptr;
  int64_t issued_at = 0;
};

// What a token is bound to (RFC 7800 `cnf`); both empty: a plain bearer token.
struct Confirmation {
  std::string_view jkt;       // RFC 9449 §6.1: a DPoP key's base64url thumbprint
  std::string_view x5t_s256;  // RFC 8705 §3.1: the client certificate's base64url SHA-256
};

// Thread-safe; holds no state besides the clock.
class TokenIssuer {
 public:
  explicit TokenIssuer(const Clock& clock) : clock_(clock) {}

  // The token carries the custom claims of `decision` (custom_claims.h), evaluated against
  // `context`; its `sub` is the application unless `delegation` says otherwise; `cnf` holds
  // what `confirmation` binds it to.
  // server_error when the environment has no usable default key or signing fails.
  Result<IssuedToken, OAuthError> Issue(const config::EnvironmentSnapshot& env,
                                        const config::AppEntry& app, const ScopeDecision& decision,
                                        const claims::Context& context = {},
                                        const Delegation* delegation = nullptr,
                                        const Confirmation& confirmation = {}) const;

 private:
  const Clock& clock_;
};

}  // namespace tollgate::oauth
