#pragma once
// Immutable, in-memory configuration snapshots: everything the auth surface needs, indexed for
// the token path, which performs no database I/O. Writers build a new environment snapshot and
// swap it in atomically (config/store/holder.h); readers hold a shared_ptr for the duration of
// one request. Nothing here sees the store.

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "claims/expression.h"
#include "common/clock.h"
#include "common/result.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "jwt/jwk_set.h"
#include "model/model.h"

namespace tollgate::config {

// Public base URLs (SPEC §1), without a trailing slash.
struct Urls {
  std::string auth_url;
  std::string api_url;
  std::string mtls_url = {};  // RFC 8705 §5's aliases live here; empty: none
};

// The CUSTOM attributes of one resource, compiled (docs/token-customization.md): the claims a
// token gains when its audience includes the resource.
struct ResourceClaim {
  std::string name;
  claims::Expression value;
  std::string static_json;  // `,"name":value` when value.IsStatic(), else empty
};
struct ResourceClaims {
  std::vector<ResourceClaim> claims;    // attribute creation order
  bool reads_client_assertion = false;  // some claim reads the client's assertion
};

// `,"name":value`, the claim a static `value` adds to a token; empty for a value that is not
// static (it is evaluated per token).
std::string StaticClaimJson(std::string_view name, const claims::Expression& value);

// At most this many bytes of custom claims (`,"name":value` each) go into one token; a claim
// that would pass the bound is left out (mgmt refuses static configurations above it).
constexpr size_t kMaxCustomClaimBytes = size_t{16} * 1024;

// One custom resource granted to an application, with the granted scope names in the order the
// scopes were created (deduplicated across grants).
struct CustomGrant {
  const model::Resource* resource = nullptr;  // points into EnvironmentSnapshot::resources
  // Its attributes' claims; null when it has none. Points into EnvironmentSnapshot::claims.
  const ResourceClaims* claims = nullptr;
  std::vector<std::string> scope_names;
  bool HasScope(std::string_view name) const;
};

struct AppEntry {
  model::Application app;
  std::string secret;
  std::optional<std::string> previous_secret;
  TimePoint previous_expires_at{};
  std::vector<CustomGrant> custom_grants;  // ordered by resource creation
  std::vector<model::RoleAssignment> role_assignments;
  bool has_role_assignments = false;
  // PRIVATE_KEY_JWT or SELF_SIGNED_TLS_CLIENT_AUTH with an inline `jwks`: its keys, parsed
  // once; null otherwise.
  std::shared_ptr<const jwt::JwkSet> jwks;
  // TLS_CLIENT_AUTH: its certificate name as compared (RFC 8705 §2.1.2): the canonical subject
  // DN (crypto::NormalizeDn), the 4 or 16 bytes of an IP address, or the name as written; empty
  // when the stored name no longer parses (then no certificate matches).
  std::string tls_client_name;
};

struct KeyEntry {
  model::SigningKey key;                              // private_key_pem cleared
  std::shared_ptr<const crypto::PrivateKey> signer;   // parsed once
  std::shared_ptr<const crypto::PublicKey> verifier;  // its public half
  std::string x5t;                                    // base64url SHA-1 of the certificate, or ""
};

struct EnvironmentSnapshot {
  model::Environment environment;
  OrgId organization_id;
  std::string issuer;                      // {auth-url}/{envID}/as
  std::string token_endpoint;              // {issuer}/token
  std::string mtls_issuer;                 // {mtls-url}/{envID}/as, or empty (RFC 8705 §5)
  std::vector<model::Resource> resources;  // stable storage for CustomGrant::resource
  // By resource id, for the resources that have attributes; stable storage for CustomGrant::claims.
  std::unordered_map<std::string, ResourceClaims> claims;
  std::unordered_map<std::string, AppEntry> apps;  // by client_id (= application id)
  std::vector<KeyEntry> keys;
  const KeyEntry* default_key = nullptr;  // points into keys; null if the env has no usable key
  // The longest token lifetime this environment can issue (a retired key stays published that
  // long after it stopped signing).
  int64_t max_token_lifetime_seconds = 3600;
  // The web origins some enabled application of the environment allows (corsSettings), sorted:
  // they may call the token, introspection and revocation endpoints (docs/cors.md).
  std::vector<std::string> cors_origins;
  // The enabled trusted issuers, whose JWTs a token exchange accepts (docs/token-exchange.md).
  std::vector<model::TrustedIssuer> trusted_issuers;
  // The trusted certificate authorities of TLS_CLIENT_AUTH clients (RFC 8705 §2.1); never null.
  std::shared_ptr<const crypto::TrustAnchors> trusted_cas;

  // Everything stored for the environment, as loaded (private keys cleared), for the
  // management API's reads.
  std::shared_ptr<const model::EnvironmentData> data;

  const AppEntry* FindApp(std::string_view client_id) const;
  const KeyEntry* FindKey(std::string_view kid) const;
  bool AllowsOrigin(std::string_view origin) const;
  // The enabled trusted issuer whose `issuer` is `iss`, or null.
  const model::TrustedIssuer* FindTrustedIssuer(std::string_view iss) const;
};

struct Snapshot {
  std::optional<model::Organization> organization;
  std::unordered_map<std::string, std::shared_ptr<const EnvironmentSnapshot>> environments;

  // nullptr when the environment does not exist.
  const EnvironmentSnapshot* FindEnvironment(std::string_view env_id) const;
  std::shared_ptr<const EnvironmentSnapshot> GetEnvironment(std::string_view env_id) const;
};

// Why an environment snapshot could not be built; for the log only.
struct BuildError {
  std::string message;
};

// Builds an environment snapshot from stored data. Fails when a signing key does not parse.
Result<std::shared_ptr<const EnvironmentSnapshot>, BuildError> BuildEnvironmentSnapshot(
    model::EnvironmentData data, const Urls& urls);

}  // namespace tollgate::config
