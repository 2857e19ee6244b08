#include "mgmt/authz.h"

#include <boost/json.hpp>
#include <cctype>

#include "common/uuid.h"
#include "jwt/jws.h"
#include "oauth/access_token.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;

bool RoleGrants(const model::RoleAssignment& ra, Permission p, const EnvId& env) {
  if (ra.role_id == model::kOrganizationAdminRoleId) return true;
  if (ra.scope_type != model::RoleScopeType::kEnvironment || ra.scope_id != env.str()) return false;
  if (ra.role_id == model::kEnvironmentAdminRoleId) return p != Permission::kManageOrganization;
  if (ra.role_id == model::kClientApplicationDeveloperRoleId) {
    return p == Permission::kRead || p == Permission::kReadSecrets || p == Permission::kManageApps;
  }
  if (ra.role_id == model::kConfigurationReadOnlyRoleId) return p == Permission::kRead;
  return false;
}

}  // namespace

bool Caller::IsOrganizationAdmin() const {
  for (const auto& ra : roles) {
    if (ra.role_id == model::kOrganizationAdminRoleId) return true;
  }
  return false;
}

bool Caller::Can(Permission permission, const EnvId& env) const {
  for (const auto& ra : roles) {
    if (RoleGrants(ra, permission, env)) return true;
  }
  return false;
}

bool Caller::MayAssign(model::RoleScopeType scope_type, std::string_view scope_id) const {
  if (scope_type == model::RoleScopeType::kOrganization) return IsOrganizationAdmin();
  return Can(Permission::kAdminEnvironment, EnvId(std::string(scope_id)));
}

bool Caller::MayControl(const config::AppEntry& app) const {
  for (const auto& ra : app.role_assignments) {
    if (!MayAssign(ra.scope_type, ra.scope_id)) return false;
  }
  return true;
}

Result<Caller, ApiError> AuthenticateBearer(std::optional<std::string_view> authorization,
                                            const config::Snapshot& snapshot,
                                            const config::Urls& urls, const Clock& clock,
                                            const config::JtiCache* revoked) {
  if (!authorization) return Fail(Unauthorized("no Authorization header"));
  std::string_view value = *authorization;
  if (value.size() < 7) return Fail(Unauthorized("short Authorization header"));
  std::string scheme(value.substr(0, 7));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return Fail(Unauthorized("not a Bearer token"));
  std::string_view token = value.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);

  // The issuer names the environment whose keys must have signed the token:
  // {auth-url}/{envID}/as. Its claims are read unverified only to find that environment.
  auto parts = jwt::SplitCompact(token);
  if (!parts) return Fail(Unauthorized("not a compact JWS"));
  boost::system::error_code ec;
  json::value unverified = json::parse(parts->payload_json, ec);
  const json::value* iss =
      !ec && unverified.is_object() ? unverified.as_object().if_contains("iss") : nullptr;
  if (iss == nullptr || !iss->is_string()) return Fail(Unauthorized("no iss"));
  std::string_view issuer(iss->as_string());
  const std::string prefix = urls.auth_url + "/";
  if (issuer.rfind(prefix, 0) != 0 || issuer.size() != prefix.size() + 36 + 3 ||
      issuer.substr(prefix.size() + 36) != "/as") {
    return Fail(Unauthorized("unknown issuer"));
  }
  auto env_id = NormalizeUuid(issuer.substr(prefix.size(), 36));
  const config::EnvironmentSnapshot* env = env_id ? snapshot.FindEnvironment(*env_id) : nullptr;
  if (env == nullptr) return Fail(Unauthorized("unknown issuer"));

  auto claims = oauth::VerifyAccessToken(token, *env, clock, revoked);
  if (!claims) return Fail(Unauthorized("signature, issuer, expiry or revocation check failed"));
  if (!oauth::AudienceContains(*claims, urls.api_url)) {
    return Fail(Unauthorized("aud does not contain the api-url"));
  }
  const config::AppEntry* app = env->FindApp(std::string_view(claims->at("client_id").as_string()));
  if (app == nullptr || !app->app.enabled) return Fail(Unauthorized("unknown or disabled client"));

  Caller caller;
  caller.application_id = app->app.id;
  caller.environment_id = env->environment.id;
  caller.roles = app->role_assignments;
  return caller;
}

}  // namespace tollgate::mgmt
