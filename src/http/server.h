#pragma once
// The HTTP/1.1 listener: keep-alive sessions on N I/O threads, the size limits of SPEC §2.1,
// a Correlation-Id on every response, and a graceful stop on SIGINT/SIGTERM.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "http/router.h"

namespace tollgate::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port
  int threads = 0;       // 0: one per core
  int drain_seconds = 10;
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Returns the bound port, or a one-line error.
  Result<uint16_t, std::string> Listen();
  // Serves with `router` until SIGINT/SIGTERM or Stop(), then stops accepting, finishes
  // in-flight requests (up to drain_seconds), closes idle connections and returns. `router` must
  // outlive the call.
  void Run(const Router& router);
  // Asks Run() to stop as a signal would. Thread-safe.
  void Stop();
  // Runs `job` on the pool for outbound fetches (4 threads): never an I/O thread, never the
  // blocking pool of the management API. A job may block for its own time limit. Jobs still
  // queued when Run() is stopping run before Run() returns. Thread-safe; callable before Run().
  void RunInBackground(std::function<void()> job);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::http
