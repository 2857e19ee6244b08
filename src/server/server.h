#pragma once
// The composition root: options -> store, config, crypto, oauth, http; threads; signals.

#include <string>

namespace tollgate::server {

struct Options {
  std::string store_uri = "sqlite:tollgate.db";
  std::string listen = "127.0.0.1:8080";
  int threads = 0;              // 0: one per core
  std::string auth_url;         // empty: http://<listen address>
  std::string api_url;          // empty: auth_url
  std::string master_key;       // TOLLGATE_MASTER_KEY (base64), or empty
  std::string master_key_file;  // empty: next to a SQLite store
  // jwksUrl fetches may connect to loopback, private, link-local, ... addresses (decision 0005).
  bool allow_private_fetch = false;
};

// `tollgate init`: prints the init JSON on stdout. Returns the process exit code; errors are one
// line on stderr.
int Init(const Options& options);
// `tollgate serve`: serves until SIGINT/SIGTERM. Returns the process exit code.
int Serve(const Options& options);

}  // namespace tollgate::server
