// SPEC §2.2 rule 6 (RFC 7523 §3): CLIENT_SECRET_JWT and PRIVATE_KEY_JWT, through Present() and
// Authenticate(). Each rule has a case that fails when the rule is broken; every failure is 401
// invalid_client without a hint, except the method mismatch of rule 4.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <vector>

#include "common/base64.h"
#include "crypto/keys.h"
#include "jwt/jws.h"
#include "oauth/client_auth/client_auth.h"
#include "oauth/test_support.h"
#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

using model::AuthMethod;
using std::chrono::seconds;
using testutil::EnvBuilder;

constexpr char kJwtBearer[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr char kSecret[] = "Zq8~Lm3.Xv9-Rt5_Wp2Kd7Hs4Ng6Bj1Fc0Yu8Ae3Ti5Ol9Sm2Qr7Vw4Xz6Cb1Dn0";
constexpr char kJwksUrl[] = "https://keys.example/jwks.json";

class AssertionTest : public ::testing::Test {
 protected:
  AssertionTest()
      : clock_(FromUnixMillis(1'800'000'000'000)),
        rsa_(testutil::SharedKey(crypto::KeyKind::kRsa)),
        ec_(testutil::SharedKey(crypto::KeyKind::kEcP256)),
        ed_(testutil::SharedKey(crypto::KeyKind::kEd25519)),
        other_(testutil::SharedKey(crypto::KeyKind::kRsa, 1)),
        remote_(
            [this](const std::string& url) -> Result<std::string, std::string> {
              ++fetches_;
              if (url != kJwksUrl) return Fail(std::string("unexpected URL"));
              if (remote_body_.empty()) return Fail(std::string("connection refused"));
              return remote_body_;
            },
            [this](std::function<void()> job) {  // at once, unless the test queues the fetches
              if (queue_fetches_) {
                queued_.push_back(std::move(job));
              } else {
                job();
              }
            },
            clock_) {
    EnvBuilder b;
    b.App("hs-app", model::AppType::kService, AuthMethod::kClientSecretJwt, kSecret);
    b.App("rotating", model::AppType::kService, AuthMethod::kClientSecretJwt,
          "new-" + std::string(kSecret));
    b.LastSecret().previous = kSecret;
    b.LastSecret().previous_expires_at = clock_.Now() + seconds(60);
    b.App("pk-app", model::AppType::kService, AuthMethod::kPrivateKeyJwt);
    b.LastApp().jwks = testutil::JwkSetJson({rsa_.get(), ec_.get(), ed_.get()}, {"rsa", "ec", ""});
    b.App("other-pk", model::AppType::kService, AuthMethod::kPrivateKeyJwt);
    b.LastApp().jwks = testutil::JwkSetJson({other_.get()}, {"rsa"});
    b.App("url-app", model::AppType::kService, AuthMethod::kPrivateKeyJwt);
    b.LastApp().jwks_url = kJwksUrl;
    b.App("basic-app");
    b.App("off", model::AppType::kService, AuthMethod::kClientSecretJwt, kSecret);
    b.LastApp().enabled = false;
    env_ = b.Build();
    remote_body_ = testutil::JwkSetJson({rsa_.get()}, {"r1"});
  }

  int64_t Now() const { return ToUnixSeconds(clock_.Now()); }

  // The claims of a valid assertion of `client`, with `extra` members appended (or replacing,
  // when `claims` is given whole).
  std::string Claims(const std::string& client, const std::string& extra = "") {
    return "{\"iss\":\"" + client + "\",\"sub\":\"" + client + "\",\"aud\":\"" +
           env_->token_endpoint + "\",\"jti\":\"jti-" + std::to_string(++jti_) +
           "\",\"exp\":" + std::to_string(Now() + 300) + extra + "}";
  }

  std::string Hs(const std::string& claims, int bits = 256, const std::string& secret = kSecret) {
    const std::string header = "{\"alg\":\"HS" + std::to_string(bits) + "\"}";
    std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
    return input + "." + Base64UrlEncode(crypto::Hmac(bits, secret, input));
  }

  std::string Signed(const std::string& claims, const crypto::PrivateKey& key,
                     const std::string& kid) {
    std::string header = "{\"alg\":\"" + std::string(key.JwsAlg()) + "\"";
    if (!kid.empty()) header += ",\"kid\":\"" + kid + "\"";
    header += "}";
    auto token = jwt::SignCompact(header, claims, key);
    EXPECT_TRUE(token.ok());
    return *token;
  }

  Result<const config::AppEntry*, ErrorOrPending> RunOrWait(
      const std::string& assertion, std::optional<std::string> client_id = {}) {
    TokenRequest req;
    req.client_assertion_type = kJwtBearer;
    req.client_assertion = assertion;
    req.client_id = std::move(client_id);
    auto presented = Present(req);
    if (!presented) return Fail(presented.error());
    return Authenticate(*presented, *env_, services_);
  }

  Result<const config::AppEntry*, OAuthError> Run(const std::string& assertion,
                                                  std::optional<std::string> client_id = {}) {
    return Settled(RunOrWait(assertion, std::move(client_id)));
  }

  static void ExpectDenied(const Result<const config::AppEntry*, OAuthError>& r,
                           const std::string& why) {
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.error().WireCode(), "invalid_client") << why;
    EXPECT_EQ(r.error().HttpStatus(), 401) << why;
    EXPECT_EQ(r.error().description, "Invalid client credentials") << why;
    EXPECT_FALSE(r.error().basic_challenge) << why;
  }

  static void ExpectOk(const Result<const config::AppEntry*, OAuthError>& r,
                       const std::string& client) {
    ASSERT_TRUE(r.ok()) << client << ": " << r.error().debug;
    EXPECT_EQ((*r)->app.id.str(), client);
  }

  FakeClock clock_;
  std::shared_ptr<const crypto::PrivateKey> rsa_, ec_, ed_, other_;
  std::string remote_body_;
  std::atomic<int> fetches_{0};
  bool queue_fetches_ = false;
  std::vector<std::function<void()>> queued_;
  RemoteJwks remote_;
  testutil::MemoryJtiStore jtis_;
  config::JtiCache used_{jtis_, model::JtiKind::kUsedAssertion, clock_, 1000};
  FailureThrottle throttle_{clock_};
  ClientAuthServices services_{clock_, throttle_, &used_, &remote_};
  std::shared_ptr<const config::EnvironmentSnapshot> env_;
  int jti_ = 0;
};

TEST_F(AssertionTest, ClientSecretJwtWithEveryHmacAlgorithm) {
  for (int bits : {256, 384, 512}) ExpectOk(Run(Hs(Claims("hs-app"), bits)), "hs-app");
}

TEST_F(AssertionTest, ClientSecretJwtWithAWrongSecret) {
  ExpectDenied(Run(Hs(Claims("hs-app"), 256, "not-the-secret")), "wrong secret");
  ExpectDenied(Run(Hs(Claims("hs-app"), 256, "")), "empty key");
}

TEST_F(AssertionTest, ClientSecretJwtAcceptsThePreviousSecretUntilItExpires) {
  ExpectOk(Run(Hs(Claims("rotating"), 256, kSecret)), "rotating");
  ExpectOk(Run(Hs(Claims("rotating"), 256, "new-" + std::string(kSecret))), "rotating");
  clock_.Advance(seconds(61));
  ExpectDenied(Run(Hs(Claims("rotating"), 256, kSecret)), "previous secret expired");
}

TEST_F(AssertionTest, PrivateKeyJwtWithEveryKeyType) {
  ExpectOk(Run(Signed(Claims("pk-app"), *rsa_, "rsa")), "pk-app");
  ExpectOk(Run(Signed(Claims("pk-app"), *ec_, "ec")), "pk-app");
  ExpectOk(Run(Signed(Claims("pk-app"), *ed_, "")), "pk-app");
  ExpectOk(Run(Signed(Claims("pk-app"), *rsa_, "")), "pk-app");  // no kid: every key is tried
}

TEST_F(AssertionTest, PrivateKeyJwtWithAnotherKey) {
  ExpectDenied(Run(Signed(Claims("pk-app"), *other_, "rsa")), "another client's key");
  ExpectDenied(Run(Signed(Claims("pk-app"), *other_, "")), "unregistered key");
  ExpectDenied(Run(Signed(Claims("pk-app"), *rsa_, "ec")), "kid of another key");
  ExpectDenied(Run(Signed(Claims("pk-app"), *rsa_, "nope")), "unknown kid");
}

// Rule 6: alg must match the key and never be none.
TEST_F(AssertionTest, AlgorithmMustSuitTheMethodAndTheKey) {
  const std::string claims = Claims("pk-app");
  const std::string input_none =
      Base64UrlEncode("{\"alg\":\"none\"}") + "." + Base64UrlEncode(claims) + ".";
  ExpectDenied(Run(input_none), "alg none, empty signature");
  // HS256 keyed with the public modulus: the classic RS256/HS256 confusion.
  const std::string n = rsa_->Public().n;
  ExpectDenied(Run(Hs(claims, 256, n)), "HS256 for a PRIVATE_KEY_JWT client");
  ExpectDenied(Run(Signed(Claims("hs-app"), *rsa_, "")), "RS256 for a CLIENT_SECRET_JWT client");
  // An RS256 signature relabelled PS256 / RS384 does not verify.
  std::string rs = Signed(Claims("pk-app"), *rsa_, "rsa");
  const std::string payload = rs.substr(rs.find('.') + 1);
  for (const char* alg : {"PS256", "RS384", "ES256", "HS256", "PS384"}) {
    ExpectDenied(Run(Base64UrlEncode(std::string("{\"alg\":\"") + alg + "\",\"kid\":\"rsa\"}") +
                     "." + payload),
                 alg);
  }
}

// Rule 3: the client is the assertion's sub, which must equal iss.
TEST_F(AssertionTest, SubjectNamesTheClient) {
  ExpectDenied(Run(Hs(Claims("nobody"))), "unknown client");
  ExpectDenied(Run(Hs(Claims("off"))), "disabled client");
  const std::string mixed = "{\"iss\":\"other-pk\",\"sub\":\"hs-app\",\"aud\":\"" +
                            env_->token_endpoint +
                            "\",\"jti\":\"x\",\"exp\":" + std::to_string(Now() + 60) + "}";
  ExpectDenied(Run(Hs(mixed)), "iss differs from sub");
  ExpectOk(Run(Hs(Claims("hs-app")), "hs-app"), "hs-app");
  ExpectDenied(Run(Hs(Claims("hs-app")), "pk-app"), "body client_id differs");
}

// Rule 4: the method is the application's, and says so.
TEST_F(AssertionTest, MethodMismatchIsNamed) {
  auto r = Run(Hs(Claims("basic-app"), 256, "s3cret"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "invalid_client");
  EXPECT_EQ(r.error().description, "Unsupported authentication method");
  TokenRequest basic;
  basic.authorization = "Basic " + Base64Encode(std::string("hs-app:") + kSecret);
  auto presented = Present(basic);
  ASSERT_TRUE(presented.ok());
  auto b = Settled(Authenticate(*presented, *env_, services_));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().description, "Unsupported authentication method");
}

// Rule 6: aud, exp, nbf (60 s of skew), jti.
TEST_F(AssertionTest, ClaimRules) {
  const std::string ep = env_->token_endpoint;
  auto claims = [&](const std::string& aud, int64_t exp, const std::string& extra = "") {
    return "{\"iss\":\"hs-app\",\"sub\":\"hs-app\",\"aud\":" + aud + ",\"jti\":\"j" +
           std::to_string(++jti_) + "\",\"exp\":" + std::to_string(exp) + extra + "}";
  };
  ExpectOk(Run(Hs(claims("\"" + env_->issuer + "\"", Now() + 60))), "hs-app");
  ExpectOk(Run(Hs(claims("[\"x\",\"" + ep + "\"]", Now() + 60))), "hs-app");
  ExpectDenied(Run(Hs(claims("\"https://elsewhere/as/token\"", Now() + 60))), "aud");
  ExpectDenied(Run(Hs(claims("\"" + ep + "\"", Now() - 61))), "expired");
  ExpectDenied(Run(Hs(claims("\"" + ep + "\"", Now() + 3661))), "exp too far ahead");
  ExpectDenied(
      Run(Hs(claims("\"" + ep + "\"", Now() + 60, ",\"nbf\":" + std::to_string(Now() + 61)))),
      "nbf in the future");
  ExpectDenied(Run(Hs("{\"iss\":\"hs-app\",\"sub\":\"hs-app\",\"aud\":\"" + ep +
                      "\",\"exp\":" + std::to_string(Now() + 60) + "}")),
               "no jti");
  ExpectDenied(
      Run(Hs("{\"iss\":\"hs-app\",\"sub\":\"hs-app\",\"aud\":\"" + ep + "\",\"jti\":\"j\"}")),
      "no exp");
}

// Rule 6: a jti is accepted once until exp; a forged assertion does not burn it.
TEST_F(AssertionTest, ReplayIsRefusedUntilExpiry) {
  const std::string claims = Claims("hs-app");
  ExpectDenied(Run(Hs(claims, 256, "forged")), "forged first");
  const std::string good = Hs(claims);
  ExpectOk(Run(good), "hs-app");
  ExpectDenied(Run(good), "replay");
  ExpectDenied(Run(Hs(claims, 512)), "same jti, other signature");
  EXPECT_EQ(used_.PendingCount(), 1u) << "queued for the store, not written on the token path";
}

TEST_F(AssertionTest, MalformedAssertionsAreInvalidClient) {
  for (const std::string& a :
       {std::string("a.b.c"), std::string("x"), std::string(9000, 'a'), std::string("..."),
        Hs(Claims("hs-app")) + "x!", Base64UrlEncode("{\"alg\":\"HS256\"}") + ".e30.",
        Base64UrlEncode("[]") + "." + Base64UrlEncode(Claims("hs-app")) + ".c2ln"}) {
    ExpectDenied(Run(a), a.substr(0, 40));
  }
  TokenRequest wrong_type;
  wrong_type.client_assertion_type = "urn:other";
  wrong_type.client_assertion = Hs(Claims("hs-app"));
  auto p = Present(wrong_type);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().WireCode(), "invalid_client");
}

TEST_F(AssertionTest, JwksUrlIsFetchedElsewhereWhileTheCallerWaitsAndThenCached) {
  queue_fetches_ = true;
  const std::string a = Signed(Claims("url-app"), *rsa_, "r1");
  auto first = RunOrWait(a);
  ASSERT_FALSE(first.ok());
  auto* pending = std::get_if<Pending>(&first.error());
  ASSERT_NE(pending, nullptr) << "no answer yet, and no error";
  EXPECT_EQ(fetches_.load(), 0) << "never on the caller's thread";
  bool woken = false;
  pending->Then([&woken] { woken = true; });
  ASSERT_EQ(queued_.size(), 1u);
  queued_.front()();
  EXPECT_TRUE(woken);
  EXPECT_EQ(fetches_.load(), 1);
  ExpectOk(Run(a), "url-app");
  ExpectOk(Run(Signed(Claims("url-app"), *rsa_, "r1")), "url-app");
  EXPECT_EQ(fetches_.load(), 1) << "cached";
  EXPECT_EQ(used_.PendingCount(), 2u) << "the waiting assertion's jti was not used up";
}

TEST_F(AssertionTest, JwksUrlFailuresAreInvalidClient) {
  remote_body_.clear();  // the server refuses connections
  ExpectDenied(Run(Signed(Claims("url-app"), *rsa_, "r1")), "fetch failed");
  remote_body_ = "{\"keys\":\"garbage\"}";
  clock_.Advance(seconds(11));
  ExpectDenied(Run(Signed(Claims("url-app"), *rsa_, "r1")), "not a JWK Set");
  EXPECT_EQ(fetches_.load(), 2);
}

TEST_F(AssertionTest, WithoutAReplayCacheAssertionsAreRefused) {
  ClientAuthServices none{clock_, throttle_, nullptr, &remote_};
  TokenRequest req;
  req.client_assertion_type = kJwtBearer;
  req.client_assertion = Hs(Claims("hs-app"));
  auto presented = Present(req);
  ASSERT_TRUE(presented.ok());
  ExpectDenied(Settled(Authenticate(*presented, *env_, none)), "no cache");
}

}  // namespace
}  // namespace tollgate::oauth
