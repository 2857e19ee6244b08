#include "mgmt/authz.h"

#include <boost/json.hpp>

#include <cctype>

#include "common/uuid.h"
#include "jwt/jws.h"

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

std::optional<json::object> ParseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
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

Result<Caller, ApiError> AuthenticateBearer(std::optional<std::string_view> authorization,
                                            const config::Snapshot& snapshot,
                                            const config::Urls& urls, const Clock& clock) {
  if (!authorization) return Fail(Unauthorized("no Authorization header"));
  std::string_view value = *authorization;
  if (value.size() < 7) return Fail(Unauthorized("short Authorization header"));
  std::string scheme(value.substr(0, 7));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return Fail(Unauthorized("not a Bearer token"));
  std::string_view token = value.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);

  auto parts = jwt::SplitCompact(token);
  if (!parts) return Fail(Unauthorized("not a compact JWS"));
  auto header = ParseObject(parts->header_json);
  auto claims = ParseObject(parts->payload_json);
  if (!header || !claims) return Fail(Unauthorized("header or claims are not JSON objects"));

  const auto* alg = header->if_contains("alg");
  const auto* kid = header->if_contains("kid");
  const auto* iss = claims->if_contains("iss");
  const auto* exp = claims->if_contains("exp");
  const auto* client_id = claims->if_contains("client_id");
  if (alg == nullptr || !alg->is_string() || kid == nullptr || !kid->is_string() ||
      iss == nullptr || !iss->is_string() || exp == nullptr || !exp->is_number() ||
      client_id == nullptr || !client_id->is_string()) {
    return Fail(Unauthorized("missing alg, kid, iss, exp or client_id"));
  }

  // The issuer must be one of ours: {auth-url}/{envID}/as.
  std::string_view issuer(iss->as_string());
  const std::string prefix = urls.auth_url + "/";
  if (issuer.rfind(prefix, 0) != 0 || issuer.size() != prefix.size() + 36 + 3 ||
      issuer.substr(prefix.size() + 36) != "/as") {
    return Fail(Unauthorized("unknown issuer"));
  }
  auto env_id = NormalizeUuid(issuer.substr(prefix.size(), 36));
  const config::EnvironmentSnapshot* env = env_id ? snapshot.FindEnvironment(*env_id) : nullptr;
  if (env == nullptr || env->issuer != issuer) return Fail(Unauthorized("unknown issuer"));

  const config::KeyEntry* key = env->FindKey(std::string_view(kid->as_string()));
  if (key == nullptr || key->key.revoked || clock.Now() >= key->key.expires_at) {
    return Fail(Unauthorized("unknown or withdrawn key"));
  }
  if (std::string_view(alg->as_string()) != key->signer->JwsAlg() ||
      !key->verifier->Verify(key->signer->JwsAlg(), parts->signing_input, parts->signature)) {
    return Fail(Unauthorized("bad signature"));
  }

  boost::system::error_code ec;
  const double expires = exp->to_number<double>(ec);
  if (ec || static_cast<double>(clock.NowSeconds()) >= expires) {
    return Fail(Unauthorized("token expired"));
  }

  bool audience_ok = false;
  if (const auto* aud = claims->if_contains("aud")) {
    if (aud->is_string()) audience_ok = aud->as_string() == urls.api_url;
    if (aud->is_array()) {
      for (const auto& a : aud->as_array()) {
        if (a.is_string() && a.as_string() == urls.api_url) audience_ok = true;
      }
    }
  }
  if (!audience_ok) return Fail(Unauthorized("aud does not contain the api-url"));

  const config::AppEntry* app = env->FindApp(std::string_view(client_id->as_string()));
  if (app == nullptr || !app->app.enabled) return Fail(Unauthorized("unknown or disabled client"));

  Caller caller;
  caller.application_id = app->app.id;
  caller.environment_id = env->environment.id;
  caller.roles = app->role_assignments;
  return caller;
}

}  // namespace tollgate::mgmt
