#pragma once
// Scope and audience selection for client_credentials (SPEC §2.4, the reference page's four
// rules, RFC 8707 `resource`). A pure function of the request and the application's grants.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/snapshot.h"
#include "oauth/oauth_error.h"

namespace tollgate::oauth {

struct ScopeDecision {
  std::vector<std::string> audiences;
  std::vector<std::string> scopes;  // request order, no duplicates; empty: no `scope` claim
  int64_t lifetime_seconds = 3600;
  // The attribute claims of the resources in the audience, in audience order (custom_claims.h).
  std::vector<const config::ResourceClaims*> claims;
};

// `scope`: the request's scope parameter (std::nullopt when absent or empty). `resources`: the
// RFC 8707 resource values. `api_url`: the management API's audience.
Result<ScopeDecision, OAuthError> ResolveScopes(const config::AppEntry& app,
                                                std::optional<std::string_view> scope,
                                                std::span<const std::string> resources,
                                                std::string_view api_url);

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool IsScopeToken(std::string_view name);

}  // namespace tollgate::oauth
