#include "oauth/oauth_error.h"

namespace tollgate::oauth {

int OAuthError::HttpStatus() const {
  if (retry_after_seconds > 0) return 429;
  switch (code) {
    case OAuthErrorCode::kInvalidClient:
      return 401;
    case OAuthErrorCode::kServerError:
      return 500;
    case OAuthErrorCode::kTemporarilyUnavailable:
      return 503;
    default:
      return 400;
  }
}

std::string_view OAuthError::WireCode() const {
  switch (code) {
    case OAuthErrorCode::kInvalidRequest:
      return "invalid_request";
    case OAuthErrorCode::kInvalidClient:
      return "invalid_client";
    case OAuthErrorCode::kInvalidGrant:
      return "invalid_grant";
    case OAuthErrorCode::kUnauthorizedClient:
      return "unauthorized_client";
    case OAuthErrorCode::kUnsupportedGrantType:
      return "unsupported_grant_type";
    case OAuthErrorCode::kInvalidScope:
      return "invalid_scope";
    case OAuthErrorCode::kInvalidTarget:
      return "invalid_target";
    case OAuthErrorCode::kInvalidDpopProof:
      return "invalid_dpop_proof";
    case OAuthErrorCode::kUseDpopNonce:
      return "use_dpop_nonce";
    case OAuthErrorCode::kServerError:
      return "server_error";
    case OAuthErrorCode::kTemporarilyUnavailable:
      return "temporarily_unavailable";
  }
  return "server_error";
}

std::string OAuthError::WireDescription(std::string_view correlation_id) const {
  std::string out;
  switch (stage) {
    case ErrorStage::kClientAuthentication:
      out = "Request denied: ";
      break;
    case ErrorStage::kValidation:
      // PingOne's prefix for validation failures, verbatim.
      out =
          "The request could not be completed. One or more validation errors were in the "
          "request.: ";
      break;
    case ErrorStage::kServer:
      break;
  }
  out += description;
  out += " (Correlation ID: ";
  out += correlation_id;
  out += ")";
  return out;
}

OAuthError InvalidRequest(std::string description, std::string debug) {
  return ValidationError(OAuthErrorCode::kInvalidRequest, std::move(description), std::move(debug));
}

OAuthError ClientAuthError(OAuthErrorCode code, std::string description, std::string debug) {
  OAuthError e;
  e.code = code;
  e.stage = ErrorStage::kClientAuthentication;
  e.description = std::move(description);
  e.debug = std::move(debug);
  return e;
}

OAuthError InvalidClient(InvalidClientReason reason, bool basic, std::string debug) {
  OAuthError e = ClientAuthError(OAuthErrorCode::kInvalidClient,
                                 reason == InvalidClientReason::kCredentials
                                     ? "Invalid client credentials"
                                     : "Unsupported authentication method",
                                 std::move(debug));
  e.basic_challenge = basic;
  return e;
}

OAuthError ValidationError(OAuthErrorCode code, std::string description, std::string debug) {
  OAuthError e;
  e.code = code;
  e.stage = ErrorStage::kValidation;
  e.description = std::move(description);
  e.debug = std::move(debug);
  return e;
}

OAuthError ServerError(std::string debug) {
  OAuthError e;
  e.code = OAuthErrorCode::kServerError;
  e.stage = ErrorStage::kServer;
  e.description = "An unexpected error occurred";
  e.debug = std::move(debug);
  return e;
}

}  // namespace tollgate::oauth
