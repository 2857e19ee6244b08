#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/base64.h"
#include "crypto/keys.h"
#include "crypto/test_vectors.h"

namespace tollgate::crypto {
namespace {

namespace tv = testing;

PublicJwk RsaJwk(std::string_view alg = "") {
  PublicJwk jwk;
  jwk.kty = "RSA";
  jwk.alg = std::string(alg);
  jwk.n = std::string(tv::kRfc7515RsaKey.n);
  jwk.e = "AQAB";
  return jwk;
}

PublicJwk EcJwk(std::string_view alg = "") {
  PublicJwk jwk;
  jwk.kty = "EC";
  jwk.alg = std::string(alg);
  jwk.crv = "P-256";
  jwk.x = std::string(tv::kRfc7515EcX);
  jwk.y = std::string(tv::kRfc7515EcY);
  return jwk;
}

PublicJwk EdJwk(std::string_view alg = "") {
  PublicJwk jwk;
  jwk.kty = "OKP";
  jwk.alg = std::string(alg);
  jwk.crv = "Ed25519";
  jwk.x = std::string(tv::kRfc8037X);
  return jwk;
}

std::shared_ptr<const PublicKey> Load(const PublicJwk& jwk) {
  auto key = PublicKey::FromJwk(jwk);
  EXPECT_TRUE(key.ok()) << key.error().message;
  return key.ok() ? *key : nullptr;
}

// The published signatures of RFC 7515 A.2 (RS256), A.3 (ES256) and RFC 8037 A.4 (EdDSA)
// verify with the published public keys, and stop verifying when anything changes.
TEST(PublicKeyTest, RfcExamplesVerify) {
  struct Case {
    PublicJwk jwk;
    std::string_view alg, input, signature_b64;
  };
  const std::vector<Case> cases = {
      {RsaJwk(), "RS256", tv::kRfc7515Rs256SigningInput, tv::kRfc7515Rs256Signature},
      {EcJwk(), "ES256", tv::kRfc7515Es256SigningInput, tv::kRfc7515Es256Signature},
      {EdJwk(), "EdDSA", tv::kRfc8037SigningInput, tv::kRfc8037Signature},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.alg));
    auto key = Load(c.jwk);
    ASSERT_NE(key, nullptr);
    const std::string sig = tv::B64u(c.signature_b64);
    EXPECT_TRUE(key->Verify(c.alg, c.input, sig));
    // Any altered input or signature byte fails.
    std::string input(c.input);
    input[input.size() - 1] = static_cast<char>(input.back() ^ 0x01);
    EXPECT_FALSE(key->Verify(c.alg, input, sig));
    for (size_t i : {size_t{0}, sig.size() / 2, sig.size() - 1}) {
      std::string bad = sig;
      bad[i] = static_cast<char>(bad[i] ^ 0x80);
      EXPECT_FALSE(key->Verify(c.alg, c.input, bad)) << i;
    }
    // Wrong lengths: empty, one short, one long, doubled.
    EXPECT_FALSE(key->Verify(c.alg, c.input, ""));
    EXPECT_FALSE(key->Verify(c.alg, c.input, sig.substr(0, sig.size() - 1)));
    EXPECT_FALSE(key->Verify(c.alg, c.input, sig + '\0'));
    EXPECT_FALSE(key->Verify(c.alg, c.input, sig + sig));
    // "none" and unknown algs never verify.
    for (std::string_view alg :
         {"none", "None", "", "HS256", "rs256", "ES256K", "Ed448", "ed25519", "EDDSA"}) {
      EXPECT_FALSE(key->Verify(alg, c.input, sig)) << alg;
    }
  }
}

// Every alg against every key type: only the matching family can verify (RFC 8725 §3.1).
TEST(PublicKeyTest, AlgMustMatchKeyType) {
  auto rsa = Load(RsaJwk());
  auto ec = Load(EcJwk());
  auto ed = Load(EdJwk());
  ASSERT_TRUE(rsa && ec && ed);
  const std::string rsa_sig = tv::B64u(tv::kRfc7515Rs256Signature);
  const std::string ec_sig = tv::B64u(tv::kRfc7515Es256Signature);
  const std::string ed_sig = tv::B64u(tv::kRfc8037Signature);
  for (std::string_view alg : {"ES256", "ES384", "EdDSA", "Ed25519", "PS256", "RS384", "RS512"}) {
    EXPECT_FALSE(rsa->Verify(alg, tv::kRfc7515Rs256SigningInput, rsa_sig)) << alg;
  }
  for (std::string_view alg : {"RS256", "PS256", "ES384", "EdDSA", "Ed25519"}) {
    EXPECT_FALSE(ec->Verify(alg, tv::kRfc7515Es256SigningInput, ec_sig)) << alg;
  }
  for (std::string_view alg : {"RS256", "PS256", "ES256", "ES384"}) {
    EXPECT_FALSE(ed->Verify(alg, tv::kRfc8037SigningInput, ed_sig)) << alg;
  }
  // A 64-byte EdDSA signature is not accepted as ES256 by the P-256 key and vice versa.
  EXPECT_FALSE(ec->Verify("ES256", tv::kRfc8037SigningInput, ed_sig));
  EXPECT_FALSE(ed->Verify("EdDSA", tv::kRfc7515Es256SigningInput, ec_sig));
  EXPECT_FALSE(ed->Verify("Ed25519", tv::kRfc7515Es256SigningInput, ec_sig));
}

// A JWK that names its alg verifies that alg only (RFC 7517 §4.4); one whose alg does not suit
// its key type is refused at import.
TEST(PublicKeyTest, JwkAlgRestrictsVerify) {
  auto rs256_only = Load(RsaJwk("RS256"));
  ASSERT_NE(rs256_only, nullptr);
  EXPECT_TRUE(rs256_only->Verify("RS256", tv::kRfc7515Rs256SigningInput,
                                 tv::B64u(tv::kRfc7515Rs256Signature)));
  auto ps256_only = Load(RsaJwk("PS256"));
  ASSERT_NE(ps256_only, nullptr);
  EXPECT_FALSE(ps256_only->Verify("RS256", tv::kRfc7515Rs256SigningInput,
                                  tv::B64u(tv::kRfc7515Rs256Signature)));
  EXPECT_TRUE(Load(EcJwk("ES256")) != nullptr);
  EXPECT_TRUE(Load(EdJwk("EdDSA")) != nullptr);
  EXPECT_TRUE(Load(EdJwk("Ed25519")) != nullptr);
  for (auto [jwk, alg] :
       {std::pair{RsaJwk(), "ES256"}, std::pair{RsaJwk(), "none"}, std::pair{RsaJwk(), "HS256"},
        std::pair{RsaJwk(), "Ed25519"}, std::pair{EcJwk(), "ES384"}, std::pair{EcJwk(), "RS256"},
        std::pair{EcJwk(), "Ed25519"}, std::pair{EcJwk(), "EdDSA"}, std::pair{EdJwk(), "ES256"},
        std::pair{EdJwk(), "Ed448"}, std::pair{EdJwk(), "ed25519"}}) {
    jwk.alg = alg;
    EXPECT_FALSE(PublicKey::FromJwk(jwk).ok()) << jwk.kty << " " << alg;
  }
}

// RFC 9864 §2.2: "Ed25519" is EdDSA with the Ed25519 parameter set, the same signature bytes.
// An Ed25519 JWK that names either alg, or none, verifies a signature under either name; no
// other alg, Ed448 included, and no other key.
TEST(PublicKeyTest, EdDsaAndEd25519AreOneAlgOnAnEd25519Key) {
  const std::string sig = tv::B64u(tv::kRfc8037Signature);
  for (std::string_view jwk_alg : {"", "EdDSA", "Ed25519"}) {
    auto key = Load(EdJwk(jwk_alg));
    ASSERT_NE(key, nullptr) << jwk_alg;
    for (std::string_view alg : {"EdDSA", "Ed25519"}) {
      EXPECT_TRUE(key->Verify(alg, tv::kRfc8037SigningInput, sig)) << jwk_alg << " " << alg;
      std::string bad = sig;
      bad[10] = static_cast<char>(bad[10] ^ 0x01);
      EXPECT_FALSE(key->Verify(alg, tv::kRfc8037SigningInput, bad)) << jwk_alg << " " << alg;
    }
    for (std::string_view alg : {"Ed448", "ES256", "RS256", "none", ""}) {
      EXPECT_FALSE(key->Verify(alg, tv::kRfc8037SigningInput, sig)) << jwk_alg << " " << alg;
    }
  }
  // Only Ed25519 is an OKP curve here: Ed448 (and X25519, not a signing curve) are refused.
  for (std::string_view crv : {"Ed448", "X25519"}) {
    PublicJwk jwk = EdJwk();
    jwk.crv = std::string(crv);
    EXPECT_FALSE(PublicKey::FromJwk(jwk).ok()) << crv;
    jwk.alg = "Ed448";
    EXPECT_FALSE(PublicKey::FromJwk(jwk).ok()) << crv;
  }
}

TEST(PublicKeyTest, FromJwkRejectsMalformedKeys) {
  struct Case {
    std::string name;
    PublicJwk jwk;
    std::string reason;  // a substring of the error: each case fails for its own reason
  };
  std::vector<Case> cases;
  auto add = [&](std::string name, const PublicJwk& jwk, std::string reason) {
    cases.push_back(Case{std::move(name), jwk, std::move(reason)});
  };
  PublicJwk j;

  j = RsaJwk();
  j.kty = "rsa";
  add("kty case", j, "kty/crv");
  j = RsaJwk();
  j.kty = "oct";
  add("oct", j, "kty/crv");
  j = RsaJwk();
  j.kty = "";
  add("no kty", j, "kty/crv");
  j = RsaJwk();
  j.n = "";
  add("no n", j, "n and e");
  j = RsaJwk();
  j.e = "";
  add("no e", j, "n and e");
  j = RsaJwk();
  j.n += "=";
  add("padded n", j, "n and e");
  j = RsaJwk();
  j.n[5] = '+';
  add("std alphabet n", j, "n and e");
  {
    std::string n1024 = tv::B64u(tv::kRfc7515RsaKey.n).substr(0, 128);
    n1024.back() = static_cast<char>(n1024.back() | 1);  // odd, top bit set: exactly 1024 bits
    j = RsaJwk();
    j.n = Base64UrlEncode(n1024);
    add("1024-bit n", j, "modulus must");
  }
  j = RsaJwk();
  j.e = "AQ";
  add("e = 1", j, "exponent");
  j = RsaJwk();
  j.e = "Ag";
  add("even e", j, "exponent");
  j = RsaJwk();
  j.e = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ";
  add("e = 1 with leading zeros", j, "exponent");
  j = RsaJwk();
  j.e = Base64UrlEncode(std::string(9, '\x01'));
  add("e > 64 bits", j, "exponent");
  j = RsaJwk();
  j.e = "Aw";
  add("e = 3", j, "exponent");
  j = RsaJwk();
  j.e = "AQAD";
  add("e = 65539", j, "exponent");
  j = RsaJwk();
  j.e = "AQABAQ";
  add("e = 65537 * 256 + 1", j, "exponent");
  j = RsaJwk();
  j.n = Base64UrlEncode(std::string(255, '\xff') + '\xfe');
  add("even n", j, "modulus is even");
  j = RsaJwk();
  j.n = Base64UrlEncode(std::string(513, '\xff'));
  add("4104-bit n", j, "modulus must");
  j = RsaJwk();
  j.n = Base64UrlEncode(std::string(2048, '\xff'));
  add("16384-bit n", j, "modulus must");

  j = EcJwk();
  j.crv = "P-521";
  add("P-521", j, "kty/crv");
  j = EcJwk();
  j.crv = "secp256k1";
  add("secp256k1", j, "kty/crv");
  j = EcJwk();
  j.crv = "";
  add("no crv", j, "kty/crv");
  j = EcJwk();
  j.x = Base64UrlEncode(tv::B64u(j.x).substr(0, 31));  // padded on the left: another point
  add("31-octet x", j, "not on curve");
  j = EcJwk();
  j.y = "";
  add("no y", j, "coordinate size");
  j = EcJwk();
  j.x = Base64UrlEncode('\0' + tv::B64u(tv::kRfc7515EcX));
  add("33-octet x", j, "coordinate size");
  j = EcJwk();
  j.x.swap(j.y);
  add("point not on curve", j, "not on curve");
  j = EcJwk();
  j.x = Base64UrlEncode(std::string(32, '\0'));
  j.y = Base64UrlEncode(std::string(32, '\0'));
  add("origin", j, "not on curve");
  j = EcJwk();
  j.crv = "P-384";
  add("P-256 coordinates as P-384", j, "not on curve");

  j = EdJwk();
  j.crv = "Ed448";
  add("Ed448", j, "kty/crv");
  j = EdJwk();
  j.crv = "X25519";
  add("X25519", j, "kty/crv");
  j = EdJwk();
  j.x = Base64UrlEncode(tv::B64u(j.x).substr(0, 31));
  add("31-octet x", j, "32 octets");
  j = EdJwk();
  j.y = std::string(tv::kRfc7515EcY);
  add("OKP with y", j, "32 octets");
  j = EdJwk();
  j.kty = "EC";
  add("Ed25519 as EC", j, "kty/crv");

  for (const auto& c : cases) {
    auto key = PublicKey::FromJwk(c.jwk);
    ASSERT_FALSE(key.ok()) << c.name;
    EXPECT_THAT(key.error().message, ::testing::HasSubstr(c.reason)) << c.name;
  }
}

// SPEC §2.2 rule 6: EC coordinates without their leading zero bytes (as authlib 1.2 and PyJWT
// 2.6 write them) are left-padded. Fixed keys whose coordinates start with a zero byte, and a
// signature made with each by python3-cryptography.
TEST(PublicKeyTest, ShortEcCoordinatesAreLeftPadded) {
  struct Case {
    std::string_view crv, alg, x_short, x_full, y_short, y_full, input, signature;
  };
  const Case cases[] = {
      {"P-256", "ES256", "1kbvf8ENcMN4lOFegpsXMqlEMverRlPRuSIlKI8J_g",
       "ANZG73_BDXDDeJThXoKbFzKpRDL3q0ZT0bkiJSiPCf4", "A3lt4BB0k0c48hoCEdI1q_AnxI4-pkKhP6PCJ6vbg3g",
       "A3lt4BB0k0c48hoCEdI1q_AnxI4-pkKhP6PCJ6vbg3g",
       "eyJhbGciOiAiRVMyNTYifQ.eyJsZWFkaW5nIjoiemVybyJ9",
       "3qBaRqT7x7-gZb58eMIgXgJOCg4cWtACSxNYugA5gUylEibhWlZWLy332PpwVrSqAvDf75xyVB-gmqVyrRNC4Q"},
      {"P-384", "ES384", "csbbGQPI5qcaOx9N7gYcb7FyVqiRBHQge3szXvmUGhbMgDERBK1KXZiCfuw-Uew",
       "AHLG2xkDyOanGjsfTe4GHG-xclaokQR0IHt7M175lBoWzIAxEQStSl2Ygn7sPlHs",
       "vwVA1YUbVlpxz0xcqvjGAtM7_AsTT2hIbhw0KtO3CypffBMRhwQcDD9GZccVCJc",
       "AL8FQNWFG1Zacc9MXKr4xgLTO_wLE09oSG4cNCrTtwsqX3wTEYcEHAw_RmXHFQiX",
       "eyJhbGciOiAiRVMzODQifQ.eyJsZWFkaW5nIjoiemVybyJ9",
       "AUYnle-Cp4ISwtByqo_9wAjgXFIFnIB9xe8AqGE28K-rr2qU9GjjRdx7UK08Deiq_"
       "FGf93GyAA16Ya7Of1B8IRQNEAUP"
       "dbot9z0ZfczMfHuNSaxWIWWGsXFLL2LMpv2v"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.crv));
    ASSERT_LT(tv::B64u(c.x_short).size(), tv::B64u(c.x_full).size());  // the edge is exercised
    const std::string sig = tv::B64u(c.signature);
    for (auto [x, y] : {std::pair{c.x_short, c.y_short}, std::pair{c.x_full, c.y_full},
                        std::pair{c.x_short, c.y_full}, std::pair{c.x_full, c.y_short}}) {
      PublicJwk jwk;
      jwk.kty = "EC";
      jwk.crv = std::string(c.crv);
      jwk.x = std::string(x);
      jwk.y = std::string(y);
      auto key = Load(jwk);
      ASSERT_NE(key, nullptr);
      EXPECT_TRUE(key->Verify(c.alg, c.input, sig));
      EXPECT_FALSE(key->Verify(c.alg, std::string(c.input) + "x", sig));
    }
    // A zero byte too many on the left is refused, even though the number is the same.
    PublicJwk jwk;
    jwk.kty = "EC";
    jwk.crv = std::string(c.crv);
    jwk.x = Base64UrlEncode('\0' + tv::B64u(c.x_full));
    jwk.y = std::string(c.y_full);
    EXPECT_FALSE(PublicKey::FromJwk(jwk).ok());
  }
}

// RSA n and e with leading zero octets (as Java's BigInteger.toByteArray() writes them) are
// read as the numbers they encode.
TEST(PublicKeyTest, RsaLeadingZeroOctetsAreAccepted) {
  PublicJwk jwk = RsaJwk();
  jwk.n = Base64UrlEncode('\0' + tv::B64u(tv::kRfc7515RsaKey.n));
  jwk.e = "AAEAAQ";
  auto key = Load(jwk);
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(
      key->Verify("RS256", tv::kRfc7515Rs256SigningInput, tv::B64u(tv::kRfc7515Rs256Signature)));
}

// Hostile input never crashes: random bytes as signatures and inputs, for every alg.
TEST(PublicKeyTest, GarbageNeverVerifies) {
  auto rsa = Load(RsaJwk());
  auto ec = Load(EcJwk());
  auto ed = Load(EdJwk());
  ASSERT_TRUE(rsa && ec && ed);
  const std::vector<std::string_view> algs = {"RS256", "RS384",   "RS512", "PS256",
                                              "PS384", "PS512",   "ES256", "ES384",
                                              "EdDSA", "Ed25519", "none"};
  for (int round = 0; round < 50; ++round) {
    for (size_t len : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{96}, size_t{256},
                       size_t{257}, size_t{512}}) {
      const std::string sig = RandomBytes(len);
      const std::string input = RandomBytes(static_cast<size_t>(round));
      for (auto alg : algs) {
        EXPECT_FALSE(rsa->Verify(alg, input, sig));
        EXPECT_FALSE(ec->Verify(alg, input, sig));
        EXPECT_FALSE(ed->Verify(alg, input, sig));
      }
    }
  }
  // ES256 with r or s zero, or equal to all-ones (>= n), is rejected.
  for (const std::string& sig : {std::string(64, '\0'), std::string(64, '\xff'),
                                 std::string(32, '\0') + std::string(32, '\x01'),
                                 std::string(32, '\x01') + std::string(32, '\0')}) {
    EXPECT_FALSE(ec->Verify("ES256", tv::kRfc7515Es256SigningInput, sig));
  }
}

}  // namespace
}  // namespace tollgate::crypto
