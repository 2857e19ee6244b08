#pragma once
// The token request as the HTTP layer hands it over: form parameters already decoded,
// duplicates already rejected, empty values already dropped (except client_secret, SPEC §2.1).

#include <optional>
#include <string>
#include <vector>

namespace tollgate::oauth {

struct TokenRequest {
  std::string remote_address;                // the peer's IP address, for brute-force protection
  std::optional<std::string> authorization;  // the raw Authorization header, if any
  std::optional<std::string> grant_type;
  std::optional<std::string> scope;
  std::vector<std::string> resources;  // RFC 8707 `resource`, repeatable
  std::optional<std::string> client_id;
  std::optional<std::string> client_secret;
  std::optional<std::string> client_assertion_type;
  std::optional<std::string> client_assertion;
  // Introspection and revocation (RFC 7662, RFC 7009).
  std::optional<std::string> token;
  std::optional<std::string> token_type_hint;
};

struct TokenResponse {
  std::string access_token;
  int64_t expires_in = 0;
  std::string scope;  // empty: no `scope` member
};

}  // namespace tollgate::oauth
