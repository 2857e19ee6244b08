// /v1/environments/{envID}/applications/{appID}/grants[/{grantID}] through
// ManagementApi::Handle: a grant names a resource of the environment and only its scopes
// (SPEC §6).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "testutil/fixtures.h"
#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::AppBody;
using testutil::GrantsPath;
using testutil::IsInvalidData;
using testutil::IsNotFound;
using testutil::MgmtHarness;
using Role = testutil::Role;

constexpr Role kAdmin = Role::kOrganizationAdmin;
constexpr char kUnknownId[] = "0b0b0b0b-1111-4222-8333-444444444444";

json::object Ref(const std::string& id) { return json::object{{"id", id}}; }

json::object GrantBody(const json::value& resource, const json::value& scopes) {
  json::object body;
  if (!resource.is_null()) body["resource"] = resource;
  if (!scopes.is_null()) body["scopes"] = scopes;
  return body;
}

class GrantsTest : public ::testing::Test {
 protected:
  GrantsTest() {
    const std::string e = h_.env_e();
    app_ = h_.CreateApp(e, AppBody("svc"));
    orders_ = h_.CreateResource(e, "orders", {"read", "write"});
    billing_ = h_.CreateResource(e, "billing", {"pay"});
    read_ = h_.ScopeId(e, orders_, "read");
    write_ = h_.ScopeId(e, orders_, "write");
    pay_ = h_.ScopeId(e, billing_, "pay");
    f_resource_ = h_.CreateResource(h_.env_f(), "orders", {"read"});
    f_scope_ = h_.ScopeId(h_.env_f(), f_resource_, "read");
    grant_ = h_.CreateGrant(e, app_, orders_, {read_});
  }

  std::string Path() const { return GrantsPath(h_.env_e(), app_); }

  MgmtHarness h_;
  std::string app_, orders_, billing_, read_, write_, pay_, f_resource_, f_scope_, grant_;
};

TEST_F(GrantsTest, CreateAnswersReferencesAndDropsRepeatedScopes) {
  ApiReply r = h_.Call(kAdmin, "POST", Path(),
                       GrantBody(Ref(orders_), json::array{Ref(write_), Ref(read_), Ref(write_)}));
  ASSERT_EQ(r.status, 201) << r.body;
  const json::object& o = r.Object();
  EXPECT_EQ(o.at("resource"), Ref(orders_));
  EXPECT_EQ(o.at("application"), Ref(app_));
  EXPECT_EQ(o.at("scopes"), (json::array{Ref(write_), Ref(read_)}));
  EXPECT_EQ(r.Header("Location"),
            std::optional<std::string>(testutil::kApiUrl + Path() + "/" + r.Str("id")));
  // Upper-case UUIDs in references are accepted and answered lower-case.
  std::string upper = pay_;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string upper_res = billing_;
  for (auto& c : upper_res) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ApiReply u = h_.Call(kAdmin, "POST", Path(), GrantBody(Ref(upper_res), json::array{Ref(upper)}));
  ASSERT_EQ(u.status, 201) << u.body;
  EXPECT_EQ(u.Object().at("scopes"), (json::array{Ref(pay_)}));
}

TEST_F(GrantsTest, InvalidGrantsNameTheFieldOnCreateAndOnPut) {
  struct Case {
    const char* name;
    json::object body;
    const char* detail;
    const char* target;
  };
  const std::vector<Case> cases = {
      {"resource missing", GrantBody(nullptr, json::array{Ref(read_)}), "REQUIRED_VALUE",
       "resource.id"},
      {"resource a string", GrantBody(json::value(orders_), json::array{Ref(read_)}),
       "INVALID_VALUE", "resource.id"},
      {"resource without an id", GrantBody(json::object(), json::array{Ref(read_)}),
       "INVALID_VALUE", "resource.id"},
      {"resource id a number", GrantBody(json::object{{"id", 7}}, json::array{Ref(read_)}),
       "INVALID_VALUE", "resource.id"},
      {"resource id not a UUID", GrantBody(Ref("orders"), json::array{Ref(read_)}), "INVALID_VALUE",
       "resource.id"},
      {"resource unknown", GrantBody(Ref(kUnknownId), json::array{Ref(read_)}), "INVALID_VALUE",
       "resource.id"},
      {"resource of another environment", GrantBody(Ref(f_resource_), json::array{Ref(f_scope_)}),
       "INVALID_VALUE", "resource.id"},
      {"scopes missing", GrantBody(Ref(orders_), nullptr), "REQUIRED_VALUE", "scopes"},
      {"scopes empty", GrantBody(Ref(orders_), json::array()), "REQUIRED_VALUE", "scopes"},
      {"scopes an object", GrantBody(Ref(orders_), Ref(read_)), "INVALID_VALUE", "scopes"},
      {"scopes bare ids", GrantBody(Ref(orders_), json::array{json::value(read_)}), "INVALID_VALUE",
       "scopes"},
      {"scope id not a UUID", GrantBody(Ref(orders_), json::array{Ref("read")}), "INVALID_VALUE",
       "scopes"},
      {"scope unknown", GrantBody(Ref(orders_), json::array{Ref(kUnknownId)}), "INVALID_VALUE",
       "scopes"},
      {"scope of another resource", GrantBody(Ref(orders_), json::array{Ref(read_), Ref(pay_)}),
       "INVALID_VALUE", "scopes"},
      {"scope of another environment", GrantBody(Ref(orders_), json::array{Ref(f_scope_)}),
       "INVALID_VALUE", "scopes"},
  };
  const std::string before = h_.DumpStore(h_.env_e());
  for (const auto& c : cases) {
    EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "POST", Path(), c.body), c.detail, c.target))
        << "POST: " << c.name;
    EXPECT_TRUE(
        IsInvalidData(h_.Call(kAdmin, "PUT", Path() + "/" + grant_, c.body), c.detail, c.target))
        << "PUT: " << c.name;
  }
  EXPECT_EQ(h_.DumpStore(h_.env_e()), before);
}

TEST_F(GrantsTest, PutMayMoveAGrantToAnotherResourceWithItsScopes) {
  ApiReply r = h_.Call(kAdmin, "PUT", Path() + "/" + grant_,
                       GrantBody(Ref(billing_), json::array{Ref(pay_)}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Object().at("resource"), Ref(billing_));
  EXPECT_EQ(r.Object().at("scopes"), (json::array{Ref(pay_)}));
  EXPECT_EQ(h_.Call(kAdmin, "GET", Path() + "/" + grant_).json, r.json);
}

TEST_F(GrantsTest, GrantsBelongToTheirApplication) {
  const std::string other = h_.CreateApp(h_.env_e(), AppBody("other"));
  const std::string path = GrantsPath(h_.env_e(), other) + "/" + grant_;
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "GET", path)));
  EXPECT_TRUE(IsNotFound(h_.Call(kAdmin, "DELETE", path)));
  EXPECT_TRUE(
      IsNotFound(h_.Call(kAdmin, "PUT", path, GrantBody(Ref(orders_), json::array{Ref(write_)}))));
  EXPECT_EQ(h_.Call(kAdmin, "GET", GrantsPath(h_.env_e(), other)).Object().at("count"), 0);
  EXPECT_EQ(h_.Call(kAdmin, "GET", Path()).Object().at("count"), 1);
}

}  // namespace
}  // namespace tollgate::mgmt
