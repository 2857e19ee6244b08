#include <gtest/gtest.h>

#include <set>
#include <string>

#include "crypto/keys.h"

namespace tollgate::crypto {
namespace {

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Aead Make(std::string_view key) {
  auto aead = Aead::Create(key);
  EXPECT_TRUE(aead.ok());
  return std::move(aead).value();
}

// Known answers from the GCM specification (McGrew & Viega test cases 14 and 16, AES-256, as
// adopted by NIST SP 800-38D), laid out in the sealed form nonce || ciphertext || tag.
TEST(AeadTest, OpensGcmSpecVectors) {
  const Aead zero = Make(std::string(32, '\0'));
  const std::string tc14 = std::string(12, '\0') + Hex("cea7403d4d606b6e074ec5d3baf39d18") +
                           Hex("d0d1c8a799996bf0265b98b5d48ab919");
  auto opened = zero.Open(tc14, "");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, std::string(16, '\0'));
  // Test case 13: empty plaintext, the tag alone.
  auto empty = zero.Open(std::string(12, '\0') + Hex("530f8afbc74536b9a963b4f1c4cb738b"), "");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, "");

  const Aead key = Make(Hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
  const std::string aad = Hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const std::string plaintext = Hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
      "b525b16aedf5aa0de657ba637b39");
  const std::string tc16 = Hex("cafebabefacedbaddecaf888") +
                           Hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb"
                               "08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662") +
                           Hex("76fc6ece0f4e1768cddf8853bb2d551b");
  auto tc16_opened = key.Open(tc16, aad);
  ASSERT_TRUE(tc16_opened.has_value());
  EXPECT_EQ(*tc16_opened, plaintext);
  EXPECT_FALSE(key.Open(tc16, "").has_value());  // the AAD is authenticated
}

TEST(AeadTest, RoundTripsAnySize) {
  const Aead aead = Make(RandomBytes(32));
  for (size_t n :
       {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{1000}, size_t{70000}}) {
    const std::string plaintext = RandomBytes(n);
    const std::string sealed = aead.Seal(plaintext, "env/123/app/456");
    ASSERT_EQ(sealed.size(), n + Aead::kOverhead);
    auto opened = aead.Open(sealed, "env/123/app/456");
    ASSERT_TRUE(opened.has_value()) << n;
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(AeadTest, NoncesAreFresh) {
  const Aead aead = Make(RandomBytes(32));
  std::set<std::string> nonces;
  std::set<std::string> sealed;
  for (int i = 0; i < 200; ++i) {
    const std::string s = aead.Seal("same plaintext", "same aad");
    nonces.insert(s.substr(0, Aead::kNonceSize));
    sealed.insert(s);
  }
  EXPECT_EQ(nonces.size(), 200u);
  EXPECT_EQ(sealed.size(), 200u);
}

// Flipping any single bit of the sealed form (nonce, ciphertext or tag) is detected.
TEST(AeadTest, DetectsEveryTamperedByte) {
  const Aead aead = Make(RandomBytes(32));
  const std::string sealed = aead.Seal("client secret value", "aad");
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (int bit : {0, 7}) {
      std::string bad = sealed;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_FALSE(aead.Open(bad, "aad").has_value()) << i << ":" << bit;
    }
  }
  EXPECT_FALSE(aead.Open(sealed + "x", "aad").has_value());
  EXPECT_FALSE(aead.Open(sealed.substr(0, sealed.size() - 1), "aad").has_value());
  EXPECT_FALSE(aead.Open(sealed.substr(1), "aad").has_value());
  EXPECT_TRUE(aead.Open(sealed, "aad").has_value());
}

TEST(AeadTest, RejectsWrongAadAndWrongKey) {
  const std::string key = RandomBytes(32);
  const Aead aead = Make(key);
  const std::string sealed = aead.Seal("secret", "aad-1");
  EXPECT_FALSE(aead.Open(sealed, "aad-2").has_value());
  EXPECT_FALSE(aead.Open(sealed, "").has_value());
  EXPECT_FALSE(aead.Open(sealed, "aad-1 ").has_value());
  std::string other_key = key;
  other_key[31] = static_cast<char>(other_key[31] ^ 1);
  EXPECT_FALSE(Make(other_key).Open(sealed, "aad-1").has_value());
  EXPECT_TRUE(Make(key).Open(sealed, "aad-1").has_value());  // same key bytes, new object
}

TEST(AeadTest, RejectsShortInput) {
  const Aead aead = Make(RandomBytes(32));
  for (size_t n = 0; n < Aead::kOverhead; ++n) {
    EXPECT_FALSE(aead.Open(std::string(n, '\0'), "").has_value()) << n;
  }
  // Exactly the overhead is an empty plaintext, which must still carry a valid tag.
  EXPECT_FALSE(aead.Open(std::string(Aead::kOverhead, '\0'), "").has_value());
  EXPECT_TRUE(aead.Open(aead.Seal("", ""), "").has_value());
}

TEST(AeadTest, CreateNeedsA32ByteKey) {
  for (size_t n : {size_t{0}, size_t{16}, size_t{24}, size_t{31}, size_t{33}, size_t{64}}) {
    EXPECT_FALSE(Aead::Create(std::string(n, 'k')).ok()) << n;
  }
  EXPECT_TRUE(Aead::Create(std::string(32, 'k')).ok());
}

TEST(AeadTest, MovedFromAeadFailsClosed) {
  Aead a = Make(RandomBytes(32));
  const std::string sealed = a.Seal("x", "");
  Aead b = std::move(a);
  EXPECT_TRUE(b.Open(sealed, "").has_value());
  // NOLINTNEXTLINE(bugprone-use-after-move): the contract for a moved-from object is tested
  EXPECT_EQ(a.Seal("x", ""), "");
  EXPECT_FALSE(a.Open(sealed, "").has_value());
}

}  // namespace
}  // namespace tollgate::crypto
