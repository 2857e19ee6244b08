#pragma once
// JWKS (RFC 7517) and authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0)
// for one environment (SPEC §3). Each returns the JSON text of the response body.

#include <string>

#include "common/clock.h"
#include "config/snapshot.h"

namespace tollgate::oauth {

// The public part of every signing key that is neither revoked nor expired, default first.
std::string JwksJson(const config::EnvironmentSnapshot& env, TimePoint now);

// The metadata document, the same for both well-known paths.
std::string DiscoveryJson(const config::EnvironmentSnapshot& env);

}  // namespace tollgate::oauth
