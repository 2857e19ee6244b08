// SPEC §2.1: what the HTTP layer checks before the oauth core runs.
#include "http/handlers/auth_handlers.h"

#include <gtest/gtest.h>

#include "http/errors.h"

namespace tollgate::http::handlers {
namespace {

Request Form(std::string_view body,
             std::string_view content_type = "application/x-www-form-urlencoded") {
  Request r;
  r.method = "POST";
  r.path = "/x/as/token";
  r.body = body;
  r.content_type = content_type;
  r.correlation_id = "corr-1";
  return r;
}

// The token endpoint's parameters: grant_type, client authentication's, client_credentials'.
Result<oauth::TokenRequest, oauth::OAuthError> ParseTokenRequest(const Request& r) {
  return handlers::ParseTokenRequest(r, oauth::TokenEndpoint::Params());
}

void ExpectInvalidRequest(const Request& r) {
  auto parsed = ParseTokenRequest(r);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().WireCode(), "invalid_request");
  EXPECT_EQ(parsed.error().HttpStatus(), 400);
}

TEST(ParseTokenRequest, AcceptsFormWithCharset) {
  for (auto ct :
       {"application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-Urlencoded;charset=utf-8"}) {
    auto parsed = ParseTokenRequest(Form("grant_type=client_credentials", ct));
    ASSERT_TRUE(parsed.ok()) << ct;
    EXPECT_EQ(parsed->grant_type, "client_credentials");
  }
}

TEST(ParseTokenRequest, RejectsOtherContentTypes) {
  ExpectInvalidRequest(Form("grant_type=client_credentials", "application/json"));
  ExpectInvalidRequest(Form("grant_type=client_credentials", "multipart/form-data"));
  ExpectInvalidRequest(Form("grant_type=client_credentials", "application/x-www-form-urlencodedx"));
  Request none = Form("grant_type=client_credentials");
  none.content_type.reset();
  ExpectInvalidRequest(none);
}

TEST(ParseTokenRequest, RejectsBadEncoding) {
  ExpectInvalidRequest(Form("grant_type=client%zzcredentials"));
  ExpectInvalidRequest(Form("grant_type=client_credentials&scope=a%00b"));
  ExpectInvalidRequest(Form("grant_type=client_credentials&scope=%FF"));
}

TEST(ParseTokenRequest, RejectsDuplicatesExceptResource) {
  ExpectInvalidRequest(Form("grant_type=client_credentials&grant_type=client_credentials"));
  ExpectInvalidRequest(Form("grant_type=client_credentials&scope=a&scope=b"));
  ExpectInvalidRequest(Form("grant_type=client_credentials&foo=1&foo=2"));
  auto parsed = ParseTokenRequest(Form("grant_type=client_credentials&resource=a&resource=b"));
  ASSERT_TRUE(parsed.ok());
  auto resources = parsed->Values("resource");
  EXPECT_EQ(std::vector<std::string>(resources.begin(), resources.end()),
            (std::vector<std::string>{"a", "b"}));
}

TEST(ParseTokenRequest, EmptyValuesAreAbsentExceptClientSecret) {
  auto parsed = ParseTokenRequest(Form("grant_type=&scope=&client_id=&client_secret=&resource="));
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->grant_type);
  EXPECT_EQ(parsed->Param("scope"), nullptr);
  EXPECT_FALSE(parsed->client_id);
  EXPECT_TRUE(parsed->Values("resource").empty());
  ASSERT_TRUE(parsed->client_secret);
  EXPECT_EQ(*parsed->client_secret, "");
}

TEST(ParseTokenRequest, DecodesValuesAndIgnoresUnknownParameters) {
  auto parsed = ParseTokenRequest(
      Form("grant_type=client_credentials&scope=read+write%3Aall&unknown=1&client_id=a%2Bb"));
  ASSERT_TRUE(parsed.ok());
  ASSERT_NE(parsed->Param("scope"), nullptr);
  EXPECT_EQ(*parsed->Param("scope"), "read write:all");
  EXPECT_EQ(parsed->Param("unknown"), nullptr);
  EXPECT_EQ(parsed->params.size(), 1u);
  EXPECT_EQ(parsed->client_id, "a+b");
}

TEST(ParseTokenRequest, ScopeLimitIs4KiB) {
  std::string ok = "grant_type=client_credentials&scope=" + std::string(4096, 'a');
  EXPECT_TRUE(ParseTokenRequest(Form(ok)).ok());
  ExpectInvalidRequest(Form(ok + "a"));
}

TEST(WriteOAuthError, BodyHeadersAndNoDebugText) {
  oauth::OAuthError e = oauth::ClientAuthError(oauth::OAuthErrorCode::kInvalidClient,
                                               "Invalid client credentials", "secret=hunter2");
  e.basic_challenge = true;
  Response r = WriteOAuthError(e, "corr-9", "https://auth.test/env/as");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(
      r.body,
      R"json({"error":"invalid_client","error_description":"Request denied: Invalid client credentials (Correlation ID: corr-9)"})json");
  EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
  auto has = [&](const std::string& name, const std::string& value) {
    for (const auto& [n, v] : r.headers) {
      if (n == name && v == value) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("Cache-Control", "no-store"));
  EXPECT_TRUE(has("Pragma", "no-cache"));
  EXPECT_TRUE(has("WWW-Authenticate", "Basic realm=\"https://auth.test/env/as\""));
}

TEST(WriteOAuthError, NoChallengeWithoutBasicAndRetryAfterOn429) {
  oauth::OAuthError e = oauth::ClientAuthError(oauth::OAuthErrorCode::kInvalidClient, "x");
  e.retry_after_seconds = 7;
  Response r = WriteOAuthError(e, "c", "iss");
  EXPECT_EQ(r.status, 429);
  bool retry = false;
  for (const auto& [n, v] : r.headers) {
    EXPECT_NE(n, "WWW-Authenticate");
    if (n == "Retry-After") retry = v == "7";
  }
  EXPECT_TRUE(retry);
}

}  // namespace
}  // namespace tollgate::http::handlers
