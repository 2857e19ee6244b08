// SPEC §2.2 rules 1 to 7: one test per rule, and per assertion rule a case that fails when
// the rule is broken.
#include "oauth/client_auth/client_auth.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "oauth/test_support.h"
#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

using model::AuthMethod;
using testutil::EnvBuilder;

std::string Basic(const std::string& raw) { return "Basic " + Base64Encode(raw); }

class ClientAuthTest : public ::testing::Test {
 protected:
  ClientAuthTest() : clock_(FromUnixMillis(1'800'000'000'000)) {
    EnvBuilder b;
    b.App("basic-app", model::AppType::kService, AuthMethod::kClientSecretBasic, "s3cret")
        .App("post-app", model::AppType::kService, AuthMethod::kClientSecretPost, "p0st")
        .App("plus-app", model::AppType::kService, AuthMethod::kClientSecretBasic, "a+b:c%d")
        .App("rotating", model::AppType::kService, AuthMethod::kClientSecretBasic, "new-secret");
    b.LastSecret().previous = "old-secret";
    b.LastSecret().previous_expires_at = clock_.Now() + std::chrono::seconds(60);
    b.App("disabled").LastApp().enabled = false;
    b.App("jwt-app", model::AppType::kService, AuthMethod::kPrivateKeyJwt);
    env_ = b.Build();
  }

  Result<const config::AppEntry*, OAuthError> Run(const TokenRequest& req) {
    auto presented = Present(req);
    if (!presented) return Fail(presented.error());
    return Settled(Authenticate(*presented, *env_, services_));
  }

  static void ExpectDenied(const Result<const config::AppEntry*, OAuthError>& r,
                           const std::string& description, bool challenge) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().WireCode(), "invalid_client");
    EXPECT_EQ(r.error().HttpStatus(), 401);
    EXPECT_EQ(r.error().stage, ErrorStage::kClientAuthentication);
    EXPECT_EQ(r.error().description, description);
    EXPECT_EQ(r.error().basic_challenge, challenge);
  }

  FakeClock clock_;
  testutil::MemoryJtiStore jtis_;
  config::JtiCache used_{jtis_, model::JtiKind::kUsedAssertion, clock_, 1000};
  FailureThrottle throttle_{clock_};
  ClientAuthServices services_{clock_, throttle_, &used_};
  std::shared_ptr<const config::EnvironmentSnapshot> env_;
};

TEST_F(ClientAuthTest, BasicSucceeds) {
  TokenRequest req;
  req.authorization = Basic("basic-app:s3cret");
  auto r = Run(req);
  ASSERT_TRUE(r.ok()) << r.error().debug;
  EXPECT_EQ((*r)->app.id.str(), "basic-app");
}

TEST_F(ClientAuthTest, BasicSchemeIsCaseInsensitive) {
  TokenRequest req;
  req.authorization = "bAsIc " + Base64Encode("basic-app:s3cret");
  EXPECT_TRUE(Run(req).ok());
}

TEST_F(ClientAuthTest, BasicHalvesAreFormDecoded) {
  // RFC 6749 §2.3.1: the secret "a+b:c%d" travels as "a%2Bb%3Ac%25d".
  TokenRequest req;
  req.authorization = Basic("plus-app:a%2Bb%3Ac%25d");
  EXPECT_TRUE(Run(req).ok());
  req.authorization = Basic("plus-app:a+b:c%d");  // not encoded: '+' means space, "%d" malformed
  ExpectDenied(Run(req), "Invalid client credentials", true);
}

TEST_F(ClientAuthTest, PostSucceeds) {
  TokenRequest req;
  req.client_id = "post-app";
  req.client_secret = "p0st";
  EXPECT_TRUE(Run(req).ok());
}

TEST_F(ClientAuthTest, Rule1TwoMechanismsIsInvalidRequest) {
  TokenRequest req;
  req.authorization = Basic("basic-app:s3cret");
  req.client_secret = "s3cret";
  auto r = Run(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "invalid_request");
  EXPECT_EQ(r.error().HttpStatus(), 400);
  EXPECT_EQ(r.error().stage, ErrorStage::kClientAuthentication);

  TokenRequest req2;
  req2.client_id = "post-app";
  req2.client_secret = "p0st";
  req2.client_assertion = "x.y.z";
  EXPECT_EQ(Run(req2).error().WireCode(), "invalid_request");
}

TEST_F(ClientAuthTest, Rule1BodyClientIdMustMatchBasic) {
  TokenRequest req;
  req.authorization = Basic("basic-app:s3cret");
  req.client_id = "basic-app";
  EXPECT_TRUE(Run(req).ok());
  req.client_id = "post-app";
  auto r = Run(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "invalid_request");
}

TEST_F(ClientAuthTest, Rule2NothingPresented) {
  ExpectDenied(Run(TokenRequest{}), "Invalid client credentials", false);
}

TEST_F(ClientAuthTest, Rule3UnknownAndDisabledLookTheSameAsAWrongSecret) {
  TokenRequest req;
  req.authorization = Basic("nobody:s3cret");
  ExpectDenied(Run(req), "Invalid client credentials", true);
  req.authorization = Basic("disabled:s3cret");
  ExpectDenied(Run(req), "Invalid client credentials", true);
  req.authorization = Basic("basic-app:wrong");
  ExpectDenied(Run(req), "Invalid client credentials", true);
}

TEST_F(ClientAuthTest, Rule4MethodMismatchIsCheckedBeforeTheSecret) {
  TokenRequest req;
  req.client_id = "basic-app";
  req.client_secret = "wrong";
  ExpectDenied(Run(req), "Unsupported authentication method", false);
  TokenRequest basic;
  basic.authorization = Basic("post-app:wrong");
  ExpectDenied(Run(basic), "Unsupported authentication method", true);
  TokenRequest bare;
  bare.client_id = "basic-app";
  ExpectDenied(Run(bare), "Unsupported authentication method", false);
}

TEST_F(ClientAuthTest, Rule5PreviousSecretUntilItExpires) {
  TokenRequest req;
  req.authorization = Basic("rotating:old-secret");
  EXPECT_TRUE(Run(req).ok());
  req.authorization = Basic("rotating:new-secret");
  EXPECT_TRUE(Run(req).ok());
  clock_.Advance(std::chrono::seconds(61));
  req.authorization = Basic("rotating:old-secret");
  ExpectDenied(Run(req), "Invalid client credentials", true);
  req.authorization = Basic("rotating:new-secret");
  EXPECT_TRUE(Run(req).ok());
}

TEST_F(ClientAuthTest, EmptyClientSecretCountsAsPresented) {
  TokenRequest req;
  req.client_id = "post-app";
  req.client_secret = "";
  ExpectDenied(Run(req), "Invalid client credentials", false);
}

TEST_F(ClientAuthTest, MalformedBasicHeadersAreInvalidClient) {
  for (const std::string& header :
       {std::string("Bearer abc"), std::string("Basic"), std::string("Basic !!!!"),
        Basic("no-colon"), Basic(":s3cret"), Basic("basic-app:%zz"),
        "Basic " + Base64Encode("basic-app:s3cret").substr(1)}) {
    TokenRequest req;
    req.authorization = header;
    ExpectDenied(Run(req), "Invalid client credentials", true);
  }
}

TEST(ClientSecret, PreviousRequiresUnexpiredRotation) {
  config::AppEntry app;
  app.secret = "current";
  EXPECT_TRUE(CheckClientSecret(app, "current", TimePoint{}));
  EXPECT_FALSE(CheckClientSecret(app, "", TimePoint{}));
  app.previous_secret = "old";
  app.previous_expires_at = FromUnixMillis(1000);
  EXPECT_TRUE(CheckClientSecret(app, "old", FromUnixMillis(999)));
  EXPECT_FALSE(CheckClientSecret(app, "old", FromUnixMillis(1000)));
  config::AppEntry no_secret;
  EXPECT_FALSE(CheckClientSecret(no_secret, "", TimePoint{}));
}

}  // namespace
}  // namespace tollgate::oauth
