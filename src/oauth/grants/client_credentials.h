#pragma once
// The client_credentials grant (RFC 6749 §4.4) for an authenticated client.

#include <string_view>

#include "common/result.h"
#include "config/snapshot.h"
#include "oauth/oauth_error.h"
#include "oauth/token_issuer.h"
#include "oauth/token_request.h"

namespace tollgate::oauth {

// unauthorized_client when the application may not use the grant (SPEC §2.3); then the scope
// rules of §2.4; then a signed token. No refresh token (RFC 6749 §4.4.3).
Result<TokenResponse, OAuthError> ClientCredentialsGrant(const TokenRequest& request,
                                                         const config::EnvironmentSnapshot& env,
                                                         const config::AppEntry& app,
                                                         const TokenIssuer& issuer,
                                                         std::string_view api_url);

}  // namespace tollgate::oauth
