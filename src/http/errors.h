#pragma once
// The one place each error family is written to the wire.

#include <string_view>

#include "http/message.h"
#include "mgmt/api_error.h"
#include "oauth/oauth_error.h"

namespace tollgate::http {

// RFC 6749 §5.2 body with PingOne's description format, no-store headers, and
// WWW-Authenticate for Basic clients. The debug text is logged, never sent.
Response WriteOAuthError(const oauth::OAuthError& error, std::string_view correlation_id,
                         std::string_view issuer);

// PingOne's platform error shape {"id","code","message","details"?} (SPEC §6), written by its
// one writer, mgmt::ToResponse: 404, 405, 400/413/431 outside the auth surface, and 500.
Response WriteApiError(const mgmt::ApiError& error);
// The management API's answer as a Response (no Content-Type on 204).
Response FromApi(mgmt::ApiResponse answer);

// The headers every OAuth JSON answer carries (RFC 6749 §5.1).
void AddNoStore(Response& response);

// The answer for what a step of the auth surface has instead of a result: the error written by
// WriteOAuthError, or a Pending carried in Response::pending (no answer yet).
Response WriteErrorOrPending(oauth::ErrorOrPending&& failure, std::string_view correlation_id,
                             std::string_view issuer);

}  // namespace tollgate::http
