#include "http/cors.h"

#include <string>
#include <utility>

namespace tollgate::http {
namespace {

// Request headers a page may send besides the CORS-safelisted ones.
constexpr const char* kAllowedHeaders =
    "Authorization, Content-Type, Correlation-Id, X-Request-Id, DPoP";
// Response headers a page may read besides the safelisted ones.
constexpr const char* kExposedHeaders = "Correlation-Id, WWW-Authenticate, Retry-After, DPoP-Nonce";

// `r` with Vary: Origin and, for an allowed `origin`, the headers that let the page read it;
// for an answer still to come (a wait, a blocking step), on that answer.
Response Decorated(Response r, const std::optional<std::string>& origin) {
  if (r.pending) {
    r.resume = [origin, rest = std::move(r.resume)](const config::EnvironmentSnapshot& env) {
      return Decorated(rest(env), origin);
    };
    return r;
  }
  if (r.then_blocking) {
    r.then_blocking = [origin, rest = std::move(r.then_blocking)] {
      return Decorated(rest(), origin);
    };
    return r;
  }
  r.headers.emplace_back("Vary", "Origin");
  if (origin) {
    r.headers.emplace_back("Access-Control-Allow-Origin", *origin);
    r.headers.emplace_back("Access-Control-Expose-Headers", kExposedHeaders);
  }
  return r;
}

}  // namespace

std::optional<Response> Preflight(const Request& request, const config::EnvironmentSnapshot& env) {
  if (request.method != "OPTIONS" || !request.origin || !request.access_control_request_method) {
    return std::nullopt;
  }
  Response r;
  r.content_type.clear();
  r.headers.emplace_back("Vary", "Origin");
  // The method is case-sensitive (Fetch: a CORS-preflight request's method is sent as is).
  if (*request.access_control_request_method != "POST" || !env.AllowsOrigin(*request.origin)) {
    r.status = 403;
    return r;
  }
  r.status = 204;
  r.headers.emplace_back("Access-Control-Allow-Origin", std::string(*request.origin));
  r.headers.emplace_back("Access-Control-Allow-Methods", "POST");
  r.headers.emplace_back("Access-Control-Allow-Headers", kAllowedHeaders);
  r.headers.emplace_back("Access-Control-Max-Age", "600");
  return r;
}

Response WithCors(Response response, const Request& request,
                  const config::EnvironmentSnapshot& env) {
  std::optional<std::string> allowed;
  if (request.origin && env.AllowsOrigin(*request.origin)) allowed = std::string(*request.origin);
  return Decorated(std::move(response), allowed);
}

}  // namespace tollgate::http
