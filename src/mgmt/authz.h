#pragma once
// Who is calling the management API and what they may do (SPEC §6). The caller is the
// application named by a bearer token this server issued; its role assignments are read from
// the current snapshot on every request, so a removed role stops working on the next request.

#include <optional>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "config/jti_cache.h"
#include "config/snapshot.h"
#include "mgmt/api_error.h"
#include "model/model.h"

namespace tollgate::mgmt {

enum class Permission {
  kRead,                // GET inside an environment, secrets excepted
  kReadSecrets,         // GET .../secret
  kManageApps,          // applications, secrets, grants, resources, scopes
  kAdminEnvironment,    // the environment itself, keys, role assignments
  kManageOrganization,  // create and delete environments, organization-wide roles
};

struct Caller {
  AppId application_id;
  EnvId environment_id;
  std::vector<model::RoleAssignment> roles;

  bool IsOrganizationAdmin() const;
  // True when a role reaches `env` with `permission`.
  bool Can(Permission permission, const EnvId& env) const;
  // True when any role reaches `env` at all (for filtering lists).
  bool Reaches(const EnvId& env) const { return Can(Permission::kRead, env); }
  // SPEC §6: true when the caller may create a role assignment of that scope: an
  // ORGANIZATION-scoped one needs Organization Admin, an ENVIRONMENT-scoped one
  // kAdminEnvironment in the environment `scope_id` names.
  bool MayAssign(model::RoleScopeType scope_type, std::string_view scope_id) const;
  // SPEC §6, no escalation: true when the caller may take over `app` (read or rotate its
  // secret, change its client authentication, update or delete it), that is when it could
  // create every role assignment `app` holds. With its secret, the caller would hold them all.
  bool MayControl(const config::AppEntry& app) const;
};

// 401 ACCESS_FAILED unless `authorization` is `Bearer <JWT>` that oauth::VerifyAccessToken
// accepts for the environment named by its `iss` (an issuer of this server; not revoked when
// `revoked` is given), with `aud` containing `api_url`, naming an enabled application of that
// environment.
Result<Caller, ApiError> AuthenticateBearer(std::optional<std::string_view> authorization,
                                            const config::Snapshot& snapshot,
                                            const config::Urls& urls, const Clock& clock,
                                            const config::JtiCache* revoked = nullptr);

// The 401 ACCESS_FAILED that AuthenticateBearer would answer whatever the store holds beyond
// `snapshot`, decided before the request body is read (SPEC §6): no header or not
// `Bearer <compact JWS>`, an issuer that is not one of this server's, or a token that a known
// key of its environment refutes (signature, algorithm, revoked key, `iss`, `exp`, revoked
// `jti`) or whose `aud` lacks the api-url. std::nullopt when only AuthenticateBearer on a
// snapshot that caught up with the store can tell: the token verifies, or it names an
// environment, key or application this snapshot may not know yet (another node wrote it).
// Never blocks and never throws.
std::optional<ApiError> RefuteBearer(std::optional<std::string_view> authorization,
                                     const config::Snapshot& snapshot, const config::Urls& urls,
                                     const Clock& clock, const config::JtiCache* revoked = nullptr);

}  // namespace tollgate::mgmt
