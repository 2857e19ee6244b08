// The audit activities of the token endpoint (oauth/auth_activities.h): which answers become
// activities at each level, what one holds (and never holds), and the budget of callers that
// did not authenticate.
#include "oauth/auth_activities.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <vector>

#include "common/base64.h"
#include "common/form.h"
#include "oauth/test_support.h"
#include "oauth/token_endpoint.h"
#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

namespace json = boost::json;
using testutil::EnvBuilder;

class KeptActivities final : public audit::ActivityStore {
 public:
  Result<void, Error> Append(const std::vector<model::Activity>& batch) override {
    kept.insert(kept.end(), batch.begin(), batch.end());
    return {};
  }
  std::vector<model::Activity> kept;  // read after ActivityLog::Flush()
};

class AuthActivitiesTest : public ::testing::Test {
 protected:
  AuthActivitiesTest() : clock_(FromUnixMillis(1'800'000'000'000)), throttle_(clock_) {
    EnvBuilder b;
    b.Resource("one", "https://api.one", 600, {"read"}).App("svc").Grant("svc", "one", {"read"});
    b.LastApp().name = "Billing \"prod\"";
    env_ = b.Build();
  }

  // The activities stored after `requests` were answered by a token endpoint at `level`.
  std::vector<model::Activity> Answer(AuthActivityLevel level,
                                      const std::vector<TokenRequest>& requests) {
    KeptActivities store;
    {
      audit::ActivityLog log(store, 1000);
      AuthActivities activities(log, clock_, level);
      TokenEndpoint endpoint(
          ClientAuthServices{.clock = clock_, .throttle = throttle_, .activities = &activities},
          testutil::kApiUrl);
      for (const TokenRequest& r : requests) (void)Settled(endpoint.Handle(r, *env_));
      log.Flush();
    }
    return store.kept;
  }

  static TokenRequest Request(const std::string& client, const std::string& secret) {
    TokenRequest req;
    req.grant_type = "client_credentials";
    req.authorization = "Basic " + Base64Encode(client + ":" + secret);
    req.remote_address = "192.0.2.7";
    req.correlation_id =
        "corr-" + std::to_string(client.size()) + "-" + std::to_string(secret.size());
    return req;
  }

  FakeClock clock_;
  FailureThrottle throttle_;
  std::shared_ptr<const config::EnvironmentSnapshot> env_;
};

TEST_F(AuthActivitiesTest, AnIssuedTokenIsNamedByItsJtiWithItsClient) {
  KeptActivities store;
  audit::ActivityLog log(store, 1000);
  AuthActivities activities(log, clock_, AuthActivityLevel::kAll);
  TokenEndpoint endpoint(
      ClientAuthServices{.clock = clock_, .throttle = throttle_, .activities = &activities},
      testutil::kApiUrl);
  auto token = Settled(endpoint.Handle(Request("svc", "s3cret"), *env_));
  ASSERT_TRUE(token.ok());
  ASSERT_FALSE(token->jti.empty());
  log.Flush();
  ASSERT_EQ(store.kept.size(), 1U);
  const model::Activity& a = store.kept[0];
  EXPECT_EQ(a.action_type, "ACCESS_TOKEN.ISSUED");
  EXPECT_TRUE(a.success);
  EXPECT_EQ(a.client_id, "svc");
  EXPECT_EQ(a.environment_id, env_->environment.id);
  EXPECT_EQ(a.correlation_id, "corr-3-6");
  EXPECT_EQ(a.recorded_at, clock_.Now());
  EXPECT_EQ(a.resource_ids, std::vector<std::string>{token->jti});

  const json::object o = json::parse(a.json).as_object();
  EXPECT_EQ(o.at("id").as_string(), a.id);
  EXPECT_EQ(o.at("recordedAt").as_string(), FormatRfc3339(clock_.Now()));
  EXPECT_EQ(o.at("action").at("type").as_string(), "ACCESS_TOKEN.ISSUED");
  EXPECT_EQ(o.at("result").at("status").as_string(), "SUCCESS");
  const json::object& client = o.at("actors").at("client").as_object();
  EXPECT_EQ(client.at("id").as_string(), "svc");
  EXPECT_EQ(client.at("name").as_string(), "Billing \"prod\"");
  EXPECT_EQ(client.at("environment").at("id").as_string(), env_->environment.id.str());
  const json::array& resources = o.at("resources").as_array();
  ASSERT_EQ(resources.size(), 1U);
  EXPECT_EQ(resources[0].at("type").as_string(), "ACCESS_TOKEN");
  EXPECT_EQ(resources[0].at("id").as_string(), token->jti);
  EXPECT_EQ(o.at("source").at("ipAddress").as_string(), "192.0.2.7");
  // Neither the token nor the secret.
  EXPECT_EQ(a.json.find(token->access_token), std::string::npos);
  EXPECT_EQ(a.json.find("s3cret"), std::string::npos);
  EXPECT_EQ(a.json.find(Base64Encode("svc:s3cret")), std::string::npos);
}

TEST_F(AuthActivitiesTest, AFailureSaysWhatTheCallerWasAnsweredAndNamesOnlyKnownClients) {
  TokenRequest wrong = Request("svc", "wrong");
  TokenRequest unknown = Request("made-up<script>", "x");
  TokenRequest scope = Request("svc", "s3cret");
  scope.Add("scope", "nope");
  auto kept = Answer(AuthActivityLevel::kAll, {wrong, unknown, scope});
  ASSERT_EQ(kept.size(), 3U);
  for (const model::Activity& a : kept) {
    EXPECT_FALSE(a.success);
    EXPECT_TRUE(a.resource_ids.empty());
    const json::object o = json::parse(a.json).as_object();
    EXPECT_EQ(o.at("result").at("status").as_string(), "FAILED");
  }
  // A wrong secret: the application it claimed to be is named; the answer was invalid_client.
  EXPECT_EQ(kept[0].client_id, "svc");
  const std::string why(json::parse(kept[0].json).at("result").at("description").as_string());
  EXPECT_TRUE(why.starts_with("invalid_client: ")) << why;
  // A name that is no application of the environment is not repeated.
  EXPECT_EQ(kept[1].client_id, "");
  EXPECT_EQ(kept[1].json.find("made-up"), std::string::npos);
  EXPECT_FALSE(json::parse(kept[1].json).at("actors").at("client").as_object().contains("id"));
  // After authentication: the client is known.
  EXPECT_EQ(kept[2].client_id, "svc");
  EXPECT_TRUE(std::string(json::parse(kept[2].json).at("result").at("description").as_string())
                  .starts_with("invalid_scope: "));
}

TEST_F(AuthActivitiesTest, TheLevelChoosesWhichAnswersAreKept) {
  const std::vector<TokenRequest> requests{Request("svc", "s3cret"), Request("svc", "wrong")};
  EXPECT_EQ(Answer(AuthActivityLevel::kAll, requests).size(), 2U);
  auto failures = Answer(AuthActivityLevel::kFailures, requests);
  ASSERT_EQ(failures.size(), 1U);
  EXPECT_FALSE(failures[0].success);
  EXPECT_TRUE(Answer(AuthActivityLevel::kNone, requests).empty());
}

TEST_F(AuthActivitiesTest, UnauthenticatedCallersHaveABudgetPerEnvironment) {
  KeptActivities store;
  audit::ActivityLog log(store, 10'000);
  AuthActivities activities(log, clock_, AuthActivityLevel::kAll);
  const TokenRequest unknown = Request("nobody", "x");
  const TokenRequest good = Request("svc", "s3cret");
  const TokenRequest wrong = Request("svc", "wrong");
  auto other = std::make_shared<config::EnvironmentSnapshot>(*env_);
  other->environment.id = EnvId("99999999-2222-4333-8444-555555555555");
  auto record = [&](const TokenRequest& r, std::string_view client_id,
                    const config::EnvironmentSnapshot* env = nullptr) {
    const OAuthError error = InvalidRequest("x");
    activities.Record({.env = env != nullptr ? *env : *env_,
                       .request = r,
                       .client_id = client_id,
                       .error = &error});
  };
  const int burst = AuthActivities::kUnauthenticatedBurst;
  for (int i = 0; i < burst + 50; ++i) record(unknown, "");
  EXPECT_EQ(activities.suppressed(), 50U);
  // Authenticated callers are not held to it, nor is another environment, nor are failures
  // naming a real application (junk under made-up names hides none of them).
  for (int i = 0; i < 20; ++i) record(good, "svc");
  for (int i = 0; i < 20; ++i) record(unknown, "", other.get());
  for (int i = 0; i < 20; ++i) record(wrong, "");
  EXPECT_EQ(activities.suppressed(), 50U);
  // The budget refills at kUnauthenticatedPerSecond, up to the burst.
  clock_.Advance(std::chrono::seconds(2));
  for (int i = 0; i < 2 * AuthActivities::kUnauthenticatedPerSecond + 5; ++i) record(unknown, "");
  EXPECT_EQ(activities.suppressed(), 55U);
  clock_.Advance(std::chrono::hours(1));
  for (int i = 0; i < burst + 1; ++i) record(unknown, "");
  EXPECT_EQ(activities.suppressed(), 56U);
  log.Flush();
  EXPECT_EQ(store.kept.size(),
            static_cast<size_t>(burst + 20 + 20 + 20 +
                                2 * AuthActivities::kUnauthenticatedPerSecond + burst));
}

TEST_F(AuthActivitiesTest, ALongErrorDescriptionIsCutOnACharacterBoundary) {
  KeptActivities store;
  audit::ActivityLog log(store, 10);
  AuthActivities activities(log, clock_, AuthActivityLevel::kAll);
  std::string scopes;
  for (int i = 0; i < 2000; ++i) scopes += "\xC3\xA9";  // "é", two bytes each
  const OAuthError error = ValidationError(OAuthErrorCode::kInvalidScope, scopes);
  const TokenRequest r = Request("svc", "s3cret");
  activities.Record({.env = *env_, .request = r, .client_id = "svc", .error = &error});
  log.Flush();
  ASSERT_EQ(store.kept.size(), 1U);
  const std::string why(json::parse(store.kept[0].json).at("result").at("description").as_string());
  EXPECT_LE(why.size(), 256U);
  EXPECT_GT(why.size(), 200U);
  EXPECT_TRUE(why.starts_with("invalid_scope: \xC3\xA9"));
  EXPECT_TRUE(IsValidUtf8(why));
}

TEST(AuthActivityLevel, Parses) {
  EXPECT_EQ(ParseAuthActivityLevel("all"), AuthActivityLevel::kAll);
  EXPECT_EQ(ParseAuthActivityLevel("failures"), AuthActivityLevel::kFailures);
  EXPECT_EQ(ParseAuthActivityLevel("none"), AuthActivityLevel::kNone);
  EXPECT_EQ(ParseAuthActivityLevel("ALL"), std::nullopt);
  EXPECT_EQ(ParseAuthActivityLevel(""), std::nullopt);
}

}  // namespace
}  // namespace tollgate::oauth
