#include "http/errors.h"

#include "common/form.h"
#include "common/log.h"

namespace tollgate::http {

void AddNoStore(Response& response) {
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("Pragma", "no-cache");
}

Response WriteOAuthError(const oauth::OAuthError& error, std::string_view correlation_id,
                         std::string_view issuer) {
  if (!error.debug.empty()) {
    log::Info("oauth error {} correlation={} debug={}", error.WireCode(), correlation_id,
              error.debug);
  }
  Response r;
  r.status = error.HttpStatus();
  r.body = "{\"error\":";
  AppendJsonString(r.body, error.WireCode());
  r.body += ",\"error_description\":";
  AppendJsonString(r.body, error.WireDescription(correlation_id));
  r.body += "}";
  AddNoStore(r);
  if (error.basic_challenge && r.status == 401) {
    std::string challenge = "Basic realm=";
    AppendJsonString(challenge, issuer);  // a quoted-string; the issuer holds no '"' or '\'
    r.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  }
  if (error.retry_after_seconds > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
  }
  if (!error.dpop_nonce.empty()) r.headers.emplace_back("DPoP-Nonce", error.dpop_nonce);
  return r;
}

Response WriteErrorOrPending(oauth::ErrorOrPending&& failure, std::string_view correlation_id,
                             std::string_view issuer) {
  if (auto* pending = std::get_if<oauth::Pending>(&failure)) {
    Response r;
    r.pending = std::move(*pending);
    return r;
  }
  return WriteOAuthError(std::get<oauth::OAuthError>(failure), correlation_id, issuer);
}

Response WriteApiError(const mgmt::ApiError& error) { return FromApi(mgmt::ToResponse(error)); }

Response FromApi(mgmt::ApiResponse answer) {
  Response r;
  r.status = answer.status;
  r.body = std::move(answer.body);
  r.headers = std::move(answer.headers);
  if (r.status == 204) r.content_type.clear();
  return r;
}

}  // namespace tollgate::http
