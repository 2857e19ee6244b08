// Key rotation policies: the pure plan (PlanKeyRotation) over hand-made keys and times, the
// rotator applying it to a real store with a fake clock (publish ahead, switch, retire, once
// across nodes), and /v1/environments/{envID}/keyRotationPolicies through ManagementApi::Handle.
#include "mgmt/key_rotation.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "oauth/discovery.h"
#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::MgmtHarness;
using Role = testutil::Role;
using Kind = RotationStep::Kind;
using Days = std::chrono::duration<int64_t, std::ratio<86400>>;

const TimePoint kT0 = FromUnixMillis(1'800'000'000'000);
constexpr std::chrono::seconds kLifetime = std::chrono::hours(1);

model::SigningKey Key(const char* id, TimePoint created, bool is_default) {
  model::SigningKey k;
  k.id = KeyId(id);
  k.created_at = k.starts_at = created;
  k.expires_at = created + Days(365);
  k.is_default = is_default;
  return k;
}

model::KeyRotationPolicy Policy(std::optional<KeyId> current, std::optional<KeyId> next,
                                std::optional<TimePoint> rotated_at) {
  model::KeyRotationPolicy p;
  p.rotation_period_days = 90;
  p.overlap_days = 7;
  p.state = {std::move(current), std::move(next), rotated_at};
  return p;
}

TEST(PlanKeyRotationTest, NothingBeforeTheOverlapWindow) {
  const std::vector keys = {Key("a", kT0, true)};
  const auto p = Policy(KeyId("a"), std::nullopt, kT0);
  EXPECT_EQ(NextRotationAt(p, keys, kLifetime), kT0 + Days(90));
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0).kind, Kind::kNone);
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0 + Days(83) - std::chrono::milliseconds(1)).kind,
            Kind::kNone);
}

TEST(PlanKeyRotationTest, CreatesTheNextKeyOverlapDaysAhead) {
  const std::vector keys = {Key("a", kT0, true)};
  const auto p = Policy(KeyId("a"), std::nullopt, kT0);
  const RotationStep step = PlanKeyRotation(p, keys, kLifetime, kT0 + Days(83));
  EXPECT_EQ(step.kind, Kind::kCreateNext);
  EXPECT_EQ(step.next, (model::KeyRotationState{KeyId("a"), std::nullopt, kT0}));
}

TEST(PlanKeyRotationTest, SwitchesAtTheRotationTimeOnceTheNextKeyWasPublishedForTheOverlap) {
  const std::vector keys = {Key("a", kT0, true), Key("b", kT0 + Days(83), false)};
  const auto p = Policy(KeyId("a"), KeyId("b"), kT0);
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0 + Days(89)).kind, Kind::kNone);
  const RotationStep step = PlanKeyRotation(p, keys, kLifetime, kT0 + Days(90));
  EXPECT_EQ(step.kind, Kind::kRotate);
  EXPECT_EQ(step.next, (model::KeyRotationState{KeyId("b"), std::nullopt, kT0 + Days(90)}));

  // A next key published late (the node was down) waits out its overlap before it signs.
  const std::vector late = {Key("a", kT0, true), Key("b", kT0 + Days(95), false)};
  EXPECT_EQ(PlanKeyRotation(p, late, kLifetime, kT0 + Days(101)).kind, Kind::kNone);
  EXPECT_EQ(PlanKeyRotation(p, late, kLifetime, kT0 + Days(102)).kind, Kind::kRotate);
}

TEST(PlanKeyRotationTest, AnExpiringCurrentKeyBringsTheRotationForward) {
  std::vector keys = {Key("a", kT0, true)};
  keys[0].expires_at = kT0 + Days(30);
  const auto p = Policy(KeyId("a"), std::nullopt, kT0);
  // Its last tokens must expire before it does, so it stops signing a token lifetime earlier.
  EXPECT_EQ(NextRotationAt(p, keys, kLifetime), kT0 + Days(30) - kLifetime);
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0 + Days(23) - kLifetime).kind,
            Kind::kCreateNext);
  EXPECT_EQ(NextRotationAt(p, keys, std::chrono::hours(24 * 10)), kT0 + Days(20));
}

TEST(PlanKeyRotationTest, ACurrentKeyAtItsEndDoesNotWaitForTheOverlap) {
  // The policy was enabled (or the node down) too late: the current key can no longer sign
  // tokens that expire before it does, so the fresh next key takes over at once.
  std::vector keys = {Key("a", kT0, true), Key("b", kT0 + Days(29), false)};
  keys[0].expires_at = kT0 + Days(30);
  const auto p = Policy(KeyId("a"), KeyId("b"), kT0);
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0 + Days(29)).kind, Kind::kNone)
      << "still in its time: the next key waits out its overlap";
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0 + Days(30) - kLifetime).kind, Kind::kRotate);
}

TEST(PlanKeyRotationTest, ReplacesANextKeyThatCannotSign) {
  std::vector keys = {Key("a", kT0, true), Key("b", kT0 + Days(83), false)};
  keys[1].revoked = true;
  const auto p = Policy(KeyId("a"), KeyId("b"), kT0);
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0 + Days(90)).kind, Kind::kCreateNext);
  keys[1].revoked = false;
  keys[1].expires_at = kT0 + Days(90);  // would expire before the tokens it signs
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0 + Days(90) - kLifetime).kind,
            Kind::kCreateNext);
  keys.pop_back();  // deleted
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0 + Days(90)).kind, Kind::kCreateNext);
}

TEST(PlanKeyRotationTest, AdoptsTheDefaultKeyItDoesNotKnow) {
  const std::vector keys = {Key("a", kT0, true)};
  const RotationStep step = PlanKeyRotation(Policy(std::nullopt, std::nullopt, std::nullopt), keys,
                                            kLifetime, kT0 + Days(500));
  EXPECT_EQ(step.kind, Kind::kAdopt);
  // The schedule starts when the policy takes over, not when the key was made.
  EXPECT_EQ(step.next, (model::KeyRotationState{KeyId("a"), std::nullopt, kT0 + Days(500)}));
}

TEST(PlanKeyRotationTest, ADisabledPolicyDoesNothing) {
  const std::vector keys = {Key("a", kT0, true)};
  auto p = Policy(KeyId("a"), std::nullopt, kT0);
  p.enabled = false;
  EXPECT_EQ(NextRotationAt(p, keys, kLifetime), std::nullopt);
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0 + Days(1000)).kind, Kind::kNone);
  p.state = {};
  EXPECT_EQ(PlanKeyRotation(p, keys, kLifetime, kT0 + Days(1000)).kind, Kind::kNone);
}

// ---------------------------------------------------------------------------------------------
// The rotator over a real store.

class KeyRotatorTest : public ::testing::Test {
 protected:
  KeyRotatorTest() {
    // EC keys: RSA generation would make the test slow without testing more.
    ApiReply r = h_.Call(Role::kOrganizationAdmin, "PUT", PolicyPath(),
                         json::object{{"algorithm", "EC"},
                                      {"rotationPeriod", 30},
                                      {"overlapPeriod", 2},
                                      {"validityPeriod", 60}});
    if (r.status != 200) throw std::runtime_error("cannot set up the policy: " + r.body);
  }

  std::string PolicyPath() {
    return testutil::EnvPath(h_.env_e()) + "/keyRotationPolicies/" + PolicyId();
  }
  std::string PolicyId() {
    return h_.config().Current()->FindEnvironment(h_.env_e())->data->key_rotation_policy->id.str();
  }
  const model::KeyRotationPolicy& Policy() {
    snapshot_ = h_.config().Current();
    return *snapshot_->FindEnvironment(h_.env_e())->data->key_rotation_policy;
  }
  // The environment's JWKS as served now.
  std::string Jwks() {
    snapshot_ = h_.config().Current();
    return oauth::JwksJson(*snapshot_->FindEnvironment(h_.env_e()), h_.clock().Now());
  }

  MgmtHarness h_;
  std::shared_ptr<const config::Snapshot> snapshot_;
};

TEST_F(KeyRotatorTest, PublishesAheadSwitchesAndRetires) {
  KeyRotator rotator(h_.store(), h_.config(), h_.clock());
  const std::string first = h_.DefaultKey(h_.env_e());
  const TimePoint start = h_.clock().Now();
  ASSERT_EQ(Policy().state.current_key_id, KeyId(first));
  ASSERT_EQ(Policy().state.rotated_at, start);
  EXPECT_EQ(rotator.RunOnce(), 0);

  h_.clock().Advance(Days(28));  // the overlap window of the 30-day rotation
  EXPECT_EQ(rotator.RunOnce(), 1);
  ASSERT_TRUE(Policy().state.next_key_id.has_value());
  const KeyId next = *Policy().state.next_key_id;
  EXPECT_EQ(h_.DefaultKey(h_.env_e()), first) << "published, not yet signing";
  EXPECT_NE(Jwks().find(next.str()), std::string::npos) << "the next key is in the JWKS";
  EXPECT_EQ(rotator.RunOnce(), 0) << "one next key only";

  h_.clock().Advance(Days(2));
  EXPECT_EQ(rotator.RunOnce(), 1);
  EXPECT_EQ(h_.DefaultKey(h_.env_e()), next.str());
  EXPECT_EQ(Policy().state, (model::KeyRotationState{next, std::nullopt, h_.clock().Now()}));
  EXPECT_NE(Jwks().find(first), std::string::npos) << "the old key verifies its tokens still";
  EXPECT_EQ(rotator.RunOnce(), 0);

  // Retired: gone from the JWKS once its longest-lived token has expired (1 hour here).
  h_.clock().Advance(std::chrono::minutes(59));
  EXPECT_NE(Jwks().find(first), std::string::npos);
  h_.clock().Advance(std::chrono::minutes(1));
  EXPECT_EQ(Jwks().find(first), std::string::npos);
  EXPECT_NE(Jwks().find(next.str()), std::string::npos);
}

TEST_F(KeyRotatorTest, AppliesEachStepOnceAcrossNodes) {
  // Nodes B and C read the same store into their own snapshots, each before node A acts: they
  // plan the step A applies, from a state that no longer holds.
  config::ConfigHolder node_b(h_.store(), h_.config().urls());
  ASSERT_TRUE(node_b.LoadAll().ok());
  KeyRotator a(h_.store(), h_.config(), h_.clock());
  KeyRotator b(h_.store(), node_b, h_.clock());
  auto stored_keys = [&] {
    auto data = h_.store().LoadEnvironment(EnvId(h_.env_e()));
    if (!data) throw std::runtime_error("cannot load");
    return data->signing_keys;
  };

  h_.clock().Advance(Days(28));
  EXPECT_EQ(a.RunOnce(), 1);
  EXPECT_EQ(b.RunOnce(), 0) << "B's compare-and-set fails";
  EXPECT_EQ(stored_keys().size(), 2u) << "one next key, not one per node";
  EXPECT_EQ(node_b.Current()->FindEnvironment(h_.env_e())->data->key_rotation_policy->state,
            Policy().state)
      << "B refreshed its snapshot";

  config::ConfigHolder node_c(h_.store(), h_.config().urls());
  ASSERT_TRUE(node_c.LoadAll().ok());
  KeyRotator c(h_.store(), node_c, h_.clock());
  h_.clock().Advance(Days(2));
  EXPECT_EQ(a.RunOnce(), 1);
  EXPECT_EQ(c.RunOnce(), 0);
  const auto keys = stored_keys();
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(std::count_if(keys.begin(), keys.end(),
                          [](const model::SigningKey& k) { return k.is_default; }),
            1);
}

TEST_F(KeyRotatorTest, EnsurePoliciesGivesOlderEnvironmentsADisabledPolicy) {
  // An environment stored before policies existed: written without one.
  model::Environment old;
  old.id = EnvId("1f1f1f1f-2222-4333-8444-555555555555");
  old.organization_id = OrgId(h_.org_id());
  old.name = "Older";
  old.created_at = old.updated_at = h_.clock().Now();
  ASSERT_TRUE(h_.store().Write([&](storage::Transaction& tx) { return tx.Insert(old); }).ok());
  ASSERT_TRUE(h_.config().RefreshEnvironment(old.id).ok());
  ASSERT_FALSE(
      h_.config().Current()->FindEnvironment(old.id.str())->data->key_rotation_policy.has_value());

  KeyRotator rotator(h_.store(), h_.config(), h_.clock());
  EXPECT_EQ(rotator.EnsurePolicies(), 1);
  const auto snapshot = h_.config().Current();
  const auto& policy = snapshot->FindEnvironment(old.id.str())->data->key_rotation_policy;
  ASSERT_TRUE(policy.has_value());
  EXPECT_FALSE(policy->enabled) << "upgrading never starts rotating keys by itself";
  EXPECT_EQ(policy->rotation_period_days, 90);
  EXPECT_EQ(policy->state, model::KeyRotationState{});
  EXPECT_TRUE(snapshot->FindEnvironment(h_.env_e())->data->key_rotation_policy->enabled)
      << "the others keep theirs";
  EXPECT_EQ(rotator.EnsurePolicies(), 0) << "again: nothing to do";
  h_.clock().Advance(Days(1000));
  EXPECT_EQ(rotator.RunOnce(), 2) << "E and F publish their next keys";
  EXPECT_TRUE(h_.config().Current()->FindEnvironment(old.id.str())->data->signing_keys.empty())
      << "the older environment gets none";
}

// ---------------------------------------------------------------------------------------------
// The API.

class KeyRotationPolicyApiTest : public ::testing::Test {
 protected:
  std::string List() { return testutil::EnvPath(h_.env_e()) + "/keyRotationPolicies"; }
  std::string Item() {
    return List() + "/" +
           h_.config().Current()->FindEnvironment(h_.env_e())->data->key_rotation_policy->id.str();
  }
  ApiReply Put(const json::object& body, Role as = Role::kOrganizationAdmin) {
    return h_.Call(as, "PUT", Item(), body);
  }

  MgmtHarness h_;
};

TEST_F(KeyRotationPolicyApiTest, NewEnvironmentsHavePingOnesDefaults) {
  ApiReply list = h_.Call(Role::kReadOnly, "GET", List());
  ASSERT_EQ(list.status, 200) << list.body;
  const auto& items = list.Object().at("_embedded").at("keyRotationPolicies").as_array();
  ASSERT_EQ(items.size(), 1u);
  ApiReply item = h_.Call(Role::kReadOnly, "GET", Item());
  ASSERT_EQ(item.status, 200);
  EXPECT_EQ(items[0], item.json);
  const json::object& p = item.Object();
  EXPECT_EQ(p.at("algorithm"), "RSA");
  EXPECT_EQ(p.at("keyLength"), 2048);
  EXPECT_EQ(p.at("signatureAlgorithm"), "SHA256withRSA");
  EXPECT_EQ(p.at("usageType"), "SIGNING");
  EXPECT_EQ(p.at("validityPeriod"), 365);
  EXPECT_EQ(p.at("rotationPeriod"), 90);
  EXPECT_EQ(p.at("overlapPeriod"), 7);
  EXPECT_EQ(p.at("enabled"), true);
  EXPECT_EQ(p.at("dn"), "CN=Administrators");
  EXPECT_EQ(p.at("currentKeyId"), json::value(h_.DefaultKey(h_.env_e())));
  EXPECT_FALSE(p.contains("nextKeyId"));
  const std::string created = FormatRfc3339(FromUnixMillis(MgmtHarness::kStartMillis));
  EXPECT_EQ(p.at("rotatedAt"), json::value(created));
  EXPECT_EQ(p.at("nextRotationAt"),
            json::value(FormatRfc3339(FromUnixMillis(MgmtHarness::kStartMillis) + Days(90))));
}

TEST_F(KeyRotationPolicyApiTest, PutChangesTheGivenFieldsOnly) {
  ApiReply r = Put({{"algorithm", "EC"},
                    {"rotationPeriod", 30},
                    {"overlapPeriod", 3},
                    {"name", "Short"},
                    {"currentKeyId", "ignored"},
                    {"id", "ignored"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Object().at("algorithm"), "EC");
  EXPECT_EQ(r.Object().at("keyLength"), 256);
  EXPECT_EQ(r.Object().at("signatureAlgorithm"), "SHA256withECDSA");
  EXPECT_EQ(r.Object().at("rotationPeriod"), 30);
  EXPECT_EQ(r.Object().at("overlapPeriod"), 3);
  EXPECT_EQ(r.Object().at("validityPeriod"), 365);
  EXPECT_EQ(r.Object().at("name"), "Short");
  EXPECT_EQ(r.Object().at("currentKeyId"), json::value(h_.DefaultKey(h_.env_e())));
  EXPECT_EQ(h_.Call(Role::kReadOnly, "GET", Item()).json, r.json);
  ApiReply off = Put({{"enabled", false}});
  ASSERT_EQ(off.status, 200);
  EXPECT_FALSE(off.Object().contains("nextRotationAt"));
}

TEST_F(KeyRotationPolicyApiTest, RefusesBadValuesWithTheirTarget) {
  const std::vector<std::pair<json::object, const char*>> cases = {
      {{{"rotationPeriod", 0}}, "rotationPeriod"},
      {{{"rotationPeriod", 3651}}, "rotationPeriod"},
      {{{"rotationPeriod", "x"}}, "rotationPeriod"},
      {{{"overlapPeriod", 0}}, "overlapPeriod"},
      {{{"overlapPeriod", 91}}, "overlapPeriod"},
      {{{"validityPeriod", 97}}, "validityPeriod"},
      {{{"rotationPeriod", 400}}, "validityPeriod"},
      {{{"algorithm", "DSA"}}, "algorithm"},
      {{{"keyLength", 1024}}, "keyLength"},
      {{{"usageType", "ENCRYPTION"}}, "usageType"},
      {{{"signatureAlgorithm", "SHA256withECDSA"}}, "signatureAlgorithm"},
      {{{"dn", "garbage"}}, "dn"},
      {{{"name", ""}}, "name"},
      {{{"enabled", "yes"}}, "enabled"},
  };
  const std::string before = h_.Call(Role::kReadOnly, "GET", Item()).body;
  for (const auto& [body, target] : cases) {
    ApiReply r = Put(body);
    EXPECT_EQ(r.status, 400) << json::serialize(body);
    ASSERT_TRUE(r.json.is_object()) << r.body;
    const auto& details = r.Object().at("details").as_array();
    ASSERT_EQ(details.size(), 1u) << json::serialize(body) << " -> " << r.body;
    EXPECT_EQ(details[0].at("target"), json::value(target))
        << json::serialize(body) << " -> " << r.body;
  }
  EXPECT_EQ(h_.Call(Role::kOrganizationAdmin, "PUT", Item(), std::string_view("not json")).status,
            400);
  EXPECT_EQ(h_.Call(Role::kReadOnly, "GET", Item()).body, before) << "nothing refused was kept";
  EXPECT_EQ(Put({{"validityPeriod", 98}}).status, 200) << "90 + 7 < 98";
}

TEST_F(KeyRotationPolicyApiTest, WhoMayCallAndWhatIsNotThere) {
  EXPECT_TRUE(testutil::IsForbidden(Put({{"rotationPeriod", 30}}, Role::kReadOnly)));
  EXPECT_TRUE(testutil::IsForbidden(Put({{"rotationPeriod", 30}}, Role::kAppDeveloper)));
  EXPECT_EQ(Put({{"rotationPeriod", 30}}, Role::kEnvironmentAdmin).status, 200);
  EXPECT_EQ(h_.Call(Role::kOrganizationAdmin, "POST", List(), json::object{}).status, 405);
  EXPECT_EQ(h_.Call(Role::kOrganizationAdmin, "DELETE", Item()).status, 405);
  EXPECT_TRUE(testutil::IsNotFound(
      h_.Call(Role::kOrganizationAdmin, "GET", List() + "/0a0a0a0a-1111-4222-8333-000000000000")));
  EXPECT_TRUE(testutil::IsNotFound(h_.Call(Role::kOrganizationAdmin, "GET", List() + "/nope")));
}

TEST_F(KeyRotationPolicyApiTest, AManualDefaultRestartsTheSchedule) {
  ApiReply key = h_.Call(Role::kOrganizationAdmin, "POST", testutil::KeysPath(h_.env_e()),
                         json::object{{"algorithm", "EC"}});
  ASSERT_EQ(key.status, 201);
  h_.clock().Advance(Days(10));
  ASSERT_EQ(
      h_.Call(Role::kOrganizationAdmin, "PUT", testutil::KeysPath(h_.env_e()) + "/" + key.Str("id"),
              json::object{{"default", true}})
          .status,
      200);
  ApiReply p = h_.Call(Role::kReadOnly, "GET", Item());
  EXPECT_EQ(p.Object().at("currentKeyId"), json::value(key.Str("id")));
  EXPECT_EQ(p.Object().at("rotatedAt"), json::value(FormatRfc3339(h_.clock().Now())));
}

}  // namespace
}  // namespace tollgate::mgmt
