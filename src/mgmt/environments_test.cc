// /v1/environments[/{envID}] through ManagementApi::Handle: the environment object's validation
// on PUT (SPEC §6). A successful create generates an RSA key and is in api_test.cc.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::Detail;
using testutil::EnvPath;
using testutil::IsApiError;
using testutil::IsInvalidData;
using testutil::MgmtHarness;
using Role = testutil::Role;

constexpr Role kAdmin = Role::kOrganizationAdmin;

TEST(EnvironmentsTest, InvalidEnvironmentsNameTheField) {
  MgmtHarness h;
  struct Case {
    const char* name;
    json::object body;
    std::vector<Detail> details;
  };
  const std::vector<Case> cases = {
      {"name missing", {{"type", "SANDBOX"}}, {{"REQUIRED_VALUE", "name"}}},
      {"name empty", {{"name", ""}}, {{"REQUIRED_VALUE", "name"}}},
      {"name a number", {{"name", 1}}, {{"INVALID_VALUE", "name"}}},
      {"name too long", {{"name", std::string(257, 'e')}}, {{"INVALID_VALUE", "name"}}},
      {"name of 257 two-byte characters",
       {{"name", testutil::TwoByteCharacters(257)}},
       {{"INVALID_VALUE", "name"}}},
      {"type unknown", {{"name", "E"}, {"type", "STAGING"}}, {{"INVALID_VALUE", "type"}}},
      {"region unknown", {{"name", "E"}, {"region", "US"}}, {{"INVALID_VALUE", "region"}}},
      {"region a number", {{"name", "E"}, {"region", 1}}, {{"INVALID_VALUE", "region"}}},
      {"dpopNonceRequired a string",
       {{"name", "E"}, {"dpopNonceRequired", "true"}},
       {{"INVALID_VALUE", "dpopNonceRequired"}}},
  };
  const std::string before = h.DumpStore(h.env_e());
  for (const auto& c : cases) {
    EXPECT_TRUE(IsApiError(h.Call(kAdmin, "PUT", EnvPath(h.env_e()), c.body), 400, "INVALID_DATA",
                           c.details))
        << "PUT: " << c.name;
    EXPECT_TRUE(IsApiError(h.Call(kAdmin, "POST", "/v1/environments", c.body), 400, "INVALID_DATA",
                           c.details))
        << "POST: " << c.name;
  }
  EXPECT_EQ(h.DumpStore(h.env_e()), before);
  EXPECT_EQ(h.config().Current()->environments.size(), 2u);
}

TEST(EnvironmentsTest, PutReplacesTheWritableFieldsAndNamesAreUnique) {
  MgmtHarness h;
  ApiReply r = h.Call(kAdmin, "PUT", EnvPath(h.env_f()),
                      json::object{{"name", std::string(256, 'f')},
                                   {"description", "d"},
                                   {"type", "PRODUCTION"},
                                   {"region", "EU"},
                                   {"dpopNonceRequired", true},
                                   {"id", h.env_e()},
                                   {"organization", json::object{{"id", h.env_e()}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object& o = r.Object();
  EXPECT_EQ(o.at("id"), json::value(h.env_f()));
  EXPECT_EQ(o.at("organization"), (json::object{{"id", h.org_id()}}));
  EXPECT_EQ(o.at("type"), "PRODUCTION");
  EXPECT_EQ(o.at("region"), "EU");
  EXPECT_EQ(o.at("dpopNonceRequired"), true);
  EXPECT_TRUE(h.config().Current()->FindEnvironment(h.env_f())->environment.dpop_nonce_required);
  // docs/security.md: names are limited in characters, not bytes.
  r = h.Call(kAdmin, "PUT", EnvPath(h.env_f()),
             json::object{{"name", testutil::TwoByteCharacters(256)}});
  EXPECT_EQ(r.status, 200) << r.body;
  // Absent fields go back to their defaults.
  r = h.Call(kAdmin, "PUT", EnvPath(h.env_f()), json::object{{"name", "Other"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Object().at("type"), "SANDBOX");
  EXPECT_EQ(r.Object().at("region"), "NA");
  EXPECT_EQ(r.Object().at("description"), "");
  EXPECT_EQ(r.Object().at("dpopNonceRequired"), false);
  EXPECT_TRUE(IsInvalidData(
      h.Call(kAdmin, "PUT", EnvPath(h.env_f()), json::object{{"name", "Administrators"}}),
      "UNIQUENESS_VIOLATION", "name"));
}

}  // namespace
}  // namespace tollgate::mgmt
