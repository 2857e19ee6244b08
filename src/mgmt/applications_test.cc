// /v1/environments/{envID}/applications[/{appID}[/secret]] through ManagementApi::Handle:
// the application object's validation on create and PUT (SPEC §6, §2.2) and the secret
// rotation body.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/uuid.h"
#include "crypto/keys.h"
#include "testutil/fixtures.h"
#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::AppBody;
using testutil::AppPath;
using testutil::AppsPath;
using testutil::Detail;
using testutil::IsApiError;
using testutil::IsInvalidData;
using testutil::MgmtHarness;
using Role = testutil::Role;
using std::chrono::seconds;

constexpr Role kAdmin = Role::kOrganizationAdmin;

class ApplicationsTest : public ::testing::Test {
 protected:
  ApplicationsTest() {
    auto ec = crypto::PrivateKey::Generate(crypto::KeyKind::kEcP256);
    if (!ec) throw std::runtime_error("EC key generation failed");
    jwks_ = testutil::JwkSetJson({ec->get()}, {"client-key"});
    const crypto::PublicJwk pub = (*ec)->Public();
    private_jwks_ = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + pub.x +
                    "\",\"y\":\"" + pub.y + "\",\"d\":\"" + pub.x + "\"}]}";
  }

  // AppBody(name) with `changes` applied; a null value removes the member.
  static json::object Body(const json::object& changes, const std::string& name = "svc") {
    json::object body = AppBody(name);
    for (const auto& [key, value] : changes) {
      if (value.is_null()) {
        body.erase(key);
      } else {
        body[key] = value;
      }
    }
    return body;
  }

  MgmtHarness h_;
  std::string jwks_;          // one usable public P-256 key
  std::string private_jwks_;  // the same key with private material
};

TEST_F(ApplicationsTest, CreateAnswersTheFullObjectWithoutItsSecret) {
  json::object body = AppBody("Billing", "WORKER");
  body["description"] = "pays";
  // PingOne's defaults for fields Tollgate does not use, and unknown fields, are accepted.
  body["refreshTokenDuration"] = 2592000;
  body["parRequirement"] = "OPTIONAL";
  body["somethingNew"] = json::object{{"x", 1}};
  ApiReply r = h_.Call(kAdmin, "POST", AppsPath(h_.env_e()), body);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.Str("id");
  EXPECT_EQ(NormalizeUuid(id), std::optional<std::string>(id));
  EXPECT_EQ(r.Header("Location"),
            std::optional<std::string>(std::string(testutil::kApiUrl) + AppPath(h_.env_e(), id)));
  const json::object& o = r.Object();
  EXPECT_EQ(o.at("name"), "Billing");
  EXPECT_EQ(o.at("description"), "pays");
  EXPECT_EQ(o.at("enabled"), true);
  EXPECT_EQ(o.at("protocol"), "OPENID_CONNECT");
  EXPECT_EQ(o.at("type"), "WORKER");
  EXPECT_EQ(o.at("grantTypes"), (json::array{"CLIENT_CREDENTIALS"}));
  EXPECT_EQ(o.at("tokenEndpointAuthMethod"), "CLIENT_SECRET_BASIC");
  EXPECT_EQ(o.at("environment"), (json::object{{"id", h_.env_e()}}));
  EXPECT_EQ(o.at("createdAt"), json::value(FormatRfc3339(h_.clock().Now())));
  EXPECT_EQ(o.at("responseTypes"), json::array());
  EXPECT_EQ(o.if_contains("secret"), nullptr);
  EXPECT_EQ(o.if_contains("somethingNew"), nullptr);
  EXPECT_EQ(r.body.find(h_.config().Current()->FindEnvironment(h_.env_e())->FindApp(id)->secret),
            std::string::npos)
      << "the secret appears only at /secret";
  EXPECT_EQ(h_.Call(kAdmin, "GET", AppPath(h_.env_e(), id)).json, r.json);
}

TEST_F(ApplicationsTest, InvalidBodiesNameTheFieldOnCreateAndOnPut) {
  const std::string e = h_.env_e();
  const std::string existing = h_.CreateApp(e, AppBody("existing"));
  const std::string long_name(257, 'n');
  struct Case {
    const char* name;
    json::object changes;
    std::vector<Detail> details;
  };
  const std::vector<Case> cases = {
      {"name missing", {{"name", nullptr}}, {{"REQUIRED_VALUE", "name"}}},
      {"name empty", {{"name", ""}}, {{"REQUIRED_VALUE", "name"}}},
      {"name a number", {{"name", 5}}, {{"INVALID_VALUE", "name"}}},
      {"name too long", {{"name", long_name}}, {{"INVALID_VALUE", "name"}}},
      {"name of 257 two-byte characters",
       {{"name", testutil::TwoByteCharacters(257)}},
       {{"INVALID_VALUE", "name"}}},
      {"description an object",
       {{"description", json::object()}},
       {{"INVALID_VALUE", "description"}}},
      {"enabled missing", {{"enabled", nullptr}}, {{"REQUIRED_VALUE", "enabled"}}},
      {"enabled a string", {{"enabled", "true"}}, {{"INVALID_VALUE", "enabled"}}},
      {"protocol missing", {{"protocol", nullptr}}, {{"REQUIRED_VALUE", "protocol"}}},
      {"protocol unknown", {{"protocol", "SAML"}}, {{"INVALID_VALUE", "protocol"}}},
      {"type missing", {{"type", nullptr}}, {{"REQUIRED_VALUE", "type"}}},
      {"type unknown", {{"type", "ROBOT"}}, {{"INVALID_VALUE", "type"}}},
      {"type lower-case", {{"type", "service"}}, {{"INVALID_VALUE", "type"}}},
      {"type a number", {{"type", 1}}, {{"INVALID_VALUE", "type"}}},
      {"grantTypes missing", {{"grantTypes", nullptr}}, {{"REQUIRED_VALUE", "grantTypes"}}},
      {"grantTypes empty", {{"grantTypes", json::array()}}, {{"REQUIRED_VALUE", "grantTypes"}}},
      {"grantTypes a string",
       {{"grantTypes", "CLIENT_CREDENTIALS"}},
       {{"INVALID_VALUE", "grantTypes"}}},
      {"grantTypes unknown",
       {{"grantTypes", json::array{"CLIENT_CREDENTIALS", "PASSWORD"}}},
       {{"INVALID_VALUE", "grantTypes"}}},
      {"grantTypes not strings",
       {{"grantTypes", json::array{1}}},
       {{"INVALID_VALUE", "grantTypes"}}},
      {"method unknown",
       {{"tokenEndpointAuthMethod", "CLIENT_CERTIFICATE"}},
       {{"INVALID_VALUE", "tokenEndpointAuthMethod"}}},
      // RFC 8705 §2.1.2: exactly one certificate name, for TLS_CLIENT_AUTH only.
      {"TLS_CLIENT_AUTH without a name",
       {{"tokenEndpointAuthMethod", "TLS_CLIENT_AUTH"}},
       {{"INVALID_VALUE", "tlsClientAuthSubjectDn"}}},
      {"TLS_CLIENT_AUTH with two names",
       {{"tokenEndpointAuthMethod", "TLS_CLIENT_AUTH"},
        {"tlsClientAuthSanDns", "a.example"},
        {"tlsClientAuthSanUri", "spiffe://a"}},
       {{"INVALID_VALUE", "tlsClientAuthSanUri"}}},
      {"a certificate name for another method",
       {{"tlsClientAuthSanDns", "a.example"}},
       {{"INVALID_VALUE", "tlsClientAuthSanDns"}}},
      {"subject DN not RFC 4514",
       {{"tokenEndpointAuthMethod", "TLS_CLIENT_AUTH"}, {"tlsClientAuthSubjectDn", "client one"}},
       {{"INVALID_VALUE", "tlsClientAuthSubjectDn"}}},
      {"SAN IP not an address",
       {{"tokenEndpointAuthMethod", "TLS_CLIENT_AUTH"}, {"tlsClientAuthSanIp", "192.0.2.300"}},
       {{"INVALID_VALUE", "tlsClientAuthSanIp"}}},
      {"SAN DNS with a space",
       {{"tokenEndpointAuthMethod", "TLS_CLIENT_AUTH"}, {"tlsClientAuthSanDns", "a b"}},
       {{"INVALID_VALUE", "tlsClientAuthSanDns"}}},
      {"SELF_SIGNED_TLS_CLIENT_AUTH without keys",
       {{"tokenEndpointAuthMethod", "SELF_SIGNED_TLS_CLIENT_AUTH"}},
       {{"INVALID_VALUE", "jwks"}}},
      {"certificate-bound tokens not a boolean",
       {{"tlsClientCertificateBoundAccessTokens", "yes"}},
       {{"INVALID_VALUE", "tlsClientCertificateBoundAccessTokens"}}},
      {"method a number",
       {{"tokenEndpointAuthMethod", 2}},
       {{"INVALID_VALUE", "tokenEndpointAuthMethod"}}},
      {"NONE with CLIENT_CREDENTIALS",
       {{"tokenEndpointAuthMethod", "NONE"}},
       {{"INVALID_VALUE", "tokenEndpointAuthMethod"}}},
      {"NATIVE_APP defaults to NONE",
       {{"type", "NATIVE_APP"}, {"tokenEndpointAuthMethod", nullptr}},
       {{"INVALID_VALUE", "tokenEndpointAuthMethod"}}},
      {"SINGLE_PAGE_APP defaults to NONE",
       {{"type", "SINGLE_PAGE_APP"}, {"tokenEndpointAuthMethod", nullptr}},
       {{"INVALID_VALUE", "tokenEndpointAuthMethod"}}},
      {"PRIVATE_KEY_JWT without keys",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}},
       {{"INVALID_VALUE", "jwks"}}},
      {"PRIVATE_KEY_JWT with an empty jwksUrl",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwksUrl", ""}},
       {{"INVALID_VALUE", "jwks"}}},
      {"PRIVATE_KEY_JWT with both",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"},
        {"jwks", jwks_},
        {"jwksUrl", "https://keys.example/jwks.json"}},
       {{"INVALID_VALUE", "jwks"}}},
      {"jwks not JSON",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwks", "{\"keys\":"}},
       {{"INVALID_VALUE", "jwks"}}},
      {"jwks without keys",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwks", "{}"}},
       {{"INVALID_VALUE", "jwks"}}},
      {"jwks empty",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwks", "{\"keys\":[]}"}},
       {{"INVALID_VALUE", "jwks"}}},
      {"jwks with a private key",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwks", private_jwks_}},
       {{"INVALID_VALUE", "jwks"}}},
      {"jwks with a symmetric key",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"},
        {"jwks", "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}"}},
       {{"INVALID_VALUE", "jwks"}}},
      {"jwks a number",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwks", 42}},
       {{"INVALID_VALUE", "jwks"}}},
      {"jwks on another method too",
       {{"jwks", "{\"keys\":[{\"kty\":\"RSA\"}]}"}},
       {{"INVALID_VALUE", "jwks"}}},
      {"jwksUrl not http",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwksUrl", "ftp://keys.example/jwks"}},
       {{"INVALID_VALUE", "jwksUrl"}}},
      {"jwksUrl relative",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwksUrl", "jwks.json"}},
       {{"INVALID_VALUE", "jwksUrl"}}},
      {"jwksUrl without a host",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwksUrl", "https:///jwks.json"}},
       {{"INVALID_VALUE", "jwksUrl"}}},
      {"jwksUrl a number",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwksUrl", 1}},
       {{"INVALID_VALUE", "jwksUrl"}}},
      {"responseTypes a string", {{"responseTypes", "code"}}, {{"INVALID_VALUE", "responseTypes"}}},
      {"redirectUris not strings",
       {{"redirectUris", json::array{1}}},
       {{"INVALID_VALUE", "redirectUris"}}},
      {"multiple resources a string",
       {{"requestScopesForMultipleResourcesEnabled", "yes"}},
       {{"INVALID_VALUE", "requestScopesForMultipleResourcesEnabled"}}},
      {"includeX5t a number", {{"includeX5t", 1}}, {{"INVALID_VALUE", "includeX5t"}}},
      {"includeTyp a string", {{"includeTyp", "false"}}, {{"INVALID_VALUE", "includeTyp"}}},
      {"dpopBoundAccessTokens a string",
       {{"dpopBoundAccessTokens", "true"}},
       {{"INVALID_VALUE", "dpopBoundAccessTokens"}}},
      {"every bad field is reported",
       {{"name", nullptr}, {"enabled", "no"}, {"type", "ROBOT"}, {"grantTypes", json::array()}},
       {{"REQUIRED_VALUE", "name"},
        {"INVALID_VALUE", "enabled"},
        {"INVALID_VALUE", "type"},
        {"REQUIRED_VALUE", "grantTypes"}}},
  };
  const std::string before = h_.DumpStore(e);
  for (const auto& c : cases) {
    const json::object body = Body(c.changes, std::string("new-") + c.name);
    EXPECT_TRUE(
        IsApiError(h_.Call(kAdmin, "POST", AppsPath(e), body), 400, "INVALID_DATA", c.details))
        << "POST: " << c.name;
    const json::object put = Body(c.changes, "existing");
    EXPECT_TRUE(IsApiError(h_.Call(kAdmin, "PUT", AppPath(e, existing), put), 400, "INVALID_DATA",
                           c.details))
        << "PUT: " << c.name;
  }
  EXPECT_EQ(h_.DumpStore(e), before);
}

// The messages that list methods or state a grant's or a method's rule are written from the
// registries of oauth (client_auth/registry.cc, grants/registry.cc), with PingOne's wording.
TEST_F(ApplicationsTest, RuleMessagesAreWrittenFromTheRegistries) {
  const std::string e = h_.env_e();
  struct Case {
    json::object changes;
    std::string target;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"tokenEndpointAuthMethod", "CLIENT_CERTIFICATE"}},
       "tokenEndpointAuthMethod",
       "The method must be one of NONE, CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, "
       "CLIENT_SECRET_JWT, PRIVATE_KEY_JWT, TLS_CLIENT_AUTH, SELF_SIGNED_TLS_CLIENT_AUTH."},
      {{{"tokenEndpointAuthMethod", "SELF_SIGNED_TLS_CLIENT_AUTH"}},
       "jwks",
       "SELF_SIGNED_TLS_CLIENT_AUTH needs exactly one of jwks and jwksUrl."},
      {{{"tokenEndpointAuthMethod", "NONE"}},
       "tokenEndpointAuthMethod",
       "CLIENT_CREDENTIALS requires a confidential client; NONE is not allowed."},
      {{{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}},
       "jwks",
       "PRIVATE_KEY_JWT needs exactly one of jwks and jwksUrl."},
  };
  for (const auto& c : cases) {
    const ApiReply reply = h_.Call(kAdmin, "POST", AppsPath(e), Body(c.changes));
    ASSERT_TRUE(IsApiError(reply, 400, "INVALID_DATA", {{"INVALID_VALUE", c.target}})) << c.message;
    const auto& detail = reply.json.at("details").as_array().at(0).as_object();
    EXPECT_EQ(detail.at("message").as_string(), c.message);
  }
}

TEST_F(ApplicationsTest, ValidVariantsAreAcceptedOnCreateAndOnPut) {
  const std::string e = h_.env_e();
  const std::string existing = h_.CreateApp(e, AppBody("existing"));
  struct Case {
    const char* name;
    json::object changes;
    const char* method;  // tokenEndpointAuthMethod answered
  };
  const std::vector<Case> cases = {
      {"defaults", {{"tokenEndpointAuthMethod", nullptr}}, "CLIENT_SECRET_BASIC"},
      {"WORKER defaults to basic",
       {{"type", "WORKER"}, {"tokenEndpointAuthMethod", nullptr}},
       "CLIENT_SECRET_BASIC"},
      {"WEB_APP defaults to basic",
       {{"type", "WEB_APP"}, {"tokenEndpointAuthMethod", nullptr}},
       "CLIENT_SECRET_BASIC"},
      {"post", {{"tokenEndpointAuthMethod", "CLIENT_SECRET_POST"}}, "CLIENT_SECRET_POST"},
      {"client secret jwt",
       {{"tokenEndpointAuthMethod", "CLIENT_SECRET_JWT"}},
       "CLIENT_SECRET_JWT"},
      {"jwks as a string",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwks", jwks_}},
       "PRIVATE_KEY_JWT"},
      {"jwks as an object",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwks", json::parse(jwks_)}},
       "PRIVATE_KEY_JWT"},
      {"jwksUrl",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwksUrl", "https://keys.example/jwks"}},
       "PRIVATE_KEY_JWT"},
      {"jwks and an empty jwksUrl",
       {{"tokenEndpointAuthMethod", "PRIVATE_KEY_JWT"}, {"jwks", jwks_}, {"jwksUrl", ""}},
       "PRIVATE_KEY_JWT"},
      {"TLS_CLIENT_AUTH by subject DN",
       {{"tokenEndpointAuthMethod", "TLS_CLIENT_AUTH"},
        {"tlsClientAuthSubjectDn", "CN=client one, O=Example"}},
       "TLS_CLIENT_AUTH"},
      {"TLS_CLIENT_AUTH by IPv6 address",
       {{"tokenEndpointAuthMethod", "TLS_CLIENT_AUTH"}, {"tlsClientAuthSanIp", "2001:db8::7"}},
       "TLS_CLIENT_AUTH"},
      {"TLS_CLIENT_AUTH by e-mail, bound tokens",
       {{"tokenEndpointAuthMethod", "TLS_CLIENT_AUTH"},
        {"tlsClientAuthSanEmail", "client@example.com"},
        {"tlsClientCertificateBoundAccessTokens", true}},
       "TLS_CLIENT_AUTH"},
      {"self-signed certificate's key in jwks",
       {{"tokenEndpointAuthMethod", "SELF_SIGNED_TLS_CLIENT_AUTH"}, {"jwks", jwks_}},
       "SELF_SIGNED_TLS_CLIENT_AUTH"},
      {"self-signed certificate's key at jwksUrl",
       {{"tokenEndpointAuthMethod", "SELF_SIGNED_TLS_CLIENT_AUTH"},
        {"jwksUrl", "https://keys.example/jwks"}},
       "SELF_SIGNED_TLS_CLIENT_AUTH"},
      {"public client without client_credentials",
       {{"type", "NATIVE_APP"},
        {"tokenEndpointAuthMethod", nullptr},
        {"grantTypes", json::array{"AUTHORIZATION_CODE"}}},
       "NONE"},
      {"name of 256 characters", {{"name", std::string(256, 'n')}}, "CLIENT_SECRET_BASIC"},
      // docs/security.md: names are limited in characters, not bytes.
      {"name of 256 two-byte characters",
       {{"name", testutil::TwoByteCharacters(256)}},
       "CLIENT_SECRET_BASIC"},
  };
  int n = 0;
  for (const auto& c : cases) {
    json::object body = Body(c.changes, "app-" + std::to_string(++n));
    ApiReply created = h_.Call(kAdmin, "POST", AppsPath(e), body);
    ASSERT_EQ(created.status, 201) << c.name << ": " << created.body;
    EXPECT_EQ(created.Object().at("tokenEndpointAuthMethod"), c.method) << c.name;
    body["name"] = "existing";
    ApiReply updated = h_.Call(kAdmin, "PUT", AppPath(e, existing), body);
    ASSERT_EQ(updated.status, 200) << c.name << ": " << updated.body;
    EXPECT_EQ(updated.Object().at("tokenEndpointAuthMethod"), c.method) << c.name;
    // The certificate fields come back as sent; the flag defaults to false.
    for (const char* field :
         {"tlsClientAuthSubjectDn", "tlsClientAuthSanDns", "tlsClientAuthSanUri",
          "tlsClientAuthSanIp", "tlsClientAuthSanEmail"}) {
      EXPECT_EQ(updated.Object().if_contains(field) != nullptr, c.changes.contains(field)) << field;
      if (c.changes.contains(field)) {
        EXPECT_EQ(updated.Object().at(field), c.changes.at(field)) << c.name;
      }
    }
    const json::value* bound = c.changes.if_contains("tlsClientCertificateBoundAccessTokens");
    EXPECT_EQ(updated.Object().at("tlsClientCertificateBoundAccessTokens"),
              bound != nullptr ? *bound : json::value(false))
        << c.name;
    if (c.changes.contains("jwks")) {
      // SPEC §6: an application's jwks is returned as a string.
      ASSERT_TRUE(updated.Object().at("jwks").is_string()) << c.name;
      EXPECT_EQ(json::parse(updated.Object().at("jwks").as_string()), json::parse(jwks_));
    }
  }
  // Optional fields sent as null count as absent.
  json::object nulls = AppBody("nulls");
  nulls["description"] = nullptr;
  nulls["redirectUris"] = nullptr;
  nulls["tokenEndpointAuthMethod"] = nullptr;
  nulls["jwksUrl"] = nullptr;
  ApiReply r = h_.Call(kAdmin, "POST", AppsPath(e), nulls);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Object().at("description"), "");
  EXPECT_EQ(r.Object().at("redirectUris"), json::array());
}

TEST_F(ApplicationsTest, GrantTypesKeepTheirOrderWithoutDuplicates) {
  json::object body = Body(
      {{"grantTypes", json::array{"CLIENT_CREDENTIALS", "REFRESH_TOKEN", "CLIENT_CREDENTIALS"}}});
  ApiReply r = h_.Call(kAdmin, "POST", AppsPath(h_.env_e()), body);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Object().at("grantTypes"), (json::array{"CLIENT_CREDENTIALS", "REFRESH_TOKEN"}));
}

TEST_F(ApplicationsTest, NamesAreUniqueWithinAnEnvironment) {
  const std::string e = h_.env_e();
  const std::string first = h_.CreateApp(e, AppBody("payments"));
  const std::string second = h_.CreateApp(e, AppBody("billing"));
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "POST", AppsPath(e), AppBody("payments")),
                            "UNIQUENESS_VIOLATION", "name"));
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "PUT", AppPath(e, second), AppBody("payments")),
                            "UNIQUENESS_VIOLATION", "name"));
  EXPECT_EQ(h_.Call(kAdmin, "PUT", AppPath(e, first), AppBody("payments")).status, 200)
      << "keeping one's own name is no conflict";
  EXPECT_EQ(h_.Call(kAdmin, "POST", AppsPath(h_.env_f()), AppBody("payments")).status, 201)
      << "another environment may use the name";
}

TEST_F(ApplicationsTest, PutReplacesEveryWritableFieldAndIgnoresReadOnlyOnes) {
  const std::string e = h_.env_e();
  json::object full = AppBody("svc");
  full["description"] = "first";
  full["includeX5t"] = true;
  full["dpopBoundAccessTokens"] = true;
  full["redirectUris"] = json::array{"https://app.example/cb"};
  ApiReply created = h_.Call(kAdmin, "POST", AppsPath(e), full);
  ASSERT_EQ(created.status, 201);
  EXPECT_EQ(created.Object().at("dpopBoundAccessTokens"), true);
  const std::string id = created.Str("id");
  h_.clock().Advance(seconds(5));
  json::object put = AppBody("svc");
  put["id"] = "00000000-0000-4000-8000-000000000000";
  put["createdAt"] = "2000-01-01T00:00:00.000Z";
  put["environment"] = json::object{{"id", h_.env_f()}};
  ApiReply updated = h_.Call(kAdmin, "PUT", AppPath(e, id), put);
  ASSERT_EQ(updated.status, 200) << updated.body;
  const json::object& o = updated.Object();
  EXPECT_EQ(o.at("id"), json::value(id));
  EXPECT_EQ(o.at("environment"), (json::object{{"id", e}}));
  EXPECT_EQ(o.at("createdAt"), created.Object().at("createdAt"));
  EXPECT_EQ(o.at("updatedAt"), json::value(FormatRfc3339(h_.clock().Now())));
  EXPECT_EQ(o.at("description"), "");
  EXPECT_EQ(o.at("includeX5t"), false);
  EXPECT_EQ(o.at("dpopBoundAccessTokens"), false);
  EXPECT_EQ(o.at("redirectUris"), json::array());
}

// POST .../secret: without a body the old secret dies at once; {"previous":{"expiresAt"}} keeps
// it valid from 1 minute to 30 days ahead (SPEC §6).
TEST_F(ApplicationsTest, SecretRotationBody) {
  const std::string e = h_.env_e();
  const std::string app = h_.CreateApp(e, AppBody("svc"));
  const std::string path = AppPath(e, app) + "/secret";
  const TimePoint now = h_.clock().Now();
  auto at = [&](TimePoint t) {
    return json::object{{"previous", json::object{{"expiresAt", FormatRfc3339(t)}}}};
  };
  struct Refused {
    const char* name;
    json::value body;
    const char* detail;
  };
  const std::vector<Refused> refused = {
      {"in the past", at(now - seconds(1)), "OUT_OF_RANGE"},
      {"now", at(now), "OUT_OF_RANGE"},
      {"59 seconds ahead", at(now + seconds(59)), "OUT_OF_RANGE"},
      {"30 days and 1 ms ahead",
       at(now + std::chrono::hours(24 * 30) + std::chrono::milliseconds(1)), "OUT_OF_RANGE"},
      {"a year ahead", at(now + std::chrono::hours(24 * 365)), "OUT_OF_RANGE"},
      {"not a date", json::object{{"previous", json::object{{"expiresAt", "tomorrow"}}}},
       "INVALID_VALUE"},
      {"a number", json::object{{"previous", json::object{{"expiresAt", 1800000600}}}},
       "INVALID_VALUE"},
      {"no expiresAt", json::object{{"previous", json::object()}}, "INVALID_VALUE"},
      {"previous a string", json::object{{"previous", "2027-01-16T00:00:00Z"}}, "INVALID_VALUE"},
  };
  const std::string before = h_.DumpStore(e);
  for (const auto& c : refused) {
    EXPECT_TRUE(
        IsInvalidData(h_.Call(kAdmin, "POST", path, c.body), c.detail, "previous.expiresAt"))
        << c.name;
  }
  EXPECT_EQ(h_.DumpStore(e), before);

  struct Accepted {
    const char* name;
    std::string body;                     // sent as it is; "" sends no body and no type
    std::optional<std::string> previous;  // expiresAt answered, if any
  };
  const std::vector<Accepted> accepted = {
      {"one minute ahead", json::serialize(at(now + seconds(60))),
       FormatRfc3339(now + seconds(60))},
      {"thirty days ahead", json::serialize(at(now + std::chrono::hours(24 * 30))),
       FormatRfc3339(now + std::chrono::hours(24 * 30))},
      {"with an offset", "{\"previous\":{\"expiresAt\":\"2027-01-15T10:05:00+02:00\"}}",
       "2027-01-15T08:05:00.000Z"},
      {"no body", "", std::nullopt},
      {"an empty object", "{}", std::nullopt},
      {"previous null", "{\"previous\":null}", std::nullopt},
  };
  for (const auto& c : accepted) {
    const std::string old = h_.config().Current()->FindEnvironment(e)->FindApp(app)->secret;
    ApiReply r = h_.Call(kAdmin, "POST", path, std::string_view(c.body));
    ASSERT_EQ(r.status, 200) << c.name << ": " << r.body;
    const json::object& o = r.Object();
    const std::string next = r.Str("secret");
    EXPECT_EQ(next.size(), 64u) << c.name;
    EXPECT_EQ(next.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"),
              std::string::npos)
        << c.name;
    EXPECT_NE(next, old) << c.name;
    if (c.previous) {
      EXPECT_EQ(o.at("previous"), (json::object{{"secret", old}, {"expiresAt", *c.previous}}))
          << c.name;
    } else {
      EXPECT_EQ(o.if_contains("previous"), nullptr) << c.name;
    }
    EXPECT_EQ(h_.Call(kAdmin, "GET", path).json, r.json) << c.name;
  }
}

TEST_F(ApplicationsTest, APreviousSecretIsShownUntilItExpiresAndOnlyTheLatestIsKept) {
  const std::string e = h_.env_e();
  const std::string app = h_.CreateApp(e, AppBody("svc"));
  const std::string path = AppPath(e, app) + "/secret";
  const std::string original = h_.Call(kAdmin, "GET", path).Str("secret");
  auto rotate = [&](std::chrono::seconds keep) {
    return h_.Call(
        kAdmin, "POST", path,
        json::object{
            {"previous", json::object{{"expiresAt", FormatRfc3339(h_.clock().Now() + keep)}}}});
  };
  ApiReply first = rotate(seconds(600));
  ASSERT_EQ(first.status, 200);
  ApiReply second = rotate(seconds(120));
  ASSERT_EQ(second.status, 200);
  // The replaced secret is the previous one; the original is gone.
  EXPECT_EQ(second.Object().at("previous").at("secret"), json::value(first.Str("secret")));
  EXPECT_EQ(second.body.find(original), std::string::npos);
  h_.clock().Advance(seconds(119));
  EXPECT_TRUE(h_.Call(kAdmin, "GET", path).Object().contains("previous"));
  h_.clock().Advance(seconds(1));
  EXPECT_FALSE(h_.Call(kAdmin, "GET", path).Object().contains("previous"));
  // DELETE drops a previous secret and keeps the current one.
  ApiReply third = rotate(seconds(300));
  ASSERT_EQ(third.status, 200);
  ASSERT_EQ(h_.Call(kAdmin, "DELETE", path).status, 204);
  ApiReply now = h_.Call(kAdmin, "GET", path);
  EXPECT_EQ(now.json, (json::object{{"secret", third.Str("secret")}}));
}

}  // namespace
}  // namespace tollgate::mgmt
