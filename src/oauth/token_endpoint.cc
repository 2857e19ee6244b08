#include "oauth/token_endpoint.h"

#include <vector>

#include "oauth/client_auth/client_auth.h"
#include "oauth/grants/grant.h"

namespace tollgate::oauth {
namespace {

std::vector<FormParam> CollectParams() {
  std::vector<FormParam> out{{.name = "grant_type", .member = &TokenRequest::grant_type}};
  auto add = [&out](std::span<const FormParam> params) {
    for (const FormParam& p : params) {
      bool known = false;
      for (const FormParam& q : out) known = known || q.name == p.name;
      if (!known) out.push_back(p);  // two grants reading one name declare it alike
    }
  };
  add(ClientAuthParams());
  for (const Grant* g : Grants()) add(g->params);
  return out;
}

}  // namespace

std::span<const FormParam> TokenEndpoint::Params() {
  static const std::vector<FormParam> kParams = CollectParams();
  return kParams;
}

Result<TokenResponse, ErrorOrPending> TokenEndpoint::Handle(
    const TokenRequest& request, const config::EnvironmentSnapshot& env) const {
  // SPEC §2.3: grant_type is checked before client authentication.
  if (!request.grant_type) return CountError(Fail(InvalidRequest("grant_type is required")));
  if (FindGrant(*request.grant_type) == nullptr) {
    return CountError(Fail(
        ValidationError(OAuthErrorCode::kUnsupportedGrantType, "The grant type is not supported")));
  }
  return Resume(request, env);
}

Result<TokenResponse, ErrorOrPending> TokenEndpoint::Resume(
    const TokenRequest& request, const config::EnvironmentSnapshot& env) const {
  const Grant* grant = FindGrant(request.grant_type.value_or(""));
  if (grant == nullptr) return Handle(request, env);  // answers the missing or unknown grant
  return CountError(Issue(request, *grant, env));
}

Result<TokenResponse, ErrorOrPending> TokenEndpoint::Issue(
    const TokenRequest& request, const Grant& grant, const config::EnvironmentSnapshot& env) const {
  auto app = AuthenticateClient(request, env, auth_);
  if (!app) return Fail(std::move(app).error());

  // SPEC §2.3: the application lists the grant, and is confidential when the grant says so.
  const model::Application& client = (*app)->app;
  const Authenticator* method = FindAuthenticator(client.token_endpoint_auth_method);
  if (!client.HasGrantType(grant.app_grant) ||
      (grant.confidential_only && (method == nullptr || !method->confidential))) {
    return Fail(ValidationError(
        OAuthErrorCode::kUnauthorizedClient,
        "The application is not allowed to use the " + std::string(grant.grant_type) + " grant"));
  }
  auto issued = grant.issue(request, GrantContext{env, **app, issuer_, api_url_});
  if (!issued) return Fail(std::move(issued).error());
  metrics_.Issued(env.environment.id, client.id);
  return std::move(issued).value();
}

Result<TokenResponse, ErrorOrPending> TokenEndpoint::CountError(
    Result<TokenResponse, ErrorOrPending> answer) const {
  if (!answer) {
    if (const auto* error = std::get_if<OAuthError>(&answer.error())) metrics_.Failed(*error);
  }
  return answer;
}

}  // namespace tollgate::oauth
