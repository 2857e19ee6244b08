#include "store_contract.h"

#include <fmt/format.h>

#include <array>

#include "common/clock.h"
#include "common/uuid.h"
#include "test_codec.h"

namespace tollgate::storage::testing {

std::string Describe(const StoreError& e) {
  static constexpr std::array<std::string_view, 7> kNames = {
      "kNotFound",       "kConflict",     "kUnavailable", "kAlreadyInitialized",
      "kWrongMasterKey", "kSchemaTooNew", "kInternal"};
  const auto index = static_cast<size_t>(e.code);
  const std::string_view name = index < kNames.size() ? kNames[index] : "?";
  return fmt::format("{} target='{}' message='{}'", name, e.target, e.message);
}

void StoreContractTest::SetUp() {
  backend_ = GetParam().make();
  // A backend whose server is not configured (PostgreSQL without a test cluster) skips; its
  // factory records a failure instead when the server is required.
  if (backend_ == nullptr) {
    if (HasFailure()) FAIL() << GetParam().name << ": the required test database is missing";
    GTEST_SKIP() << GetParam().name << ": no test database configured";
  }
  codec_ = std::make_shared<TestCodec>("master-key-A");
  auto opened = backend_->Open(codec_);
  ASSERT_TRUE(Ok(opened));
  store_ = std::move(opened).value();
}

void StoreContractTest::Reopen() {
  store_.reset();
  auto opened = backend_->Open(codec_);
  ASSERT_TRUE(Ok(opened));
  store_ = std::move(opened).value();
}

Deployment StoreContractTest::Load() {
  auto loaded = store_->LoadAll();
  EXPECT_TRUE(Ok(loaded));
  if (!loaded.ok()) return {};
  return std::move(loaded).value();
}

model::EnvironmentData StoreContractTest::LoadEnv(const EnvId& id) {
  Deployment d = Load();
  model::EnvironmentData from_all;
  bool found = false;
  for (model::EnvironmentData& e : d.environments) {
    if (e.environment.id == id) {
      from_all = std::move(e);
      found = true;
    }
  }
  EXPECT_TRUE(found) << "environment " << id.str() << " missing from LoadAll()";
  auto one = store_->LoadEnvironment(id);
  EXPECT_TRUE(Ok(one));
  if (one.ok()) {
    EXPECT_EQ(Fields(*one), Fields(from_all)) << "LoadEnvironment != LoadAll";
  }
  return from_all;
}

TimePoint StoreContractTest::Time(int64_t offset_ms) const {
  // An arbitrary instant with a millisecond part, so truncation to seconds would show.
  return FromUnixMillis(int64_t{1'790'000'000'123} + offset_ms);
}

model::Organization StoreContractTest::MakeOrganization() {
  return model::Organization{OrgId(NewUuid()), "Acme Corp", Time(-1000)};
}

model::Environment StoreContractTest::MakeEnvironment(std::string name) {
  const int64_t n = ++counter_;
  model::Environment e;
  e.id = EnvId(NewUuid());
  e.organization_id = org_.id;
  e.name = name.empty() ? fmt::format("env-{}", n) : std::move(name);
  e.description = fmt::format("Environment {} description", n);
  e.type = model::EnvironmentType::kProduction;
  e.region = model::Region::kEU;
  e.created_at = Time(n * 10);
  e.updated_at = Time(n * 10 + 7);
  return e;
}

model::Application StoreContractTest::MakeApplication(const EnvId& env, std::string name) {
  const int64_t n = ++counter_;
  model::Application a;
  a.id = AppId(NewUuid());
  a.environment_id = env;
  a.name = name.empty() ? fmt::format("app-{}", n) : std::move(name);
  a.description = fmt::format("Application {} \"quoted\" ünïcode", n);
  a.enabled = false;
  a.protocol = "OPENID_CONNECT";
  a.type = model::AppType::kWorker;
  a.grant_types = {model::GrantType::kTokenExchange, model::GrantType::kClientCredentials,
                   model::GrantType::kRefreshToken};
  a.token_endpoint_auth_method = model::AuthMethod::kPrivateKeyJwt;
  a.jwks = R"({"keys":[{"kty":"EC","crv":"P-256","x":"abc","y":"def"}]})";
  a.jwks_url = fmt::format("https://app{}.example/jwks", n);
  a.response_types = {"token", "code"};
  a.redirect_uris = {"https://b.example/cb", "https://a.example/cb?x=1&y=2"};
  a.request_scopes_for_multiple_resources_enabled = true;
  a.include_x5t = true;
  a.include_typ = false;
  a.dpop_bound_access_tokens = true;
  a.tls_client_auth =
      model::TlsClientAuth{model::TlsClientAuthName::kSanDns, fmt::format("client{}.example", n)};
  a.tls_client_certificate_bound_access_tokens = true;
  a.cors_settings = model::CorsSettings{
      .behavior = model::CorsBehavior::kAllowSpecificOrigins,
      .origins = {"https://b.example", "http://[::1]:8080", "http://127.0.0.1:3000"}};
  a.created_at = Time(n * 10);
  a.updated_at = Time(n * 10 + 3);
  return a;
}

model::ApplicationSecret StoreContractTest::MakeSecret(const model::Application& app,
                                                       bool with_previous) {
  const int64_t n = ++counter_;
  model::ApplicationSecret s;
  s.application_id = app.id;
  s.environment_id = app.environment_id;
  s.secret = fmt::format("client-secret-{}-{}", n, NewUuid());
  if (with_previous) {
    s.previous = fmt::format("previous-secret-{}-{}", n, NewUuid());
    s.previous_expires_at = Time(86'400'000 + n);
  }
  return s;
}

model::Resource StoreContractTest::MakeResource(const EnvId& env, std::string name) {
  const int64_t n = ++counter_;
  model::Resource r;
  r.id = ResourceId(NewUuid());
  r.environment_id = env;
  r.name = name.empty() ? fmt::format("resource-{}", n) : std::move(name);
  r.description = fmt::format("Resource {} description", n);
  r.type = model::ResourceType::kOpenIdConnect;
  r.audience = fmt::format("https://api{}.example", n);
  r.access_token_validity_seconds = static_cast<int32_t>(7200 + n);
  r.introspect_endpoint_auth_method = model::IntrospectAuthMethod::kClientSecretPost;
  r.secret = fmt::format("resource-secret-{}-{}", n, NewUuid());
  r.created_at = Time(n * 10);
  r.updated_at = Time(n * 10 + 5);
  return r;
}

model::Scope StoreContractTest::MakeScope(const model::Resource& resource, std::string name) {
  const int64_t n = ++counter_;
  model::Scope s;
  s.id = ScopeId(NewUuid());
  s.resource_id = resource.id;
  s.environment_id = resource.environment_id;
  s.name = name.empty() ? fmt::format("scope:{}", n) : std::move(name);
  s.description = fmt::format("Scope {} description", n);
  s.created_at = Time(n * 10);
  s.updated_at = Time(n * 10 + 1);
  return s;
}

model::ResourceAttribute StoreContractTest::MakeAttribute(const model::Resource& resource,
                                                          std::string name) {
  const int64_t n = ++counter_;
  model::ResourceAttribute a;
  a.id = AttributeId(NewUuid());
  a.resource_id = resource.id;
  a.environment_id = resource.environment_id;
  a.name = name.empty() ? fmt::format("claim_{}", n) : std::move(name);
  a.value = fmt::format("${{user.custom_{}}} \"quoted\" ünïcode", n);
  a.type = model::AttributeType::kCustom;
  a.created_at = Time(n * 10);
  a.updated_at = Time(n * 10 + 6);
  return a;
}

model::TrustedIssuer StoreContractTest::MakeTrustedIssuer(const EnvId& env, std::string issuer) {
  const int64_t n = ++counter_;
  model::TrustedIssuer ti;
  ti.id = TrustedIssuerId(NewUuid());
  ti.environment_id = env;
  ti.name = fmt::format("Partner {} \"quoted\" ünïcode", n);
  ti.issuer = issuer.empty() ? fmt::format("https://idp{}.example/issuer", n) : std::move(issuer);
  ti.jwks_url = fmt::format("https://idp{}.example/jwks?x=1&y=2", n);
  ti.audience = fmt::format("https://auth.example/{}/as", n);
  ti.enabled = false;
  ti.created_at = Time(n * 10);
  ti.updated_at = Time(n * 10 + 8);
  return ti;
}

model::TrustedCa StoreContractTest::MakeTrustedCa(const EnvId& env, std::string name) {
  const int64_t n = ++counter_;
  model::TrustedCa ca;
  ca.id = TrustedCaId(NewUuid());
  ca.environment_id = env;
  ca.name = name.empty() ? fmt::format("Issuing CA {} \"quoted\" ünïcode", n) : std::move(name);
  // Stored as text, exactly: line breaks and trailing newline included.
  ca.certificate = fmt::format(
      "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU{}\nAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNI\n"
      "-----END CERTIFICATE-----\n",
      NewUuid());
  ca.created_at = Time(n * 10);
  ca.updated_at = Time(n * 10 + 9);
  return ca;
}

model::Grant StoreContractTest::MakeGrant(const model::Application& app,
                                          const model::Resource& resource,
                                          std::vector<ScopeId> scopes) {
  const int64_t n = ++counter_;
  model::Grant g;
  g.id = GrantId(NewUuid());
  g.environment_id = app.environment_id;
  g.application_id = app.id;
  g.resource_id = resource.id;
  g.scopes = std::move(scopes);
  g.created_at = Time(n * 10);
  g.updated_at = Time(n * 10 + 2);
  return g;
}

model::RoleAssignment StoreContractTest::MakeRoleAssignment(const model::Application& app,
                                                            RoleId role, std::string scope_id,
                                                            model::RoleScopeType type) {
  const int64_t n = ++counter_;
  model::RoleAssignment ra;
  ra.id = RoleAssignmentId(NewUuid());
  ra.environment_id = app.environment_id;
  ra.application_id = app.id;
  ra.role_id = std::move(role);
  ra.scope_id = std::move(scope_id);
  ra.scope_type = type;
  ra.created_at = Time(n * 10);
  return ra;
}

model::SigningKey StoreContractTest::MakeSigningKey(const EnvId& env) {
  const int64_t n = ++counter_;
  model::SigningKey k;
  k.id = KeyId(NewUuid());
  k.environment_id = env;
  k.name = fmt::format("Signing key {}", n);
  k.algorithm = model::KeyAlgorithm::kEc;
  k.key_length = 256;
  k.subject_dn = fmt::format("CN=env-{}", n);
  k.validity_period_days = 90;
  k.is_default = true;
  k.revoked = true;
  k.private_key_pem = fmt::format(
      "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg{}\n"
      "-----END PRIVATE KEY-----\n",
      NewUuid());
  // DER is binary: embedded NULs and high bytes must survive.
  k.certificate_der = std::string("\x30\x82\x01\x00\x00\xff\x7f\x00", 8) + NewUuid();
  k.created_at = Time(n * 10);
  k.starts_at = Time(n * 10 - 60'000);
  k.expires_at = Time(n * 10 + 90LL * 86'400'000);
  k.retired_at = Time(n * 10 + 4);
  return k;
}

void StoreContractTest::SeedEnvironment() {
  org_ = MakeOrganization();
  env_ = MakeEnvironment("seed-env");
  ASSERT_TRUE(Ok(Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(org_); !r.ok()) return r;
    return t.Insert(env_);
  })));
}

StoreContractTest::Populated StoreContractTest::Populate(std::string env_name) {
  if (org_.id.empty()) SeedEnvironment();
  Populated p;
  p.env = MakeEnvironment(std::move(env_name));
  p.app1 = MakeApplication(p.env.id);
  p.app2 = MakeApplication(p.env.id);
  p.secret1 = MakeSecret(p.app1, /*with_previous=*/true);
  p.res1 = MakeResource(p.env.id);
  p.res2 = MakeResource(p.env.id);
  p.s1a = MakeScope(p.res1);
  p.s1b = MakeScope(p.res1);
  p.s2a = MakeScope(p.res2);
  p.at1a = MakeAttribute(p.res1);
  p.at2a = MakeAttribute(p.res2);
  p.ti = MakeTrustedIssuer(p.env.id);
  p.ca = MakeTrustedCa(p.env.id);
  p.g1 = MakeGrant(p.app1, p.res1, {p.s1b.id, p.s1a.id});
  p.g2 = MakeGrant(p.app2, p.res2, {p.s2a.id});
  p.ra_env = MakeRoleAssignment(p.app1, model::kEnvironmentAdminRoleId, p.env.id.str(),
                                model::RoleScopeType::kEnvironment);
  p.ra_org = MakeRoleAssignment(p.app2, model::kOrganizationAdminRoleId, org_.id.str(),
                                model::RoleScopeType::kOrganization);
  p.key = MakeSigningKey(p.env.id);
  p.key.is_default = false;  // deletable
  auto written = Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r :
         {t.Insert(p.env), t.Insert(p.app1), t.Insert(p.app2), t.Put(p.secret1), t.Insert(p.res1),
          t.Insert(p.res2), t.Insert(p.s1a), t.Insert(p.s1b), t.Insert(p.s2a), t.Insert(p.at1a),
          t.Insert(p.at2a), t.Insert(p.ti), t.Insert(p.ca), t.Insert(p.g1), t.Insert(p.g2),
          t.Insert(p.ra_env), t.Insert(p.ra_org), t.Insert(p.key)}) {
      if (!r.ok()) return r;
    }
    return {};
  });
  EXPECT_TRUE(Ok(written));
  return p;
}

}  // namespace tollgate::storage::testing
