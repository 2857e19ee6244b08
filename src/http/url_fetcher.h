#pragma once
// Outbound HTTP(S) GET for the documents Tollgate reads from elsewhere: the JWK Sets behind
// PRIVATE_KEY_JWT applications' jwksUrl (SPEC §2.2). Bounded in time and size.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/result.h"

namespace tollgate::http {

struct FetchLimits {
  std::chrono::milliseconds timeout{5000};  // resolve, connect, TLS, request and response in all
  size_t max_body = 256 * 1024;
  size_t max_header = 8 * 1024;
};

class UrlFetcher {
 public:
  explicit UrlFetcher(FetchLimits limits = {});
  ~UrlFetcher();
  UrlFetcher(const UrlFetcher&) = delete;
  UrlFetcher& operator=(const UrlFetcher&) = delete;

  // GETs an absolute http:// or https:// URL and returns the body of a 200 answer; anything
  // else (another status, a redirect, which is not followed, a body or header over the limits,
  // a timeout, a TLS failure) is a reason for the log. HTTPS verifies the certificate chain
  // against the system's trust store (OpenSSL's default paths, so SSL_CERT_FILE applies) and
  // the host name. Blocks the calling thread: never call it on an I/O thread. Thread-safe.
  Result<std::string, std::string> Get(const std::string& url) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::http
