#include "oauth/oauth_error.h"

#include <gtest/gtest.h>

namespace tollgate::oauth {
namespace {

TEST(OAuthError, StatusPerCode) {
  EXPECT_EQ(ClientAuthError(OAuthErrorCode::kInvalidClient, "x").HttpStatus(), 401);
  EXPECT_EQ(ClientAuthError(OAuthErrorCode::kInvalidRequest, "x").HttpStatus(), 400);
  EXPECT_EQ(ValidationError(OAuthErrorCode::kInvalidScope, "x").HttpStatus(), 400);
  EXPECT_EQ(ValidationError(OAuthErrorCode::kUnauthorizedClient, "x").HttpStatus(), 400);
  EXPECT_EQ(ValidationError(OAuthErrorCode::kUnsupportedGrantType, "x").HttpStatus(), 400);
  EXPECT_EQ(ValidationError(OAuthErrorCode::kInvalidTarget, "x").HttpStatus(), 400);
  EXPECT_EQ(ServerError("boom").HttpStatus(), 500);
  OAuthError limited = ClientAuthError(OAuthErrorCode::kInvalidClient, "slow down");
  limited.retry_after_seconds = 5;
  EXPECT_EQ(limited.HttpStatus(), 429);
  OAuthError unavailable = ServerError("db");
  unavailable.code = OAuthErrorCode::kTemporarilyUnavailable;
  EXPECT_EQ(unavailable.HttpStatus(), 503);
}

TEST(OAuthError, WireCodes) {
  EXPECT_EQ(InvalidRequest("x").WireCode(), "invalid_request");
  EXPECT_EQ(ClientAuthError(OAuthErrorCode::kInvalidClient, "x").WireCode(), "invalid_client");
  EXPECT_EQ(ValidationError(OAuthErrorCode::kInvalidGrant, "x").WireCode(), "invalid_grant");
  EXPECT_EQ(ValidationError(OAuthErrorCode::kUnauthorizedClient, "x").WireCode(),
            "unauthorized_client");
  EXPECT_EQ(ValidationError(OAuthErrorCode::kUnsupportedGrantType, "x").WireCode(),
            "unsupported_grant_type");
  EXPECT_EQ(ValidationError(OAuthErrorCode::kInvalidScope, "x").WireCode(), "invalid_scope");
  EXPECT_EQ(ValidationError(OAuthErrorCode::kInvalidTarget, "x").WireCode(), "invalid_target");
  EXPECT_EQ(ServerError("x").WireCode(), "server_error");
}

TEST(OAuthError, DescriptionPrefixesAndCorrelationId) {
  EXPECT_EQ(ClientAuthError(OAuthErrorCode::kInvalidClient, "Invalid client credentials")
                .WireDescription("abc"),
            "Request denied: Invalid client credentials (Correlation ID: abc)");
  EXPECT_EQ(ValidationError(OAuthErrorCode::kInvalidScope, "At least one scope must be granted")
                .WireDescription("id-1"),
            "The request could not be completed. One or more validation errors were in the "
            "request.: At least one scope must be granted (Correlation ID: id-1)");
}

// SPEC §2.2: the two invalid_client answers, 401 with the challenge only for Basic clients.
TEST(OAuthError, InvalidClientFactory) {
  const struct {
    InvalidClientReason reason;
    bool basic;
    const char* description;
  } cases[] = {
      {InvalidClientReason::kCredentials, false, "Invalid client credentials"},
      {InvalidClientReason::kCredentials, true, "Invalid client credentials"},
      {InvalidClientReason::kMethod, false, "Unsupported authentication method"},
      {InvalidClientReason::kMethod, true, "Unsupported authentication method"},
  };
  for (const auto& c : cases) {
    OAuthError e = InvalidClient(c.reason, c.basic, "debug only");
    EXPECT_EQ(e.HttpStatus(), 401);
    EXPECT_EQ(e.WireCode(), "invalid_client");
    EXPECT_EQ(e.WireDescription("x"),
              std::string("Request denied: ") + c.description + " (Correlation ID: x)");
    EXPECT_EQ(e.basic_challenge, c.basic);
    EXPECT_EQ(e.retry_after_seconds, 0);
    EXPECT_EQ(e.debug, "debug only");
  }
}

TEST(OAuthError, DebugTextIsNeverSerialized) {
  OAuthError e = ClientAuthError(OAuthErrorCode::kInvalidClient, "Invalid client credentials",
                                 "secret mismatch for s3cr3t-value");
  EXPECT_EQ(e.WireDescription("x").find("s3cr3t"), std::string::npos);
  EXPECT_EQ(ServerError("sqlite said: disk I/O").WireDescription("x").find("sqlite"),
            std::string::npos);
}

}  // namespace
}  // namespace tollgate::oauth
