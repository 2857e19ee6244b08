// What each of the four roles may do through ManagementApi::Handle (SPEC §6,
// docs/management-api.md "Roles and what they reach"): representative calls in the caller's
// own environment E and in another environment F, 403 against 404 for unknown IDs, and the
// no-escalation rule for applications that hold roles.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <map>

#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::AppBody;
using testutil::AppPath;
using testutil::AppsPath;
using testutil::EnvPath;
using testutil::GrantsPath;
using testutil::IsForbidden;
using testutil::IsNotFound;
using testutil::KeysPath;
using testutil::MgmtHarness;
using testutil::ResourcePath;
using testutil::ResourcesPath;
using testutil::RoleAssignmentsPath;
using Role = testutil::Role;

constexpr Role kAdmin = Role::kOrganizationAdmin;
constexpr char kUnknownId[] = "0c0c0c0c-1111-4222-8333-444444444444";

std::string PrintRole(const ::testing::TestParamInfo<Role>& info) {
  std::string name = testutil::RoleName(info.param);
  name.erase(std::remove(name.begin(), name.end(), ' '), name.end());
  return name;
}

// One request and the status each role gets, in order: Organization Admin, Environment Admin,
// Client Application Developer, Configuration Read Only; 0: not sent for that role. In `path`
// and `body`, {env} {svc} {worker} {res} {scope} {name} {n} stand for the environment's ID,
// a SERVICE application, a WORKER without roles, a resource, its scope, the environment's name
// and a counter.
struct Call {
  const char* name;
  const char* method;
  const char* path;
  const char* body;
  std::array<int, 4> in_e;
  std::array<int, 4> in_f;
};

class RoleReachTest : public ::testing::TestWithParam<Role> {
 protected:
  RoleReachTest() {
    for (const std::string& env : {h_.env_e(), h_.env_f()}) {
      svc_[env] = h_.CreateApp(env, AppBody("svc"));
      worker_[env] = h_.CreateWorker(env, "worker", {});
      resource_[env] = h_.CreateResource(env, "orders", {"read"});
    }
  }

  int Expected(const std::array<int, 4>& statuses) const {
    return statuses[static_cast<size_t>(GetParam())];
  }

  std::string Expand(std::string text, const std::string& env) {
    const std::pair<std::string, std::string> values[] = {
        {"{env}", env},
        {"{svc}", svc_[env]},
        {"{worker}", worker_[env]},
        {"{res}", resource_[env]},
        {"{scope}", h_.ScopeId(env, resource_[env], "read")},
        {"{name}", env == h_.env_e() ? "Administrators" : "Other"},
        {"{n}", std::to_string(++counter_)},
    };
    for (const auto& [key, value] : values) {
      for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
        text.replace(at, key.size(), value);
      }
    }
    return text;
  }

  MgmtHarness h_;
  std::map<std::string, std::string> svc_, worker_, resource_;
  int counter_ = 0;
};

TEST_P(RoleReachTest, RepresentativeCallsInItsOwnAndInAnotherEnvironment) {
  const Role role = GetParam();
  const std::string ro = model::kConfigurationReadOnlyRoleId.str();
  const std::string assign =
      "{\"role\":{\"id\":\"" + ro + "\"},\"scope\":{\"id\":\"{env}\",\"type\":\"ENVIRONMENT\"}}";
  const std::string app = json::serialize(AppBody("svc"));
  // clang-format off
  const Call calls[] = {
      {"read the environment", "GET", "/v1/environments/{env}", "",
       {200, 200, 200, 200}, {200, 403, 403, 403}},
      {"list applications", "GET", "/v1/environments/{env}/applications", "",
       {200, 200, 200, 200}, {200, 403, 403, 403}},
      {"read an application", "GET", "/v1/environments/{env}/applications/{svc}", "",
       {200, 200, 200, 200}, {200, 403, 403, 403}},
      {"list keys", "GET", "/v1/environments/{env}/keys", "",
       {200, 200, 200, 200}, {200, 403, 403, 403}},
      {"list role assignments", "GET",
       "/v1/environments/{env}/applications/{worker}/roleAssignments", "",
       {200, 200, 200, 200}, {200, 403, 403, 403}},
      {"read a secret", "GET", "/v1/environments/{env}/applications/{svc}/secret", "",
       {200, 200, 200, 403}, {200, 403, 403, 403}},
      {"read a resource secret", "GET", "/v1/environments/{env}/resources/{res}/secret", "",
       {200, 200, 200, 403}, {200, 403, 403, 403}},
      {"update an application", "PUT", "/v1/environments/{env}/applications/{svc}", app.c_str(),
       {200, 200, 200, 403}, {200, 403, 403, 403}},
      {"create a resource", "POST", "/v1/environments/{env}/resources", "{\"name\":\"r{n}\"}",
       {201, 201, 201, 403}, {201, 403, 403, 403}},
      {"create a grant", "POST", "/v1/environments/{env}/applications/{svc}/grants",
       "{\"resource\":{\"id\":\"{res}\"},\"scopes\":[{\"id\":\"{scope}\"}]}",
       {201, 201, 201, 403}, {201, 403, 403, 403}},
      {"create a key", "POST", "/v1/environments/{env}/keys", "{\"algorithm\":\"EC\"}",
       {201, 201, 403, 403}, {201, 403, 403, 403}},
      {"assign a role", "POST", "/v1/environments/{env}/applications/{worker}/roleAssignments",
       assign.c_str(),
       {201, 201, 403, 403}, {201, 403, 403, 403}},
      {"update the environment", "PUT", "/v1/environments/{env}", "{\"name\":\"{name}\"}",
       {200, 200, 403, 403}, {200, 403, 403, 403}},
      {"delete the environment", "DELETE", "/v1/environments/{env}", "",
       {0, 403, 403, 403}, {204, 403, 403, 403}},
  };
  // clang-format on
  for (const auto& c : calls) {
    for (const std::string& env : {h_.env_e(), h_.env_f()}) {
      const bool in_e = env == h_.env_e();
      const int expected = Expected(in_e ? c.in_e : c.in_f);
      if (expected == 0) continue;
      const std::string path = Expand(c.path, env);
      const std::string body = Expand(c.body, env);
      const std::string before = h_.DumpStore(env);
      ApiReply r = h_.Call(role, c.method, path, body);
      if (expected == 403) {
        EXPECT_TRUE(IsForbidden(r)) << c.name << (in_e ? " in E" : " in F");
        EXPECT_EQ(h_.DumpStore(env), before) << c.name;
      } else {
        EXPECT_EQ(r.status, expected) << c.name << (in_e ? " in E" : " in F") << ": " << r.body;
      }
    }
  }
}

// A body without a name: the Organization Admin gets past authorization to validation (a
// successful create, which generates an RSA key, is in api_test.cc); the others are refused
// before their body is read.
TEST_P(RoleReachTest, OnlyTheOrganizationAdminCreatesEnvironments) {
  const Role role = GetParam();
  ApiReply r = h_.Call(role, "POST", "/v1/environments", json::object{{"type", "SANDBOX"}});
  if (role == kAdmin) {
    EXPECT_TRUE(testutil::IsInvalidData(r, "REQUIRED_VALUE", "name"));
  } else {
    EXPECT_TRUE(IsForbidden(r));
    EXPECT_EQ(h_.config().Current()->environments.size(), 2u);
  }
}

TEST_P(RoleReachTest, TheEnvironmentListShowsWhatTheCallerReaches) {
  ApiReply r = h_.Call(GetParam(), "GET", "/v1/environments");
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> ids;
  for (const auto& env : r.Object().at("_embedded").at("environments").as_array()) {
    ids.emplace_back(env.at("id").as_string());
  }
  if (GetParam() == kAdmin) {
    EXPECT_EQ(ids, (std::vector<std::string>{h_.env_e(), h_.env_f()}));
  } else {
    EXPECT_EQ(ids, std::vector<std::string>{h_.env_e()});
  }
  EXPECT_EQ(r.Object().at("count"), ids.size());
  // The roles are public to every caller.
  EXPECT_EQ(h_.Call(GetParam(), "GET", "/v1/roles").status, 200);
}

// docs/management-api.md: 403 for an environment the caller does not reach, whether or not it
// exists (no oracle); 404 for unknown IDs the caller could see.
TEST_P(RoleReachTest, UnknownIdsAre404OnlyWhereTheCallerReaches) {
  const Role role = GetParam();
  const bool admin = role == kAdmin;
  const std::string unknown_env = EnvPath(kUnknownId);
  struct Case {
    std::string path;
    bool reachable;  // by every role; otherwise by the Organization Admin only
  };
  const std::vector<Case> cases = {
      {unknown_env, false},
      {unknown_env + "/applications", false},
      {"/v1/environments/not-a-uuid", false},
      {"/v1/environments/not-a-uuid/applications", false},
      {AppPath(h_.env_f(), kUnknownId), false},
      {AppPath(h_.env_f(), svc_[h_.env_f()]), false},
      {AppPath(h_.env_e(), kUnknownId), true},
      {AppPath(h_.env_e(), "not-a-uuid"), true},
      {AppPath(h_.env_e(), svc_[h_.env_f()]), true},  // F's application, asked for in E
      {ResourcePath(h_.env_e(), kUnknownId), true},
      {KeysPath(h_.env_e()) + "/" + kUnknownId, true},
      {GrantsPath(h_.env_e(), svc_[h_.env_e()]) + "/" + kUnknownId, true},
      {RoleAssignmentsPath(h_.env_e(), worker_[h_.env_e()]) + "/" + kUnknownId, true},
      {std::string("/v1/roles/") + kUnknownId, true},
  };
  for (const auto& c : cases) {
    ApiReply r = h_.Call(role, "GET", c.path);
    if (c.path == AppPath(h_.env_f(), svc_[h_.env_f()]) && admin) {
      EXPECT_EQ(r.status, 200) << c.path;
    } else if (c.reachable || admin) {
      EXPECT_TRUE(IsNotFound(r)) << c.path;
    } else {
      EXPECT_TRUE(IsForbidden(r)) << c.path;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Roles, RoleReachTest, ::testing::ValuesIn(testutil::kAllRoles), PrintRole);

// SPEC §6, no escalation: reading or rotating an application's secret, updating or deleting it
// needs the power to create every role assignment it holds.
class NoEscalationTest : public ::testing::TestWithParam<Role> {};

TEST_P(NoEscalationTest, AnActorControlsOnlyApplicationsOfNoMorePower) {
  const Role actor = GetParam();
  MgmtHarness h;
  const std::string e = h.env_e();
  const std::string f = h.env_f();
  struct Target {
    const char* name;
    const char* type;
    std::vector<std::pair<Role, std::string>> roles;
    std::array<bool, 4> controlled_by;  // per actor role
  };
  const std::vector<Target> targets = {
      {"service", "SERVICE", {}, {true, true, true, false}},
      {"worker without roles", "WORKER", {}, {true, true, true, false}},
      {"read-only on E", "WORKER", {{Role::kReadOnly, e}}, {true, true, false, false}},
      {"developer on E", "WORKER", {{Role::kAppDeveloper, e}}, {true, true, false, false}},
      {"admin of E", "WORKER", {{Role::kEnvironmentAdmin, e}}, {true, true, false, false}},
      {"admin of F", "WORKER", {{Role::kEnvironmentAdmin, f}}, {true, false, false, false}},
      {"read-only on E and admin of F",
       "WORKER",
       {{Role::kReadOnly, e}, {Role::kEnvironmentAdmin, f}},
       {true, false, false, false}},
      {"organization admin", "WORKER", {{kAdmin, h.org_id()}}, {true, false, false, false}},
  };
  for (const auto& t : targets) {
    SCOPED_TRACE(t.name);
    const std::string id = h.CreateApp(e, AppBody(t.name, t.type));
    for (const auto& [role, scope] : t.roles) h.AssignRole(e, id, role, scope);
    const bool allowed = t.controlled_by[static_cast<size_t>(actor)];
    const std::string path = AppPath(e, id);
    struct Action {
      const char* method;
      std::string path;
      json::value body;
      int status;
    };
    const Action actions[] = {
        {"GET", path + "/secret", nullptr, 200},
        {"POST", path + "/secret", nullptr, 200},
        {"DELETE", path + "/secret", nullptr, 204},
        {"PUT", path, AppBody(t.name, t.type), 200},
        {"DELETE", path, nullptr, 204},
    };
    for (const auto& a : actions) {
      const std::string before = h.DumpStore(e);
      ApiReply r = a.body.is_null() ? h.Call(actor, a.method, a.path)
                                    : h.Call(actor, a.method, a.path, a.body);
      if (allowed) {
        EXPECT_EQ(r.status, a.status) << a.method << " " << a.path << ": " << r.body;
      } else {
        EXPECT_TRUE(IsForbidden(r)) << a.method << " " << a.path;
        EXPECT_EQ(h.DumpStore(e), before) << a.method << " " << a.path;
      }
    }
    // Reading the application itself needs no control.
    if (!allowed) {
      EXPECT_EQ(h.Call(actor, "GET", path).status, 200);
    }
  }
}

// The caller's own application is no exception: a developer cannot read its own secret (it holds
// a role only an Environment Admin may assign), an Environment Admin can.
TEST_P(NoEscalationTest, TheCallersOwnSecret) {
  const Role actor = GetParam();
  MgmtHarness h;
  const std::string path = AppPath(h.env_e(), h.caller_id(actor)) + "/secret";
  ApiReply r = h.Call(actor, "GET", path);
  if (actor == kAdmin || actor == Role::kEnvironmentAdmin) {
    EXPECT_EQ(r.status, 200) << r.body;
  } else {
    EXPECT_TRUE(IsForbidden(r));
  }
}

INSTANTIATE_TEST_SUITE_P(Roles, NoEscalationTest, ::testing::ValuesIn(testutil::kAllRoles),
                         PrintRole);

}  // namespace
}  // namespace tollgate::mgmt
