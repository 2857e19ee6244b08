#pragma once
// Grants of the token endpoint (SPEC §2.3): one Grant per `grant_type`, registered in
// registry.cc. The token endpoint looks the grant up before client authentication, then checks
// that the authenticated application may use it, then calls Issue(). A new grant is one file
// defining its Grant plus its line in registry.cc (docs/architecture.md, "Adding a grant").

#include <optional>
#include <span>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "config/jti_cache.h"
#include "config/snapshot.h"
#include "model/model.h"
#include "oauth/client_auth/remote_jwks.h"
#include "oauth/oauth_error.h"
#include "oauth/pending.h"
#include "oauth/token_issuer.h"
#include "oauth/token_request.h"

namespace tollgate::oauth {

// What a grant uses besides the request. The references outlive the call.
struct GrantContext {
  const config::EnvironmentSnapshot& env;
  const config::AppEntry& app;  // authenticated, enabled, and allowed this grant
  const TokenIssuer& issuer;
  std::string_view api_url;  // the management API's audience
  const Clock& clock;
  const config::JtiCache* revoked = nullptr;  // revoked access tokens; null: none are known
  RemoteJwks* remote_jwks = nullptr;          // keys of trusted issuers; null: none reachable
  Confirmation confirmation = {};  // what to bind the token to (DPoP key, client certificate)
};

struct Grant {
  std::string_view grant_type = {};  // the wire value (RFC 6749 §4.4.2, RFC 8693 §2.1, ...)
  model::GrantType app_grant =
      model::GrantType::kClientCredentials;  // the value an application lists in PingOne's
                                             // grantTypes
  bool confidential_only = true;  // a public client (tokenEndpointAuthMethod NONE) may not use it
  std::span<const FormParam> params = {};  // the form parameters it reads, besides client auth
  // The answer for an application that may use the grant. Thread-safe; never blocks.
  Result<TokenResponse, OAuthError> (*issue)(const TokenRequest& request,
                                             const GrantContext& context) = nullptr;
  // Run before client authentication when not null: a Pending to wait for while something
  // `issue` needs is being fetched (the keys of a trusted issuer), else nothing. It decides
  // nothing: errors are left to `issue`. Thread-safe; never blocks.
  std::optional<Pending> (*prepare)(const TokenRequest& request,
                                    const config::EnvironmentSnapshot& env,
                                    RemoteJwks* remote_jwks) = nullptr;
};

// The answer of a grant that issued `token` for `decision`: the token, its lifetime and the
// granted scopes (RFC 6749 §5.1), and what the endpoint counts and audits.
TokenResponse Answer(IssuedToken token, const ScopeDecision& decision);

// Every registered grant, in the order discovery lists them.
std::span<const Grant* const> Grants();
// The grant registered for `grant_type`, or null (unsupported_grant_type).
const Grant* FindGrant(std::string_view grant_type);

}  // namespace tollgate::oauth
