// SPEC §2.3 (grant checks and their order) and §2.6 (the token) through TokenEndpoint.
#include "oauth/token_endpoint.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "common/base64.h"
#include "jwt/jws.h"
#include "oauth/test_support.h"
#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

using model::AuthMethod;
using testutil::EnvBuilder;
namespace json = boost::json;

std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : "<not a string>";
}

class TokenEndpointTest : public ::testing::Test {
 protected:
  TokenEndpointTest()
      : clock_(FromUnixMillis(1'800'000'000'000)),
        throttle_(clock_),
        endpoint_(ClientAuthServices{clock_, throttle_}, testutil::kApiUrl) {
    EnvBuilder b;
    b.Resource("one", "https://api.one", 600, {"read", "write"})
        .App("svc")
        .Grant("svc", "one", {"read", "write"})
        .App("x5t-app")
        .Grant("x5t-app", "one", {"read"});
    b.LastApp().include_x5t = true;
    b.App("public", model::AppType::kNativeApp, AuthMethod::kNone);
    b.App("no-cc").LastApp().grant_types = {model::GrantType::kAuthorizationCode};
    b.App("worker", model::AppType::kWorker).Role("worker");
    env_ = b.Build();
  }

  static TokenRequest Request(const std::string& client, const std::string& secret = "s3cret") {
    TokenRequest req;
    req.grant_type = "client_credentials";
    req.authorization = "Basic " + Base64Encode(client + ":" + secret);
    return req;
  }

  // No test here involves a jwksUrl: the endpoint never answers Pending.
  Result<TokenResponse, OAuthError> Handle(const TokenRequest& req,
                                           const config::EnvironmentSnapshot& env) {
    return Settled(endpoint_.Handle(req, env));
  }

  FakeClock clock_;
  FailureThrottle throttle_;
  TokenEndpoint endpoint_;
  std::shared_ptr<const config::EnvironmentSnapshot> env_;
};

TEST_F(TokenEndpointTest, GrantTypeIsCheckedBeforeClientAuthentication) {
  TokenRequest req = Request("svc", "wrong");
  req.grant_type.reset();
  auto r = Handle(req, *env_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "invalid_request");
  EXPECT_EQ(r.error().stage, ErrorStage::kValidation);

  req.grant_type = "password";
  r = Handle(req, *env_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "unsupported_grant_type");
  EXPECT_EQ(r.error().HttpStatus(), 400);

  req.grant_type = "authorization_code";  // a PingOne grant type Tollgate does not serve
  EXPECT_EQ(Handle(req, *env_).error().WireCode(), "unsupported_grant_type");
}

TEST_F(TokenEndpointTest, ApplicationWithoutClientCredentialsIsUnauthorizedClient) {
  auto r = Handle(Request("no-cc"), *env_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "unauthorized_client");
  EXPECT_EQ(r.error().HttpStatus(), 400);
}

TEST_F(TokenEndpointTest, PublicClientNeverGetsClientCredentials) {
  TokenRequest req;
  req.grant_type = "client_credentials";
  req.client_id = "public";
  auto r = Handle(req, *env_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "unauthorized_client");
}

TEST_F(TokenEndpointTest, IssuesRfc9068Token) {
  auto r = Handle(Request("svc"), *env_);
  ASSERT_TRUE(r.ok()) << r.error().debug;
  EXPECT_EQ(r->expires_in, 600);
  EXPECT_EQ(r->scope, "read write");

  auto parts = jwt::SplitCompact(r->access_token);
  ASSERT_TRUE(parts);
  json::object header = json::parse(parts->header_json).as_object();
  EXPECT_EQ(Str(header.at("alg")), "RS256");
  EXPECT_EQ(Str(header.at("typ")), "at+jwt");
  EXPECT_EQ(Str(header.at("kid")), env_->default_key->key.id.str());
  EXPECT_FALSE(header.contains("x5t"));

  json::object claims = json::parse(parts->payload_json).as_object();
  const int64_t now = clock_.NowSeconds();
  EXPECT_EQ(Str(claims.at("iss")), env_->issuer);
  EXPECT_EQ(Str(claims.at("iss")),
            std::string(testutil::kAuthUrl) + "/" + env_->environment.id.str() + "/as");
  EXPECT_EQ(Str(claims.at("sub")), "svc");
  EXPECT_EQ(Str(claims.at("client_id")), "svc");
  EXPECT_EQ(claims.at("aud"), json::value(json::array({"https://api.one"})));
  EXPECT_EQ(Str(claims.at("scope")), "read write");
  EXPECT_EQ(claims.at("iat").as_int64(), now);
  EXPECT_EQ(claims.at("exp").as_int64(), now + 600);
  EXPECT_EQ(claims.at("jti").as_string().size(), 36u);
  EXPECT_EQ(Str(claims.at("env")), env_->environment.id.str());
  EXPECT_EQ(Str(claims.at("org")), env_->organization_id.str());
  EXPECT_EQ(claims.size(), 10u) << "nothing else unless a resource defines custom claims";

  auto pub = crypto::PublicKey::FromJwk(env_->default_key->signer->Public());
  ASSERT_TRUE(pub);
  EXPECT_TRUE((*pub)->Verify("RS256", parts->signing_input, parts->signature));
}

TEST_F(TokenEndpointTest, EveryTokenHasItsOwnJti) {
  auto a = Handle(Request("svc"), *env_);
  auto b = Handle(Request("svc"), *env_);
  ASSERT_TRUE(a.ok() && b.ok());
  auto ca = json::parse(jwt::SplitCompact(a->access_token)->payload_json).as_object();
  auto cb = json::parse(jwt::SplitCompact(b->access_token)->payload_json).as_object();
  EXPECT_NE(Str(ca.at("jti")), Str(cb.at("jti")));
}

TEST_F(TokenEndpointTest, ManagementTokenHasNoScopeClaim) {
  auto r = Handle(Request("worker"), *env_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->expires_in, 3600);
  EXPECT_TRUE(r->scope.empty());
  auto claims = json::parse(jwt::SplitCompact(r->access_token)->payload_json).as_object();
  EXPECT_FALSE(claims.contains("scope"));
  EXPECT_EQ(claims.at("aud"), json::value(json::array({testutil::kApiUrl})));
}

TEST_F(TokenEndpointTest, ServerErrorWithoutDefaultKey) {
  EnvBuilder b;
  b.Resource("one", "https://api.one", 600, {"read"}).App("svc").Grant("svc", "one", {"read"});
  auto data = b.data();
  data.signing_keys.front().is_default = false;
  auto env = config::BuildEnvironmentSnapshot(data, {testutil::kAuthUrl, testutil::kApiUrl});
  ASSERT_TRUE(env);
  auto r = Handle(Request("svc"), **env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "server_error");
  EXPECT_EQ(r.error().HttpStatus(), 500);
}

// /metrics: tokens per client, and each answered error once by stage and code (a request that
// goes through Handle() and Resume() is not counted twice).
TEST_F(TokenEndpointTest, MetricsCountIssuedTokensPerClientAndErrorsByStage) {
  ASSERT_TRUE(Handle(Request("svc"), *env_).ok());
  ASSERT_TRUE(Handle(Request("svc"), *env_).ok());
  ASSERT_TRUE(Handle(Request("x5t-app"), *env_).ok());
  ASSERT_FALSE(Handle(Request("svc", "wrong"), *env_).ok());
  TokenRequest unknown = Request("svc");
  unknown.grant_type = "password";
  ASSERT_FALSE(Handle(unknown, *env_).ok());
  ASSERT_FALSE(Handle(Request("no-cc"), *env_).ok());

  const TokenMetrics& m = endpoint_.metrics();
  EXPECT_EQ(m.issued(), 3U);
  std::map<std::string, uint64_t> per_client;
  for (const auto& c : m.Clients()) {
    EXPECT_EQ(c.environment, env_->environment.id);
    per_client[c.client.str()] = c.tokens;
  }
  EXPECT_EQ(per_client, (std::map<std::string, uint64_t>{{"svc", 2}, {"x5t-app", 1}}));
  std::map<std::pair<ErrorStage, OAuthErrorCode>, uint64_t> errors;
  for (const auto& e : m.Errors()) errors[{e.stage, e.code}] = e.count;
  EXPECT_EQ(errors, (std::map<std::pair<ErrorStage, OAuthErrorCode>, uint64_t>{
                        {{ErrorStage::kClientAuthentication, OAuthErrorCode::kInvalidClient}, 1},
                        {{ErrorStage::kValidation, OAuthErrorCode::kUnsupportedGrantType}, 1},
                        {{ErrorStage::kValidation, OAuthErrorCode::kUnauthorizedClient}, 1}}));
  EXPECT_EQ(m.throttled(), 0U);
  EXPECT_EQ(m.overflow(), 0U);
}

}  // namespace
}  // namespace tollgate::oauth
