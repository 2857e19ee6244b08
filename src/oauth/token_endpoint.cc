#include "oauth/token_endpoint.h"

#include "oauth/client_auth/client_auth.h"
#include "oauth/grants/client_credentials.h"

namespace tollgate::oauth {
namespace {

constexpr std::string_view kClientCredentials = "client_credentials";

}  // namespace

Result<TokenResponse, ErrorOrPending> TokenEndpoint::Handle(
    const TokenRequest& request, const config::EnvironmentSnapshot& env) const {
  // SPEC §2.3: grant_type is checked before client authentication.
  if (!request.grant_type) return Fail(InvalidRequest("grant_type is required"));
  if (*request.grant_type != kClientCredentials) {
    return Fail(
        ValidationError(OAuthErrorCode::kUnsupportedGrantType, "The grant type is not supported"));
  }
  return Resume(request, env);
}

Result<TokenResponse, ErrorOrPending> TokenEndpoint::Resume(
    const TokenRequest& request, const config::EnvironmentSnapshot& env) const {
  auto app = AuthenticateClient(request, env, auth_);
  if (!app) return Fail(std::move(app).error());

  auto issued = ClientCredentialsGrant(request, env, **app, issuer_, api_url_);
  if (!issued) return Fail(std::move(issued).error());
  return std::move(issued).value();
}

}  // namespace tollgate::oauth
