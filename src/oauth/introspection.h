#pragma once
// Introspection (SPEC §4, RFC 7662) and revocation (SPEC §5, RFC 7009) of access tokens.

#include <span>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "config/jti_cache.h"
#include "config/snapshot.h"
#include "oauth/client_auth/client_auth.h"
#include "oauth/oauth_error.h"
#include "oauth/token_request.h"

namespace tollgate::oauth {

// Thread-safe; never touches the store, never blocks.
class Introspection {
 public:
  Introspection(const ClientAuthServices& auth, const config::JtiCache& revoked)
      : auth_(auth), clock_(auth.clock), revoked_(revoked) {}

  // The form parameters it reads: client authentication's, `token` and `token_type_hint`.
  static std::span<const FormParam> Params();

  // The JSON body: {"active":false} for any token that is not valid for this caller (bad
  // signature, expired, another environment's, revoked, or, for a resource caller, not
  // addressed to it); else the token's claims with active and token_type. Errors: the caller's
  // authentication (401 invalid_client, 429) and a missing `token` (400 invalid_request). A
  // Pending (the caller's jwksUrl keys are being fetched) is no answer: wait and call again.
  Result<std::string, ErrorOrPending> Handle(const TokenRequest& request,
                                             const config::EnvironmentSnapshot& env) const;
  // Reports to the audit an error answered to a request of `env` whose form was refused
  // (`request` holds no parameter, only the remote address and correlation ID).
  void Refused(const OAuthError& error, const TokenRequest& request,
               const config::EnvironmentSnapshot& env) const;

 private:
  ClientAuthServices auth_;
  const Clock& clock_;
  const config::JtiCache& revoked_;
};

// Thread-safe. Two steps, so that only authenticated callers reach the store: Authenticate()
// never blocks; Revoke() blocks on the store (run it off the I/O threads).
class Revocation {
 public:
  Revocation(const ClientAuthServices& auth, config::JtiCache& revoked)
      : auth_(auth), clock_(auth.clock), revoked_(revoked) {}

  // The form parameters it reads, as Introspection's (RFC 7009 §2.1).
  static std::span<const FormParam> Params() { return Introspection::Params(); }

  // The calling application (SPEC §5: its own tokenEndpointAuthMethod), then a `token` must be
  // present (400 invalid_request). Errors: the caller's authentication (401, 429), or a Pending
  // (its jwksUrl keys are being fetched): no answer, wait and call again.
  Result<const config::AppEntry*, ErrorOrPending> Authenticate(
      const TokenRequest& request, const config::EnvironmentSnapshot& env) const;

  // Revokes the `token` parameter (by its jti, until its exp) when it is a valid token of this
  // environment issued to `app`, as returned by Authenticate(). Succeeds also for unknown or
  // invalid tokens (RFC 7009 §2.2). Error: 503 temporarily_unavailable when the store cannot
  // record the revocation. Blocks on the store.
  Result<void, OAuthError> Revoke(const TokenRequest& request,
                                  const config::EnvironmentSnapshot& env,
                                  const config::AppEntry& app) const;
  // As Introspection::Refused.
  void Refused(const OAuthError& error, const TokenRequest& request,
               const config::EnvironmentSnapshot& env) const;

 private:
  ClientAuthServices auth_;
  const Clock& clock_;
  config::JtiCache& revoked_;
};

}  // namespace tollgate::oauth
