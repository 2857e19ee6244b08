#pragma once
// The one route table (SPEC §1): every path the server answers, with what the session needs
// to know before a handler runs (the body limit, the thread, whether the header alone may
// settle the request) and what the router needs to dispatch it (methods, handler). Below /v1 the
// management API's own handlers dispatch by resource (mgmt/), each level authorizing before the
// next: /v1 is one surface here (docs/architecture.md, "Routes").

#include <cstddef>
#include <span>
#include <string_view>

#include "config/snapshot.h"
#include "http/message.h"

namespace tollgate::http {

class Router;
struct Services;

enum class Surface {
  kAuth,        // /{envID}/as/...: RFC 6749 errors
  kManagement,  // /v1: PingOne's platform errors, written by mgmt
  kOperations,  // /healthz, /readyz, /metrics
};

enum class Runs {
  kIoThread,      // never blocks (a request waiting for jwksUrl keys holds no thread)
  kBlockingPool,  // calls the store: the session runs it on the blocking pool
};

// SPEC §2.1: 16 KiB on the auth surface (and for paths that name nothing); SPEC §6: 1 MiB
// under /v1/.
inline constexpr size_t kAuthBodyLimit = size_t{16} * 1024;
inline constexpr size_t kApiBodyLimit = size_t{1024} * 1024;
// Introspection and revocation take a token, which custom claims make up to
// oauth::kMaxAccessTokenSize (docs/token-customization.md): 32 KiB.
inline constexpr size_t kTokenBodyLimit = size_t{32} * 1024;

// One matched request: the environment of an auth-surface route, with the snapshot it is in
// (kept alive for as long as the handler's answer refers to it).
struct RouteCall {
  const Request& request;
  std::shared_ptr<const config::Snapshot> snapshot;
  const config::EnvironmentSnapshot* env = nullptr;  // auth surface only
};

struct Route {
  // "/healthz", "/v1/*" (any path below /v1/), "/{envID}/as/token" ({envID}: an environment
  // of the current snapshot, any case), or "<prefix>/{envID}/as" ending there (RFC 8414 §3.1's
  // path-inserted well-known URLs).
  std::string_view pattern;
  // The one method answered, else 405 with this as `Allow`; empty: the handler answers every
  // method itself (the management API's 405s name each resource's methods).
  std::string_view method;
  Surface surface;
  size_t body_limit;
  Runs runs;
  // Router::HandleHeader() may answer from the header alone, before the body is read.
  bool header_first = false;
  // False when the server runs without the service the route needs: 404.
  bool (*enabled)(const Services&) = nullptr;  // null: always
  Response (Router::*handle)(const RouteCall&) const = nullptr;
  // Browsers may call it from the origins the environment's applications allow: OPTIONS
  // preflights are answered, answers carry Access-Control-Allow-Origin (http/cors.h).
  bool cors = false;
};

// The route of `path` (without the query) and, on the auth surface, its {envID} segment as
// sent. Never null: a path that matches no entry gets NoRoute() (404 on the I/O thread, 16 KiB
// limit). Pure and allocation-free; safe from any thread.
struct RouteMatch {
  const Route* route;
  std::string_view env_id;
};
RouteMatch MatchRoute(std::string_view path);

// Every entry, in matching order (for tests and docs), and the entry of paths that match none.
std::span<const Route> Routes();
const Route& NoRoute();
// The largest body_limit of the table: the session's limit until it knows the path.
size_t MaxBodyLimit();

}  // namespace tollgate::http
