#pragma once
// Maps (method, path) to a handler (SPEC §1). Thread-safe: Handle() may run on every I/O thread
// at once; it reads the current configuration snapshot and holds no locks.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "common/clock.h"
#include "config/snapshot.h"
#include "config/store/holder.h"
#include "http/message.h"
#include "mgmt/api.h"
#include "oauth/introspection.h"
#include "oauth/token_endpoint.h"

namespace tollgate::http {

struct Metrics {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> tokens_issued{0};
  std::atomic<uint64_t> token_errors{0};
};

struct Services {
  const config::ConfigHolder* config = nullptr;
  const oauth::TokenEndpoint* token_endpoint = nullptr;
  const oauth::Introspection* introspection = nullptr;  // null: the route answers 404
  const oauth::Revocation* revocation = nullptr;        // null: the route answers 404
  const oauth::RemoteJwks* remote_jwks = nullptr;       // for /metrics; null: not reported
  const Clock* clock = nullptr;
  const mgmt::ManagementApi* management = nullptr;
  // /readyz: true when the store can be reached (the snapshot always serves once loaded).
  std::function<bool()> ready;
};

class Router {
 public:
  explicit Router(Services services) : services_(std::move(services)) {}

  Response Handle(const Request& request) const;
  // The answer a request gets from its header alone, before the session reads its body; the
  // session then closes the connection unless the body had already arrived. SPEC §6: a /v1
  // request whose bearer token is missing or refuted by the current snapshot answers 401
  // without the store and without reading up to 1 MiB. std::nullopt: read the body and call
  // Handle(). `header` has no body. Never blocks; only for paths where ChecksHeaderFirst().
  std::optional<Response> HandleHeader(const Request& header) const;

  // The largest body a request to `path` may carry (SPEC §2.1: 16 KiB on the auth surface;
  // SPEC §6: 1 MiB for /v1).
  static size_t BodyLimit(std::string_view path);
  // True for requests whose handler blocks on the store (the management API): the session runs
  // them on the blocking pool, never on an I/O thread. Revocation blocks only after its caller
  // is authenticated, and says so with Response::then_blocking.
  static bool IsBlocking(std::string_view path);
  // True for requests that HandleHeader() may answer (the management API).
  static bool ChecksHeaderFirst(std::string_view path);
  // The answer when the session cannot read a request (400 malformed, 413 body, 431 headers).
  Response FramingError(int status, std::string_view path, std::string_view correlation_id) const;
  // The answer when a request has waited too long for its client's jwksUrl keys (503
  // temporarily_unavailable; only auth-surface requests wait).
  Response WaitedTooLong(std::string_view correlation_id) const;

  const Metrics& metrics() const { return metrics_; }

 private:
  Response HandleAuth(const Request& request, std::string_view env_id, std::string_view rest) const;
  Response Token(const Request& request, const config::EnvironmentSnapshot& env) const;
  Response Operations(const Request& request, std::string_view name) const;

  Services services_;
  mutable Metrics metrics_;
};

}  // namespace tollgate::http
