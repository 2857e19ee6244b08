#pragma once
// OAuthError: the error family of the auth surface (RFC 6749 §5.2). The client sees only the
// wire code and the client-safe description; `debug` goes to the log and nowhere else.

#include <string>
#include <string_view>

namespace tollgate::oauth {

enum class OAuthErrorCode {
  kInvalidRequest,
  kInvalidClient,
  kInvalidGrant,
  kUnauthorizedClient,
  kUnsupportedGrantType,
  kInvalidScope,
  kInvalidTarget,
  kInvalidDpopProof,  // RFC 9449 §5
  kUseDpopNonce,      // RFC 9449 §8
  kServerError,
  kTemporarilyUnavailable,
};

// Which prefix the description carries (SPEC §2.7).
enum class ErrorStage {
  kClientAuthentication,  // "Request denied: "
  kValidation,            // "The request could not be completed. One or more validation ..."
  kServer,                // no prefix
};

struct OAuthError {
  OAuthErrorCode code = OAuthErrorCode::kServerError;
  ErrorStage stage = ErrorStage::kServer;
  std::string description;  // client-safe, without the prefix
  std::string debug;        // for the log only; never serialized
  // RFC 6749 §5.2: a 401 to a client that used HTTP Basic carries WWW-Authenticate.
  bool basic_challenge = false;
  int retry_after_seconds = 0;  // > 0: answered 429 with Retry-After
  std::string dpop_nonce;       // RFC 9449 §8: sent as the DPoP-Nonce header when not empty

  int HttpStatus() const;
  std::string_view WireCode() const;
  // The error_description member: prefix + description + " (Correlation ID: <id>)".
  std::string WireDescription(std::string_view correlation_id) const;
};

OAuthError InvalidRequest(std::string description, std::string debug = {});
OAuthError ClientAuthError(OAuthErrorCode code, std::string description, std::string debug = {});
OAuthError ValidationError(OAuthErrorCode code, std::string description, std::string debug = {});
OAuthError ServerError(std::string debug);

// What an invalid_client says (SPEC §2.2): neither says whether the client exists.
enum class InvalidClientReason {
  kCredentials,  // "Invalid client credentials"
  kMethod,       // "Unsupported authentication method" (PingOne: the method is checked first)
};
// RFC 6749 §5.2 invalid_client, 401, the one way to build it. `basic`: the client used HTTP
// Basic, so the answer carries WWW-Authenticate.
OAuthError InvalidClient(InvalidClientReason reason, bool basic, std::string debug);

}  // namespace tollgate::oauth
