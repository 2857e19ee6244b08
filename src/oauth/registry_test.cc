// The registries of grants (grants/registry.cc) and client-authentication methods
// (client_auth/registry.cc), the parameters endpoints declare from them, and TokenRequest's
// parameter access.
#include <gtest/gtest.h>

#include <set>

#include "oauth/client_auth/client_auth.h"
#include "oauth/grants/grant.h"
#include "oauth/introspection.h"
#include "oauth/token_endpoint.h"

namespace tollgate::oauth {
namespace {

const FormParam* Declared(std::span<const FormParam> params, std::string_view name) {
  for (const FormParam& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST(GrantRegistry, FindsEachGrantByItsWireValueOnly) {
  ASSERT_EQ(Grants().size(), 2u);
  const Grant* cc = FindGrant("client_credentials");
  ASSERT_NE(cc, nullptr);
  EXPECT_EQ(cc, Grants()[0]);
  EXPECT_EQ(cc->app_grant, model::GrantType::kClientCredentials);
  EXPECT_TRUE(cc->confidential_only);
  EXPECT_NE(cc->issue, nullptr);
  const Grant* exchange = FindGrant("urn:ietf:params:oauth:grant-type:token-exchange");
  ASSERT_NE(exchange, nullptr);
  EXPECT_EQ(exchange, Grants()[1]);
  EXPECT_EQ(exchange->app_grant, model::GrantType::kTokenExchange);
  EXPECT_TRUE(exchange->confidential_only) << "PingOne: BASIC, POST, CLIENT_SECRET_JWT, PKJWT";
  for (std::string_view unknown : {"", "CLIENT_CREDENTIALS", "client_credentials ", "password",
                                   "authorization_code", "client"}) {
    EXPECT_EQ(FindGrant(unknown), nullptr) << unknown;
  }
}

TEST(AuthenticatorRegistry, OneAuthenticatorPerMethodEachWithAMechanismAndACheck) {
  std::set<model::AuthMethod> seen;
  for (const Authenticator* a : Authenticators()) {
    EXPECT_TRUE(seen.insert(a->method).second) << model::ToString(a->method);
    EXPECT_EQ(FindAuthenticator(a->method), a);
    EXPECT_NE(a->verify, nullptr);
  }
  // Every method PingOne's model spells is served.
  for (auto m : {model::AuthMethod::kNone, model::AuthMethod::kClientSecretBasic,
                 model::AuthMethod::kClientSecretPost, model::AuthMethod::kClientSecretJwt,
                 model::AuthMethod::kPrivateKeyJwt}) {
    EXPECT_TRUE(seen.count(m)) << model::ToString(m);
  }
  // The rules the token endpoint and the management API read from here.
  EXPECT_FALSE(FindAuthenticator(model::AuthMethod::kNone)->confidential);
  EXPECT_TRUE(FindAuthenticator(model::AuthMethod::kClientSecretBasic)->confidential);
  EXPECT_EQ(FindAuthenticator(model::AuthMethod::kClientSecretBasic)->mechanism, Mechanism::kBasic);
  EXPECT_EQ(FindAuthenticator(model::AuthMethod::kClientSecretPost)->mechanism, Mechanism::kPost);
  EXPECT_EQ(FindAuthenticator(model::AuthMethod::kClientSecretJwt)->mechanism,
            Mechanism::kAssertion);
  EXPECT_TRUE(FindAuthenticator(model::AuthMethod::kPrivateKeyJwt)->needs_keys);
  EXPECT_FALSE(FindAuthenticator(model::AuthMethod::kClientSecretJwt)->needs_keys);
  // An HMAC algorithm is never accepted with a public key (SPEC §2.2).
  for (std::string_view alg : FindAuthenticator(model::AuthMethod::kPrivateKeyJwt)->signing_algs) {
    EXPECT_NE(alg.substr(0, 2), "HS") << alg;
  }
}

TEST(EndpointParams, TheTokenEndpointTakesGrantTypeClientAuthAndEveryGrantsParameters) {
  const auto params = TokenEndpoint::Params();
  const FormParam* grant_type = Declared(params, "grant_type");
  ASSERT_NE(grant_type, nullptr);
  EXPECT_EQ(grant_type->member, &TokenRequest::grant_type);
  for (const FormParam& p : ClientAuthParams()) {
    ASSERT_NE(Declared(params, p.name), nullptr) << p.name;
    EXPECT_NE(p.member, nullptr) << p.name;
  }
  for (const Grant* g : Grants()) {
    for (const FormParam& p : g->params) EXPECT_NE(Declared(params, p.name), nullptr) << p.name;
  }
  ASSERT_NE(Declared(params, "resource"), nullptr);
  EXPECT_TRUE(Declared(params, "resource")->repeatable);
  EXPECT_EQ(Declared(params, "scope")->max_length, 4096u);
  EXPECT_TRUE(Declared(params, "client_secret")->keep_empty);
  EXPECT_EQ(Declared(params, "token"), nullptr);
  std::set<std::string_view> names;
  for (const FormParam& p : params) EXPECT_TRUE(names.insert(p.name).second) << p.name;
}

TEST(EndpointParams, IntrospectionAndRevocationTakeTheTokenAndClientAuth) {
  for (auto params : {Introspection::Params(), Revocation::Params()}) {
    EXPECT_NE(Declared(params, "token"), nullptr);
    EXPECT_NE(Declared(params, "token_type_hint"), nullptr);
    EXPECT_NE(Declared(params, "client_assertion"), nullptr);
    EXPECT_EQ(Declared(params, "grant_type"), nullptr);
    EXPECT_EQ(Declared(params, "scope"), nullptr);
  }
}

TEST(TokenRequest, ParamsKeepTheirValuesInTheOrderSent) {
  TokenRequest r;
  EXPECT_EQ(r.Param("resource"), nullptr);
  EXPECT_TRUE(r.Values("resource").empty());
  r.Add("resource", "https://a");
  r.Add("scope", "read");
  r.Add("resource", "https://b");
  ASSERT_NE(r.Param("resource"), nullptr);
  EXPECT_EQ(*r.Param("resource"), "https://a");
  ASSERT_EQ(r.Values("resource").size(), 2u);
  EXPECT_EQ(r.Values("resource")[1], "https://b");
  EXPECT_EQ(*r.Param("scope"), "read");
  EXPECT_EQ(r.params.size(), 2u);
  EXPECT_EQ(r.Param("Scope"), nullptr);  // names are case-sensitive (RFC 6749 §3.2)
}

}  // namespace
}  // namespace tollgate::oauth
