// Audit activities of the management API through ManagementApi::Handle: which calls become
// activities and what they hold, the filter, paging, and who may read them.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::MgmtHarness;
using Role = testutil::Role;

json::object AppBody(const char* name, const char* type) {
  return {{"name", name},
          {"type", type},
          {"grantTypes", json::array{"CLIENT_CREDENTIALS"}},
          {"tokenEndpointAuthMethod", "CLIENT_SECRET_BASIC"},
          {"enabled", true},
          {"protocol", "OPENID_CONNECT"}};
}

class ActivitiesTest : public ::testing::Test {
 protected:
  // GET .../activities?<query> as `as`.
  ApiReply Get(const std::string& query, Role as = Role::kEnvironmentAdmin,
               const std::string& env = "") {
    const std::string bearer = h_.Bearer(as);
    const std::string path = testutil::EnvPath(env.empty() ? h_.env_e() : env) + "/activities";
    ApiRequest request;
    request.method = "GET";
    request.path = path;
    request.query = query;
    request.authorization = bearer;
    return h_.Send(request);
  }
  // The activities a query answers, expecting 200.
  std::vector<json::object> Activities(const std::string& query) {
    ApiReply r = Get(query);
    if (r.status != 200) throw std::runtime_error("GET activities: " + r.body);
    std::vector<json::object> out;
    for (const auto& v : r.Object().at("_embedded").at("activities").as_array()) {
      out.push_back(v.as_object());
    }
    return out;
  }
  static std::string Type(const json::object& a) {
    return std::string(a.at("action").at("type").as_string());
  }

  MgmtHarness h_;
};

TEST_F(ActivitiesTest, AWriteBecomesAnActivity) {
  const std::string app = h_.CreateApp(h_.env_e(), AppBody("audited", "WORKER"));
  const auto all = Activities("filter=action.type%20eq%20%22APPLICATION.CREATED%22");
  ASSERT_EQ(all.size(), 1u);
  const json::object& a = all[0];
  EXPECT_EQ(a.at("action").at("description"), "Application Created");
  EXPECT_EQ(a.at("result").at("status"), "SUCCESS");
  EXPECT_EQ(a.at("recordedAt"), json::value(FormatRfc3339(h_.clock().Now())));
  const json::object& client = a.at("actors").at("client").as_object();
  EXPECT_EQ(client.at("id"), json::value(h_.caller_id(Role::kOrganizationAdmin)));
  EXPECT_EQ(client.at("type"), "CLIENT");
  EXPECT_TRUE(client.contains("name"));
  const json::array& resources = a.at("resources").as_array();
  ASSERT_EQ(resources.size(), 2u);
  EXPECT_EQ(resources[0].at("type"), "ENVIRONMENT");
  EXPECT_EQ(resources[0].at("id"), json::value(h_.env_e()));
  EXPECT_EQ(resources[1].at("type"), "APPLICATION");
  EXPECT_EQ(resources[1].at("id"), json::value(app));
  EXPECT_EQ(resources[1].at("name"), "audited");
  EXPECT_FALSE(a.at("correlationId").as_string().empty());
  // The application's secret is in no activity (reading it is an activity of its own).
  ApiReply secret =
      h_.Call(Role::kOrganizationAdmin, "GET", testutil::AppPath(h_.env_e(), app) + "/secret");
  ASSERT_EQ(secret.status, 200);
  ASSERT_FALSE(secret.Str("secret").empty());
  const std::string every = Get("").body;
  EXPECT_NE(every.find("SECRET.READ"), std::string::npos);
  EXPECT_EQ(every.find(secret.Str("secret")), std::string::npos);
}

TEST_F(ActivitiesTest, RefusedWritesAndSecretReadsAreActivitiesPlainReadsAreNot) {
  const std::string app = h_.CreateApp(h_.env_e(), AppBody("target", "SERVICE"));
  const std::string path = testutil::AppPath(h_.env_e(), app);
  EXPECT_EQ(h_.Call(Role::kReadOnly, "PUT", path, json::object{{"name", "x"}}).status, 403);
  EXPECT_EQ(h_.Call(Role::kReadOnly, "GET", path).status, 200);
  EXPECT_EQ(h_.Call(Role::kOrganizationAdmin, "GET", path + "/secret").status, 200);

  const auto failed = Activities("filter=result.status%20eq%20%22FAILED%22");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(Type(failed[0]), "APPLICATION.UPDATED");
  EXPECT_EQ(failed[0].at("actors").at("client").at("id"),
            json::value(h_.caller_id(Role::kReadOnly)));
  EXPECT_FALSE(failed[0].at("result").at("description").as_string().empty());

  std::vector<std::string> types;
  for (const auto& a : Activities("filter=resources.id%20eq%20%22" + app + "%22")) {
    types.push_back(Type(a));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"APPLICATION.CREATED", "APPLICATION.UPDATED",
                                             "SECRET.READ"}));
}

TEST_F(ActivitiesTest, FilterByTimeTypeAndClient) {
  const std::string t0 = FormatRfc3339(h_.clock().Now());
  h_.CreateResource(h_.env_e(), "first");
  h_.clock().Advance(std::chrono::seconds(10));
  const std::string t1 = FormatRfc3339(h_.clock().Now());
  h_.CreateResource(h_.env_e(), "second", {"read"});

  auto q = [](const std::string& filter) {
    std::string out = "filter=";
    for (char c : filter) {
      if (c == ' ') {
        out += "%20";
      } else if (c == '"') {
        out += "%22";
      } else {
        out.push_back(c);
      }
    }
    return out;
  };
  EXPECT_EQ(Activities(q("recordedAt gt \"" + t0 + "\"")).size(), 2u) << "second + its scope";
  EXPECT_EQ(Activities(q("recordedat ge \"" + t0 + "\"")).size(), 3u);
  EXPECT_EQ(Activities(q("recordedAt lt \"" + t1 + "\"")).size(), 1u);
  EXPECT_EQ(Activities(q("recordedAt le \"" + t1 + "\" and recordedAt gt \"" + t0 + "\"")).size(),
            2u);
  EXPECT_EQ(Activities(q("action.type eq \"SCOPE.CREATED\"")).size(), 1u);
  EXPECT_EQ(Activities(q("action.type in [\"SCOPE.CREATED\", \"RESOURCE.CREATED\"]")).size(), 3u);
  EXPECT_EQ(Activities(q("actors.client.id eq \"" + h_.caller_id(Role::kOrganizationAdmin) + "\""))
                .size(),
            3u);
  EXPECT_EQ(Activities(q("actors.client.id eq \"" + h_.caller_id(Role::kReadOnly) + "\"")).size(),
            0u);

  for (const std::string& bad : std::vector<std::string>{
           "nonsense eq \"x\"", "recordedAt eq \"" + t0 + "\"", "action.type gt \"A\"",
           "recordedAt gt \"yesterday\"", "action.type eq \"unterminated",
           "action.type eq \"A\" or", "result.status eq \"MAYBE\"", "resources.id eq \"not-an-id\"",
           "action.type in [\"A\""}) {
    ApiReply r = Get(q(bad));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("INVALID_FILTER"), std::string::npos) << bad << " -> " << r.body;
  }
  EXPECT_EQ(Get("limit=0").status, 400);
  EXPECT_EQ(Get("limit=1001").status, 400);
  EXPECT_EQ(Get("cursor=!!").status, 400);
}

TEST_F(ActivitiesTest, ContradictoryClausesMatchNothing) {
  h_.CreateResource(h_.env_e(), "one");
  EXPECT_EQ(Activities("filter=action.type%20eq%20%22RESOURCE.CREATED%22").size(), 1u);
  EXPECT_TRUE(Activities("filter=action.type%20eq%20%22RESOURCE.CREATED%22%20and%20"
                         "action.type%20eq%20%22SCOPE.CREATED%22")
                  .empty());
  EXPECT_EQ(Activities("filter=action.type%20in%20[%22RESOURCE.CREATED%22,%22A%22]%20and%20"
                       "action.type%20eq%20%22RESOURCE.CREATED%22")
                .size(),
            1u);
  EXPECT_TRUE(Activities("filter=result.status%20eq%20%22SUCCESS%22%20and%20"
                         "result.status%20eq%20%22FAILED%22")
                  .empty());
}

TEST_F(ActivitiesTest, WhereACallIsFiledTellsNothingOfOtherEnvironments) {
  // An Environment Admin of E writes (and is refused) in F, which it does not reach, and in an
  // environment that does not exist: both land in E, the same way.
  const std::string in_f = testutil::ResourcesPath(h_.env_f());
  const std::string nowhere = testutil::ResourcesPath("0a0a0a0a-9999-4999-8999-999999999999");
  for (const std::string& path : {in_f, nowhere}) {
    EXPECT_EQ(h_.Call(Role::kEnvironmentAdmin, "POST", path, json::object{{"name", "x"}}).status,
              403);
  }
  const auto failed = Activities("filter=result.status%20eq%20%22FAILED%22");
  ASSERT_EQ(failed.size(), 2u);
  // Ids in the path are read as the handlers read them: upper case names the same object.
  std::string upper = h_.env_e();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_EQ(h_.Call(Role::kOrganizationAdmin, "POST", testutil::ResourcesPath(upper),
                    json::object{{"name", "upper"}, {"audience", "https://upper.example"}})
                .status,
            201);
  const auto made = Activities("filter=resources.id%20eq%20%22" + h_.env_e() + "%22%20and%20" +
                               "action.type%20eq%20%22RESOURCE.CREATED%22");
  ASSERT_EQ(made.size(), 1u);
  EXPECT_EQ(made[0].at("resources").at(0).at("id"), json::value(h_.env_e()));
}

TEST_F(ActivitiesTest, PagesFollowTheCursorToTheEnd) {
  for (int i = 0; i < 5; ++i) h_.CreateResource(h_.env_e(), "r" + std::to_string(i));
  std::vector<std::string> seen;
  std::string query = "limit=2";
  for (int page = 0; page < 10; ++page) {
    ApiReply r = Get(query);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& a : r.Object().at("_embedded").at("activities").as_array()) {
      seen.push_back(std::string(a.at("id").as_string()));
    }
    const auto& links = r.Object().at("_links").as_object();
    if (!links.contains("next")) break;
    const std::string next(links.at("next").at("href").as_string());
    query = next.substr(next.find('?') + 1);
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 5u);
}

TEST_F(ActivitiesTest, OnlyAdministratorsRead) {
  EXPECT_TRUE(testutil::IsForbidden(Get("", Role::kReadOnly)));
  EXPECT_TRUE(testutil::IsForbidden(Get("", Role::kAppDeveloper)));
  EXPECT_EQ(Get("", Role::kEnvironmentAdmin).status, 200);
  EXPECT_EQ(Get("", Role::kOrganizationAdmin).status, 200);
}

TEST_F(ActivitiesTest, EnvironmentsAreAuditedWhereTheyCanBeRead) {
  ApiReply made =
      h_.Call(Role::kOrganizationAdmin, "POST", "/v1/environments",
              json::object{{"name", "audited env"}, {"region", "NA"}, {"type", "SANDBOX"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string env = made.Str("id");
  ApiReply in_new = Get("", Role::kOrganizationAdmin, env);
  ASSERT_EQ(in_new.status, 200);
  const auto& created = in_new.Object().at("_embedded").at("activities").as_array();
  ASSERT_FALSE(created.empty());
  EXPECT_EQ(created[0].at("action").at("type"), "ENVIRONMENT.CREATED");

  ASSERT_EQ(h_.Call(Role::kOrganizationAdmin, "DELETE", testutil::EnvPath(env)).status, 204);
  // Its deletion is in the caller's environment: the deleted one can no longer be read.
  EXPECT_EQ(Activities("filter=action.type%20eq%20%22ENVIRONMENT.DELETED%22").size(), 1u);
}

}  // namespace
}  // namespace tollgate::mgmt
