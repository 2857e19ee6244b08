#pragma once
// The client certificate a request to the token, introspection or revocation endpoint carries
// (RFC 8705): the one a trusted proxy forwarded in RFC 9440's headers, else the one the TLS
// handshake proved. docs/deploy.md shows the proxy side.

#include <string>
#include <vector>

#include "common/result.h"
#include "http/message.h"

namespace tollgate::http {

// The most certificates (the client's and its intermediates) a request may carry.
inline constexpr size_t kMaxClientCertificates = 9;

// DER certificates, the client's first; empty: none. A trusted proxy's `Client-Cert` is RFC
// 9440's byte sequence (`:base64:`) or, as nginx's $ssl_client_escaped_cert writes it, a
// percent-encoded PEM certificate; its `Client-Cert-Chain` is a list of byte sequences. When a
// proxy sent `Client-Cert` the connection's own certificate does not count. Fails with a
// client-safe reason when a proxy's header is malformed, or names more than
// kMaxClientCertificates. Nothing here parses X.509: the DER is checked where it is used.
Result<std::vector<std::string>, std::string> ClientCertificates(const Request& request);

}  // namespace tollgate::http
