#pragma once
// The composition root: options -> store, config, crypto, oauth, http; threads; signals.

#include <cstddef>
#include <string>

namespace tollgate::server {

struct Options {
  std::string store_uri = "sqlite:tollgate.db";
  std::string listen = "127.0.0.1:8080";
  // HTTPS beside the plain listener when both files are given (decision 0008).
  std::string tls_listen = "127.0.0.1:8443";
  std::string tls_cert;        // PEM certificate (and chain) file
  std::string tls_key;         // PEM private key file
  size_t threads = 0;          // 0: one per core
  size_t max_connections = 0;  // 0: the file-descriptor limit minus a reserve (fd_limit.h)
  // Per-environment budgets of remembered jtis (config::JtiCache; docs/security.md).
  size_t max_used_assertions = 1'000'000;
  size_t max_dpop_proofs = 500'000;  // per environment, this node (oauth/dpop.h)
  size_t max_revoked_tokens = 100'000;
  // /metrics names this many clients (those with the most tokens) one by one.
  size_t metrics_top_clients = 10;
  // Audit activities: kept this many days; at most this many wait for the store (more: dropped).
  size_t activity_retention_days = 30;
  size_t max_queued_activities = 100'000;
  // Which answers of the token, introspection and revocation endpoints become activities:
  // "all", "failures" or "none".
  std::string token_activities = "all";
  std::string
      auth_url;  // empty: https://<tls-listen address> with TLS, else http://<listen address>
  std::string api_url;  // empty: auth_url
  // Public base of the endpoints where clients present TLS certificates, when it differs from
  // auth_url (RFC 8705 §5 mtls_endpoint_aliases); empty: none published.
  std::string mtls_url;
  std::string master_key;       // TOLLGATE_MASTER_KEY (base64), or empty
  std::string master_key_file;  // empty: next to a SQLite store
  std::string trusted_proxies;  // CIDR,CIDR,...: peers whose Forwarded/X-Forwarded-For count
  // jwksUrl fetches may connect to loopback, private, link-local, ... addresses (decision 0005).
  bool allow_private_fetch = false;
  // Client certificates come from the RFC 9440 headers of trusted proxies (docs/deploy.md).
  bool proxy_client_certs = false;
};

// `tollgate init`: prints the init JSON on stdout. Returns the process exit code; errors are one
// line on stderr.
int Init(const Options& options);
// `tollgate serve`: raises the soft file-descriptor limit to the hard limit, then serves until
// SIGINT/SIGTERM. Returns the process exit code (2 when max_connections exceeds what the
// file-descriptor limit allows).
int Serve(const Options& options);

}  // namespace tollgate::server
