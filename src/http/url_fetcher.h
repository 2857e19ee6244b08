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
  size_t max_body = size_t{256} * 1024;
  size_t max_header = size_t{8} * 1024;
};

// Which addresses a fetch may connect to (docs/decisions/0005-fetch-address-policy.md).
enum class FetchAddresses {
  kPublicOnly,  // default: refuse loopback, private, link-local, CGNAT, multicast, unspecified
  kAny,         // --allow-private-fetch (tests, and deployments whose key servers are internal)
};

class UrlFetcher {
 public:
  explicit UrlFetcher(FetchLimits limits = {},
                      FetchAddresses addresses = FetchAddresses::kPublicOnly);
  ~UrlFetcher();
  UrlFetcher(const UrlFetcher&) = delete;
  UrlFetcher& operator=(const UrlFetcher&) = delete;

  // GETs an absolute http:// or https:// URL and returns the body of a 200 answer; anything
  // else (another status, a redirect, which is not followed, a body or header over the limits,
  // a timeout, a TLS failure, an address the policy refuses) is a reason for the log. The host
  // is resolved once; with kPublicOnly, when any of its addresses (or the literal IP address of
  // the URL) is not public, nothing is connected to; otherwise only the checked addresses are
  // connected to, never a second resolution (DNS rebinding). The Host header and the TLS
  // server name still carry the URL's host. HTTPS verifies the certificate chain
  // against the system's trust store (OpenSSL's default paths, so SSL_CERT_FILE applies) and
  // the host name. Blocks the calling thread: never call it on an I/O thread. Thread-safe.
  Result<std::string, std::string> Get(const std::string& url) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::http
