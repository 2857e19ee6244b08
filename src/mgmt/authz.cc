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

namespace {

// A bearer token as presented: the token and the environment its unverified `iss` names.
struct Presented {
  std::string_view token;
  std::string kid;                                   // from the unverified header
  const config::EnvironmentSnapshot* env = nullptr;  // null: not in this snapshot
};

// The checks that need no key: header syntax, compact JWS, an issuer of this server.
Result<Presented, ApiError> Present(std::optional<std::string_view> authorization,
                                    const config::Snapshot& snapshot, const config::Urls& urls) {
  if (!authorization) return Fail(Unauthorized("no Authorization header"));
  std::string_view value = *authorization;
  if (value.size() < 7) return Fail(Unauthorized("short Authorization header"));
  std::string scheme(value.substr(0, 7));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return Fail(Unauthorized("not a Bearer token"));
  Presented out;
  out.token = value.substr(7);
  while (!out.token.empty() && out.token.front() == ' ') out.token.remove_prefix(1);

  // The issuer names the environment whose keys must have signed the token:
  // {auth-url}/{envID}/as. Its claims are read unverified only to find that environment.
  auto parts = jwt::SplitCompact(out.token);
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
  if (!env_id) return Fail(Unauthorized("unknown issuer"));
  out.env = snapshot.FindEnvironment(*env_id);
  json::value header = json::parse(parts->header_json, ec);
  const json::value* kid =
      !ec && header.is_object() ? header.as_object().if_contains("kid") : nullptr;
  if (kid != nullptr && kid->is_string()) out.kid = std::string(kid->as_string());
  return out;
}

}  // namespace

Result<Caller, ApiError> AuthenticateBearer(std::optional<std::string_view> authorization,
                                            const config::Snapshot& snapshot,
                                            const config::Urls& urls, const Clock& clock,
                                            const config::JtiCache* revoked) {
  auto presented = Present(authorization, snapshot, urls);
  if (!presented) return Fail(std::move(presented).error());
  const config::EnvironmentSnapshot* env = presented->env;
  if (env == nullptr) return Fail(Unauthorized("unknown issuer"));

  auto claims = oauth::VerifyAccessToken(presented->token, *env, clock, revoked);
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

std::optional<ApiError> RefuteBearer(std::optional<std::string_view> authorization,
                                     const config::Snapshot& snapshot, const config::Urls& urls,
                                     const Clock& clock, const config::JtiCache* revoked) {
  try {
    auto presented = Present(authorization, snapshot, urls);
    if (!presented) return std::move(presented).error();
    // A key is never un-revoked and a token never un-expires, so a key this snapshot knows
    // refutes for good. An unknown environment or key may be newer than the snapshot.
    if (presented->env == nullptr || presented->env->FindKey(presented->kid) == nullptr) {
      return std::nullopt;
    }
    auto claims = oauth::VerifyAccessToken(presented->token, *presented->env, clock, revoked,
                                           oauth::ClientCheck::kDeferred);
    if (!claims) return Unauthorized("signature, issuer, expiry or revocation check failed");
    if (!oauth::AudienceContains(*claims, urls.api_url)) {
      return Unauthorized("aud does not contain the api-url");
    }
    return std::nullopt;  // the application may have been created or enabled since
  } catch (const std::exception&) {
    return std::nullopt;  // AuthenticateBearer decides, under the management API's own guard
  }
}

}  // namespace tollgate::mgmt
