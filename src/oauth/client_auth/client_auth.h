#pragma once
// Client authentication at the token endpoint (SPEC §2.2, RFC 6749 §2.3, RFC 7523).
// Two steps: Present() finds out which mechanism the request used (rules 1 and 2, Basic
// decoding), Authenticate() checks it against the application (rules 3 to 5). Every failure is
// an OAuthError ready for the wire; none says whether the client exists.

#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "config/snapshot.h"
#include "oauth/brute_force.h"
#include "oauth/oauth_error.h"
#include "oauth/token_request.h"

namespace tollgate::oauth {

enum class Mechanism {
  kNone,       // only a client_id (public client)
  kBasic,      // Authorization: Basic
  kPost,       // client_id + client_secret in the body
  kAssertion,  // client_assertion_type + client_assertion (CLIENT_SECRET_JWT, PRIVATE_KEY_JWT)
};

struct PresentedCredentials {
  Mechanism mechanism = Mechanism::kNone;
  std::string client_id;
  std::string secret;     // kBasic, kPost
  std::string assertion;  // kAssertion
};

// Rules 1, 2 and the Basic format (RFC 6749 §2.3.1: both halves are form-encoded).
Result<PresentedCredentials, OAuthError> Present(const TokenRequest& request);

// Rules 3 to 5: finds the client in `env`, requires the presented mechanism to be the
// application's tokenEndpointAuthMethod, and checks the secret in constant time (the previous
// secret too, until it expires). Returns the application's entry, owned by `env`.
Result<const config::AppEntry*, OAuthError> Authenticate(const PresentedCredentials& presented,
                                                         const config::EnvironmentSnapshot& env,
                                                         const Clock& clock);

// Constant-time check of `presented` against the application's current and unexpired previous
// secret. Used by CLIENT_SECRET_BASIC and CLIENT_SECRET_POST.
bool CheckClientSecret(const config::AppEntry& app, std::string_view presented, TimePoint now);

// Present(), then the brute-force check (a blocked client and address get 429 before their
// credentials are read), then Authenticate(), recording the outcome (SPEC §2.2 rules 1-8).
Result<const config::AppEntry*, OAuthError> AuthenticateClient(
    const TokenRequest& request, const config::EnvironmentSnapshot& env, const Clock& clock,
    FailureThrottle& throttle);

// An introspection caller (SPEC §4): an application with its own tokenEndpointAuthMethod, or a
// resource (client_id = resource ID) with its introspectEndpointAuthMethod and secret.
struct IntrospectionCaller {
  const config::AppEntry* app = nullptr;
  const model::Resource* resource = nullptr;
};
Result<IntrospectionCaller, OAuthError> AuthenticateIntrospectionCaller(
    const TokenRequest& request, const config::EnvironmentSnapshot& env, const Clock& clock,
    FailureThrottle& throttle);

}  // namespace tollgate::oauth
