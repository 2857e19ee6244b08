#include "jwt/jws.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/base64.h"
#include "crypto/test_vectors.h"

namespace tollgate::jwt {
namespace {

namespace tv = crypto::testing;

std::shared_ptr<const crypto::PrivateKey> FromPem(const std::string& pem) {
  auto key = crypto::PrivateKey::FromPem(pem);
  EXPECT_TRUE(key.ok()) << key.error().message;
  return key.ok() ? *key : nullptr;
}

// RFC 7515 A.2.1: signing the RFC's header and payload with the RFC's key reproduces the
// complete compact serialization byte for byte.
TEST(SignCompactTest, Rfc7515A2IsExact) {
  auto key = FromPem(tv::RsaPkcs8Pem(tv::kRfc7515RsaKey));
  ASSERT_NE(key, nullptr);
  auto token = SignCompact("{\"alg\":\"RS256\"}", tv::kRfc7515Payload, *key);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(*token, std::string(tv::kRfc7515Rs256SigningInput) + "." +
                        std::string(tv::kRfc7515Rs256Signature));
}

// RFC 8037 A.4: the EdDSA example, byte for byte.
TEST(SignCompactTest, Rfc8037A4IsExact) {
  auto key = FromPem(tv::Ed25519Pkcs8Pem(tv::kRfc8037D));
  ASSERT_NE(key, nullptr);
  auto token = SignCompact("{\"alg\":\"EdDSA\"}", tv::kRfc8037Payload, *key);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token,
            std::string(tv::kRfc8037SigningInput) + "." + std::string(tv::kRfc8037Signature));
}

// SignCompact -> SplitCompact -> PublicKey::Verify, for every kind of key.
TEST(SignCompactTest, RoundTripsThroughSplitAndVerify) {
  for (crypto::KeyKind kind :
       {crypto::KeyKind::kRsa, crypto::KeyKind::kEcP256, crypto::KeyKind::kEd25519}) {
    auto key = crypto::PrivateKey::Generate(kind);
    ASSERT_TRUE(key.ok());
    const std::string header = "{\"alg\":\"" + std::string((*key)->JwsAlg()) + "\",\"kid\":\"k1\"}";
    const std::string payload = "{\"sub\":\"\xc3\xa9t\xc3\xa9\",\"n\":[1,2,3]}";  // UTF-8
    auto token = SignCompact(header, payload, **key);
    ASSERT_TRUE(token.ok());
    auto parts = SplitCompact(*token);
    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ(parts->header_json, header);
    EXPECT_EQ(parts->payload_json, payload);
    EXPECT_EQ(parts->signing_input, token->substr(0, token->rfind('.')));
    auto pub = crypto::PublicKey::FromJwk((*key)->Public());
    ASSERT_TRUE(pub.ok());
    EXPECT_TRUE((*pub)->Verify((*key)->JwsAlg(), parts->signing_input, parts->signature));
    // A token whose payload segment was swapped for another does not verify.
    auto other = SignCompact(header, "{\"sub\":\"admin\"}", **key);
    ASSERT_TRUE(other.ok());
    const std::string forged =
        token->substr(0, token->find('.')) +
        other->substr(other->find('.'), other->rfind('.') - other->find('.')) +
        token->substr(token->rfind('.'));
    auto forged_parts = SplitCompact(forged);
    ASSERT_TRUE(forged_parts.has_value());
    EXPECT_FALSE(
        (*pub)->Verify((*key)->JwsAlg(), forged_parts->signing_input, forged_parts->signature));
  }
}

TEST(SplitCompactTest, SplitsRfc7515A3) {
  const std::string token =
      std::string(tv::kRfc7515Es256SigningInput) + "." + std::string(tv::kRfc7515Es256Signature);
  auto parts = SplitCompact(token);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->header_json, "{\"alg\":\"ES256\"}");
  EXPECT_EQ(parts->payload_json, tv::kRfc7515Payload);
  EXPECT_EQ(parts->signing_input, tv::kRfc7515Es256SigningInput);
  EXPECT_EQ(parts->signature.size(), 64u);
  EXPECT_EQ(Base64UrlEncode(parts->signature), tv::kRfc7515Es256Signature);
}

TEST(SplitCompactTest, RejectsMalformedTokens) {
  const std::string h = "eyJhbGciOiJFUzI1NiJ9";
  const std::string p = "eyJzdWIiOiJ4In0";
  const std::string s = "c2ln";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"no dot", h},
      {"one dot", h + "." + p},
      {"three dots (JWE-like)", h + "." + p + "." + s + "." + s},
      {"four dots", h + ".." + p + "." + s + "."},
      {"empty header", "." + p + "." + s},
      {"empty payload", h + ".." + s},
      {"only dots", ".."},
      {"padding in header", "eyJhbGciOiJub25lIn0=." + p + "." + s},
      {"padding in signature", h + "." + p + ".c2lnYQ=="},
      {"standard alphabet +", h + "." + p + ".ab+d"},
      {"standard alphabet /", h + "." + p + ".ab/d"},
      {"space", h + "." + p + " ." + s},
      {"leading space", " " + h + "." + p + "." + s},
      {"trailing newline", h + "." + p + "." + s + "\n"},
      {"impossible length", h + "." + p + ".abcde"},
      {"non-zero trailing bits", h + "." + p + ".c2lnYR"},
      {"NUL byte", h + "." + p + "." + std::string("c2\0n", 4)},
      {"non-ASCII", h + "." + p + ".c2\xc3\xa9"},
  };
  for (const auto& [name, token] : cases) {
    EXPECT_FALSE(SplitCompact(token).has_value()) << name;
  }
  // The same segments joined properly are fine (so each case fails for its own defect).
  EXPECT_TRUE(SplitCompact(h + "." + p + "." + s).has_value());
  EXPECT_TRUE(SplitCompact(h + "." + p + ".c2lnYQ").has_value());
}

// An unsecured JWS (empty signature) splits; only verification rejects it.
TEST(SplitCompactTest, EmptySignatureSplits) {
  auto parts = SplitCompact("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->header_json, "{\"alg\":\"none\"}");
  EXPECT_EQ(parts->signature, "");
}

TEST(SplitCompactTest, EnforcesSizeLimit) {
  const std::string token =
      std::string(tv::kRfc8037SigningInput) + "." + std::string(tv::kRfc8037Signature);
  EXPECT_TRUE(SplitCompact(token, token.size()).has_value());
  EXPECT_FALSE(SplitCompact(token, token.size() - 1).has_value());
  EXPECT_FALSE(SplitCompact(token, 0).has_value());
  // Default limit: 16 KiB.
  const std::string big_payload = Base64UrlEncode(std::string(12400, 'x'));  // ~16.5 KB encoded
  EXPECT_FALSE(SplitCompact("eyJhbGciOiJub25lIn0." + big_payload + ".").has_value());
  const std::string ok_payload = Base64UrlEncode(std::string(12000, 'x'));
  EXPECT_TRUE(SplitCompact("eyJhbGciOiJub25lIn0." + ok_payload + ".").has_value());
}

}  // namespace
}  // namespace tollgate::jwt
