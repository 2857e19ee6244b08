// SPEC §2.4 as a table: one case per row of the scope and audience rules.
#include "oauth/scope_resolver.h"

#include <gtest/gtest.h>

#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

using model::AppType;
using testutil::EnvBuilder;
using testutil::kApiUrl;

constexpr char kOne[] = "https://api.one";
constexpr char kTwo[] = "https://api.two";

std::shared_ptr<const config::EnvironmentSnapshot> Env() {
  EnvBuilder b;
  b.Resource("one", kOne, 600, {"read", "write"})
      .Resource("two", kTwo, 1200, {"read", "admin"})
      .App("single")
      .Grant("single", "one", {"read", "write"})
      .App("multi_off")
      .Grant("multi_off", "one", {"read"})
      .Grant("multi_off", "two", {"admin"})
      .App("multi_on")
      .Grant("multi_on", "one", {"read"})
      .Grant("multi_on", "two", {"admin"});
  b.LastApp().request_scopes_for_multiple_resources_enabled = true;
  b.App("both_read")
      .Grant("both_read", "one", {"read"})
      .Grant("both_read", "two", {"read"})
      .App("worker_roles", AppType::kWorker)
      .Role("worker_roles")
      .App("worker_noroles", AppType::kWorker)
      .App("service_none")
      .App("worker_custom", AppType::kWorker)
      .Role("worker_custom")
      .Grant("worker_custom", "one", {"read"});
  return b.Build();
}

struct Row {
  const char* name;
  const char* app;
  std::optional<std::string> scope;
  std::vector<std::string> resources;
  // Expected success:
  std::vector<std::string> scopes;
  std::vector<std::string> audiences;
  int64_t lifetime;
  // Or expected error (empty: success):
  std::string error;
  std::string description;
};

Row Ok(const char* name, const char* app, std::optional<std::string> scope,
       std::vector<std::string> resources, std::vector<std::string> scopes,
       std::vector<std::string> audiences, int64_t lifetime) {
  return Row{name,
             app,
             std::move(scope),
             std::move(resources),
             std::move(scopes),
             std::move(audiences),
             lifetime,
             "",
             ""};
}

Row Err(const char* name, const char* app, std::optional<std::string> scope,
        std::vector<std::string> resources, std::string error, std::string description = "") {
  return Row{name, app, std::move(scope), std::move(resources),  {},
             {},   0,   std::move(error), std::move(description)};
}

class ScopeRules : public ::testing::TestWithParam<Row> {};

TEST_P(ScopeRules, Row) {
  static const auto env = Env();
  const Row& row = GetParam();
  const config::AppEntry* app = env->FindApp(row.app);
  ASSERT_NE(app, nullptr);
  auto result = ResolveScopes(*app, row.scope, row.resources, kApiUrl);
  if (row.error.empty()) {
    ASSERT_TRUE(result.ok()) << result.error().description;
    EXPECT_EQ(result->scopes, row.scopes);
    EXPECT_EQ(result->audiences, row.audiences);
    EXPECT_EQ(result->lifetime_seconds, row.lifetime);
  } else {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().WireCode(), row.error);
    EXPECT_EQ(result.error().HttpStatus(), 400);
    EXPECT_EQ(result.error().stage, ErrorStage::kValidation);
    if (!row.description.empty()) {
      EXPECT_EQ(result.error().description, row.description);
    }
  }
}

const std::string kMulti = "May not request scopes for multiple resources";

INSTANTIATE_TEST_SUITE_P(
    Spec24, ScopeRules,
    ::testing::Values(
        // Without scope.
        Ok("NoScopeOneResource", "single", std::nullopt, {}, {"read", "write"}, {kOne}, 600),
        Err("NoScopeTwoResourcesRefused", "multi_off", std::nullopt, {}, "invalid_scope", kMulti),
        Ok("NoScopeTwoResourcesAllowed", "multi_on", std::nullopt, {}, {"read", "admin"},
           {kOne, kTwo}, 600),
        Ok("NoScopeWorkerWithRoles", "worker_roles", std::nullopt, {}, {}, {kApiUrl}, 3600),
        Err("NoScopeWorkerWithoutRoles", "worker_noroles", std::nullopt, {}, "unauthorized_client"),
        Err("NoScopeNotWorkerNothingGranted", "service_none", std::nullopt, {}, "invalid_scope",
            "At least one scope must be granted"),
        Ok("WhitespaceOnlyScopeIsNoScope", "single", "   ", {}, {"read", "write"}, {kOne}, 600),
        // With scope, rule 1: only granted custom names; the rest is ignored.
        Ok("ScopeKeepsGrantedIgnoresRest", "single", "write unknown openid p1:read read", {},
           {"write", "read"}, {kOne}, 600),
        Ok("ScopeDuplicatesDropped", "single", "read read", {}, {"read"}, {kOne}, 600),
        Ok("ScopeSeveralSpaces", "single", "read   write", {}, {"read", "write"}, {kOne}, 600),
        Ok("ScopeSubsetOfOneResource", "multi_off", "admin", {}, {"admin"}, {kTwo}, 1200),
        // Rule 2: one resource unless the flag allows several.
        Err("ScopeTwoResourcesRefused", "multi_off", "read admin", {}, "invalid_scope", kMulti),
        Ok("ScopeTwoResourcesAllowed", "multi_on", "admin read", {}, {"admin", "read"},
           {kOne, kTwo}, 600),
        Err("NameInTwoResourcesCountsForBoth", "both_read", "read", {}, "invalid_scope", kMulti),
        // Rule 3: nothing granted.
        Ok("WorkerManagementTokenKeepsOidcScopes", "worker_roles", "openid foo profile", {},
           {"openid", "profile"}, {kApiUrl}, 3600),
        Ok("WorkerManagementTokenWithoutOidcScopes", "worker_roles", "foo", {}, {}, {kApiUrl},
           3600),
        Err("WorkerWithoutRolesRefused", "worker_noroles", "openid", {}, "unauthorized_client"),
        Err("NothingGrantedNamesTheScopes", "service_none", "foo bar", {}, "invalid_scope",
            "The following scopes could not be granted: foo bar"),
        Err("WorkerWithCustomResourceGetsNoManagementToken", "worker_custom", "openid", {},
            "invalid_scope"),
        Err("UngrantedNameOfOwnResource", "single", "admin", {}, "invalid_scope"),
        // RFC 6749 section 3.3 characters.
        Err("QuoteOutsideScopeCharset", "single", "read \"x", {}, "invalid_scope"),
        Err("TabOutsideScopeCharset", "single", "read\twrite", {}, "invalid_scope"),
        Err("BackslashOutsideScopeCharset", "single", "a\\b", {}, "invalid_scope"),
        // RFC 8707 resource.
        Ok("ResourceSelectsOneOfTwo", "multi_off", std::nullopt, {kTwo}, {"admin"}, {kTwo}, 1200),
        Err("ResourceUnknownIsInvalidTarget", "single", std::nullopt, {"https://nope"},
            "invalid_target"),
        Err("ResourceNarrowsScopes", "multi_off", "admin", {kOne}, "invalid_scope"),
        Ok("ResourceSettlesNameInTwoResources", "both_read", "read", {kTwo}, {"read"}, {kTwo},
           1200)),
    [](const auto& p) { return std::string(p.param.name); });

TEST(ScopeToken, CharacterSet) {
  EXPECT_TRUE(IsScopeToken("p1:read"));
  EXPECT_TRUE(IsScopeToken("!#[]~"));
  EXPECT_FALSE(IsScopeToken(""));
  EXPECT_FALSE(IsScopeToken("a b"));
  EXPECT_FALSE(IsScopeToken("caf\xC3\xA9"));
}

}  // namespace
}  // namespace tollgate::oauth
