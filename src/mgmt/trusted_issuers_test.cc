// /v1/environments/{envID}/trustedIssuers[/{trustedIssuerID}] through ManagementApi::Handle: the
// trusted issuer object, its defaults, the write-time rules (each refusal names its field and
// changes nothing), who may read and write, the per-environment limit, uniqueness of `issuer`,
// and the audit activity of a write.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "testutil/fixtures.h"
#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::EnvPath;
using testutil::IsForbidden;
using testutil::IsInvalidData;
using testutil::IsNotFound;
using testutil::MgmtHarness;
using Role = testutil::Role;

constexpr Role kAdmin = Role::kOrganizationAdmin;

json::object Body(const std::string& issuer, const std::string& name = "Partner IdP") {
  return {{"name", name}, {"issuer", issuer}, {"jwksUrl", "https://idp.example/jwks"}};
}

class TrustedIssuersTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& env = "") {
    return EnvPath(env.empty() ? h_.env_e() : env) + "/trustedIssuers";
  }
  // The environment's own issuer, {auth-url}/{envID}/as.
  std::string OwnIssuer(const std::string& env) {
    return h_.config().Current()->FindEnvironment(env)->issuer;
  }
  ApiReply Create(const json::object& body, Role as = kAdmin) {
    return h_.Call(as, "POST", Path(), body);
  }
  size_t Listed(const std::string& env = "") {
    ApiReply r = h_.Call(kAdmin, "GET", Path(env));
    if (r.status != 200) throw std::runtime_error("GET trustedIssuers: " + r.body);
    return r.Object().at("_embedded").at("trustedIssuers").as_array().size();
  }
  static std::string DetailMessage(const ApiReply& r) {
    return std::string(
        r.Object().at("details").as_array().at(0).as_object().at("message").as_string());
  }

  MgmtHarness h_;
};

TEST_F(TrustedIssuersTest, CreateReadListUpdateDeleteInPingOnesShape) {
  json::object body = Body("https://idp.example");
  body["audience"] = "urn:tollgate:exchange";
  body["enabled"] = false;
  ApiReply created = Create(body);
  ASSERT_EQ(created.status, 201) << created.body;
  const json::object& o = created.Object();
  const std::string id = created.Str("id");
  const std::string path = Path() + "/" + id;
  EXPECT_EQ(o.at("name"), "Partner IdP");
  EXPECT_EQ(o.at("issuer"), "https://idp.example");
  EXPECT_EQ(o.at("jwksUrl"), "https://idp.example/jwks");
  EXPECT_EQ(o.at("audience"), "urn:tollgate:exchange");
  EXPECT_EQ(o.at("enabled"), false);
  EXPECT_EQ(o.at("environment").at("id"), json::value(h_.env_e()));
  EXPECT_EQ(o.at("createdAt"), "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(o.at("updatedAt"), "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(o.at("_links").at("self").at("href"), json::value(testutil::kApiUrl + path));
  EXPECT_EQ(created.Header("Location"), std::optional<std::string>(testutil::kApiUrl + path));
  EXPECT_EQ(o.size(), 10u) << created.body;  // nothing else: no debug, no secrets

  ApiReply got = h_.Call(Role::kReadOnly, "GET", path);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.Object(), o);
  ApiReply list = h_.Call(Role::kReadOnly, "GET", Path());
  ASSERT_EQ(list.status, 200) << list.body;
  const json::array& items = list.Object().at("_embedded").at("trustedIssuers").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], json::value(o));
  EXPECT_EQ(list.Object().at("count").as_int64(), 1);

  // PUT replaces every writable field: the absent audience and enabled take their defaults.
  h_.clock().Advance(std::chrono::seconds(5));
  ApiReply put = h_.Call(kAdmin, "PUT", path,
                         json::object{{"name", "Renamed"},
                                      {"issuer", "https://idp2.example"},
                                      {"jwksUrl", "http://127.0.0.1:9000/keys"}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Object().at("id"), json::value(id));
  EXPECT_EQ(put.Object().at("name"), "Renamed");
  EXPECT_EQ(put.Object().at("issuer"), "https://idp2.example");
  EXPECT_EQ(put.Object().at("jwksUrl"), "http://127.0.0.1:9000/keys");
  EXPECT_EQ(put.Object().at("audience"), json::value(OwnIssuer(h_.env_e())));
  EXPECT_EQ(put.Object().at("enabled"), true);
  EXPECT_EQ(put.Object().at("createdAt"), "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(put.Object().at("updatedAt"), "2027-01-15T08:00:05.000Z");
  EXPECT_EQ(h_.Call(kAdmin, "GET", path).Object(), put.Object());

  EXPECT_EQ(h_.Call(kAdmin, "DELETE", path).status, 204);
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", path)));
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "DELETE", path)));
  EXPECT_EQ(Listed(), 0u);
  EXPECT_EQ(h_.DumpStore(h_.env_e()).find("trusted issuer "), std::string::npos);
}

TEST_F(TrustedIssuersTest, DefaultsAreEnabledAndAddressedToThisEnvironment) {
  ApiReply created = Create(Body("https://idp.example"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string own = OwnIssuer(h_.env_e());
  EXPECT_EQ(own, std::string(testutil::kAuthUrl) + "/" + h_.env_e() + "/as");
  EXPECT_EQ(created.Object().at("audience"), json::value(own));
  EXPECT_EQ(created.Object().at("enabled"), true);
  // As stored, and as the token endpoint's snapshot holds it.
  EXPECT_NE(h_.DumpStore(h_.env_e()).find("audience='" + own + "' enabled=1"), std::string::npos)
      << h_.DumpStore(h_.env_e());
  const auto* env = h_.config().Current()->FindEnvironment(h_.env_e());
  ASSERT_NE(env, nullptr);
  ASSERT_EQ(env->data->trusted_issuers.size(), 1u);
  EXPECT_EQ(env->data->trusted_issuers[0].issuer, "https://idp.example");
}

TEST_F(TrustedIssuersTest, InvalidBodiesNameTheFieldAndChangeNothing) {
  ApiReply first = Create(Body("https://idp.example"));
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string path = Path() + "/" + first.Str("id");
  const std::string before = h_.DumpStore(h_.env_e());
  const std::string own = OwnIssuer(h_.env_e());
  auto with = [](const char* field, json::value v) {
    json::object b = Body("https://other.example");
    b[field] = std::move(v);
    return b;
  };
  auto without = [](const char* field) {
    json::object b = Body("https://other.example");
    b.erase(field);
    return b;
  };
  struct Case {
    json::object body;
    const char* code;
    const char* target;
  };
  const std::vector<Case> cases = {
      {without("name"), "REQUIRED_VALUE", "name"},
      {with("name", ""), "REQUIRED_VALUE", "name"},
      {with("name", 7), "INVALID_VALUE", "name"},
      {with("name", json::string(testutil::TwoByteCharacters(257))), "INVALID_VALUE", "name"},
      {without("issuer"), "REQUIRED_VALUE", "issuer"},
      {with("issuer", ""), "REQUIRED_VALUE", "issuer"},
      {with("issuer", "https://idp.example/ space"), "INVALID_VALUE", "issuer"},
      {with("issuer", "https://idp.example/\t"), "INVALID_VALUE", "issuer"},
      {with("issuer", "https://idp.example/\xc3\xa9"), "INVALID_VALUE", "issuer"},
      {with("issuer", json::string("https://i.example/" + std::string(2031, 'x'))), "INVALID_VALUE",
       "issuer"},
      {with("issuer", json::array{"https://idp.example"}), "INVALID_VALUE", "issuer"},
      {with("issuer", json::string(own)), "INVALID_VALUE", "issuer"},
      {without("jwksUrl"), "REQUIRED_VALUE", "jwksUrl"},
      {with("jwksUrl", "ftp://idp.example/jwks"), "INVALID_VALUE", "jwksUrl"},
      {with("jwksUrl", "/relative/jwks"), "INVALID_VALUE", "jwksUrl"},
      {with("jwksUrl", "https:///no-host"), "INVALID_VALUE", "jwksUrl"},
      {with("jwksUrl", "https://"), "INVALID_VALUE", "jwksUrl"},
      {with("jwksUrl", "https://idp.example/a b"), "INVALID_VALUE", "jwksUrl"},
      {with("audience", ""), "INVALID_VALUE", "audience"},
      {with("audience", json::string(std::string(2049, 'a'))), "INVALID_VALUE", "audience"},
      {with("audience", 1), "INVALID_VALUE", "audience"},
      {with("enabled", "true"), "INVALID_VALUE", "enabled"},
  };
  for (const Case& c : cases) {
    for (const char* method : {"POST", "PUT"}) {
      const std::string& target_path = std::string(method) == "POST" ? Path() : path;
      ApiReply r = h_.Call(kAdmin, method, target_path, c.body);
      EXPECT_TRUE(IsInvalidData(r, c.code, c.target))
          << method << " " << json::serialize(c.body) << " " << r.body;
    }
  }
  // The longest issuer and audience are accepted (2048 bytes).
  json::object longest = Body("https://i.example/" + std::string(2030, 'x'));
  longest["audience"] = std::string(2048, 'a');
  ApiReply ok = Create(longest);
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(h_.Call(kAdmin, "DELETE", Path() + "/" + ok.Str("id")).status, 204);
  EXPECT_EQ(h_.DumpStore(h_.env_e()), before);

  ApiReply own_issuer = Create(Body(own));
  ASSERT_TRUE(IsInvalidData(own_issuer, "INVALID_VALUE", "issuer")) << own_issuer.body;
  EXPECT_NE(DetailMessage(own_issuer).find("own issuer"), std::string::npos);
  // Another environment's issuer is a foreign issuer like any other.
  EXPECT_EQ(Create(Body(OwnIssuer(h_.env_f()))).status, 201);
}

TEST_F(TrustedIssuersTest, ReadersReadAndOnlyEnvironmentAdministratorsWrite) {
  ApiReply created = Create(Body("https://idp.example"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path = Path() + "/" + created.Str("id");
  const std::string before = h_.DumpStore(h_.env_e());
  const json::object other = Body("https://other.example");
  for (Role reader : {Role::kReadOnly, Role::kAppDeveloper}) {
    SCOPED_TRACE(testutil::RoleName(reader));
    EXPECT_EQ(h_.Call(reader, "GET", Path()).status, 200);
    EXPECT_EQ(h_.Call(reader, "GET", path).status, 200);
    EXPECT_TRUE(IsForbidden(Create(other, reader)));
    EXPECT_TRUE(IsForbidden(h_.Call(reader, "PUT", path, other)));
    EXPECT_TRUE(IsForbidden(h_.Call(reader, "DELETE", path)));
  }
  EXPECT_EQ(h_.DumpStore(h_.env_e()), before);

  ApiReply by_env_admin = Create(other, Role::kEnvironmentAdmin);
  EXPECT_EQ(by_env_admin.status, 201) << by_env_admin.body;
  EXPECT_EQ(
      h_.Call(Role::kEnvironmentAdmin, "PUT", path, Body("https://idp.example", "New")).status,
      200);
  EXPECT_EQ(h_.Call(Role::kEnvironmentAdmin, "DELETE", path).status, 204);
  // E's administrator does not reach F; the Organization Admin does.
  EXPECT_TRUE(IsForbidden(h_.Call(Role::kEnvironmentAdmin, "POST", Path(h_.env_f()), other)));
  EXPECT_EQ(h_.Call(kAdmin, "POST", Path(h_.env_f()), other).status, 201);

  EXPECT_EQ(h_.Call(kAdmin, "PATCH", Path()).status, 405);
  EXPECT_EQ(h_.Call(kAdmin, "POST", Path() + "/" + by_env_admin.Str("id"), other).status, 405);
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", Path() + "/not-a-uuid")));
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", Path() + "/" + by_env_admin.Str("id") + "/x")));
  // An issuer of E is not found through F.
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", Path(h_.env_f()) + "/" + by_env_admin.Str("id"))));
}

TEST_F(TrustedIssuersTest, AtMost20PerEnvironment) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(Create(Body("https://idp" + std::to_string(i) + ".example")).status, 201) << i;
  }
  const std::string before = h_.DumpStore(h_.env_e());
  ApiReply over = Create(Body("https://idp20.example"));
  ASSERT_TRUE(IsInvalidData(over, "INVALID_VALUE", "issuer")) << over.body;
  EXPECT_NE(DetailMessage(over).find("at most 20"), std::string::npos) << over.body;
  EXPECT_EQ(h_.DumpStore(h_.env_e()), before);
  EXPECT_EQ(Listed(), 20u);
  // Updating one of the 20 is not a 21st.
  ApiReply list = h_.Call(kAdmin, "GET", Path());
  const json::value& one = list.Object().at("_embedded").at("trustedIssuers").at(0);
  const std::string first(one.at("id").as_string());
  const std::string first_issuer(one.at("issuer").as_string());
  EXPECT_EQ(h_.Call(kAdmin, "PUT", Path() + "/" + first, Body(first_issuer, "x")).status, 200);
  // Another environment has its own 20.
  EXPECT_EQ(h_.Call(kAdmin, "POST", Path(h_.env_f()), Body("https://idp20.example")).status, 201);
  // A deleted one frees its place.
  ASSERT_EQ(h_.Call(kAdmin, "DELETE", Path() + "/" + first).status, 204);
  EXPECT_EQ(Create(Body("https://idp20.example")).status, 201);
}

TEST_F(TrustedIssuersTest, IssuerIsUniquePerEnvironment) {
  ApiReply a = Create(Body("https://idp.example", "A"));
  ApiReply b = Create(Body("https://other.example", "B"));
  ASSERT_EQ(a.status, 201) << a.body;
  ASSERT_EQ(b.status, 201) << b.body;
  const std::string before = h_.DumpStore(h_.env_e());
  EXPECT_TRUE(
      IsInvalidData(Create(Body("https://idp.example", "C")), "UNIQUENESS_VIOLATION", "issuer"));
  EXPECT_TRUE(IsInvalidData(
      h_.Call(kAdmin, "PUT", Path() + "/" + b.Str("id"), Body("https://idp.example", "B")),
      "UNIQUENESS_VIOLATION", "issuer"));
  EXPECT_EQ(h_.DumpStore(h_.env_e()), before);
  // Names may repeat; issuers compare byte for byte; another environment is another namespace.
  EXPECT_EQ(Create(Body("https://idp.example/", "A")).status, 201);
  EXPECT_EQ(
      h_.Call(kAdmin, "PUT", Path() + "/" + a.Str("id"), Body("https://idp.example", "A2")).status,
      200)
      << "keeping its own issuer";
  EXPECT_EQ(h_.Call(kAdmin, "POST", Path(h_.env_f()), Body("https://idp.example")).status, 201);
}

TEST_F(TrustedIssuersTest, DeletingTheEnvironmentDeletesItsTrustedIssuers) {
  const std::string env =
      h_.Call(kAdmin, "POST", "/v1/environments",
              json::object{{"name", "Doomed"}, {"type", "SANDBOX"}, {"region", "EU"}})
          .Str("id");
  ASSERT_FALSE(env.empty());
  ApiReply created = h_.Call(kAdmin, "POST", Path(env), Body("https://idp.example"));
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_EQ(h_.Call(kAdmin, "DELETE", EnvPath(env)).status, 204);
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", Path(env) + "/" + created.Str("id"))));
  auto loaded = h_.store().LoadAll();
  ASSERT_TRUE(loaded.ok());
  for (const auto& e : loaded->environments) {
    for (const auto& t : e.trusted_issuers) EXPECT_NE(t.id.str(), created.Str("id"));
  }
  // The same issuer may be trusted elsewhere afterwards.
  EXPECT_EQ(Create(Body("https://idp.example")).status, 201);
}

TEST_F(TrustedIssuersTest, WritesAreAudited) {
  ApiReply created = Create(Body("https://idp.example", "Audited IdP"), Role::kEnvironmentAdmin);
  ASSERT_EQ(created.status, 201) << created.body;
  ApiReply refused = Create(Body("https://other.example"), Role::kReadOnly);
  ASSERT_TRUE(IsForbidden(refused));
  const std::string bearer = h_.Bearer(Role::kEnvironmentAdmin);  // the request holds views
  const std::string path = EnvPath(h_.env_e()) + "/activities";
  ApiRequest request;
  request.method = "GET";
  request.path = path;
  request.query = "filter=action.type%20eq%20%22TRUSTED_ISSUER.CREATED%22";
  request.authorization = bearer;
  ApiReply r = h_.Send(request);
  ASSERT_EQ(r.status, 200) << r.body;
  const json::array& all = r.Object().at("_embedded").at("activities").as_array();
  ASSERT_EQ(all.size(), 2u) << r.body;  // the success and the refusal
  const json::object& ok = all[0].as_object();
  EXPECT_EQ(ok.at("action").at("description"), "Trusted Issuer Created");
  EXPECT_EQ(ok.at("result").at("status"), "SUCCESS");
  const json::array& resources = ok.at("resources").as_array();
  ASSERT_EQ(resources.size(), 2u);
  EXPECT_EQ(resources[1].at("type"), "TRUSTED_ISSUER");
  EXPECT_EQ(resources[1].at("id"), json::value(created.Str("id")));
  EXPECT_EQ(resources[1].at("name"), "Audited IdP");
  EXPECT_EQ(all[1].at("result").at("status"), "FAILED");
}

}  // namespace
}  // namespace tollgate::mgmt
