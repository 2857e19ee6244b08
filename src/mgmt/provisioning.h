#pragma once
// The records new objects start with: environments with PingOne's built-in resources and a
// default signing key, signing keys, generated client secrets (SPEC §3, §6).

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "model/model.h"
#include "storage/store.h"

namespace tollgate::mgmt {

// 64 characters of [A-Za-z0-9-._~] from a CSPRNG (SPEC §6).
std::string NewClientSecret();

struct KeySpec {
  model::KeyAlgorithm algorithm = model::KeyAlgorithm::kRsa;
  int32_t key_length = 2048;  // RSA: 2048/3072/4096; EC: 256; ignored for EdDSA
  bool is_default = false;
  std::optional<std::string> name;        // default "Signing key <createdAt>"
  std::optional<std::string> subject_dn;  // default "CN=<environment name>"
  int32_t validity_period_days = 365;
};

// A new key pair with a self-signed certificate. Fails only when OpenSSL does.
Result<model::SigningKey, std::string> MakeSigningKey(const model::Environment& env,
                                                      const KeySpec& spec, const Clock& clock);

// An environment's default key rotation policy (PingOne's defaults: RSA-2048, rotated every 90
// days), its keys named after the environment; its state is empty.
model::KeyRotationPolicy MakeKeyRotationPolicy(const model::Environment& env, bool enabled,
                                               TimePoint now);

// The spec of the keys `policy` creates (never default when created).
KeySpec KeySpecOf(const model::KeyRotationPolicy& policy);

struct NewEnvironment {
  model::Environment environment;
  std::vector<model::Resource> resources;        // OPENID_CONNECT and PINGONE_API
  std::vector<model::Scope> scopes;              // the five OIDC scopes
  model::SigningKey signing_key;                 // RSA-2048, default
  model::KeyRotationPolicy key_rotation_policy;  // enabled, rotating from signing_key
};

Result<NewEnvironment, std::string> MakeEnvironment(model::Environment env,
                                                    const std::string& api_url, const Clock& clock);

// Inserts every record of `env` inside `tx`.
storage::StoreResult<void> InsertEnvironment(storage::Transaction& tx, const NewEnvironment& env);

}  // namespace tollgate::mgmt
