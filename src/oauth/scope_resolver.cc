#include "oauth/scope_resolver.h"

#include <algorithm>

namespace tollgate::oauth {
namespace {

using config::CustomGrant;

constexpr int64_t kManagementTokenLifetime = 3600;
constexpr std::string_view kOidcScopes[] = {"openid", "profile", "email", "address", "phone"};
constexpr std::string_view kMultipleResources = "May not request scopes for multiple resources";

bool IsWorker(const config::AppEntry& app) { return app.app.type == model::AppType::kWorker; }

OAuthError InvalidScope(std::string description) {
  return ValidationError(OAuthErrorCode::kInvalidScope, std::move(description));
}

// The management-API token of a worker with role assignments and no custom resources.
ScopeDecision ManagementToken(std::string_view api_url, std::vector<std::string> scopes) {
  ScopeDecision d;
  d.audiences.emplace_back(api_url);
  d.scopes = std::move(scopes);
  d.lifetime_seconds = kManagementTokenLifetime;
  return d;
}

ScopeDecision FromResources(const std::vector<const CustomGrant*>& involved,
                            std::vector<std::string> scopes) {
  ScopeDecision d;
  d.scopes = std::move(scopes);
  d.lifetime_seconds = involved.front()->resource->access_token_validity_seconds;
  for (const CustomGrant* g : involved) {
    d.audiences.push_back(g->resource->audience);
    if (g->claims != nullptr) d.claims.push_back(g->claims);
    d.lifetime_seconds =
        std::min<int64_t>(d.lifetime_seconds, g->resource->access_token_validity_seconds);
  }
  return d;
}

}  // namespace

bool IsScopeToken(std::string_view name) {
  if (name.empty()) return false;
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E) return false;
  }
  return true;
}

Result<ScopeDecision, OAuthError> ResolveScopes(const config::AppEntry& app,
                                                std::optional<std::string_view> scope,
                                                std::span<const std::string> resources,
                                                std::string_view api_url) {
  const bool multi = app.app.request_scopes_for_multiple_resources_enabled;

  // RFC 8707: each `resource` must name one of the app's custom resources by its audience;
  // only those resources are then considered.
  std::vector<const CustomGrant*> candidates;
  if (resources.empty()) {
    for (const auto& g : app.custom_grants) candidates.push_back(&g);
  } else {
    for (const auto& g : app.custom_grants) {
      if (std::find(resources.begin(), resources.end(), g.resource->audience) != resources.end()) {
        candidates.push_back(&g);
      }
    }
    for (const auto& r : resources) {
      bool known = std::any_of(candidates.begin(), candidates.end(),
                               [&](const CustomGrant* g) { return g->resource->audience == r; });
      if (!known) {
        return Fail(ValidationError(OAuthErrorCode::kInvalidTarget,
                                    "The resource parameter names no resource granted to the "
                                    "application",
                                    "unknown resource indicator"));
      }
    }
  }

  if (!scope) {
    if (candidates.size() == 1) {
      return FromResources(candidates, candidates.front()->scope_names);  // rule 1
    }
    if (candidates.size() > 1) {
      if (!multi) return Fail(InvalidScope(std::string(kMultipleResources)));
      std::vector<std::string> all;
      for (const CustomGrant* g : candidates) {
        for (const auto& s : g->scope_names) {
          if (std::find(all.begin(), all.end(), s) == all.end()) all.push_back(s);
        }
      }
      return FromResources(candidates, std::move(all));
    }
    if (IsWorker(app)) {
      if (app.has_role_assignments) return ManagementToken(api_url, {});
      return Fail(ValidationError(OAuthErrorCode::kUnauthorizedClient,
                                  "The application has no role assignments and no granted scopes"));
    }
    return Fail(InvalidScope("At least one scope must be granted"));
  }

  // Split on one or more spaces; every name must be an RFC 6749 §3.3 scope-token.
  std::vector<std::string> requested;
  std::string_view rest = *scope;
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    std::string_view name = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    if (name.empty()) continue;
    if (!IsScopeToken(name)) {
      return Fail(InvalidScope("The scope parameter holds a name outside RFC 6749 section 3.3"));
    }
    if (std::find(requested.begin(), requested.end(), name) == requested.end()) {
      requested.emplace_back(name);  // rule 4: request order, no duplicates
    }
  }

  if (requested.empty()) return ResolveScopes(app, std::nullopt, resources, api_url);

  // Rule 1 (P1 rules 2 and 4): only names granted from the app's custom resources count.
  std::vector<std::string> granted;
  std::vector<const CustomGrant*> involved;
  for (const auto& name : requested) {
    bool any = false;
    for (const CustomGrant* g : candidates) {
      if (!g->HasScope(name)) continue;
      any = true;
      // A name granted in two resources counts for both.
      if (std::find(involved.begin(), involved.end(), g) == involved.end()) involved.push_back(g);
    }
    if (any) granted.push_back(name);
  }

  if (!granted.empty()) {
    if (involved.size() > 1 && !multi) return Fail(InvalidScope(std::string(kMultipleResources)));
    // Audiences in the order of the app's resources, whatever the request order.
    std::vector<const CustomGrant*> ordered;
    for (const CustomGrant* g : candidates) {
      if (std::find(involved.begin(), involved.end(), g) != involved.end()) ordered.push_back(g);
    }
    return FromResources(ordered, std::move(granted));
  }

  // Rule 3: nothing granted.
  if (IsWorker(app) && app.custom_grants.empty()) {
    if (app.has_role_assignments) {
      std::vector<std::string> oidc;
      for (const auto& name : requested) {
        if (std::find(std::begin(kOidcScopes), std::end(kOidcScopes), name) !=
            std::end(kOidcScopes)) {
          oidc.push_back(name);
        }
      }
      return ManagementToken(api_url, std::move(oidc));
    }
    return Fail(ValidationError(OAuthErrorCode::kUnauthorizedClient,
                                "The application has no role assignments and no granted scopes"));
  }
  std::string names;
  for (const auto& n : requested) {
    if (!names.empty()) names.push_back(' ');
    names += n;
  }
  return Fail(InvalidScope("The following scopes could not be granted: " + names));
}

}  // namespace tollgate::oauth
