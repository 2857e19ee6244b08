#include "http/router.h"

#include <fmt/format.h>

#include "common/uuid.h"
#include "http/errors.h"
#include "http/handlers/auth_handlers.h"
#include "http/handlers/mgmt_handlers.h"

namespace tollgate::http {
namespace {

constexpr size_t kAuthBodyLimit = 16 * 1024;
constexpr size_t kApiBodyLimit = 1024 * 1024;

Response NotFound(std::string_view correlation_id) {
  return WriteApiError(404, "NOT_FOUND", "The requested resource was not found.", correlation_id);
}

Response MethodNotAllowed(std::string_view allow, std::string_view correlation_id) {
  // RFC 9110 §15.5.6: 405 lists the allowed methods.
  Response r =
      WriteApiError(405, "METHOD_NOT_ALLOWED",
                    "The request method is not supported for this resource.", correlation_id);
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

// Splits "/a/b/c" into the first segment and the rest ("a", "b/c").
std::pair<std::string_view, std::string_view> FirstSegment(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {path, std::string_view()};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

bool Router::IsBlocking(std::string_view path) {
  return path == "/v1" || path.rfind("/v1/", 0) == 0;
}

bool Router::ChecksHeaderFirst(std::string_view path) {
  return path == "/v1" || path.rfind("/v1/", 0) == 0;
}

size_t Router::BodyLimit(std::string_view path) {
  return path.rfind("/v1/", 0) == 0 ? kApiBodyLimit : kAuthBodyLimit;
}

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
    r = WriteApiError(status, status == 413 ? "REQUEST_TOO_LARGE" : "INVALID_REQUEST", message,
                      correlation_id);
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

Response Router::Handle(const Request& request) const {
  metrics_.requests.fetch_add(1, std::memory_order_relaxed);
  auto [first, rest] = FirstSegment(request.path);
  if (first == "healthz" || first == "readyz" || first == "metrics") {
    if (!rest.empty()) return NotFound(request.correlation_id);
    return Operations(request, first);
  }
  if (first == "v1") {
    if (services_.management == nullptr) return NotFound(request.correlation_id);
    return handlers::Management(request, *services_.management, services_.config->urls().api_url);
  }
  auto [as, endpoint] = FirstSegment(rest);
  if (as != "as") return NotFound(request.correlation_id);
  return HandleAuth(request, first, endpoint);
}

std::optional<Response> Router::HandleHeader(const Request& header) const {
  if (!ChecksHeaderFirst(header.path) || services_.management == nullptr) return std::nullopt;
  auto r = handlers::ManagementBeforeBody(header, *services_.management);
  if (r) metrics_.requests.fetch_add(1, std::memory_order_relaxed);
  return r;
}

Response Router::HandleAuth(const Request& request, std::string_view env_id,
                            std::string_view endpoint) const {
  auto id = NormalizeUuid(env_id);
  if (!id) return NotFound(request.correlation_id);
  auto snapshot = services_.config->Current();
  const config::EnvironmentSnapshot* env = snapshot->FindEnvironment(*id);
  if (env == nullptr) return NotFound(request.correlation_id);

  const bool get = request.method == "GET";
  if (endpoint == "token") {
    if (request.method != "POST") return MethodNotAllowed("POST", request.correlation_id);
    Response r = handlers::Token(request, *env, *services_.token_endpoint);
    if (!r.pending) {  // a request that waits is counted when it is answered
      (r.status == 200 ? metrics_.tokens_issued : metrics_.token_errors)
          .fetch_add(1, std::memory_order_relaxed);
    }
    return r;
  }
  if (endpoint == "introspect" && services_.introspection != nullptr) {
    if (request.method != "POST") return MethodNotAllowed("POST", request.correlation_id);
    return handlers::Introspect(request, *env, *services_.introspection);
  }
  if (endpoint == "revoke" && services_.revocation != nullptr) {
    if (request.method != "POST") return MethodNotAllowed("POST", request.correlation_id);
    Response r = handlers::Revoke(request, *env, *services_.revocation);
    if (r.then_blocking) {  // it refers to `env`: keep the snapshot alive until it has run
      r.then_blocking = [snapshot, rest = std::move(r.then_blocking)] { return rest(); };
    }
    return r;
  }
  if (endpoint == "jwks") {
    if (!get) return MethodNotAllowed("GET", request.correlation_id);
    return handlers::Jwks(*env, services_.clock->Now());
  }
  if (endpoint == ".well-known/openid-configuration" ||
      endpoint == ".well-known/oauth-authorization-server") {
    if (!get) return MethodNotAllowed("GET", request.correlation_id);
    return handlers::Discovery(*env);
  }
  return NotFound(request.correlation_id);
}

Response Router::Operations(const Request& request, std::string_view name) const {
  if (request.method != "GET") return MethodNotAllowed("GET", request.correlation_id);
  Response r;
  if (name == "healthz") {
    r.body = R"({"status":"UP"})";
  } else if (name == "readyz") {
    const bool ready = !services_.ready || services_.ready();
    r.status = ready ? 200 : 503;
    // Not ready means the store cannot be reached: token issuance goes on from the snapshot,
    // management writes answer 503 (docs/deploy.md).
    r.body =
        ready ? R"({"status":"READY","store":"UP"})" : R"({"status":"NOT_READY","store":"DOWN"})";
  } else {
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
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace tollgate::http
