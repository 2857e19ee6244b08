#pragma once
// Plain request/response types shared by the router and handlers. The Beast session fills a
// Request and writes a Response; nothing outside server.cc sees Beast.

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oauth/pending.h"

namespace tollgate::config {
struct EnvironmentSnapshot;
}  // namespace tollgate::config

namespace tollgate::http {

// Views into the session's buffers; valid for the duration of one handler call.
struct Request {
  std::string_view method;
  std::string_view path;   // without the query
  std::string_view query;  // without the '?'
  std::string_view body;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> authorization;
  std::vector<std::string_view> dpop;  // each DPoP header (RFC 9449 §4.1), in order
  // The certificate the client presented in the TLS handshake (RFC 8705), DER, then the
  // intermediates it sent; empty: none, or plain HTTP. Views the connection's storage.
  std::span<const std::string> tls_client_certificates;
  // A trusted proxy's RFC 9440 Client-Cert header and Client-Cert-Chain lines (joined with
  // ", "); absent when the peer is not a trusted proxy (--trusted-proxies) or sent none.
  std::optional<std::string_view> proxy_client_cert;
  std::optional<std::string_view> proxy_client_cert_chain;
  // CORS (Fetch standard): the caller's web origin, and a preflight's requested method.
  std::optional<std::string_view> origin;
  std::optional<std::string_view> access_control_request_method;
  std::string_view host;            // the Host header, for absolute URLs in /v1 answers
  std::string_view remote_address;  // the peer's IP address
  std::string correlation_id;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Close the connection after this response (used after framing errors).
  bool close = false;
  // Not an answer yet: the request waits for a PRIVATE_KEY_JWT client's jwksUrl keys, which are
  // being fetched elsewhere. The session lets go of its thread until `pending` wakes it, then
  // has the router call `resume`: the request, as already parsed, from client authentication
  // on, in its environment as the snapshot has it then. It owns what it refers to, but `env`.
  std::optional<oauth::Pending> pending;
  std::function<Response(const config::EnvironmentSnapshot& env)> resume;
  // Not the answer yet: the rest of the request blocks (on the store). The session runs it on
  // the blocking pool and sends what it returns. It owns or keeps alive what it refers to.
  std::function<Response()> then_blocking;
};

}  // namespace tollgate::http
