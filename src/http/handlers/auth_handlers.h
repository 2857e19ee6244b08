#pragma once
// Handlers of the auth surface (SPEC §2, §3): HTTP-level checks, then the oauth core.

#include <span>

#include "common/clock.h"
#include "config/snapshot.h"
#include "http/message.h"
#include "oauth/introspection.h"
#include "oauth/token_endpoint.h"

namespace tollgate::http::handlers {

// POST /{envID}/as/token. Never blocks (Response::pending while jwksUrl keys are fetched).
Response Token(const Request& request, const config::EnvironmentSnapshot& env,
               const oauth::TokenEndpoint& endpoint);
// POST /{envID}/as/introspect (RFC 7662).
Response Introspect(const Request& request, const config::EnvironmentSnapshot& env,
                    const oauth::Introspection& introspection);
// POST /{envID}/as/revoke (RFC 7009). Authenticates the caller without blocking; the answer
// is then a Response::then_blocking that records the revocation in the store. It refers to `env`
// and `revocation`: keep them alive until it has run.
Response Revoke(const Request& request, const config::EnvironmentSnapshot& env,
                const oauth::Revocation& revocation);
// GET /{envID}/as/jwks.
Response Jwks(const config::EnvironmentSnapshot& env, TimePoint now);
// GET /{envID}/as/.well-known/{openid-configuration,oauth-authorization-server}.
Response Discovery(const config::EnvironmentSnapshot& env);

// The form of a request to an endpoint that takes `params` (TokenEndpoint::Params(), ...), as
// oauth::TokenRequest, or the invalid_request to answer (SPEC §2.1: content type, encoding,
// duplicates, sizes). Undeclared parameters are ignored, but like every parameter they may not
// be sent twice (RFC 6749 §3.2). Exposed for tests.
Result<oauth::TokenRequest, oauth::OAuthError> ParseTokenRequest(
    const Request& request, std::span<const oauth::FormParam> params);

}  // namespace tollgate::http::handlers
