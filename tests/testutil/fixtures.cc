#include "testutil/fixtures.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

#include "common/uuid.h"
#include "crypto/keys.h"

namespace tollgate::testutil {
namespace {

TimePoint At(int seq) { return FromUnixMillis(1'700'000'000'000 + seq); }

const std::string& TestKeyPem() {
  static const std::string pem = [] {
    auto key = crypto::PrivateKey::Generate(crypto::KeyKind::kRsa, 2048);
    if (!key) throw std::runtime_error("key generation failed");
    return (*key)->ToPem();
  }();
  return pem;
}

}  // namespace

EnvBuilder::EnvBuilder() {
  auto& env = data_.environment;
  env.id = EnvId("11111111-2222-4333-8444-555555555555");
  env.organization_id = OrgId("99999999-2222-4333-8444-555555555555");
  env.name = "Test";
  model::SigningKey key;
  key.id = KeyId("aaaaaaaa-2222-4333-8444-555555555555");
  key.environment_id = env.id;
  key.is_default = true;
  key.private_key_pem = TestKeyPem();
  key.created_at = key.starts_at = At(0);
  key.expires_at = FromUnixMillis(4'000'000'000'000);
  data_.signing_keys.push_back(key);
}

EnvBuilder& EnvBuilder::Resource(const std::string& name, const std::string& audience, int validity,
                                 const std::vector<std::string>& scopes) {
  model::Resource r;
  r.id = ResourceId(NewUuid());
  r.environment_id = data_.environment.id;
  r.name = name;
  r.audience = audience;
  r.access_token_validity_seconds = validity;
  r.created_at = At(++seq_);
  for (const auto& s : scopes) {
    model::Scope scope;
    scope.id = ScopeId(NewUuid());
    scope.resource_id = r.id;
    scope.environment_id = r.environment_id;
    scope.name = s;
    scope.created_at = At(++seq_);
    data_.scopes.push_back(scope);
  }
  data_.resources.push_back(r);
  return *this;
}

EnvBuilder& EnvBuilder::App(const std::string& id, model::AppType type, model::AuthMethod method,
                            const std::string& secret) {
  model::Application app;
  app.id = AppId(id);
  app.environment_id = data_.environment.id;
  app.name = id;
  app.type = type;
  app.token_endpoint_auth_method = method;
  app.grant_types = {model::GrantType::kClientCredentials};
  app.created_at = At(++seq_);
  data_.applications.push_back(app);
  data_.secrets.push_back({app.id, app.environment_id, secret, std::nullopt, std::nullopt});
  return *this;
}

EnvBuilder& EnvBuilder::Attribute(const std::string& resource_name, const std::string& name,
                                  const std::string& value) {
  const auto it = std::find_if(data_.resources.begin(), data_.resources.end(),
                               [&](const model::Resource& r) { return r.name == resource_name; });
  if (it == data_.resources.end()) throw std::invalid_argument("no resource " + resource_name);
  model::ResourceAttribute a;
  a.id = AttributeId(NewUuid());
  a.environment_id = data_.environment.id;
  a.resource_id = it->id;
  a.name = name;
  a.value = value;
  a.type = model::AttributeType::kCustom;
  a.created_at = a.updated_at = At(++seq_);
  data_.resource_attributes.push_back(a);
  return *this;
}

EnvBuilder& EnvBuilder::TrustedIssuer(const std::string& name, const std::string& issuer,
                                      const std::string& jwks_url, const std::string& audience) {
  model::TrustedIssuer t;
  t.id = TrustedIssuerId(NewUuid());
  t.environment_id = data_.environment.id;
  t.name = name;
  t.issuer = issuer;
  t.jwks_url = jwks_url;
  t.audience = audience;
  t.enabled = true;
  t.created_at = t.updated_at = At(++seq_);
  data_.trusted_issuers.push_back(t);
  return *this;
}

EnvBuilder& EnvBuilder::TrustedCa(const std::string& name, const std::string& certificate_pem) {
  model::TrustedCa c;
  c.id = TrustedCaId(NewUuid());
  c.environment_id = data_.environment.id;
  c.name = name;
  c.certificate = certificate_pem;
  c.created_at = c.updated_at = At(++seq_);
  data_.trusted_cas.push_back(c);
  return *this;
}

EnvBuilder& EnvBuilder::Grant(const std::string& app_id, const std::string& resource_name,
                              const std::vector<std::string>& scopes) {
  model::Grant g;
  g.id = GrantId(NewUuid());
  g.environment_id = data_.environment.id;
  g.application_id = AppId(app_id);
  for (const auto& r : data_.resources) {
    if (r.name != resource_name) continue;
    g.resource_id = r.id;
    for (const auto& s : data_.scopes) {
      for (const auto& wanted : scopes) {
        if (s.resource_id == r.id && s.name == wanted) g.scopes.push_back(s.id);
      }
    }
  }
  data_.grants.push_back(g);
  return *this;
}

EnvBuilder& EnvBuilder::Role(const std::string& app_id) {
  model::RoleAssignment ra;
  ra.id = RoleAssignmentId(NewUuid());
  ra.environment_id = data_.environment.id;
  ra.application_id = AppId(app_id);
  ra.role_id = model::kOrganizationAdminRoleId;
  ra.scope_type = model::RoleScopeType::kOrganization;
  ra.scope_id = data_.environment.organization_id.str();
  data_.role_assignments.push_back(ra);
  return *this;
}

std::shared_ptr<const config::EnvironmentSnapshot> EnvBuilder::Build() const {
  auto built = config::BuildEnvironmentSnapshot(data_, {kAuthUrl, kApiUrl});
  if (!built) throw std::runtime_error("snapshot build failed: " + built.error().message);
  return std::move(built).value();
}

config::JtiResult<bool> MemoryJtiStore::Remember(const model::RememberedJti& jti, TimePoint now) {
  common::MutexLock lock(mu_);
  for (auto& j : jtis_) {
    if (j.kind == jti.kind && j.environment_id == jti.environment_id && j.jti == jti.jti) {
      if (now < j.expires_at) return false;
      j.expires_at = jti.expires_at;
      return true;
    }
  }
  jtis_.push_back(jti);
  return true;
}

config::JtiResult<void> MemoryJtiStore::RememberAll(const std::vector<model::RememberedJti>& jtis,
                                                    TimePoint now) {
  for (const auto& j : jtis) (void)Remember(j, now);
  return {};
}

config::JtiResult<std::vector<model::RememberedJti>> MemoryJtiStore::Load(model::JtiKind kind,
                                                                          TimePoint now) {
  common::MutexLock lock(mu_);
  std::vector<model::RememberedJti> out;
  for (const auto& j : jtis_) {
    if (j.kind == kind && now < j.expires_at) out.push_back(j);
  }
  return out;
}

config::JtiResult<void> MemoryJtiStore::PurgeExpired(TimePoint now) {
  common::MutexLock lock(mu_);
  std::erase_if(jtis_, [&](const model::RememberedJti& j) { return j.expires_at <= now; });
  return {};
}

std::shared_ptr<const crypto::PrivateKey> SharedKey(crypto::KeyKind kind, int slot) {
  static std::map<std::pair<int, int>, std::shared_ptr<const crypto::PrivateKey>> made;
  auto& key = made[{static_cast<int>(kind), slot}];
  if (!key) {
    auto k = crypto::PrivateKey::Generate(kind);
    if (!k) throw std::runtime_error("key generation failed: " + k.error().message);
    key = *k;
  }
  return key;
}

std::string JwkSetJson(const std::vector<const crypto::PrivateKey*>& keys,
                       const std::vector<std::string>& kids) {
  std::string out = "{\"keys\":[";
  for (size_t i = 0; i < keys.size(); ++i) {
    const crypto::PublicJwk j = keys[i]->Public();
    if (i > 0) out += ",";
    out += "{\"kty\":\"" + j.kty + "\"";
    if (i < kids.size() && !kids[i].empty()) out += ",\"kid\":\"" + kids[i] + "\"";
    for (const auto& [name, value] : {std::pair<std::string, std::string>{"n", j.n},
                                      {"e", j.e},
                                      {"crv", j.crv},
                                      {"x", j.x},
                                      {"y", j.y}}) {
      if (!value.empty()) out += ",\"" + name + "\":\"" + value + "\"";
    }
    out += "}";
  }
  return out + "]}";
}

}  // namespace tollgate::testutil
