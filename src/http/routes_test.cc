// The route table (SPEC §1): each path resolves to the surface, body limit, thread and
// header-first check the session used before the table existed.
#include "http/routes.h"

#include <gtest/gtest.h>

#include "http/router.h"

namespace tollgate::http {
namespace {

constexpr size_t k16K = 16 * 1024;
constexpr size_t k32K = 32 * 1024;
constexpr size_t k1M = 1024 * 1024;
constexpr std::string_view kEnv = "8a3b3c1e-1f2a-4b5c-9d8e-0123456789ab";

struct Case {
  std::string path;
  std::string_view pattern;  // "" for no route
  std::string_view method;
  Surface surface;
  size_t body_limit;
  Runs runs;
  bool header_first;
};

std::string Env(std::string_view rest) {
  return "/" + std::string(kEnv) + "/as/" + std::string(rest);
}

TEST(RoutesTest, EveryPathKeepsItsSurfaceLimitAndThread) {
  using S = Surface;
  using R = Runs;
  const Case cases[] = {
      {"/healthz", "/healthz", "GET", S::kOperations, k16K, R::kIoThread, false},
      {"/healthz/", "/healthz", "GET", S::kOperations, k16K, R::kIoThread, false},
      {"/readyz", "/readyz", "GET", S::kOperations, k16K, R::kIoThread, false},
      {"/metrics", "/metrics", "GET", S::kOperations, k16K, R::kIoThread, false},
      {"/v1", "/v1", "", S::kManagement, k16K, R::kBlockingPool, true},
      {"/v1/", "/v1/*", "", S::kManagement, k1M, R::kBlockingPool, true},
      {"/v1/environments", "/v1/*", "", S::kManagement, k1M, R::kBlockingPool, true},
      {"/v1/environments/x/applications/y/grants", "/v1/*", "", S::kManagement, k1M,
       R::kBlockingPool, true},
      {"/v1/as/token", "/v1/*", "", S::kManagement, k1M, R::kBlockingPool, true},
      {Env("token"), "/{envID}/as/token", "POST", S::kAuth, k16K, R::kIoThread, false},
      {Env("introspect"), "/{envID}/as/introspect", "POST", S::kAuth, k32K, R::kIoThread, false},
      {Env("revoke"), "/{envID}/as/revoke", "POST", S::kAuth, k32K, R::kIoThread, false},
      {Env("jwks"), "/{envID}/as/jwks", "GET", S::kAuth, k16K, R::kIoThread, false},
      {Env(".well-known/openid-configuration"), "/{envID}/as/.well-known/openid-configuration",
       "GET", S::kAuth, k16K, R::kIoThread, false},
      {Env(".well-known/oauth-authorization-server"),
       "/{envID}/as/.well-known/oauth-authorization-server", "GET", S::kAuth, k16K, R::kIoThread,
       false},
      // RFC 8414 §3.1: the well-known segment inserted before the issuer's path.
      {"/.well-known/oauth-authorization-server/" + std::string(kEnv) + "/as",
       "/.well-known/oauth-authorization-server/{envID}/as", "GET", S::kAuth, k16K, R::kIoThread,
       false},
      {"/.well-known/openid-configuration/" + std::string(kEnv) + "/as",
       "/.well-known/openid-configuration/{envID}/as", "GET", S::kAuth, k16K, R::kIoThread, false},
      // No route: 404 on the I/O thread after at most 16 KiB.
      {"/", "", "", S::kAuth, k16K, R::kIoThread, false},
      {"/.well-known/oauth-authorization-server", "", "", S::kAuth, k16K, R::kIoThread, false},
      {"/.well-known/oauth-authorization-server/", "", "", S::kAuth, k16K, R::kIoThread, false},
      {"/.well-known/oauth-authorization-server/" + std::string(kEnv), "", "", S::kAuth, k16K,
       R::kIoThread, false},
      {"/.well-known/oauth-authorization-server/" + std::string(kEnv) + "/as/", "", "", S::kAuth,
       k16K, R::kIoThread, false},
      {"/.well-known/oauth-authorization-server/" + std::string(kEnv) + "/as/token", "", "",
       S::kAuth, k16K, R::kIoThread, false},
      {"/.well-known/oauth-authorization-server//as", "", "", S::kAuth, k16K, R::kIoThread, false},
      {"/.well-known/oauth-authorization-server/x/" + std::string(kEnv) + "/as", "", "", S::kAuth,
       k16K, R::kIoThread, false},
      {"/.well-known/openid-configurationx/" + std::string(kEnv) + "/as", "", "", S::kAuth, k16K,
       R::kIoThread, false},
      {"/.well-known/jwks/" + std::string(kEnv) + "/as", "", "", S::kAuth, k16K, R::kIoThread,
       false},
      {"/v1x", "", "", S::kAuth, k16K, R::kIoThread, false},
      {"/nothing", "", "", S::kAuth, k16K, R::kIoThread, false},
      {Env("token/"), "", "", S::kAuth, k16K, R::kIoThread, false},
      {Env("nothing"), "", "", S::kAuth, k16K, R::kIoThread, false},
      {"/" + std::string(kEnv) + "/token", "", "", S::kAuth, k16K, R::kIoThread, false},
  };
  for (const Case& c : cases) {
    const RouteMatch m = MatchRoute(c.path);
    ASSERT_NE(m.route, nullptr) << c.path;
    EXPECT_EQ(m.route->pattern, c.pattern) << c.path;
    EXPECT_EQ(m.route->method, c.method) << c.path;
    EXPECT_EQ(m.route->surface, c.surface) << c.path;
    EXPECT_EQ(m.route->body_limit, c.body_limit) << c.path;
    EXPECT_EQ(m.route->runs, c.runs) << c.path;
    EXPECT_EQ(m.route->header_first, c.header_first) << c.path;
    EXPECT_EQ(m.route == &NoRoute(), c.pattern.empty()) << c.path;
  }
}

TEST(RoutesTest, AuthRoutesKeepTheEnvironmentSegmentAsSent) {
  EXPECT_EQ(MatchRoute(Env("token")).env_id, kEnv);
  EXPECT_EQ(MatchRoute("/NOT-A-UUID/as/jwks").env_id, "NOT-A-UUID");
  EXPECT_EQ(
      MatchRoute("/.well-known/oauth-authorization-server/" + std::string(kEnv) + "/as").env_id,
      kEnv);
  EXPECT_EQ(MatchRoute("/.well-known/openid-configuration/NOT-A-UUID/as").env_id, "NOT-A-UUID");
  // Names that are not environments still reach the environment check, which answers 404.
  EXPECT_EQ(MatchRoute("/healthz/as/token").route->pattern, "/{envID}/as/token");
}

TEST(RoutesTest, TableIsWellFormed) {
  EXPECT_EQ(MaxBodyLimit(), k1M);
  for (const Route& r : Routes()) {
    EXPECT_NE(r.handle, nullptr) << r.pattern;
    EXPECT_EQ(MatchRoute(r.pattern.ends_with("/*")
                             ? std::string(r.pattern.substr(0, r.pattern.size() - 1)) + "x"
                             : std::string(r.pattern))
                  .route,
              &r)
        << r.pattern;
  }
}

}  // namespace
}  // namespace tollgate::http
