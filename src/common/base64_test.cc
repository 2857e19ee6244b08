#include "common/base64.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), std::string(plain));
  }
}

TEST(Base64, UrlAlphabetWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8"), std::string("\xfb\xff"));
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
}

TEST(Base64, RejectsMalformedInput) {
  EXPECT_FALSE(Base64Decode("Zm9"));          // missing padding
  EXPECT_FALSE(Base64Decode("Zm9v!A=="));     // bad character
  EXPECT_FALSE(Base64Decode("Zh=="));         // non-zero spare bits
  EXPECT_FALSE(Base64UrlDecode("Zm9vYg=="));  // padding is not base64url
  EXPECT_FALSE(Base64UrlDecode("Z"));         // impossible length
  EXPECT_FALSE(Base64UrlDecode("ab+/"));      // standard alphabet
}

}  // namespace
}  // namespace tollgate
