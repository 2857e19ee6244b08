#pragma once
// The one place each error family is written to the wire.

#include <string_view>

#include "http/message.h"
#include "oauth/oauth_error.h"

namespace tollgate::http {

// RFC 6749 §5.2 body with PingOne's description format, no-store headers, and
// WWW-Authenticate for Basic clients. The debug text is logged, never sent.
Response WriteOAuthError(const oauth::OAuthError& error, std::string_view correlation_id,
                         std::string_view issuer);

// PingOne's platform error shape: {"id","code","message"} (SPEC §6), used for 404, 405, 413,
// 431 and 500 outside the token endpoint.
Response WriteApiError(int status, std::string_view code, std::string_view message,
                       std::string_view correlation_id);

// The headers every OAuth JSON answer carries (RFC 6749 §5.1).
void AddNoStore(Response& response);

// The answer for what a step of the auth surface has instead of a result: the error written by
// WriteOAuthError, or a Pending carried in Response::pending (no answer yet).
Response WriteErrorOrPending(oauth::ErrorOrPending&& failure, std::string_view correlation_id,
                             std::string_view issuer);

}  // namespace tollgate::http
