// Custom claims of resource attributes (docs/token-customization.md) through TokenEndpoint:
// which tokens carry them, expressions over the request and the client's assertion, a failing
// claim left out and counted, names shared by two resources, and the 16 KiB bound.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/base64.h"
#include "crypto/keys.h"
#include "jwt/jws.h"
#include "oauth/test_support.h"
#include "oauth/token_endpoint.h"
#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

using model::AuthMethod;
using testutil::EnvBuilder;
namespace json = boost::json;

constexpr char kSecret[] = "a-client-secret-of-at-least-32-bytes!!";
constexpr char kJwtBearer[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

class CustomClaimsTest : public ::testing::Test {
 protected:
  CustomClaimsTest()
      : clock_(FromUnixMillis(1'800'000'000'000)),
        throttle_(clock_),
        endpoint_(ClientAuthServices{clock_, throttle_, &used_}, testutil::kApiUrl) {}

  void Build(EnvBuilder& b) { env_ = b.Build(); }

  static TokenRequest Basic(const std::string& client) {
    TokenRequest req;
    req.grant_type = "client_credentials";
    req.authorization = "Basic " + Base64Encode(client + ":s3cret");
    return req;
  }

  // A CLIENT_SECRET_JWT request of `client` whose assertion has `extra` claims and header `kid`.
  TokenRequest ByAssertion(const std::string& client, const std::string& extra) {
    const std::string header = R"({"alg":"HS256","kid":"k-7"})";
    const std::string claims = "{\"iss\":\"" + client + "\",\"sub\":\"" + client + "\",\"aud\":\"" +
                               env_->token_endpoint + "\",\"jti\":\"j" + std::to_string(++jti_) +
                               "\",\"exp\":" + std::to_string(clock_.NowSeconds() + 300) + extra +
                               "}";
    const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
    TokenRequest req;
    req.grant_type = "client_credentials";
    req.client_assertion_type = kJwtBearer;
    req.client_assertion = input + "." + Base64UrlEncode(crypto::Hmac(256, kSecret, input));
    return req;
  }

  // The token's claims; fails the test when no token is issued.
  json::object Claims(const TokenRequest& req, int* left_out = nullptr) {
    auto r = Settled(endpoint_.Handle(req, *env_));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().debug);
    if (!r.ok()) return {};
    if (left_out != nullptr) *left_out = r->claims_left_out;
    return json::parse(jwt::SplitCompact(r->access_token, 64 * 1024)->payload_json).as_object();
  }

  FakeClock clock_;
  FailureThrottle throttle_;
  testutil::MemoryJtiStore jtis_;
  config::JtiCache used_{jtis_, model::JtiKind::kUsedAssertion, clock_, 1000};
  TokenEndpoint endpoint_;
  std::shared_ptr<const config::EnvironmentSnapshot> env_;
  int jti_ = 0;
};

TEST_F(CustomClaimsTest, StaticAndExpressionClaimsOnlyInTheResourcesTokens) {
  EnvBuilder b;
  b.Resource("orders", "https://orders", 600, {"read"})
      .Resource("plain", "https://plain", 600, {"p"})
      .Attribute("orders", "tenant", "acme")
      .Attribute("orders", "who", "${'client-' + #root.context.appConfig.clientId}")
      .Attribute("orders", "how", "${#root.context.appConfig.tokenEndpointAuthMethod}")
      .Attribute("orders", "grant", "${#root.context.requestData.grantType}")
      .Attribute("orders", "asked", "${#root.context.requestData.scope ?: 'nothing'}")
      .App("svc")
      .Grant("svc", "orders", {"read"})
      .Grant("svc", "plain", {"p"});
  Build(b);

  TokenRequest req = Basic("svc");
  req.Add("scope", "read");
  json::object c = Claims(req);
  EXPECT_EQ(c.at("tenant"), "acme");
  EXPECT_EQ(c.at("who"), "client-svc");
  EXPECT_EQ(c.at("how"), "CLIENT_SECRET_BASIC");
  EXPECT_EQ(c.at("grant"), "client_credentials");
  EXPECT_EQ(c.at("asked"), "read");
  EXPECT_EQ(c.at("sub"), "svc") << "standard claims are untouched";
  EXPECT_EQ(c.size(), 15u);

  TokenRequest plain = Basic("svc");
  plain.Add("scope", "p");
  json::object p = Claims(plain);
  EXPECT_FALSE(p.contains("tenant")) << "another resource's token has none of them";
  EXPECT_EQ(p.size(), 10u);
}

TEST_F(CustomClaimsTest, ClaimsFromTheClientAssertionAndItsHeader) {
  EnvBuilder b;
  b.Resource("orders", "https://orders", 600, {"read"})
      .Attribute("orders", "tenant", "${#root.context.requestData.clientAssertion.tenant}")
      .Attribute("orders", "region",
                 "${#root.context.requestData.clientAssertion.ext['region'] ?: 'eu'}")
      .Attribute("orders", "first_role", "${#root.context.requestData.clientAssertion.roles[0]}")
      .Attribute("orders", "kid", "${#root.context.requestData.clientAssertionHeader.kid}")
      .Attribute("orders", "ext", "${#root.context.requestData.clientAssertion.ext}")
      .App("hs", model::AppType::kService, AuthMethod::kClientSecretJwt, kSecret)
      .Grant("hs", "orders", {"read"});
  Build(b);

  json::object c = Claims(ByAssertion(
      "hs", R"(,"tenant":"t-1","roles":["admin","ops"],"ext":{"region":"us","n":1.5})"));
  EXPECT_EQ(c.at("tenant"), "t-1");
  EXPECT_EQ(c.at("region"), "us");
  EXPECT_EQ(c.at("first_role"), "admin");
  EXPECT_EQ(c.at("kid"), "k-7");
  EXPECT_EQ(c.at("ext"), json::parse(R"({"region":"us","n":1.5})"));

  int left_out = -1;
  json::object bare = Claims(ByAssertion("hs", ""), &left_out);
  EXPECT_FALSE(bare.contains("tenant")) << "a missing claim is null: left out";
  EXPECT_FALSE(bare.contains("first_role"));
  EXPECT_FALSE(bare.contains("ext"));
  EXPECT_EQ(bare.at("region"), "eu") << "Elvis gives the default";
  EXPECT_EQ(left_out, 3);
}

TEST_F(CustomClaimsTest, FailingClaimIsLeftOutAndCountedAndTheTokenIssued) {
  EnvBuilder b;
  b.Resource("orders", "https://orders", 600, {"read"})
      .Attribute("orders", "bad", "${#root.context.requestData.scope + '!'}")
      .Attribute("orders", "good", "yes")
      .App("svc")
      .Grant("svc", "orders", {"read"});
  Build(b);
  int left_out = -1;
  json::object c = Claims(Basic("svc"), &left_out);  // no scope parameter: null + '!' fails
  EXPECT_FALSE(c.contains("bad"));
  EXPECT_EQ(c.at("good"), "yes");
  EXPECT_EQ(left_out, 1);
  EXPECT_EQ(endpoint_.metrics().claims_left_out(), 1u);
  EXPECT_EQ(endpoint_.metrics().issued(), 1u);
}

TEST_F(CustomClaimsTest, SeveralResourcesInOneTokenCarryEachNameOnce) {
  EnvBuilder b;
  b.Resource("a", "https://a", 600, {"ra"})
      .Resource("b", "https://b", 600, {"rb"})
      .Attribute("a", "tier", "gold")
      .Attribute("a", "only_a", "1")
      .Attribute("b", "tier", "gold")
      .Attribute("b", "only_b", "2")
      .App("svc")
      .Grant("svc", "a", {"ra"})
      .Grant("svc", "b", {"rb"});
  b.LastApp().request_scopes_for_multiple_resources_enabled = true;
  Build(b);
  TokenRequest req = Basic("svc");
  req.Add("scope", "ra rb");
  auto r = Settled(endpoint_.Handle(req, *env_));
  ASSERT_TRUE(r.ok()) << r.error().debug;
  const std::string payload = jwt::SplitCompact(r->access_token)->payload_json;
  EXPECT_EQ(payload.find("\"tier\""), payload.rfind("\"tier\"")) << payload;
  json::object c = json::parse(payload).as_object();
  EXPECT_EQ(c.at("tier"), "gold");
  EXPECT_EQ(c.at("only_a"), "1");
  EXPECT_EQ(c.at("only_b"), "2");
}

TEST_F(CustomClaimsTest, CustomClaimsStopAt16KiB) {
  EnvBuilder b;
  b.Resource("big", "https://big", 600, {"read"});
  const std::string value(4000, 'x');
  for (int i = 0; i < 5; ++i) b.Attribute("big", "c" + std::to_string(i), value);
  b.App("svc").Grant("svc", "big", {"read"});
  Build(b);
  auto r = Settled(endpoint_.Handle(Basic("svc"), *env_));
  ASSERT_TRUE(r.ok()) << r.error().debug;
  EXPECT_EQ(r->claims_left_out, 1) << "four of 4,009 bytes fit in 16,384; the fifth does not";
  // Decoded by hand: SplitCompact's default bound is 16 KiB, below such a token.
  const std::string& t = r->access_token;
  const size_t dot = t.find('.');
  auto payload = Base64UrlDecode(t.substr(dot + 1, t.find('.', dot + 1) - dot - 1));
  ASSERT_TRUE(payload);
  json::object c = json::parse(*payload).as_object();
  EXPECT_TRUE(c.contains("c3"));
  EXPECT_FALSE(c.contains("c4"));
  EXPECT_LT(t.size(), size_t{32} * 1024);
}

}  // namespace
}  // namespace tollgate::oauth
