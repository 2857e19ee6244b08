// /v1/environments/{envID}/trustedCertificateAuthorities[/{caID}] through ManagementApi::Handle:
// the object and what it reads from its certificate, the write-time rules (each refusal names its
// field and changes nothing), who may read and write, the per-environment limit, and the audit
// activity of a write. Certificates: the fixed test PKI (crypto/test_pki.h).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "crypto/test_pki.h"
#include "crypto/x509.h"
#include "testutil/fixtures.h"
#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using crypto::testing::kIntermediatePem;
using crypto::testing::kLeafPem;
using crypto::testing::kRootPem;
using testutil::ApiReply;
using testutil::EnvPath;
using testutil::IsForbidden;
using testutil::IsInvalidData;
using testutil::IsNotFound;
using testutil::MgmtHarness;
using Role = testutil::Role;

constexpr Role kAdmin = Role::kOrganizationAdmin;

json::object Body(std::string_view pem, const std::string& name = "Example Root") {
  return {{"name", name}, {"certificate", pem}};
}

std::string Hex(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    out += kDigits[static_cast<unsigned char>(c) >> 4];
    out += kDigits[static_cast<unsigned char>(c) & 0xF];
  }
  return out;
}

class TrustedCasTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& env = "") {
    return EnvPath(env.empty() ? h_.env_e() : env) + "/trustedCertificateAuthorities";
  }
  ApiReply Create(const json::object& body, Role as = kAdmin) {
    return h_.Call(as, "POST", Path(), body);
  }

  MgmtHarness h_;
};

TEST_F(TrustedCasTest, CreateReadListReplaceDelete) {
  ApiReply created = Create(Body(kRootPem));
  ASSERT_EQ(created.status, 201) << created.body;
  const json::object& o = created.Object();
  const std::string path = Path() + "/" + created.Str("id");
  auto root = crypto::Certificate::FromPem(kRootPem);
  ASSERT_TRUE(root);
  EXPECT_EQ(o.at("name"), "Example Root");
  EXPECT_EQ(o.at("certificate"), json::value((*root)->Pem()));
  EXPECT_EQ(o.at("subjectDn"), json::value((*root)->SubjectDn()));
  EXPECT_EQ(o.at("issuerDn"), json::value((*root)->IssuerDn()));
  EXPECT_EQ(o.at("serialNumber"), json::value((*root)->SerialNumberHex()));
  EXPECT_EQ(o.at("validStart"), json::value(FormatRfc3339((*root)->NotBefore())));
  EXPECT_EQ(o.at("validUntil"), json::value(FormatRfc3339((*root)->NotAfter())));
  EXPECT_EQ(o.at("sha256Fingerprint"), json::value(Hex((*root)->Sha256Thumbprint())));
  EXPECT_EQ(o.at("environment").at("id"), json::value(h_.env_e()));
  EXPECT_EQ(o.at("createdAt"), "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(o.at("_links").at("self").at("href"), json::value(testutil::kApiUrl + path));
  EXPECT_EQ(created.Header("Location"), std::optional<std::string>(testutil::kApiUrl + path));
  EXPECT_EQ(o.size(), 13u) << created.body;

  ApiReply got = h_.Call(Role::kReadOnly, "GET", path);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.Object(), o);
  ApiReply list = h_.Call(Role::kReadOnly, "GET", Path());
  ASSERT_EQ(list.status, 200) << list.body;
  const json::array& items =
      list.Object().at("_embedded").at("trustedCertificateAuthorities").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], json::value(o));

  ApiReply replaced = h_.Call(kAdmin, "PUT", path, Body(kIntermediatePem, "Intermediate"));
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.Object().at("name"), "Intermediate");
  EXPECT_NE(replaced.Object().at("subjectDn"), o.at("subjectDn"));
  EXPECT_EQ(replaced.Object().at("id"), o.at("id"));

  EXPECT_EQ(h_.Call(kAdmin, "DELETE", path).status, 204);
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", path)));
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "DELETE", path)));
}

TEST_F(TrustedCasTest, InvalidBodiesNameTheFieldAndChangeNothing) {
  const std::string before = h_.DumpStore(h_.env_e());
  const std::string two = std::string(kRootPem) + std::string(kIntermediatePem);
  const std::string big = "-----BEGIN CERTIFICATE-----\n" + std::string(size_t{17} * 1024, 'A') +
                          "\n-----END CERTIFICATE-----\n";
  struct Case {
    const char* name;
    json::object body;
    const char* detail;
    const char* target;
  };
  const std::vector<Case> cases = {
      {"no name", {{"certificate", kRootPem}}, "REQUIRED_VALUE", "name"},
      {"empty name", Body(kRootPem, ""), "REQUIRED_VALUE", "name"},
      {"name of 257 characters", Body(kRootPem, std::string(257, 'n')), "INVALID_VALUE", "name"},
      {"no certificate", {{"name", "x"}}, "REQUIRED_VALUE", "certificate"},
      {"certificate not a string",
       {{"name", "x"}, {"certificate", 1}},
       "INVALID_VALUE",
       "certificate"},
      {"not PEM", Body("MIIB"), "INVALID_VALUE", "certificate"},
      {"two certificates", Body(two), "INVALID_VALUE", "certificate"},
      {"over 16 KiB", Body(big), "INVALID_VALUE", "certificate"},
      {"not a CA", Body(kLeafPem), "INVALID_VALUE", "certificate"},
  };
  for (const auto& c : cases) {
    EXPECT_TRUE(IsInvalidData(Create(c.body), c.detail, c.target)) << c.name;
  }
  EXPECT_EQ(h_.DumpStore(h_.env_e()), before);
}

TEST_F(TrustedCasTest, ReadersReadAndOnlyEnvironmentAdministratorsWrite) {
  ApiReply created = Create(Body(kRootPem));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path = Path() + "/" + created.Str("id");
  const std::string before = h_.DumpStore(h_.env_e());
  for (Role reader : {Role::kReadOnly, Role::kAppDeveloper}) {
    SCOPED_TRACE(testutil::RoleName(reader));
    EXPECT_EQ(h_.Call(reader, "GET", Path()).status, 200);
    EXPECT_EQ(h_.Call(reader, "GET", path).status, 200);
    EXPECT_TRUE(IsForbidden(Create(Body(kIntermediatePem), reader)));
    EXPECT_TRUE(IsForbidden(h_.Call(reader, "PUT", path, Body(kIntermediatePem))));
    EXPECT_TRUE(IsForbidden(h_.Call(reader, "DELETE", path)));
  }
  EXPECT_EQ(h_.DumpStore(h_.env_e()), before);
  EXPECT_EQ(Create(Body(kIntermediatePem), Role::kEnvironmentAdmin).status, 201);
  EXPECT_TRUE(IsForbidden(
      h_.Call(Role::kEnvironmentAdmin, "POST", Path(h_.env_f()), Body(kIntermediatePem))));
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", Path(h_.env_f()) + "/" + created.Str("id"))));
  EXPECT_EQ(h_.Call(kAdmin, "PATCH", Path()).status, 405);
}

TEST_F(TrustedCasTest, AtMost50PerEnvironment) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(Create(Body(kRootPem, "root " + std::to_string(i))).status, 201) << i;
  }
  const std::string before = h_.DumpStore(h_.env_e());
  EXPECT_TRUE(IsInvalidData(Create(Body(kRootPem)), "INVALID_VALUE", "certificate"));
  EXPECT_EQ(h_.DumpStore(h_.env_e()), before);
  EXPECT_EQ(h_.Call(kAdmin, "POST", Path(h_.env_f()), Body(kRootPem)).status, 201);
}

TEST_F(TrustedCasTest, WritesAreAudited) {
  ApiReply created = Create(Body(kRootPem, "Audited Root"), Role::kEnvironmentAdmin);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string bearer = h_.Bearer(Role::kEnvironmentAdmin);  // the request holds views
  const std::string path = EnvPath(h_.env_e()) + "/activities";
  ApiRequest request;
  request.method = "GET";
  request.path = path;
  request.query = "filter=action.type%20eq%20%22TRUSTED_CERTIFICATE_AUTHORITY.CREATED%22";
  request.authorization = bearer;
  ApiReply r = h_.Send(request);
  ASSERT_EQ(r.status, 200) << r.body;
  const json::array& all = r.Object().at("_embedded").at("activities").as_array();
  ASSERT_EQ(all.size(), 1u) << r.body;
  EXPECT_EQ(all[0].at("action").at("description"), "Trusted Certificate Authority Created");
  const json::array& resources = all[0].at("resources").as_array();
  ASSERT_EQ(resources.size(), 2u);
  EXPECT_EQ(resources[1].at("type"), "TRUSTED_CERTIFICATE_AUTHORITY");
  EXPECT_EQ(resources[1].at("name"), "Audited Root");
}

}  // namespace
}  // namespace tollgate::mgmt
