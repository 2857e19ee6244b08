#include "http/routes.h"

#include <algorithm>

#include "http/router.h"

namespace tollgate::http {
namespace {

constexpr std::string_view kEnvPrefix = "/{envID}/as/";
// RFC 8414 §3.1: the well-known segment inserted before the issuer's path, "/{envID}/as".
constexpr std::string_view kEnvSuffix = "/{envID}/as";

// Splits "/a/b/c" into the first segment and the rest ("a", "b/c").
std::pair<std::string_view, std::string_view> FirstSegment(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {path, std::string_view()};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

std::span<const Route> Routes() {
  using S = Surface;
  using R = Runs;
  constexpr auto kManagementService = [](const Services& s) { return s.management != nullptr; };
  constexpr auto kIntrospectionService = [](const Services& s) {
    return s.introspection != nullptr;
  };
  constexpr auto kRevocationService = [](const Services& s) { return s.revocation != nullptr; };
  // In matching order: the first entry that matches wins.
  static const Route kRoutes[] = {
      {"/healthz", "GET", S::kOperations, kAuthBodyLimit, R::kIoThread, false, nullptr,
       &Router::Healthz},
      {"/readyz", "GET", S::kOperations, kAuthBodyLimit, R::kIoThread, false, nullptr,
       &Router::Readyz},
      {"/metrics", "GET", S::kOperations, kAuthBodyLimit, R::kIoThread, false, nullptr,
       &Router::MetricsText},
      // The admin console's files (docs/console.md); "/console" redirects to "/console/".
      {"/console/*", "GET", S::kOperations, kAuthBodyLimit, R::kIoThread, false, nullptr,
       &Router::Console},
      {"/console", "GET", S::kOperations, kAuthBodyLimit, R::kIoThread, false, nullptr,
       &Router::Console},
      {"/v1/*", "", S::kManagement, kApiBodyLimit, R::kBlockingPool, true, kManagementService,
       &Router::Management},
      // "/v1" alone names no resource (401 or 404): the default limit.
      {"/v1", "", S::kManagement, kAuthBodyLimit, R::kBlockingPool, true, kManagementService,
       &Router::Management},
      {"/{envID}/as/token", "POST", S::kAuth, kAuthBodyLimit, R::kIoThread, false, nullptr,
       &Router::Token, true},
      {"/{envID}/as/introspect", "POST", S::kAuth, kTokenBodyLimit, R::kIoThread, false,
       kIntrospectionService, &Router::Introspect, true},
      // Authenticates on the I/O thread; the store write then runs on the blocking pool
      // (Response::then_blocking).
      {"/{envID}/as/revoke", "POST", S::kAuth, kTokenBodyLimit, R::kIoThread, false,
       kRevocationService, &Router::Revoke, true},
      {"/{envID}/as/jwks", "GET", S::kAuth, kAuthBodyLimit, R::kIoThread, false, nullptr,
       &Router::Jwks},
      {"/{envID}/as/.well-known/openid-configuration", "GET", S::kAuth, kAuthBodyLimit,
       R::kIoThread, false, nullptr, &Router::Discovery},
      {"/{envID}/as/.well-known/oauth-authorization-server", "GET", S::kAuth, kAuthBodyLimit,
       R::kIoThread, false, nullptr, &Router::Discovery},
      // RFC 8414 §3.1 (and its §5 for OpenID Connect's name): the same documents at the
      // path-inserted locations of the issuer {auth-url}/{envID}/as.
      {"/.well-known/oauth-authorization-server/{envID}/as", "GET", S::kAuth, kAuthBodyLimit,
       R::kIoThread, false, nullptr, &Router::Discovery},
      {"/.well-known/openid-configuration/{envID}/as", "GET", S::kAuth, kAuthBodyLimit,
       R::kIoThread, false, nullptr, &Router::Discovery},
  };
  return kRoutes;
}

const Route& NoRoute() {
  static const Route kNoRoute{"", "", Surface::kAuth, kAuthBodyLimit, Runs::kIoThread};
  return kNoRoute;
}

size_t MaxBodyLimit() {
  static const size_t kMax =
      std::max_element(Routes().begin(), Routes().end(), [](const Route& a, const Route& b) {
        return a.body_limit < b.body_limit;
      })->body_limit;
  return kMax;
}

RouteMatch MatchRoute(std::string_view path) {
  auto [first, rest] = FirstSegment(path);
  auto [as, endpoint] = FirstSegment(rest);
  for (const Route& route : Routes()) {
    std::string_view pattern = route.pattern;
    if (pattern.starts_with(kEnvPrefix)) {
      if (as == "as" && endpoint == pattern.substr(kEnvPrefix.size())) return {&route, first};
    } else if (pattern.ends_with(kEnvSuffix)) {
      // "<prefix>/<env>/as" exactly: one non-empty environment segment, nothing after "as".
      const std::string_view prefix = pattern.substr(0, pattern.size() - kEnvSuffix.size() + 1);
      if (!path.starts_with(prefix)) continue;
      auto [env, tail] = FirstSegment(path.substr(prefix.size() - 1));
      if (!env.empty() && tail == "as") return {&route, env};
    } else if (pattern.ends_with("/*")) {
      if (path.starts_with(pattern.substr(0, pattern.size() - 1))) return {&route, {}};
    } else if (first == pattern.substr(1) && rest.empty()) {  // "/name", or "/name/"
      return {&route, {}};
    }
  }
  return {&NoRoute(), {}};
}

}  // namespace tollgate::http
