// DPoP proofs (RFC 9449 §4.3): one failing case per rule, thumbprints against RFC 7638's and
// RFC 9449's own examples, and proofs signed with each key type.
#include "jwt/dpop.h"

#include <gtest/gtest.h>

#include <string>

#include "common/base64.h"

namespace tollgate::jwt {
namespace {

using std::chrono::seconds;

constexpr int64_t kNow = 1'800'000'000;
constexpr std::string_view kUri = "https://as.example/0b3d2c9e/as/token";

const crypto::PrivateKey& Key(crypto::KeyKind kind) {
  static const auto rsa = crypto::PrivateKey::Generate(crypto::KeyKind::kRsa).value();
  static const auto ec = crypto::PrivateKey::Generate(crypto::KeyKind::kEcP256).value();
  static const auto ed = crypto::PrivateKey::Generate(crypto::KeyKind::kEd25519).value();
  return kind == crypto::KeyKind::kRsa ? *rsa : kind == crypto::KeyKind::kEcP256 ? *ec : *ed;
}

std::string JwkJson(const crypto::PublicJwk& jwk, const std::string& extra = "") {
  std::string out = R"({"kty":")" + jwk.kty + '"';
  if (jwk.kty == "RSA") out += R"(,"n":")" + jwk.n + R"(","e":")" + jwk.e + '"';
  if (!jwk.crv.empty()) out += R"(,"crv":")" + jwk.crv + R"(","x":")" + jwk.x + '"';
  if (!jwk.y.empty()) out += R"(,"y":")" + jwk.y + '"';
  return out + extra + "}";
}

std::string Header(const crypto::PrivateKey& key, const std::string& jwk_extra = "") {
  return R"({"typ":"dpop+jwt","alg":")" + std::string(key.JwsAlg()) + R"(","jwk":)" +
         JwkJson(key.Public(), jwk_extra) + "}";
}

std::string Claims(const std::string& extra = "", int64_t iat = kNow) {
  return R"({"jti":"e1j3V_bKic8-LAEB","htm":"POST","htu":")" + std::string(kUri) + R"(","iat":)" +
         std::to_string(iat) + extra + "}";
}

// A compact JWS of the given texts, signed by `key` (whatever the header says).
std::string Sign(const crypto::PrivateKey& key, const std::string& header,
                 const std::string& claims) {
  std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
  return input + "." + Base64UrlEncode(key.Sign(input).value());
}

DpopRules Rules(std::string_view uri = kUri) {
  return DpopRules{.method = "POST", .uri = uri, .now = TimePoint(seconds(kNow))};
}

// The reason a proof of `header` and `claims`, signed by the P-256 key, is refused ("" if not).
std::string Refusal(const std::string& header, const std::string& claims,
                    const DpopRules& rules = Rules()) {
  auto proof = VerifyDpopProof(Sign(Key(crypto::KeyKind::kEcP256), header, claims), rules);
  return proof ? "" : proof.error();
}

TEST(DpopTest, ThumbprintsMatchTheRfcExamples) {
  // RFC 7638 §3.1.
  crypto::PublicJwk rsa;
  rsa.kty = "RSA";
  rsa.n =
      "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
      "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
      "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLy"
      "rdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
      "kEgU8awapJzKnqDKgw";
  rsa.e = "AQAB";
  EXPECT_EQ(JwkThumbprint(rsa), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  // RFC 9449 §4.1's proof key and §6.1's `jkt`.
  crypto::PublicJwk ec;
  ec.kty = "EC";
  ec.crv = "P-256";
  ec.x = "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs";
  ec.y = "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA";
  EXPECT_EQ(JwkThumbprint(ec), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
  // `alg` and other optional members are not part of it.
  crypto::PublicJwk named = ec;
  named.alg = "ES256";
  EXPECT_EQ(JwkThumbprint(named), JwkThumbprint(ec));
  crypto::PublicJwk oct;
  oct.kty = "oct";
  EXPECT_EQ(JwkThumbprint(oct), "");
}

TEST(DpopTest, AcceptsProofsOfEveryKeyType) {
  for (auto kind : {crypto::KeyKind::kRsa, crypto::KeyKind::kEcP256, crypto::KeyKind::kEd25519}) {
    const crypto::PrivateKey& key = Key(kind);
    auto proof = VerifyDpopProof(Sign(key, Header(key), Claims(R"(,"nonce":"n-1")")), Rules());
    ASSERT_TRUE(proof.ok()) << key.JwsAlg() << ": " << proof.error();
    EXPECT_EQ(proof->alg, key.JwsAlg());
    EXPECT_EQ(proof->jkt, JwkThumbprint(key.Public()));
    EXPECT_EQ(proof->jti, "e1j3V_bKic8-LAEB");
    EXPECT_EQ(proof->htm, "POST");
    EXPECT_EQ(proof->iat, kNow);
    EXPECT_EQ(proof->nonce, "n-1");
    EXPECT_EQ(DpopRememberUntil(*proof, Rules()), TimePoint(seconds(kNow + 60)));
  }
}

TEST(DpopTest, RefusesWhatIsNotAProof) {
  const crypto::PrivateKey& ec = Key(crypto::KeyKind::kEcP256);
  EXPECT_NE(VerifyDpopProof("", Rules()).error(), "");
  EXPECT_NE(VerifyDpopProof("a.b", Rules()).error(), "");
  EXPECT_NE(VerifyDpopProof(std::string(kMaxDpopProofSize + 1, 'a'), Rules()).error(), "");
  EXPECT_EQ(Refusal("[]", Claims()), "its header is not a JSON object");
  EXPECT_EQ(Refusal(Header(ec), "7"), "its payload is not a JSON object");
  // The signature of another key, and a signature cut short.
  const crypto::PrivateKey& ed = Key(crypto::KeyKind::kEd25519);
  auto other = VerifyDpopProof(Sign(ed, Header(ec), Claims()), Rules());
  EXPECT_EQ(other.error(), "the signature does not verify with header jwk");
  std::string token = Sign(ec, Header(ec), Claims());
  EXPECT_FALSE(VerifyDpopProof(token.substr(0, token.size() - 4), Rules()).ok());
  EXPECT_FALSE(VerifyDpopProof(token.substr(0, token.rfind('.') + 1), Rules()).ok());
}

TEST(DpopTest, RefusesEachHeaderRule) {
  const crypto::PrivateKey& ec = Key(crypto::KeyKind::kEcP256);
  const std::string jwk = JwkJson(ec.Public());
  EXPECT_EQ(Refusal(R"({"alg":"ES256","jwk":)" + jwk + "}", Claims()),
            "header typ is not dpop+jwt");
  EXPECT_EQ(Refusal(R"({"typ":"JWT","alg":"ES256","jwk":)" + jwk + "}", Claims()),
            "header typ is not dpop+jwt");
  for (std::string alg : {"none", "HS256", "ES512", ""}) {
    EXPECT_EQ(Refusal(R"({"typ":"dpop+jwt","alg":")" + alg + R"(","jwk":)" + jwk + "}", Claims()),
              "header alg is not an accepted asymmetric algorithm")
        << alg;
  }
  EXPECT_EQ(Refusal(R"({"typ":"dpop+jwt","jwk":)" + jwk + "}", Claims()), "header alg is missing");
  EXPECT_EQ(Refusal(R"({"typ":"dpop+jwt","alg":"ES256"})", Claims()), "header jwk is missing");
  EXPECT_EQ(Refusal(R"({"typ":"dpop+jwt","alg":"ES256","jwk":"k"})", Claims()),
            "header jwk is missing");
  EXPECT_EQ(Refusal(R"({"typ":"dpop+jwt","alg":"ES256","crit":["x"],"jwk":)" + jwk + "}", Claims()),
            "header crit is not supported");
  EXPECT_EQ(Refusal(Header(ec, R"(,"d":"AAAA")"), Claims()),
            "header jwk holds private key material");
  EXPECT_EQ(Refusal(R"({"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"oct","k":"AAAA"}})", Claims()),
            "header jwk holds private key material");
  EXPECT_EQ(Refusal(R"({"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"oct"}})", Claims()),
            "header jwk has an unsupported kty");
  EXPECT_EQ(Refusal(Header(ec, R"(,"kid":7)"), Claims()), "");  // members not read are not checked
  EXPECT_EQ(Refusal(R"({"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":7}})", Claims()),
            "header jwk has a member that is not a string");
  // A point that is not on the curve, and a JWK whose own alg is not the header's.
  crypto::PublicJwk off = ec.Public();
  off.y = off.x;
  EXPECT_EQ(Refusal(R"({"typ":"dpop+jwt","alg":"ES256","jwk":)" + JwkJson(off) + "}", Claims()),
            "header jwk is not a valid public key");
  EXPECT_EQ(Refusal(Header(ec, R"(,"alg":"ES384")"), Claims()),
            "header jwk is not a valid public key");
  EXPECT_EQ(Refusal(Header(ec, R"(,"alg":"ES256")"), Claims()), "");
}

TEST(DpopTest, RefusesEachClaimRule) {
  const std::string header = Header(Key(crypto::KeyKind::kEcP256));
  const std::string iat = R"(,"iat":)" + std::to_string(kNow);
  EXPECT_EQ(Refusal(header, R"({"htm":"POST","htu":"https://as.example/t")" + iat + "}"),
            "claim jti is missing");
  EXPECT_EQ(Refusal(header, R"({"jti":"","htm":"POST","htu":"https://as.example/t")" + iat + "}"),
            "claim jti is not a non-empty string");
  EXPECT_EQ(Refusal(header, R"({"jti":")" + std::string(kMaxDpopJtiSize + 1, 'j') +
                                R"(","htm":"POST","htu":"https://as.example/t")" + iat + "}"),
            "claim jti is too long");
  EXPECT_EQ(Refusal(header, R"({"jti":"j","htu":"https://as.example/t")" + iat + "}"),
            "claim htm is missing");
  EXPECT_EQ(Refusal(header, R"({"jti":"j","htm":"POST","htu":7)" + iat + "}"),
            "claim htu is not a non-empty string");
  EXPECT_EQ(Refusal(header, R"({"jti":"j","htm":"POST","htu":"https://as.example/t"})"),
            "claim iat is missing");
  EXPECT_EQ(Refusal(header, R"({"jti":"j","htm":"POST","htu":"h","iat":"1"})"),
            "claim iat is not a NumericDate");
  EXPECT_EQ(Refusal(header, Claims(R"(,"nonce":"")")), "claim nonce is not a non-empty string");
  EXPECT_EQ(
      Refusal(header, Claims(R"(,"nonce":")" + std::string(kMaxDpopNonceSize + 1, 'n') + "\"")),
      "claim nonce is too long");
}

TEST(DpopTest, ChecksMethodUriAndTime) {
  const std::string header = Header(Key(crypto::KeyKind::kEcP256));
  DpopRules get = Rules();
  get.method = "GET";
  EXPECT_EQ(Refusal(header, Claims(), get), "claim htm is not the request's method");
  DpopRules post = Rules();
  post.method = "post";  // methods are case-sensitive
  EXPECT_EQ(Refusal(header, Claims(), post), "claim htm is not the request's method");
  EXPECT_EQ(Refusal(header, Claims(), Rules("https://as.example/other/as/token")),
            "claim htu is not the request's URI");
  // The window: 60 s back, 60 s ahead, both ends included.
  EXPECT_EQ(Refusal(header, Claims("", kNow - 60)), "");
  EXPECT_EQ(Refusal(header, Claims("", kNow + 60)), "");
  EXPECT_EQ(Refusal(header, Claims("", kNow - 61)), "claim iat is too old");
  EXPECT_EQ(Refusal(header, Claims("", kNow + 61)), "claim iat is in the future");
  EXPECT_EQ(Refusal(header, Claims(".5", kNow)), "");  // fractions are cut
}

TEST(DpopTest, ComparesUrisAfterNormalization) {
  const std::string header = Header(Key(crypto::KeyKind::kEcP256));
  auto with_htu = [](const std::string& htu) {
    return R"({"jti":"j","htm":"POST","htu":")" + htu + R"(","iat":)" + std::to_string(kNow) + "}";
  };
  for (std::string same :
       {"HTTPS://AS.example/0b3d2c9e/as/token", "https://as.example:443/0b3d2c9e/as/token",
        "https://as.example/0b3d2c9e/as/token?x=1#f", "https://as.example/0b3d2c9e/./as/x/../token",
        "https://as.example/%30b3d2c9e/as/token"}) {
    EXPECT_EQ(Refusal(header, with_htu(same)), "") << same;
  }
  for (std::string other :
       {"http://as.example/0b3d2c9e/as/token", "https://as.example:8443/0b3d2c9e/as/token",
        "https://as.example/0B3D2C9E/as/token", "https://as.example/0b3d2c9e/as/token/",
        "/0b3d2c9e/as/token", "https://as.example.evil/0b3d2c9e/as/token", "urn:x:y", "https://"}) {
    EXPECT_EQ(Refusal(header, with_htu(other)), "claim htu is not the request's URI") << other;
  }
  // Plain http on a default and an explicit port, and an empty path.
  EXPECT_EQ(Refusal(header, with_htu("http://127.0.0.1:80/t"), Rules("http://127.0.0.1/t")), "");
  EXPECT_EQ(Refusal(header, with_htu("http://127.0.0.1:8080/t"), Rules("http://127.0.0.1:8080/t")),
            "");
  EXPECT_EQ(Refusal(header, with_htu("https://as.example"), Rules("https://as.example/")), "");
  // RFC 8705 §5: the endpoint's mTLS alias names it too, as sent or normalized.
  DpopRules aliased = Rules("https://as.example/t");
  aliased.alias = "https://mtls.as.example/t";
  EXPECT_EQ(Refusal(header, with_htu("https://mtls.as.example/t"), aliased), "");
  EXPECT_EQ(Refusal(header, with_htu("HTTPS://mtls.as.example:443/t"), aliased), "");
  EXPECT_EQ(Refusal(header, with_htu("https://as.example/t"), aliased), "");
  EXPECT_EQ(Refusal(header, with_htu("https://other.as.example/t"), aliased),
            "claim htu is not the request's URI");
}

}  // namespace
}  // namespace tollgate::jwt
