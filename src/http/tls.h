#pragma once
// The TLS side of the HTTPS listener (decision 0008): the server context built from PEM files
// (TLS 1.2 and 1.3 only, forward-secret AEAD suites, ALPN http/1.1), session tickets under keys
// this process rotates, and a reload that swaps in a new context for new connections while
// the open ones keep theirs. Asio's TLS and OpenSSL's headers stay in tls.cc and server.cc.

#include <memory>
#include <string>

#include "common/result.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace tollgate::http {

struct TlsFiles {
  std::string cert_file;  // PEM: the certificate, then any intermediates
  std::string key_file;   // PEM: its private key (RSA, EC or Ed25519), unencrypted
};

// Thread-safe.
class TlsServerContext {
 public:
  // Reads both files. Fails, with one line naming the file and the reason, when a file cannot be
  // read, holds no certificate or key, the key is encrypted, or the key is not the
  // certificate's.
  static Result<std::unique_ptr<TlsServerContext>, std::string> Load(TlsFiles files);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // The context a new connection uses; it stays alive as long as a connection holds it.
  std::shared_ptr<boost::asio::ssl::context> Current() const;
  // Reads the files again (SIGHUP). On success new connections get the new certificate; on
  // failure nothing changes and the reason is returned. Session tickets stay valid across it.
  Result<void, std::string> Reload();
  // The subject of the certificate Current() presents, for the log.
  std::string Subject() const;

  struct State;

 private:
  explicit TlsServerContext(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace tollgate::http
