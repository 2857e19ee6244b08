#include "oauth/token_endpoint.h"

#include "oauth/client_auth/client_auth.h"
#include "oauth/grants/client_credentials.h"

namespace tollgate::oauth {
namespace {

constexpr std::string_view kClientCredentials = "client_credentials";

}  // namespace

Result<TokenResponse, OAuthError> TokenEndpoint::Handle(
    const TokenRequest& request, const config::EnvironmentSnapshot& env) const {
  // SPEC §2.3: grant_type is checked before client authentication.
  if (!request.grant_type) return Fail(InvalidRequest("grant_type is required"));
  if (*request.grant_type != kClientCredentials) {
    return Fail(
        ValidationError(OAuthErrorCode::kUnsupportedGrantType, "The grant type is not supported"));
  }

  auto app = AuthenticateClient(request, env, auth_);
  if (!app) return Fail(std::move(app).error());

  return ClientCredentialsGrant(request, env, **app, issuer_, api_url_);
}

}  // namespace tollgate::oauth
