// The client_credentials grant (RFC 6749 §4.4): the scope rules of SPEC §2.4, then a signed
// token. No refresh token (RFC 6749 §4.4.3).
#include "oauth/custom_claims.h"
#include "oauth/grants/grant.h"
#include "oauth/scope_resolver.h"

namespace tollgate::oauth {
namespace {

constexpr size_t kMaxScopeLength = 4096;

constexpr FormParam kParams[] = {
    {.name = "scope", .max_length = kMaxScopeLength},
    {.name = "resource", .repeatable = true},  // RFC 8707
};

Result<TokenResponse, OAuthError> Issue(const TokenRequest& request, const GrantContext& context) {
  std::optional<std::string_view> scope;
  if (const std::string* sent = request.Param("scope")) scope = *sent;
  auto decision = ResolveScopes(context.app, scope, request.Values("resource"), context.api_url);
  if (!decision) return Fail(std::move(decision).error());
  const ClaimInputs inputs(request, context.app, *decision);
  auto token = context.issuer.Issue(context.env, context.app, *decision, inputs.context(), nullptr,
                                    context.confirmation);
  if (!token) return Fail(std::move(token).error());

  return Answer(std::move(token).value(), *decision);
}

}  // namespace

extern const Grant kClientCredentialsGrant;
constexpr Grant kClientCredentialsGrant{
    .grant_type = "client_credentials",
    .app_grant = model::GrantType::kClientCredentials,
    // PingOne: a public (NONE) client never gets client_credentials, whatever its grantTypes say.
    .confidential_only = true,
    .params = kParams,
    .issue = Issue,
};

}  // namespace tollgate::oauth
