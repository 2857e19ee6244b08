#pragma once
// CORS (the Fetch standard's protocol) for the token, introspection and revocation endpoints:
// a browser page may call them from an origin that an enabled application of the environment
// lists in its corsSettings (docs/cors.md). Credentials are always explicit (a secret or an
// assertion in the request), never cookies: Access-Control-Allow-Credentials is never sent.

#include <optional>

#include "config/snapshot.h"
#include "http/message.h"

namespace tollgate::http {

// The answer to a CORS preflight of `request` (OPTIONS with Origin and
// Access-Control-Request-Method): 204 with the Access-Control-Allow-* headers when the
// environment allows the origin and the method is POST, else 403 without them. std::nullopt
// when `request` is no preflight (it is then answered as any other method).
std::optional<Response> Preflight(const Request& request, const config::EnvironmentSnapshot& env);

// `response`, the answer to `request`, with Access-Control-Allow-Origin when the request came
// from an origin the environment allows (also on the answer it later gives when it waits or
// blocks), and Vary: Origin.
Response WithCors(Response response, const Request& request,
                  const config::EnvironmentSnapshot& env);

}  // namespace tollgate::http
