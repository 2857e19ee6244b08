// /v1/environments/{envID}/resources[/{resID}[/secret | /scopes[/{scopeID}]]] through
// ManagementApi::Handle: resource and scope validation (SPEC §6, RFC 6749 §3.3), uniqueness,
// and the built-in resources that cannot be changed.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "testutil/fixtures.h"
#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::AppBody;
using testutil::Detail;
using testutil::GrantsPath;
using testutil::IsApiError;
using testutil::IsInvalidData;
using testutil::IsNotFound;
using testutil::MgmtHarness;
using testutil::ResourcePath;
using testutil::ResourcesPath;
using testutil::ScopesPath;
using Role = testutil::Role;

constexpr Role kAdmin = Role::kOrganizationAdmin;

class ResourcesTest : public ::testing::Test {
 protected:
  MgmtHarness h_;
};

TEST_F(ResourcesTest, CreateAppliesPingOneDefaultsAndNeverShowsTheSecret) {
  ApiReply r = h_.Call(kAdmin, "POST", ResourcesPath(h_.env_e()), json::object{{"name", "orders"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const json::object& o = r.Object();
  EXPECT_EQ(o.at("type"), "CUSTOM");
  EXPECT_EQ(o.at("audience"), "orders") << "the audience defaults to the name";
  EXPECT_EQ(o.at("accessTokenValiditySeconds"), 3600);
  EXPECT_EQ(o.at("introspectEndpointAuthMethod"), "CLIENT_SECRET_BASIC");
  EXPECT_EQ(o.at("description"), "");
  EXPECT_EQ(o.if_contains("secret"), nullptr);
  const std::string path = ResourcePath(h_.env_e(), r.Str("id"));
  EXPECT_EQ(r.Header("Location"), std::optional<std::string>(testutil::kApiUrl + path));
  ApiReply secret = h_.Call(kAdmin, "GET", path + "/secret");
  ASSERT_EQ(secret.status, 200);
  EXPECT_EQ(secret.Str("secret").size(), 64u);
  EXPECT_EQ(r.body.find(secret.Str("secret")), std::string::npos);
}

TEST_F(ResourcesTest, InvalidResourcesNameTheFieldOnCreateAndOnPut) {
  const std::string e = h_.env_e();
  const std::string existing = h_.CreateResource(e, "existing");
  struct Case {
    const char* name;
    json::object body;
    std::vector<Detail> details;
  };
  const std::vector<Case> cases = {
      {"name missing", {{"audience", "https://a.example"}}, {{"REQUIRED_VALUE", "name"}}},
      {"name empty", {{"name", ""}}, {{"REQUIRED_VALUE", "name"}}},
      {"name a number", {{"name", 1}}, {{"INVALID_VALUE", "name"}}},
      {"name too long",
       {{"name", std::string(257, 'r')}, {"audience", "https://a.example"}},
       {{"INVALID_VALUE", "name"}}},
      {"audience with pingone",
       {{"name", "r"}, {"audience", "https://api.pingone.com"}},
       {{"INVALID_VALUE", "audience"}}},
      {"audience with PingOne in capitals",
       {{"name", "r"}, {"audience", "https://x.PingOne.eu"}},
       {{"INVALID_VALUE", "audience"}}},
      {"audience with pingidentity",
       {{"name", "r"}, {"audience", "urn:pingidentity:x"}},
       {{"INVALID_VALUE", "audience"}}},
      {"audience defaulted from a pingone name",
       {{"name", "my-pingone-api"}},
       {{"INVALID_VALUE", "audience"}}},
      {"audience is the api-url",
       {{"name", "r"}, {"audience", testutil::kApiUrl}},
       {{"INVALID_VALUE", "audience"}}},
      {"audience too long",
       {{"name", "r"}, {"audience", std::string(257, 'a')}},
       {{"INVALID_VALUE", "audience"}}},
      {"name of 257 two-byte characters",
       {{"name", testutil::TwoByteCharacters(257)}, {"audience", "https://a.example"}},
       {{"INVALID_VALUE", "name"}}},
      {"audience of 257 two-byte characters",
       {{"name", "r"}, {"audience", testutil::TwoByteCharacters(257)}},
       {{"INVALID_VALUE", "audience"}}},
      {"audience a number", {{"name", "r"}, {"audience", 5}}, {{"INVALID_VALUE", "audience"}}},
      {"validity 299",
       {{"name", "r"}, {"accessTokenValiditySeconds", 299}},
       {{"OUT_OF_RANGE", "accessTokenValiditySeconds"}}},
      {"validity 2592001",
       {{"name", "r"}, {"accessTokenValiditySeconds", 2592001}},
       {{"OUT_OF_RANGE", "accessTokenValiditySeconds"}}},
      {"validity negative",
       {{"name", "r"}, {"accessTokenValiditySeconds", -3600}},
       {{"OUT_OF_RANGE", "accessTokenValiditySeconds"}}},
      {"validity huge",
       {{"name", "r"}, {"accessTokenValiditySeconds", 18446744073709551615ull}},
       {{"OUT_OF_RANGE", "accessTokenValiditySeconds"}}},
      {"validity a string",
       {{"name", "r"}, {"accessTokenValiditySeconds", "3600"}},
       {{"INVALID_VALUE", "accessTokenValiditySeconds"}}},
      {"validity a fraction",
       {{"name", "r"}, {"accessTokenValiditySeconds", 3600.5}},
       {{"INVALID_VALUE", "accessTokenValiditySeconds"}}},
      {"type OPENID_CONNECT",
       {{"name", "r"}, {"type", "OPENID_CONNECT"}},
       {{"INVALID_VALUE", "type"}}},
      {"type PINGONE_API", {{"name", "r"}, {"type", "PINGONE_API"}}, {{"INVALID_VALUE", "type"}}},
      {"type unknown", {{"name", "r"}, {"type", "SPECIAL"}}, {{"INVALID_VALUE", "type"}}},
      {"introspection method unknown",
       {{"name", "r"}, {"introspectEndpointAuthMethod", "PRIVATE_KEY_JWT"}},
       {{"INVALID_VALUE", "introspectEndpointAuthMethod"}}},
      {"several at once",
       {{"accessTokenValiditySeconds", 1}, {"type", 3}},
       {{"REQUIRED_VALUE", "name"},
        {"OUT_OF_RANGE", "accessTokenValiditySeconds"},
        {"INVALID_VALUE", "type"}}},
  };
  const std::string before = h_.DumpStore(e);
  for (const auto& c : cases) {
    EXPECT_TRUE(IsApiError(h_.Call(kAdmin, "POST", ResourcesPath(e), c.body), 400, "INVALID_DATA",
                           c.details))
        << "POST: " << c.name;
    EXPECT_TRUE(IsApiError(h_.Call(kAdmin, "PUT", ResourcePath(e, existing), c.body), 400,
                           "INVALID_DATA", c.details))
        << "PUT: " << c.name;
  }
  EXPECT_EQ(h_.DumpStore(e), before);
}

TEST_F(ResourcesTest, ValidResourcesAreAccepted) {
  const std::string e = h_.env_e();
  struct Case {
    json::object body;
    const char* audience;
    int64_t validity;
    const char* introspect;
  };
  const std::vector<Case> cases = {
      {{{"name", "shortest"}, {"accessTokenValiditySeconds", 300}},
       "shortest",
       300,
       "CLIENT_SECRET_BASIC"},
      {{{"name", "longest"}, {"accessTokenValiditySeconds", 2592000}},
       "longest",
       2592000,
       "CLIENT_SECRET_BASIC"},
      {{{"name", "typed"}, {"type", "CUSTOM"}, {"audience", "https://typed.example"}},
       "https://typed.example",
       3600,
       "CLIENT_SECRET_BASIC"},
      {{{"name", "empty audience"}, {"audience", ""}},
       "empty audience",
       3600,
       "CLIENT_SECRET_BASIC"},
      {{{"name", "post"}, {"introspectEndpointAuthMethod", "CLIENT_SECRET_POST"}},
       "post",
       3600,
       "CLIENT_SECRET_POST"},
      {{{"name", "open"}, {"introspectEndpointAuthMethod", "NONE"}}, "open", 3600, "NONE"},
      {{{"name", std::string(256, 'r')}}, "", 3600, "CLIENT_SECRET_BASIC"},
      // docs/security.md: names are limited in characters, not bytes (the audience defaults to
      // the name, and has the same limit).
      {{{"name", testutil::TwoByteCharacters(256)}}, "", 3600, "CLIENT_SECRET_BASIC"},
  };
  for (const auto& c : cases) {
    ApiReply r = h_.Call(kAdmin, "POST", ResourcesPath(e), c.body);
    ASSERT_EQ(r.status, 201) << r.body;
    const json::object& o = r.Object();
    if (*c.audience != '\0') {
      EXPECT_EQ(o.at("audience"), c.audience);
    }
    EXPECT_EQ(o.at("accessTokenValiditySeconds"), c.validity);
    EXPECT_EQ(o.at("introspectEndpointAuthMethod"), c.introspect);
  }
}

TEST_F(ResourcesTest, PutResetsAbsentFieldsToTheirDefaults) {
  const std::string e = h_.env_e();
  ApiReply created = h_.Call(kAdmin, "POST", ResourcesPath(e),
                             json::object{{"name", "orders"},
                                          {"description", "d"},
                                          {"audience", "https://orders.example"},
                                          {"accessTokenValiditySeconds", 600},
                                          {"introspectEndpointAuthMethod", "NONE"}});
  ASSERT_EQ(created.status, 201);
  const std::string path = ResourcePath(e, created.Str("id"));
  const std::string secret = h_.Call(kAdmin, "GET", path + "/secret").Str("secret");
  ApiReply updated = h_.Call(kAdmin, "PUT", path, json::object{{"name", "orders-2"}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  const json::object& o = updated.Object();
  EXPECT_EQ(o.at("name"), "orders-2");
  EXPECT_EQ(o.at("description"), "");
  EXPECT_EQ(o.at("audience"), "orders-2");
  EXPECT_EQ(o.at("accessTokenValiditySeconds"), 3600);
  EXPECT_EQ(o.at("introspectEndpointAuthMethod"), "CLIENT_SECRET_BASIC");
  EXPECT_EQ(h_.Call(kAdmin, "GET", path + "/secret").Str("secret"), secret)
      << "a PUT leaves the secret alone";
}

TEST_F(ResourcesTest, NamesAreUniqueWithinAnEnvironment) {
  const std::string e = h_.env_e();
  h_.CreateResource(e, "orders");
  const std::string other = h_.CreateResource(e, "billing");
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "POST", ResourcesPath(e),
                                    json::object{{"name", "orders"}, {"audience", "https://x"}}),
                            "UNIQUENESS_VIOLATION", "name"));
  EXPECT_TRUE(IsInvalidData(
      h_.Call(kAdmin, "PUT", ResourcePath(e, other), json::object{{"name", "orders"}}),
      "UNIQUENESS_VIOLATION", "name"));
  EXPECT_TRUE(
      IsInvalidData(h_.Call(kAdmin, "POST", ResourcesPath(e), json::object{{"name", "openid"}}),
                    "UNIQUENESS_VIOLATION", "name"))
      << "the built-in resources' names are taken too";
  EXPECT_EQ(
      h_.Call(kAdmin, "POST", ResourcesPath(h_.env_f()), json::object{{"name", "orders"}}).status,
      201);
}

TEST_F(ResourcesTest, BuiltinResourcesAndTheirScopesCannotBeChanged) {
  const std::string e = h_.env_e();
  for (auto type : {model::ResourceType::kOpenIdConnect, model::ResourceType::kPingOneApi}) {
    const std::string id = h_.BuiltinResource(e, type);
    const std::string path = ResourcePath(e, id);
    const std::string shown = h_.Call(kAdmin, "GET", path).body;
    SCOPED_TRACE(shown);
    EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "PUT", path, json::object{{"name", "mine"}}),
                              "INVALID_VALUE", "type"));
    EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "DELETE", path), "INVALID_VALUE", "type"));
    EXPECT_TRUE(
        IsInvalidData(h_.Call(kAdmin, "POST", ScopesPath(e, id), json::object{{"name", "extra"}}),
                      "INVALID_VALUE", "resource"));
    EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", path + "/secret")));
    EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "POST", path + "/secret")));
    EXPECT_EQ(h_.Call(kAdmin, "GET", path).body, shown);
  }
  const std::string openid = h_.BuiltinResource(e, model::ResourceType::kOpenIdConnect);
  const std::string profile = ScopesPath(e, openid) + "/" + h_.ScopeId(e, openid, "profile");
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "PUT", profile, json::object{{"name", "profile2"}}),
                            "INVALID_VALUE", "resource"));
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "DELETE", profile), "INVALID_VALUE", "resource"));
  ApiReply scopes = h_.Call(kAdmin, "GET", ScopesPath(e, openid));
  EXPECT_EQ(scopes.Object().at("count"), 5);
}

TEST_F(ResourcesTest, ScopeNamesFollowRfc6749AndAvoidTheBuiltinNames) {
  const std::string e = h_.env_e();
  const std::string res = h_.CreateResource(e, "orders");
  const std::string existing = h_.CreateScope(e, res, "existing");
  struct Case {
    const char* name;
    json::value value;
    const char* detail;  // nullptr: accepted
  };
  const std::vector<Case> cases = {
      {"plain", "read", nullptr},
      {"with a colon", "orders:read", nullptr},
      {"every allowed punctuation", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", nullptr},
      {"profile on a custom resource", "profile", nullptr},
      {"p1 without the colon", "p1read", nullptr},
      {"256 characters", json::value(std::string(256, 's')), nullptr},
      {"missing", json::value(nullptr), "REQUIRED_VALUE"},
      {"empty", "", "REQUIRED_VALUE"},
      {"a number", 7, "INVALID_VALUE"},
      {"a space", "read write", "INVALID_VALUE"},
      {"a double quote", "say\"hi", "INVALID_VALUE"},
      {"a backslash", "back\\slash", "INVALID_VALUE"},
      {"a tab", "tab\there", "INVALID_VALUE"},
      {"DEL", "del\x7f", "INVALID_VALUE"},
      {"non-ASCII", "caf\xc3\xa9", "INVALID_VALUE"},
      {"openid", "openid", "INVALID_VALUE"},
      {"p1: prefix", "p1:read:user", "INVALID_VALUE"},
      {"p1: alone", "p1:", "INVALID_VALUE"},
      {"257 characters", json::value(std::string(257, 's')), "INVALID_VALUE"},
  };
  for (const auto& c : cases) {
    json::object body;
    if (!c.value.is_null()) body["name"] = c.value;
    ApiReply created = h_.Call(kAdmin, "POST", ScopesPath(e, res), body);
    // The same name on PUT, for the scope "existing".
    ApiReply updated = h_.Call(kAdmin, "PUT", ScopesPath(e, res) + "/" + existing, body);
    if (c.detail == nullptr) {
      ASSERT_EQ(created.status, 201) << c.name << ": " << created.body;
      EXPECT_EQ(created.Object().at("name"), c.value) << c.name;
      EXPECT_EQ(created.Object().at("resource"), (json::object{{"id", res}})) << c.name;
      // Now a duplicate of the scope just created.
      EXPECT_TRUE(IsInvalidData(updated, "UNIQUENESS_VIOLATION", "name")) << c.name;
      ASSERT_EQ(h_.Call(kAdmin, "DELETE", ScopesPath(e, res) + "/" + created.Str("id")).status,
                204);
    } else {
      EXPECT_TRUE(IsInvalidData(created, c.detail, "name")) << c.name;
      EXPECT_TRUE(IsInvalidData(updated, c.detail, "name")) << c.name;
    }
  }
  EXPECT_EQ(h_.Call(kAdmin, "GET", ScopesPath(e, res)).Object().at("count"), 1);
}

TEST_F(ResourcesTest, ScopeNamesAreUniquePerResource) {
  const std::string e = h_.env_e();
  const std::string orders = h_.CreateResource(e, "orders", {"read", "write"});
  const std::string billing = h_.CreateResource(e, "billing");
  EXPECT_TRUE(
      IsInvalidData(h_.Call(kAdmin, "POST", ScopesPath(e, orders), json::object{{"name", "read"}}),
                    "UNIQUENESS_VIOLATION", "name"));
  EXPECT_TRUE(IsInvalidData(
      h_.Call(kAdmin, "PUT", ScopesPath(e, orders) + "/" + h_.ScopeId(e, orders, "write"),
              json::object{{"name", "read"}}),
      "UNIQUENESS_VIOLATION", "name"));
  EXPECT_EQ(h_.Call(kAdmin, "POST", ScopesPath(e, billing), json::object{{"name", "read"}}).status,
            201)
      << "another resource may use the name";
  EXPECT_EQ(h_.Call(kAdmin, "PUT", ScopesPath(e, orders) + "/" + h_.ScopeId(e, orders, "read"),
                    json::object{{"name", "read"}, {"description", "renamed to itself"}})
                .status,
            200);
}

TEST_F(ResourcesTest, DeletingAResourceDeletesItsScopesAndTheGrantsToIt) {
  const std::string e = h_.env_e();
  const std::string app = h_.CreateApp(e, AppBody("svc"));
  const std::string orders = h_.CreateResource(e, "orders", {"read"});
  const std::string billing = h_.CreateResource(e, "billing", {"pay"});
  const std::string scope = h_.ScopeId(e, orders, "read");
  const std::string grant = h_.CreateGrant(e, app, orders, {scope});
  const std::string kept = h_.CreateGrant(e, app, billing, {h_.ScopeId(e, billing, "pay")});
  ASSERT_EQ(h_.Call(kAdmin, "DELETE", ResourcePath(e, orders)).status, 204);
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", ResourcePath(e, orders))));
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", ScopesPath(e, orders) + "/" + scope)));
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", GrantsPath(e, app) + "/" + grant)));
  EXPECT_EQ(h_.Call(kAdmin, "GET", GrantsPath(e, app) + "/" + kept).status, 200);
  // Deleting a scope removes it from the grants that list it.
  h_.CreateScope(e, billing, "refund");
  ASSERT_EQ(
      h_.Call(kAdmin, "PUT", GrantsPath(e, app) + "/" + kept,
              json::object{
                  {"resource", json::object{{"id", billing}}},
                  {"scopes", json::array{json::object{{"id", h_.ScopeId(e, billing, "pay")}},
                                         json::object{{"id", h_.ScopeId(e, billing, "refund")}}}}})
          .status,
      200);
  ASSERT_EQ(h_.Call(kAdmin, "DELETE", ScopesPath(e, billing) + "/" + h_.ScopeId(e, billing, "pay"))
                .status,
            204);
  ApiReply after = h_.Call(kAdmin, "GET", GrantsPath(e, app) + "/" + kept);
  EXPECT_EQ(after.Object().at("scopes"),
            (json::array{json::object{{"id", h_.ScopeId(e, billing, "refund")}}}));
}

}  // namespace
}  // namespace tollgate::mgmt
