#include <cctype>

#include "common/base64.h"
#include "common/form.h"
#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {
namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

bool IEqualsPrefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

constexpr FormParam kParams[] = {
    {.name = "client_id", .member = &TokenRequest::client_id},
    // SPEC §2.1: an empty client_secret is a (wrong) secret, not an absent one.
    {.name = "client_secret", .member = &TokenRequest::client_secret, .keep_empty = true},
    {.name = "client_assertion_type", .member = &TokenRequest::client_assertion_type},
    {.name = "client_assertion", .member = &TokenRequest::client_assertion},
};

}  // namespace

std::span<const FormParam> ClientAuthParams() { return kParams; }

Result<PresentedCredentials, OAuthError> Present(const TokenRequest& request) {
  const bool has_header = request.authorization.has_value();
  const bool has_body_secret = request.client_secret.has_value();
  const bool has_assertion =
      request.client_assertion.has_value() || request.client_assertion_type.has_value();

  // Rule 1 (RFC 6749 §2.3): one mechanism per request.
  if (int{has_header} + int{has_body_secret} + int{has_assertion} > 1) {
    return Fail(ClientAuthError(OAuthErrorCode::kInvalidRequest,
                                "Only one client authentication method may be used",
                                "more than one client authentication mechanism presented"));
  }

  PresentedCredentials out;
  out.certificates = request.client_certificates;
  if (has_header) {
    out.mechanism = Mechanism::kBasic;
    std::string_view value = *request.authorization;
    if (!IEqualsPrefix(value, "basic ")) {
      return Fail(InvalidClient(InvalidClientReason::kCredentials, true,
                                "Authorization header is not Basic"));
    }
    value.remove_prefix(6);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    auto decoded = Base64Decode(value);
    if (!decoded)
      return Fail(InvalidClient(InvalidClientReason::kCredentials, true,
                                "Basic credentials are not base64"));
    size_t colon = decoded->find(':');
    if (colon == std::string::npos)
      return Fail(
          InvalidClient(InvalidClientReason::kCredentials, true, "Basic credentials lack ':'"));
    // RFC 6749 §2.3.1: client_id and secret are form-encoded before base64.
    auto id = FormDecode(std::string_view(*decoded).substr(0, colon));
    auto secret = FormDecode(std::string_view(*decoded).substr(colon + 1));
    if (!id || !secret || id->empty()) {
      return Fail(InvalidClient(InvalidClientReason::kCredentials, true,
                                "Basic credentials are not form-encoded"));
    }
    if (request.client_id && *request.client_id != *id) {
      return Fail(ClientAuthError(OAuthErrorCode::kInvalidRequest,
                                  "client_id does not match the Authorization header",
                                  "body client_id differs from Basic client id"));
    }
    out.client_id = std::move(*id);
    out.secret = std::move(*secret);
    return out;
  }
  if (has_assertion) {
    out.mechanism = Mechanism::kAssertion;
    if (request.client_assertion_type != kJwtBearer || !request.client_assertion) {
      return Fail(InvalidClient(InvalidClientReason::kCredentials, false,
                                "client_assertion_type or client_assertion missing/wrong"));
    }
    auto assertion = jwt::DecodeAssertion(*request.client_assertion);
    if (!assertion)
      return Fail(InvalidClient(InvalidClientReason::kCredentials, false,
                                "client_assertion: " + assertion.error()));
    // RFC 7523 §3: the client is the assertion's subject; RFC 7521 §4.2: a client_id sent
    // beside it must name the same client.
    if (request.client_id && *request.client_id != assertion->sub) {
      return Fail(InvalidClient(InvalidClientReason::kCredentials, false,
                                "body client_id differs from the assertion's sub"));
    }
    out.client_id = assertion->sub;
    out.assertion = std::move(*assertion);
    return out;
  }
  if (!request.client_id) {
    // Rule 2: nothing identifies the client.
    return Fail(InvalidClient(InvalidClientReason::kCredentials, false,
                              "no client authentication presented"));
  }
  out.client_id = *request.client_id;
  if (has_body_secret) {
    out.mechanism = Mechanism::kPost;
    out.secret = *request.client_secret;
  }
  return out;
}

}  // namespace tollgate::oauth
