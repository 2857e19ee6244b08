#pragma once
// The records a new deployment and a new environment start with (SPEC §3, §8).

#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "model/model.h"
#include "storage/store.h"

namespace tollgate::server {

// A new environment with PingOne's built-in resources (OPENID_CONNECT with the five OIDC
// scopes, PINGONE_API with audience `api_url`) and a default RSA-2048 signing key.
struct NewEnvironment {
  model::Environment environment;
  std::vector<model::Resource> resources;
  std::vector<model::Scope> scopes;
  model::SigningKey signing_key;
};
Result<NewEnvironment, std::string> MakeEnvironment(const OrgId& org, std::string name,
                                                    model::EnvironmentType type,
                                                    const std::string& api_url, const Clock& clock);

// Inserts every record of `env` inside `tx`.
storage::StoreResult<void> InsertEnvironment(storage::Transaction& tx, const NewEnvironment& env);

// A generated client secret: 64 characters of [A-Za-z0-9-._~] from a CSPRNG (SPEC §6).
std::string NewClientSecret();

struct InitResult {
  std::string organization_id;
  std::string environment_id;
  std::string client_id;
  std::string client_secret;
};

// `tollgate init`: the organization, the Administrators environment, and a WORKER application
// with the Organization Admin role, in one transaction. kAlreadyInitialized when the store
// already has an organization (nothing is changed).
Result<InitResult, std::string> InitializeDeployment(storage::Store& store,
                                                     const std::string& api_url,
                                                     const Clock& clock);

}  // namespace tollgate::server
