// RFC 8693 token exchange (grants/token_exchange.cc) through TokenEndpoint: the token's claims
// one by one, `act` chains and `may_act`, its lifetime, every invalid_request of §2.2.2, the
// target and client checks, and custom claims that read the subject and actor tokens.
#include <gtest/gtest.h>

#include <boost/json.hpp>
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
        endpoint_(ClientAuthServices{clock_, throttle_}, testutil::kApiUrl, &revoked_) {
    EnvBuilder b;
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
  TokenEndpoint endpoint_;
  std::shared_ptr<const config::EnvironmentSnapshot> env_;
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

}  // namespace
}  // namespace tollgate::oauth
