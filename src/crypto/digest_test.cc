#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/base64.h"
#include "crypto/keys.h"
#include "crypto/test_vectors.h"

namespace tollgate::crypto {
namespace {

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[(static_cast<unsigned char>(c) >> 4) & 0xF]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 0xF]);
  }
  return out;
}

// FIPS 180 "abc" and empty-string answers (cross-checked with coreutils sha1sum/sha256sum).
TEST(DigestTest, KnownAnswers) {
  EXPECT_EQ(ToHex(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// RFC 7636 Appendix B: the S256 code_challenge of the example code_verifier.
TEST(DigestTest, Rfc7636PkceExample) {
  EXPECT_EQ(Base64UrlEncode(Sha256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

// RFC 7515 Appendix A.1: the exact HS256 signature of the example.
TEST(HmacTest, Rfc7515A1Hs256) {
  const std::string key = testing::B64u(testing::kRfc7515HmacKey);
  ASSERT_EQ(key.size(), 64u);
  const std::string mac = Hmac(256, key, testing::kRfc7515HmacSigningInput);
  EXPECT_EQ(Base64UrlEncode(mac), testing::kRfc7515HmacSignature);
  EXPECT_TRUE(HmacVerify(256, key, testing::kRfc7515HmacSigningInput, mac));
}

// RFC 4231 test case 2 (key "Jefe") for all three sizes.
TEST(HmacTest, Rfc4231TestCase2) {
  const std::string data = "what do ya want for nothing?";
  EXPECT_EQ(ToHex(Hmac(256, "Jefe", data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(ToHex(Hmac(384, "Jefe", data)),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
            "8e2240ca5e69e2c78b3239ecfab21649");
  EXPECT_EQ(ToHex(Hmac(512, "Jefe", data)),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

TEST(HmacTest, UnsupportedSizesYieldNothing) {
  for (int bits : {0, 1, 160, 224, 255, 257, 1024, -256}) {
    EXPECT_EQ(Hmac(bits, "k", "d"), "") << bits;
    EXPECT_FALSE(HmacVerify(bits, "k", "d", "")) << bits;
    EXPECT_FALSE(HmacVerify(bits, "k", "d", Hmac(256, "k", "d"))) << bits;
  }
}

TEST(HmacTest, VerifyRejectsAnythingElse) {
  const std::string mac = Hmac(384, "key", "data");
  EXPECT_TRUE(HmacVerify(384, "key", "data", mac));
  EXPECT_FALSE(HmacVerify(384, "key", "data", ""));
  EXPECT_FALSE(HmacVerify(384, "key", "data", mac.substr(0, 32)));  // truncated
  EXPECT_FALSE(HmacVerify(384, "key", "data", mac + '\0'));
  EXPECT_FALSE(HmacVerify(256, "key", "data", mac));
  EXPECT_FALSE(HmacVerify(384, "key2", "data", mac));
  EXPECT_FALSE(HmacVerify(384, "key", "data2", mac));
  std::string flipped = mac;
  flipped[47] = static_cast<char>(flipped[47] ^ 1);
  EXPECT_FALSE(HmacVerify(384, "key", "data", flipped));
  // An empty key is a valid (if weak) HMAC key, not an error.
  EXPECT_EQ(Hmac(256, "", "data").size(), 32u);
}

TEST(RandomBytesTest, LengthAndUniqueness) {
  EXPECT_EQ(RandomBytes(0), "");
  EXPECT_EQ(RandomBytes(1).size(), 1u);
  EXPECT_EQ(RandomBytes(100000).size(), 100000u);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(RandomBytes(16));
  EXPECT_EQ(seen.size(), 1000u);
  // Not all zero (a broken DRBG would typically return a constant).
  EXPECT_NE(RandomBytes(32), std::string(32, '\0'));
}

}  // namespace
}  // namespace tollgate::crypto
