#pragma once
// Plain request/response types shared by the router and handlers. The Beast session fills a
// Request and writes a Response; nothing outside server.cc sees Beast.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::http {

// Views into the session's buffers; valid for the duration of one handler call.
struct Request {
  std::string_view method;
  std::string_view path;   // without the query
  std::string_view query;  // without the '?'
  std::string_view body;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> authorization;
  std::string_view host;            // the Host header, for absolute URLs in /v1 answers
  std::string_view remote_address;  // the peer's IP address
  std::string correlation_id;
  // True when the handler runs off the I/O threads and may block (Response::retry_off_io).
  bool may_block = false;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Close the connection after this response (used after framing errors).
  bool close = false;
  // Not an answer: handle the same request again with may_block, off the I/O threads (a
  // PRIVATE_KEY_JWT client's jwksUrl must be fetched first).
  bool retry_off_io = false;
};

}  // namespace tollgate::http
