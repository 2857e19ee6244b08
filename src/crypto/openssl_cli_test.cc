// Cross-checks against an independent implementation: the `openssl` command-line tool verifies
// what Tollgate signs, signs what Tollgate verifies, and reads the PEMs and certificates that
// Tollgate writes. Skipped when the tool is not installed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "common/base64.h"
#include "crypto/keys.h"
#include "crypto/test_vectors.h"

namespace tollgate::crypto {
namespace {

using ::testing::HasSubstr;
namespace tv = testing;

class OpensslCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("openssl version >/dev/null 2>&1 </dev/null") != 0) {
      GTEST_SKIP() << "openssl command-line tool not installed";
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "tollgate-cli-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  void Write(const std::string& name, std::string_view bytes) const {
    std::ofstream out(Path(name), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good());
  }

  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // Runs `openssl <args>` in the temp dir with no stdin (so nothing can prompt); returns the
  // exit status and leaves stdout+stderr in output_.
  int Openssl(const std::string& args) {
    const std::string cmd =
        "cd '" + dir_.string() + "' && openssl " + args + " >cli.out 2>&1 </dev/null";
    const int status = std::system(cmd.c_str());
    output_ = Read("cli.out");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // SEQUENCE { INTEGER r, INTEGER s } -> r||s with each part `width` bytes.
  static std::string DerEcdsaToJose(std::string_view der, size_t width) {
    auto length = [&](size_t& pos) -> size_t {
      size_t len = static_cast<unsigned char>(der.at(pos++));
      if (len & 0x80) {
        const size_t octets = len & 0x7F;
        len = 0;
        for (size_t i = 0; i < octets; ++i)
          len = (len << 8) | static_cast<unsigned char>(der.at(pos++));
      }
      return len;
    };
    size_t pos = 1;  // SEQUENCE tag
    length(pos);
    std::string out;
    for (int i = 0; i < 2; ++i) {
      ++pos;  // INTEGER tag
      const size_t len = length(pos);
      std::string_view v = der.substr(pos, len);
      pos += len;
      while (v.size() > width && v.front() == '\0') v.remove_prefix(1);
      out += std::string(width - v.size(), '\0') + std::string(v);
    }
    return out;
  }

  std::filesystem::path dir_;
  std::string output_;
};

// What Sign() produces is accepted by `openssl dgst -verify` / `openssl pkeyutl -verify`, given
// the public key that openssl itself derives from our ToPem(); and a changed message is not.
TEST_F(OpensslCliTest, OpensslVerifiesOurSignatures) {
  for (KeyKind kind : {KeyKind::kRsa, KeyKind::kEcP256, KeyKind::kEd25519}) {
    SCOPED_TRACE(static_cast<int>(kind));
    auto key = PrivateKey::Generate(kind);
    ASSERT_TRUE(key.ok());
    Write("key.pem", (*key)->ToPem());
    ASSERT_EQ(Openssl("pkey -in key.pem -pubout -out pub.pem"), 0) << output_;
    const std::string input = "eyJhbGciOiJ9.eyJzdWIiOiJ4In0";
    auto sig = (*key)->Sign(input);
    ASSERT_TRUE(sig.ok());
    Write("data", input);
    Write("tampered", input + ".");
    if (kind == KeyKind::kEd25519) {
      Write("sig", *sig);
      const std::string verify = "pkeyutl -verify -pubin -inkey pub.pem -rawin -sigfile sig -in ";
      EXPECT_EQ(Openssl(verify + "data"), 0) << output_;
      EXPECT_NE(Openssl(verify + "tampered"), 0) << output_;
    } else {
      // openssl expects the DER form of an ECDSA signature (RFC 7518 §3.4 converts).
      Write("sig", kind == KeyKind::kEcP256 ? tv::EcdsaJoseToDer(*sig) : *sig);
      const std::string verify = "dgst -sha256 -verify pub.pem -signature sig ";
      EXPECT_EQ(Openssl(verify + "data"), 0) << output_;
      EXPECT_THAT(output_, HasSubstr("Verified OK"));
      EXPECT_NE(Openssl(verify + "tampered"), 0) << output_;
    }
  }
}

// The JWK members are the key openssl sees: x (and y) are the tail of the SubjectPublicKeyInfo,
// n and e are inside it.
TEST_F(OpensslCliTest, JwkMatchesOpensslPublicKey) {
  for (KeyKind kind : {KeyKind::kRsa, KeyKind::kEcP256, KeyKind::kEd25519}) {
    auto key = PrivateKey::Generate(kind);
    ASSERT_TRUE(key.ok());
    Write("key.pem", (*key)->ToPem());
    ASSERT_EQ(Openssl("pkey -in key.pem -pubout -outform DER -out pub.der"), 0) << output_;
    const std::string spki = Read("pub.der");
    const PublicJwk jwk = (*key)->Public();
    switch (kind) {
      case KeyKind::kRsa:
        EXPECT_THAT(spki, HasSubstr(tv::DerUInt(tv::B64u(jwk.n)) + tv::DerUInt(tv::B64u(jwk.e))));
        break;
      case KeyKind::kEcP256:
        ASSERT_GE(spki.size(), 65u);
        EXPECT_EQ(spki.substr(spki.size() - 65), '\x04' + tv::B64u(jwk.x) + tv::B64u(jwk.y));
        break;
      case KeyKind::kEd25519:
        ASSERT_GE(spki.size(), 32u);
        EXPECT_EQ(spki.substr(spki.size() - 32), tv::B64u(jwk.x));
        break;
    }
  }
}

// PKCS#1 v1.5 and Ed25519 are deterministic: openssl and Tollgate produce identical bytes for
// the same key, and openssl reproduces the RFC 8037 A.4 signature too.
TEST_F(OpensslCliTest, DeterministicSignaturesAreIdentical) {
  ASSERT_EQ(Openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem"), 0)
      << output_;
  auto rsa = PrivateKey::FromPem(Read("rsa.pem"));
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  Write("data", tv::kRfc7515Rs256SigningInput);
  ASSERT_EQ(Openssl("dgst -sha256 -sign rsa.pem -out sig data"), 0) << output_;
  auto ours = (*rsa)->Sign(tv::kRfc7515Rs256SigningInput);
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(*ours, Read("sig"));

  Write("ed.pem", tv::Ed25519Pkcs8Pem(tv::kRfc8037D));
  Write("ed_data", tv::kRfc8037SigningInput);
  ASSERT_EQ(Openssl("pkeyutl -sign -inkey ed.pem -rawin -in ed_data -out ed_sig"), 0) << output_;
  EXPECT_EQ(Base64UrlEncode(Read("ed_sig")), tv::kRfc8037Signature);
}

// Signatures made by openssl verify with PublicKey for every supported alg: RS/PS 256/384/512
// with the RFC 7515 A.2 key, ES256 with the A.3 key, ES384 with a fresh P-384 key.
TEST_F(OpensslCliTest, PublicKeyVerifiesOpensslSignatures) {
  const std::string input(tv::kRfc7515Rs256SigningInput);
  Write("data", input);
  Write("rsa.pem", tv::RsaPkcs8Pem(tv::kRfc7515RsaKey));
  PublicJwk rsa_jwk;
  rsa_jwk.kty = "RSA";
  rsa_jwk.n = std::string(tv::kRfc7515RsaKey.n);
  rsa_jwk.e = "AQAB";
  auto rsa = PublicKey::FromJwk(rsa_jwk);
  ASSERT_TRUE(rsa.ok());
  const std::string pss = " -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest";
  for (auto [alg, args] :
       {std::pair{"RS256", std::string("-sha256")}, std::pair{"RS384", std::string("-sha384")},
        std::pair{"RS512", std::string("-sha512")}, std::pair{"PS256", "-sha256" + pss},
        std::pair{"PS384", "-sha384" + pss}, std::pair{"PS512", "-sha512" + pss}}) {
    SCOPED_TRACE(alg);
    ASSERT_EQ(Openssl("dgst " + args + " -sign rsa.pem -out sig data"), 0) << output_;
    const std::string sig = Read("sig");
    EXPECT_TRUE((*rsa)->Verify(alg, input, sig));
    EXPECT_FALSE((*rsa)->Verify(alg, input + "x", sig));
  }
  // RFC 7518 §3.5: the PSS salt is as long as the hash; a maximal salt is refused.
  ASSERT_EQ(Openssl("dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:max "
                    "-sign rsa.pem -out sig data"),
            0)
      << output_;
  EXPECT_FALSE((*rsa)->Verify("PS256", input, Read("sig")));
  // PKCS#1 v1.5 and PSS are not interchangeable.
  ASSERT_EQ(Openssl("dgst -sha256 -sign rsa.pem -out sig data"), 0) << output_;
  EXPECT_TRUE((*rsa)->Verify("RS256", input, Read("sig")));
  EXPECT_FALSE((*rsa)->Verify("PS256", input, Read("sig")));

  // ES256, RFC 7515 A.3 key.
  Write("p256.pem", tv::P256Pkcs8Pem(tv::kRfc7515EcD, tv::kRfc7515EcX, tv::kRfc7515EcY));
  PublicJwk p256_jwk;
  p256_jwk.kty = "EC";
  p256_jwk.crv = "P-256";
  p256_jwk.x = std::string(tv::kRfc7515EcX);
  p256_jwk.y = std::string(tv::kRfc7515EcY);
  auto p256 = PublicKey::FromJwk(p256_jwk);
  ASSERT_TRUE(p256.ok());
  ASSERT_EQ(Openssl("dgst -sha256 -sign p256.pem -out sig data"), 0) << output_;
  const std::string es256 = DerEcdsaToJose(Read("sig"), 32);
  EXPECT_TRUE((*p256)->Verify("ES256", input, es256));
  EXPECT_FALSE((*p256)->Verify("ES256", input, Read("sig")));  // DER is not the JOSE form

  // ES384, a P-384 key made by openssl; x and y from its SubjectPublicKeyInfo.
  ASSERT_EQ(Openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem"), 0)
      << output_;
  ASSERT_EQ(Openssl("pkey -in p384.pem -pubout -outform DER -out p384.der"), 0) << output_;
  const std::string spki = Read("p384.der");
  ASSERT_GE(spki.size(), 97u);
  const std::string point = spki.substr(spki.size() - 97);
  ASSERT_EQ(point[0], '\x04');
  PublicJwk p384_jwk;
  p384_jwk.kty = "EC";
  p384_jwk.crv = "P-384";
  p384_jwk.x = Base64UrlEncode(point.substr(1, 48));
  p384_jwk.y = Base64UrlEncode(point.substr(49, 48));
  auto p384 = PublicKey::FromJwk(p384_jwk);
  ASSERT_TRUE(p384.ok()) << p384.error().message;
  ASSERT_EQ(Openssl("dgst -sha384 -sign p384.pem -out sig data"), 0) << output_;
  const std::string es384 = DerEcdsaToJose(Read("sig"), 48);
  EXPECT_TRUE((*p384)->Verify("ES384", input, es384));
  EXPECT_FALSE((*p384)->Verify("ES256", input, es384));
  EXPECT_FALSE((*p384)->Verify("ES384", input + "x", es384));
  p384_jwk.alg = "ES384";
  EXPECT_TRUE(PublicKey::FromJwk(p384_jwk).ok());
}

// openssl parses the self-signed certificate, finds our key and name in it, and checks its
// self-signature (which fails once a signature byte is changed).
TEST_F(OpensslCliTest, SelfSignedCertificateIsValid) {
  for (KeyKind kind : {KeyKind::kRsa, KeyKind::kEcP256, KeyKind::kEd25519}) {
    SCOPED_TRACE(static_cast<int>(kind));
    auto key = PrivateKey::Generate(kind);
    ASSERT_TRUE(key.ok());
    auto der = (*key)->SelfSignedCertificate("CN=Administrators", 30);
    ASSERT_TRUE(der.ok()) << der.error().message;
    Write("cert.der", *der);
    Write("key.pem", (*key)->ToPem());
    ASSERT_EQ(Openssl("x509 -inform DER -in cert.der -out cert.pem"), 0) << output_;
    ASSERT_EQ(Openssl("x509 -in cert.pem -noout -text"), 0) << output_;
    EXPECT_THAT(output_, HasSubstr("Version: 3"));
    EXPECT_THAT(output_, HasSubstr("Subject: CN = Administrators"));
    EXPECT_THAT(output_, HasSubstr("Issuer: CN = Administrators"));
    EXPECT_THAT(output_, HasSubstr("CA:FALSE"));
    EXPECT_THAT(output_, HasSubstr("Digital Signature"));
    EXPECT_THAT(output_, HasSubstr("Subject Key Identifier"));
    ASSERT_EQ(Openssl("x509 -in cert.pem -noout -pubkey -out cert_pub.pem"), 0) << output_;
    ASSERT_EQ(Openssl("pkey -in key.pem -pubout -out key_pub.pem"), 0) << output_;
    EXPECT_EQ(Read("cert_pub.pem"), Read("key_pub.pem"));
    // Valid for 30 days from now: checkend 29 days passes, 31 days does not.
    EXPECT_EQ(Openssl("x509 -in cert.pem -noout -checkend " + std::to_string(29 * 86400)), 0);
    EXPECT_NE(Openssl("x509 -in cert.pem -noout -checkend " + std::to_string(31 * 86400)), 0);
    EXPECT_EQ(Openssl("verify -check_ss_sig -CAfile cert.pem cert.pem"), 0) << output_;

    std::string bad = *der;
    bad[bad.size() - 5] = static_cast<char>(bad[bad.size() - 5] ^ 0x01);  // inside the signature
    Write("bad.der", bad);
    ASSERT_EQ(Openssl("x509 -inform DER -in bad.der -out bad.pem"), 0) << output_;
    EXPECT_NE(Openssl("verify -check_ss_sig -CAfile bad.pem bad.pem"), 0) << output_;
  }
}

// Keys openssl writes: PKCS#8 of supported kinds load; RSA-1024, P-384, a traditional
// "BEGIN RSA PRIVATE KEY" and an encrypted PKCS#8 are refused (the last without prompting).
TEST_F(OpensslCliTest, FromPemAcceptsOnlySupportedOpensslKeys) {
  ASSERT_EQ(Openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ok_ec.pem"), 0);
  ASSERT_EQ(Openssl("genpkey -algorithm ED25519 -out ok_ed.pem"), 0);
  EXPECT_TRUE(PrivateKey::FromPem(Read("ok_ec.pem")).ok());
  EXPECT_TRUE(PrivateKey::FromPem(Read("ok_ed.pem")).ok());

  ASSERT_EQ(Openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.pem"), 0);
  auto small = PrivateKey::FromPem(Read("rsa1024.pem"));
  ASSERT_FALSE(small.ok());
  EXPECT_THAT(small.error().message, HasSubstr("2048"));

  ASSERT_EQ(Openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem"), 0);
  auto p384 = PrivateKey::FromPem(Read("p384.pem"));
  ASSERT_FALSE(p384.ok());
  EXPECT_THAT(p384.error().message, HasSubstr("P-256"));

  ASSERT_EQ(Openssl("genpkey -algorithm ED448 -out ed448.pem"), 0);
  EXPECT_FALSE(PrivateKey::FromPem(Read("ed448.pem")).ok());

  ASSERT_EQ(Openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem"), 0);
  ASSERT_TRUE(PrivateKey::FromPem(Read("rsa.pem")).ok());
  ASSERT_EQ(Openssl("rsa -in rsa.pem -traditional -out trad.pem"), 0) << output_;
  ASSERT_THAT(Read("trad.pem"), HasSubstr("BEGIN RSA PRIVATE KEY"));
  EXPECT_FALSE(PrivateKey::FromPem(Read("trad.pem")).ok());
  ASSERT_EQ(Openssl("pkcs8 -topk8 -in rsa.pem -v2 aes-256-cbc -passout pass:secret -out enc.pem"),
            0)
      << output_;
  ASSERT_THAT(Read("enc.pem"), HasSubstr("BEGIN ENCRYPTED PRIVATE KEY"));
  EXPECT_FALSE(PrivateKey::FromPem(Read("enc.pem")).ok());
}

}  // namespace
}  // namespace tollgate::crypto
