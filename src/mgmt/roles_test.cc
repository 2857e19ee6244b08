// /v1/roles and .../applications/{appID}/roleAssignments through ManagementApi::Handle: the four
// built-in roles, the validation of an assignment, and that no caller hands out power it does
// not hold (SPEC §6).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>

#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::AppBody;
using testutil::Detail;
using testutil::IsForbidden;
using testutil::IsInvalidData;
using testutil::MgmtHarness;
using testutil::RoleAssignmentsPath;
using Role = testutil::Role;

constexpr Role kAdmin = Role::kOrganizationAdmin;
constexpr char kUnknownId[] = "0d0d0d0d-1111-4222-8333-444444444444";

json::object Assignment(const std::string& role_id, const std::string& scope_id,
                        const std::string& type) {
  return json::object{{"role", json::object{{"id", role_id}}},
                      {"scope", json::object{{"id", scope_id}, {"type", type}}}};
}

json::object Assignment(Role role, const std::string& scope_id) {
  return Assignment(testutil::RoleIdOf(role).str(), scope_id,
                    role == kAdmin ? "ORGANIZATION" : "ENVIRONMENT");
}

TEST(RolesTest, TheFourBuiltinRolesWithFixedIds) {
  MgmtHarness h;
  ApiReply r = h.Call(Role::kReadOnly, "GET", "/v1/roles");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Object().at("count"), 4);
  const auto& roles = r.Object().at("_embedded").at("roles").as_array();
  ASSERT_EQ(roles.size(), 4u);
  for (Role role : testutil::kAllRoles) {
    const std::string id = testutil::RoleIdOf(role).str();
    auto it = std::find_if(roles.begin(), roles.end(),
                           [&](const json::value& v) { return v.at("id").as_string() == id; });
    ASSERT_NE(it, roles.end()) << testutil::RoleName(role);
    EXPECT_EQ(it->at("name"), testutil::RoleName(role));
    EXPECT_TRUE(it->at("permissions").is_array());
    EXPECT_EQ(it->at("applicableTo"),
              (json::array{role == kAdmin ? "ORGANIZATION" : "ENVIRONMENT"}));
    EXPECT_EQ(h.Call(Role::kReadOnly, "GET", "/v1/roles/" + id).json, *it);
  }
}

TEST(RoleAssignmentsTest, InvalidAssignmentsNameTheField) {
  MgmtHarness h;
  const std::string e = h.env_e();
  const std::string worker = h.CreateWorker(e, "worker", {{Role::kReadOnly, e}});
  const std::string service = h.CreateApp(e, AppBody("svc"));
  const std::string ro = model::kConfigurationReadOnlyRoleId.str();
  const std::string oa = model::kOrganizationAdminRoleId.str();
  struct Case {
    const char* name;
    std::string app;
    json::object body;
    std::vector<Detail> details;
  };
  json::object no_role = Assignment(Role::kReadOnly, e);
  no_role.erase("role");
  json::object no_scope = Assignment(Role::kReadOnly, e);
  no_scope.erase("scope");
  json::object no_type = Assignment(Role::kReadOnly, e);
  no_type["scope"].as_object().erase("type");
  const std::vector<Case> cases = {
      {"role missing", worker, no_role, {{"REQUIRED_VALUE", "role.id"}}},
      {"role not a UUID",
       worker,
       Assignment("reader", e, "ENVIRONMENT"),
       {{"INVALID_VALUE", "role.id"}}},
      {"role unknown",
       worker,
       Assignment(kUnknownId, e, "ENVIRONMENT"),
       {{"INVALID_VALUE", "role.id"}}},
      {"scope missing", worker, no_scope, {{"REQUIRED_VALUE", "scope.id"}}},
      {"scope type missing", worker, no_type, {{"INVALID_VALUE", "scope.type"}}},
      {"scope type unknown", worker, Assignment(ro, e, "TEAM"), {{"INVALID_VALUE", "scope.type"}}},
      {"environment role on the organization",
       worker,
       Assignment(ro, h.org_id(), "ORGANIZATION"),
       {{"INVALID_VALUE", "scope.type"}}},
      {"organization role on an environment",
       worker,
       Assignment(oa, e, "ENVIRONMENT"),
       {{"INVALID_VALUE", "scope.type"}}},
      {"unknown environment",
       worker,
       Assignment(ro, kUnknownId, "ENVIRONMENT"),
       {{"INVALID_VALUE", "scope.id"}}},
      {"unknown organization",
       worker,
       Assignment(oa, kUnknownId, "ORGANIZATION"),
       {{"INVALID_VALUE", "scope.id"}}},
      {"not a worker", service, Assignment(Role::kReadOnly, e), {{"INVALID_VALUE", "role.id"}}},
      {"held already",
       worker,
       Assignment(Role::kReadOnly, e),
       {{"UNIQUENESS_VIOLATION", "role.id"}}},
  };
  const std::string before = h.DumpStore(e);
  for (const auto& c : cases) {
    EXPECT_TRUE(testutil::IsApiError(h.Call(kAdmin, "POST", RoleAssignmentsPath(e, c.app), c.body),
                                     400, "INVALID_DATA", c.details))
        << c.name;
  }
  EXPECT_EQ(h.DumpStore(e), before);
  // The same role on another environment is another assignment.
  ApiReply r = h.Call(kAdmin, "POST", RoleAssignmentsPath(e, worker),
                      Assignment(Role::kReadOnly, h.env_f()));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Object().at("scope"), (json::object{{"id", h.env_f()}, {"type", "ENVIRONMENT"}}));
  EXPECT_EQ(r.Object().at("role"), (json::object{{"id", ro}}));
}

// Only an Environment Admin of the scope (or an Organization Admin) creates an assignment;
// only an Organization Admin creates or deletes an organization-scoped one.
TEST(RoleAssignmentsTest, NoCallerHandsOutPowerItDoesNotHold) {
  MgmtHarness h;
  const std::string e = h.env_e();
  const std::string f = h.env_f();
  const std::string worker = h.CreateWorker(e, "worker", {});
  const std::string f_worker = h.CreateWorker(f, "worker", {});
  struct Case {
    const char* name;
    Role as;
    std::string app_env;
    std::string app;
    Role role;
    std::string scope;
    int status;
  };
  const std::vector<Case> cases = {
      {"env admin: read-only on E", Role::kEnvironmentAdmin, e, worker, Role::kReadOnly, e, 201},
      {"env admin: env admin of E", Role::kEnvironmentAdmin, e, worker, Role::kEnvironmentAdmin, e,
       201},
      {"env admin: org admin", Role::kEnvironmentAdmin, e, worker, kAdmin, h.org_id(), 403},
      {"env admin: read-only on F", Role::kEnvironmentAdmin, e, worker, Role::kReadOnly, f, 403},
      {"env admin: a worker of F", Role::kEnvironmentAdmin, f, f_worker, Role::kReadOnly, f, 403},
      {"env admin: an unknown environment", Role::kEnvironmentAdmin, e, worker, Role::kReadOnly,
       kUnknownId, 403},
      {"developer: read-only on E", Role::kAppDeveloper, e, worker, Role::kAppDeveloper, e, 403},
      {"read-only: read-only on E", Role::kReadOnly, e, worker, Role::kReadOnly, e, 403},
      {"org admin: developer on F for a worker of E", kAdmin, e, worker, Role::kAppDeveloper, f,
       201},
  };
  for (const auto& c : cases) {
    const std::string before = h.DumpStore(c.app_env);
    ApiReply r =
        h.Call(c.as, "POST", RoleAssignmentsPath(c.app_env, c.app), Assignment(c.role, c.scope));
    if (c.status == 403) {
      EXPECT_TRUE(IsForbidden(r)) << c.name;
      EXPECT_EQ(h.DumpStore(c.app_env), before) << c.name;
    } else {
      EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    }
  }

  // Deleting: an Environment Admin removes environment-scoped assignments of E's workers, not an
  // organization-scoped one.
  const std::string org_worker = h.CreateWorker(e, "org worker", {});
  const std::string org_ra = h.AssignRole(e, org_worker, kAdmin, h.org_id());
  const std::string env_ra = h.AssignRole(e, org_worker, Role::kReadOnly, e);
  const std::string org_path = RoleAssignmentsPath(e, org_worker) + "/" + org_ra;
  const std::string env_path = RoleAssignmentsPath(e, org_worker) + "/" + env_ra;
  EXPECT_TRUE(IsForbidden(h.Call(Role::kAppDeveloper, "DELETE", env_path)));
  EXPECT_TRUE(IsForbidden(h.Call(Role::kEnvironmentAdmin, "DELETE", org_path)));
  EXPECT_EQ(h.Call(Role::kEnvironmentAdmin, "DELETE", env_path).status, 204);
  EXPECT_EQ(h.Call(Role::kReadOnly, "GET", org_path).status, 200);
  EXPECT_EQ(h.Call(kAdmin, "DELETE", org_path).status, 204);
  EXPECT_EQ(h.Call(kAdmin, "GET", RoleAssignmentsPath(e, org_worker)).Object().at("count"), 0);
}

}  // namespace
}  // namespace tollgate::mgmt
