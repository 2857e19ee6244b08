#include "oauth/grants/client_credentials.h"

#include "oauth/scope_resolver.h"

namespace tollgate::oauth {

Result<TokenResponse, OAuthError> ClientCredentialsGrant(const TokenRequest& request,
                                                         const config::EnvironmentSnapshot& env,
                                                         const config::AppEntry& app,
                                                         const TokenIssuer& issuer,
                                                         std::string_view api_url) {
  // PingOne: a public (NONE) client never gets client_credentials, whatever its grantTypes say.
  if (!app.app.HasGrantType(model::GrantType::kClientCredentials) ||
      app.app.token_endpoint_auth_method == model::AuthMethod::kNone) {
    return Fail(ValidationError(OAuthErrorCode::kUnauthorizedClient,
                                "The application is not allowed to use the client_credentials "
                                "grant"));
  }
  auto decision = ResolveScopes(app, request.scope, request.resources, api_url);
  if (!decision) return Fail(std::move(decision).error());
  auto token = issuer.Issue(env, app, *decision);
  if (!token) return Fail(std::move(token).error());

  TokenResponse out;
  out.access_token = std::move(token->jwt);
  out.expires_in = token->expires_in;
  for (const auto& s : decision->scopes) {
    if (!out.scope.empty()) out.scope.push_back(' ');
    out.scope += s;
  }
  return out;
}

}  // namespace tollgate::oauth
