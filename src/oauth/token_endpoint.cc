#include "oauth/token_endpoint.h"

#include <vector>

#include "common/base64.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "oauth/auth_activities.h"
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
  if (!request.grant_type) {
    return Refuse(request, env, nullptr, InvalidRequest("grant_type is required"));
  }
  if (FindGrant(*request.grant_type) == nullptr) {
    return Refuse(
        request, env, nullptr,
        ValidationError(OAuthErrorCode::kUnsupportedGrantType, "The grant type is not supported"));
  }
  return Resume(request, env);
}

Result<TokenResponse, ErrorOrPending> TokenEndpoint::Resume(
    const TokenRequest& request, const config::EnvironmentSnapshot& env) const {
  const Grant* grant = FindGrant(request.grant_type.value_or(""));
  if (grant == nullptr) return Handle(request, env);  // answers the missing or unknown grant
  return Issue(request, *grant, env);
}

Result<TokenResponse, ErrorOrPending> TokenEndpoint::Issue(
    const TokenRequest& request, const Grant& grant, const config::EnvironmentSnapshot& env) const {
  if (grant.prepare != nullptr) {
    if (auto pending = grant.prepare(request, env, auth_.remote_jwks)) {
      return Fail(ErrorOrPending(std::move(*pending)));  // a Pending is no answer
    }
  }
  auto app = AuthenticateClient(request, env, auth_);
  if (!app) {
    if (auto* error = std::get_if<OAuthError>(&app.error())) {
      return Refuse(request, env, nullptr, std::move(*error));
    }
    return Fail(std::move(app).error());  // a Pending is no answer
  }

  // SPEC §2.3: the application lists the grant, and is confidential when the grant says so.
  const model::Application& client = (*app)->app;
  const Authenticator* method = FindAuthenticator(client.token_endpoint_auth_method);
  if (!client.HasGrantType(grant.app_grant) ||
      (grant.confidential_only && (method == nullptr || !method->confidential))) {
    return Refuse(request, env, *app,
                  ValidationError(OAuthErrorCode::kUnauthorizedClient,
                                  "The application is not allowed to use the " +
                                      std::string(grant.grant_type) + " grant"));
  }
  // RFC 9449 §5: a proof binds the token to its key; a client may be required to send one.
  DpopProofs::Binding binding;
  if (!request.dpop.empty() || client.dpop_bound_access_tokens) {
    if (dpop_ == nullptr) {
      return Refuse(request, env, *app,
                    ValidationError(OAuthErrorCode::kInvalidDpopProof, "DPoP is not supported"));
    }
    auto checked = dpop_->Check(request, env, **app);
    if (!checked) return Refuse(request, env, *app, std::move(checked).error());
    binding = std::move(*checked);
  }
  // RFC 8705 §3: a client that asks for certificate-bound tokens must present its certificate,
  // whatever its authentication method.
  std::string x5t;
  if (client.tls_client_certificate_bound_access_tokens) {
    if (request.client_certificates.empty()) {
      return Refuse(request, env, *app,
                    ValidationError(OAuthErrorCode::kInvalidRequest,
                                    "The application requires a client certificate "
                                    "(tlsClientCertificateBoundAccessTokens)"));
    }
    // A certificate from the TLS handshake parses; one a proxy forwarded is checked here.
    if (!crypto::Certificate::FromDer(request.client_certificates.front())) {
      return Refuse(request, env, *app,
                    ValidationError(OAuthErrorCode::kInvalidRequest,
                                    "The client certificate is not an X.509 certificate"));
    }
    x5t = Base64UrlEncode(crypto::Sha256(request.client_certificates.front()));
  }
  auto issued = grant.issue(
      request, GrantContext{env, **app, issuer_, api_url_, auth_.clock, revoked_, auth_.remote_jwks,
                            Confirmation{.jkt = binding.jkt, .x5t_s256 = x5t}});
  if (!issued) return Refuse(request, env, *app, std::move(issued).error());
  issued->dpop = !binding.jkt.empty();
  issued->dpop_nonce = std::move(binding.nonce);
  metrics_.Issued(env.environment.id, client.id);
  if (issued->claims_left_out > 0) metrics_.ClaimsLeftOut(issued->claims_left_out);
  Report(request, env, *app, nullptr, issued->jti);
  return std::move(issued).value();
}

Result<TokenResponse, ErrorOrPending> TokenEndpoint::Refuse(const TokenRequest& request,
                                                            const config::EnvironmentSnapshot& env,
                                                            const config::AppEntry* app,
                                                            OAuthError error) const {
  metrics_.Failed(error);
  Report(request, env, app, &error, {});
  return Fail(std::move(error));
}

void TokenEndpoint::Refused(const OAuthError& error, const TokenRequest& request,
                            const config::EnvironmentSnapshot& env) const {
  metrics_.Failed(error);
  Report(request, env, nullptr, &error, {});
}

void TokenEndpoint::Report(const TokenRequest& request, const config::EnvironmentSnapshot& env,
                           const config::AppEntry* app, const OAuthError* error,
                           std::string_view jti) const {
  if (auth_.activities == nullptr) return;
  AuthOutcome outcome{
      .action = AuthAction::kToken, .env = env, .request = request, .error = error, .jti = jti};
  if (app != nullptr) {
    outcome.client_id = app->app.id.str();
    outcome.client_name = app->app.name;
  }
  auth_.activities->Record(outcome);
}

}  // namespace tollgate::oauth
