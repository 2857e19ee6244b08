// SPEC §6 authorization: which bearer tokens are accepted, and what each role reaches.
#include "mgmt/authz.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "oauth/token_issuer.h"
#include "testutil/fixtures.h"

namespace tollgate::mgmt {
namespace {

using testutil::EnvBuilder;

class AuthzTest : public ::testing::Test {
 protected:
  AuthzTest() : clock_(FromUnixMillis(1'800'000'000'000)), issuer_(clock_) {
    EnvBuilder b;
    b.App("admin", model::AppType::kWorker).Role("admin");
    b.App("svc");
    b.App("off", model::AppType::kWorker).Role("off");
    b.LastApp().enabled = false;
    env_ = b.Build();
    snapshot_.environments[env_->environment.id.str()] = env_;
  }

  std::string Token(const std::string& app, std::vector<std::string> aud, int64_t lifetime = 3600) {
    oauth::ScopeDecision d;
    d.audiences = std::move(aud);
    d.lifetime_seconds = lifetime;
    auto t = issuer_.Issue(*env_, *env_->FindApp(app), d);
    EXPECT_TRUE(t.ok());
    return t->jwt;
  }

  Result<Caller, ApiError> Auth(const std::string& header) {
    return AuthenticateBearer(header, snapshot_, urls_, clock_);
  }

  void ExpectUnauthorized(const std::string& header) {
    auto r = Auth(header);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().status, 401);
    EXPECT_EQ(r.error().code, "ACCESS_FAILED");
  }

  FakeClock clock_;
  oauth::TokenIssuer issuer_;
  std::shared_ptr<const config::EnvironmentSnapshot> env_;
  config::Snapshot snapshot_;
  config::Urls urls_{testutil::kAuthUrl, testutil::kApiUrl};
};

TEST_F(AuthzTest, AcceptsOurManagementToken) {
  auto r = Auth("Bearer " + Token("admin", {testutil::kApiUrl}));
  ASSERT_TRUE(r.ok()) << r.error().debug;
  EXPECT_EQ(r->application_id.str(), "admin");
  EXPECT_TRUE(r->IsOrganizationAdmin());
  EXPECT_TRUE(Auth("bearer " + Token("admin", {"other", testutil::kApiUrl})).ok());
}

TEST_F(AuthzTest, RefusesMissingOrMalformedHeaders) {
  EXPECT_EQ(AuthenticateBearer(std::nullopt, snapshot_, urls_, clock_).error().status, 401);
  ExpectUnauthorized("");
  ExpectUnauthorized("Basic abc");
  ExpectUnauthorized("Bearer ");
  ExpectUnauthorized("Bearer a.b.c");
  ExpectUnauthorized("Bearer not-a-jwt");
}

TEST_F(AuthzTest, RefusesWrongAudience) {
  ExpectUnauthorized("Bearer " + Token("admin", {"https://api.one"}));
}

TEST_F(AuthzTest, RefusesExpiredToken) {
  std::string t = Token("admin", {testutil::kApiUrl}, 300);
  clock_.Advance(std::chrono::seconds(300));
  ExpectUnauthorized("Bearer " + t);
}

TEST_F(AuthzTest, RefusesTamperedToken) {
  std::string t = Token("admin", {testutil::kApiUrl});
  size_t dot = t.find('.');
  // Swap the payload for one naming another client, keep the signature.
  std::string other = Token("svc", {testutil::kApiUrl});
  size_t odot = other.find('.');
  std::string forged =
      t.substr(0, dot) + other.substr(odot, other.rfind('.') - odot) + t.substr(t.rfind('.'));
  ExpectUnauthorized("Bearer " + forged);
  std::string flipped = t;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  ExpectUnauthorized("Bearer " + flipped);
}

TEST_F(AuthzTest, RefusesUnknownIssuerAndDisabledClient) {
  config::Urls other{"https://elsewhere.test", testutil::kApiUrl};
  auto r =
      AuthenticateBearer("Bearer " + Token("admin", {testutil::kApiUrl}), snapshot_, other, clock_);
  EXPECT_FALSE(r.ok());
  config::Snapshot empty;
  EXPECT_FALSE(
      AuthenticateBearer("Bearer " + Token("admin", {testutil::kApiUrl}), empty, urls_, clock_)
          .ok());
  ExpectUnauthorized("Bearer " + Token("off", {testutil::kApiUrl}));
}

// RefuteBearer runs before the body is read, on a snapshot that may lag the store: it refuses
// what no later snapshot could accept and leaves the rest to AuthenticateBearer.
TEST_F(AuthzTest, RefuteBearerRefusesWhatNoNewerSnapshotCouldAccept) {
  auto refute = [&](std::optional<std::string> header, const config::Snapshot& snapshot) {
    return RefuteBearer(header, snapshot, urls_, clock_);
  };
  const std::string good = Token("admin", {testutil::kApiUrl});
  std::string flipped = good;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  const std::string expiring = Token("admin", {testutil::kApiUrl}, 300);

  for (const std::optional<std::string>& header : std::vector<std::optional<std::string>>{
           std::nullopt, "", "Basic abc", "Bearer ", "Bearer a.b.c", "Bearer not-a-jwt",
           "Bearer " + flipped, "Bearer " + Token("admin", {"https://api.one"})}) {
    auto r = refute(header, snapshot_);
    ASSERT_TRUE(r.has_value()) << header.value_or("(none)");
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->code, "ACCESS_FAILED");
    EXPECT_TRUE(r->bearer_challenge);
    // The same error AuthenticateBearer gives, so the answer does not depend on the path taken.
    auto full = AuthenticateBearer(header, snapshot_, urls_, clock_);
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().code, r->code);
    EXPECT_EQ(full.error().message, r->message);
  }
  config::Urls other{"https://elsewhere.test", testutil::kApiUrl};
  EXPECT_TRUE(RefuteBearer("Bearer " + good, snapshot_, other, clock_).has_value());
  clock_.Advance(std::chrono::seconds(300));
  EXPECT_TRUE(refute("Bearer " + expiring, snapshot_).has_value());
}

TEST_F(AuthzTest, RefuteBearerLeavesToTheFullCheckWhatANewerSnapshotMightAccept) {
  const std::string good = Token("admin", {testutil::kApiUrl});
  EXPECT_FALSE(RefuteBearer("Bearer " + good, snapshot_, urls_, clock_).has_value());
  // An environment this node has not loaded yet (created on another node).
  config::Snapshot empty;
  EXPECT_FALSE(RefuteBearer("Bearer " + good, empty, urls_, clock_).has_value());
  EXPECT_FALSE(AuthenticateBearer("Bearer " + good, empty, urls_, clock_).ok());
  // A key this node has not loaded yet.
  const std::string header = R"({"alg":"RS256","kid":"a-newer-key","typ":"at+jwt"})";
  const std::string new_key = Base64UrlEncode(header) + good.substr(good.find('.'));
  EXPECT_FALSE(RefuteBearer("Bearer " + new_key, snapshot_, urls_, clock_).has_value());
  EXPECT_FALSE(Auth("Bearer " + new_key).ok());
  // An application disabled here, which may have been enabled since.
  const std::string off = Token("off", {testutil::kApiUrl});
  EXPECT_FALSE(RefuteBearer("Bearer " + off, snapshot_, urls_, clock_).has_value());
  ExpectUnauthorized("Bearer " + off);
}

model::RoleAssignment Assignment(const RoleId& role, model::RoleScopeType type, std::string scope) {
  model::RoleAssignment ra;
  ra.role_id = role;
  ra.scope_type = type;
  ra.scope_id = std::move(scope);
  return ra;
}

TEST(CallerTest, RoleReach) {
  const EnvId e("11111111-1111-4111-8111-111111111111");
  const EnvId f("22222222-2222-4222-8222-222222222222");
  using P = Permission;
  struct Case {
    RoleId role;
    std::vector<P> allowed;
  };
  const std::vector<P> all = {P::kRead, P::kReadSecrets, P::kManageApps, P::kAdminEnvironment,
                              P::kManageOrganization};
  const Case cases[] = {
      {model::kEnvironmentAdminRoleId,
       {P::kRead, P::kReadSecrets, P::kManageApps, P::kAdminEnvironment}},
      {model::kClientApplicationDeveloperRoleId, {P::kRead, P::kReadSecrets, P::kManageApps}},
      {model::kConfigurationReadOnlyRoleId, {P::kRead}},
  };
  for (const auto& c : cases) {
    Caller caller;
    caller.roles = {Assignment(c.role, model::RoleScopeType::kEnvironment, e.str())};
    EXPECT_FALSE(caller.IsOrganizationAdmin());
    for (P p : all) {
      const bool expected = std::find(c.allowed.begin(), c.allowed.end(), p) != c.allowed.end();
      EXPECT_EQ(caller.Can(p, e), expected) << c.role.str() << " " << static_cast<int>(p);
      EXPECT_FALSE(caller.Can(p, f)) << "an environment role never reaches another environment";
    }
  }
  Caller org;
  org.roles = {
      Assignment(model::kOrganizationAdminRoleId, model::RoleScopeType::kOrganization, "org")};
  EXPECT_TRUE(org.IsOrganizationAdmin());
  for (P p : all) EXPECT_TRUE(org.Can(p, f));
  Caller none;
  EXPECT_FALSE(none.Reaches(e));
}

// SPEC §6, no escalation: an actor controls an application only when it could create every role
// assignment that application holds.
TEST(CallerTest, MayControlOnlyApplicationsOfNoMorePower) {
  const std::string e = "11111111-1111-4111-8111-111111111111";
  const std::string f = "22222222-2222-4222-8222-222222222222";
  using T = model::RoleScopeType;
  const auto org_admin = Assignment(model::kOrganizationAdminRoleId, T::kOrganization, "org");
  const auto env_admin_e = Assignment(model::kEnvironmentAdminRoleId, T::kEnvironment, e);
  const auto env_admin_f = Assignment(model::kEnvironmentAdminRoleId, T::kEnvironment, f);
  const auto developer_e = Assignment(model::kClientApplicationDeveloperRoleId, T::kEnvironment, e);
  const auto read_only_e = Assignment(model::kConfigurationReadOnlyRoleId, T::kEnvironment, e);
  auto target = [](std::vector<model::RoleAssignment> roles) {
    config::AppEntry app;
    app.role_assignments = std::move(roles);
    return app;
  };
  const config::AppEntry targets[] = {target({}),
                                      target({org_admin}),
                                      target({env_admin_e}),
                                      target({env_admin_f}),
                                      target({developer_e}),
                                      target({read_only_e}),
                                      target({read_only_e, env_admin_f})};
  struct Case {
    model::RoleAssignment actor;
    std::vector<bool> controls;  // per target above
  };
  const Case cases[] = {
      {org_admin, {true, true, true, true, true, true, true}},
      {env_admin_e, {true, false, true, false, true, true, false}},
      {developer_e, {true, false, false, false, false, false, false}},
      {read_only_e, {true, false, false, false, false, false, false}},
  };
  for (const auto& c : cases) {
    Caller caller;
    caller.roles = {c.actor};
    for (size_t i = 0; i < std::size(targets); ++i) {
      EXPECT_EQ(caller.MayControl(targets[i]), c.controls[i]) << c.actor.role_id.str() << " " << i;
    }
    EXPECT_EQ(caller.MayAssign(T::kOrganization, "org"), c.actor.role_id == org_admin.role_id);
  }
}

}  // namespace
}  // namespace tollgate::mgmt
