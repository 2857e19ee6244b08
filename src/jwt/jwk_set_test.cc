// JWK Set parsing (RFC 7517 §5) for PRIVATE_KEY_JWT clients.
#include "jwt/jwk_set.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/test_vectors.h"
#include "jwt/jws.h"

namespace tollgate::jwt {
namespace {

namespace tv = crypto::testing;

std::string RsaJwk(std::string_view kid, std::string_view extra = "") {
  return "{\"kty\":\"RSA\",\"kid\":\"" + std::string(kid) + "\",\"n\":\"" +
         std::string(tv::kRfc7515RsaKey.n) + "\",\"e\":\"AQAB\"" + std::string(extra) + "}";
}
std::string EcJwk() {
  return "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ec\",\"x\":\"" +
         std::string(tv::kRfc7515EcX) + "\",\"y\":\"" + std::string(tv::kRfc7515EcY) + "\"}";
}
std::string OkpJwk() {
  return "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" + std::string(tv::kRfc8037X) + "\"}";
}
std::string Set(const std::string& keys) { return "{\"keys\":[" + keys + "]}"; }

TEST(JwkSetTest, ParsesEveryKeyTypeAndVerifiesTheRfcExamples) {
  auto set = ParseJwkSet(Set(RsaJwk("rsa") + "," + EcJwk() + "," + OkpJwk()), JwkSetMode::kStrict);
  ASSERT_TRUE(set.ok()) << set.error();
  ASSERT_EQ(set->keys.size(), 3u);
  EXPECT_TRUE(set->HasKid("rsa"));
  EXPECT_TRUE(set->HasKid("ec"));
  EXPECT_TRUE(set->HasKid(""));  // the OKP key has no kid
  EXPECT_FALSE(set->HasKid("other"));
  // The parsed keys verify the RFC examples (RFC 7515 A.2, A.3; RFC 8037 A.4).
  auto sig = [](std::string_view b64) { return tv::B64u(b64); };
  EXPECT_TRUE(set->keys[0].key->Verify("RS256", tv::kRfc7515Rs256SigningInput,
                                       sig(tv::kRfc7515Rs256Signature)));
  EXPECT_TRUE(set->keys[1].key->Verify("ES256", tv::kRfc7515Es256SigningInput,
                                       sig(tv::kRfc7515Es256Signature)));
  EXPECT_TRUE(
      set->keys[2].key->Verify("EdDSA", tv::kRfc8037SigningInput, sig(tv::kRfc8037Signature)));
  // A key never verifies under another key type's algorithm.
  EXPECT_FALSE(set->keys[1].key->Verify("RS256", tv::kRfc7515Rs256SigningInput,
                                        sig(tv::kRfc7515Rs256Signature)));
}

// RFC 9864: an Ed25519 JWK whose alg is the deprecated "EdDSA", the fully-specified "Ed25519"
// or absent is accepted, and verifies a signature under either name; "Ed448" keys are refused.
TEST(JwkSetTest, Ed25519KeysTakeEitherAlgName) {
  const std::string sig = tv::B64u(tv::kRfc8037Signature);
  for (std::string_view member : {"", ",\"alg\":\"EdDSA\"", ",\"alg\":\"Ed25519\""}) {
    const std::string jwk = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" +
                            std::string(tv::kRfc8037X) + "\"" + std::string(member) + "}";
    auto set = ParseJwkSet(Set(jwk), JwkSetMode::kStrict);
    ASSERT_TRUE(set.ok()) << jwk << ": " << set.error();
    for (std::string_view alg : {"EdDSA", "Ed25519"}) {
      EXPECT_TRUE(set->keys[0].key->Verify(alg, tv::kRfc8037SigningInput, sig)) << jwk << alg;
    }
  }
  for (const std::string& jwk :
       {"{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" + std::string(tv::kRfc8037X) + "\"}",
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"Ed448\",\"x\":\"" +
            std::string(tv::kRfc8037X) + "\"}"}) {
    EXPECT_FALSE(ParseJwkSet(Set(jwk), JwkSetMode::kStrict).ok()) << jwk;
  }
}

TEST(JwkSetTest, RefusesWhatIsNotAJwkSet) {
  for (const std::string& text :
       {std::string(""), std::string("[]"), std::string("{\"keys\":{}}"), std::string("{}"),
        std::string("{\"keys\":[]}"), std::string("{\"keys\":[1]}"), std::string("not json"),
        std::string("{\"keys\":[") + std::string(100, '[') + "]}"}) {
    EXPECT_FALSE(ParseJwkSet(text, JwkSetMode::kStrict).ok()) << text;
    EXPECT_FALSE(ParseJwkSet(text, JwkSetMode::kLenient).ok()) << text;
  }
}

TEST(JwkSetTest, StrictRefusesEveryUnusableKeyLenientSkipsIt) {
  const std::string good = RsaJwk("good");
  const std::string bad[] = {
      RsaJwk("priv", ",\"d\":\"AQAB\""),                  // private material
      "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",             // symmetric
      "{\"kty\":\"XYZ\"}",                                // unknown type
      "{\"n\":\"AQAB\",\"e\":\"AQAB\"}",                  // no kty
      RsaJwk("enc", ",\"use\":\"enc\""),                  // encryption key
      "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",  // 8-bit modulus
      RsaJwk("alg", ",\"alg\":\"ES256\""),                // alg unsuited to the key
      "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + std::string(tv::kRfc7515EcX) + "\",\"y\":\"" +
          std::string(tv::kRfc7515EcX) + "\"}",                        // a point off the curve
      "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}",  // unsupported curve
      "{\"kty\":\"RSA\",\"kid\":7,\"n\":\"AQAB\",\"e\":\"AQAB\"}",     // kid not a string
  };
  for (const std::string& b : bad) {
    EXPECT_FALSE(ParseJwkSet(Set(good + "," + b), JwkSetMode::kStrict).ok()) << b;
    auto lenient = ParseJwkSet(Set(b + "," + good), JwkSetMode::kLenient);
    ASSERT_TRUE(lenient.ok()) << b;
    ASSERT_EQ(lenient->keys.size(), 1u) << b;
    EXPECT_EQ(lenient->keys[0].kid, "good");
    EXPECT_FALSE(ParseJwkSet(Set(b), JwkSetMode::kLenient).ok()) << "nothing usable: " << b;
  }
}

TEST(JwkSetTest, ErrorsNeverQuoteKeyMaterial) {
  auto r = ParseJwkSet(Set(RsaJwk("priv", ",\"d\":\"SECRETSECRET\"")), JwkSetMode::kStrict);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().find("SECRETSECRET"), std::string::npos);
  EXPECT_EQ(r.error().find(tv::kRfc7515RsaKey.n.substr(0, 20)), std::string::npos);
}

TEST(JwkSetTest, AtMostThirtyTwoKeys) {
  std::string keys;
  for (size_t i = 0; i < kMaxJwks; ++i) keys += (i ? "," : "") + OkpJwk();
  EXPECT_TRUE(ParseJwkSet(Set(keys), JwkSetMode::kStrict).ok());
  EXPECT_FALSE(ParseJwkSet(Set(keys + "," + OkpJwk()), JwkSetMode::kLenient).ok());
}

}  // namespace
}  // namespace tollgate::jwt
