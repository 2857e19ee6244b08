// Client assertions: decoding and the claim rules of SPEC §2.2 rule 6 (RFC 7523 §3), one
// failing case per rule.
#include "jwt/assertion.h"

#include <gtest/gtest.h>

#include <string>

#include "common/base64.h"

namespace tollgate::jwt {
namespace {

using std::chrono::seconds;

constexpr int64_t kNow = 1'800'000'000;

// An unsigned compact JWS of the given JSON texts (the signature is not checked here).
std::string Token(const std::string& header, const std::string& payload,
                  const std::string& signature = "sig") {
  return Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + "." +
         Base64UrlEncode(signature);
}

std::string Claims(const std::string& extra = "", int64_t exp = kNow + 300) {
  return "{\"iss\":\"app\",\"sub\":\"app\",\"aud\":\"https://as/env/as/token\",\"jti\":\"j1\","
         "\"exp\":" +
         std::to_string(exp) + extra + "}";
}

AssertionRules Rules() {
  AssertionRules r;
  r.client_id = "app";
  r.audiences = {"https://as/env/as/token", "https://as/env/as"};
  r.now = TimePoint(seconds(kNow));
  return r;
}

Result<void, std::string> Check(const std::string& header, const std::string& claims) {
  auto a = DecodeAssertion(Token(header, claims));
  if (!a) return Fail(a.error());
  return CheckAssertionClaims(*a, Rules());
}

TEST(AssertionTest, DecodesAndAccepts) {
  auto a = DecodeAssertion(Token(R"({"alg":"RS256","kid":"k1","typ":"JWT"})",
                                 Claims(",\"nbf\":" + std::to_string(kNow - 10))));
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->alg, "RS256");
  EXPECT_EQ(a->kid, "k1");
  EXPECT_EQ(a->iss, "app");
  EXPECT_EQ(a->jti, "j1");
  EXPECT_EQ(a->exp, kNow + 300);
  EXPECT_EQ(a->parts.signature, "sig");
  EXPECT_TRUE(CheckAssertionClaims(*a, Rules()).ok());
  EXPECT_EQ(RememberUntil(*a, Rules()), TimePoint(seconds(kNow + 300 + 60)));
}

TEST(AssertionTest, AudienceMayBeAnArrayAndNameTheIssuer) {
  EXPECT_TRUE(Check(R"({"alg":"HS256"})",
                    R"({"iss":"app","sub":"app","aud":["x","https://as/env/as"],"jti":"j",)"
                    R"("exp":)" +
                        std::to_string(kNow + 10) + "}")
                  .ok());
  // A fractional NumericDate is allowed (RFC 7519 §2).
  EXPECT_TRUE(Check(R"({"alg":"HS256"})", Claims("", kNow + 10) + "").ok());
  EXPECT_TRUE(
      Check(R"({"alg":"HS256"})",
            R"({"iss":"app","sub":"app","aud":"https://as/env/as","jti":"j","exp":1800000010.5})")
          .ok());
}

// NumericDates are bounded so that every decoded date is a TimePoint: found by
// tests/fuzz/assertion_fuzz.cc, where exp = 180000000000 overflowed RememberUntil.
TEST(AssertionTest, DatesBeyondTheYear2242AreNotNumericDates) {
  constexpr int64_t kLast = int64_t{1} << 33;
  auto last = DecodeAssertion(Token(R"({"alg":"HS256"})", Claims("", kLast)));
  ASSERT_TRUE(last.ok()) << last.error();
  EXPECT_EQ(RememberUntil(*last, Rules()), TimePoint(seconds(kLast + 60)));
  for (int64_t exp : {kLast + 1, int64_t{180'000'000'000}, -kLast - 1}) {
    auto a = DecodeAssertion(Token(R"({"alg":"HS256"})", Claims("", exp)));
    ASSERT_FALSE(a.ok()) << exp;
    EXPECT_NE(a.error().find("exp is not a NumericDate"), std::string::npos) << a.error();
  }
  EXPECT_FALSE(DecodeAssertion(Token(R"({"alg":"HS256"})", Claims(",\"nbf\":1.8e11"))).ok());
}

TEST(AssertionTest, MalformedTokensAreRefused) {
  const std::string good = Token(R"({"alg":"RS256"})", Claims());
  for (const std::string& t :
       {std::string(""), std::string("a.b"), std::string("a.b.c.d"), good + "=", "!" + good,
        std::string(9000, 'a') + ".b.c", Token("[]", Claims()), Token(R"({"alg":"RS256"})", "[1]"),
        Token("not json", Claims()), Token(R"({"alg":"RS256"})", "{")}) {
    EXPECT_FALSE(DecodeAssertion(t).ok()) << t;
  }
  EXPECT_TRUE(DecodeAssertion(good).ok());
}

// Rule 6: alg must never be none; crit is not understood.
TEST(AssertionTest, HeaderRules) {
  EXPECT_FALSE(Check(R"({"alg":"none"})", Claims()).ok());
  EXPECT_FALSE(Check(R"({"alg":""})", Claims()).ok());
  EXPECT_FALSE(Check(R"({})", Claims()).ok());
  EXPECT_FALSE(Check(R"({"alg":5})", Claims()).ok());
  EXPECT_FALSE(Check(R"({"alg":"RS256","crit":["b64"],"b64":false})", Claims()).ok());
  EXPECT_FALSE(Check(R"({"alg":"RS256","kid":1})", Claims()).ok());
}

// Rule 6 (RFC 7523 §3 items 1, 2): iss = sub = client_id.
TEST(AssertionTest, IssuerAndSubjectMustBeTheClient) {
  auto with = [](const std::string& iss, const std::string& sub) {
    return R"({"iss":")" + iss + R"(","sub":")" + sub +
           R"(","aud":"https://as/env/as/token","jti":"j","exp":)" + std::to_string(kNow + 60) +
           "}";
  };
  EXPECT_TRUE(Check(R"({"alg":"HS256"})", with("app", "app")).ok());
  EXPECT_FALSE(Check(R"({"alg":"HS256"})", with("other", "app")).ok());
  EXPECT_FALSE(Check(R"({"alg":"HS256"})", with("app", "other")).ok());
  EXPECT_FALSE(Check(R"({"alg":"HS256"})", with("", "")).ok());
  EXPECT_FALSE(Check(R"({"alg":"HS256"})",
                     R"({"sub":"app","aud":"https://as/env/as","jti":"j","exp":1800000060})")
                   .ok());
  EXPECT_FALSE(Check(R"({"alg":"HS256"})",
                     R"({"iss":["app"],"sub":"app","aud":"https://as/env/as","jti":"j",)"
                     R"("exp":1800000060})")
                   .ok());
}

// Rule 6 (item 3): aud names the token endpoint or the issuer.
TEST(AssertionTest, AudienceMustNameThisServer) {
  auto with = [](const std::string& aud) {
    return R"({"iss":"app","sub":"app","aud":)" + aud + R"(,"jti":"j","exp":1800000060})";
  };
  EXPECT_FALSE(Check(R"({"alg":"HS256"})", with(R"("https://other/as/token")")).ok());
  EXPECT_FALSE(Check(R"({"alg":"HS256"})", with(R"("https://as/env/as/token/")")).ok());
  EXPECT_FALSE(Check(R"({"alg":"HS256"})", with("[]")).ok());
  EXPECT_FALSE(Check(R"({"alg":"HS256"})", with("[1]")).ok());
  EXPECT_FALSE(Check(R"({"alg":"HS256"})", with("null")).ok());
  EXPECT_FALSE(
      Check(R"({"alg":"HS256"})", R"({"iss":"app","sub":"app","jti":"j","exp":1800000060})").ok());
}

// Rule 6 (item 4): exp present, not passed, at most an hour ahead; 60 s of skew.
TEST(AssertionTest, ExpiryWithSkew) {
  const std::string h = R"({"alg":"HS256"})";
  EXPECT_TRUE(Check(h, Claims("", kNow - 59)).ok()) << "within the skew";
  EXPECT_FALSE(Check(h, Claims("", kNow - 60)).ok()) << "passed";
  EXPECT_TRUE(Check(h, Claims("", kNow + 3600 + 60)).ok());
  EXPECT_FALSE(Check(h, Claims("", kNow + 3600 + 61)).ok()) << "too far ahead";
  EXPECT_FALSE(Check(h, R"({"iss":"app","sub":"app","aud":"https://as/env/as","jti":"j"})").ok());
  EXPECT_FALSE(Check(h, R"({"iss":"app","sub":"app","aud":"https://as/env/as","jti":"j",)"
                        R"("exp":"1800000060"})")
                   .ok());
  EXPECT_FALSE(Check(h, R"({"iss":"app","sub":"app","aud":"https://as/env/as","jti":"j",)"
                        R"("exp":1e300})")
                   .ok());
}

// Rule 6 (items 5, 6): nbf, if present, not in the future (60 s skew).
TEST(AssertionTest, NotBefore) {
  const std::string h = R"({"alg":"HS256"})";
  EXPECT_TRUE(Check(h, Claims(",\"nbf\":" + std::to_string(kNow + 60))).ok());
  EXPECT_FALSE(Check(h, Claims(",\"nbf\":" + std::to_string(kNow + 61))).ok());
  EXPECT_FALSE(Check(h, Claims(",\"nbf\":\"soon\"")).ok());
}

// Rule 6 (item 7): jti is required (replay protection is the caller's).
TEST(AssertionTest, JtiIsRequiredAndBounded) {
  const std::string h = R"({"alg":"HS256"})";
  EXPECT_FALSE(
      Check(h, R"({"iss":"app","sub":"app","aud":"https://as/env/as","exp":1800000060})").ok());
  EXPECT_FALSE(
      Check(h, R"({"iss":"app","sub":"app","aud":"https://as/env/as","jti":"","exp":1800000060})")
          .ok());
  EXPECT_FALSE(Check(h, R"({"iss":"app","sub":"app","aud":"https://as/env/as","jti":")" +
                            std::string(kMaxJtiSize + 1, 'j') + R"(","exp":1800000060})")
                   .ok());
  EXPECT_TRUE(Check(h, R"({"iss":"app","sub":"app","aud":"https://as/env/as","jti":")" +
                           std::string(kMaxJtiSize, 'j') + R"(","exp":1800000060})")
                  .ok());
}

}  // namespace
}  // namespace tollgate::jwt
