// The storage contract: every rule of store.h, one test each. Instantiated per backend (see
// sqlite_backend.cc); every test runs on a fresh, empty database.

#include "store_contract.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <stdexcept>
#include <thread>

#include "common/uuid.h"
#include "test_codec.h"

namespace tollgate::storage::testing {
namespace {

using model::RoleScopeType;

// ------------------------------------------------------------------------------------------
// Opening and roundtrips.

TEST_P(StoreContractTest, FreshStoreIsEmpty) {
  Deployment d = Load();
  EXPECT_FALSE(d.organization.has_value());
  EXPECT_TRUE(d.environments.empty());
}

TEST_P(StoreContractTest, OrganizationRoundtrip) {
  model::Organization org = MakeOrganization();
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(org); })));
  Deployment d = Load();
  ASSERT_TRUE(d.organization.has_value());
  EXPECT_EQ(Fields(*d.organization), Fields(org));
}

TEST_P(StoreContractTest, EnvironmentRoundtrip) {
  SeedEnvironment();
  model::Environment other = MakeEnvironment();
  other.type = model::EnvironmentType::kSandbox;
  other.region = model::Region::kSG;
  other.description = "";
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(other); })));
  EXPECT_EQ(Fields(LoadEnv(env_.id).environment), Fields(env_));
  EXPECT_EQ(Fields(LoadEnv(other.id).environment), Fields(other));
}

TEST_P(StoreContractTest, LoadEnvironmentOfUnknownIdIsNotFound) {
  SeedEnvironment();
  EXPECT_TRUE(IsError(store().LoadEnvironment(EnvId(NewUuid())), StoreErrorCode::kNotFound));
}

TEST_P(StoreContractTest, ApplicationRoundtrip) {
  SeedEnvironment();
  model::Application full = MakeApplication(env_.id);
  model::Application bare = MakeApplication(env_.id);  // empty lists and strings
  bare.description.clear();
  bare.grant_types.clear();
  bare.response_types.clear();
  bare.redirect_uris.clear();
  bare.jwks.clear();
  bare.jwks_url.clear();
  bare.enabled = true;
  bare.type = model::AppType::kSinglePageApp;
  bare.token_endpoint_auth_method = model::AuthMethod::kNone;
  bare.request_scopes_for_multiple_resources_enabled = false;
  bare.include_x5t = false;
  bare.include_typ = true;
  bare.dpop_bound_access_tokens = false;
  bare.cors_settings.reset();
  bare.tls_client_auth.reset();
  bare.tls_client_certificate_bound_access_tokens = false;
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(full); !r.ok()) return r;
    return t.Insert(bare);
  })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.applications.size(), 2u);
  EXPECT_EQ(Fields(d.applications[0]), Fields(full));
  EXPECT_EQ(Fields(d.applications[1]), Fields(bare));
}

TEST_P(StoreContractTest, ApplicationSecretRoundtrip) {
  SeedEnvironment();
  model::Application a1 = MakeApplication(env_.id);
  model::Application a2 = MakeApplication(env_.id);
  model::ApplicationSecret with_previous = MakeSecret(a1, true);
  model::ApplicationSecret without_previous = MakeSecret(a2, false);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(a1), t.Insert(a2), t.Put(with_previous), t.Put(without_previous)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.secrets.size(), 2u);
  EXPECT_EQ(Fields(d.secrets[0]), Fields(with_previous));
  EXPECT_EQ(Fields(d.secrets[1]), Fields(without_previous));
}

TEST_P(StoreContractTest, PutReplacesTheApplicationSecret) {
  SeedEnvironment();
  model::Application app = MakeApplication(env_.id);
  model::ApplicationSecret first = MakeSecret(app, true);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(app); !r.ok()) return r;
    return t.Put(first);
  })));
  model::ApplicationSecret second = MakeSecret(app, false);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Put(second); })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.secrets.size(), 1u);
  EXPECT_EQ(Fields(d.secrets[0]), Fields(second));
}

TEST_P(StoreContractTest, ResourceRoundtrip) {
  SeedEnvironment();
  model::Resource with_secret = MakeResource(env_.id);
  model::Resource without_secret = MakeResource(env_.id);
  without_secret.secret.clear();
  without_secret.type = model::ResourceType::kCustom;
  without_secret.introspect_endpoint_auth_method = model::IntrospectAuthMethod::kNone;
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(with_secret); !r.ok()) return r;
    return t.Insert(without_secret);
  })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.resources.size(), 2u);
  EXPECT_EQ(Fields(d.resources[0]), Fields(with_secret));
  EXPECT_EQ(Fields(d.resources[1]), Fields(without_secret));
}

TEST_P(StoreContractTest, ScopeRoundtrip) {
  SeedEnvironment();
  model::Resource res = MakeResource(env_.id);
  model::Scope scope = MakeScope(res, "read:things");
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(res); !r.ok()) return r;
    return t.Insert(scope);
  })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.scopes.size(), 1u);
  EXPECT_EQ(Fields(d.scopes[0]), Fields(scope));
}

TEST_P(StoreContractTest, ResourceAttributeRoundtrip) {
  SeedEnvironment();
  model::Resource res = MakeResource(env_.id);
  model::ResourceAttribute expression = MakeAttribute(res, "department");
  expression.value = "${user.department}";
  model::ResourceAttribute fixed = MakeAttribute(res);  // non-ASCII, quotes
  model::ResourceAttribute longest = MakeAttribute(res);
  longest.value = std::string(4096, 'v');
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(res), t.Insert(expression), t.Insert(fixed), t.Insert(longest)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::EnvironmentData d = LoadEnv(env_.id);  // LoadEnvironment and LoadAll agree
  EXPECT_EQ(Fields(d.resource_attributes), Fields(std::vector{expression, fixed, longest}));
}

TEST_P(StoreContractTest, ResourceAttributesLoadOrderedByCreationThenId) {
  SeedEnvironment();
  model::Resource r1 = MakeResource(env_.id), r2 = MakeResource(env_.id);
  model::ResourceAttribute late = MakeAttribute(r1);
  model::ResourceAttribute tie_b = MakeAttribute(r2);
  model::ResourceAttribute tie_a = MakeAttribute(r1);
  late.created_at = Time(500);
  tie_b.created_at = tie_a.created_at = Time(100);
  tie_a.id = AttributeId("00000000-0000-4000-8000-00000000000a");
  tie_b.id = AttributeId("00000000-0000-4000-8000-00000000000b");
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(r1), t.Insert(r2), t.Insert(late), t.Insert(tie_b), t.Insert(tie_a)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::EnvironmentData d = LoadEnv(env_.id);
  EXPECT_EQ(Fields(d.resource_attributes), Fields(std::vector{tie_a, tie_b, late}));
}

TEST_P(StoreContractTest, TrustedIssuerRoundtripLoadsOrderedByCreationThenId) {
  SeedEnvironment();
  model::TrustedIssuer late = MakeTrustedIssuer(env_.id);  // disabled, non-ASCII name
  model::TrustedIssuer tie_b = MakeTrustedIssuer(env_.id, std::string(2048, 'i'));
  model::TrustedIssuer tie_a = MakeTrustedIssuer(env_.id, "https://idp.example");
  tie_a.enabled = true;
  tie_a.audience = "https://auth.tollgate.test/" + env_.id.str() + "/as";
  tie_b.audience = std::string(2048, 'a');
  late.created_at = Time(500);
  tie_b.created_at = tie_a.created_at = Time(100);
  tie_a.id = TrustedIssuerId("00000000-0000-4000-8000-00000000000a");
  tie_b.id = TrustedIssuerId("00000000-0000-4000-8000-00000000000b");
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(late), t.Insert(tie_b), t.Insert(tie_a)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::EnvironmentData d = LoadEnv(env_.id);  // LoadEnvironment and LoadAll agree
  EXPECT_EQ(Fields(d.trusted_issuers), Fields(std::vector{tie_a, tie_b, late}));
}

// RFC 8705 §2.1.2: every name kind round-trips with its value byte for byte, an empty value
// included (still present, unlike an absent tls_client_auth); so do both mTLS auth methods.
TEST_P(StoreContractTest, EveryTlsClientAuthNameRoundTrips) {
  SeedEnvironment();
  const std::vector<model::TlsClientAuth> names = {
      {model::TlsClientAuthName::kSubjectDn, R"(CN=Client "1" ünï,O=Acme\, Inc.,C=DE)"},
      {model::TlsClientAuthName::kSanDns, "client.example.com"},
      {model::TlsClientAuthName::kSanUri, "spiffe://example.org/ns/default/sa/client?x=1&y=2"},
      {model::TlsClientAuthName::kSanIp, "2001:db8::1"},
      {model::TlsClientAuthName::kSanIp, "192.0.2.7"},
      {model::TlsClientAuthName::kSanEmail, "client@example.com"},
      {model::TlsClientAuthName::kSanDns, ""},
  };
  std::vector<model::Application> apps;
  for (size_t i = 0; i < names.size(); ++i) {
    model::Application a = MakeApplication(env_.id);
    a.token_endpoint_auth_method = model::AuthMethod::kTlsClientAuth;
    a.tls_client_auth = names[i];
    a.tls_client_certificate_bound_access_tokens = i % 2 == 0;
    apps.push_back(a);
  }
  model::Application self_signed = MakeApplication(env_.id);
  self_signed.token_endpoint_auth_method = model::AuthMethod::kSelfSignedTlsClientAuth;
  self_signed.tls_client_auth.reset();
  self_signed.tls_client_certificate_bound_access_tokens = true;
  apps.push_back(self_signed);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (const model::Application& a : apps) {
      if (auto r = t.Insert(a); !r.ok()) return r;
    }
    return {};
  })));
  model::EnvironmentData d = LoadEnv(env_.id);
  EXPECT_EQ(Fields(d.applications), Fields(apps));
}

TEST_P(StoreContractTest, TrustedCaRoundtripLoadsOrderedByCreationThenId) {
  SeedEnvironment();
  model::TrustedCa late = MakeTrustedCa(env_.id);  // non-ASCII name, multi-line PEM
  model::TrustedCa tie_b = MakeTrustedCa(env_.id, std::string(2048, 'n'));
  model::TrustedCa tie_a = MakeTrustedCa(env_.id, "Root CA");
  tie_b.certificate = std::string(size_t{16} * 1024, 'c');
  late.created_at = Time(500);
  tie_b.created_at = tie_a.created_at = Time(100);
  tie_a.id = TrustedCaId("00000000-0000-4000-8000-00000000000a");
  tie_b.id = TrustedCaId("00000000-0000-4000-8000-00000000000b");
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(late), t.Insert(tie_b), t.Insert(tie_a)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::EnvironmentData d = LoadEnv(env_.id);  // LoadEnvironment and LoadAll agree
  EXPECT_EQ(Fields(d.trusted_cas), Fields(std::vector{tie_a, tie_b, late}));
}

TEST_P(StoreContractTest, GrantRoundtripKeepsScopeOrder) {
  SeedEnvironment();
  model::Application app = MakeApplication(env_.id);
  model::Resource res = MakeResource(env_.id);
  model::Scope a = MakeScope(res), b = MakeScope(res), c = MakeScope(res);
  model::Grant grant = MakeGrant(app, res, {c.id, a.id, b.id});
  model::Grant empty = MakeGrant(app, res, {});
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(app), t.Insert(res), t.Insert(a), t.Insert(b), t.Insert(c),
                   t.Insert(grant), t.Insert(empty)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.grants.size(), 2u);
  EXPECT_EQ(Fields(d.grants[0]), Fields(grant));
  EXPECT_EQ(Fields(d.grants[1]), Fields(empty));
}

TEST_P(StoreContractTest, RoleAssignmentRoundtrip) {
  SeedEnvironment();
  model::Application app = MakeApplication(env_.id);
  model::RoleAssignment env_scoped = MakeRoleAssignment(app, model::kConfigurationReadOnlyRoleId,
                                                        env_.id.str(), RoleScopeType::kEnvironment);
  model::RoleAssignment org_scoped = MakeRoleAssignment(
      app, model::kOrganizationAdminRoleId, org_.id.str(), RoleScopeType::kOrganization);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(app), t.Insert(env_scoped), t.Insert(org_scoped)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.role_assignments.size(), 2u);
  EXPECT_EQ(Fields(d.role_assignments[0]), Fields(env_scoped));
  EXPECT_EQ(Fields(d.role_assignments[1]), Fields(org_scoped));
}

TEST_P(StoreContractTest, SigningKeyRoundtrip) {
  SeedEnvironment();
  model::SigningKey retired = MakeSigningKey(env_.id);
  model::SigningKey current = MakeSigningKey(env_.id);
  current.retired_at.reset();
  current.algorithm = model::KeyAlgorithm::kRsa;
  current.key_length = 4096;
  current.is_default = false;
  current.revoked = false;
  current.certificate_der.clear();
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(retired); !r.ok()) return r;
    return t.Insert(current);
  })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.signing_keys.size(), 2u);
  EXPECT_EQ(Fields(d.signing_keys[0]), Fields(retired));
  EXPECT_EQ(Fields(d.signing_keys[1]), Fields(current));
}

TEST_P(StoreContractTest, EverythingLoadsOrderedByCreationThenId) {
  SeedEnvironment();
  // Same created_at for two rows: the id decides; an earlier created_at comes first.
  model::Application late = MakeApplication(env_.id);
  model::Application tie_b = MakeApplication(env_.id);
  model::Application tie_a = MakeApplication(env_.id);
  late.created_at = Time(500);
  tie_b.created_at = tie_a.created_at = Time(100);
  tie_a.id = AppId("00000000-0000-4000-8000-00000000000a");
  tie_b.id = AppId("00000000-0000-4000-8000-00000000000b");
  model::Environment early_env = MakeEnvironment();
  early_env.created_at = env_.created_at - std::chrono::milliseconds(1);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(late), t.Insert(tie_b), t.Insert(tie_a), t.Insert(early_env)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  Deployment d = Load();
  ASSERT_EQ(d.environments.size(), 2u);
  EXPECT_EQ(d.environments[0].environment.id, early_env.id);
  EXPECT_EQ(d.environments[1].environment.id, env_.id);
  model::EnvironmentData e = LoadEnv(env_.id);
  ASSERT_EQ(e.applications.size(), 3u);
  EXPECT_EQ(e.applications[0].id, tie_a.id);
  EXPECT_EQ(e.applications[1].id, tie_b.id);
  EXPECT_EQ(e.applications[2].id, late.id);
}

// ------------------------------------------------------------------------------------------
// Updates change every mutable field.

TEST_P(StoreContractTest, UpdateEnvironment) {
  SeedEnvironment();
  model::Environment changed = env_;
  changed.name = "renamed";
  changed.description = "new description";
  changed.type = model::EnvironmentType::kSandbox;
  changed.region = model::Region::kAU;
  changed.dpop_nonce_required = true;
  changed.updated_at = Time(99'999);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  EXPECT_EQ(Fields(LoadEnv(env_.id).environment), Fields(changed));
}

TEST_P(StoreContractTest, UpdateApplication) {
  SeedEnvironment();
  model::Application app = MakeApplication(env_.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(app); })));
  model::Application changed = app;
  changed.name = "renamed";
  changed.description = "changed";
  changed.enabled = true;
  changed.protocol = "OPENID_CONNECT_2";
  changed.type = model::AppType::kCustomApp;
  changed.grant_types = {model::GrantType::kClientCredentials};
  changed.token_endpoint_auth_method = model::AuthMethod::kClientSecretJwt;
  changed.jwks = "";
  changed.jwks_url = "https://new.example/jwks";
  changed.response_types = {};
  changed.redirect_uris = {"https://c.example/cb", "https://d.example/cb", "https://e.example"};
  changed.request_scopes_for_multiple_resources_enabled = false;
  changed.include_x5t = false;
  changed.include_typ = true;
  changed.dpop_bound_access_tokens = false;
  changed.cors_settings = model::CorsSettings{};  // ALLOW_NO_ORIGINS
  changed.tls_client_auth =
      model::TlsClientAuth{model::TlsClientAuthName::kSanEmail, "renamed@example.com"};
  changed.tls_client_certificate_bound_access_tokens = false;
  changed.updated_at = Time(99'999);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.applications.size(), 1u);
  EXPECT_EQ(Fields(d.applications[0]), Fields(changed));
  // tls_client_auth can be removed again, and set once more.
  changed.tls_client_auth.reset();
  changed.tls_client_certificate_bound_access_tokens = true;
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  EXPECT_EQ(Fields(LoadEnv(env_.id).applications), Fields(std::vector{changed}));
  changed.tls_client_auth = model::TlsClientAuth{model::TlsClientAuthName::kSubjectDn, "CN=x"};
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  EXPECT_EQ(Fields(LoadEnv(env_.id).applications), Fields(std::vector{changed}));
}

// revokeTokens: the not-before instant only moves forward, and Update (a PUT that read the
// application before the revocation) leaves it alone.
TEST_P(StoreContractTest, RevokeTokensBeforeOnlyMovesForward) {
  SeedEnvironment();
  model::Application app = MakeApplication(env_.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(app); })));
  EXPECT_FALSE(LoadEnv(env_.id).applications[0].tokens_not_before);

  const TimePoint later = Time(1'800'000'001'000);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.RevokeTokensBefore(app.id, later); })));
  EXPECT_EQ(Ms(LoadEnv(env_.id).applications[0].tokens_not_before), Ms(later));
  ASSERT_TRUE(Ok(WriteOne(
      [&](Transaction& t) { return t.RevokeTokensBefore(app.id, Time(1'800'000'000'000)); })));
  EXPECT_EQ(Ms(LoadEnv(env_.id).applications[0].tokens_not_before), Ms(later));

  model::Application stale = app;  // as read before the revocation
  stale.name = "renamed";
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(stale); })));
  const model::Application loaded = LoadEnv(env_.id).applications[0];
  EXPECT_EQ(loaded.name, "renamed");
  EXPECT_EQ(Ms(loaded.tokens_not_before), Ms(later));

  EXPECT_TRUE(IsError(
      WriteOne([&](Transaction& t) { return t.RevokeTokensBefore(AppId(NewUuid()), later); }),
      StoreErrorCode::kNotFound));
}

TEST_P(StoreContractTest, UpdateResource) {
  SeedEnvironment();
  model::Resource res = MakeResource(env_.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(res); })));
  model::Resource changed = res;
  changed.name = "renamed";
  changed.description = "changed";
  changed.type = model::ResourceType::kPingOneApi;
  changed.audience = "https://changed.example";
  changed.access_token_validity_seconds = 300;
  changed.introspect_endpoint_auth_method = model::IntrospectAuthMethod::kNone;
  changed.secret = "ignored-by-update";
  changed.updated_at = Time(99'999);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.resources.size(), 1u);
  model::Resource expected = changed;
  expected.secret = res.secret;  // Update never touches the secret
  EXPECT_EQ(Fields(d.resources[0]), Fields(expected));
}

TEST_P(StoreContractTest, SetResourceSecretChangesOnlyTheSecret) {
  SeedEnvironment();
  model::Resource res = MakeResource(env_.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(res); })));
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.SetResourceSecret(res.id, "rotated"); })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.resources.size(), 1u);
  model::Resource expected = res;
  expected.secret = "rotated";
  EXPECT_EQ(Fields(d.resources[0]), Fields(expected));
  EXPECT_TRUE(IsError(
      WriteOne([&](Transaction& t) { return t.SetResourceSecret(ResourceId(NewUuid()), "x"); }),
      StoreErrorCode::kNotFound));
}

TEST_P(StoreContractTest, UpdateScope) {
  SeedEnvironment();
  model::Resource res = MakeResource(env_.id);
  model::Scope scope = MakeScope(res);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(res); !r.ok()) return r;
    return t.Insert(scope);
  })));
  model::Scope changed = scope;
  changed.name = "renamed";
  changed.description = "changed";
  changed.updated_at = Time(99'999);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.scopes.size(), 1u);
  EXPECT_EQ(Fields(d.scopes[0]), Fields(changed));
}

TEST_P(StoreContractTest, UpdateResourceAttributeChangesNameValueAndUpdatedAt) {
  SeedEnvironment();
  model::Resource res = MakeResource(env_.id);
  model::ResourceAttribute attr = MakeAttribute(res, "department");
  model::ResourceAttribute other = MakeAttribute(res);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(res), t.Insert(attr), t.Insert(other)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::ResourceAttribute changed = attr;
  changed.name = "division";
  changed.value = "${user.division}";
  changed.updated_at = Time(99'999);
  model::ResourceAttribute sent = changed;
  sent.created_at = Time(88'888);  // neither is updatable
  sent.type = model::AttributeType::kPredefined;
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(sent); })));
  model::EnvironmentData d = LoadEnv(env_.id);
  EXPECT_EQ(Fields(d.resource_attributes), Fields(std::vector{changed, other}));
  // Renaming back to the old name is allowed, onto the other attribute's name is not.
  changed.name = "department";
  EXPECT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  changed.name = other.name;
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(changed); }),
                      StoreErrorCode::kConflict, "name"));
}

TEST_P(StoreContractTest, UpdateResourceAttributeThroughAnotherResourceIsNotFound) {
  Populated p = Populate();
  model::ResourceAttribute moved = p.at1a;  // of res1
  moved.resource_id = p.res2.id;
  moved.value = "moved";
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(moved); }),
                      StoreErrorCode::kNotFound, "id"));
  model::ResourceAttribute elsewhere = p.at1a;
  elsewhere.environment_id = env_.id;
  elsewhere.value = "moved";
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(elsewhere); }),
                      StoreErrorCode::kNotFound, "id"));
  EXPECT_EQ(Fields(LoadEnv(p.env.id).resource_attributes), Fields(std::vector{p.at1a, p.at2a}));
}

TEST_P(StoreContractTest, UpdateTrustedIssuerChangesEveryFieldButIdEnvironmentAndCreatedAt) {
  Populated p = Populate();
  model::TrustedIssuer other = MakeTrustedIssuer(p.env.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(other); })));
  model::TrustedIssuer changed = p.ti;
  changed.name = "Renamed partner";
  changed.issuer = "https://renamed.example";
  changed.jwks_url = "http://127.0.0.1:8080/keys";
  changed.audience = "urn:renamed";
  changed.enabled = !p.ti.enabled;
  changed.updated_at = Time(99'999);
  model::TrustedIssuer sent = changed;
  sent.created_at = Time(88'888);  // not updatable
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(sent); })));
  model::EnvironmentData d = LoadEnv(p.env.id);
  EXPECT_EQ(Fields(d.trusted_issuers), Fields(std::vector{changed, other}));
  // Keeping its own issuer is allowed, taking the other's is not.
  changed.name = "Again";
  EXPECT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  model::TrustedIssuer taken = changed;
  taken.issuer = other.issuer;
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(taken); }),
                      StoreErrorCode::kConflict, "issuer"));
  EXPECT_EQ(Fields(LoadEnv(p.env.id).trusted_issuers), Fields(std::vector{changed, other}));
}

TEST_P(StoreContractTest, UpdateTrustedIssuerThroughAnotherEnvironmentIsNotFound) {
  Populated p = Populate();
  model::TrustedIssuer elsewhere = p.ti;
  elsewhere.environment_id = env_.id;  // exists, but is not the issuer's
  elsewhere.name = "moved";
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(elsewhere); }),
                      StoreErrorCode::kNotFound, "id"));
  EXPECT_EQ(Fields(LoadEnv(p.env.id).trusted_issuers), Fields(std::vector{p.ti}));
  EXPECT_TRUE(LoadEnv(env_.id).trusted_issuers.empty());
}

TEST_P(StoreContractTest, UpdateTrustedCaChangesNameCertificateAndUpdatedAt) {
  Populated p = Populate();
  model::TrustedCa other = MakeTrustedCa(p.env.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(other); })));
  model::TrustedCa changed = p.ca;
  changed.name = "Renamed CA";
  changed.certificate = "-----BEGIN CERTIFICATE-----\nrenewed\n-----END CERTIFICATE-----\n";
  changed.updated_at = Time(99'999);
  model::TrustedCa sent = changed;
  sent.created_at = Time(88'888);  // not updatable
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(sent); })));
  EXPECT_EQ(Fields(LoadEnv(p.env.id).trusted_cas), Fields(std::vector{changed, other}));
}

TEST_P(StoreContractTest, UpdateTrustedCaThroughAnotherEnvironmentIsNotFound) {
  Populated p = Populate();
  model::TrustedCa elsewhere = p.ca;
  elsewhere.environment_id = env_.id;  // exists, but is not the CA's
  elsewhere.name = "moved";
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(elsewhere); }),
                      StoreErrorCode::kNotFound, "id"));
  EXPECT_EQ(Fields(LoadEnv(p.env.id).trusted_cas), Fields(std::vector{p.ca}));
  EXPECT_TRUE(LoadEnv(env_.id).trusted_cas.empty());
}

TEST_P(StoreContractTest, UpdateGrantChangesResourceAndScopes) {
  SeedEnvironment();
  model::Application app = MakeApplication(env_.id);
  model::Resource r1 = MakeResource(env_.id), r2 = MakeResource(env_.id);
  model::Scope s1 = MakeScope(r1), s2a = MakeScope(r2), s2b = MakeScope(r2);
  model::Grant grant = MakeGrant(app, r1, {s1.id});
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(app), t.Insert(r1), t.Insert(r2), t.Insert(s1), t.Insert(s2a),
                   t.Insert(s2b), t.Insert(grant)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::Grant changed = grant;
  changed.resource_id = r2.id;
  changed.scopes = {s2b.id, s2a.id};
  changed.updated_at = Time(99'999);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.grants.size(), 1u);
  EXPECT_EQ(Fields(d.grants[0]), Fields(changed));
}

TEST_P(StoreContractTest, UpdateSigningKey) {
  SeedEnvironment();
  model::SigningKey key = MakeSigningKey(env_.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(key); })));
  model::SigningKey changed = key;
  changed.name = "renamed";
  changed.algorithm = model::KeyAlgorithm::kEdDsa;
  changed.key_length = 255;
  changed.subject_dn = "CN=changed";
  changed.validity_period_days = 30;
  changed.is_default = false;
  changed.revoked = false;
  changed.private_key_pem = "-----BEGIN PRIVATE KEY-----\nchanged\n-----END PRIVATE KEY-----\n";
  changed.certificate_der = std::string("\x00\x01\x02", 3);
  changed.starts_at = Time(1);
  changed.expires_at = Time(2);
  changed.retired_at.reset();
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.signing_keys.size(), 1u);
  model::SigningKey expected = changed;
  expected.private_key_pem = key.private_key_pem;  // key material is immutable
  expected.certificate_der = key.certificate_der;
  expected.is_default = key.is_default;  // MakeDefaultKey's
  expected.retired_at = key.retired_at;
  EXPECT_EQ(Fields(d.signing_keys[0]), Fields(expected));
}

// Every key algorithm round-trips in the existing text column, "Ed25519" (RFC 9864) included: no
// schema change, on every backend.
TEST_P(StoreContractTest, EveryKeyAlgorithmRoundTrips) {
  SeedEnvironment();
  const model::KeyAlgorithm all[] = {model::KeyAlgorithm::kRsa, model::KeyAlgorithm::kEc,
                                     model::KeyAlgorithm::kEdDsa, model::KeyAlgorithm::kEd25519};
  std::vector<model::SigningKey> keys;
  for (model::KeyAlgorithm a : all) {
    model::SigningKey k = MakeSigningKey(env_.id);
    k.algorithm = a;
    k.is_default = false;
    keys.push_back(k);
    ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(k); })));
  }
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.signing_keys.size(), keys.size());
  for (const model::SigningKey& k : keys) {
    auto it = std::find_if(d.signing_keys.begin(), d.signing_keys.end(),
                           [&](const model::SigningKey& x) { return x.id == k.id; });
    ASSERT_NE(it, d.signing_keys.end());
    EXPECT_EQ(it->algorithm, k.algorithm) << model::ToString(k.algorithm);
  }
}

TEST_P(StoreContractTest, MakeDefaultKeyRetiresTheOtherDefaultsOfItsEnvironmentOnly) {
  SeedEnvironment();
  model::SigningKey a = MakeSigningKey(env_.id);
  a.is_default = true;
  model::SigningKey b = MakeSigningKey(env_.id);
  b.is_default = false;
  b.revoked = false;  // a revoked key cannot become the default
  model::Environment other = MakeEnvironment("other-env");
  model::SigningKey c = MakeSigningKey(other.id);
  c.is_default = true;
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(other); !r.ok()) return r;
    if (auto r = t.Insert(a); !r.ok()) return r;
    if (auto r = t.Insert(b); !r.ok()) return r;
    return t.Insert(c);
  })));
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.MakeDefaultKey(b.id, Time(777)); })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.signing_keys.size(), 2u);
  for (const auto& k : d.signing_keys) {
    if (k.id == a.id) {
      EXPECT_FALSE(k.is_default);
      ASSERT_TRUE(k.retired_at.has_value());
      EXPECT_EQ(*k.retired_at, Time(777));
    } else {
      EXPECT_TRUE(k.is_default);
      EXPECT_FALSE(k.retired_at.has_value());
    }
  }
  model::EnvironmentData o = LoadEnv(other.id);
  ASSERT_EQ(o.signing_keys.size(), 1u);
  EXPECT_TRUE(o.signing_keys[0].is_default) << "another environment's default is untouched";
  EXPECT_TRUE(
      IsError(WriteOne([&](Transaction& t) { return t.MakeDefaultKey(KeyId(NewUuid()), Time(1)); }),
              StoreErrorCode::kNotFound));
}

// ------------------------------------------------------------------------------------------
// Key rotation policies.

model::KeyRotationPolicy MakePolicy(const EnvId& env, TimePoint created, TimePoint updated) {
  model::KeyRotationPolicy p;
  p.id = KeyRotationPolicyId(NewUuid());
  p.environment_id = env;
  p.name = "Default";
  p.subject_dn = "CN=krp";
  p.algorithm = model::KeyAlgorithm::kEc;
  p.key_length = 256;
  p.validity_period_days = 100;
  p.rotation_period_days = 30;
  p.overlap_days = 2;
  p.enabled = true;
  p.created_at = created;
  p.updated_at = updated;
  return p;
}

TEST_P(StoreContractTest, KeyRotationPolicyRoundtripOnePerEnvironment) {
  SeedEnvironment();
  model::SigningKey key = MakeSigningKey(env_.id);
  model::KeyRotationPolicy p = MakePolicy(env_.id, Time(10), Time(20));
  p.state = {key.id, std::nullopt, Time(30)};
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(key); !r.ok()) return r;
    return t.Insert(p);
  })));
  EXPECT_EQ(Fields(LoadEnv(env_.id).key_rotation_policy), Fields(std::optional(p)));
  EXPECT_TRUE(IsError(
      WriteOne([&](Transaction& t) { return t.Insert(MakePolicy(env_.id, Time(10), Time(20))); }),
      StoreErrorCode::kConflict, "environment.id"));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) {
                        return t.Insert(MakePolicy(EnvId(NewUuid()), Time(10), Time(20)));
                      }),
                      StoreErrorCode::kNotFound, "environment.id"));

  // Update changes the spec, never the state.
  model::KeyRotationPolicy changed = p;
  changed.name = "Renamed";
  changed.algorithm = model::KeyAlgorithm::kRsa;
  changed.key_length = 3072;
  changed.rotation_period_days = 60;
  changed.enabled = false;
  changed.updated_at = Time(40);
  changed.state = {};
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(changed); })));
  changed.state = p.state;
  EXPECT_EQ(Fields(LoadEnv(env_.id).key_rotation_policy), Fields(std::optional(changed)));
  model::KeyRotationPolicy unknown = MakePolicy(env_.id, Time(10), Time(20));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(unknown); }),
                      StoreErrorCode::kNotFound));
}

TEST_P(StoreContractTest, SetKeyRotationStateIsACompareAndSet) {
  SeedEnvironment();
  model::SigningKey a = MakeSigningKey(env_.id);
  model::SigningKey b = MakeSigningKey(env_.id);
  model::KeyRotationPolicy p = MakePolicy(env_.id, Time(10), Time(20));
  p.state = {a.id, std::nullopt, Time(30)};
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(a), t.Insert(b), t.Insert(p)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  const model::KeyRotationState with_next{a.id, b.id, Time(30)};
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.SetKeyRotationState(p, with_next); })));
  EXPECT_EQ(LoadEnv(env_.id).key_rotation_policy->state, with_next);

  // A second writer that planned from the old state changes nothing.
  const model::KeyRotationState other{a.id, KeyId(NewUuid()), Time(30)};
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.SetKeyRotationState(p, other); }),
                      StoreErrorCode::kConflict, "state"));
  model::KeyRotationPolicy later_time = p;
  later_time.state = {a.id, b.id, Time(31)};
  EXPECT_TRUE(
      IsError(WriteOne([&](Transaction& t) { return t.SetKeyRotationState(later_time, other); }),
              StoreErrorCode::kConflict, "state"));
  EXPECT_EQ(LoadEnv(env_.id).key_rotation_policy->state, with_next);

  // Nor one that planned before the policy was edited.
  model::KeyRotationPolicy current = p;
  current.state = with_next;
  model::KeyRotationPolicy edited = current;
  edited.rotation_period_days = 10;
  edited.updated_at = Time(50);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(edited); })));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.SetKeyRotationState(current, {}); }),
                      StoreErrorCode::kConflict, "state"));

  // Nor any writer once the policy is disabled.
  model::KeyRotationPolicy disabled = edited;
  disabled.enabled = false;
  disabled.updated_at = Time(60);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(disabled); })));
  EXPECT_TRUE(
      IsError(WriteOne([&](Transaction& t) { return t.SetKeyRotationState(disabled, p.state); }),
              StoreErrorCode::kConflict, "state"));
  EXPECT_EQ(LoadEnv(env_.id).key_rotation_policy->state, with_next);

  // Enabling it again restarts its schedule: rotated_at is cleared, the keys are kept.
  model::KeyRotationPolicy enabled = disabled;
  enabled.enabled = true;
  enabled.updated_at = Time(70);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(enabled); })));
  EXPECT_EQ(LoadEnv(env_.id).key_rotation_policy->state,
            (model::KeyRotationState{a.id, b.id, std::nullopt}));
}

// Keys made by MakeSigningKey are revoked defaults; these are usable non-defaults.
model::SigningKey Usable(model::SigningKey k) {
  k.is_default = false;
  k.revoked = false;
  k.retired_at.reset();
  return k;
}

TEST_P(StoreContractTest, DefaultKeyChangesAndDeletesKeepThePolicyState) {
  SeedEnvironment();
  model::SigningKey a = Usable(MakeSigningKey(env_.id));
  a.is_default = true;
  model::SigningKey b = Usable(MakeSigningKey(env_.id));
  model::SigningKey c = Usable(MakeSigningKey(env_.id));
  model::KeyRotationPolicy p = MakePolicy(env_.id, Time(10), Time(20));
  p.state = {a.id, b.id, Time(30)};
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(a), t.Insert(b), t.Insert(c), t.Insert(p)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  // A default made by hand: the policy rotates from it, its schedule restarting without a next
  // key (the next one will be made for the new schedule).
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.MakeDefaultKey(c.id, Time(500)); })));
  model::KeyRotationPolicy stored = *LoadEnv(env_.id).key_rotation_policy;
  EXPECT_EQ(stored.state, (model::KeyRotationState{c.id, std::nullopt, Time(500)}));
  // A revoked or deleted next key is forgotten.
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) {
    return t.SetKeyRotationState(stored, {c.id, a.id, Time(500)});
  })));
  model::SigningKey revoked = a;
  revoked.revoked = true;
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(revoked); })));
  stored = *LoadEnv(env_.id).key_rotation_policy;
  EXPECT_EQ(stored.state, (model::KeyRotationState{c.id, std::nullopt, Time(500)}));
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) {
    return t.SetKeyRotationState(stored, {c.id, b.id, Time(500)});
  })));
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(b.id); })));
  EXPECT_EQ(LoadEnv(env_.id).key_rotation_policy->state,
            (model::KeyRotationState{c.id, std::nullopt, Time(500)}));
  // The environment takes its policy with it.
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(env_.id); })));
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(env_); })));
  EXPECT_FALSE(LoadEnv(env_.id).key_rotation_policy.has_value());
}

// What the management API checks against a snapshot, the store checks again in the transaction
// (a rotation on another node may have changed the keys since).
TEST_P(StoreContractTest, TheDefaultKeyStaysUsable) {
  SeedEnvironment();
  model::SigningKey a = Usable(MakeSigningKey(env_.id));
  a.is_default = true;
  model::SigningKey revoked = Usable(MakeSigningKey(env_.id));
  revoked.revoked = true;
  model::SigningKey expired = Usable(MakeSigningKey(env_.id));
  expired.expires_at = Time(100);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(a), t.Insert(revoked), t.Insert(expired)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  EXPECT_TRUE(
      IsError(WriteOne([&](Transaction& t) { return t.MakeDefaultKey(revoked.id, Time(50)); }),
              StoreErrorCode::kConflict, "default"));
  EXPECT_TRUE(
      IsError(WriteOne([&](Transaction& t) { return t.MakeDefaultKey(expired.id, Time(100)); }),
              StoreErrorCode::kConflict, "default"));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(a.id); }),
                      StoreErrorCode::kConflict, "default"));
  model::SigningKey revoke_default = a;
  revoke_default.revoked = true;
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(revoke_default); }),
                      StoreErrorCode::kConflict, "status"));
  // Update never moves the default either.
  model::SigningKey undefault = a;
  undefault.is_default = false;
  undefault.retired_at = Time(1);
  undefault.name = "renamed";
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(undefault); })));
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.signing_keys.size(), 3u);
  EXPECT_TRUE(d.signing_keys[0].is_default);
  EXPECT_FALSE(d.signing_keys[0].revoked);
  EXPECT_FALSE(d.signing_keys[0].retired_at.has_value());
  EXPECT_EQ(d.signing_keys[0].name, "renamed");
  EXPECT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.MakeDefaultKey(expired.id, Time(99)); })));
}

// ------------------------------------------------------------------------------------------
// Audit activities.

TEST_P(StoreContractTest, ActivitiesAreReadByQueryInOrderAndPurgedByAge) {
  SeedEnvironment();
  const EnvId other(NewUuid());  // activities need no environment row
  std::vector<model::Activity> batch;
  for (int i = 0; i < 6; ++i) {
    model::Activity a;
    a.id = NewUuid();
    a.environment_id = i == 5 ? other : env_.id;
    a.recorded_at = Time(int64_t{1000} * i);
    a.action_type = i % 2 == 0 ? "APPLICATION.CREATED" : "KEY.UPDATED";
    a.success = i != 3;
    a.client_id = i < 2 ? "client-a" : "client-b";
    a.correlation_id = "corr-" + std::to_string(i);
    a.resource_ids = {"r" + std::to_string(i), "shared"};
    a.json = "{\"n\":" + std::to_string(i) + ",\"text\":\"\u00e9\\\"'\"}";
    batch.push_back(std::move(a));
  }
  ASSERT_TRUE(Ok(store().AppendActivities(batch)));
  ASSERT_TRUE(Ok(store().AppendActivities({})));

  // The correlation ids of what a query (set up by `set`) selects.
  auto load = [&](const std::function<void(model::ActivityQuery&)>& set) {
    model::ActivityQuery q;
    q.environment_id = env_.id;
    set(q);
    auto r = store().LoadActivities(q);
    EXPECT_TRUE(Ok(r));
    std::vector<std::string> ids;
    for (const auto& a : r.value()) ids.push_back(a.correlation_id);
    return ids;
  };
  using V = std::vector<std::string>;
  using Q = model::ActivityQuery;
  EXPECT_EQ(load([](Q&) {}), (V{"corr-0", "corr-1", "corr-2", "corr-3", "corr-4"}));
  model::ActivityQuery every;
  every.environment_id = env_.id;
  auto all = store().LoadActivities(every);
  ASSERT_TRUE(Ok(all));
  ASSERT_EQ(all.value().size(), 5u);
  EXPECT_EQ(all.value()[2].json, batch[2].json) << "the body is kept byte for byte";
  EXPECT_EQ(all.value()[2].recorded_at, batch[2].recorded_at);
  EXPECT_EQ(all.value()[2].action_type, "APPLICATION.CREATED");
  EXPECT_EQ(all.value()[3].success, false);
  EXPECT_LT(all.value()[0].seq, all.value()[1].seq);

  EXPECT_EQ(load([&](Q& q) {
              q.from = Time(1000);
              q.to = Time(3000);
            }),
            (V{"corr-1", "corr-2"}));
  EXPECT_EQ(load([](Q& q) { q.action_types = {"KEY.UPDATED"}; }), (V{"corr-1", "corr-3"}));
  EXPECT_EQ(load([](Q& q) {
              q.action_types = {"KEY.UPDATED", "APPLICATION.CREATED"};
              q.limit = 2;
            }),
            (V{"corr-0", "corr-1"}));
  EXPECT_EQ(load([](Q& q) { q.success = false; }), (V{"corr-3"}));
  EXPECT_EQ(load([](Q& q) { q.client_id = "client-a"; }), (V{"corr-0", "corr-1"}));
  EXPECT_EQ(load([](Q& q) { q.correlation_id = "corr-4"; }), (V{"corr-4"}));
  EXPECT_EQ(load([](Q& q) { q.resource_id = "r2"; }), (V{"corr-2"}));
  EXPECT_EQ(load([](Q& q) {
              q.resource_id = "shared";
              q.limit = 2;
            }),
            (V{"corr-0", "corr-1"}));
  EXPECT_EQ(load([](Q& q) { q.resource_id = "r"; }), V{}) << "whole ids only";
  const int64_t third = all.value()[3].seq;
  EXPECT_EQ(load([&](Q& q) { q.after_seq = third; }), (V{"corr-4"}));
  EXPECT_EQ(load([&](Q& q) { q.environment_id = other; }), (V{"corr-5"}));

  auto purged = store().PurgeActivities(Time(2000));
  ASSERT_TRUE(Ok(purged));
  EXPECT_EQ(purged.value(), 2);
  EXPECT_EQ(load([](Q&) {}), (V{"corr-2", "corr-3", "corr-4"}));
}

// ------------------------------------------------------------------------------------------
// Uniqueness.

TEST_P(StoreContractTest, SecondOrganizationIsAlreadyInitialized) {
  SeedEnvironment();
  model::Organization other = MakeOrganization();
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(other); }),
                      StoreErrorCode::kAlreadyInitialized));
  Deployment d = Load();
  ASSERT_TRUE(d.organization.has_value());
  EXPECT_EQ(d.organization->id, org_.id);
}

TEST_P(StoreContractTest, EnvironmentNameIsUniqueOnInsertAndUpdate) {
  SeedEnvironment();
  model::Environment same_name = MakeEnvironment(env_.name);
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(same_name); }),
                      StoreErrorCode::kConflict, "name"));
  model::Environment other = MakeEnvironment();
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(other); })));
  other.name = env_.name;
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(other); }),
                      StoreErrorCode::kConflict, "name"));
  EXPECT_EQ(Load().environments.size(), 2u);
}

TEST_P(StoreContractTest, ApplicationNameIsUniquePerEnvironment) {
  SeedEnvironment();
  model::Environment env2 = MakeEnvironment();
  model::Application app = MakeApplication(env_.id, "shared-name");
  model::Application in_other_env = MakeApplication(env2.id, "shared-name");
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(env2), t.Insert(app), t.Insert(in_other_env)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::Application dup = MakeApplication(env_.id, "shared-name");
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(dup); }),
                      StoreErrorCode::kConflict, "name"));
  model::Application renamed = MakeApplication(env_.id, "another");
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(renamed); })));
  renamed.name = "shared-name";
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(renamed); }),
                      StoreErrorCode::kConflict, "name"));
  // Updating an application without renaming it is not a conflict with itself.
  app.description = "still mine";
  EXPECT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Update(app); })));
}

TEST_P(StoreContractTest, ResourceNameIsUniquePerEnvironment) {
  SeedEnvironment();
  model::Environment env2 = MakeEnvironment();
  model::Resource res = MakeResource(env_.id, "api");
  model::Resource in_other_env = MakeResource(env2.id, "api");
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(env2), t.Insert(res), t.Insert(in_other_env)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::Resource dup = MakeResource(env_.id, "api");
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(dup); }),
                      StoreErrorCode::kConflict, "name"));
  model::Resource other = MakeResource(env_.id, "other-api");
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(other); })));
  other.name = "api";
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(other); }),
                      StoreErrorCode::kConflict, "name"));
}

TEST_P(StoreContractTest, ScopeNameIsUniquePerResource) {
  SeedEnvironment();
  model::Resource r1 = MakeResource(env_.id), r2 = MakeResource(env_.id);
  model::Scope s1 = MakeScope(r1, "read"), s2 = MakeScope(r2, "read");
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(r1), t.Insert(r2), t.Insert(s1), t.Insert(s2)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::Scope dup = MakeScope(r1, "read");
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(dup); }),
                      StoreErrorCode::kConflict, "name"));
  model::Scope write = MakeScope(r1, "write");
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(write); })));
  write.name = "read";
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(write); }),
                      StoreErrorCode::kConflict, "name"));
}

TEST_P(StoreContractTest, ResourceAttributeNameIsUniquePerResource) {
  SeedEnvironment();
  model::Resource r1 = MakeResource(env_.id), r2 = MakeResource(env_.id);
  model::ResourceAttribute a1 = MakeAttribute(r1, "department");
  model::ResourceAttribute a2 = MakeAttribute(r2, "department");  // another resource: allowed
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(r1), t.Insert(r2), t.Insert(a1), t.Insert(a2)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::ResourceAttribute dup = MakeAttribute(r1, "department");
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(dup); }),
                      StoreErrorCode::kConflict, "name"));
  model::ResourceAttribute title = MakeAttribute(r1, "title");
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(title); })));
  title.name = "department";
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(title); }),
                      StoreErrorCode::kConflict, "name"));
  title.name = "title";
  EXPECT_EQ(Fields(LoadEnv(env_.id).resource_attributes), Fields(std::vector{a1, a2, title}));
  // A deleted attribute's name is free again.
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(a1.id); })));
  EXPECT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(dup); })));
}

TEST_P(StoreContractTest, TrustedIssuerIsUniquePerEnvironment) {
  SeedEnvironment();
  model::Environment env2 = MakeEnvironment();
  model::TrustedIssuer t1 = MakeTrustedIssuer(env_.id, "https://idp.example");
  model::TrustedIssuer t2 = MakeTrustedIssuer(env2.id, "https://idp.example");  // allowed
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(env2), t.Insert(t1), t.Insert(t2)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::TrustedIssuer dup = MakeTrustedIssuer(env_.id, "https://idp.example");
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(dup); }),
                      StoreErrorCode::kConflict, "issuer"));
  // Byte for byte: another case or a trailing slash is another issuer.
  model::TrustedIssuer slash = MakeTrustedIssuer(env_.id, "https://idp.example/");
  model::TrustedIssuer upper = MakeTrustedIssuer(env_.id, "https://IDP.example");
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(slash); })));
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(upper); })));
  upper.issuer = t1.issuer;
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(upper); }),
                      StoreErrorCode::kConflict, "issuer"));
  upper.issuer = "https://IDP.example";
  EXPECT_EQ(Fields(LoadEnv(env_.id).trusted_issuers), Fields(std::vector{t1, slash, upper}));
  EXPECT_EQ(Fields(LoadEnv(env2.id).trusted_issuers), Fields(std::vector{t2}));
  // A deleted issuer's `issuer` is free again.
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(t1.id); })));
  EXPECT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(dup); })));
}

// Unlike trusted issuers, trusted CAs have no uniqueness rule but the id's: the same name and
// certificate may be trusted twice, in one environment or several.
TEST_P(StoreContractTest, TrustedCaHasNoUniquenessRuleButItsId) {
  SeedEnvironment();
  model::Environment env2 = MakeEnvironment();
  model::TrustedCa c1 = MakeTrustedCa(env_.id, "Same name");
  model::TrustedCa c2 = MakeTrustedCa(env_.id, "Same name");
  c2.certificate = c1.certificate;
  model::TrustedCa c3 = MakeTrustedCa(env2.id, "Same name");
  c3.certificate = c1.certificate;
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(env2), t.Insert(c1), t.Insert(c2), t.Insert(c3)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  EXPECT_EQ(Fields(LoadEnv(env_.id).trusted_cas), Fields(std::vector{c1, c2}));
  EXPECT_EQ(Fields(LoadEnv(env2.id).trusted_cas), Fields(std::vector{c3}));
}

TEST_P(StoreContractTest, DuplicateIdIsConflictOnId) {
  Populated p = Populate();
  auto expect_id_conflict = [&](const char* what, auto entity, auto rename) {
    SCOPED_TRACE(what);
    rename(entity);
    EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(entity); }),
                        StoreErrorCode::kConflict, "id"));
  };
  expect_id_conflict("environment", p.env, [](auto& v) { v.name = "fresh-env-name"; });
  expect_id_conflict("application", p.app1, [](auto& v) { v.name = "fresh-app-name"; });
  expect_id_conflict("resource", p.res1, [](auto& v) { v.name = "fresh-res-name"; });
  expect_id_conflict("scope", p.s1a, [](auto& v) { v.name = "fresh-scope-name"; });
  expect_id_conflict("resource attribute", p.at1a, [](auto& v) { v.name = "fresh_claim"; });
  // Also when the same id is inserted for another resource.
  expect_id_conflict("resource attribute of another resource", p.at1a, [&](auto& v) {
    v.resource_id = p.res2.id;
    v.name = "fresh_claim";
  });
  expect_id_conflict("trusted issuer", p.ti, [](auto& v) { v.issuer = "https://fresh.example"; });
  // Also when the same id is inserted into another environment.
  expect_id_conflict("trusted issuer of another environment", p.ti, [&](auto& v) {
    v.environment_id = env_.id;
    v.issuer = "https://fresh.example";
  });
  expect_id_conflict("trusted CA", p.ca, [](auto& v) { v.name = "fresh CA"; });
  expect_id_conflict("trusted CA of another environment", p.ca,
                     [&](auto& v) { v.environment_id = env_.id; });
  expect_id_conflict("grant", p.g1, [](auto&) {});
  expect_id_conflict("role assignment", p.ra_env, [](auto&) {});
  expect_id_conflict("signing key", p.key, [](auto&) {});
}

// ------------------------------------------------------------------------------------------
// References: a row that points at a missing (or foreign) row is kNotFound, naming the
// reference in `target`.

TEST_P(StoreContractTest, EnvironmentOfUnknownOrganizationIsNotFound) {
  SeedEnvironment();
  model::Environment env = MakeEnvironment();
  env.organization_id = OrgId(NewUuid());
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(env); }),
                      StoreErrorCode::kNotFound, "organization.id"));
}

TEST_P(StoreContractTest, RowsOfUnknownEnvironmentAreNotFound) {
  SeedEnvironment();
  const EnvId missing(NewUuid());
  model::Application app = MakeApplication(missing);
  model::Resource res = MakeResource(missing);
  model::SigningKey key = MakeSigningKey(missing);
  model::TrustedIssuer ti = MakeTrustedIssuer(missing);
  model::TrustedCa ca = MakeTrustedCa(missing);
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(ti); }),
                      StoreErrorCode::kNotFound, "environment.id"));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(ca); }),
                      StoreErrorCode::kNotFound, "environment.id"));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(app); }),
                      StoreErrorCode::kNotFound, "environment.id"));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(res); }),
                      StoreErrorCode::kNotFound, "environment.id"));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(key); }),
                      StoreErrorCode::kNotFound, "environment.id"));
  EXPECT_TRUE(LoadEnv(env_.id).applications.empty());
}

TEST_P(StoreContractTest, ScopeOfUnknownOrForeignResourceIsNotFound) {
  SeedEnvironment();
  model::Resource phantom = MakeResource(env_.id);  // never inserted
  model::Scope orphan = MakeScope(phantom);
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(orphan); }),
                      StoreErrorCode::kNotFound, "resource.id"));
  // A resource of another environment is not found from this one.
  model::Environment env2 = MakeEnvironment();
  model::Resource foreign = MakeResource(env2.id);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(env2); !r.ok()) return r;
    return t.Insert(foreign);
  })));
  model::Scope cross = MakeScope(foreign);
  cross.environment_id = env_.id;
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(cross); }),
                      StoreErrorCode::kNotFound, "resource.id"));
}

TEST_P(StoreContractTest, ResourceAttributeOfUnknownOrForeignResourceIsNotFound) {
  SeedEnvironment();
  model::Resource phantom = MakeResource(env_.id);  // never inserted
  model::ResourceAttribute orphan = MakeAttribute(phantom);
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(orphan); }),
                      StoreErrorCode::kNotFound, "resource.id"));
  // A resource of another environment is not found from this one.
  model::Environment env2 = MakeEnvironment();
  model::Resource foreign = MakeResource(env2.id);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(env2); !r.ok()) return r;
    return t.Insert(foreign);
  })));
  model::ResourceAttribute cross = MakeAttribute(foreign);
  cross.environment_id = env_.id;
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(cross); }),
                      StoreErrorCode::kNotFound, "resource.id"));
  EXPECT_TRUE(LoadEnv(env_.id).resource_attributes.empty());
  EXPECT_TRUE(LoadEnv(env2.id).resource_attributes.empty());
}

TEST_P(StoreContractTest, GrantOfUnknownApplicationIsNotFound) {
  Populated p = Populate();
  model::Application phantom = MakeApplication(p.env.id);
  model::Grant g = MakeGrant(phantom, p.res1, {p.s1a.id});
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(g); }),
                      StoreErrorCode::kNotFound, "application.id"));
}

TEST_P(StoreContractTest, GrantOfUnknownResourceIsNotFound) {
  Populated p = Populate();
  model::Resource phantom = MakeResource(p.env.id);
  model::Grant g = MakeGrant(p.app1, phantom, {});
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(g); }),
                      StoreErrorCode::kNotFound, "resource.id"));
}

TEST_P(StoreContractTest, GrantWithUnknownScopeIsNotFound) {
  Populated p = Populate();
  model::Grant g = MakeGrant(p.app1, p.res1, {p.s1a.id, ScopeId(NewUuid())});
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(g); }),
                      StoreErrorCode::kNotFound, "scopes"));
}

TEST_P(StoreContractTest, GrantWithScopeOfAnotherResourceIsNotFound) {
  Populated p = Populate();
  model::Grant g = MakeGrant(p.app1, p.res1, {p.s1a.id, p.s2a.id});
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(g); }),
                      StoreErrorCode::kNotFound, "scopes"));
  // Same rule on update.
  model::Grant changed = p.g1;
  changed.scopes = {p.s2a.id};
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(changed); }),
                      StoreErrorCode::kNotFound, "scopes"));
}

TEST_P(StoreContractTest, GrantAcrossEnvironmentsIsNotFound) {
  SeedEnvironment();
  Populated a = Populate();
  Populated b = Populate();
  model::Grant g = MakeGrant(a.app1, b.res1, {});  // application of A, resource of B
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(g); }),
                      StoreErrorCode::kNotFound, "resource.id"));
}

TEST_P(StoreContractTest, GrantListingAScopeTwiceIsConflict) {
  Populated p = Populate();
  model::Grant g = MakeGrant(p.app1, p.res1, {p.s1a.id, p.s1a.id});
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(g); }),
                      StoreErrorCode::kConflict, "scopes"));
}

TEST_P(StoreContractTest, RoleAssignmentReferencesMustExist) {
  Populated p = Populate();
  model::Application phantom = MakeApplication(p.env.id);
  model::RoleAssignment no_app = MakeRoleAssignment(phantom, model::kEnvironmentAdminRoleId,
                                                    p.env.id.str(), RoleScopeType::kEnvironment);
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(no_app); }),
                      StoreErrorCode::kNotFound, "application.id"));
  model::RoleAssignment no_role =
      MakeRoleAssignment(p.app1, RoleId(NewUuid()), p.env.id.str(), RoleScopeType::kEnvironment);
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(no_role); }),
                      StoreErrorCode::kNotFound, "role.id"));
  model::RoleAssignment no_env = MakeRoleAssignment(p.app1, model::kEnvironmentAdminRoleId,
                                                    NewUuid(), RoleScopeType::kEnvironment);
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(no_env); }),
                      StoreErrorCode::kNotFound, "scope.id"));
  model::RoleAssignment no_org = MakeRoleAssignment(p.app1, model::kOrganizationAdminRoleId,
                                                    NewUuid(), RoleScopeType::kOrganization);
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Insert(no_org); }),
                      StoreErrorCode::kNotFound, "scope.id"));
  EXPECT_EQ(LoadEnv(p.env.id).role_assignments.size(), 2u);
}

TEST_P(StoreContractTest, SecretOfUnknownApplicationIsNotFound) {
  SeedEnvironment();
  model::Application phantom = MakeApplication(env_.id);
  model::ApplicationSecret s = MakeSecret(phantom, false);
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Put(s); }), StoreErrorCode::kNotFound,
                      "application.id"));
}

// ------------------------------------------------------------------------------------------
// Missing rows.

TEST_P(StoreContractTest, UpdateOfMissingRowIsNotFound) {
  Populated p = Populate();
  auto expect_not_found = [&](const char* what, auto entity) {
    SCOPED_TRACE(what);
    EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(entity); }),
                        StoreErrorCode::kNotFound));
  };
  model::Environment env = MakeEnvironment();
  expect_not_found("environment", env);
  expect_not_found("application", MakeApplication(p.env.id));
  expect_not_found("resource", MakeResource(p.env.id));
  expect_not_found("scope", MakeScope(p.res1));
  expect_not_found("resource attribute", MakeAttribute(p.res1));
  expect_not_found("trusted issuer", MakeTrustedIssuer(p.env.id));
  expect_not_found("trusted CA", MakeTrustedCa(p.env.id));
  expect_not_found("grant", MakeGrant(p.app1, p.res1, {}));
  expect_not_found("signing key", MakeSigningKey(p.env.id));
  // An existing row addressed through another environment is missing there.
  model::Application moved = p.app1;
  moved.environment_id = env_.id;
  expect_not_found("application in another environment", moved);
}

TEST_P(StoreContractTest, DeleteOfMissingRowIsNotFound) {
  Populate();
  auto expect_not_found = [&](const char* what, auto id) {
    SCOPED_TRACE(what);
    EXPECT_TRUE(
        IsError(WriteOne([&](Transaction& t) { return t.Delete(id); }), StoreErrorCode::kNotFound));
  };
  expect_not_found("environment", EnvId(NewUuid()));
  expect_not_found("application", AppId(NewUuid()));
  expect_not_found("resource", ResourceId(NewUuid()));
  expect_not_found("scope", ScopeId(NewUuid()));
  expect_not_found("resource attribute", AttributeId(NewUuid()));
  expect_not_found("trusted issuer", TrustedIssuerId(NewUuid()));
  expect_not_found("trusted CA", TrustedCaId(NewUuid()));
  expect_not_found("grant", GrantId(NewUuid()));
  expect_not_found("role assignment", RoleAssignmentId(NewUuid()));
  expect_not_found("signing key", KeyId(NewUuid()));
}

// ------------------------------------------------------------------------------------------
// Deletes and their cascades.

TEST_P(StoreContractTest, DeletesRemoveExactlyTheirRow) {
  Populated p = Populate();
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Delete(p.g2.id), t.Delete(p.ra_env.id), t.Delete(p.key.id)}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  model::EnvironmentData d = LoadEnv(p.env.id);
  EXPECT_EQ(Fields(d.grants), Fields(std::vector{p.g1}));
  EXPECT_EQ(Fields(d.role_assignments), Fields(std::vector{p.ra_org}));
  EXPECT_TRUE(d.signing_keys.empty());
  EXPECT_EQ(d.applications.size(), 2u);
  EXPECT_EQ(d.resources.size(), 2u);
  EXPECT_EQ(d.scopes.size(), 3u);
  EXPECT_EQ(d.resource_attributes.size(), 2u);
  EXPECT_EQ(Fields(d.trusted_issuers), Fields(std::vector{p.ti}));
  EXPECT_EQ(Fields(d.trusted_cas), Fields(std::vector{p.ca}));
}

TEST_P(StoreContractTest, DeleteResourceAttributeRemovesExactlyIt) {
  Populated p = Populate();
  model::ResourceAttribute at1b = MakeAttribute(p.res1);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(at1b); })));
  const auto before = LoadEnv(p.env.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(p.at1a.id); })));
  model::EnvironmentData d = LoadEnv(p.env.id);
  EXPECT_EQ(Fields(d.resource_attributes), Fields(std::vector{p.at2a, at1b}));
  // Nothing else changed.
  model::EnvironmentData expected = before;
  expected.resource_attributes = {p.at2a, at1b};
  EXPECT_EQ(Fields(d), Fields(expected));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(p.at1a.id); }),
                      StoreErrorCode::kNotFound, "id"));
}

TEST_P(StoreContractTest, DeleteTrustedIssuerRemovesExactlyIt) {
  Populated p = Populate();
  model::TrustedIssuer second = MakeTrustedIssuer(p.env.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(second); })));
  const auto before = LoadEnv(p.env.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(p.ti.id); })));
  model::EnvironmentData d = LoadEnv(p.env.id);
  model::EnvironmentData expected = before;
  expected.trusted_issuers = {second};
  EXPECT_EQ(Fields(d), Fields(expected));  // nothing else changed
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(p.ti.id); }),
                      StoreErrorCode::kNotFound, "id"));
}

TEST_P(StoreContractTest, DeleteTrustedCaRemovesExactlyIt) {
  Populated p = Populate();
  model::TrustedCa second = MakeTrustedCa(p.env.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(second); })));
  const auto before = LoadEnv(p.env.id);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(p.ca.id); })));
  model::EnvironmentData d = LoadEnv(p.env.id);
  model::EnvironmentData expected = before;
  expected.trusted_cas = {second};
  EXPECT_EQ(Fields(d), Fields(expected));  // nothing else changed
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(p.ca.id); }),
                      StoreErrorCode::kNotFound, "id"));
}

TEST_P(StoreContractTest, DeleteEnvironmentTakesEverythingInIt) {
  SeedEnvironment();
  Populated doomed = Populate();
  Populated kept = Populate();
  const auto kept_before = Fields(LoadEnv(kept.env.id));
  // An application of the kept environment holds a role over the doomed one; it must go too.
  model::RoleAssignment over_doomed =
      MakeRoleAssignment(kept.app1, model::kConfigurationReadOnlyRoleId, doomed.env.id.str(),
                         RoleScopeType::kEnvironment);
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(over_doomed); })));

  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(doomed.env.id); })));

  Deployment d = Load();
  ASSERT_EQ(d.environments.size(), 2u);  // env_ and kept
  for (const model::EnvironmentData& e : d.environments) EXPECT_NE(e.environment.id, doomed.env.id);
  EXPECT_TRUE(IsError(store().LoadEnvironment(doomed.env.id), StoreErrorCode::kNotFound));
  EXPECT_EQ(Fields(LoadEnv(kept.env.id)), kept_before) << "the other environment changed";
  // Nothing of the doomed environment can be addressed any more.
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(doomed.app1.id); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(doomed.res1.id); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(doomed.s1a.id); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(doomed.at1a.id); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(doomed.at2a.id); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(doomed.ti.id); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(doomed.ca.id); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Update(doomed.ca); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(doomed.g1.id); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(doomed.ra_env.id); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(doomed.key.id); }),
                      StoreErrorCode::kNotFound));
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(over_doomed.id); }),
                      StoreErrorCode::kNotFound))
      << "a role assignment scoped to the deleted environment survived";
  // Its names are free again.
  model::Application reuse = MakeApplication(kept.env.id, doomed.app1.name);
  EXPECT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(reuse); })));
}

TEST_P(StoreContractTest, DeleteResourceTakesItsScopesAttributesAndGrants) {
  Populated p = Populate();
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(p.res1.id); })));
  model::EnvironmentData d = LoadEnv(p.env.id);
  EXPECT_EQ(Fields(d.resources), Fields(std::vector{p.res2}));
  EXPECT_EQ(Fields(d.scopes), Fields(std::vector{p.s2a}));
  EXPECT_EQ(Fields(d.resource_attributes), Fields(std::vector{p.at2a}));
  EXPECT_EQ(Fields(d.grants), Fields(std::vector{p.g2}));
  EXPECT_EQ(d.applications.size(), 2u);
  EXPECT_TRUE(IsError(WriteOne([&](Transaction& t) { return t.Delete(p.at1a.id); }),
                      StoreErrorCode::kNotFound));
  // A resource of the same id, inserted again, does not find its old attributes.
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(p.res1); })));
  EXPECT_EQ(Fields(LoadEnv(p.env.id).resource_attributes), Fields(std::vector{p.at2a}));
}

TEST_P(StoreContractTest, DeleteApplicationTakesSecretGrantsAndRoleAssignments) {
  Populated p = Populate();
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(p.app1.id); })));
  model::EnvironmentData d = LoadEnv(p.env.id);
  EXPECT_EQ(Fields(d.applications), Fields(std::vector{p.app2}));
  EXPECT_TRUE(d.secrets.empty());
  EXPECT_EQ(Fields(d.grants), Fields(std::vector{p.g2}));
  EXPECT_EQ(Fields(d.role_assignments), Fields(std::vector{p.ra_org}));
  EXPECT_EQ(d.resources.size(), 2u);
  EXPECT_EQ(d.scopes.size(), 3u);
}

TEST_P(StoreContractTest, DeleteScopeRemovesItFromGrants) {
  Populated p = Populate();  // g1 lists {s1b, s1a}
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(p.s1b.id); })));
  model::EnvironmentData d = LoadEnv(p.env.id);
  ASSERT_EQ(d.grants.size(), 2u);
  model::Grant expected = p.g1;
  expected.scopes = {p.s1a.id};
  EXPECT_EQ(Fields(d.grants[0]), Fields(expected));
  EXPECT_EQ(Fields(d.grants[1]), Fields(p.g2));
  EXPECT_EQ(Fields(d.scopes), Fields(std::vector{p.s1a, p.s2a}));
}

// ------------------------------------------------------------------------------------------
// Transactions.

TEST_P(StoreContractTest, FailingBodyRollsBackEverything) {
  SeedEnvironment();
  model::Environment env = MakeEnvironment();
  model::Application app = MakeApplication(env.id);
  model::Resource res = MakeResource(env_.id);
  model::Environment renamed = env_;
  renamed.name = "renamed-in-a-failed-write";
  auto result = Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r :
         {t.Insert(env), t.Insert(app), t.Insert(res), t.Update(renamed), t.Delete(env_.id)}) {
      if (!r.ok()) return r;
    }
    return Fail(StoreError{StoreErrorCode::kConflict, "validation failed late", "custom"});
  });
  EXPECT_TRUE(IsError(result, StoreErrorCode::kConflict, "custom"))
      << "Write must return the body's error";
  Deployment d = Load();
  ASSERT_EQ(d.environments.size(), 1u);
  model::EnvironmentData only_the_seed;
  only_the_seed.environment = env_;
  EXPECT_EQ(Fields(d.environments[0]), Fields(only_the_seed));
}

TEST_P(StoreContractTest, StoreErrorInsideBodyRollsBackEarlierCalls) {
  SeedEnvironment();
  model::Application app = MakeApplication(env_.id);
  model::Application dup = MakeApplication(env_.id, app.name);
  auto result = Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(app); !r.ok()) return r;
    return t.Insert(dup);  // kConflict, returned as the body's error
  });
  EXPECT_TRUE(IsError(result, StoreErrorCode::kConflict, "name"));
  EXPECT_TRUE(LoadEnv(env_.id).applications.empty());
}

TEST_P(StoreContractTest, FailedCallLeavesTheRestOfTheTransaction) {
  SeedEnvironment();
  model::Application app = MakeApplication(env_.id);
  model::Application dup = MakeApplication(env_.id, app.name);
  model::Resource res = MakeResource(env_.id);
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(app); !r.ok()) return r;
    if (auto r = t.Insert(dup); !IsError(r, StoreErrorCode::kConflict, "name")) {
      return Fail(StoreError{StoreErrorCode::kInternal, "expected a conflict", ""});
    }
    return t.Insert(res);  // the body goes on after the failed call and commits
  })));
  model::EnvironmentData d = LoadEnv(env_.id);
  EXPECT_EQ(Fields(d.applications), Fields(std::vector{app}));
  EXPECT_EQ(Fields(d.resources), Fields(std::vector{res}));
}

TEST_P(StoreContractTest, ThrowingBodyRollsBackAndTheStoreStaysUsable) {
  SeedEnvironment();
  model::Application app = MakeApplication(env_.id);
  auto result = Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(app); !r.ok()) return r;
    throw std::runtime_error("body bug");
  });
  EXPECT_TRUE(IsError(result, StoreErrorCode::kInternal));
  EXPECT_TRUE(LoadEnv(env_.id).applications.empty());
  // Not left inside a transaction: the next write commits and is visible.
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Insert(app); })));
  EXPECT_EQ(LoadEnv(env_.id).applications.size(), 1u);
}

// ------------------------------------------------------------------------------------------
// Durability and secrets at rest (persistent backends).

#define REQUIRE_PERSISTENT()                     \
  if (!backend().IsPersistent()) {               \
    GTEST_SKIP() << "backend is not persistent"; \
  }                                              \
  static_assert(true)

TEST_P(StoreContractTest, DataSurvivesReopen) {
  REQUIRE_PERSISTENT();
  SeedEnvironment();
  Populated p = Populate();
  const auto before_env = Fields(LoadEnv(env_.id));
  const auto before_p = Fields(LoadEnv(p.env.id));
  Reopen();
  Deployment d = Load();
  ASSERT_TRUE(d.organization.has_value());
  EXPECT_EQ(Fields(*d.organization), Fields(org_));
  ASSERT_EQ(d.environments.size(), 2u);
  EXPECT_EQ(Fields(LoadEnv(env_.id)), before_env);
  EXPECT_EQ(Fields(LoadEnv(p.env.id)), before_p);
}

TEST_P(StoreContractTest, WrongMasterKeyIsRefusedAtOpenEvenWhenEmpty) {
  REQUIRE_PERSISTENT();
  store_.reset();  // the database now exists, without any secret
  auto other = backend().Open(std::make_shared<TestCodec>("master-key-B"));
  EXPECT_TRUE(IsError(other, StoreErrorCode::kWrongMasterKey));
  auto same = backend().Open(codec());
  EXPECT_TRUE(Ok(same)) << "the right key must still open it";
}

TEST_P(StoreContractTest, WrongMasterKeyIsRefusedAtOpenWithSecrets) {
  REQUIRE_PERSISTENT();
  SeedEnvironment();
  Populate();
  store_.reset();
  EXPECT_TRUE(IsError(backend().Open(std::make_shared<TestCodec>("master-key-B")),
                      StoreErrorCode::kWrongMasterKey));
}

TEST_P(StoreContractTest, SecretsAreNotStoredInPlaintext) {
  REQUIRE_PERSISTENT();
  SeedEnvironment();
  Populated p = Populate();
  // The raw view works: a plain field is found, so an absent secret means it is sealed.
  ASSERT_TRUE(backend().RawContains(p.app1.jwks_url));
  auto check = [&] {
    EXPECT_FALSE(backend().RawContains(p.secret1.secret));
    EXPECT_FALSE(backend().RawContains(*p.secret1.previous));
    EXPECT_FALSE(backend().RawContains(p.res1.secret));
    EXPECT_FALSE(backend().RawContains(p.res2.secret));
    EXPECT_FALSE(backend().RawContains(p.key.private_key_pem));
    EXPECT_FALSE(backend().RawContains("PRIVATE KEY"));
  };
  {
    SCOPED_TRACE("while open");
    check();
  }
  store_.reset();
  {
    SCOPED_TRACE("after close");
    ASSERT_TRUE(backend().RawContains(p.app1.jwks_url));
    check();
  }
}

TEST_P(StoreContractTest, SchemaTooNewIsRefused) {
  REQUIRE_PERSISTENT();
  SeedEnvironment();
  store_.reset();
  ASSERT_NO_FATAL_FAILURE(backend().BumpSchemaVersion());
  EXPECT_TRUE(IsError(backend().Open(codec()), StoreErrorCode::kSchemaTooNew));
}

// ------------------------------------------------------------------------------------------
// Concurrency.

TEST_P(StoreContractTest, ConcurrentWritersOnOneStoreAllLand) {
  SeedEnvironment();
  constexpr int kThreads = 6;
  constexpr int kWritesPerThread = 15;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> failures{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kWritesPerThread; ++j) {
        model::Application app;
        app.id = AppId(NewUuid());
        app.environment_id = env_.id;
        app.name = fmt::format("t{}-app{}", i, j);
        app.grant_types = {model::GrantType::kClientCredentials};
        if (!store().Write([&](Transaction& t) { return t.Insert(app); }).ok()) ++failures;
        if (!store().LoadEnvironment(env_.id).ok()) ++failures;  // readers interleave
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  model::EnvironmentData d = LoadEnv(env_.id);
  ASSERT_EQ(d.applications.size(), static_cast<size_t>(kThreads * kWritesPerThread));
  std::vector<std::string> names;
  for (const auto& a : d.applications) names.push_back(a.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
}

TEST_P(StoreContractTest, ConcurrentWritersOnSeveralStoresAllLand) {
  REQUIRE_PERSISTENT();
  SeedEnvironment();
  constexpr int kStores = 4;
  constexpr int kWritesPerStore = 10;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < kStores; ++i) {
    auto s = backend().Open(codec());
    ASSERT_TRUE(Ok(s));
    stores.push_back(std::move(s).value());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kStores);
  for (int i = 0; i < kStores; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kWritesPerStore; ++j) {
        model::Resource res;
        res.id = ResourceId(NewUuid());
        res.environment_id = env_.id;
        res.name = fmt::format("s{}-res{}", i, j);
        res.secret = fmt::format("secret-{}-{}", i, j);
        if (!stores[i]->Write([&](Transaction& t) { return t.Insert(res); }).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(LoadEnv(env_.id).resources.size(), static_cast<size_t>(kStores * kWritesPerStore));
}

// ------------------------------------------------------------------------------------------
// Remembered jtis (revoked tokens, used assertions).

TEST_P(StoreContractTest, RememberJtiRefusesAnUnexpiredReplay) {
  SeedEnvironment();
  model::RememberedJti j{model::JtiKind::kUsedAssertion, env_.id, "jti-1", Time(10'000)};
  auto first = store().RememberJti(j, Time(0));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(*first);
  auto replay = store().RememberJti(j, Time(5'000));
  ASSERT_TRUE(replay.ok());
  EXPECT_FALSE(*replay) << "a replay before exp is refused";
  // The same jti of the other kind, or after expiry, is new.
  model::RememberedJti other_kind = j;
  other_kind.kind = model::JtiKind::kRevokedToken;
  EXPECT_TRUE(*store().RememberJti(other_kind, Time(5'000)));
  model::RememberedJti later = j;
  later.expires_at = Time(20'000);
  EXPECT_TRUE(*store().RememberJti(later, Time(10'000)));
}

TEST_P(StoreContractTest, RememberedJtisLoadUntilTheyExpireAndPurge) {
  SeedEnvironment();
  ASSERT_TRUE(store()
                  .RememberJti({model::JtiKind::kRevokedToken, env_.id, "a", Time(1'000)}, Time(0))
                  .ok());
  ASSERT_TRUE(store()
                  .RememberJti({model::JtiKind::kRevokedToken, env_.id, "b", Time(3'000)}, Time(0))
                  .ok());
  ASSERT_TRUE(store()
                  .RememberJti({model::JtiKind::kUsedAssertion, env_.id, "c", Time(3'000)}, Time(0))
                  .ok());
  auto loaded = store().LoadJtis(model::JtiKind::kRevokedToken, Time(2'000));
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].jti, "b");
  EXPECT_EQ((*loaded)[0].environment_id, env_.id);
  EXPECT_EQ((*loaded)[0].expires_at, Time(3'000));
  ASSERT_TRUE(store().PurgeExpiredJtis(Time(3'000)).ok());
  EXPECT_TRUE(store().LoadJtis(model::JtiKind::kRevokedToken, Time(0))->empty());
  EXPECT_TRUE(store().LoadJtis(model::JtiKind::kUsedAssertion, Time(0))->empty());
}

TEST_P(StoreContractTest, RememberedJtisOfAnUnknownOrDeletedEnvironment) {
  SeedEnvironment();
  auto unknown = store().RememberJti(
      {model::JtiKind::kRevokedToken, EnvId(NewUuid()), "x", Time(1'000)}, Time(0));
  EXPECT_TRUE(IsError(unknown, StoreErrorCode::kNotFound));
  ASSERT_TRUE(store()
                  .RememberJti({model::JtiKind::kRevokedToken, env_.id, "y", Time(9'000)}, Time(0))
                  .ok());
  ASSERT_TRUE(Ok(WriteOne([&](Transaction& t) { return t.Delete(env_.id); })));
  EXPECT_TRUE(store().LoadJtis(model::JtiKind::kRevokedToken, Time(0))->empty());
}

TEST_P(StoreContractTest, RememberJtisWritesABatchAndSkipsWhatItCannotKeep) {
  SeedEnvironment();
  ASSERT_TRUE(
      store()
          .RememberJti({model::JtiKind::kUsedAssertion, env_.id, "old", Time(5'000)}, Time(0))
          .ok());
  const std::vector<model::RememberedJti> batch = {
      {model::JtiKind::kUsedAssertion, env_.id, "a", Time(9'000)},
      {model::JtiKind::kUsedAssertion, EnvId(NewUuid()), "gone",
       Time(9'000)},  // unknown environment
      {model::JtiKind::kUsedAssertion, env_.id, "old",
       Time(7'000)},  // already there: kept as it was
      {model::JtiKind::kUsedAssertion, env_.id, "b", Time(8'000)},
  };
  ASSERT_TRUE(Ok(store().RememberJtis(batch, Time(1'000))));
  ASSERT_TRUE(Ok(store().RememberJtis({}, Time(1'000))));
  auto loaded = store().LoadJtis(model::JtiKind::kUsedAssertion, Time(1'000));
  ASSERT_TRUE(Ok(loaded));
  std::vector<std::pair<std::string, int64_t>> got;
  for (const auto& j : *loaded) got.emplace_back(j.jti, Ms(j.expires_at));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::pair<std::string, int64_t>>{
                     {"a", Ms(Time(9'000))}, {"b", Ms(Time(8'000))}, {"old", Ms(Time(5'000))}}));
  // A replay of a batch entry is refused by the single-entry call, as for any remembered jti.
  EXPECT_FALSE(*store().RememberJti(batch[0], Time(2'000)));
  if (!backend().IsPersistent()) return;
  Reopen();
  EXPECT_EQ(store().LoadJtis(model::JtiKind::kUsedAssertion, Time(1'000))->size(), 3u);
}

}  // namespace
}  // namespace tollgate::storage::testing
