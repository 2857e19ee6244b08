// DPoP at the token endpoint (RFC 9449 §5): binding, the client that requires it, one proof per
// request and per use, and the node's bounded memory of used proofs.
#include "oauth/dpop.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/base64.h"
#include "jwt/dpop.h"
#include "jwt/jws.h"
#include "oauth/test_support.h"
#include "oauth/token_endpoint.h"
#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

constexpr int64_t kNow = 1'800'000'000;

class DpopTest : public ::testing::Test {
 protected:
  DpopTest()
      : clock_(FromUnixMillis(kNow * 1000)),
        throttle_(clock_),
        proofs_(clock_, 3),
        endpoint_(ClientAuthServices{clock_, throttle_}, testutil::kApiUrl, nullptr, &proofs_) {
    testutil::EnvBuilder b;
    b.Resource("one", "https://api.one", 600, {"read"})
        .App("svc")
        .Grant("svc", "one", {"read"})
        .App("bound")
        .Grant("bound", "one", {"read"});
    b.LastApp().dpop_bound_access_tokens = true;
    env_ = b.Build();
  }

  // A proof for the token endpoint, signed by `key`, with `nonce` unless it is empty.
  std::string Proof(const std::string& jti, int64_t iat = kNow,
                    crypto::KeyKind kind = crypto::KeyKind::kEcP256, int slot = 0,
                    const std::string& nonce = "") const {
    auto key = testutil::SharedKey(kind, slot);
    const crypto::PublicJwk jwk = key->Public();
    std::string header = R"({"typ":"dpop+jwt","alg":")" + std::string(key->JwsAlg()) +
                         R"(","jwk":{"kty":")" + jwk.kty + '"';
    if (jwk.kty == "RSA") header += R"(,"n":")" + jwk.n + R"(","e":")" + jwk.e + '"';
    if (!jwk.crv.empty()) header += R"(,"crv":")" + jwk.crv + R"(","x":")" + jwk.x + '"';
    if (!jwk.y.empty()) header += R"(,"y":")" + jwk.y + '"';
    header += "}}";
    std::string claims = R"({"jti":")" + jti + R"(","htm":"POST","htu":")" + env_->token_endpoint +
                         R"(","iat":)" + std::to_string(iat);
    if (!nonce.empty()) claims += R"(,"nonce":")" + nonce + '"';
    claims += "}";
    return jwt::SignCompact(header, claims, *key).value();
  }

  TokenRequest Request(const std::string& client, std::vector<std::string> dpop = {}) const {
    TokenRequest req;
    req.grant_type = "client_credentials";
    req.authorization = "Basic " + Base64Encode(client + ":s3cret");
    req.dpop = std::move(dpop);
    return req;
  }

  Result<TokenResponse, OAuthError> Handle(const TokenRequest& req) {
    return Settled(endpoint_.Handle(req, *env_));
  }

  static json::object Claims(const TokenResponse& token) {
    auto parts = jwt::SplitCompact(token.access_token);
    return json::parse(parts->payload_json).as_object();
  }

  static std::string Jkt(crypto::KeyKind kind, int slot = 0) {
    return jwt::JwkThumbprint(testutil::SharedKey(kind, slot)->Public());
  }

  FakeClock clock_;
  FailureThrottle throttle_;
  DpopProofs proofs_;
  TokenEndpoint endpoint_;
  std::shared_ptr<const config::EnvironmentSnapshot> env_;
};

TEST_F(DpopTest, AProofBindsTheToken) {
  for (auto kind : {crypto::KeyKind::kEcP256, crypto::KeyKind::kEd25519, crypto::KeyKind::kRsa}) {
    auto token = Handle(Request("svc", {Proof("a", kNow, kind)}));
    ASSERT_TRUE(token.ok()) << token.error().description;
    EXPECT_TRUE(token->dpop);
    const json::object claims = Claims(*token);
    ASSERT_TRUE(claims.contains("cnf"));
    EXPECT_EQ(claims.at("cnf"), json::value({{"jkt", Jkt(kind)}}));
  }
}

TEST_F(DpopTest, WithoutAProofTheTokenIsABearerToken) {
  auto token = Handle(Request("svc"));
  ASSERT_TRUE(token.ok()) << token.error().description;
  EXPECT_FALSE(token->dpop);
  EXPECT_FALSE(Claims(*token).contains("cnf"));
}

TEST_F(DpopTest, AClientThatRequiresDpopIsRefusedWithoutAProof) {
  auto refused = Handle(Request("bound"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().WireCode(), "invalid_dpop_proof");
  EXPECT_EQ(refused.error().HttpStatus(), 400);
  auto token = Handle(Request("bound", {Proof("b")}));
  ASSERT_TRUE(token.ok()) << token.error().description;
  EXPECT_TRUE(token->dpop);
}

TEST_F(DpopTest, ClientAuthenticationComesFirst) {
  TokenRequest req = Request("svc", {"not a proof"});
  req.authorization = "Basic " + Base64Encode("svc:wrong");
  EXPECT_EQ(Handle(req).error().WireCode(), "invalid_client");
}

TEST_F(DpopTest, RefusesTwoHeadersAndInvalidProofs) {
  auto two = Handle(Request("svc", {Proof("c"), Proof("d")}));
  EXPECT_EQ(two.error().WireCode(), "invalid_dpop_proof");
  EXPECT_EQ(two.error().description, "More than one DPoP header was sent");
  auto bad = Handle(Request("svc", {"e30.e30.AA"}));
  EXPECT_EQ(bad.error().WireCode(), "invalid_dpop_proof");
  EXPECT_EQ(bad.error().description, "The DPoP proof is invalid: header typ is not dpop+jwt");
  auto stale = Handle(Request("svc", {Proof("e", kNow - 61)}));
  EXPECT_EQ(stale.error().description, "The DPoP proof is invalid: claim iat is too old");
}

TEST_F(DpopTest, AProofIsUsedOncePerKey) {
  ASSERT_TRUE(Handle(Request("svc", {Proof("once")})).ok());
  auto replay = Handle(Request("svc", {Proof("once")}));
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().WireCode(), "invalid_dpop_proof");
  EXPECT_EQ(replay.error().description, "The DPoP proof has been used before (jti)");
  // The same jti under another key is another proof.
  EXPECT_TRUE(Handle(Request("svc", {Proof("once", kNow, crypto::KeyKind::kEcP256, 1)})).ok());
  // A proof refused for its client is not used up.
  TokenRequest unknown = Request("nobody", {Proof("kept")});
  EXPECT_EQ(Handle(unknown).error().WireCode(), "invalid_client");
  EXPECT_TRUE(Handle(Request("svc", {Proof("kept")})).ok());
}

TEST_F(DpopTest, TheMemoryIsBoundedPerEnvironmentAndFreedAsProofsExpire) {
  for (const char* jti : {"1", "2", "3"}) ASSERT_TRUE(Handle(Request("svc", {Proof(jti)})).ok());
  auto full = Handle(Request("svc", {Proof("4")}));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().WireCode(), "temporarily_unavailable");
  EXPECT_EQ(full.error().HttpStatus(), 503);
  EXPECT_EQ(proofs_.SizeOf(env_->environment.id), 3u);
  // The proofs of `kNow` leave the window after 60 s; a replay is still refused until then.
  clock_.Advance(seconds(60));
  EXPECT_EQ(Handle(Request("svc", {Proof("1")})).error().description,
            "The DPoP proof has been used before (jti)");
  clock_.Advance(seconds(1));
  EXPECT_EQ(Handle(Request("svc", {Proof("1")})).error().description,
            "The DPoP proof is invalid: claim iat is too old");
  ASSERT_TRUE(Handle(Request("svc", {Proof("5", kNow + 61)})).ok());
  EXPECT_EQ(proofs_.SizeOf(env_->environment.id), 1u);
}

TEST_F(DpopTest, AnEnvironmentMayRequireServerNonces) {
  testutil::EnvBuilder b;
  b.Resource("one", "https://api.one", 600, {"read"}).App("svc").Grant("svc", "one", {"read"});
  b.Environment().dpop_nonce_required = true;
  auto env = b.Build();
  auto handle = [&](const std::string& proof) {
    return Settled(endpoint_.Handle(Request("svc", {proof}), *env));
  };
  auto proof = [&](const std::string& jti, const std::string& nonce) {
    auto key = testutil::SharedKey(crypto::KeyKind::kEcP256);
    std::string header =
        R"({"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":")" +
        key->Public().x + R"(","y":")" + key->Public().y + R"("}})";
    std::string claims = R"({"jti":")" + jti + R"(","htm":"POST","htu":")" + env->token_endpoint +
                         R"(","iat":)" + std::to_string(ToUnixSeconds(clock_.Now()));
    if (!nonce.empty()) claims += R"(,"nonce":")" + nonce + '"';
    return jwt::SignCompact(header, claims + "}", *key).value();
  };
  // Without a nonce: use_dpop_nonce (RFC 9449 §8), carrying the nonce to use.
  auto asked = handle(proof("n1", ""));
  ASSERT_FALSE(asked.ok());
  EXPECT_EQ(asked.error().WireCode(), "use_dpop_nonce");
  EXPECT_EQ(asked.error().HttpStatus(), 400);
  EXPECT_EQ(asked.error().description, "Authorization server requires nonce in DPoP proof");
  const std::string nonce = asked.error().dpop_nonce;
  EXPECT_EQ(nonce.size(), 32u);
  EXPECT_EQ(nonce, proofs_.Nonce(env->environment.id, clock_.Now()));
  // With it: the token, and the nonce again for the next request.
  auto token = handle(proof("n2", nonce));
  ASSERT_TRUE(token.ok()) << token.error().description;
  EXPECT_TRUE(token->dpop);
  EXPECT_EQ(token->dpop_nonce, nonce);
  // A nonce lasts its 60 s period and the next one; a forged or another environment's is refused.
  clock_.Advance(seconds(60));
  EXPECT_TRUE(handle(proof("n3", nonce)).ok());
  const EnvId elsewhere("00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(handle(proof("n4", proofs_.Nonce(elsewhere, clock_.Now()))).error().WireCode(),
            "use_dpop_nonce");
  std::string forged = nonce;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(handle(proof("n5", forged)).error().WireCode(), "use_dpop_nonce");
  clock_.Advance(seconds(60));
  auto stale = handle(proof("n6", nonce));
  EXPECT_EQ(stale.error().WireCode(), "use_dpop_nonce");
  EXPECT_NE(stale.error().dpop_nonce, nonce);
  // An invalid proof is invalid_dpop_proof first, whatever its nonce.
  EXPECT_EQ(handle("e30.e30.AA").error().WireCode(), "invalid_dpop_proof");
  // Environments without the requirement send no nonce.
  auto plain = Handle(Request("svc", {Proof("n7", ToUnixSeconds(clock_.Now()))}));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->dpop_nonce, "");
}

TEST_F(DpopTest, NodesWithOneKeyAcceptEachOthersNonces) {
  const std::string key(32, 'k');
  DpopProofs a(clock_, 10, key);
  DpopProofs b(clock_, 10, key);
  DpopProofs other(clock_, 10);
  const std::string nonce = a.Nonce(env_->environment.id, clock_.Now());
  EXPECT_TRUE(b.NonceIsCurrent(env_->environment.id, nonce, clock_.Now()));
  EXPECT_FALSE(other.NonceIsCurrent(env_->environment.id, nonce, clock_.Now()));
  EXPECT_FALSE(b.NonceIsCurrent(env_->environment.id, "", clock_.Now()));
  EXPECT_FALSE(b.NonceIsCurrent(env_->environment.id, nonce + "A", clock_.Now()));
}

TEST_F(DpopTest, WithoutProofMemoryDpopIsRefused) {
  TokenEndpoint plain(ClientAuthServices{clock_, throttle_}, testutil::kApiUrl);
  auto refused = Settled(plain.Handle(Request("svc", {Proof("f")}), *env_));
  EXPECT_EQ(refused.error().WireCode(), "invalid_dpop_proof");
  EXPECT_TRUE(Settled(plain.Handle(Request("svc"), *env_)).ok());
}

}  // namespace
}  // namespace tollgate::oauth
