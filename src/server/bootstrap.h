#pragma once
// The records a new deployment and a new environment start with (SPEC §3, §8).

#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "model/model.h"
#include "storage/store.h"

namespace tollgate::server {

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
