#pragma once
// The HTTP/1.1 listener: keep-alive sessions on N I/O threads, the size limits of SPEC §2.1,
// a Correlation-Id on every response, and a graceful stop on SIGINT/SIGTERM.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/client_address.h"
#include "http/router.h"
#include "http/tls.h"

namespace tollgate::http {

// An HTTPS listener beside the plain one (decision 0008).
struct TlsListenerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8443;  // 0: any free port
  TlsFiles files;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;                   // 0: any free port
  std::optional<TlsListenerOptions> tls;  // none: plain HTTP only
  int threads = 0;                        // 0: one per core
  int drain_seconds = 10;
  // Peers whose Forwarded / X-Forwarded-For headers name the client (Request::remote_address);
  // nobody by default.
  TrustedProxies trusted_proxies;
  // A trusted proxy's Client-Cert / Client-Cert-Chain headers carry the client's certificate,
  // and its own connection's certificate never counts (Request::proxy_client_cert). Off: the
  // headers are ignored from everyone.
  bool proxy_client_certs = false;
  // At most this many client connections are open at once. At the limit, the oldest idle
  // keep-alive connection is closed for each new one; with none idle, new connections wait in
  // the listen backlog until one ends. Each takes a file descriptor: the composition root
  // derives the limit from RLIMIT_NOFILE (server/fd_limit.h). At least 1.
  size_t max_connections = 1024;
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (and, with TLS, reads the certificate and key). Returns the plain
  // listener's bound port, or a one-line error.
  Result<uint16_t, std::string> Listen();
  // The HTTPS listener's bound port after Listen(); 0 without TLS.
  uint16_t TlsPort() const;
  // Serves with `router` until SIGINT/SIGTERM or Stop() (SIGHUP reloads the TLS certificate and
  // key for new connections), then stops accepting, finishes
  // in-flight requests (up to drain_seconds), closes idle connections and returns. `router` must
  // outlive the call.
  void Run(const Router& router);
  // Asks Run() to stop as a signal would. Thread-safe.
  void Stop();
  // Runs `job` on the pool for outbound fetches (4 threads): never an I/O thread, never the
  // blocking pool of the management API. A job may block for its own time limit. Jobs still
  // queued when Run() is stopping run before Run() returns. Thread-safe; callable before Run().
  void RunInBackground(std::function<void()> job);

  // The number of I/O threads ServerOptions::threads stands for (0: one per core).
  static int IoThreads(int threads);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::http
