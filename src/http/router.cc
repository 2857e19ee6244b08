#include "http/router.h"

#include <fmt/format.h>

#include "common/uuid.h"
#include "http/errors.h"
#include "http/handlers/auth_handlers.h"
#include "http/handlers/mgmt_handlers.h"

namespace tollgate::http {
namespace {

Response NotFound() { return WriteApiError(mgmt::NotFound()); }

// What is left of `r` to run later refers to the environment: keep its snapshot alive.
Response KeepSnapshot(Response r, const std::shared_ptr<const config::Snapshot>& snapshot) {
  if (r.then_blocking && snapshot) {
    r.then_blocking = [snapshot, rest = std::move(r.then_blocking)] { return rest(); };
  }
  return r;
}

}  // namespace

Response Router::FramingError(int status, std::string_view path,
                              std::string_view correlation_id) const {
  Response r;
  std::string_view message = status == 413   ? "The request body is too large."
                             : status == 431 ? "The request headers are too large."
                                             : "The request is malformed.";
  // RFC 6749's shape on the auth surface's routes; PingOne's platform error elsewhere, as for
  // a path that names nothing (its 404) or one the session could not read.
  const Route* route = path.empty() ? &NoRoute() : MatchRoute(path).route;
  if (route != &NoRoute() && route->surface == Surface::kAuth) {
    oauth::OAuthError e = oauth::InvalidRequest(std::string(message));
    r = WriteOAuthError(e, correlation_id, "");
    r.status = status;
  } else {
    mgmt::ApiError e = mgmt::InvalidRequest(std::string(message), status);
    if (status == 413) e.code = "REQUEST_TOO_LARGE";
    r = WriteApiError(e);
  }
  r.close = true;
  return r;
}

Response Router::WaitedTooLong(std::string_view correlation_id) const {
  oauth::OAuthError e =
      oauth::ClientAuthError(oauth::OAuthErrorCode::kTemporarilyUnavailable,
                             "The server is busy; retry later", "waited too long for jwksUrl keys");
  return WriteOAuthError(e, correlation_id, "");
}

Response Router::Handle(const Request& request, const RouteMatch& match) const {
  metrics_.requests.fetch_add(1, std::memory_order_relaxed);
  const Route& route = *match.route;
  if (&route == &NoRoute() || (route.enabled != nullptr && !route.enabled(services_))) {
    return NotFound();
  }
  RouteCall call{request, nullptr, nullptr};
  if (route.surface == Surface::kAuth) {
    call.env = FindEnvironment(match, call.snapshot);
    if (call.env == nullptr) return NotFound();
  }
  if (!route.method.empty() && request.method != route.method) {
    return WriteApiError(mgmt::MethodNotAllowed(route.method));
  }
  return KeepSnapshot((this->*route.handle)(call), call.snapshot);
}

Response Router::Resume(const RouteMatch& match, const Response& waiting) const {
  std::shared_ptr<const config::Snapshot> snapshot;
  const config::EnvironmentSnapshot* env = FindEnvironment(match, snapshot);
  if (env == nullptr) return NotFound();  // deleted while the request waited
  return KeepSnapshot(waiting.resume(*env), snapshot);
}

const config::EnvironmentSnapshot* Router::FindEnvironment(
    const RouteMatch& match, std::shared_ptr<const config::Snapshot>& snapshot) const {
  auto id = NormalizeUuid(match.env_id);
  if (!id) return nullptr;
  snapshot = services_.config.Current();
  return snapshot->FindEnvironment(*id);
}

std::optional<Response> Router::HandleHeader(const Request& header) const {
  const Route& route = *MatchRoute(header.path).route;
  if (!route.header_first || !route.enabled(services_)) return std::nullopt;
  auto r = handlers::ManagementBeforeBody(header, *services_.management);
  if (r) metrics_.requests.fetch_add(1, std::memory_order_relaxed);
  return r;
}

Response Router::Token(const RouteCall& call) const {
  return CountToken(handlers::Token(call.request, *call.env, services_.token_endpoint));
}

Response Router::CountToken(Response r) const {
  if (r.pending) {  // a request that waits is counted when it is answered
    r.resume = [this, rest = std::move(r.resume)](const config::EnvironmentSnapshot& env) {
      return CountToken(rest(env));
    };
  } else {
    (r.status == 200 ? metrics_.tokens_issued : metrics_.token_errors)
        .fetch_add(1, std::memory_order_relaxed);
  }
  return r;
}

Response Router::Introspect(const RouteCall& call) const {
  return handlers::Introspect(call.request, *call.env, *services_.introspection);
}

Response Router::Revoke(const RouteCall& call) const {
  return handlers::Revoke(call.request, *call.env, *services_.revocation);
}

Response Router::Jwks(const RouteCall& call) const {
  return handlers::Jwks(*call.env, services_.clock.Now());
}

Response Router::Discovery(const RouteCall& call) const { return handlers::Discovery(*call.env); }

Response Router::Management(const RouteCall& call) const {
  return handlers::Management(call.request, *services_.management, services_.config.urls().api_url);
}

Response Router::Healthz(const RouteCall&) const {
  Response r;
  r.body = R"({"status":"UP"})";
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response Router::Readyz(const RouteCall&) const {
  Response r;
  const bool ready = !services_.ready || services_.ready();
  r.status = ready ? 200 : 503;
  // Not ready means the store cannot be reached: token issuance goes on from the snapshot,
  // management writes answer 503 (docs/deploy.md).
  r.body =
      ready ? R"({"status":"READY","store":"UP"})" : R"({"status":"NOT_READY","store":"DOWN"})";
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response Router::MetricsText(const RouteCall&) const {
  Response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = fmt::format(
      "# TYPE tollgate_http_requests_total counter\ntollgate_http_requests_total {}\n"
      "# TYPE tollgate_tokens_issued_total counter\ntollgate_tokens_issued_total {}\n"
      "# TYPE tollgate_token_errors_total counter\ntollgate_token_errors_total {}\n",
      metrics_.requests.load(), metrics_.tokens_issued.load(), metrics_.token_errors.load());
  if (services_.remote_jwks != nullptr) {
    const auto jwks = services_.remote_jwks->stats();
    r.body += fmt::format(
        "# TYPE tollgate_jwks_fetches_total counter\ntollgate_jwks_fetches_total {}\n"
        "# TYPE tollgate_jwks_waiting gauge\ntollgate_jwks_waiting {}\n"
        "# TYPE tollgate_jwks_waits_refused_total counter\n"
        "tollgate_jwks_waits_refused_total {}\n",
        jwks.fetches, jwks.waiting, jwks.waits_refused);
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace tollgate::http
