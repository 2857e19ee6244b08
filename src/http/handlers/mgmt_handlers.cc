#include "http/handlers/mgmt_handlers.h"

#include "http/errors.h"

namespace tollgate::http::handlers {
namespace {

// A Host header is only trusted for links when it looks like host[:port].
bool IsSafeHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '[' || c == ']')) {
      return false;
    }
  }
  return true;
}

}  // namespace

Response Management(const Request& request, const mgmt::ManagementApi& api,
                    std::string_view api_url) {
  mgmt::ApiRequest in;
  in.method = request.method;
  in.path = request.path;
  in.query = request.query;
  in.body = request.body;
  in.content_type = request.content_type;
  in.authorization = request.authorization;
  in.remote_address = request.remote_address;
  in.correlation_id = request.correlation_id;
  // SPEC §6: links are built from the request's own scheme and host.
  in.base_url =
      IsSafeHost(request.host) ? "http://" + std::string(request.host) : std::string(api_url);
  return FromApi(api.Handle(in));
}

std::optional<Response> ManagementBeforeBody(const Request& header,
                                             const mgmt::ManagementApi& api) {
  auto out = api.RefuseBeforeBody(header.authorization);
  if (!out) return std::nullopt;
  return FromApi(std::move(*out));
}

}  // namespace tollgate::http::handlers
