#include "server/bootstrap.h"

#include <fmt/format.h>

#include "common/random.h"
#include "common/uuid.h"
#include "crypto/keys.h"

namespace tollgate::server {
namespace {

constexpr std::string_view kSecretAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
constexpr int kKeyValidityDays = 365;

}  // namespace

std::string NewClientSecret() { return RandomString(64, kSecretAlphabet); }

Result<NewEnvironment, std::string> MakeEnvironment(const OrgId& org, std::string name,
                                                    model::EnvironmentType type,
                                                    const std::string& api_url,
                                                    const Clock& clock) {
  const TimePoint now = clock.Now();
  NewEnvironment out;
  auto& env = out.environment;
  env.id = EnvId(NewUuid());
  env.organization_id = org;
  env.name = std::move(name);
  env.type = type;
  env.region = model::Region::kNA;
  env.created_at = env.updated_at = now;

  model::Resource openid;
  openid.id = ResourceId(NewUuid());
  openid.environment_id = env.id;
  openid.name = "openid";
  openid.description = "OpenID Connect scopes";
  openid.type = model::ResourceType::kOpenIdConnect;
  openid.audience = "openid";
  openid.created_at = openid.updated_at = now;
  for (std::string_view s : {"openid", "profile", "email", "address", "phone"}) {
    model::Scope scope;
    scope.id = ScopeId(NewUuid());
    scope.resource_id = openid.id;
    scope.environment_id = env.id;
    scope.name = std::string(s);
    scope.created_at = scope.updated_at = now;
    out.scopes.push_back(std::move(scope));
  }
  model::Resource api;
  api.id = ResourceId(NewUuid());
  api.environment_id = env.id;
  api.name = "PingOne API";
  api.description = "The Tollgate management API (/v1)";
  api.type = model::ResourceType::kPingOneApi;
  api.audience = api_url;
  api.created_at = api.updated_at = now;
  out.resources = {std::move(openid), std::move(api)};

  auto key = crypto::PrivateKey::Generate(crypto::KeyKind::kRsa, 2048);
  if (!key) return Fail("cannot generate a signing key: " + key.error().message);
  auto& sk = out.signing_key;
  sk.id = KeyId(NewUuid());
  sk.environment_id = env.id;
  sk.created_at = sk.starts_at = now;
  sk.expires_at = now + std::chrono::hours(24 * kKeyValidityDays);
  sk.name = "Signing key " + FormatRfc3339(now);
  sk.algorithm = model::KeyAlgorithm::kRsa;
  sk.key_length = 2048;
  sk.subject_dn = "CN=" + env.name;
  sk.validity_period_days = kKeyValidityDays;
  sk.is_default = true;
  sk.private_key_pem = (*key)->ToPem();
  auto cert = (*key)->SelfSignedCertificate(sk.subject_dn, kKeyValidityDays);
  if (!cert) return Fail("cannot create a certificate: " + cert.error().message);
  sk.certificate_der = std::move(cert).value();
  return out;
}

storage::StoreResult<void> InsertEnvironment(storage::Transaction& tx, const NewEnvironment& env) {
  if (auto r = tx.Insert(env.environment); !r) return r;
  for (const auto& res : env.resources) {
    if (auto r = tx.Insert(res); !r) return r;
  }
  for (const auto& s : env.scopes) {
    if (auto r = tx.Insert(s); !r) return r;
  }
  return tx.Insert(env.signing_key);
}

Result<InitResult, std::string> InitializeDeployment(storage::Store& store,
                                                     const std::string& api_url,
                                                     const Clock& clock) {
  const TimePoint now = clock.Now();
  model::Organization org{OrgId(NewUuid()), "Tollgate", now};
  auto env = MakeEnvironment(org.id, "Administrators", model::EnvironmentType::kProduction, api_url,
                             clock);
  if (!env) return Fail(std::move(env).error());

  model::Application app;
  app.id = AppId(NewUuid());
  app.environment_id = env->environment.id;
  app.name = "Token Admin App";
  app.description = "Created by tollgate init: a worker with the Organization Admin role";
  app.type = model::AppType::kWorker;
  app.grant_types = {model::GrantType::kClientCredentials};
  app.token_endpoint_auth_method = model::AuthMethod::kClientSecretBasic;
  app.created_at = app.updated_at = now;

  model::ApplicationSecret secret{app.id, app.environment_id, NewClientSecret(), std::nullopt,
                                  std::nullopt};
  model::RoleAssignment role;
  role.id = RoleAssignmentId(NewUuid());
  role.environment_id = app.environment_id;
  role.application_id = app.id;
  role.role_id = model::kOrganizationAdminRoleId;
  role.scope_id = org.id.str();
  role.scope_type = model::RoleScopeType::kOrganization;
  role.created_at = now;

  auto written = store.Write([&](storage::Transaction& tx) -> storage::StoreResult<void> {
    if (auto r = tx.Insert(org); !r) return r;
    if (auto r = InsertEnvironment(tx, *env); !r) return r;
    if (auto r = tx.Insert(app); !r) return r;
    if (auto r = tx.Put(secret); !r) return r;
    return tx.Insert(role);
  });
  if (!written) {
    if (written.error().code == storage::StoreErrorCode::kAlreadyInitialized) {
      return Fail(std::string("the store is already initialized; nothing was changed"));
    }
    return Fail("cannot initialize the store: " + written.error().message);
  }
  return InitResult{org.id.str(), env->environment.id.str(), app.id.str(), secret.secret};
}

}  // namespace tollgate::server
