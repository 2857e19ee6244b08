// /v1/environments/{envID}/resources/{resID}/attributes[/{attributeID}] through
// ManagementApi::Handle: the attribute object, the write-time rules of
// docs/token-customization.md (reserved names, expressions with the error's position, one value
// per name across the environment, the bounds), roles, and that a refused write changes nothing.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "testutil/fixtures.h"
#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::IsForbidden;
using testutil::IsInvalidData;
using testutil::IsNotFound;
using testutil::MgmtHarness;
using testutil::ResourcePath;
using Role = testutil::Role;

constexpr Role kAdmin = Role::kOrganizationAdmin;

class ResourceAttributesTest : public ::testing::Test {
 protected:
  std::string AttributesPath(const std::string& resource) {
    return ResourcePath(h_.env_e(), resource) + "/attributes";
  }
  ApiReply Create(const std::string& resource, const std::string& name, const std::string& value) {
    return h_.Call(kAdmin, "POST", AttributesPath(resource),
                   json::object{{"name", name}, {"value", value}});
  }
  // The message of the first detail of an error reply.
  static std::string DetailMessage(const ApiReply& r) {
    return std::string(
        r.Object().at("details").as_array().at(0).as_object().at("message").as_string());
  }

  MgmtHarness h_;
};

TEST_F(ResourceAttributesTest, CreateReadListUpdateDeleteInPingOnesShape) {
  const std::string res = h_.CreateResource(h_.env_e(), "orders");
  ApiReply created = Create(res, "tenant", "acme");
  ASSERT_EQ(created.status, 201) << created.body;
  const json::object& o = created.Object();
  EXPECT_EQ(o.at("name"), "tenant");
  EXPECT_EQ(o.at("value"), "acme");
  EXPECT_EQ(o.at("type"), "CUSTOM");
  EXPECT_EQ(o.at("resource").at("id"), json::value(res));
  EXPECT_EQ(o.at("environment").at("id"), json::value(h_.env_e()));
  EXPECT_EQ(o.at("createdAt"), "2027-01-15T08:00:00.000Z");
  const std::string path = AttributesPath(res) + "/" + created.Str("id");
  EXPECT_EQ(created.Header("Location"), std::optional<std::string>(testutil::kApiUrl + path));

  ApiReply got = h_.Call(Role::kReadOnly, "GET", path);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.Object().at("value"), "acme");
  ApiReply list = h_.Call(Role::kReadOnly, "GET", AttributesPath(res));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.Object().at("_embedded").at("attributes").as_array().size(), 1u);

  h_.clock().Advance(std::chrono::seconds(5));
  ApiReply put = h_.Call(
      kAdmin, "PUT", path,
      json::object{{"name", "tenant_id"}, {"value", "${#root.context.appConfig.clientId}"}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Object().at("name"), "tenant_id");
  EXPECT_EQ(put.Object().at("updatedAt"), "2027-01-15T08:00:05.000Z");
  EXPECT_EQ(put.Object().at("createdAt"), "2027-01-15T08:00:00.000Z");

  EXPECT_EQ(h_.Call(kAdmin, "DELETE", path).status, 204);
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", path)));
  EXPECT_EQ(h_.Call(kAdmin, "GET", AttributesPath(res))
                .Object()
                .at("_embedded")
                .at("attributes")
                .as_array()
                .size(),
            0u);
}

TEST_F(ResourceAttributesTest, InvalidAttributesNameTheFieldAndChangeNothing) {
  const std::string res = h_.CreateResource(h_.env_e(), "orders");
  ASSERT_EQ(Create(res, "tenant", "acme").status, 201);
  const std::string before = h_.DumpStore(h_.env_e());
  struct Case {
    json::object body;
    const char* code;
    const char* target;
  };
  const std::vector<Case> cases = {
      {{{"value", "x"}}, "REQUIRED_VALUE", "name"},
      {{{"name", "n"}}, "REQUIRED_VALUE", "value"},
      {{{"name", "n"}, {"value", 3}}, "INVALID_VALUE", "value"},
      {{{"name", "has space"}, {"value", "x"}}, "INVALID_VALUE", "name"},
      {{{"name", std::string(257, 'n')}, {"value", "x"}}, "INVALID_VALUE", "name"},
      {{{"name", "n"}, {"value", std::string(4097, 'v')}}, "INVALID_VALUE", "value"},
      {{{"name", "n"}, {"value", "x"}, {"type", "CORE"}}, "INVALID_VALUE", "type"},
      {{{"name", "n"}, {"value", "${#root.context.appConfig.clientID}"}}, "INVALID_VALUE", "value"},
      {{{"name", "n"}, {"value", "${'open"}}, "INVALID_VALUE", "value"},
  };
  for (const Case& c : cases) {
    ApiReply r = h_.Call(kAdmin, "POST", AttributesPath(res), c.body);
    EXPECT_TRUE(IsInvalidData(r, c.code, c.target)) << json::serialize(c.body) << " " << r.body;
  }
  for (const char* reserved :
       {"aud", "client_id", "env", "exp", "iat", "iss", "jti", "nbf", "org", "scope", "sub", "act",
        "may_act", "cnf", "active", "token_type", "p1.anything"}) {
    ApiReply r = Create(res, reserved, "x");
    EXPECT_TRUE(IsInvalidData(r, "INVALID_VALUE", "name")) << reserved << " " << r.body;
  }
  EXPECT_EQ(h_.DumpStore(h_.env_e()), before);
}

TEST_F(ResourceAttributesTest, ExpressionErrorsSayWhere) {
  const std::string res = h_.CreateResource(h_.env_e(), "orders");
  ApiReply r = Create(res, "n", "${#root.context.appConfig.clientID}");
  ASSERT_TRUE(IsInvalidData(r, "INVALID_VALUE", "value")) << r.body;
  EXPECT_EQ(DetailMessage(r).rfind("Invalid expression at position 26: ", 0), 0u)
      << DetailMessage(r);
}

TEST_F(ResourceAttributesTest, NamesAreUniquePerResourceAndOneValuePerEnvironment) {
  const std::string a = h_.CreateResource(h_.env_e(), "a");
  const std::string b = h_.CreateResource(h_.env_e(), "b");
  ASSERT_EQ(Create(a, "tier", "gold").status, 201);
  EXPECT_TRUE(IsInvalidData(Create(a, "tier", "gold"), "UNIQUENESS_VIOLATION", "name"))
      << "a second attribute of the same name on one resource";
  ApiReply other = Create(b, "tier", "silver");
  EXPECT_TRUE(IsInvalidData(other, "INVALID_VALUE", "name")) << other.body;
  EXPECT_NE(DetailMessage(other).find(a), std::string::npos) << "names the other resource";
  EXPECT_EQ(Create(b, "tier", "gold").status, 201) << "the same value is consistent";
  // Another environment is another namespace.
  ApiReply f = h_.Call(kAdmin, "POST",
                       ResourcePath(h_.env_f(), h_.CreateResource(h_.env_f(), "c")) + "/attributes",
                       json::object{{"name", "tier"}, {"value", "bronze"}});
  EXPECT_EQ(f.status, 201) << f.body;
}

TEST_F(ResourceAttributesTest, AtMost100PerResource) {
  const std::string res = h_.CreateResource(h_.env_e(), "orders");
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(Create(res, "c" + std::to_string(i), "v").status, 201) << i;
  }
  EXPECT_TRUE(IsInvalidData(Create(res, "c100", "v"), "INVALID_VALUE", "resource"));
  EXPECT_EQ(Create(h_.CreateResource(h_.env_e(), "other"), "c100", "v").status, 201);
}

TEST_F(ResourceAttributesTest, StaticClaimsOfAnEnvironmentStayWithin16KiB) {
  // `,"sN":"<4,000 x>"` is 4,008 bytes: four fit in 16,384, a fifth does not.
  const std::string big = h_.CreateResource(h_.env_e(), "big");
  const std::string value(4000, 'x');
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(Create(big, "s" + std::to_string(i), value).status, 201) << i;
  }
  ApiReply over = Create(big, "s4", value);
  EXPECT_TRUE(IsInvalidData(over, "INVALID_VALUE", "value")) << over.body;
  // An expression's result is bounded at token time instead.
  EXPECT_EQ(Create(big, "e", "${#root.context.appConfig.clientId}").status, 201);
}

TEST_F(ResourceAttributesTest, RolesAndBuiltinResources) {
  const std::string res = h_.CreateResource(h_.env_e(), "orders");
  const json::object body{{"name", "tenant"}, {"value", "acme"}};
  EXPECT_TRUE(IsForbidden(h_.Call(Role::kReadOnly, "POST", AttributesPath(res), body)));
  EXPECT_EQ(h_.Call(Role::kAppDeveloper, "POST", AttributesPath(res), body).status, 201);

  const std::string oidc = h_.BuiltinResource(h_.env_e(), model::ResourceType::kOpenIdConnect);
  EXPECT_EQ(h_.Call(kAdmin, "GET", AttributesPath(oidc)).status, 200);
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "POST", AttributesPath(oidc), body), "INVALID_VALUE",
                            "resource"));
  EXPECT_EQ(h_.Call(kAdmin, "PATCH", AttributesPath(res)).status, 405);
}

TEST_F(ResourceAttributesTest, DeletingTheResourceDeletesItsAttributes) {
  const std::string res = h_.CreateResource(h_.env_e(), "orders");
  ASSERT_EQ(Create(res, "tenant", "acme").status, 201);
  ASSERT_EQ(h_.Call(kAdmin, "DELETE", ResourcePath(h_.env_e(), res)).status, 204);
  EXPECT_EQ(h_.DumpStore(h_.env_e()).find("attribute "), std::string::npos);
  // The name is free again for another resource with another value.
  const std::string other = h_.CreateResource(h_.env_e(), "other");
  EXPECT_EQ(Create(other, "tenant", "globex").status, 201);
}

}  // namespace
}  // namespace tollgate::mgmt
