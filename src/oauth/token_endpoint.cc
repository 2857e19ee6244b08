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

  auto presented = Present(request);
  if (!presented) return Fail(std::move(presented).error());

  // SPEC §2.2 rule 8: a blocked (client, address) is answered before its credentials are read.
  if (int64_t wait = throttle_.RetryAfter(presented->client_id, request.remote_address); wait > 0) {
    OAuthError e = ClientAuthError(OAuthErrorCode::kTemporarilyUnavailable,
                                   "Too many failed authentication attempts; retry later",
                                   "client throttled after repeated failures");
    e.retry_after_seconds = static_cast<int>(wait);
    return Fail(std::move(e));
  }
  auto app = Authenticate(*presented, env, clock_);
  if (!app) {
    // Only real clients are tracked, so a spray of invented client_ids cannot grow the table.
    if (app.error().code == OAuthErrorCode::kInvalidClient &&
        env.FindApp(presented->client_id) != nullptr) {
      throttle_.RecordFailure(presented->client_id, request.remote_address);
    }
    return Fail(std::move(app).error());
  }
  throttle_.RecordSuccess(presented->client_id, request.remote_address);

  return ClientCredentialsGrant(request, env, **app, issuer_, api_url_);
}

}  // namespace tollgate::oauth
