#pragma once
// The token endpoint's protocol core (SPEC §2): the grant by grant_type (grants/grant.h), client
// authentication, the grant's check of the application, then the grant itself. No HTTP, no SQL:
// it reads one environment snapshot.

#include <span>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "config/jti_cache.h"
#include "config/snapshot.h"
#include "oauth/client_auth/client_auth.h"
#include "oauth/dpop.h"
#include "oauth/oauth_error.h"
#include "oauth/token_issuer.h"
#include "oauth/token_metrics.h"
#include "oauth/token_request.h"

namespace tollgate::oauth {

struct Grant;

class TokenEndpoint {
 public:
  // `auth` is shared with the other endpoints that authenticate clients. `revoked`: the revoked
  // access tokens, which a token exchange refuses as subject or actor (null: none are known).
  // `dpop`: the proofs accepted (null: a request with a DPoP header, and a client that requires
  // one, is refused).
  TokenEndpoint(const ClientAuthServices& auth, std::string api_url,
                const config::JtiCache* revoked = nullptr, const DpopProofs* dpop = nullptr)
      : auth_(auth),
        issuer_(auth.clock),
        api_url_(std::move(api_url)),
        revoked_(revoked),
        dpop_(dpop) {}

  // The form parameters the endpoint reads: grant_type, client authentication's, and those of
  // every registered grant.
  static std::span<const FormParam> Params();

  // Thread-safe; never blocks. `request` has passed the HTTP checks of SPEC §2.1. A Pending
  // (the client's jwksUrl keys are being fetched) is no answer: wait for it and call again.
  Result<TokenResponse, ErrorOrPending> Handle(const TokenRequest& request,
                                               const config::EnvironmentSnapshot& env) const;
  // Handle() from client authentication on: for a request that Handle() answered Pending.
  Result<TokenResponse, ErrorOrPending> Resume(const TokenRequest& request,
                                               const config::EnvironmentSnapshot& env) const;

  // What Handle() and Resume() answered, for /metrics.
  const TokenMetrics& metrics() const { return metrics_; }
  // Counts an error answered to a token request without Handle() or Resume(): the HTTP form
  // checks, or a wait for jwksUrl keys that lasted too long. Thread-safe.
  void Refused(const OAuthError& error) const { metrics_.Failed(error); }
  // Refused(), for a request of `env` whose form was refused (`request` holds no parameter, only
  // the remote address and correlation ID): also reported to the audit.
  void Refused(const OAuthError& error, const TokenRequest& request,
               const config::EnvironmentSnapshot& env) const;

 private:
  Result<TokenResponse, ErrorOrPending> Issue(const TokenRequest& request, const Grant& grant,
                                              const config::EnvironmentSnapshot& env) const;
  // Counts `error`, reports it to the audit with the caller `app` (null: none authenticated),
  // and answers it.
  Result<TokenResponse, ErrorOrPending> Refuse(const TokenRequest& request,
                                               const config::EnvironmentSnapshot& env,
                                               const config::AppEntry* app, OAuthError error) const;
  void Report(const TokenRequest& request, const config::EnvironmentSnapshot& env,
              const config::AppEntry* app, const OAuthError* error, std::string_view jti) const;

  ClientAuthServices auth_;
  TokenIssuer issuer_;
  std::string api_url_;
  const config::JtiCache* revoked_;
  const DpopProofs* dpop_;
  mutable TokenMetrics metrics_;  // thread-safe
};

}  // namespace tollgate::oauth
