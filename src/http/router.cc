#include "http/router.h"

#include <algorithm>
#include <functional>
#include <map>
#include <vector>

#include "common/uuid.h"
#include "http/console.h"
#include "http/cors.h"
#include "http/errors.h"
#include "http/handlers/auth_handlers.h"
#include "http/handlers/mgmt_handlers.h"

namespace tollgate::http {
namespace {

Response NotFound() { return WriteApiError(mgmt::NotFound()); }

std::string_view StageName(oauth::ErrorStage stage) {
  switch (stage) {
    case oauth::ErrorStage::kClientAuthentication:
      return "client_authentication";
    case oauth::ErrorStage::kValidation:
      return "validation";
    case oauth::ErrorStage::kServer:
      break;
  }
  return "server";
}

// Tokens in total, per environment, and per client for the `top` clients with the most tokens;
// the other clients' tokens summed per environment as client_id="other". Errors by stage and
// RFC 6749 code; throttled requests.
void WriteTokenMetrics(metrics::TextWriter& out, const oauth::TokenMetrics& tokens, size_t top) {
  out.Family("tollgate_tokens_issued_total", "counter", "Access tokens issued.");
  out.Sample("tollgate_tokens_issued_total", {}, tokens.issued());
  std::vector<oauth::TokenMetrics::ClientCount> clients = tokens.Clients();
  std::map<std::string, std::pair<uint64_t, uint64_t>> per_env;  // id: (all, not in the top)
  for (const auto& c : clients) per_env[c.environment.str()].first += c.tokens;
  top = std::min(top, clients.size());
  std::partial_sort(clients.begin(), clients.begin() + static_cast<ptrdiff_t>(top), clients.end(),
                    [](const auto& a, const auto& b) {
                      return a.tokens != b.tokens ? a.tokens > b.tokens
                                                  : a.client.str() < b.client.str();
                    });
  for (size_t i = top; i < clients.size(); ++i) {
    per_env[clients[i].environment.str()].second += clients[i].tokens;
  }
  out.Family("tollgate_environment_tokens_issued_total", "counter",
             "Access tokens issued, by environment (tokens in the overflow counter excluded).");
  for (const auto& [env, counts] : per_env) {
    out.Sample("tollgate_environment_tokens_issued_total", {{"environment", env}}, counts.first);
  }
  out.Family("tollgate_client_tokens_issued_total", "counter",
             "Access tokens issued to the clients with the most tokens; the others of an "
             "environment as client_id=\"other\".");
  for (size_t i = 0; i < top; ++i) {
    out.Sample(
        "tollgate_client_tokens_issued_total",
        {{"environment", clients[i].environment.str()}, {"client_id", clients[i].client.str()}},
        clients[i].tokens);
  }
  for (const auto& [env, counts] : per_env) {
    if (counts.second == 0) continue;
    out.Sample("tollgate_client_tokens_issued_total",
               {{"environment", env}, {"client_id", "other"}}, counts.second);
  }
  out.Family("tollgate_client_tokens_issued_overflow_total", "counter",
             "Access tokens of clients beyond the number counted one by one (100,000).");
  out.Sample("tollgate_client_tokens_issued_overflow_total", {}, tokens.overflow());
  out.Family("tollgate_token_errors_total", "counter",
             "Token endpoint errors, by stage (client_authentication, validation, server) and "
             "RFC 6749 error code.");
  for (const auto& e : tokens.Errors()) {
    oauth::OAuthError shape;
    shape.code = e.code;
    out.Sample("tollgate_token_errors_total",
               {{"stage", StageName(e.stage)}, {"error", shape.WireCode()}}, e.count);
  }
  out.Family("tollgate_token_requests_throttled_total", "counter",
             "Token requests refused by the brute-force throttle (429).");
  out.Sample("tollgate_token_requests_throttled_total", {}, tokens.throttled());
  out.Family("tollgate_token_claims_left_out_total", "counter",
             "Custom claims (resource attributes) left out of issued tokens: their expression "
             "failed or the token's claim bound was reached.");
  out.Sample("tollgate_token_claims_left_out_total", {}, tokens.claims_left_out());
}

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

Response Router::WaitedTooLong(const RouteMatch& match, const Request& request) const {
  oauth::OAuthError e =
      oauth::ClientAuthError(oauth::OAuthErrorCode::kTemporarilyUnavailable,
                             "The server is busy; retry later", "waited too long for jwksUrl keys");
  if (match.route->handle == &Router::Token) services_.token_endpoint.Refused(e);
  Response r = WriteOAuthError(e, request.correlation_id, "");
  std::shared_ptr<const config::Snapshot> snapshot;
  const config::EnvironmentSnapshot* env = FindEnvironment(match, snapshot);
  if (match.route->cors && env != nullptr) r = WithCors(std::move(r), request, *env);
  return r;
}

Response Router::Handle(const Request& request, const RouteMatch& match) const {
  const Route& route = *match.route;
  if (&route == &NoRoute() || (route.enabled != nullptr && !route.enabled(services_))) {
    return NotFound();
  }
  RouteCall call{request, nullptr, nullptr};
  if (route.surface == Surface::kAuth) {
    call.env = FindEnvironment(match, call.snapshot);
    if (call.env == nullptr) return NotFound();
  }
  if (route.cors) {
    if (auto preflight = Preflight(request, *call.env)) return std::move(*preflight);
  }
  if (!route.method.empty() && request.method != route.method) {
    return WriteApiError(mgmt::MethodNotAllowed(route.method));
  }
  Response r = (this->*route.handle)(call);
  if (route.cors) r = WithCors(std::move(r), request, *call.env);
  return KeepSnapshot(std::move(r), call.snapshot);
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
  return handlers::ManagementBeforeBody(header, *services_.management);
}

Response Router::Token(const RouteCall& call) const {
  return handlers::Token(call.request, *call.env, services_.token_endpoint);
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

Response Router::Console(const RouteCall& call) const { return ServeConsole(call.request.path); }

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
  metrics::TextWriter out;
  request_metrics_.Write(out);
  WriteTokenMetrics(out, services_.token_endpoint.metrics(), services_.metrics_top_clients);
  const auto config = services_.config.stats();
  out.Family("tollgate_snapshot_reloads_total", "counter",
             "Configuration snapshot rebuilds from the store, by result.");
  out.Sample("tollgate_snapshot_reloads_total", {{"result", "ok"}}, config.reloads);
  out.Sample("tollgate_snapshot_reloads_total", {{"result", "error"}}, config.failures);
  out.Family("tollgate_store_up", "gauge",
             "1 while the store can be reached (as /readyz reports), else 0.");
  out.Sample("tollgate_store_up", {}, uint64_t{!services_.ready || services_.ready() ? 1U : 0U});
  if (services_.change_feed != nullptr) {
    const auto feed = services_.change_feed->stats();
    out.Family("tollgate_change_feed_staleness_seconds", "gauge",
               "Seconds since the change feed last found this node up to date with the "
               "database (a full check runs every 2 s).");
    out.Sample(
        "tollgate_change_feed_staleness_seconds", {},
        std::chrono::duration<double>(std::chrono::steady_clock::now() - feed.last_full_check)
            .count());
    out.Family("tollgate_change_feed_repairs_total", "counter",
               "Environments brought up to date by the periodic check instead of a notification.");
    out.Sample("tollgate_change_feed_repairs_total", {}, feed.repairs);
  }
  if (services_.activities != nullptr) {
    const auto a = services_.activities->stats();
    out.Family("tollgate_activities_recorded_total", "counter",
               "Audit activities accepted for storing.");
    out.Sample("tollgate_activities_recorded_total", {}, a.recorded);
    out.Family("tollgate_activities_dropped_total", "counter",
               "Audit activities dropped: the queue was full (--max-queued-activities) because "
               "the store was behind or away.");
    out.Sample("tollgate_activities_dropped_total", {}, a.dropped);
    out.Family("tollgate_activities_stored_total", "counter", "Audit activities stored.");
    out.Sample("tollgate_activities_stored_total", {}, a.written);
    out.Family("tollgate_activity_store_failures_total", "counter",
               "Batches of audit activities the store could not take (each tried again).");
    out.Sample("tollgate_activity_store_failures_total", {}, a.failed_writes);
    out.Family("tollgate_activities_queued", "gauge", "Audit activities waiting for the store.");
    out.Sample("tollgate_activities_queued", {}, static_cast<uint64_t>(a.queued));
    if (services_.auth_activities != nullptr) {
      out.Family("tollgate_activities_suppressed_total", "counter",
                 "Answers to callers that did not authenticate, not recorded as audit "
                 "activities because their environment's budget was spent.");
      out.Sample("tollgate_activities_suppressed_total", {},
                 services_.auth_activities->suppressed());
    }
  }
  if (services_.remote_jwks != nullptr) {
    const auto jwks = services_.remote_jwks->stats();
    out.Family("tollgate_jwks_fetches_total", "counter", "jwksUrl fetches started.");
    out.Sample("tollgate_jwks_fetches_total", {}, jwks.fetches);
    out.Family("tollgate_jwks_fetch_failures_total", "counter",
               "jwksUrl fetches that gave no usable JWK Set.");
    out.Sample("tollgate_jwks_fetch_failures_total", {}, jwks.failures);
    out.Family("tollgate_jwks_waiting", "gauge", "Requests waiting for a jwksUrl fetch now.");
    out.Sample("tollgate_jwks_waiting", {}, jwks.waiting);
    out.Family("tollgate_jwks_waits_refused_total", "counter",
               "Requests refused because too many already waited for jwksUrl fetches.");
    out.Sample("tollgate_jwks_waits_refused_total", {}, jwks.waits_refused);
  }
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(out.text());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

size_t RequestMetrics::Index(const Route& route) {
  const std::span<const Route> routes = Routes();
  // std::less: a total order also for NoRoute(), which is not in the table.
  const std::less<> before;
  if (!before(&route, routes.data()) && before(&route, routes.data() + routes.size())) {
    return std::min(static_cast<size_t>(&route - routes.data()), kRoutes - 1);
  }
  return kRoutes - 1;  // NoRoute()
}

void RequestMetrics::Record(const Route& route, int status, std::chrono::nanoseconds elapsed) {
  PerRoute& r = routes_[Index(route)];
  const int slot = std::clamp(status, kMinStatus, kMaxStatus) - kMinStatus;
  r.by_status[static_cast<size_t>(slot)].fetch_add(1, std::memory_order_relaxed);
  r.latency.Observe(elapsed);
}

void RequestMetrics::Write(metrics::TextWriter& out) const {
  const std::span<const Route> routes = Routes();
  auto name = [&](size_t i) -> std::string_view {
    return i < routes.size() ? routes[i].pattern : std::string_view("unmatched");
  };
  out.Family("tollgate_http_requests_total", "counter",
             "HTTP requests answered, by route pattern and status code.");
  for (size_t i = 0; i < kRoutes; ++i) {
    for (size_t s = 0; s < routes_[i].by_status.size(); ++s) {
      const uint64_t n = routes_[i].by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      const std::string code = std::to_string(static_cast<int>(s) + kMinStatus);
      out.Sample("tollgate_http_requests_total", {{"route", name(i)}, {"code", code}}, n);
    }
  }
  out.Family("tollgate_http_request_duration_seconds", "histogram",
             "From a request's header read to its answer ready to send, by route pattern.");
  for (size_t i = 0; i < kRoutes; ++i) {
    if (routes_[i].latency.count() == 0) continue;
    routes_[i].latency.Write(out, "tollgate_http_request_duration_seconds", {{"route", name(i)}});
  }
}

}  // namespace tollgate::http
