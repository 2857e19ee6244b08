#pragma once
// The request of an endpoint that authenticates clients (token, introspection, revocation) as
// the HTTP layer hands it over: form parameters already decoded, duplicates already rejected,
// empty values already dropped (except client_secret, SPEC §2.1), and only the parameters the
// endpoint, its grants and client authentication declare (RFC 6749 §3.2: others are ignored,
// once their duplicates have been refused).

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::oauth {

struct TokenRequest {
  std::string remote_address;  // the peer's IP address, for brute-force protection and the audit
  std::string correlation_id;  // the request's (the audit's activities name it)
  std::optional<std::string> authorization;  // the raw Authorization header, if any
  std::vector<std::string> dpop;             // each DPoP header (RFC 9449 §4.1), in order
  // The client's TLS certificate (RFC 8705), DER, then the intermediates it sent; empty: none.
  std::vector<std::string> client_certificates;
  std::optional<std::string> grant_type;  // the token endpoint's
  // Client authentication (RFC 6749 §2.3.1, RFC 7521 §4.2), the same at every endpoint.
  std::optional<std::string> client_id;
  std::optional<std::string> client_secret;
  std::optional<std::string> client_assertion_type;
  std::optional<std::string> client_assertion;
  // The other declared parameters sent (a grant's `scope` and `resource`, introspection's
  // `token`), each name once with its values in the order sent. Names view static storage.
  std::vector<std::pair<std::string_view, std::vector<std::string>>> params;

  // The value of `name`, or null when it was not sent (its first value, if it may repeat).
  const std::string* Param(std::string_view name) const;
  // Every value of `name` in the order sent; empty when it was not sent.
  std::span<const std::string> Values(std::string_view name) const;
  // Appends a value of `name`, which must view storage that outlives the request (a literal).
  void Add(std::string_view name, std::string value);
};

// A form parameter an endpoint, a grant or client authentication takes: the HTTP layer keeps
// the declared ones (SPEC §2.1) and checks them as declared.
struct FormParam {
  std::string_view name;
  // The TokenRequest member that holds it; null: TokenRequest::params.
  std::optional<std::string> TokenRequest::*member = nullptr;
  bool repeatable = false;  // may be sent more than once (RFC 8707 `resource`)
  bool keep_empty = false;  // an empty value counts as sent (SPEC §2.1: client_secret only)
  size_t max_length = 0;    // longer values are invalid_request; 0: the body limit only
};

struct TokenResponse {
  std::string access_token;
  int64_t expires_in = 0;
  std::string scope;        // empty: no `scope` member
  std::string jti;          // the token's, for the audit; not sent
  int claims_left_out = 0;  // custom claims that failed (counted for /metrics); not sent
  // RFC 8693 §2.2.1: the type of the token issued by a token exchange; empty: no member.
  std::string_view issued_token_type;
  bool dpop = false;       // bound to a DPoP key (RFC 9449 §5): token_type DPoP, else Bearer
  std::string dpop_nonce;  // RFC 9449 §8: the nonce to send as DPoP-Nonce; empty: none
};

}  // namespace tollgate::oauth
