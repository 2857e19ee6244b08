// RFC 8705 through TokenEndpoint: SELF_SIGNED_TLS_CLIENT_AUTH, TLS_CLIENT_AUTH against the fixed
// test PKI (crypto/test_pki.h), and certificate-bound tokens (cnf.x5t#S256). The real handshake
// and proxy headers are tests/blackbox/test_mtls.py's.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/base64.h"
#include "crypto/keys.h"
#include "crypto/test_pki.h"
#include "crypto/x509.h"
#include "jwt/jws.h"
#include "oauth/test_support.h"
#include "oauth/token_endpoint.h"
#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

using model::AuthMethod;
namespace json = boost::json;

// A P-256 key and a self-signed certificate (DER) of it.
struct ClientKey {
  std::shared_ptr<const crypto::PrivateKey> key;
  std::string der;
};

ClientKey MakeClientKey() {
  auto key = crypto::PrivateKey::Generate(crypto::KeyKind::kEcP256);
  EXPECT_TRUE(key);
  auto der = (*key)->SelfSignedCertificate("CN=client,O=Example", 1);
  EXPECT_TRUE(der);
  return {*key, *der};
}

std::string Der(std::string_view pem) {
  auto cert = crypto::Certificate::FromPem(pem);
  EXPECT_TRUE(cert);
  return cert ? (*cert)->Der() : std::string();
}

std::string JwksOf(const crypto::PrivateKey& key) {
  const crypto::PublicJwk pub = key.Public();
  json::object jwk{{"kty", pub.kty}, {"crv", pub.crv}, {"x", pub.x}, {"y", pub.y}};
  return json::serialize(json::object{{"keys", json::array{jwk}}});
}

class TlsClientAuthTest : public ::testing::Test {
 protected:
  TlsClientAuthTest()
      : clock_(FromUnixMillis(1'800'000'000'000)),
        throttle_(clock_),
        endpoint_(ClientAuthServices{clock_, throttle_}, testutil::kApiUrl),
        client_(MakeClientKey()),
        stranger_(MakeClientKey()) {
    testutil::EnvBuilder b;
    b.Resource("one", "https://api.one", 600, {"read"})
        .App("self-signed", model::AppType::kService, AuthMethod::kSelfSignedTlsClientAuth)
        .Grant("self-signed", "one", {"read"});
    b.LastApp().jwks = JwksOf(*client_.key);
    b.App("pki", model::AppType::kService, AuthMethod::kTlsClientAuth)
        .Grant("pki", "one", {"read"});
    b.LastApp().tls_client_auth =
        model::TlsClientAuth{model::TlsClientAuthName::kSubjectDn, "CN=client,O=Example"};
    // The test PKI's root is trusted; its leaf "client one" comes through the intermediate.
    b.TrustedCa("root", std::string(crypto::testing::kRootPem));
    const std::pair<model::TlsClientAuthName, std::string> names[] = {
        {model::TlsClientAuthName::kSubjectDn, "cn=Client One, o=example corp, c=US"},
        {model::TlsClientAuthName::kSanDns, "CLIENT.example.com"},
        {model::TlsClientAuthName::kSanUri, "spiffe://example.com/client"},
        {model::TlsClientAuthName::kSanIp, "2001:0db8:0:0::7"},
        {model::TlsClientAuthName::kSanEmail, "client@example.com"},
        {model::TlsClientAuthName::kSanDns, "other.example.com"},
    };
    for (const auto& [name, value] : names) {
      const std::string id = "pki-" + std::to_string(pki_clients_.size());
      b.App(id, model::AppType::kService, AuthMethod::kTlsClientAuth).Grant(id, "one", {"read"});
      b.LastApp().tls_client_auth = model::TlsClientAuth{name, value};
      pki_clients_.push_back(id);
    }
    b.App("bound").Grant("bound", "one", {"read"});
    b.LastApp().tls_client_certificate_bound_access_tokens = true;
    b.App("secret").Grant("secret", "one", {"read"});
    env_ = b.Build();
  }

  static TokenRequest ById(const std::string& client, std::vector<std::string> certificates) {
    TokenRequest req;
    req.grant_type = "client_credentials";
    req.client_id = client;
    req.client_certificates = std::move(certificates);
    return req;
  }

  static TokenRequest WithSecret(const std::string& client, std::vector<std::string> certificates) {
    TokenRequest req = ById(client, std::move(certificates));
    req.client_id.reset();
    req.authorization = "Basic " + Base64Encode(client + ":s3cret");
    return req;
  }

  Result<TokenResponse, OAuthError> Handle(const TokenRequest& req) {
    return Settled(endpoint_.Handle(req, *env_));
  }

  static json::object Claims(const TokenResponse& token) {
    auto parts = jwt::SplitCompact(token.access_token);
    EXPECT_TRUE(parts);
    return json::parse(parts->payload_json).as_object();
  }

  FakeClock clock_;
  FailureThrottle throttle_;
  TokenEndpoint endpoint_;
  ClientKey client_;
  ClientKey stranger_;
  std::vector<std::string> pki_clients_;  // by name kind; the last names no SAN of the leaf
  const std::string leaf_ = Der(crypto::testing::kLeafPem);
  const std::string intermediate_ = Der(crypto::testing::kIntermediatePem);
  std::shared_ptr<const config::EnvironmentSnapshot> env_;
};

TEST_F(TlsClientAuthTest, SelfSignedCertificateOfARegisteredKey) {
  auto r = Handle(ById("self-signed", {client_.der}));
  ASSERT_TRUE(r) << r.error().debug;
  EXPECT_FALSE(Claims(*r).contains("cnf"));  // not asked for certificate-bound tokens
}

TEST_F(TlsClientAuthTest, SelfSignedRefusals) {
  for (const TokenRequest& req :
       {ById("self-signed", {}), ById("self-signed", {stranger_.der}),
        ById("self-signed", {"not DER"}), WithSecret("self-signed", {client_.der})}) {
    auto r = Handle(req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().WireCode(), "invalid_client") << r.error().debug;
    EXPECT_EQ(r.error().HttpStatus(), 401);
  }
}

TEST_F(TlsClientAuthTest, PkiClientNeedsAChainToATrustedCa) {
  // The name matches, but the environment trusts no CA, and a self-signed leaf is no CA.
  for (const TokenRequest& req : {ById("pki", {client_.der}), ById("pki", {})}) {
    auto r = Handle(req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().WireCode(), "invalid_client") << r.error().debug;
  }
}

TEST_F(TlsClientAuthTest, PkiClientKnownByEachKindOfName) {
  for (size_t i = 0; i + 1 < pki_clients_.size(); ++i) {
    auto r = Handle(ById(pki_clients_[i], {leaf_, intermediate_}));
    ASSERT_TRUE(r) << pki_clients_[i] << ": " << r.error().debug;
  }
  auto other = Handle(ById(pki_clients_.back(), {leaf_, intermediate_}));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().WireCode(), "invalid_client");
}

TEST_F(TlsClientAuthTest, PkiClientRefusals) {
  const std::string& client = pki_clients_.front();                 // the subject DN
  const std::string stranger = Der(crypto::testing::kStrangerPem);  // same subject, other CA
  const std::string server = Der(crypto::testing::kServerAuthPem);  // serverAuth only
  for (const std::vector<std::string>& certificates : std::vector<std::vector<std::string>>{
           {leaf_},  // the intermediate is missing
           {stranger},
           {stranger, intermediate_},
           {server, intermediate_},
           {intermediate_},
           {leaf_, "not DER"},
           {leaf_, intermediate_, intermediate_, intermediate_, intermediate_, intermediate_,
            intermediate_, intermediate_, intermediate_, intermediate_}}) {
    auto r = Handle(ById(client, certificates));
    ASSERT_FALSE(r) << certificates.size();
    EXPECT_EQ(r.error().WireCode(), "invalid_client") << r.error().debug;
  }
  // The leaf expired on 2027-12-07.
  clock_.Advance(std::chrono::hours(24 * 365));
  auto expired = Handle(ById(client, {leaf_, intermediate_}));
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().WireCode(), "invalid_client");
}

TEST_F(TlsClientAuthTest, BoundTokenCarriesTheCertificatesThumbprint) {
  auto r = Handle(WithSecret("bound", {client_.der, stranger_.der}));
  ASSERT_TRUE(r) << r.error().debug;
  const json::object claims = Claims(*r);
  ASSERT_TRUE(claims.contains("cnf"));
  EXPECT_EQ(claims.at("cnf"),
            json::value(json::object{{"x5t#S256", Base64UrlEncode(crypto::Sha256(client_.der))}}));
  EXPECT_FALSE(r->dpop);  // RFC 8705 §3: still a Bearer token
}

TEST_F(TlsClientAuthTest, BoundClientWithoutACertificateIsInvalidRequest) {
  for (const TokenRequest& req : {WithSecret("bound", {}), WithSecret("bound", {"not DER"})}) {
    auto r = Handle(req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().WireCode(), "invalid_request");
    EXPECT_EQ(r.error().HttpStatus(), 400);
  }
}

TEST_F(TlsClientAuthTest, UnboundClientWithACertificateGetsAPlainToken) {
  auto r = Handle(WithSecret("secret", {client_.der}));
  ASSERT_TRUE(r) << r.error().debug;
  EXPECT_FALSE(Claims(*r).contains("cnf"));
}

}  // namespace
}  // namespace tollgate::oauth
