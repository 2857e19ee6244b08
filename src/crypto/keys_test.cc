#include "crypto/keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <string>
#include <thread>
#include <vector>

#include "common/base64.h"
#include "crypto/test_vectors.h"

namespace tollgate::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace tv = testing;

std::shared_ptr<const PrivateKey> Rfc7515RsaKey() {
  auto key = PrivateKey::FromPem(tv::RsaPkcs8Pem(tv::kRfc7515RsaKey));
  EXPECT_TRUE(key.ok()) << key.error().message;
  return key.ok() ? *key : nullptr;
}

std::shared_ptr<const PrivateKey> Rfc7515EcKey() {
  auto key =
      PrivateKey::FromPem(tv::P256Pkcs8Pem(tv::kRfc7515EcD, tv::kRfc7515EcX, tv::kRfc7515EcY));
  EXPECT_TRUE(key.ok()) << key.error().message;
  return key.ok() ? *key : nullptr;
}

std::shared_ptr<const PrivateKey> Rfc8037Key() {
  auto key = PrivateKey::FromPem(tv::Ed25519Pkcs8Pem(tv::kRfc8037D));
  EXPECT_TRUE(key.ok()) << key.error().message;
  return key.ok() ? *key : nullptr;
}

std::shared_ptr<const PrivateKey> Generated(KeyKind kind, int bits = 2048) {
  auto key = PrivateKey::Generate(kind, bits);
  EXPECT_TRUE(key.ok()) << key.error().message;
  return key.ok() ? *key : nullptr;
}

std::shared_ptr<const PublicKey> Verifier(const PrivateKey& key) {
  auto pub = PublicKey::FromJwk(key.Public());
  EXPECT_TRUE(pub.ok()) << pub.error().message;
  return pub.ok() ? *pub : nullptr;
}

// RFC 7515 A.2: PKCS#1 v1.5 is deterministic, so Sign() must reproduce the RFC's bytes.
TEST(PrivateKeyTest, Rfc7515A2Rs256SignatureIsExact) {
  auto key = Rfc7515RsaKey();
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->kind(), KeyKind::kRsa);
  EXPECT_EQ(key->bits(), 2048);
  EXPECT_EQ(key->JwsAlg(), "RS256");
  auto sig = key->Sign(tv::kRfc7515Rs256SigningInput);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_EQ(Base64UrlEncode(*sig), tv::kRfc7515Rs256Signature);
}

// JWK export of a known key: the RFC's own n and e (no leading zero octets).
TEST(PrivateKeyTest, Rfc7515A2JwkExport) {
  auto key = Rfc7515RsaKey();
  ASSERT_NE(key, nullptr);
  const PublicJwk jwk = key->Public();
  EXPECT_EQ(jwk.kty, "RSA");
  EXPECT_EQ(jwk.alg, "RS256");
  EXPECT_EQ(jwk.n, tv::kRfc7515RsaKey.n);
  EXPECT_EQ(jwk.e, "AQAB");
  EXPECT_TRUE(jwk.crv.empty() && jwk.x.empty() && jwk.y.empty());
}

// RFC 8037 A.4: Ed25519 is deterministic; the exact signature and the public x of A.2.
TEST(PrivateKeyTest, Rfc8037A4Ed25519SignatureIsExact) {
  auto key = Rfc8037Key();
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->kind(), KeyKind::kEd25519);
  EXPECT_EQ(key->JwsAlg(), "EdDSA");
  const PublicJwk jwk = key->Public();
  EXPECT_EQ(jwk.kty, "OKP");
  EXPECT_EQ(jwk.crv, "Ed25519");
  EXPECT_EQ(jwk.alg, "EdDSA");
  EXPECT_EQ(jwk.x, tv::kRfc8037X);
  EXPECT_TRUE(jwk.y.empty());
  auto sig = key->Sign(tv::kRfc8037SigningInput);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_EQ(Base64UrlEncode(*sig), tv::kRfc8037Signature);
}

// RFC 9864 §2.2: an Ed25519 key told "Ed25519" signs, and publishes its JWK, under that name
// (the same signature bytes as EdDSA); every other key type keeps its one name.
TEST(PrivateKeyTest, FromPemTakesTheJwsAlgName) {
  const std::string ed_pem = tv::Ed25519Pkcs8Pem(tv::kRfc8037D);
  for (std::string_view name : {"", "EdDSA", "Ed25519"}) {
    auto key = PrivateKey::FromPem(ed_pem, name);
    ASSERT_TRUE(key.ok()) << name << ": " << key.error().message;
    const std::string_view expected = name.empty() ? "EdDSA" : name;
    EXPECT_EQ((*key)->JwsAlg(), expected);
    EXPECT_EQ((*key)->Public().alg, expected);
    auto sig = (*key)->Sign(tv::kRfc8037SigningInput);
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(Base64UrlEncode(*sig), tv::kRfc8037Signature);
    auto verifier = Verifier(**key);
    ASSERT_NE(verifier, nullptr);
    EXPECT_TRUE(verifier->Verify(expected, tv::kRfc8037SigningInput, *sig));
  }
  for (std::string_view name : {"Ed448", "RS256", "ES256", "ed25519", "none"}) {
    EXPECT_FALSE(PrivateKey::FromPem(ed_pem, name).ok()) << name;
  }
  const std::string rsa_pem = tv::RsaPkcs8Pem(tv::kRfc7515RsaKey);
  auto rsa = PrivateKey::FromPem(rsa_pem, "RS256");
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ((*rsa)->JwsAlg(), "RS256");
  for (std::string_view name : {"Ed25519", "EdDSA", "PS256", "RS512", "ES256"}) {
    EXPECT_FALSE(PrivateKey::FromPem(rsa_pem, name).ok()) << name;
  }
  const std::string ec_pem = tv::P256Pkcs8Pem(tv::kRfc7515EcD, tv::kRfc7515EcX, tv::kRfc7515EcY);
  EXPECT_TRUE(PrivateKey::FromPem(ec_pem, "ES256").ok());
  for (std::string_view name : {"Ed25519", "EdDSA", "ES384"}) {
    EXPECT_FALSE(PrivateKey::FromPem(ec_pem, name).ok()) << name;
  }
}

// RFC 7515 A.3: the key exports the RFC's x and y; its signatures are 64-byte r||s that verify
// (and ECDSA is randomized, so two signatures differ).
TEST(PrivateKeyTest, Rfc7515A3Es256KeyExportAndRoundTrip) {
  auto key = Rfc7515EcKey();
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->kind(), KeyKind::kEcP256);
  EXPECT_EQ(key->JwsAlg(), "ES256");
  const PublicJwk jwk = key->Public();
  EXPECT_EQ(jwk.kty, "EC");
  EXPECT_EQ(jwk.crv, "P-256");
  EXPECT_EQ(jwk.x, tv::kRfc7515EcX);
  EXPECT_EQ(jwk.y, tv::kRfc7515EcY);

  auto pub = Verifier(*key);
  ASSERT_NE(pub, nullptr);
  // The RFC's own signature verifies under the exported key.
  EXPECT_TRUE(
      pub->Verify("ES256", tv::kRfc7515Es256SigningInput, tv::B64u(tv::kRfc7515Es256Signature)));
  auto a = key->Sign(tv::kRfc7515Es256SigningInput);
  auto b = key->Sign(tv::kRfc7515Es256SigningInput);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(pub->Verify("ES256", tv::kRfc7515Es256SigningInput, *a));
  EXPECT_TRUE(pub->Verify("ES256", tv::kRfc7515Es256SigningInput, *b));
  EXPECT_FALSE(pub->Verify("ES256", "other input", *a));
}

struct KindCase {
  KeyKind kind;
  int bits;
  std::string_view alg;
  size_t signature_size;
};

class GeneratedKeyTest : public ::testing::TestWithParam<KindCase> {};

// Cross-verify: what Sign() produces verifies with PublicKey::FromJwk(Public()), and only for
// that input, that alg and that key.
TEST_P(GeneratedKeyTest, SignVerifiesWithExportedJwk) {
  const KindCase& c = GetParam();
  auto key = Generated(c.kind, c.bits);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->kind(), c.kind);
  EXPECT_EQ(key->bits(), c.bits);
  EXPECT_EQ(key->JwsAlg(), c.alg);
  auto pub = Verifier(*key);
  ASSERT_NE(pub, nullptr);
  for (std::string_view input : {std::string_view(""), std::string_view("a.b"),
                                 std::string_view(tv::kRfc7515Rs256SigningInput)}) {
    auto sig = key->Sign(input);
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_EQ(sig->size(), c.signature_size);
    EXPECT_TRUE(pub->Verify(c.alg, input, *sig));
    EXPECT_FALSE(pub->Verify(c.alg, std::string(input) + "x", *sig));
    std::string flipped = *sig;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x01);
    EXPECT_FALSE(pub->Verify(c.alg, input, flipped));
  }
  auto other = Generated(c.kind, c.bits);
  ASSERT_NE(other, nullptr);
  auto sig = key->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_FALSE(Verifier(*other)->Verify(c.alg, "payload", *sig));
}

TEST_P(GeneratedKeyTest, PemRoundTripKeepsTheKey) {
  const KindCase& c = GetParam();
  auto key = Generated(c.kind, c.bits);
  ASSERT_NE(key, nullptr);
  const std::string pem = key->ToPem();
  EXPECT_THAT(pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  auto again = PrivateKey::FromPem(pem);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->kind(), c.kind);
  EXPECT_EQ((*again)->bits(), c.bits);
  EXPECT_EQ((*again)->ToPem(), pem);
  const PublicJwk a = key->Public();
  const PublicJwk b = (*again)->Public();
  EXPECT_EQ(a.n, b.n);
  EXPECT_EQ(a.e, b.e);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.y, b.y);
  // The re-imported key signs for the original's public key.
  auto sig = (*again)->Sign("round trip");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Verifier(*key)->Verify(c.alg, "round trip", *sig));
}

TEST_P(GeneratedKeyTest, JwkMembersHaveTheirRfcSizes) {
  const KindCase& c = GetParam();
  auto key = Generated(c.kind, c.bits);
  ASSERT_NE(key, nullptr);
  const PublicJwk jwk = key->Public();
  switch (c.kind) {
    case KeyKind::kRsa: {
      const std::string n = tv::B64u(jwk.n);
      ASSERT_EQ(n.size(), static_cast<size_t>(c.bits / 8));
      EXPECT_NE(n.front(), '\0');  // RFC 7518 §6.3.1.1: no leading zero octet
      EXPECT_EQ(jwk.e, "AQAB");
      break;
    }
    case KeyKind::kEcP256:
      EXPECT_EQ(tv::B64u(jwk.x).size(), 32u);
      EXPECT_EQ(tv::B64u(jwk.y).size(), 32u);
      break;
    case KeyKind::kEd25519:
      EXPECT_EQ(tv::B64u(jwk.x).size(), 32u);
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, GeneratedKeyTest,
                         ::testing::Values(KindCase{KeyKind::kRsa, 2048, "RS256", 256},
                                           KindCase{KeyKind::kRsa, 3072, "RS256", 384},
                                           KindCase{KeyKind::kEcP256, 256, "ES256", 64},
                                           KindCase{KeyKind::kEd25519, 256, "EdDSA", 64}),
                         [](const ::testing::TestParamInfo<KindCase>& param_info) {
                           return std::string(param_info.param.alg) + "_" +
                                  std::to_string(param_info.param.bits);
                         });

TEST(PrivateKeyTest, GenerateRsa4096) {
  auto key = Generated(KeyKind::kRsa, 4096);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->bits(), 4096);
  auto sig = key->Sign("x");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 512u);
}

TEST(PrivateKeyTest, GenerateRejectsOtherRsaSizes) {
  for (int bits : {0, 1024, 2047, 2049, 8192, -1}) {
    EXPECT_FALSE(PrivateKey::Generate(KeyKind::kRsa, bits).ok()) << bits;
  }
}

// Other PEM labels, broken base64 or DER, an encrypted PKCS#8 and garbage are refused.
TEST(PrivateKeyTest, FromPemRejectsEverythingButPkcs8) {
  const std::string rsa_pkcs8 = tv::RsaPkcs8Pem(tv::kRfc7515RsaKey);
  ASSERT_TRUE(PrivateKey::FromPem(rsa_pkcs8).ok());
  std::string relabelled = rsa_pkcs8;
  relabelled.replace(relabelled.find("PRIVATE KEY"), 11, "RSA PRIVATE KEY");
  auto traditional = PrivateKey::FromPem(relabelled);
  ASSERT_FALSE(traditional.ok());
  EXPECT_THAT(traditional.error().message, HasSubstr("PKCS#8"));
  EXPECT_FALSE(PrivateKey::FromPem("").ok());
  EXPECT_FALSE(PrivateKey::FromPem("garbage").ok());
  EXPECT_FALSE(
      PrivateKey::FromPem("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n").ok());
  const std::string truncated =
      rsa_pkcs8.substr(0, rsa_pkcs8.size() / 2) + "\n-----END PRIVATE KEY-----\n";
  EXPECT_FALSE(PrivateKey::FromPem(truncated).ok());
  // Leading whitespace before the label is fine.
  EXPECT_TRUE(PrivateKey::FromPem("\n  " + rsa_pkcs8).ok());
}

// A valid EC key on P-384 is refused for its curve (scalar 0x0101..01, 48 octets, < n).
TEST(PrivateKeyTest, FromPemRejectsOtherCurves) {
  auto p384 = PrivateKey::FromPem(tv::P384Pkcs8PemWithoutPublic(std::string(48, '\x01')));
  ASSERT_FALSE(p384.ok());
  EXPECT_THAT(p384.error().message, HasSubstr("P-256"));
}

// A PKCS#8 whose public point does not belong to its private scalar is refused.
TEST(PrivateKeyTest, FromPemRejectsInconsistentKey) {
  // The RFC 7515 A.3 scalar with the public point of another key (RFC 7515's x and y swapped
  // is not on the curve; use a generated key's point instead).
  auto other = Generated(KeyKind::kEcP256);
  ASSERT_NE(other, nullptr);
  const PublicJwk jwk = other->Public();
  auto mixed = PrivateKey::FromPem(tv::P256Pkcs8Pem(tv::kRfc7515EcD, jwk.x, jwk.y));
  EXPECT_FALSE(mixed.ok());
}

// An RSA key whose modulus is another key's: its signatures would not verify under the n it
// publishes, and the pairwise test refuses it.
TEST(PrivateKeyTest, FromPemRejectsInconsistentRsaKey) {
  ASSERT_TRUE(PrivateKey::FromPem(tv::RsaPkcs8Pem(tv::kRfc7515RsaKey)).ok());
  auto other = Generated(KeyKind::kRsa);
  ASSERT_NE(other, nullptr);
  const std::string other_n = other->Public().n;
  tv::RsaJwkMembers mixed = tv::kRfc7515RsaKey;
  mixed.n = other_n;
  auto key = PrivateKey::FromPem(tv::RsaPkcs8Pem(mixed));
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.error().message, HasSubstr("inconsistent"));
}

TEST(PrivateKeyTest, FromPemRefusesEncryptedKeyWithoutPrompting) {
  // An "ENCRYPTED PRIVATE KEY" label is refused before OpenSSL could ask for a passphrase.
  std::string encrypted = tv::PemFromDer("\x30\x03\x02\x01\x00", "ENCRYPTED PRIVATE KEY");
  auto key = PrivateKey::FromPem(encrypted);
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.error().message, HasSubstr("PKCS#8"));
}

// Many threads signing with one key at once: every signature is valid.
TEST(PrivateKeyTest, ConcurrentSignIsSafe) {
  for (KeyKind kind : {KeyKind::kRsa, KeyKind::kEcP256, KeyKind::kEd25519}) {
    auto key = Generated(kind);
    ASSERT_NE(key, nullptr);
    auto pub = Verifier(*key);
    ASSERT_NE(pub, nullptr);
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 40; ++i) {
          const std::string input = "thread " + std::to_string(t) + " message " + std::to_string(i);
          auto sig = key->Sign(input);
          if (!sig.ok() || !pub->Verify(key->JwsAlg(), input, *sig)) ++bad;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(bad.load(), 0) << static_cast<int>(kind);
  }
}

// One thread alternating between keys of every kind: the per-thread context never carries a
// key (or an algorithm) over from the previous call.
TEST(PrivateKeyTest, InterleavedKeysOnOneThread) {
  auto rsa = Rfc7515RsaKey();
  auto ed = Rfc8037Key();
  auto ec = Rfc7515EcKey();
  ASSERT_TRUE(rsa && ed && ec);
  auto ec_pub = Verifier(*ec);
  for (int i = 0; i < 3; ++i) {
    auto a = rsa->Sign(tv::kRfc7515Rs256SigningInput);
    auto b = ed->Sign(tv::kRfc8037SigningInput);
    auto c = ec->Sign("ec");
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_EQ(Base64UrlEncode(*a), tv::kRfc7515Rs256Signature);
    EXPECT_EQ(Base64UrlEncode(*b), tv::kRfc8037Signature);
    EXPECT_TRUE(ec_pub->Verify("ES256", "ec", *c));
  }
}

// More threads signing at once than there are per-thread signer slots (64): the threads without
// a slot take the shared-template path, and every signature is still exact or valid. Then a
// second generation of threads reuses the slots the first one gave back.
TEST(PrivateKeyTest, ThreadsBeyondTheSignerSlotsAndSlotReuse) {
  auto rsa = Rfc7515RsaKey();
  auto ec = Rfc7515EcKey();
  ASSERT_TRUE(rsa && ec);
  auto ec_pub = Verifier(*ec);
  for (int generation = 0; generation < 2; ++generation) {
    constexpr int kThreads = 80;
    std::barrier all_signed(kThreads);  // every thread holds its slot (or none) at once
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        auto a = rsa->Sign(tv::kRfc7515Rs256SigningInput);
        auto c = ec->Sign("ec");
        if (!a.ok() || Base64UrlEncode(*a) != tv::kRfc7515Rs256Signature) ++bad;
        if (!c.ok() || !ec_pub->Verify("ES256", "ec", *c)) ++bad;
        all_signed.arrive_and_wait();
        auto again = rsa->Sign(tv::kRfc7515Rs256SigningInput);
        if (!again.ok() || Base64UrlEncode(*again) != tv::kRfc7515Rs256Signature) ++bad;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(bad.load(), 0) << "generation " << generation;
  }
}

TEST(PrivateKeyTest, SelfSignedCertificateShape) {
  for (KeyKind kind : {KeyKind::kRsa, KeyKind::kEcP256, KeyKind::kEd25519}) {
    auto key = Generated(kind);
    ASSERT_NE(key, nullptr);
    auto cert = key->SelfSignedCertificate("CN=Administrators", 365);
    ASSERT_TRUE(cert.ok()) << cert.error().message;
    ASSERT_GT(cert->size(), 100u);
    EXPECT_EQ(static_cast<uint8_t>((*cert)[0]), 0x30);  // DER SEQUENCE
    EXPECT_THAT(*cert, HasSubstr("Administrators"));
    // Serial numbers are random: two certificates for the same key differ.
    auto again = key->SelfSignedCertificate("CN=Administrators", 365);
    ASSERT_TRUE(again.ok());
    EXPECT_NE(*cert, *again);
  }
}

TEST(PrivateKeyTest, SelfSignedCertificateRejectsBadInput) {
  auto key = Rfc8037Key();
  ASSERT_NE(key, nullptr);
  EXPECT_FALSE(key->SelfSignedCertificate("CN=x", 0).ok());
  EXPECT_FALSE(key->SelfSignedCertificate("CN=x", -5).ok());
  EXPECT_FALSE(key->SelfSignedCertificate("CN=x", 36501).ok());
  for (std::string_view dn : {"", "CN", "CN=", "=x", "CN=x,", "NOPE=x", ",CN=x"}) {
    EXPECT_FALSE(key->SelfSignedCertificate(dn, 30).ok()) << dn;
  }
  auto multi = key->SelfSignedCertificate("CN=Tollgate, O=Example, C=US", 30);
  ASSERT_TRUE(multi.ok()) << multi.error().message;
  EXPECT_THAT(*multi, HasSubstr("Example"));
}

}  // namespace
}  // namespace tollgate::crypto
