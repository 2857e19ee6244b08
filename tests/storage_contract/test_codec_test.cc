// The stand-in codec must behave like the real one where the storage tests depend on it.

#include "test_codec.h"

#include <gtest/gtest.h>

namespace tollgate::storage::testing {
namespace {

TEST(TestCodecTest, OpensWhatItSealed) {
  TestCodec codec("key-A");
  const std::string plaintext("secret\0with NUL", 15);
  const std::string sealed = codec.Seal(plaintext, "aad");
  EXPECT_EQ(sealed.find("secret"), std::string::npos);
  EXPECT_EQ(codec.Open(sealed, "aad"), plaintext);
  EXPECT_EQ(codec.Open(codec.Seal("", "aad"), "aad"), "");
}

TEST(TestCodecTest, RejectsWrongKeyWrongAadAndTampering) {
  TestCodec codec("key-A");
  const std::string sealed = codec.Seal("secret", "aad");
  EXPECT_EQ(TestCodec("key-B").Open(sealed, "aad"), std::nullopt);
  EXPECT_EQ(codec.Open(sealed, "other-aad"), std::nullopt);
  std::string tampered = sealed;
  tampered.back() = static_cast<char>(tampered.back() ^ 1);
  EXPECT_EQ(codec.Open(tampered, "aad"), std::nullopt);
  EXPECT_EQ(codec.Open("", "aad"), std::nullopt);
  EXPECT_EQ(codec.Open("secret", "aad"), std::nullopt);
}

}  // namespace
}  // namespace tollgate::storage::testing
