// Tests of crypto/x509.h against the fixed test PKI of crypto/test_pki.h. Every verification
// passes an explicit time, so nothing depends on today.

#include "crypto/x509.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/base64.h"
#include "common/clock.h"
#include "crypto/keys.h"
#include "crypto/test_pki.h"

namespace tollgate::crypto {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The test PKI: crypto/test_pki.h.
using testing::kChildOfNotCaPem;
using testing::kEcKeyPem;
using testing::kEcSelfSignedPem;
using testing::kEd25519KeyPem;
using testing::kEd25519Pem;
using testing::kIntermediatePem;
using testing::kIntermediateX;
using testing::kIntermediateY;
using testing::kLeafKeyPem;
using testing::kLeafPem;
using testing::kLeafSha256Fingerprint;
using testing::kNotCaPem;
using testing::kOtherCaPem;
using testing::kRootPem;
using testing::kServerAuthPem;
using testing::kStrangerPem;

// ---- Helpers ---------------------------------------------------------------------------------

TimePoint At(std::string_view rfc3339) {
  TimePoint t;
  EXPECT_TRUE(ParseRfc3339(rfc3339, t)) << rfc3339;
  return t;
}

// Inside every certificate's validity period; before all of them; after the leaves'.
const TimePoint kInside = At("2027-06-01T00:00:00Z");
const TimePoint kBefore = At("2026-12-01T00:00:00Z");
const TimePoint kAfter = At("2028-01-01T00:00:00Z");

CertificatePtr Load(std::string_view pem) {
  auto cert = Certificate::FromPem(pem);
  EXPECT_TRUE(cert.ok()) << cert.error().message;
  return cert.ok() ? *cert : nullptr;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::string WithoutColonsLower(std::string_view fingerprint) {
  std::string out;
  for (char c : fingerprint) {
    if (c != ':') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// Certificate::HasPublicKey of the key `jwk` describes; false when PublicKey takes no such JWK
// (the keys an application's jwks can hold).
bool HasKey(const Certificate& cert, const PublicJwk& jwk) {
  auto key = PublicKey::FromJwk(jwk);
  return key.ok() && cert.HasPublicKey(**key);
}

PublicJwk JwkOf(std::string_view private_key_pem) {
  auto key = PrivateKey::FromPem(private_key_pem);
  EXPECT_TRUE(key.ok()) << key.error().message;
  return key.ok() ? (*key)->Public() : PublicJwk{};
}

// `member` (base64url) with `zeros` zero octets prepended.
std::string ZeroPadded(std::string_view member, size_t zeros) {
  auto bytes = Base64UrlDecode(member);
  EXPECT_TRUE(bytes.has_value());
  return Base64UrlEncode(std::string(zeros, '\0') + bytes.value_or(""));
}

std::string Bytes(std::initializer_list<int> octets) {
  std::string out;
  for (int o : octets) out.push_back(static_cast<char>(o));
  return out;
}

// ---- Certificate: parsing --------------------------------------------------------------------

TEST(CertificateTest, FromPemAcceptsEveryTestCertificate) {
  for (std::string_view pem :
       {kRootPem, kIntermediatePem, kLeafPem, kServerAuthPem, kOtherCaPem, kStrangerPem, kNotCaPem,
        kChildOfNotCaPem, kEcSelfSignedPem, kEd25519Pem}) {
    auto cert = Certificate::FromPem(pem);
    ASSERT_TRUE(cert.ok()) << cert.error().message;
    EXPECT_EQ((*cert)->Pem(), pem);
  }
}

TEST(CertificateTest, FromPemAllowsSurroundingWhitespaceAndCrLf) {
  const std::string pem(kLeafPem);
  auto spaced = Certificate::FromPem("\n \t\r\n" + pem + "\n\n  \t\r\n");
  ASSERT_TRUE(spaced.ok()) << spaced.error().message;
  EXPECT_EQ((*spaced)->Pem(), kLeafPem);

  std::string crlf;
  for (char c : pem) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto dos = Certificate::FromPem(crlf);
  ASSERT_TRUE(dos.ok()) << dos.error().message;
  EXPECT_EQ((*dos)->Pem(), kLeafPem);
}

TEST(CertificateTest, FromPemRejects) {
  const std::string leaf(kLeafPem);
  const std::string body = leaf.substr(leaf.find('\n') + 1);  // after the BEGIN line
  auto rename = [&](std::string_view type) {
    std::string out = leaf;
    for (std::string_view marker : {"BEGIN ", "END "}) {
      const size_t at = out.find(std::string(marker) + "CERTIFICATE");
      out.replace(at + marker.size(), std::string_view("CERTIFICATE").size(), type);
    }
    return out;
  };
  std::string corrupted = leaf;
  corrupted[100] = '*';
  std::string oversize = leaf + std::string(kMaxCertificateBytes, ' ');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"whitespace only", " \n\t\n"},
      {"garbage", "not a certificate at all"},
      {"text before the block", "subject=CN=client one\n" + leaf},
      {"text after the block", leaf + "trailing text\n"},
      {"a byte after the block", leaf + "x"},
      {"two certificates", leaf + std::string(kRootPem)},
      {"certificate and key", leaf + std::string(kLeafKeyPem)},
      {"a private key", std::string(kLeafKeyPem)},
      {"X509 CERTIFICATE", rename("X509 CERTIFICATE")},
      {"TRUSTED CERTIFICATE", rename("TRUSTED CERTIFICATE")},
      {"no END line", leaf.substr(0, leaf.find("-----END"))},
      {"no BEGIN line", body},
      {"corrupted base64", corrupted},
      {"headers",
       "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n"
       "DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n" +
           body},
      {"not DER inside", "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n"},
      {"a certificate request", "-----BEGIN CERTIFICATE REQUEST-----\n" + body},
      {"oversize (even if whitespace)", oversize},
  };
  for (const auto& [name, pem] : cases) {
    auto cert = Certificate::FromPem(pem);
    EXPECT_FALSE(cert.ok()) << name;
    if (!cert.ok()) {
      EXPECT_FALSE(cert.error().message.empty()) << name;
    }
  }
}

TEST(CertificateTest, DerRoundTrip) {
  CertificatePtr leaf = Load(kLeafPem);
  ASSERT_NE(leaf, nullptr);
  // The PEM body is the DER.
  const std::string pem(kLeafPem);
  std::string base64;
  for (char c : pem.substr(pem.find('\n') + 1, pem.find("-----END") - pem.find('\n') - 1)) {
    if (c != '\n') base64 += c;
  }
  EXPECT_EQ(Base64Encode(leaf->Der()), base64);
  EXPECT_EQ(leaf->Der().substr(0, 2), "\x30\x82");

  auto again = Certificate::FromDer(leaf->Der());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->Der(), leaf->Der());
  EXPECT_EQ((*again)->Pem(), kLeafPem);
  EXPECT_EQ((*again)->SubjectDn(), leaf->SubjectDn());
}

TEST(CertificateTest, FromDerRejects) {
  CertificatePtr leaf = Load(kLeafPem);
  CertificatePtr root = Load(kRootPem);
  ASSERT_NE(leaf, nullptr);
  ASSERT_NE(root, nullptr);
  const std::string& der = leaf->Der();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"garbage", "garbage"},
      {"a trailing zero byte", der + std::string(1, '\0')},
      {"a trailing byte", der + "x"},
      {"two certificates", der + root->Der()},
      {"truncated", der.substr(0, der.size() - 1)},
      {"header only", der.substr(0, 4)},
      {"PEM instead of DER", std::string(kLeafPem)},
      {"oversize", std::string(kMaxCertificateBytes + 1, '\x30')},
  };
  for (const auto& [name, bytes] : cases) {
    EXPECT_FALSE(Certificate::FromDer(bytes).ok()) << name;
  }
  auto big = Certificate::FromDer(std::string(kMaxCertificateBytes + 1, '\x30'));
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().message, HasSubstr("too large"));
}

// ---- Certificate: fields ---------------------------------------------------------------------

TEST(CertificateTest, Sha256ThumbprintIsOpensslFingerprint) {
  CertificatePtr leaf = Load(kLeafPem);
  ASSERT_NE(leaf, nullptr);
  ASSERT_EQ(leaf->Sha256Thumbprint().size(), 32u);
  EXPECT_EQ(Hex(leaf->Sha256Thumbprint()), WithoutColonsLower(kLeafSha256Fingerprint));
  EXPECT_EQ(leaf->Sha256Thumbprint(), Sha256(leaf->Der()));
  // RFC 8705 §3.1: x5t#S256 is its base64url.
  EXPECT_EQ(Base64UrlEncode(leaf->Sha256Thumbprint()),
            "Dkd6pGGpMWEJVF2-PN7eMrTDFAMU87beNSBllVvFtgU");
}

TEST(CertificateTest, LeafFields) {
  CertificatePtr leaf = Load(kLeafPem);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(leaf->SubjectDn(), "CN=client one,O=Example Corp,C=US");
  EXPECT_EQ(leaf->IssuerDn(), "CN=Tollgate Test Intermediate CA,O=Example Corp,C=US");
  // Written as 0x00a1b2...: no leading zeros, lower case.
  EXPECT_EQ(leaf->SerialNumberHex(), "a1b2c3d4e5f60718293a4b5c6d7e8f90");
  EXPECT_EQ(leaf->NotBefore(), At("2026-12-07T02:38:06Z"));
  EXPECT_EQ(leaf->NotAfter(), At("2027-12-07T02:38:06Z"));
  EXPECT_FALSE(leaf->IsCa());
}

TEST(CertificateTest, CaFields) {
  CertificatePtr root = Load(kRootPem);
  CertificatePtr intermediate = Load(kIntermediatePem);
  ASSERT_NE(root, nullptr);
  ASSERT_NE(intermediate, nullptr);
  EXPECT_EQ(root->SubjectDn(), "CN=Tollgate Test Root CA,O=Example Corp,C=US");
  EXPECT_EQ(root->IssuerDn(), root->SubjectDn());
  EXPECT_EQ(root->SerialNumberHex(), "1");
  EXPECT_EQ(root->NotBefore(), At("2026-12-07T02:38:06Z"));
  EXPECT_EQ(root->NotAfter(), At("2036-12-04T02:38:06Z"));
  EXPECT_TRUE(root->IsCa());
  EXPECT_EQ(intermediate->IssuerDn(), root->SubjectDn());
  EXPECT_EQ(intermediate->SerialNumberHex(), "2");
  EXPECT_EQ(intermediate->NotAfter(), At("2035-02-23T02:38:06Z"));
  EXPECT_TRUE(intermediate->IsCa());
}

TEST(CertificateTest, OtherFields) {
  CertificatePtr ed = Load(kEd25519Pem);
  CertificatePtr server = Load(kServerAuthPem);
  CertificatePtr not_ca = Load(kNotCaPem);
  ASSERT_NE(ed, nullptr);
  ASSERT_NE(server, nullptr);
  ASSERT_NE(not_ca, nullptr);
  EXPECT_EQ(ed->SubjectDn(), "CN=ed25519 client");
  EXPECT_EQ(ed->IssuerDn(), "CN=ed25519 client");
  EXPECT_EQ(ed->SerialNumberHex(), "0");
  EXPECT_EQ(ed->NotBefore(), At("2026-12-07T02:38:07Z"));
  EXPECT_FALSE(ed->IsCa());
  EXPECT_EQ(server->SerialNumberHex(), "1003");
  EXPECT_THAT(server->SanDns(), ElementsAre("server.example.com"));
  EXPECT_FALSE(server->IsCa());
  EXPECT_FALSE(not_ca->IsCa());  // basicConstraints present with cA false
}

// RFC 4514 §2.4 escaping, multi-valued RDNs (OpenSSL prints a set's members last-first) and
// UTF-8 kept as UTF-8.
TEST(CertificateTest, SubjectDnEscapesAndKeepsUtf8) {
  CertificatePtr ec = Load(kEcSelfSignedPem);
  ASSERT_NE(ec, nullptr);
  EXPECT_EQ(ec->SubjectDn(), "CN=Jörg Müller+UID=jm,OU=\\#1 R\\+D\\; lab,O=Acme\\, Inc.,C=DE");
  EXPECT_EQ(ec->IssuerDn(), ec->SubjectDn());
  EXPECT_EQ(ec->SerialNumberHex(), "20");
}

TEST(CertificateTest, SubjectAltNamesOfEveryType) {
  CertificatePtr leaf = Load(kLeafPem);
  ASSERT_NE(leaf, nullptr);
  EXPECT_THAT(leaf->SanDns(), ElementsAre("client.example.com", "alt.example.com"));
  EXPECT_THAT(leaf->SanUri(), ElementsAre("spiffe://example.com/client"));
  EXPECT_THAT(leaf->SanEmail(), ElementsAre("client@example.com"));
  EXPECT_THAT(leaf->SanIp(),
              ElementsAre(Bytes({192, 0, 2, 7}),
                          Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7})));
  EXPECT_EQ(leaf->SanIp().at(0), ParseIpAddress("192.0.2.7"));
  EXPECT_EQ(leaf->SanIp().at(1), ParseIpAddress("2001:db8::7"));
}

TEST(CertificateTest, NoSubjectAltNames) {
  CertificatePtr root = Load(kRootPem);
  ASSERT_NE(root, nullptr);
  EXPECT_THAT(root->SanDns(), IsEmpty());
  EXPECT_THAT(root->SanUri(), IsEmpty());
  EXPECT_THAT(root->SanEmail(), IsEmpty());
  EXPECT_THAT(root->SanIp(), IsEmpty());
}

// ---- Certificate: public keys ----------------------------------------------------------------

TEST(CertificateTest, HasPublicKeyRsa) {
  CertificatePtr leaf = Load(kLeafPem);
  ASSERT_NE(leaf, nullptr);
  const PublicJwk jwk = JwkOf(kLeafKeyPem);
  ASSERT_EQ(jwk.kty, "RSA");
  EXPECT_TRUE(HasKey(*leaf, jwk));
  PublicJwk no_alg = jwk;
  no_alg.alg.clear();
  EXPECT_TRUE(HasKey(*leaf, no_alg));
  PublicJwk padded = jwk;
  padded.n = ZeroPadded(jwk.n, 1);
  padded.e = ZeroPadded(jwk.e, 2);
  EXPECT_TRUE(HasKey(*leaf, padded));

  auto other = PrivateKey::Generate(KeyKind::kRsa);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(HasKey(*leaf, (*other)->Public()));
  PublicJwk other_e = jwk;
  other_e.e = "Aw";  // 3
  EXPECT_FALSE(HasKey(*leaf, other_e));
  PublicJwk flipped = jwk;
  flipped.n[10] = flipped.n[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(HasKey(*leaf, flipped));
  PublicJwk wrong_kty = jwk;
  wrong_kty.kty = "EC";
  EXPECT_FALSE(HasKey(*leaf, wrong_kty));
  PublicJwk bad_base64 = jwk;
  bad_base64.n += "=";
  EXPECT_FALSE(HasKey(*leaf, bad_base64));
  EXPECT_FALSE(HasKey(*leaf, PublicJwk{}));
  EXPECT_FALSE(HasKey(*leaf, JwkOf(kEcKeyPem)));
}

TEST(CertificateTest, HasPublicKeyEcP256) {
  CertificatePtr ec = Load(kEcSelfSignedPem);
  ASSERT_NE(ec, nullptr);
  const PublicJwk jwk = JwkOf(kEcKeyPem);
  ASSERT_EQ(jwk.crv, "P-256");
  EXPECT_TRUE(HasKey(*ec, jwk));
  PublicJwk padded = jwk;
  padded.x = ZeroPadded(jwk.x, 1);
  padded.y = ZeroPadded(jwk.y, 2);
  // PublicKey takes coordinates of at most the curve's width, as an application's jwks does.
  EXPECT_FALSE(HasKey(*ec, padded));

  PublicJwk swapped = jwk;
  std::swap(swapped.x, swapped.y);
  EXPECT_FALSE(HasKey(*ec, swapped));
  PublicJwk p384 = jwk;
  p384.crv = "P-384";
  EXPECT_FALSE(HasKey(*ec, p384));
  PublicJwk no_y = jwk;
  no_y.y.clear();
  EXPECT_FALSE(HasKey(*ec, no_y));
  PublicJwk too_long = jwk;
  too_long.x = Base64UrlEncode(std::string(33, '\x01'));
  EXPECT_FALSE(HasKey(*ec, too_long));
  auto other = PrivateKey::Generate(KeyKind::kEcP256);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(HasKey(*ec, (*other)->Public()));
  EXPECT_FALSE(HasKey(*ec, JwkOf(kLeafKeyPem)));
}

TEST(CertificateTest, HasPublicKeyEcP384) {
  CertificatePtr intermediate = Load(kIntermediatePem);
  ASSERT_NE(intermediate, nullptr);
  PublicJwk jwk;
  jwk.kty = "EC";
  jwk.crv = "P-384";
  jwk.x = kIntermediateX;
  jwk.y = kIntermediateY;
  EXPECT_TRUE(HasKey(*intermediate, jwk));
  PublicJwk padded = jwk;
  padded.x = ZeroPadded(jwk.x, 1);
  EXPECT_FALSE(HasKey(*intermediate, padded));  // wider than the curve, as for P-256
  PublicJwk p256 = jwk;
  p256.crv = "P-256";
  EXPECT_FALSE(HasKey(*intermediate, p256));
  PublicJwk swapped = jwk;
  std::swap(swapped.x, swapped.y);
  EXPECT_FALSE(HasKey(*intermediate, swapped));
}

TEST(CertificateTest, HasPublicKeyEd25519) {
  CertificatePtr ed = Load(kEd25519Pem);
  ASSERT_NE(ed, nullptr);
  const PublicJwk jwk = JwkOf(kEd25519KeyPem);
  ASSERT_EQ(jwk.kty, "OKP");
  EXPECT_TRUE(HasKey(*ed, jwk));
  // x is an octet string, not a number: a 33rd octet is another (invalid) key.
  PublicJwk padded = jwk;
  padded.x = ZeroPadded(jwk.x, 1);
  EXPECT_FALSE(HasKey(*ed, padded));
  PublicJwk ed448 = jwk;
  ed448.crv = "Ed448";
  EXPECT_FALSE(HasKey(*ed, ed448));
  auto other = PrivateKey::Generate(KeyKind::kEd25519);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(HasKey(*ed, (*other)->Public()));
  EXPECT_FALSE(HasKey(*ed, JwkOf(kEcKeyPem)));
}

// ---- Distinguished names ---------------------------------------------------------------------

TEST(NormalizeDnTest, EqualNamesGiveEqualStrings) {
  constexpr std::string_view kCanonical = "CN=client one,O=example corp,C=us";
  for (std::string_view dn : {
           "CN=client one,O=Example Corp,C=US",
           "cn=Client One,o=EXAMPLE CORP,c=us",
           "Cn=client one,oRGANIZATIONnAME=Example Corp,C=US",
           "commonName=client one,organizationName=Example Corp,countryName=US",
           "2.5.4.3=client one,2.5.4.10=Example Corp,2.5.4.6=US",
           "  CN = client one ,  O =Example Corp,C=  US  ",
           "CN=client    one,O=Example  Corp,C=US",
           R"(CN=client\20one,O=Example\ Corp,C=\55\53)",
           "CN=\\ client one\\ ,O=Example Corp,C=US",
           "CN=\\63lient one,O=Example Corp,C=US",
       }) {
    EXPECT_EQ(NormalizeDn(dn), kCanonical) << dn;
  }
}

TEST(NormalizeDnTest, Table) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"CN=x", "CN=x"},
      {"COMMONNAME=x", "CN=x"},
      // OpenSSL names streetAddress "street".
      {"l=Paris,st=IdF,STREET=1 Main St", "L=paris,ST=idf,street=1 main st"},
      {"ou=Unit,dc=Example,DC=COM", "OU=unit,DC=example,DC=com"},
      // RFC 4514 §3: UID is userId, whatever case; OpenSSL's own "uid" is another type.
      {"uid=JM", "UID=jm"},
      {"Uid=jm", "UID=jm"},
      {"userId=jm", "UID=jm"},
      {"0.9.2342.19200300.100.1.1=jm", "UID=jm"},
      {"uniqueIdentifier=jm", "0.9.2342.19200300.100.1.44=jm"},
      {"emailAddress=Client@Example.COM", "emailAddress=client@example.com"},
      {"1.2.840.113549.1.9.1=a@b", "emailAddress=a@b"},
      // Unknown to OpenSSL but a valid OID.
      {"1.3.6.1.4.1.99999.1=Value", "1.3.6.1.4.1.99999.1=value"},
      // Multi-valued RDNs: members sorted.
      {"UID=jm+CN=x", "CN=x+UID=jm"},
      {"CN=x + UID=jm", "CN=x+UID=jm"},
      {"CN=b+CN=a,O=o", "CN=a+CN=b,O=o"},
      // Escapes: of special characters, of hex pairs; the output escapes what it must.
      {"CN=a\\,b", "CN=a\\,b"},
      {"CN=a\\2cb", "CN=a\\,b"},
      {"CN=a\\+b", "CN=a\\+b"},
      {"CN=a\\;b", "CN=a\\;b"},
      {R"(CN=a\"b\")", R"(CN=a\"b\")"},
      {"CN=\\<a\\>", "CN=\\<a\\>"},
      {"CN=a\\\\b", "CN=a\\\\b"},
      {"CN=\\#1", "CN=\\#1"},
      {"CN=\\231", "CN=\\#1"},
      {"CN=1#", "CN=1#"},
      {"CN=a\\=b", "CN=a=b"},
      {"CN=a=b", "CN=a=b"},
      {"CN=\\4C\\4c", "CN=ll"},
      {"CN=\\00", "CN=\\00"},
      {"CN=J\\C3\\B6RG", "CN=jörg"},  // ASCII-only case folding
      {"CN=JÖRG", "CN=jÖrg"},
      {"CN=", "CN="},
      {"CN=  ", "CN="},
  };
  for (const auto& [dn, canonical] : cases) {
    EXPECT_EQ(NormalizeDn(dn), canonical) << dn;
    // The canonical form is itself an RFC 4514 name with the same canonical form.
    EXPECT_EQ(NormalizeDn(canonical), canonical) << canonical;
  }
}

TEST(NormalizeDnTest, OrderOfRdnsMatters) {
  EXPECT_NE(NormalizeDn("CN=a,O=b"), NormalizeDn("O=b,CN=a"));
  EXPECT_NE(NormalizeDn("CN=a,O=b"), NormalizeDn("CN=a+O=b"));
  EXPECT_NE(NormalizeDn("CN=a\\,O=b"), NormalizeDn("CN=a,O=b"));
  EXPECT_NE(NormalizeDn("CN=a\\+O=b"), NormalizeDn("CN=a+O=b"));
  EXPECT_NE(NormalizeDn("Mail=a"), NormalizeDn("mail=a"));  // two types in OpenSSL
}

TEST(NormalizeDnTest, Rejects) {
  for (std::string_view dn : {
           "",
           "   ",
           "CN",
           "CN a",
           "=a",
           "CN=a,",
           ",CN=a",
           "CN=a,,O=b",
           "CN=a+",
           "+CN=a",
           "CN=a;O=b",         // RFC 2253's ';' separator is not RFC 4514
           "CN=a\"b",          // must be escaped
           "CN=<a>",           // must be escaped
           "CN=a\\",           // dangling escape
           "CN=a\\q",          // not an escapable character
           "CN=a\\4",          // half a hex pair
           "CN=a\\4g",         //
           "CN=\\ff",          // not UTF-8
           "CN=\\c3",          // truncated UTF-8
           R"(CN=\ed\a0\80)",  // a UTF-16 surrogate
           "CN=#04024869",     // hexstring (BER) form: refused
           "bogusAttribute=a",
           "XYZZY=a",
           "MAIL=a",  // "Mail" and "mail" are two types: ambiguous
           "C N=a",
           "OID.2.5.4.3=a",
           "2.5.4.03=a",  // leading zero in an arc
           "01.2=a",
           "2=a",  // one arc
           "2.5.=a",
           ".2.5=a",
           "2..5=a",
           "-CN=a",
           "CN_1=a",
       }) {
    EXPECT_EQ(NormalizeDn(dn), std::nullopt) << dn;
  }
  EXPECT_EQ(NormalizeDn(std::string_view("CN=a\0b", 6)), std::nullopt);
  EXPECT_EQ(NormalizeDn(std::string(200, 'A') + "=a"), std::nullopt);
}

TEST(NormalizeDnTest, SubjectIsLeaf) {
  CertificatePtr leaf = Load(kLeafPem);
  ASSERT_NE(leaf, nullptr);
  for (std::string_view dn :
       {"CN=client one,O=Example Corp,C=US", "cn = CLIENT ONE , o = example corp , c = us",
        "2.5.4.3=client one,organizationName=Example  Corp,C=US"}) {
    auto normalized = NormalizeDn(dn);
    ASSERT_TRUE(normalized.has_value()) << dn;
    EXPECT_TRUE(leaf->SubjectIs(*normalized)) << dn;
  }
  for (std::string_view dn :
       {"C=US,O=Example Corp,CN=client one", "CN=client one,O=Example Corp",
        "CN=client one,O=Example Corp,C=US,DC=com", "CN=client one+UID=x,O=Example Corp,C=US",
        "CN=client one+O=Example Corp,C=US", "CN=client,O=Example Corp,C=US",
        "CN=Tollgate Test Intermediate CA,O=Example Corp,C=US"}) {
    auto normalized = NormalizeDn(dn);
    ASSERT_TRUE(normalized.has_value()) << dn;
    EXPECT_FALSE(leaf->SubjectIs(*normalized)) << dn;
  }
  // Only NormalizeDn's output: the name as printed is not canonical.
  EXPECT_FALSE(leaf->SubjectIs(leaf->SubjectDn()));
  EXPECT_FALSE(leaf->SubjectIs(""));
  // The name only: the unrelated CA's certificate with the same subject matches too.
  CertificatePtr stranger = Load(kStrangerPem);
  ASSERT_NE(stranger, nullptr);
  EXPECT_TRUE(stranger->SubjectIs(*NormalizeDn("CN=client one,O=Example Corp,C=US")));
}

TEST(NormalizeDnTest, SubjectIsMultiValuedEscapedUtf8) {
  CertificatePtr ec = Load(kEcSelfSignedPem);
  ASSERT_NE(ec, nullptr);
  constexpr std::string_view kCanonical =
      "CN=jörg müller+UID=jm,OU=\\#1 r\\+d\\; lab,O=acme\\, inc.,C=de";
  EXPECT_TRUE(ec->SubjectIs(kCanonical));
  for (std::string_view dn : {
           "CN=Jörg Müller+UID=jm,OU=\\#1 R\\+D\\; lab,O=Acme\\, Inc.,C=DE",  // SubjectDn()
           "uid = JM + cn = Jörg   Müller, ou=\\231 R\\2BD\\3B LAB, o=Acme\\2C Inc., c=de",
           "CN=J\\C3\\B6rg M\\C3\\BCller+0.9.2342.19200300.100.1.1=jm,OU=\\#1 R\\+D\\; lab,"
           "O=Acme\\, Inc.,C=DE",
       }) {
    EXPECT_EQ(NormalizeDn(dn), kCanonical) << dn;
  }
  EXPECT_FALSE(
      ec->SubjectIs(*NormalizeDn("CN=Jörg Müller,UID=jm,OU=\\#1 R\\+D\\; lab,"
                                 "O=Acme\\, Inc.,C=DE")));
  EXPECT_FALSE(
      ec->SubjectIs(*NormalizeDn("CN=JÖRG MÜLLER+UID=jm,OU=\\#1 R\\+D\\; lab,"
                                 "O=Acme\\, Inc.,C=DE")));
  EXPECT_EQ(ec->SubjectDn(), "CN=Jörg Müller+UID=jm,OU=\\#1 R\\+D\\; lab,O=Acme\\, Inc.,C=DE");
}

// ---- IP addresses ----------------------------------------------------------------------------

TEST(ParseIpAddressTest, Accepts) {
  const std::vector<std::pair<std::string_view, std::string>> cases = {
      {"192.0.2.7", Bytes({192, 0, 2, 7})},
      {"0.0.0.0", Bytes({0, 0, 0, 0})},
      {"255.255.255.255", Bytes({255, 255, 255, 255})},
      {"2001:db8::7", Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7})},
      {"2001:DB8:0:0:0:0:0:7", Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7})},
      {"::", std::string(16, '\0')},
      {"::1", Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
      {"::ffff:192.0.2.7", Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7})},
  };
  for (const auto& [text, bytes] : cases) {
    EXPECT_EQ(ParseIpAddress(text), bytes) << text;
  }
}

TEST(ParseIpAddressTest, Rejects) {
  for (std::string_view text : {
           "",
           " 192.0.2.7",
           "192.0.2.7 ",
           "192.0.2",
           "192.0.2.256",
           "192.0.2.07",
           "1.2.3.4.5",
           "0x7f.0.0.1",
           "localhost",
           "[2001:db8::7]",
           "fe80::1%eth0",
           "2001:db8::7::1",
           "2001:db8:0:0:0:0:0:0:7",
           "12345::",
           ":",
           "1:2:3:4:5:6:7:8:9:0:1:2:3:4:5:6:7:8:9:0:1:2:3:4:5",
       }) {
    EXPECT_EQ(ParseIpAddress(text), std::nullopt) << text;
  }
  EXPECT_EQ(ParseIpAddress(std::string_view("192.0.2.7\0", 10)), std::nullopt);
}

// ---- TrustAnchors ----------------------------------------------------------------------------

class TrustAnchorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = Load(kRootPem);
    intermediate_ = Load(kIntermediatePem);
    leaf_ = Load(kLeafPem);
    server_ = Load(kServerAuthPem);
    other_ca_ = Load(kOtherCaPem);
    stranger_ = Load(kStrangerPem);
    not_ca_ = Load(kNotCaPem);
    child_ = Load(kChildOfNotCaPem);
    ec_ = Load(kEcSelfSignedPem);
    ed_ = Load(kEd25519Pem);
    for (const CertificatePtr& cert :
         {root_, intermediate_, leaf_, server_, other_ca_, stranger_, not_ca_, child_, ec_, ed_}) {
      ASSERT_NE(cert, nullptr);
    }
  }

  static std::shared_ptr<const TrustAnchors> Anchors(std::vector<CertificatePtr> cas) {
    auto anchors = TrustAnchors::Create(cas);
    EXPECT_TRUE(anchors.ok()) << anchors.error().message;
    return anchors.ok() ? *anchors : nullptr;
  }

  // The error message, or "ok".
  static std::string Check(const TrustAnchors& anchors, const CertificatePtr& leaf,
                           std::vector<CertificatePtr> intermediates, TimePoint now = kInside) {
    auto result = anchors.Verify(*leaf, intermediates, now);
    return result.ok() ? "ok" : result.error().message;
  }

  CertificatePtr root_, intermediate_, leaf_, server_, other_ca_, stranger_, not_ca_, child_, ec_,
      ed_;
};

TEST_F(TrustAnchorsTest, LeafThroughUntrustedIntermediate) {
  auto anchors = Anchors({root_});
  ASSERT_NE(anchors, nullptr);
  EXPECT_EQ(Check(*anchors, leaf_, {intermediate_}), "ok");
  // Extra certificates the client sends do no harm.
  EXPECT_EQ(Check(*anchors, leaf_, {other_ca_, intermediate_, root_, ec_}), "ok");
  EXPECT_EQ(Check(*anchors, not_ca_, {intermediate_}), "ok");
}

TEST_F(TrustAnchorsTest, IntermediateAsAnchorIsAPartialChain) {
  auto anchors = Anchors({intermediate_});
  ASSERT_NE(anchors, nullptr);
  EXPECT_EQ(Check(*anchors, leaf_, {}), "ok");
  EXPECT_EQ(Check(*anchors, leaf_, {root_}), "ok");
}

TEST_F(TrustAnchorsTest, SelfSignedLeafAsItsOwnAnchor) {
  auto anchors = Anchors({ec_, ed_});
  ASSERT_NE(anchors, nullptr);
  EXPECT_EQ(Check(*anchors, ec_, {}), "ok");
  EXPECT_EQ(Check(*anchors, ed_, {}), "ok");
  EXPECT_NE(Check(*anchors, leaf_, {intermediate_}), "ok");
}

TEST_F(TrustAnchorsTest, MissingIntermediateFails) {
  auto anchors = Anchors({root_});
  ASSERT_NE(anchors, nullptr);
  EXPECT_THAT(Check(*anchors, leaf_, {}), HasSubstr("unable to get local issuer certificate"));
  EXPECT_THAT(Check(*anchors, leaf_, {other_ca_}), HasSubstr("unable to get local issuer"));
}

TEST_F(TrustAnchorsTest, UnrelatedCaFails) {
  auto others = Anchors({other_ca_});
  ASSERT_NE(others, nullptr);
  EXPECT_EQ(Check(*others, stranger_, {}), "ok");
  EXPECT_NE(Check(*others, leaf_, {intermediate_}), "ok");
  EXPECT_NE(Check(*others, leaf_, {intermediate_, root_}), "ok");
  auto ours = Anchors({root_});
  ASSERT_NE(ours, nullptr);
  // Same subject as the leaf, another issuer.
  EXPECT_NE(Check(*ours, stranger_, {intermediate_}), "ok");
  EXPECT_NE(Check(*ours, stranger_, {other_ca_}), "ok");
  auto both = Anchors({root_, other_ca_});
  ASSERT_NE(both, nullptr);
  EXPECT_EQ(Check(*both, stranger_, {}), "ok");
  EXPECT_EQ(Check(*both, leaf_, {intermediate_}), "ok");
}

TEST_F(TrustAnchorsTest, ValidityPeriodAtTheGivenTime) {
  auto anchors = Anchors({root_});
  ASSERT_NE(anchors, nullptr);
  EXPECT_THAT(Check(*anchors, leaf_, {intermediate_}, kBefore),
              HasSubstr("certificate is not yet valid"));
  EXPECT_THAT(Check(*anchors, leaf_, {intermediate_}, kAfter),
              HasSubstr("certificate has expired"));
  const std::chrono::seconds second(1);
  EXPECT_EQ(Check(*anchors, leaf_, {intermediate_}, leaf_->NotBefore()), "ok");
  EXPECT_NE(Check(*anchors, leaf_, {intermediate_}, leaf_->NotBefore() - second), "ok");
  EXPECT_EQ(Check(*anchors, leaf_, {intermediate_}, leaf_->NotAfter() - second), "ok");
  EXPECT_NE(Check(*anchors, leaf_, {intermediate_}, leaf_->NotAfter() + second), "ok");
  // The anchor's own period counts too.
  auto partial = Anchors({intermediate_});
  ASSERT_NE(partial, nullptr);
  EXPECT_THAT(Check(*partial, leaf_, {}, At("2035-06-01T00:00:00Z")), HasSubstr("expired"));
}

TEST_F(TrustAnchorsTest, ServerAuthOnlyFails) {
  auto anchors = Anchors({root_});
  ASSERT_NE(anchors, nullptr);
  EXPECT_THAT(Check(*anchors, server_, {intermediate_}),
              HasSubstr("unsuitable certificate purpose"));
  // Still a valid chain apart from its purpose.
  EXPECT_NE(server_->SanDns().size(), 0u);
}

TEST_F(TrustAnchorsTest, EmptyAnchorsVerifyNothing) {
  auto anchors = Anchors({});
  ASSERT_NE(anchors, nullptr);
  EXPECT_NE(Check(*anchors, leaf_, {intermediate_, root_}), "ok");
  EXPECT_NE(Check(*anchors, ec_, {}), "ok");
}

TEST_F(TrustAnchorsTest, NonCaIssuerFails) {
  auto anchors = Anchors({root_});
  ASSERT_NE(anchors, nullptr);
  EXPECT_THAT(Check(*anchors, child_, {intermediate_, not_ca_}),
              HasSubstr("invalid CA certificate"));
  auto partial = Anchors({not_ca_});
  ASSERT_NE(partial, nullptr);
  EXPECT_NE(Check(*partial, child_, {}), "ok");
}

TEST_F(TrustAnchorsTest, DuplicateAnchorsAreHarmless) {
  auto anchors = Anchors({root_, Load(kRootPem), root_});
  ASSERT_NE(anchors, nullptr);
  EXPECT_EQ(Check(*anchors, leaf_, {intermediate_}), "ok");
}

TEST_F(TrustAnchorsTest, NullCertificatesFail) {
  EXPECT_FALSE(TrustAnchors::Create(std::vector<CertificatePtr>{root_, nullptr}).ok());
  auto anchors = Anchors({root_});
  ASSERT_NE(anchors, nullptr);
  EXPECT_NE(Check(*anchors, leaf_, {intermediate_, nullptr}), "ok");
}

TEST_F(TrustAnchorsTest, ManyThreadsVerifyAtOnce) {
  auto anchors = Anchors({root_, other_ca_});
  ASSERT_NE(anchors, nullptr);
  std::atomic<int> failures{0};
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        const std::vector<CertificatePtr> chain = {intermediate_};
        if (!anchors->Verify(*leaf_, chain, kInside).ok()) ++failures;
        if (!anchors->Verify(*stranger_, {}, kInside).ok()) ++failures;
        if (anchors->Verify(*server_, chain, kInside).ok()) ++failures;
        if (!leaf_->SubjectIs("CN=client one,O=example corp,C=us")) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---- Against the openssl command -------------------------------------------------------------

class X509CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("openssl version >/dev/null 2>&1 </dev/null") != 0) {
      GTEST_SKIP() << "openssl command-line tool not installed";
    }
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tollgate-x509-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // Writes `pem` and runs `openssl x509 -in cert.pem <args>`; stdout with the trailing newline
  // removed, or "" on failure.
  std::string X509(std::string_view pem, const std::string& args) {
    {
      std::ofstream out(dir_ / "cert.pem", std::ios::binary);
      out.write(pem.data(), static_cast<std::streamsize>(pem.size()));
    }
    const std::string cmd = "cd '" + dir_.string() + "' && openssl x509 -in cert.pem " + args +
                            " >cli.out 2>cli.err </dev/null";
    const int status = std::system(cmd.c_str());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "";
    std::ifstream in(dir_ / "cli.out", std::ios::binary);
    std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }

  std::filesystem::path dir_;
};

TEST_F(X509CliTest, SubjectDnIsOpensslRfc2253) {
  CertificatePtr leaf = Load(kLeafPem);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(X509(kLeafPem, "-noout -subject -nameopt RFC2253"), "subject=" + leaf->SubjectDn());
  EXPECT_EQ(X509(kLeafPem, "-noout -issuer -nameopt RFC2253"), "issuer=" + leaf->IssuerDn());
}

// RFC 5280 §4.1.2.5's "no expiry" lies past what a TimePoint holds (2262): clamped, no overflow.
TEST_F(X509CliTest, ValidityPastTimePointsRangeIsClamped) {
  const std::string cmd = "cd '" + dir_.string() +
                          "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                          "-nodes -keyout k.pem -out far.pem -subj /CN=far -days 2900000 "
                          ">/dev/null 2>&1 </dev/null";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::ifstream in(dir_ / "far.pem", std::ios::binary);
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CertificatePtr far = Load(pem);
  ASSERT_NE(far, nullptr);
  EXPECT_EQ(far->NotAfter(), TimePoint(std::chrono::duration_cast<std::chrono::seconds>(
                                 TimePoint::max().time_since_epoch())));
  EXPECT_LT(far->NotBefore(), far->NotAfter());
  auto anchors = TrustAnchors::Create(std::vector<CertificatePtr>{far});
  ASSERT_TRUE(anchors.ok());
  // The chain check reads the certificate's own times.
  EXPECT_TRUE((*anchors)->Verify(*far, {}, At("2200-01-01T00:00:00Z")).ok());
}

TEST_F(X509CliTest, FieldsMatchOpensslForEveryCertificate) {
  for (std::string_view pem :
       {kRootPem, kIntermediatePem, kLeafPem, kServerAuthPem, kOtherCaPem, kStrangerPem, kNotCaPem,
        kChildOfNotCaPem, kEcSelfSignedPem, kEd25519Pem}) {
    CertificatePtr cert = Load(pem);
    ASSERT_NE(cert, nullptr);
    SCOPED_TRACE(cert->SubjectDn());
    // -esc_msb off: UTF-8 as UTF-8, as SubjectDn() keeps it.
    EXPECT_EQ(X509(pem, "-noout -subject -nameopt RFC2253,-esc_msb"),
              "subject=" + cert->SubjectDn());
    const std::string fingerprint = X509(pem, "-noout -fingerprint -sha256");
    ASSERT_EQ(fingerprint.rfind("sha256 Fingerprint=", 0), 0u) << fingerprint;
    EXPECT_EQ(WithoutColonsLower(fingerprint.substr(19)), Hex(cert->Sha256Thumbprint()));
    std::string serial = X509(pem, "-noout -serial");
    ASSERT_EQ(serial.rfind("serial=", 0), 0u) << serial;
    serial = WithoutColonsLower(serial.substr(7));
    serial.erase(0, std::min(serial.find_first_not_of('0'), serial.size() - 1));
    EXPECT_EQ(serial, cert->SerialNumberHex());
    EXPECT_EQ(X509(pem, "-outform PEM"), cert->Pem().substr(0, cert->Pem().size() - 1));
  }
}

}  // namespace
}  // namespace tollgate::crypto
