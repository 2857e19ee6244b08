#pragma once
// Dispatches a request by its route (routes.h, SPEC §1). Thread-safe: Handle() may run on every I/O
// thread at once; it reads the current configuration snapshot and holds no locks.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "audit/activity_log.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "config/snapshot.h"
#include "config/store/change_feed.h"
#include "config/store/holder.h"
#include "http/message.h"
#include "http/routes.h"
#include "mgmt/api.h"
#include "oauth/auth_activities.h"
#include "oauth/introspection.h"
#include "oauth/token_endpoint.h"

namespace tollgate::http {

// Requests per route and status, and their latency (from the request's header read to its
// answer ready to send), for /metrics. Lock-free; safe from every thread. About 100 KiB, fixed.
class RequestMetrics {
 public:
  void Record(const Route& route, int status, std::chrono::nanoseconds elapsed);
  void Write(metrics::TextWriter& out) const;

 private:
  static constexpr size_t kRoutes = 24;  // more than Routes() has, plus NoRoute()
  static constexpr int kMinStatus = 100;
  static constexpr int kMaxStatus = 599;
  struct PerRoute {
    std::array<std::atomic<uint64_t>, kMaxStatus - kMinStatus + 1> by_status{};
    metrics::Histogram latency;
  };
  static size_t Index(const Route& route);
  std::array<PerRoute, kRoutes> routes_;
};

// What the router serves with. The referents outlive the Router and are thread-safe.
struct Services {
  const config::ConfigHolder& config;
  const oauth::TokenEndpoint& token_endpoint;
  const Clock& clock;
  // The optional services: null, their routes answer 404.
  const oauth::Introspection* introspection = nullptr;
  const oauth::Revocation* revocation = nullptr;
  const mgmt::ManagementApi* management = nullptr;
  const oauth::RemoteJwks* remote_jwks = nullptr;          // for /metrics; null: not reported
  const config::ChangeFeed* change_feed = nullptr;         // for /metrics; null: one node, no feed
  const audit::ActivityLog* activities = nullptr;          // for /metrics; null: not reported
  const oauth::AuthActivities* auth_activities = nullptr;  // for /metrics; null: not reported
  // /metrics names the clients with the most tokens, this many; the others are summed per
  // environment as client_id="other" (docs/operations.md).
  size_t metrics_top_clients = 10;
  // /readyz: true when the store can be reached (the snapshot always serves once loaded).
  std::function<bool()> ready = {};
};

class Router {
 public:
  explicit Router(Services services) : services_(std::move(services)) {}

  // Answers `request` by its route (routes.h): 404 for no route, no environment or a service
  // the server runs without; 405 with Allow for another method; else the route's handler.
  Response Handle(const Request& request, const RouteMatch& match) const;
  Response Handle(const Request& request) const {
    return Handle(request, MatchRoute(request.path));
  }
  // The answer a request gets from its header alone, before the session reads its body; the
  // session then closes the connection unless the body had already arrived. SPEC §6: a /v1
  // request whose bearer token is missing or refuted by the current snapshot answers 401
  // without the store and without reading up to 1 MiB. std::nullopt: read the body and call
  // Handle(). `header` has no body. Never blocks; only for routes with header_first.
  std::optional<Response> HandleHeader(const Request& header) const;
  // The answer to a request whose Handle() answered Response::pending, once woken: its
  // `resume` in the environment as the current snapshot has it (404 if it is gone). May be
  // pending again.
  Response Resume(const RouteMatch& match, const Response& waiting) const;

  // The answer when the session cannot read a request (400 malformed, 413 body, 431 headers).
  Response FramingError(int status, std::string_view path, std::string_view correlation_id) const;
  // The answer when `request` has waited too long for its client's jwksUrl keys (503
  // temporarily_unavailable; only auth-surface requests wait), readable by the page that sent it
  // as the other answers of its route are (http/cors.h). Counted for /metrics.
  Response WaitedTooLong(const RouteMatch& match, const Request& request) const;

  // Counts an answered request (the session calls it just before it sends the answer).
  void Record(const Route& route, int status, std::chrono::nanoseconds elapsed) const {
    request_metrics_.Record(route, status, elapsed);
  }

 private:
  friend std::span<const Route> Routes();  // the table names the handlers below

  Response Token(const RouteCall& call) const;
  Response Introspect(const RouteCall& call) const;
  Response Revoke(const RouteCall& call) const;
  Response Jwks(const RouteCall& call) const;
  Response Discovery(const RouteCall& call) const;
  Response Management(const RouteCall& call) const;
  Response Healthz(const RouteCall& call) const;
  Response Readyz(const RouteCall& call) const;
  Response MetricsText(const RouteCall& call) const;
  Response Console(const RouteCall& call) const;
  // The environment named by an auth route's {envID} in the current snapshot, which it stores
  // in `snapshot`; null when there is none (404).
  const config::EnvironmentSnapshot* FindEnvironment(
      const RouteMatch& match, std::shared_ptr<const config::Snapshot>& snapshot) const;

  Services services_;
  mutable RequestMetrics request_metrics_;
};

}  // namespace tollgate::http
