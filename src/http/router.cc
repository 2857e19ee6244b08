#include "http/router.h"

#include <fmt/format.h>

#include "common/uuid.h"
#include "http/errors.h"
#include "http/handlers/auth_handlers.h"
#include "http/handlers/mgmt_handlers.h"

namespace tollgate::http {
namespace {

Response NotFound() { return WriteApiError(mgmt::NotFound()); }

}  // namespace

Response Router::FramingError(int status, std::string_view path,
                              std::string_view correlation_id) const {
  Response r;
  std::string_view message = status == 413   ? "The request body is too large."
                             : status == 431 ? "The request headers are too large."
                                             : "The request is malformed.";
  if (path.find("/as/") != std::string_view::npos) {
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
    auto id = NormalizeUuid(match.env_id);
    if (!id) return NotFound();
    call.snapshot = services_.config->Current();
    call.env = call.snapshot->FindEnvironment(*id);
    if (call.env == nullptr) return NotFound();
  }
  if (!route.method.empty() && request.method != route.method) {
    return WriteApiError(mgmt::MethodNotAllowed(route.method));
  }
  return (this->*route.handle)(call);
}

std::optional<Response> Router::HandleHeader(const Request& header) const {
  const Route& route = *MatchRoute(header.path).route;
  if (!route.header_first || !route.enabled(services_)) return std::nullopt;
  auto r = handlers::ManagementBeforeBody(header, *services_.management);
  if (r) metrics_.requests.fetch_add(1, std::memory_order_relaxed);
  return r;
}

Response Router::Token(const RouteCall& call) const {
  Response r = handlers::Token(call.request, *call.env, *services_.token_endpoint);
  if (!r.pending) {  // a request that waits is counted when it is answered
    (r.status == 200 ? metrics_.tokens_issued : metrics_.token_errors)
        .fetch_add(1, std::memory_order_relaxed);
  }
  return r;
}

Response Router::Introspect(const RouteCall& call) const {
  return handlers::Introspect(call.request, *call.env, *services_.introspection);
}

Response Router::Revoke(const RouteCall& call) const {
  Response r = handlers::Revoke(call.request, *call.env, *services_.revocation);
  if (r.then_blocking) {  // it refers to `env`: keep the snapshot alive until it has run
    r.then_blocking = [snapshot = call.snapshot, rest = std::move(r.then_blocking)] {
      return rest();
    };
  }
  return r;
}

Response Router::Jwks(const RouteCall& call) const {
  return handlers::Jwks(*call.env, services_.clock->Now());
}

Response Router::Discovery(const RouteCall& call) const { return handlers::Discovery(*call.env); }

Response Router::Management(const RouteCall& call) const {
  return handlers::Management(call.request, *services_.management,
                              services_.config->urls().api_url);
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
