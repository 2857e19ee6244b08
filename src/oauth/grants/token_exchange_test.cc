// RFC 8693 token exchange (grants/token_exchange.cc) through TokenEndpoint: the token's claims
// one by one, `act` chains and `may_act`, its lifetime, every invalid_request of §2.2.2, the
// target and client checks, and custom claims that read the subject and actor tokens; then
// JWTs of trusted issuers as subject and actor tokens, their keys fetched through RemoteJwks.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/base64.h"
#include "crypto/keys.h"
#include "jwt/jws.h"
#include "oauth/test_support.h"
#include "oauth/token_endpoint.h"
#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

using model::AuthMethod;
using model::GrantType;
using testutil::EnvBuilder;
namespace json = boost::json;

constexpr char kExchange[] = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr char kAccessType[] = "urn:ietf:params:oauth:token-type:access_token";
constexpr char kJwtType[] = "urn:ietf:params:oauth:token-type:jwt";
constexpr char kIdTokenType[] = "urn:ietf:params:oauth:token-type:id_token";
constexpr char kRefreshType[] = "urn:ietf:params:oauth:token-type:refresh_token";
constexpr char kInventory[] = "https://inventory";
// Trusted issuers (docs/token-exchange.md): the identity provider, whose tokens are addressed to
// this environment; a partner with an audience of its own; one whose keys cannot be fetched.
constexpr char kIdp[] = "https://idp.example.test";
constexpr char kIdpJwks[] = "https://idp.example.test/jwks.json";
constexpr char kPartner[] = "https://partner.example.test";
constexpr char kPartnerJwks[] = "https://partner.example.test/keys";
constexpr char kPartnerAudience[] = "urn:tollgate:exchange";
constexpr char kDown[] = "https://down.example.test";
constexpr char kDownJwks[] = "https://down.example.test/jwks.json";

std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : "<not a string>";
}

json::object Payload(const std::string& token) {
  auto parts = jwt::SplitCompact(token, 64 * 1024);
  if (!parts) return {};
  return json::parse(parts->payload_json).as_object();
}

// One exchange request: who asks, with which tokens and types (nullopt: not sent).
struct Exchange {
  std::string client = "exchanger";
  std::optional<std::string> subject_token = std::nullopt;
  std::optional<std::string> subject_type = kAccessType;
  std::optional<std::string> actor_token = std::nullopt;
  std::optional<std::string> actor_type = std::nullopt;
  std::optional<std::string> requested_type = std::nullopt;
  std::vector<std::string> resources = {};
  std::vector<std::string> audiences = {};
  std::optional<std::string> scope = std::nullopt;
};

class TokenExchangeTest : public ::testing::Test {
 protected:
  TokenExchangeTest()
      : clock_(FromUnixMillis(1'800'000'000'000)),
        throttle_(clock_),
        idp_rsa_(testutil::SharedKey(crypto::KeyKind::kRsa)),
        idp_ec_(testutil::SharedKey(crypto::KeyKind::kEcP256)),
        idp_ed_(testutil::SharedKey(crypto::KeyKind::kEd25519)),
        partner_(testutil::SharedKey(crypto::KeyKind::kEcP256, 1)),
        stranger_(testutil::SharedKey(crypto::KeyKind::kRsa, 1)),
        remote_(
            [this](const std::string& url) -> Result<std::string, std::string> {
              ++fetches_;
              auto body = jwks_bodies_.find(url);
              if (body == jwks_bodies_.end()) return Fail(std::string("connection refused"));
              return body->second;
            },
            [this](std::function<void()> job) {  // at once, unless the test queues the fetches
              if (queue_fetches_) {
                queued_.push_back(std::move(job));
              } else {
                job();
              }
            },
            clock_),
        endpoint_(ClientAuthServices{clock_, throttle_, nullptr, &remote_}, testutil::kApiUrl,
                  &revoked_) {
    jwks_bodies_[kIdpJwks] = testutil::JwkSetJson({idp_rsa_.get(), idp_ec_.get(), idp_ed_.get()},
                                                  {"idp-rsa", "idp-ec", "idp-ed"});
    jwks_bodies_[kPartnerJwks] = testutil::JwkSetJson({partner_.get()}, {"partner-1"});
    EnvBuilder b;
    const std::string our_issuer =
        std::string(testutil::kAuthUrl) + "/" + b.data().environment.id.str() + "/as";
    b.TrustedIssuer("idp", kIdp, kIdpJwks, our_issuer)
        .TrustedIssuer("partner", kPartner, kPartnerJwks, kPartnerAudience)
        .TrustedIssuer("down", kDown, kDownJwks, our_issuer);
    b.Resource("orders", "https://orders", 600, {"read"})
        .Resource("ops", "https://ops", 3600, {"act"})
        .Resource("inventory", kInventory, 900, {"stock", "audit"})
        .Resource("reports", "https://reports", 900, {"report"})
        .Attribute("reports", "origin", "${#root.context.requestData.subjectToken.client_id}")
        .Attribute("reports", "actor", "${#root.context.requestData.actorToken.sub ?: 'none'}")
        .Attribute("reports", "prior", "${#root.context.requestData.subjectToken.act.sub}")
        .Attribute("reports", "grant", "${#root.context.requestData.grantType}")
        .App("owner")  // subject tokens: client_credentials for orders
        .Grant("owner", "orders", {"read"})
        .App("actor")  // actor tokens
        .Grant("actor", "ops", {"act"})
        .App("exchanger")
        .Grant("exchanger", "inventory", {"stock", "audit"});
    b.LastApp().grant_types = {GrantType::kTokenExchange};
    b.App("both").Grant("both", "inventory", {"stock"});
    b.LastApp().grant_types = {GrantType::kClientCredentials, GrantType::kTokenExchange};
    b.App("reporter").Grant("reporter", "reports", {"report"});
    b.LastApp().grant_types = {GrantType::kTokenExchange};
    b.App("cc-only").Grant("cc-only", "inventory", {"stock"});
    b.App("worker", model::AppType::kWorker).Role("worker");
    b.LastApp().grant_types = {GrantType::kTokenExchange};
    b.App("public", model::AppType::kNativeApp, AuthMethod::kNone);
    b.LastApp().grant_types = {GrantType::kTokenExchange};
    b.App("off");
    b.LastApp().enabled = false;
    env_ = b.Build();
    data_ = b.data();
  }

  static TokenRequest Basic(const std::string& client, const std::string& grant_type) {
    TokenRequest req;
    req.grant_type = grant_type;
    req.authorization = "Basic " + Base64Encode(client + ":s3cret");
    return req;
  }

  static TokenRequest Request(const Exchange& e) {
    TokenRequest req = Basic(e.client, kExchange);
    if (e.subject_token) req.Add("subject_token", *e.subject_token);
    if (e.subject_type) req.Add("subject_token_type", *e.subject_type);
    if (e.actor_token) req.Add("actor_token", *e.actor_token);
    if (e.actor_type) req.Add("actor_token_type", *e.actor_type);
    if (e.requested_type) req.Add("requested_token_type", *e.requested_type);
    for (const auto& r : e.resources) req.Add("resource", r);
    for (const auto& a : e.audiences) req.Add("audience", a);
    if (e.scope) req.Add("scope", *e.scope);
    return req;
  }

  Result<TokenResponse, OAuthError> Handle(const TokenRequest& req) {
    return Settled(endpoint_.Handle(req, *env_));
  }

  // A client_credentials token of `client`; fails the test when none is issued.
  TokenResponse Credentials(const std::string& client) {
    auto r = Handle(Basic(client, "client_credentials"));
    EXPECT_TRUE(r.ok()) << client << ": " << (r.ok() ? "" : r.error().debug);
    return r.ok() ? std::move(r).value() : TokenResponse{};
  }

  // An exchange that must succeed: the response, its token's claims in `claims`.
  TokenResponse Exchanged(const Exchange& e, json::object* claims) {
    auto r = Handle(Request(e));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().WireCode()) << " "
                        << (r.ok() ? "" : r.error().description + " / " + r.error().debug);
    if (!r.ok()) return {};
    *claims = Payload(r->access_token);
    return std::move(r).value();
  }

  // The claims of an access token as this environment would issue it to `client` for orders,
  // about `sub`, live for `ttl` more seconds.
  json::object Claims(const std::string& sub, const std::string& client = "owner",
                      int64_t ttl = 600) {
    const int64_t now = clock_.NowSeconds();
    return json::object{{"iss", env_->issuer},
                        {"sub", sub},
                        {"aud", json::array{"https://orders"}},
                        {"client_id", client},
                        {"scope", "read"},
                        {"iat", now},
                        {"exp", now + ttl},
                        {"jti", "crafted-" + std::to_string(++crafted_)}};
  }

  // `claims` signed as an access token: by the environment's default key unless `key` is
  // given, under the default key's kid unless `kid` is.
  std::string Sign(const json::object& claims, const crypto::PrivateKey* key = nullptr,
                   std::optional<std::string> kid = std::nullopt) {
    const crypto::PrivateKey& signer = key != nullptr ? *key : *env_->default_key->signer;
    json::object header{{"alg", std::string(signer.JwsAlg())},
                        {"kid", kid.value_or(env_->default_key->key.id.str())},
                        {"typ", "at+jwt"}};
    auto jwt = jwt::SignCompact(json::serialize(header), json::serialize(claims), signer);
    EXPECT_TRUE(jwt.ok());
    return jwt.ok() ? std::move(jwt).value() : std::string();
  }

  void Revoke(const TokenResponse& token) {
    auto stored = revoked_.Remember(env_->environment.id, token.jti,
                                    clock_.Now() + std::chrono::seconds(token.expires_in));
    ASSERT_TRUE(stored.ok());
  }

  // The exchange fails with `code` (400), and the debug text stays out of the wire description.
  void ExpectError(const Exchange& e, std::string_view code, const std::string& what) {
    auto r = Handle(Request(e));
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().WireCode(), code) << what << ": " << r.error().description;
    EXPECT_EQ(r.error().HttpStatus(), 400) << what;
    EXPECT_EQ(r.error().stage, ErrorStage::kValidation) << what;
    if (!r.error().debug.empty()) {
      EXPECT_EQ(r.error().WireDescription("cid").find(r.error().debug), std::string::npos) << what;
    }
  }

  FakeClock clock_;
  FailureThrottle throttle_;
  testutil::MemoryJtiStore jtis_;
  config::JtiCache revoked_{jtis_, model::JtiKind::kRevokedToken, clock_, 1000};
  // The trusted issuers' keys, and what their jwksUrls serve (absent: connection refused).
  std::shared_ptr<const crypto::PrivateKey> idp_rsa_, idp_ec_, idp_ed_, partner_, stranger_;
  std::map<std::string, std::string> jwks_bodies_;
  std::atomic<int> fetches_{0};
  bool queue_fetches_ = false;
  std::vector<std::function<void()>> queued_;
  RemoteJwks remote_;
  TokenEndpoint endpoint_;
  std::shared_ptr<const config::EnvironmentSnapshot> env_;
  model::EnvironmentData data_;  // what env_ was built from
  int crafted_ = 0;
};

TEST_F(TokenExchangeTest, IssuesATokenAboutTheSubjectClaimByClaim) {
  const TokenResponse subject = Credentials("owner");
  json::object c;
  const TokenResponse r = Exchanged({.subject_token = subject.access_token}, &c);
  const int64_t now = clock_.NowSeconds();

  EXPECT_EQ(r.issued_token_type, kAccessType);
  EXPECT_EQ(r.scope, "stock audit");
  EXPECT_EQ(r.expires_in, 600) << "capped at the subject's 600 s, below the resource's 900";
  EXPECT_NE(r.jti, subject.jti);

  auto parts = jwt::SplitCompact(r.access_token);
  ASSERT_TRUE(parts);
  json::object header = json::parse(parts->header_json).as_object();
  EXPECT_EQ(header.at("typ"), "at+jwt");
  EXPECT_EQ(Str(header.at("kid")), env_->default_key->key.id.str());

  EXPECT_EQ(Str(c.at("iss")), env_->issuer);
  EXPECT_EQ(c.at("sub"), "owner") << "the subject token's sub";
  EXPECT_EQ(c.at("client_id"), "exchanger") << "the exchanging application";
  EXPECT_EQ(c.at("aud"), (json::array{kInventory})) << "the exchanger's own grant";
  EXPECT_EQ(Str(c.at("scope")), "stock audit");
  EXPECT_EQ(c.at("iat").as_int64(), now);
  EXPECT_EQ(c.at("exp").as_int64(), Payload(subject.access_token).at("exp").as_int64());
  EXPECT_EQ(c.at("exp").as_int64(), now + 600);
  EXPECT_EQ(Str(c.at("jti")), r.jti);
  EXPECT_EQ(Str(c.at("env")), env_->environment.id.str());
  EXPECT_EQ(Str(c.at("org")), env_->organization_id.str());
  EXPECT_FALSE(c.contains("act")) << "no actor token and none before";
  EXPECT_FALSE(c.contains("may_act"));
  EXPECT_EQ(c.size(), 10u);

  // client_credentials answers carry no issued_token_type.
  EXPECT_TRUE(Credentials("both").issued_token_type.empty());
}

TEST_F(TokenExchangeTest, AcceptedVariantsOfTheRequest) {
  const std::string subject = Credentials("owner").access_token;
  struct Case {
    std::string name;
    Exchange exchange;
    std::string scope;
  };
  const std::vector<Case> cases = {
      {"jwt subject type", {.subject_token = subject, .subject_type = kJwtType}, "stock audit"},
      {"requested access_token",
       {.subject_token = subject, .requested_type = kAccessType},
       "stock audit"},
      {"resource", {.subject_token = subject, .resources = {kInventory}}, "stock audit"},
      {"audience", {.subject_token = subject, .audiences = {kInventory}}, "stock audit"},
      {"resource and audience alike",
       {.subject_token = subject, .resources = {kInventory}, .audiences = {kInventory}},
       "stock audit"},
      {"narrower scope", {.subject_token = subject, .scope = "audit"}, "audit"},
      {"an app with both grants", {.client = "both", .subject_token = subject}, "stock"},
      {"jwt actor type",
       {.subject_token = subject,
        .actor_token = Credentials("actor").access_token,
        .actor_type = kJwtType},
       "stock audit"},
  };
  for (const Case& k : cases) {
    json::object c;
    const TokenResponse r = Exchanged(k.exchange, &c);
    EXPECT_EQ(r.scope, k.scope) << k.name;
    EXPECT_EQ(c.at("aud"), (json::array{kInventory})) << k.name;
    EXPECT_EQ(c.at("sub"), "owner") << k.name;
    EXPECT_EQ(r.issued_token_type, kAccessType) << k.name;
  }
}

TEST_F(TokenExchangeTest, LifetimeEndsWithTheSubjectToken) {
  const TokenResponse subject = Credentials("owner");  // 600 s
  const int64_t subject_exp = Payload(subject.access_token).at("exp").as_int64();
  clock_.Advance(std::chrono::seconds(500));
  json::object c;
  EXPECT_EQ(Exchanged({.subject_token = subject.access_token}, &c).expires_in, 100);
  EXPECT_EQ(c.at("exp").as_int64(), subject_exp);

  clock_.Advance(std::chrono::seconds(99));
  EXPECT_EQ(Exchanged({.subject_token = subject.access_token}, &c).expires_in, 1);

  clock_.Advance(std::chrono::seconds(1));  // now == exp: expired
  ExpectError({.subject_token = subject.access_token}, "invalid_request", "expired subject");
}

TEST_F(TokenExchangeTest, LifetimeIsTheResourcesWhenTheTokensOutliveIt) {
  json::object c;
  const std::string subject = Sign(Claims("owner", "owner", 86400));
  EXPECT_EQ(Exchanged({.subject_token = subject}, &c).expires_in, 900);
  EXPECT_EQ(c.at("exp").as_int64(), clock_.NowSeconds() + 900);
}

TEST_F(TokenExchangeTest, LifetimeEndsWithTheActorToken) {
  json::object c;
  const std::string subject = Sign(Claims("owner", "owner", 3000));
  const std::string actor = Sign(Claims("actor", "actor", 120));
  const TokenResponse r =
      Exchanged({.subject_token = subject, .actor_token = actor, .actor_type = kAccessType}, &c);
  EXPECT_EQ(r.expires_in, 120);
  EXPECT_EQ(c.at("exp").as_int64(), clock_.NowSeconds() + 120);
}

TEST_F(TokenExchangeTest, ActorTokenNamesTheActor) {
  json::object c;
  Exchanged({.subject_token = Credentials("owner").access_token,
             .actor_token = Credentials("actor").access_token,
             .actor_type = kAccessType},
            &c);
  EXPECT_EQ(c.at("sub"), "owner");
  EXPECT_EQ(c.at("client_id"), "exchanger");
  EXPECT_EQ(c.at("act"), json::parse(R"({"sub":"actor"})")) << "only the actor's sub";
  EXPECT_EQ(c.size(), 11u);
}

TEST_F(TokenExchangeTest, ActorNestsThePriorChain) {
  struct Case {
    std::string name;
    json::value prior;  // the subject token's act (null: none)
    json::value want;   // the new token's act
  };
  const std::vector<Case> cases = {
      {"no prior act", nullptr, json::parse(R"({"sub":"actor"})")},
      {"one prior actor", json::parse(R"({"sub":"first"})"),
       json::parse(R"({"sub":"actor","act":{"sub":"first"}})")},
      {"a prior chain kept whole", json::parse(R"({"sub":"second","act":{"sub":"first"}})"),
       json::parse(R"({"sub":"actor","act":{"sub":"second","act":{"sub":"first"}}})")},
      {"prior act with more members", json::parse(R"({"sub":"first","iss":"https://elsewhere"})"),
       json::parse(R"({"sub":"actor","act":{"sub":"first","iss":"https://elsewhere"}})")},
  };
  const std::string actor = Credentials("actor").access_token;
  for (const Case& k : cases) {
    json::object claims = Claims("owner");
    if (!k.prior.is_null()) claims["act"] = k.prior;
    json::object c;
    Exchanged({.subject_token = Sign(claims), .actor_token = actor, .actor_type = kAccessType}, &c);
    EXPECT_EQ(c.at("sub"), "owner") << k.name;
    EXPECT_EQ(c.at("act"), k.want) << k.name;
  }
}

TEST_F(TokenExchangeTest, WithoutActorThePriorChainIsCarried) {
  const json::value chain = json::parse(R"({"sub":"second","act":{"sub":"first"}})");
  json::object claims = Claims("owner");
  claims["act"] = chain;
  json::object c;
  Exchanged({.subject_token = Sign(claims)}, &c);
  EXPECT_EQ(c.at("act"), chain) << "unchanged";
  EXPECT_EQ(c.at("sub"), "owner");
}

TEST_F(TokenExchangeTest, TwoExchangesBuildTheChain) {
  json::object first;
  const TokenResponse one = Exchanged({.subject_token = Credentials("owner").access_token,
                                       .actor_token = Credentials("actor").access_token,
                                       .actor_type = kAccessType},
                                      &first);
  EXPECT_EQ(first.at("act"), json::parse(R"({"sub":"actor"})"));

  // The exchanged token is a subject token itself: `both` exchanges it with cc-only acting.
  json::object second;
  Exchanged({.client = "both",
             .subject_token = one.access_token,
             .actor_token = Credentials("cc-only").access_token,
             .actor_type = kAccessType},
            &second);
  EXPECT_EQ(second.at("sub"), "owner");
  EXPECT_EQ(second.at("client_id"), "both");
  EXPECT_EQ(second.at("act"), json::parse(R"({"sub":"cc-only","act":{"sub":"actor"}})"));

  // Without an actor, the first exchange's chain goes on as it was.
  json::object third;
  Exchanged({.client = "both", .subject_token = one.access_token}, &third);
  EXPECT_EQ(third.at("act"), json::parse(R"({"sub":"actor"})"));
}

TEST_F(TokenExchangeTest, MayActNamesWhoMayAct) {
  const std::string other_issuer = "https://auth.elsewhere.test/as";
  struct Case {
    std::string name;
    json::value may_act;
    bool with_actor;  // the actor token of `actor`; else the caller, `exchanger`, acts
    bool allowed;
  };
  const std::vector<Case> cases = {
      {"actor named", json::object{{"sub", "actor"}}, true, true},
      {"actor named with our issuer", json::object{{"sub", "actor"}, {"iss", env_->issuer}}, true,
       true},
      {"actor named with another issuer", json::object{{"sub", "actor"}, {"iss", other_issuer}},
       true, false},
      {"someone else named", json::object{{"sub", "someone-else"}}, true, false},
      {"the caller named but an actor token sent", json::object{{"sub", "exchanger"}}, true, false},
      {"caller named, no actor token", json::object{{"sub", "exchanger"}}, false, true},
      {"caller named with our issuer", json::object{{"sub", "exchanger"}, {"iss", env_->issuer}},
       false, true},
      {"caller named with another issuer",
       json::object{{"sub", "exchanger"}, {"iss", other_issuer}}, false, false},
      {"someone else named, no actor token", json::object{{"sub", "actor"}}, false, false},
      {"may_act without sub", json::object{{"iss", env_->issuer}}, true, false},
      {"may_act not an object", json::value("actor"), true, false},
      {"may_act sub not a string", json::object{{"sub", 7}}, false, false},
  };
  const std::string actor = Credentials("actor").access_token;
  for (const Case& k : cases) {
    json::object claims = Claims("owner");
    claims["may_act"] = k.may_act;
    Exchange e{.subject_token = Sign(claims)};
    if (k.with_actor) {
      e.actor_token = actor;
      e.actor_type = kAccessType;
    }
    if (k.allowed) {
      json::object c;
      Exchanged(e, &c);
      EXPECT_EQ(c.at("sub"), "owner") << k.name;
      EXPECT_FALSE(c.contains("may_act")) << k.name;
      if (k.with_actor) {
        EXPECT_EQ(c.at("act"), json::parse(R"({"sub":"actor"})")) << k.name;
      }
    } else {
      ExpectError(e, "invalid_request", k.name);
    }
  }
}

TEST_F(TokenExchangeTest, InvalidRequests) {
  const TokenResponse subject = Credentials("owner");
  const TokenResponse revoked_subject = Credentials("owner");
  Revoke(revoked_subject);
  const TokenResponse revoked_actor = Credentials("actor");
  Revoke(revoked_actor);
  const std::string live = subject.access_token;
  const std::string actor = Credentials("actor").access_token;

  auto other_key = crypto::PrivateKey::Generate(crypto::KeyKind::kRsa, 2048);
  ASSERT_TRUE(other_key.ok());
  json::object no_sub = Claims("owner");
  no_sub.erase("sub");
  json::object numeric_sub = Claims("owner");
  numeric_sub["sub"] = 42;
  json::object other_issuer = Claims("owner");
  other_issuer["iss"] = "https://auth.elsewhere.test/as";
  json::object other_env = Claims("owner");
  other_env["iss"] = std::string(testutil::kAuthUrl) + "/00000000-2222-4333-8444-555555555555/as";
  json::object unknown_client = Claims("owner", "no-such-app");

  struct Case {
    std::string name;
    Exchange exchange;
  };
  const std::vector<Case> cases = {
      {"subject_token missing", {.subject_token = std::nullopt}},
      {"subject_token_type missing", {.subject_token = live, .subject_type = std::nullopt}},
      {"subject_token_type id_token", {.subject_token = live, .subject_type = kIdTokenType}},
      {"subject_token_type refresh_token", {.subject_token = live, .subject_type = kRefreshType}},
      {"subject_token_type not a URN", {.subject_token = live, .subject_type = "access_token"}},
      {"actor_token without type", {.subject_token = live, .actor_token = actor}},
      {"actor_token_type without token", {.subject_token = live, .actor_type = kAccessType}},
      {"actor_token_type id_token",
       {.subject_token = live, .actor_token = actor, .actor_type = kIdTokenType}},
      {"requested_token_type refresh_token",
       {.subject_token = live, .requested_type = kRefreshType}},
      {"requested_token_type jwt", {.subject_token = live, .requested_type = kJwtType}},
      {"requested_token_type id_token", {.subject_token = live, .requested_type = kIdTokenType}},
      {"garbage subject", {.subject_token = "garbage"}},
      {"three garbage segments", {.subject_token = "a.b.c"}},
      {"expired subject", {.subject_token = Sign(Claims("owner", "owner", 0))}},
      {"expired a second ago", {.subject_token = Sign(Claims("owner", "owner", -1))}},
      {"revoked subject", {.subject_token = revoked_subject.access_token}},
      {"disabled application's token", {.subject_token = Sign(Claims("owner", "off"))}},
      {"unknown application's token", {.subject_token = Sign(unknown_client)}},
      {"signed by another key under our kid",
       {.subject_token = Sign(Claims("owner"), other_key->get())}},
      {"signed by another key, unknown kid",
       {.subject_token = Sign(Claims("owner"), other_key->get(), "kid-elsewhere")}},
      {"another issuer", {.subject_token = Sign(other_issuer)}},
      {"another environment's issuer", {.subject_token = Sign(other_env)}},
      {"subject without sub", {.subject_token = Sign(no_sub)}},
      {"subject with a numeric sub", {.subject_token = Sign(numeric_sub)}},
      {"garbage actor",
       {.subject_token = live, .actor_token = "garbage", .actor_type = kAccessType}},
      {"revoked actor",
       {.subject_token = live,
        .actor_token = revoked_actor.access_token,
        .actor_type = kAccessType}},
      {"expired actor",
       {.subject_token = live,
        .actor_token = Sign(Claims("actor", "actor", 0)),
        .actor_type = kAccessType}},
      {"actor without sub",
       {.subject_token = live, .actor_token = Sign(no_sub), .actor_type = kAccessType}},
      {"actor signed by another key",
       {.subject_token = live,
        .actor_token = Sign(Claims("actor", "actor"), other_key->get()),
        .actor_type = kAccessType}},
  };
  for (const Case& k : cases) ExpectError(k.exchange, "invalid_request", k.name);

  // The same live tokens pass: the failures above are the cases', not the fixture's.
  json::object c;
  Exchanged({.subject_token = live, .actor_token = actor, .actor_type = kAccessType}, &c);
  EXPECT_EQ(c.at("act"), json::parse(R"({"sub":"actor"})"));
}

TEST_F(TokenExchangeTest, RevocationOfTheSubjectTakesEffectAtOnce) {
  const TokenResponse subject = Credentials("owner");
  json::object c;
  Exchanged({.subject_token = subject.access_token}, &c);
  Revoke(subject);
  ExpectError({.subject_token = subject.access_token}, "invalid_request", "after revocation");
}

TEST_F(TokenExchangeTest, InvalidTargets) {
  const std::string subject = Credentials("owner").access_token;
  struct Case {
    std::string name;
    Exchange exchange;
  };
  const std::vector<Case> cases = {
      {"unknown resource", {.subject_token = subject, .resources = {"https://unknown"}}},
      {"unknown audience", {.subject_token = subject, .audiences = {"https://unknown"}}},
      {"a resource not granted to the exchanger",
       {.subject_token = subject, .resources = {"https://orders"}}},
      {"an audience not granted to the exchanger",
       {.subject_token = subject, .audiences = {"https://orders"}}},
      {"one known resource, one unknown audience",
       {.subject_token = subject, .resources = {kInventory}, .audiences = {"https://unknown"}}},
      {"the management API as audience",
       {.subject_token = subject, .audiences = {testutil::kApiUrl}}},
      {"a worker that would get a management-API token",
       {.client = "worker", .subject_token = subject}},
      {"a worker asking for an OIDC scope",
       {.client = "worker", .subject_token = subject, .scope = "openid"}},
  };
  for (const Case& k : cases) ExpectError(k.exchange, "invalid_target", k.name);
}

TEST_F(TokenExchangeTest, ScopesComeFromTheExchangersOwnGrants) {
  // The subject token's `read` on orders is not the exchanger's to ask for.
  const std::string subject = Credentials("owner").access_token;
  ExpectError({.subject_token = subject, .scope = "read"}, "invalid_scope", "subject's scope");
  ExpectError({.subject_token = subject, .scope = "nope"}, "invalid_scope", "unknown scope");
  json::object c;
  Exchanged({.subject_token = subject, .scope = "read stock"}, &c);
  EXPECT_EQ(c.at("scope"), "stock") << "only granted names count (SPEC §2.4 rule 1)";
}

TEST_F(TokenExchangeTest, UnauthorizedClients) {
  const std::string subject = Credentials("owner").access_token;
  ExpectError({.client = "cc-only", .subject_token = subject}, "unauthorized_client",
              "no TOKEN_EXCHANGE");
  ExpectError({.client = "owner", .subject_token = subject}, "unauthorized_client",
              "the subject token's own client without TOKEN_EXCHANGE");

  // A public client is refused even when it lists TOKEN_EXCHANGE.
  TokenRequest req = Request({.subject_token = subject});
  req.authorization.reset();
  req.client_id = "public";
  auto r = Handle(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "unauthorized_client");
  EXPECT_EQ(r.error().HttpStatus(), 400);

  // And an exchanger cannot use client_credentials without listing it.
  r = Handle(Basic("exchanger", "client_credentials"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "unauthorized_client");
}

TEST_F(TokenExchangeTest, CustomClaimsReadTheSubjectAndActorTokens) {
  json::object prior = Claims("owner");
  prior["act"] = json::object{{"sub", "first"}};
  const std::string subject = Sign(prior);
  const std::string actor = Credentials("actor").access_token;

  json::object c;
  TokenResponse r = Exchanged({.client = "reporter",
                               .subject_token = subject,
                               .actor_token = actor,
                               .actor_type = kAccessType},
                              &c);
  EXPECT_EQ(c.at("origin"), "owner") << "subjectToken.client_id";
  EXPECT_EQ(c.at("actor"), "actor") << "actorToken.sub";
  EXPECT_EQ(c.at("prior"), "first") << "subjectToken.act.sub";
  EXPECT_EQ(c.at("grant"), kExchange);
  EXPECT_EQ(c.at("act"), json::parse(R"({"sub":"actor","act":{"sub":"first"}})"));
  EXPECT_EQ(r.claims_left_out, 0);

  // Without an actor token, actorToken.sub is null (the Elvis default); a subject without
  // `act` leaves `prior` out.
  r = Exchanged({.client = "reporter", .subject_token = Credentials("owner").access_token}, &c);
  EXPECT_EQ(c.at("origin"), "owner");
  EXPECT_EQ(c.at("actor"), "none");
  EXPECT_FALSE(c.contains("prior"));
  EXPECT_EQ(r.claims_left_out, 1);
}

// JWTs of the environment's trusted issuers as subject and actor tokens (docs/token-exchange.md,
// "Trusted issuers"): the idp's keys are RSA "idp-rsa", P-256 "idp-ec" and Ed25519 "idp-ed",
// the partner's P-256 "partner-1"; `stranger_` is nobody's.
class TokenExchangeTrustedIssuerTest : public TokenExchangeTest {
 protected:
  // The claims of a JWT of the idp about `sub`, addressed to this environment, live for `ttl`
  // more seconds.
  json::object External(const std::string& sub, int64_t ttl = 300) {
    const int64_t now = clock_.NowSeconds();
    return json::object{{"iss", kIdp},
                        {"sub", sub},
                        {"aud", env_->issuer},
                        {"iat", now},
                        {"exp", now + ttl},
                        {"jti", "ext-" + std::to_string(++crafted_)},
                        {"email", sub + "@idp.example.test"}};
  }

  // The claims of a JWT of the partner about `sub`, addressed to its configured audience.
  json::object FromPartner(const std::string& sub, int64_t ttl = 300) {
    json::object claims = External(sub, ttl);
    claims["iss"] = kPartner;
    claims["aud"] = kPartnerAudience;
    return claims;
  }

  // `claims` signed by the partner's key.
  std::string SignPartner(const json::object& claims) {
    return SignExternal(claims, partner_.get(), {{"kid", "partner-1"}});
  }

  // `claims` signed by `key` (the idp's RSA key unless given) under a header of alg = the key's,
  // kid "idp-rsa" and typ JWT, with the members of `header` set over them (null: left out).
  std::string SignExternal(const json::object& claims, const crypto::PrivateKey* key = nullptr,
                           const json::object& header = {}) {
    const crypto::PrivateKey& signer = key != nullptr ? *key : *idp_rsa_;
    json::object h{{"alg", std::string(signer.JwsAlg())}, {"kid", "idp-rsa"}, {"typ", "JWT"}};
    for (const auto& [name, value] : header) {
      if (value.is_null()) {
        h.erase(name);
      } else {
        h[name] = value;
      }
    }
    auto jwt = jwt::SignCompact(json::serialize(h), json::serialize(claims), signer);
    EXPECT_TRUE(jwt.ok());
    return jwt.ok() ? std::move(jwt).value() : std::string();
  }

  // A compact JWS of `header` and `claims` with `signature` as its raw third part.
  static std::string Compact(const json::object& header, const json::object& claims,
                             std::string_view signature) {
    return Base64UrlEncode(json::serialize(header)) + "." +
           Base64UrlEncode(json::serialize(claims)) + "." + Base64UrlEncode(signature);
  }

  // An exchange of the external `subject` (typed as a JWT), optionally with an `actor` token.
  static Exchange Of(const std::string& subject, const std::string& actor = "",
                     const std::string& client = "exchanger") {
    Exchange e{.client = client, .subject_token = subject, .subject_type = kJwtType};
    if (!actor.empty()) {
      e.actor_token = actor;
      e.actor_type = kJwtType;
    }
    return e;
  }
};

TEST_F(TokenExchangeTrustedIssuerTest, ExternalSubjectClaimByClaim) {
  const std::string subject = SignExternal(External("user-42", 120));
  json::object c;
  const TokenResponse r = Exchanged(Of(subject), &c);
  const int64_t now = clock_.NowSeconds();

  EXPECT_EQ(r.issued_token_type, kAccessType);
  EXPECT_EQ(r.scope, "stock audit");
  EXPECT_EQ(r.expires_in, 120) << "capped at the external token's exp, below the resource's 900";
  EXPECT_EQ(Str(c.at("iss")), env_->issuer) << "issued by this environment";
  EXPECT_EQ(c.at("sub"), "user-42") << "the external token's sub";
  EXPECT_EQ(c.at("client_id"), "exchanger");
  EXPECT_EQ(c.at("aud"), (json::array{kInventory}));
  EXPECT_EQ(c.at("exp").as_int64(), now + 120);
  EXPECT_EQ(c.at("iat").as_int64(), now);
  EXPECT_FALSE(c.contains("act")) << "no actor token";
  EXPECT_FALSE(c.contains("email")) << "the external token's other claims stay there";
  EXPECT_EQ(c.size(), 10u);
  EXPECT_EQ(fetches_.load(), 1);

  // The keys are cached: further exchanges of the idp's tokens fetch nothing.
  Exchanged(Of(SignExternal(External("user-43"))), &c);
  Exchanged(Of(SignExternal(External("user-44"), idp_ec_.get(), {{"kid", "idp-ec"}})), &c);
  EXPECT_EQ(c.at("sub"), "user-44");
  EXPECT_EQ(fetches_.load(), 1);
}

TEST_F(TokenExchangeTrustedIssuerTest, AcceptedKeysAndClaims) {
  auto ed_as_ed25519 = crypto::PrivateKey::FromPem(idp_ed_->ToPem(), "Ed25519");
  ASSERT_TRUE(ed_as_ed25519.ok());
  const int64_t now = clock_.NowSeconds();
  json::object aud_array = External("user-42");
  aud_array["aud"] = json::array{"https://elsewhere", env_->issuer};
  json::object nbf_now = External("user-42");
  nbf_now["nbf"] = now;
  json::object nbf_in_skew = External("user-42");
  nbf_in_skew["nbf"] = now + 60;
  json::object numeric_exp = External("user-42");
  numeric_exp["exp"] = static_cast<double>(now) + 300.5;

  struct Case {
    std::string name;
    Exchange exchange;
  };
  const std::vector<Case> cases = {
      {"RS256", Of(SignExternal(External("user-42")))},
      {"ES256", Of(SignExternal(External("user-42"), idp_ec_.get(), {{"kid", "idp-ec"}}))},
      {"EdDSA", Of(SignExternal(External("user-42"), idp_ed_.get(), {{"kid", "idp-ed"}}))},
      {"Ed25519 (RFC 9864)",
       Of(SignExternal(External("user-42"), ed_as_ed25519->get(), {{"kid", "idp-ed"}}))},
      {"no kid: every key is tried",
       Of(SignExternal(External("user-42"), idp_ec_.get(), {{"kid", nullptr}}))},
      {"typed as an access token",
       {.subject_token = SignExternal(External("user-42")), .subject_type = kAccessType}},
      {"aud an array holding the audience", Of(SignExternal(aud_array))},
      {"nbf now", Of(SignExternal(nbf_now))},
      {"nbf 60 s ahead: within the skew", Of(SignExternal(nbf_in_skew))},
      {"exp with a fraction", Of(SignExternal(numeric_exp))},
      {"the partner's own audience", Of(SignPartner(FromPartner("user-42")))},
  };
  for (const Case& k : cases) {
    json::object c;
    Exchanged(k.exchange, &c);
    EXPECT_EQ(c.at("sub"), "user-42") << k.name;
    EXPECT_EQ(c.at("client_id"), "exchanger") << k.name;
  }
}

TEST_F(TokenExchangeTrustedIssuerTest, AnExternalChainKeepsItsIssuer) {
  // Earlier actors named by a trusted issuer get its iss, so none passes for a local one.
  json::object claims = External("user-42");
  claims["act"] = json::parse(R"({"sub":"exchanger","act":{"sub":"b","iss":"https://other"}})");
  const std::string subject = SignExternal(claims);
  json::object c;
  Exchanged(Of(subject), &c);
  EXPECT_EQ(c.at("act"), json::parse(R"({"sub":"exchanger","iss":"https://idp.example.test",
                                         "act":{"sub":"b","iss":"https://other"}})"));
  Exchanged(Of(subject, SignExternal(External("agent-7"))), &c);
  EXPECT_EQ(c.at("act"), json::parse(R"({"sub":"agent-7","iss":"https://idp.example.test",
      "act":{"sub":"exchanger","iss":"https://idp.example.test",
             "act":{"sub":"b","iss":"https://other"}}})"));
}

TEST_F(TokenExchangeTrustedIssuerTest, ActorsAndSubjectsFromEitherSide) {
  const std::string local_subject = Credentials("owner").access_token;  // 600 s
  const std::string local_actor = Credentials("actor").access_token;
  const std::string external_subject = SignExternal(External("user-42"));
  const std::string external_actor = SignExternal(External("agent-7"));
  const json::value named = json::parse(R"({"sub":"agent-7","iss":"https://idp.example.test"})");
  struct Case {
    std::string name;
    Exchange exchange;
    std::string sub;
    json::value act;
  };
  const std::vector<Case> cases = {
      {"external subject, external actor", Of(external_subject, external_actor), "user-42", named},
      {"local subject, external actor",
       {.subject_token = local_subject, .actor_token = external_actor, .actor_type = kJwtType},
       "owner",
       named},
      {"external subject, local actor",
       {.subject_token = external_subject,
        .subject_type = kJwtType,
        .actor_token = local_actor,
        .actor_type = kAccessType},
       "user-42",
       json::parse(R"({"sub":"actor"})")},
  };
  for (const Case& k : cases) {
    json::object c;
    Exchanged(k.exchange, &c);
    EXPECT_EQ(Str(c.at("sub")), k.sub) << k.name;
    EXPECT_EQ(c.at("act"), k.act) << k.name << ": " << json::serialize(c);
    EXPECT_EQ(c.at("client_id"), "exchanger") << k.name;
    EXPECT_EQ(c.size(), 11u) << k.name;
  }

  // An external subject's own `act` nests inside the new actor, with its issuer's `iss`.
  json::object chained = External("user-42");
  chained["act"] = json::object{{"sub", "gateway"}};
  json::object c;
  Exchanged(Of(SignExternal(chained), external_actor), &c);
  EXPECT_EQ(c.at("act"),
            json::parse(R"({"sub":"agent-7","iss":"https://idp.example.test",)"
                        R"("act":{"sub":"gateway","iss":"https://idp.example.test"}})"));
}

TEST_F(TokenExchangeTrustedIssuerTest, LifetimeEndsWithTheExternalTokens) {
  const int64_t now = clock_.NowSeconds();
  json::object c;
  EXPECT_EQ(Exchanged(Of(SignExternal(External("user-42", 3000))), &c).expires_in, 900)
      << "the resource's, below the subject's";
  EXPECT_EQ(Exchanged(Of(SignExternal(External("user-42", 200))), &c).expires_in, 200);
  EXPECT_EQ(c.at("exp").as_int64(), now + 200);
  EXPECT_EQ(
      Exchanged(Of(SignExternal(External("user-42", 3000)), SignExternal(External("agent-7", 45))),
                &c)
          .expires_in,
      45)
      << "the actor's";
  EXPECT_EQ(c.at("exp").as_int64(), now + 45);
  EXPECT_EQ(Exchanged({.subject_token = SignExternal(External("user-42", 30)),
                       .subject_type = kJwtType,
                       .actor_token = Credentials("actor").access_token,
                       .actor_type = kAccessType},
                      &c)
                .expires_in,
            30);
}

// Up to its exp an external token is exchanged, for what is left of it; 60 s and more past it,
// never (the nbf side of the skew is in AcceptedKeysAndClaims and RefusedExternalTokens).
TEST_F(TokenExchangeTrustedIssuerTest, ExpiryBeyondTheSkewIsRefused) {
  const std::string subject = SignExternal(External("user-42", 100));
  json::object c;
  Exchanged(Of(subject), &c);
  clock_.Advance(std::chrono::seconds(99));
  EXPECT_EQ(Exchanged(Of(subject), &c).expires_in, 1);
  EXPECT_EQ(c.at("sub"), "user-42");
  clock_.Advance(std::chrono::seconds(61));  // 60 s past exp
  ExpectError(Of(subject), "invalid_request", "exp 60 s ago");
  clock_.Advance(std::chrono::seconds(1));
  ExpectError(Of(subject), "invalid_request", "exp 61 s ago");
  ExpectError({.subject_token = Credentials("owner").access_token,
               .actor_token = subject,
               .actor_type = kJwtType},
              "invalid_request", "actor, exp 61 s ago");
}

// docs/token-exchange.md: "an `exp` not passed ... (60 s of clock skew either way)": a token
// whose exp passed 30 s ago is within the skew, and CheckExternal lets it through. Fails today:
// the lifetime cap (exp - now <= 0) then refuses it as "expires this second".
TEST_F(TokenExchangeTrustedIssuerTest, ExpPassedIsRefusedEvenWithinTheNbfSkew) {
  // The exchanged token may not outlive the tokens it is made from: no skew on exp.
  const std::string subject = SignExternal(External("user-42", -30));
  auto r = Handle(Request(Of(subject)));
  ASSERT_FALSE(r.ok()) << "exp 30 s ago";
  EXPECT_EQ(r.error().WireCode(), "invalid_request");
  EXPECT_NE(r.error().description.find("subject token"), std::string::npos)
      << r.error().description;
  auto as_actor = Handle(Request({.subject_token = Credentials("owner").access_token,
                                  .actor_token = subject,
                                  .actor_type = kJwtType}));
  ASSERT_FALSE(as_actor.ok()) << "actor, exp 30 s ago";
  EXPECT_EQ(as_actor.error().WireCode(), "invalid_request");
  EXPECT_NE(as_actor.error().description.find("actor token"), std::string::npos)
      << as_actor.error().description;
}

TEST_F(TokenExchangeTrustedIssuerTest, MayActIsComparedWithTheActorsIssuer) {
  const std::string external_actor = SignExternal(External("agent-7"));
  const std::string local_actor = Credentials("actor").access_token;
  struct Case {
    std::string name;
    json::value may_act;
    std::string actor;  // empty: the caller, `exchanger`, acts
    bool allowed;
  };
  const std::vector<Case> cases = {
      {"external actor with its issuer", json::object{{"sub", "agent-7"}, {"iss", kIdp}},
       external_actor, true},
      {"external actor, no iss", json::object{{"sub", "agent-7"}}, external_actor, true},
      {"external actor named with our issuer",
       json::object{{"sub", "agent-7"}, {"iss", env_->issuer}}, external_actor, false},
      {"external actor named with the partner", json::object{{"sub", "agent-7"}, {"iss", kPartner}},
       external_actor, false},
      {"someone else of the idp", json::object{{"sub", "agent-8"}, {"iss", kIdp}}, external_actor,
       false},
      {"local actor with our issuer", json::object{{"sub", "actor"}, {"iss", env_->issuer}},
       local_actor, true},
      {"local actor named with the idp", json::object{{"sub", "actor"}, {"iss", kIdp}}, local_actor,
       false},
      {"the caller with our issuer", json::object{{"sub", "exchanger"}, {"iss", env_->issuer}}, "",
       true},
      {"the caller named with the idp", json::object{{"sub", "exchanger"}, {"iss", kIdp}}, "",
       false},
  };
  for (const Case& k : cases) {
    json::object claims = External("user-42");
    claims["may_act"] = k.may_act;
    Exchange e = Of(SignExternal(claims));
    if (!k.actor.empty()) {
      e.actor_token = k.actor;
      e.actor_type = kJwtType;
    }
    if (k.allowed) {
      json::object c;
      Exchanged(e, &c);
      EXPECT_EQ(c.at("sub"), "user-42") << k.name;
      EXPECT_FALSE(c.contains("may_act")) << k.name;
    } else {
      ExpectError(e, "invalid_request", k.name);
    }
  }
}

TEST_F(TokenExchangeTrustedIssuerTest, RefusedExternalTokens) {
  const int64_t now = clock_.NowSeconds();
  const std::string live = SignExternal(External("user-42"));
  auto with = [this](const std::string& name, json::value value) {
    json::object claims = External("user-42");
    if (value.is_null()) {
      claims.erase(name);
    } else {
      claims[name] = std::move(value);
    }
    return claims;
  };
  const json::object claims = External("user-42");
  const std::string input =
      Base64UrlEncode(json::serialize(json::object{{"alg", "HS256"}, {"kid", "idp-rsa"}})) + "." +
      Base64UrlEncode(json::serialize(claims));
  // The RS256 signature of `live` under another header, and `live` with its payload changed.
  const std::string live_signature = live.substr(live.rfind('.') + 1);
  const std::string tampered = live.substr(0, live.find('.') + 1) +
                               Base64UrlEncode(json::serialize(with("sub", "admin"))) + "." +
                               live_signature;

  struct Case {
    std::string name;
    std::string token;
  };
  const std::vector<Case> cases = {
      {"unknown issuer", SignExternal(with("iss", "https://unknown.example.test"))},
      {"no iss", SignExternal(with("iss", nullptr))},
      {"iss differing in case", SignExternal(with("iss", "https://IDP.example.test"))},
      {"iss with a trailing slash", SignExternal(with("iss", "https://idp.example.test/"))},
      {"aud another service's", SignExternal(with("aud", "https://elsewhere"))},
      {"aud an array without ours", SignExternal(with("aud", json::array{"https://elsewhere"}))},
      {"no aud", SignExternal(with("aud", nullptr))},
      {"the partner's token addressed to us, not its audience", SignPartner(with("iss", kPartner))},
      {"expired 61 s ago", SignExternal(with("exp", now - 61))},
      {"expired an hour ago", SignExternal(with("exp", now - 3600))},
      {"no exp", SignExternal(with("exp", nullptr))},
      {"exp a string", SignExternal(with("exp", json::string(std::to_string(now + 300))))},
      {"nbf 61 s ahead", SignExternal(with("nbf", now + 61))},
      {"nbf an hour ahead", SignExternal(with("nbf", now + 3600))},
      {"nbf a string", SignExternal(with("nbf", "now"))},
      {"alg HS256 with a secret",
       input + "." + Base64UrlEncode(crypto::Hmac(256, "s3cret", input))},
      {"alg HS256 keyed with the RSA modulus",
       input + "." + Base64UrlEncode(crypto::Hmac(256, idp_rsa_->Public().n, input))},
      {"alg none", Compact({{"alg", "none"}, {"kid", "idp-rsa"}}, claims, "")},
      {"no alg", Compact({{"kid", "idp-rsa"}}, claims, "sig")},
      {"an RS256 signature relabelled PS256",
       Base64UrlEncode(json::serialize(json::object{{"alg", "PS256"}, {"kid", "idp-rsa"}})) + "." +
           live.substr(live.find('.') + 1)},
      {"crit", SignExternal(claims, nullptr, {{"crit", json::array{"exp"}}})},
      {"crit empty", SignExternal(claims, nullptr, {{"crit", json::array{}}})},
      {"unknown kid", SignExternal(claims, nullptr, {{"kid", "nope"}})},
      {"the kid of another of its keys", SignExternal(claims, nullptr, {{"kid", "idp-ec"}})},
      {"signed by a stranger under its kid", SignExternal(claims, stranger_.get())},
      {"signed by a stranger, no kid", SignExternal(claims, stranger_.get(), {{"kid", nullptr}})},
      {"signed by the partner, claiming the idp",
       SignExternal(claims, partner_.get(), {{"kid", "partner-1"}})},
      {"payload changed after signing", tampered},
      {"no signature", live.substr(0, live.rfind('.') + 1)},
      {"no sub", SignExternal(with("sub", nullptr))},
      {"an empty sub", SignExternal(with("sub", ""))},
      {"a numeric sub", SignExternal(with("sub", 42))},
      {"keys that cannot be fetched", SignExternal(with("iss", kDown))},
  };
  for (const Case& k : cases) {
    ExpectError(Of(k.token), "invalid_request", "subject: " + k.name);
    ExpectError({.subject_token = Credentials("owner").access_token,
                 .actor_token = k.token,
                 .actor_type = kJwtType},
                "invalid_request", "actor: " + k.name);
    // The description never says why (docs/token-exchange.md, "Errors").
    auto r = Handle(Request(Of(k.token)));
    if (!r.ok()) {
      EXPECT_TRUE(r.error().description == "The subject token is not valid" ||
                  r.error().description == "The subject token has no subject")
          << k.name << ": " << r.error().description;
    }
  }

  // The same issuer, key and claims pass: the failures above are the cases'.
  json::object c;
  Exchanged(Of(live, SignExternal(External("agent-7"))), &c);
  EXPECT_EQ(c.at("sub"), "user-42");
}

TEST_F(TokenExchangeTrustedIssuerTest, ADisabledIssuerIsNotTrusted) {
  const std::string subject = SignExternal(External("user-42"));
  json::object c;
  Exchanged(Of(subject), &c);

  model::EnvironmentData data = data_;
  for (auto& t : data.trusted_issuers) {
    if (t.issuer == kIdp) t.enabled = false;
  }
  auto disabled = config::BuildEnvironmentSnapshot(data, {testutil::kAuthUrl, testutil::kApiUrl});
  ASSERT_TRUE(disabled.ok());
  const auto enabled = env_;
  env_ = *disabled;
  EXPECT_EQ(env_->FindTrustedIssuer(kIdp), nullptr);
  ExpectError(Of(subject), "invalid_request", "disabled issuer's subject");
  ExpectError({.subject_token = Credentials("owner").access_token,
               .actor_token = SignExternal(External("agent-7")),
               .actor_type = kJwtType},
              "invalid_request", "disabled issuer's actor");
  env_ = enabled;
  Exchanged(Of(subject), &c);
}

TEST_F(TokenExchangeTrustedIssuerTest, FetchFailuresAreInvalidRequest) {
  const std::string subject = SignExternal(External("user-42", 3600));
  const std::string body = jwks_bodies_[kIdpJwks];
  jwks_bodies_.erase(kIdpJwks);  // connection refused
  ExpectError(Of(subject), "invalid_request", "fetch failed");
  EXPECT_EQ(fetches_.load(), 1);

  clock_.Advance(std::chrono::seconds(11));
  jwks_bodies_[kIdpJwks] = R"({"keys":"garbage"})";
  ExpectError(Of(subject), "invalid_request", "not a JWK Set");
  EXPECT_EQ(fetches_.load(), 2);

  jwks_bodies_[kIdpJwks] = body;
  ExpectError(Of(subject), "invalid_request", "a refetch is not due yet");
  EXPECT_EQ(fetches_.load(), 2);
  clock_.Advance(std::chrono::seconds(11));
  json::object c;
  Exchanged(Of(subject), &c);
  EXPECT_EQ(c.at("sub"), "user-42");
  EXPECT_EQ(fetches_.load(), 3);
}

TEST_F(TokenExchangeTrustedIssuerTest, WithoutOutboundFetchesExternalTokensAreRefused) {
  const TokenEndpoint offline(ClientAuthServices{clock_, throttle_}, testutil::kApiUrl, &revoked_);
  auto r = Settled(offline.Handle(Request(Of(SignExternal(External("user-42")))), *env_));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().WireCode(), "invalid_request");
  EXPECT_EQ(r.error().HttpStatus(), 400);
  EXPECT_EQ(fetches_.load(), 0);
}

TEST_F(TokenExchangeTrustedIssuerTest, KeysAreFetchedElsewhereBeforeClientAuthentication) {
  queue_fetches_ = true;
  const TokenRequest req = Request(Of(SignExternal(External("user-42"))));
  auto first = endpoint_.Handle(req, *env_);
  ASSERT_FALSE(first.ok());
  auto* pending = std::get_if<Pending>(&first.error());
  ASSERT_NE(pending, nullptr) << "no answer yet, and no error";
  EXPECT_EQ(fetches_.load(), 0) << "never on the caller's thread";
  bool woken = false;
  pending->Then([&woken] { woken = true; });

  // Another request for the same keys waits for the same fetch, whoever asks: the wait comes
  // before client authentication.
  TokenRequest wrong_secret = Request(Of(SignExternal(External("user-43"))));
  wrong_secret.authorization = "Basic " + Base64Encode("exchanger:wrong");
  auto second = endpoint_.Handle(wrong_secret, *env_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(std::get_if<Pending>(&second.error()), nullptr);
  ASSERT_EQ(queued_.size(), 1u) << "one fetch per URL at a time";

  queued_.front()();
  EXPECT_TRUE(woken);
  EXPECT_EQ(fetches_.load(), 1);
  auto resumed = Settled(endpoint_.Resume(req, *env_));
  ASSERT_TRUE(resumed.ok()) << resumed.error().debug;
  EXPECT_EQ(Payload(resumed->access_token).at("sub"), "user-42");
  auto refused = Settled(endpoint_.Resume(wrong_secret, *env_));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().WireCode(), "invalid_client");
  EXPECT_EQ(refused.error().HttpStatus(), 401);

  // An actor of another issuer waits for that issuer's keys in turn.
  const TokenRequest both =
      Request(Of(SignExternal(External("user-44")), SignPartner(FromPartner("agent-7"))));
  auto third = endpoint_.Handle(both, *env_);
  ASSERT_FALSE(third.ok());
  EXPECT_NE(std::get_if<Pending>(&third.error()), nullptr);
  ASSERT_EQ(queued_.size(), 2u);
  EXPECT_EQ(fetches_.load(), 1) << "the idp's keys are cached";
  queued_.back()();
  EXPECT_EQ(fetches_.load(), 2);
  auto exchanged = Settled(endpoint_.Resume(both, *env_));
  ASSERT_TRUE(exchanged.ok()) << exchanged.error().debug;
  json::object c = Payload(exchanged->access_token);
  EXPECT_EQ(c.at("sub"), "user-44");
  EXPECT_EQ(c.at("act"), json::parse(R"({"sub":"agent-7","iss":"https://partner.example.test"})"));
}

TEST_F(TokenExchangeTrustedIssuerTest, CustomClaimsReadTheExternalTokens) {
  json::object subject = External("user-42");
  subject["client_id"] = "idp-portal";
  subject["act"] = json::object{{"sub", "gateway"}};
  json::object c;
  TokenResponse r =
      Exchanged(Of(SignExternal(subject), SignExternal(External("agent-7")), "reporter"), &c);
  EXPECT_EQ(c.at("origin"), "idp-portal") << "subjectToken.client_id, the external claim";
  EXPECT_EQ(c.at("actor"), "agent-7") << "actorToken.sub";
  EXPECT_EQ(c.at("prior"), "gateway") << "subjectToken.act.sub";
  EXPECT_EQ(c.at("grant"), kExchange);
  EXPECT_EQ(c.at("sub"), "user-42");
  EXPECT_EQ(r.claims_left_out, 0);
}

}  // namespace
}  // namespace tollgate::oauth
