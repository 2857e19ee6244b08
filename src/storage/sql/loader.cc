#include "storage/sql/loader.h"

#include <utility>

#include "storage/sql/errors.h"
#include "storage/sql/tables.h"
#include "storage/sql/try.h"

namespace tollgate::storage::sql {
namespace {

StoreResult<model::EnvironmentData> LoadContents(Connection& db, const SecretCodec& codec,
                                                 model::Environment env) {
  model::EnvironmentData data;
  const EnvId& id = env.id;
  TG_STORE_ASSIGN(data.applications, applications::Load(db, id));
  TG_STORE_ASSIGN(data.secrets, application_secrets::Load(db, codec, id));
  TG_STORE_ASSIGN(data.resources, resources::Load(db, codec, id));
  TG_STORE_ASSIGN(data.scopes, scopes::Load(db, id));
  TG_STORE_ASSIGN(data.resource_attributes, resource_attributes::Load(db, id));
  TG_STORE_ASSIGN(data.trusted_issuers, trusted_issuers::Load(db, id));
  TG_STORE_ASSIGN(data.trusted_cas, trusted_cas::Load(db, id));
  TG_STORE_ASSIGN(data.grants, grants::Load(db, id));
  TG_STORE_ASSIGN(data.role_assignments, role_assignments::Load(db, id));
  TG_STORE_ASSIGN(data.signing_keys, signing_keys::Load(db, codec, id));
  TG_STORE_ASSIGN(data.key_rotation_policy, key_rotation_policies::Load(db, id));
  data.environment = std::move(env);
  return data;
}

}  // namespace

StoreResult<Deployment> LoadDeployment(Connection& db, const SecretCodec& codec) {
  Deployment out;
  TG_STORE_ASSIGN(out.organization, organization::Load(db));
  TG_STORE_ASSIGN(auto all, environments::LoadAll(db));
  out.environments.reserve(all.size());
  for (model::Environment& env : all) {
    TG_STORE_ASSIGN(auto data, LoadContents(db, codec, std::move(env)));
    out.environments.push_back(std::move(data));
  }
  return out;
}

StoreResult<model::EnvironmentData> LoadEnvironment(Connection& db, const SecretCodec& codec,
                                                    const EnvId& id) {
  TG_STORE_ASSIGN(auto env, environments::Load(db, id));
  if (!env) return Fail(NotFound("id", "no such environment"));
  return LoadContents(db, codec, std::move(*env));
}

}  // namespace tollgate::storage::sql
