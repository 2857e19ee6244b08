// mgmt::ManagementApi::Handle at the request level (SPEC §6): bearer authentication, malformed
// and mistyped bodies, unknown paths and methods, that a write is in the node's snapshot (and so
// at the token endpoint) when Handle returns, and that a refused write changes nothing.
#include "mgmt/api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>

#include "common/base64.h"
#include "oauth/brute_force.h"
#include "oauth/test_support.h"
#include "oauth/token_endpoint.h"
#include "testutil/fixtures.h"
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
using testutil::IsApiError;
using testutil::IsForbidden;
using testutil::IsInvalidData;
using testutil::IsNotFound;
using testutil::IsUnauthorized;
using testutil::KeysPath;
using testutil::MgmtHarness;
using testutil::ResourcePath;
using testutil::ResourcesPath;
using testutil::RoleAssignmentsPath;
using testutil::ScopesPath;
using Role = testutil::Role;
using std::chrono::seconds;

ApiReply Get(MgmtHarness& h, std::optional<std::string> authorization,
             std::string_view path = "/v1/environments") {
  mgmt::ApiRequest request;
  request.method = "GET";
  request.path = path;
  request.authorization = authorization;
  return h.Send(request);
}

TEST(ManagementApiTest, AValidBearerTokenIsAccepted) {
  MgmtHarness h;
  ApiReply r = Get(h, h.Bearer(Role::kOrganizationAdmin));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Object().at("count").as_int64(), 2);
  EXPECT_EQ(Get(h, "bearer " + h.Bearer(Role::kReadOnly).substr(7)).status, 200)
      << "the scheme is case-insensitive";
}

TEST(ManagementApiTest, MissingGarbageExpiredOrMisaddressedBearerIs401) {
  MgmtHarness h;
  const std::string e = h.env_e();
  const std::string admin = h.caller_id(Role::kOrganizationAdmin);
  // Issued before the clock moves or the application changes.
  const std::string short_lived = h.Bearer(e, admin, {}, 300);
  const std::string for_a_resource = h.Bearer(e, admin, {"https://resource.example"});
  const std::string for_the_auth_url = h.Bearer(e, admin, {testutil::kAuthUrl});
  const std::string disabled_worker = h.CreateWorker(e, "soon disabled", {{Role::kReadOnly, e}});
  const std::string deleted_worker = h.CreateWorker(e, "soon deleted", {{Role::kReadOnly, e}});
  const std::string of_disabled = h.Bearer(e, disabled_worker);
  const std::string of_deleted = h.Bearer(e, deleted_worker);
  const std::string valid = h.Bearer(Role::kOrganizationAdmin);
  json::object off = AppBody("soon disabled", "WORKER");
  off["enabled"] = false;
  ASSERT_EQ(h.Call(Role::kOrganizationAdmin, "PUT", AppPath(e, disabled_worker), off).status, 200);
  ASSERT_EQ(h.Call(Role::kOrganizationAdmin, "DELETE", AppPath(e, deleted_worker)).status, 204);
  // A valid token with its signature's last character changed.
  std::string tampered = valid;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  h.clock().Advance(seconds(299));
  ASSERT_EQ(Get(h, short_lived).status, 200) << "still valid one second before exp";
  h.clock().Advance(seconds(1));

  struct Case {
    const char* name;
    std::optional<std::string> authorization;
  };
  const Case cases[] = {
      {"no Authorization header", std::nullopt},
      {"empty", ""},
      {"Basic credentials", "Basic " + Base64Encode(admin + ":secret")},
      {"Bearer without a token", "Bearer "},
      {"Bearer garbage", "Bearer garbage"},
      {"three empty parts", "Bearer a.b.c"},
      {"unsigned", "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."},
      {"expired", short_lived},
      {"aud is a resource", for_a_resource},
      {"aud is the auth url", for_the_auth_url},
      {"disabled application", of_disabled},
      {"deleted application", of_deleted},
      {"tampered signature", tampered},
  };
  for (const auto& c : cases) {
    EXPECT_TRUE(IsUnauthorized(Get(h, c.authorization))) << c.name;
    // Authentication comes first: neither an unknown path nor a bad body is looked at.
    EXPECT_TRUE(IsUnauthorized(Get(h, c.authorization, "/v1/no-such-thing"))) << c.name;
    mgmt::ApiRequest post;
    post.method = "POST";
    post.path = "/v1/environments";
    post.body = "{";
    post.content_type = "text/plain";
    post.authorization = c.authorization;
    EXPECT_TRUE(IsUnauthorized(h.Send(post))) << c.name;
  }
}

// Every JSON-reading endpoint, with a body that is not a JSON object.
struct BodyEndpoint {
  const char* name;
  const char* method;
  std::string path;
};

std::vector<BodyEndpoint> BodyEndpoints(MgmtHarness& h) {
  const std::string e = h.env_e();
  const std::string app = h.CreateApp(e, AppBody("svc"));
  const std::string res = h.CreateResource(e, "api", {"read"});
  const std::string scope = h.ScopeId(e, res, "read");
  const std::string grant = h.CreateGrant(e, app, res, {scope});
  const std::string worker = h.CreateWorker(e, "worker", {});
  return {
      {"create environment", "POST", "/v1/environments"},
      {"update environment", "PUT", EnvPath(e)},
      {"create application", "POST", AppsPath(e)},
      {"update application", "PUT", AppPath(e, app)},
      {"rotate secret", "POST", AppPath(e, app) + "/secret"},
      {"create grant", "POST", GrantsPath(e, app)},
      {"update grant", "PUT", GrantsPath(e, app) + "/" + grant},
      {"create role assignment", "POST", RoleAssignmentsPath(e, worker)},
      {"create resource", "POST", ResourcesPath(e)},
      {"update resource", "PUT", ResourcePath(e, res)},
      {"rotate resource secret", "POST", ResourcePath(e, res) + "/secret"},
      {"create scope", "POST", ScopesPath(e, res)},
      {"update scope", "PUT", ScopesPath(e, res) + "/" + scope},
      {"create key", "POST", KeysPath(e)},
      {"update key", "PUT", KeysPath(e) + "/" + h.DefaultKey(e)},
  };
}

TEST(ManagementApiTest, ABodyThatIsNotAJsonObjectIsInvalidRequest) {
  MgmtHarness h;
  const char* bodies[] = {"{",          "{\"name\":",
                          "[]",         "[{\"name\":\"x\"}]",
                          "\"text\"",   "42",
                          "null",       "{\"name\":\"x\"} trailing",
                          "\xff\xfe{}", "{\"name\":\"\xc3\"}"};
  for (const auto& ep : BodyEndpoints(h)) {
    const std::string baseline = h.DumpStore(h.env_e());
    for (const char* body : bodies) {
      ApiReply r = h.Call(Role::kOrganizationAdmin, ep.method, ep.path, std::string_view(body));
      EXPECT_TRUE(IsApiError(r, 400, "INVALID_REQUEST")) << ep.name << " with " << body;
    }
    EXPECT_EQ(h.DumpStore(h.env_e()), baseline) << ep.name;
  }
}

TEST(ManagementApiTest, ABodyThatIsNotApplicationJsonIs415) {
  MgmtHarness h;
  const std::vector<std::optional<std::string>> refused = {
      std::nullopt,        "text/plain", "application/x-www-form-urlencoded",
      "application/jsonp", "text/json",  "multipart/form-data; boundary=x"};
  const std::vector<std::string> accepted = {"application/json", "application/json; charset=utf-8",
                                             "Application/JSON"};
  for (const auto& ep : BodyEndpoints(h)) {
    const std::string baseline = h.DumpStore(h.env_e());
    for (const auto& type : refused) {
      mgmt::ApiRequest request;
      const std::string bearer = h.Bearer(Role::kOrganizationAdmin);
      request.method = ep.method;
      request.path = ep.path;
      request.body = "{\"name\":\"valid-json\"}";
      request.content_type = type;
      request.authorization = bearer;
      EXPECT_TRUE(IsApiError(h.Send(request), 415, "INVALID_REQUEST"))
          << ep.name << " with " << type.value_or("no content type");
    }
    EXPECT_EQ(h.DumpStore(h.env_e()), baseline) << ep.name;
  }
  // The same body with a JSON media type gets past the parser (to validation or success).
  int n = 0;
  for (const auto& type : accepted) {
    mgmt::ApiRequest request;
    const std::string bearer = h.Bearer(Role::kOrganizationAdmin);
    const std::string path = ResourcesPath(h.env_e());
    request.method = "POST";
    request.path = path;
    const std::string body = "{\"name\":\"r-" + std::to_string(++n) + "\"}";
    request.body = body;
    request.content_type = type;
    request.authorization = bearer;
    EXPECT_EQ(h.Send(request).status, 201) << type;
  }
}

TEST(ManagementApiTest, UnknownPathsAre404AndUnsupportedMethods405) {
  MgmtHarness h;
  const std::string e = h.env_e();
  const std::string app = h.CreateApp(e, AppBody("svc"));
  for (const std::string& path :
       {std::string("/v1"), std::string("/v1/"), std::string("/v1/nothing"),
        std::string("/v1/environments//applications"), EnvPath(e) + "/nothing",
        AppPath(e, app) + "/nothing", AppPath(e, app) + "/secret/more",
        std::string("/v1/roles/x/y")}) {
    EXPECT_TRUE(IsNotFound(h.Call(Role::kOrganizationAdmin, "GET", path))) << path;
  }
  struct Case {
    const char* method;
    std::string path;
    const char* allow;
  };
  const Case cases[] = {
      {"DELETE", "/v1/environments", "GET, POST"},
      {"PATCH", EnvPath(e), "GET, PUT, DELETE"},
      {"PUT", AppsPath(e), "GET, POST"},
      {"POST", AppPath(e, app), "GET, PUT, DELETE"},
      {"PUT", AppPath(e, app) + "/secret", "GET, POST, DELETE"},
      {"POST", "/v1/roles", "GET"},
      {"DELETE", KeysPath(e), "GET, POST"},
  };
  for (const auto& c : cases) {
    ApiReply r = h.Call(Role::kOrganizationAdmin, c.method, c.path);
    EXPECT_TRUE(IsApiError(r, 405, "METHOD_NOT_ALLOWED")) << c.method << " " << c.path;
    EXPECT_EQ(r.Header("Allow"), std::optional<std::string>(c.allow)) << c.method << " " << c.path;
  }
}

// SPEC §7 / docs/management-api.md "Consistency": the node's snapshot holds a write before the
// response is sent, so the token endpoint honours it from the next request on.
class WriteThenReadTest : public ::testing::Test {
 protected:
  WriteThenReadTest()
      : throttle_(h_.clock()),
        endpoint_(oauth::ClientAuthServices{h_.clock(), throttle_}, testutil::kApiUrl) {}

  const config::EnvironmentSnapshot& Env() {
    snapshot_ = h_.config().Current();
    const config::EnvironmentSnapshot* env = snapshot_->FindEnvironment(h_.env_e());
    if (env == nullptr) throw std::runtime_error("E is not in the snapshot");
    return *env;
  }

  Result<oauth::TokenResponse, oauth::OAuthError> Token(const std::string& client,
                                                        const std::string& secret) {
    oauth::TokenRequest request;
    request.remote_address = "192.0.2.1";
    request.grant_type = "client_credentials";
    request.authorization = "Basic " + Base64Encode(client + ":" + secret);
    return oauth::Settled(endpoint_.Handle(request, Env()));
  }

  std::string Secret(const std::string& app) {
    ApiReply r = h_.Call(Role::kOrganizationAdmin, "GET", AppPath(h_.env_e(), app) + "/secret");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Str("secret");
  }

  MgmtHarness h_;
  oauth::FailureThrottle throttle_;
  oauth::TokenEndpoint endpoint_;
  std::shared_ptr<const config::Snapshot> snapshot_;
};

TEST_F(WriteThenReadTest, ApplicationsGrantsAndSecretsReachTheTokenEndpointAtOnce) {
  const std::string e = h_.env_e();
  ApiReply created = h_.Call(Role::kOrganizationAdmin, "POST", AppsPath(e), AppBody("svc"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string app = created.Str("id");
  ASSERT_NE(Env().FindApp(app), nullptr) << "the new application is in the snapshot";
  const std::string secret = Secret(app);
  EXPECT_EQ(Env().FindApp(app)->secret, secret);
  auto refused = Token(app, secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().WireCode(), "invalid_scope") << "no grant yet";

  const std::string res = h_.CreateResource(e, "orders", {"orders:read", "orders:write"});
  ASSERT_EQ(h_.Call(Role::kOrganizationAdmin, "PUT", ResourcePath(e, res),
                    json::object{{"name", "orders"},
                                 {"audience", "https://orders.example"},
                                 {"accessTokenValiditySeconds", 900}})
                .status,
            200);
  const std::string grant = h_.CreateGrant(e, app, res, {h_.ScopeId(e, res, "orders:read")});
  auto issued = Token(app, secret);
  ASSERT_TRUE(issued.ok()) << issued.error().WireCode();
  EXPECT_EQ(issued->scope, "orders:read");
  EXPECT_EQ(issued->expires_in, 900);

  ASSERT_EQ(
      h_.Call(Role::kOrganizationAdmin, "PUT", GrantsPath(e, app) + "/" + grant,
              json::object{{"resource", json::object{{"id", res}}},
                           {"scopes",
                            json::array{json::object{{"id", h_.ScopeId(e, res, "orders:write")}}}}})
          .status,
      200);
  issued = Token(app, secret);
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->scope, "orders:write");

  // Rotation without a grace period: the old secret stops working with the response.
  ApiReply rotated = h_.Call(Role::kOrganizationAdmin, "POST", AppPath(e, app) + "/secret");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string next = rotated.Str("secret");
  EXPECT_EQ(Token(app, secret).error().WireCode(), "invalid_client");
  EXPECT_TRUE(Token(app, next).ok());

  // Rotation keeping the replaced secret for 10 minutes.
  const std::string until = FormatRfc3339(h_.clock().Now() + std::chrono::minutes(10));
  rotated = h_.Call(Role::kOrganizationAdmin, "POST", AppPath(e, app) + "/secret",
                    json::object{{"previous", json::object{{"expiresAt", until}}}});
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string third = rotated.Str("secret");
  EXPECT_TRUE(Token(app, next).ok()) << "the previous secret works until expiresAt";
  EXPECT_TRUE(Token(app, third).ok());
  ASSERT_EQ(h_.Call(Role::kOrganizationAdmin, "DELETE", AppPath(e, app) + "/secret").status, 204);
  EXPECT_EQ(Token(app, next).error().WireCode(), "invalid_client") << "previous dropped";

  // Disabled, then deleted.
  json::object off = AppBody("svc");
  off["enabled"] = false;
  ASSERT_EQ(h_.Call(Role::kOrganizationAdmin, "PUT", AppPath(e, app), off).status, 200);
  EXPECT_EQ(Token(app, third).error().WireCode(), "invalid_client");
  ASSERT_EQ(h_.Call(Role::kOrganizationAdmin, "DELETE", AppPath(e, app)).status, 204);
  EXPECT_EQ(Env().FindApp(app), nullptr);
}

TEST_F(WriteThenReadTest, DeletingAResourceTakesItsScopesAndGrantsFromTheSnapshot) {
  const std::string e = h_.env_e();
  const std::string app = h_.CreateApp(e, AppBody("svc"));
  const std::string res = h_.CreateResource(e, "orders", {"read"});
  h_.CreateGrant(e, app, res, {h_.ScopeId(e, res, "read")});
  ASSERT_EQ(Env().FindApp(app)->custom_grants.size(), 1u);
  ASSERT_EQ(h_.Call(Role::kOrganizationAdmin, "DELETE", ResourcePath(e, res)).status, 204);
  EXPECT_TRUE(Env().FindApp(app)->custom_grants.empty());
  EXPECT_TRUE(Env().data->grants.empty());
  for (const auto& s : Env().data->scopes) EXPECT_NE(s.resource_id.str(), res);
  ApiReply grants = h_.Call(Role::kOrganizationAdmin, "GET", GrantsPath(e, app));
  EXPECT_EQ(grants.Object().at("count").as_int64(), 0);
}

TEST_F(WriteThenReadTest, ANewDefaultKeySignsFromTheNextToken) {
  const std::string e = h_.env_e();
  const std::string old_default = h_.DefaultKey(e);
  ApiReply key = h_.Call(Role::kOrganizationAdmin, "POST", KeysPath(e),
                         json::object{{"algorithm", "EC"}, {"default", true}});
  ASSERT_EQ(key.status, 201) << key.body;
  ASSERT_NE(Env().default_key, nullptr);
  EXPECT_EQ(Env().default_key->key.id.str(), key.Str("id"));
  EXPECT_EQ(Env().default_key->signer->JwsAlg(), "ES256");
  ASSERT_NE(Env().FindKey(old_default), nullptr) << "the old key stays published";
  // The management API accepts tokens signed by the new key.
  EXPECT_EQ(h_.Call(Role::kReadOnly, "GET", AppsPath(e)).status, 200);
}

TEST_F(WriteThenReadTest, RoleChangesDecideTheNextRequest) {
  const std::string e = h_.env_e();
  const std::string worker = h_.CreateWorker(e, "w", {{Role::kReadOnly, e}});
  const std::string bearer = h_.Bearer(e, worker);
  const std::string path = AppsPath(e);
  auto get = [&] {
    mgmt::ApiRequest request;
    request.method = "GET";
    request.path = path;
    request.authorization = bearer;
    return h_.Send(request);
  };
  EXPECT_EQ(get().status, 200);
  ApiReply list = h_.Call(Role::kOrganizationAdmin, "GET", RoleAssignmentsPath(e, worker));
  const std::string ra =
      std::string(list.Object().at("_embedded").at("roleAssignments").at(0).at("id").as_string());
  ASSERT_EQ(
      h_.Call(Role::kOrganizationAdmin, "DELETE", RoleAssignmentsPath(e, worker) + "/" + ra).status,
      204);
  EXPECT_TRUE(IsForbidden(get())) << "the same token, without the role";
  EXPECT_FALSE(Env().FindApp(worker)->has_role_assignments);
}

TEST_F(WriteThenReadTest, EnvironmentsAppearAndDisappear) {
  ApiReply created = h_.Call(Role::kOrganizationAdmin, "POST", "/v1/environments",
                             json::object{{"name", "Fresh"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string fresh = created.Str("id");
  const auto* env = h_.config().Current()->FindEnvironment(fresh);
  ASSERT_NE(env, nullptr);
  EXPECT_NE(env->default_key, nullptr) << "a new environment signs from the start";

  // A worker of E holding a role on F loses it with F: E's snapshot changes too.
  const std::string worker = h_.CreateWorker(h_.env_e(), "w", {{Role::kReadOnly, h_.env_f()}});
  ASSERT_TRUE(Env().FindApp(worker)->has_role_assignments);
  ASSERT_EQ(h_.Call(Role::kOrganizationAdmin, "DELETE", EnvPath(h_.env_f())).status, 204);
  EXPECT_EQ(h_.config().Current()->FindEnvironment(h_.env_f()), nullptr);
  EXPECT_NE(h_.config().Current()->FindEnvironment(fresh), nullptr);
  EXPECT_FALSE(Env().FindApp(worker)->has_role_assignments);
  EXPECT_EQ(h_.Call(Role::kOrganizationAdmin, "GET", RoleAssignmentsPath(h_.env_e(), worker))
                .Object()
                .at("count"),
            0);
}

// A refused write leaves the store as it was: validation, permission and uniqueness failures,
// each checked against a dump of both environments.
TEST(ManagementApiTest, ARefusedWriteChangesNothing) {
  MgmtHarness h;
  const std::string e = h.env_e();
  const std::string f = h.env_f();
  const std::string app = h.CreateApp(e, AppBody("svc"));
  h.CreateApp(e, AppBody("taken"));
  const std::string res = h.CreateResource(e, "orders", {"read"});
  const std::string other_res = h.CreateResource(e, "other", {"x"});
  const std::string scope = h.ScopeId(e, res, "read");
  const std::string grant = h.CreateGrant(e, app, res, {scope});
  const std::string admin_worker =
      h.CreateWorker(e, "org worker", {{Role::kOrganizationAdmin, h.org_id()}});
  const std::string openid = h.BuiltinResource(e, model::ResourceType::kOpenIdConnect);
  json::object none_cc = AppBody("public");
  none_cc["tokenEndpointAuthMethod"] = "NONE";
  json::object renamed = AppBody("taken");
  json::object bad_grant{
      {"resource", json::object{{"id", res}}},
      {"scopes", json::array{json::object{{"id", h.ScopeId(e, other_res, "x")}}}}};
  const std::string past = FormatRfc3339(h.clock().Now() - seconds(1));

  struct Case {
    const char* name;
    Role as;
    const char* method;
    std::string path;
    std::string body;
    int status;
  };
  const Case cases[] = {
      {"invalid application", Role::kOrganizationAdmin, "POST", AppsPath(e), "{\"name\":1}", 400},
      {"NONE with CLIENT_CREDENTIALS", Role::kOrganizationAdmin, "POST", AppsPath(e),
       json::serialize(none_cc), 400},
      {"duplicate application name", Role::kOrganizationAdmin, "POST", AppsPath(e),
       json::serialize(AppBody("svc")), 400},
      {"rename onto a taken name", Role::kOrganizationAdmin, "PUT", AppPath(e, app),
       json::serialize(renamed), 400},
      {"duplicate resource name", Role::kOrganizationAdmin, "POST", ResourcesPath(e),
       "{\"name\":\"orders\"}", 400},
      {"duplicate scope name", Role::kOrganizationAdmin, "POST", ScopesPath(e, res),
       "{\"name\":\"read\"}", 400},
      {"grant of another resource's scope", Role::kOrganizationAdmin, "PUT",
       GrantsPath(e, app) + "/" + grant, json::serialize(bad_grant), 400},
      {"built-in resource update", Role::kOrganizationAdmin, "PUT", ResourcePath(e, openid),
       "{\"name\":\"mine\"}", 400},
      {"built-in resource delete", Role::kOrganizationAdmin, "DELETE", ResourcePath(e, openid), "",
       400},
      {"default key delete", Role::kOrganizationAdmin, "DELETE",
       KeysPath(e) + "/" + h.DefaultKey(e), "", 400},
      {"default key revoke", Role::kOrganizationAdmin, "PUT", KeysPath(e) + "/" + h.DefaultKey(e),
       "{\"status\":\"REVOKED\"}", 400},
      {"previous secret in the past", Role::kOrganizationAdmin, "POST", AppPath(e, app) + "/secret",
       "{\"previous\":{\"expiresAt\":\"" + past + "\"}}", 400},
      {"read-only creates an application", Role::kReadOnly, "POST", AppsPath(e),
       json::serialize(AppBody("new")), 403},
      {"read-only rotates a secret", Role::kReadOnly, "POST", AppPath(e, app) + "/secret", "", 403},
      {"developer deletes an organization worker", Role::kAppDeveloper, "DELETE",
       AppPath(e, admin_worker), "", 403},
      {"environment admin rotates an organization worker's secret", Role::kEnvironmentAdmin, "POST",
       AppPath(e, admin_worker) + "/secret", "", 403},
      {"developer creates a key", Role::kAppDeveloper, "POST", KeysPath(e),
       "{\"algorithm\":\"EC\"}", 403},
      {"environment admin writes in F", Role::kEnvironmentAdmin, "POST", ResourcesPath(f),
       "{\"name\":\"x\"}", 403},
      {"environment admin deletes F", Role::kEnvironmentAdmin, "DELETE", EnvPath(f), "", 403},
      {"environment admin deletes E", Role::kEnvironmentAdmin, "DELETE", EnvPath(e), "", 403},
      {"environment admin creates an environment", Role::kEnvironmentAdmin, "POST",
       "/v1/environments", "{\"name\":\"new\"}", 403},
  };
  const std::string before_e = h.DumpStore(e);
  const std::string before_f = h.DumpStore(f);
  for (const auto& c : cases) {
    h.clock().Advance(seconds(1));  // a write would leave a new updatedAt behind
    ApiReply r = h.Call(c.as, c.method, c.path, std::string_view(c.body));
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_EQ(h.DumpStore(e), before_e) << c.name;
    EXPECT_EQ(h.DumpStore(f), before_f) << c.name;
  }
  EXPECT_NE(before_e.find("name='svc'"), std::string::npos) << "the dump shows the data";
}

}  // namespace
}  // namespace tollgate::mgmt
