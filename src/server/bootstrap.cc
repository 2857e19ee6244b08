#include "server/bootstrap.h"

#include <fmt/format.h>

#include "common/uuid.h"
#include "mgmt/provisioning.h"

namespace tollgate::server {
Result<InitResult, std::string> InitializeDeployment(storage::Store& store,
                                                     const std::string& api_url,
                                                     const Clock& clock) {
  const TimePoint now = clock.Now();
  model::Organization org{OrgId(NewUuid()), "Tollgate", now};
  model::Environment admin_env;
  admin_env.organization_id = org.id;
  admin_env.name = "Administrators";
  admin_env.type = model::EnvironmentType::kProduction;
  auto env = mgmt::MakeEnvironment(std::move(admin_env), api_url, clock);
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

  model::ApplicationSecret secret{app.id, app.environment_id, mgmt::NewClientSecret(), std::nullopt,
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
    if (auto r = mgmt::InsertEnvironment(tx, *env); !r) return r;
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
