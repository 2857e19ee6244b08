#pragma once
// Client authentication at the token endpoint (SPEC §2.2, RFC 6749 §2.3, RFC 7523).
// Two steps: Present() finds out which mechanism the request used (rules 1 and 2, Basic
// decoding, assertion decoding), Authenticate() checks it against the application with the
// Authenticator registered for its tokenEndpointAuthMethod (rules 3 to 6). Every failure is an
// OAuthError ready for the wire; none says whether the client exists.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "config/jti_cache.h"
#include "config/snapshot.h"
#include "jwt/assertion.h"
#include "model/model.h"
#include "oauth/brute_force.h"
#include "oauth/client_auth/remote_jwks.h"
#include "oauth/oauth_error.h"
#include "oauth/pending.h"
#include "oauth/token_request.h"

namespace tollgate::oauth {

class AuthActivities;

// How a request carries its client's credentials (RFC 6749 §2.3: one way per request).
enum class Mechanism {
  kNone,       // only a client_id (a public client, or one proven by its TLS certificate)
  kBasic,      // Authorization: Basic
  kPost,       // client_id + client_secret in the body
  kAssertion,  // client_assertion_type + client_assertion (RFC 7521 §4.2)
};

struct PresentedCredentials {
  Mechanism mechanism = Mechanism::kNone;
  std::string client_id;                    // for kAssertion: the assertion's `sub`
  std::string secret;                       // kBasic, kPost
  std::optional<jwt::Assertion> assertion;  // kAssertion: decoded, not verified
  // The client's certificate, DER, then the intermediates it sent (TokenRequest's; RFC 8705):
  // a view into the request. Any mechanism may come with one.
  std::span<const std::string> certificates;
};

// What client authentication uses besides the request and the snapshot. The referents outlive
// every endpoint holding this struct, and are thread-safe.
struct ClientAuthServices {
  const Clock& clock;
  FailureThrottle& throttle;
  // Assertion jtis already used (SPEC §2.2 rule 6); null: every assertion is refused.
  config::JtiCache* used_assertions = nullptr;
  // The keys behind jwksUrl; null: PRIVATE_KEY_JWT clients with a jwksUrl are refused.
  RemoteJwks* remote_jwks = nullptr;
  // Where the endpoints holding this struct report their answers (the audit); null: nowhere.
  AuthActivities* activities = nullptr;
};

// The form parameters client authentication reads, for the HTTP layer (SPEC §2.1).
std::span<const FormParam> ClientAuthParams();

// Rules 1, 2, the Basic format (RFC 6749 §2.3.1: both halves are form-encoded) and the
// decoding of an assertion (its `sub` names the client; a body client_id must agree).
Result<PresentedCredentials, OAuthError> Present(const TokenRequest& request);

// One tokenEndpointAuthMethod: how its credentials travel and how they are checked. Registered
// in registry.cc; discovery and the management API's validation read the same list.
struct Authenticator {
  model::AuthMethod method = model::AuthMethod::kNone;
  Mechanism mechanism =
      Mechanism::kNone;             // the only way a request may carry this method's credentials
  std::string_view discovery_name;  // RFC 8414 *_auth_methods_supported; empty: not listed
  bool confidential = true;         // false: a public client, which proves nothing
  bool needs_keys = false;          // the application needs exactly one of jwks and jwksUrl
  std::span<const std::string_view> signing_algs = {};  // RFC 7523 assertion algorithms it accepts
  // Rules 5 and 6 for an enabled application of this method whose request used `mechanism`.
  // The failure is an OAuthError ready for the wire, or a Pending as for Authenticate.
  Result<void, ErrorOrPending> (*verify)(const PresentedCredentials& presented,
                                         const config::AppEntry& app,
                                         const config::EnvironmentSnapshot& env,
                                         const ClientAuthServices& services) = nullptr;
};

// Every registered method, in the order discovery and validation messages list them.
std::span<const Authenticator* const> Authenticators();
// The authenticator of `method`, or null when none is registered.
const Authenticator* FindAuthenticator(model::AuthMethod method);

// Rules 3 to 6: finds the client in `env`, requires the presented mechanism to be its
// tokenEndpointAuthMethod's, then runs that method's check. Returns the application's entry,
// owned by `env`. Never blocks: when the client's jwksUrl keys must be fetched first, the
// failure is a Pending (the fetch runs elsewhere): wait for it, then call again. Otherwise the
// failure is an OAuthError ready for the wire.
Result<const config::AppEntry*, ErrorOrPending> Authenticate(const PresentedCredentials& presented,
                                                             const config::EnvironmentSnapshot& env,
                                                             const ClientAuthServices& services);

// The keys of a client that registers `jwks` or `jwksUrl` (PRIVATE_KEY_JWT,
// SELF_SIGNED_TLS_CLIENT_AUTH): its inline set, or the set its jwksUrl serves for `kid` (empty:
// any key; an unknown kid may refetch). Never null on success. The failure is a Pending while
// the set is fetched, temporarily_unavailable while too many callers wait for it, or
// `denied(reason)` (the method's invalid_client) when the client has no usable keys.
Result<std::shared_ptr<const jwt::JwkSet>, ErrorOrPending> ClientKeys(
    const config::AppEntry& app, std::string_view kid, const ClientAuthServices& services,
    OAuthError (*denied)(std::string reason));

// Constant-time check of `presented` against the application's current and unexpired previous
// secret. Used by CLIENT_SECRET_BASIC and CLIENT_SECRET_POST.
bool CheckClientSecret(const config::AppEntry& app, std::string_view presented, TimePoint now);

// Present(), then the brute-force check (a blocked client and address get 429 before their
// credentials are read), then Authenticate(), recording the outcome (SPEC §2.2 rules 1-8); a
// Pending is no outcome and is passed on unrecorded.
Result<const config::AppEntry*, ErrorOrPending> AuthenticateClient(
    const TokenRequest& request, const config::EnvironmentSnapshot& env,
    const ClientAuthServices& services);

// An introspection caller (SPEC §4): an application with its own tokenEndpointAuthMethod, or a
// resource (client_id = resource ID) with its introspectEndpointAuthMethod and secret.
struct IntrospectionCaller {
  const config::AppEntry* app = nullptr;
  const model::Resource* resource = nullptr;
};
Result<IntrospectionCaller, ErrorOrPending> AuthenticateIntrospectionCaller(
    const TokenRequest& request, const config::EnvironmentSnapshot& env,
    const ClientAuthServices& services);

}  // namespace tollgate::oauth
