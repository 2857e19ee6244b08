// config::ConfigHolder over a real (in-memory SQLite) store: how it loads, swaps and drops
// environments.
#include "config/store/holder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include "common/uuid.h"
#include "testutil/fixtures.h"
#include "testutil/store_fixtures.h"

namespace tollgate::config {
namespace {

using testutil::EnvBuilder;
using ResourceScopes = std::vector<std::pair<std::string, std::vector<std::string>>>;

const Urls kUrls{testutil::kAuthUrl, testutil::kApiUrl};

// (resource name, scope names) per custom grant, in the snapshot's order.
ResourceScopes CustomGrants(const EnvironmentSnapshot& env, const std::string& client_id) {
  const AppEntry* app = env.FindApp(client_id);
  if (app == nullptr) {
    ADD_FAILURE() << "no app " << client_id;
    return {};
  }
  ResourceScopes out;
  for (const auto& g : app->custom_grants) out.emplace_back(g.resource->name, g.scope_names);
  return out;
}

constexpr char kOrg[] = "99999999-2222-4333-8444-555555555555";
constexpr char kEnvE[] = "11111111-2222-4333-8444-555555555555";
constexpr char kEnvF[] = "22222222-2222-4333-8444-555555555555";

// The data of an environment `id` with EnvBuilder's default key under a key id of its own.
model::EnvironmentData EnvData(const std::string& id, const std::string& name) {
  EnvBuilder b;
  model::EnvironmentData d = b.data();
  d.environment.id = EnvId(id);
  d.environment.name = name;
  for (auto& k : d.signing_keys) {
    k.id = KeyId(NewUuid());
    k.environment_id = d.environment.id;
  }
  return d;
}

storage::StoreResult<void> InsertAll(storage::Transaction& tx, const model::EnvironmentData& d) {
  if (auto r = tx.Insert(d.environment); !r) return r;
  for (const auto& v : d.resources) {
    if (auto r = tx.Insert(v); !r) return r;
  }
  for (const auto& v : d.scopes) {
    if (auto r = tx.Insert(v); !r) return r;
  }
  for (const auto& v : d.applications) {
    if (auto r = tx.Insert(v); !r) return r;
  }
  for (const auto& v : d.secrets) {
    if (auto r = tx.Put(v); !r) return r;
  }
  for (const auto& v : d.grants) {
    if (auto r = tx.Insert(v); !r) return r;
  }
  for (const auto& v : d.role_assignments) {
    if (auto r = tx.Insert(v); !r) return r;
  }
  for (const auto& v : d.signing_keys) {
    if (auto r = tx.Insert(v); !r) return r;
  }
  return {};
}

class ConfigHolderTest : public ::testing::Test {
 protected:
  ConfigHolderTest() : store_(testutil::OpenMemoryStore()), holder_(*store_, kUrls) {
    Write([&](storage::Transaction& tx) -> storage::StoreResult<void> {
      if (auto r = tx.Insert(model::Organization{OrgId(kOrg), "Org", FromUnixMillis(0)}); !r)
        return r;
      if (auto r = InsertAll(tx, EnvData(kEnvE, "E")); !r) return r;
      return InsertAll(tx, EnvData(kEnvF, "F"));
    });
  }

  void Write(const std::function<storage::StoreResult<void>(storage::Transaction&)>& body) {
    auto r = store_->Write(body);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  model::Application App(const std::string& id, const char* env) {
    model::Application app;
    app.id = AppId(id);
    app.environment_id = EnvId(env);
    app.name = "app " + id;
    app.grant_types = {model::GrantType::kClientCredentials};
    app.created_at = app.updated_at = FromUnixMillis(1'700'000'000'000);
    return app;
  }

  std::unique_ptr<storage::Store> store_;
  ConfigHolder holder_;
};

TEST_F(ConfigHolderTest, CurrentIsAnEmptySnapshotBeforeLoadAll) {
  auto snap = holder_.Current();
  ASSERT_NE(snap, nullptr);
  EXPECT_TRUE(snap->environments.empty());
  EXPECT_FALSE(snap->organization.has_value());
  EXPECT_EQ(snap->FindEnvironment(kEnvE), nullptr);
  EXPECT_EQ(holder_.urls().auth_url, testutil::kAuthUrl);
}

TEST_F(ConfigHolderTest, LoadAllBuildsEveryEnvironmentAndTheOrganization) {
  ASSERT_TRUE(holder_.LoadAll().ok());
  auto snap = holder_.Current();
  ASSERT_TRUE(snap->organization.has_value());
  EXPECT_EQ(snap->organization->id.str(), kOrg);
  ASSERT_EQ(snap->environments.size(), 2u);
  for (const char* id : {kEnvE, kEnvF}) {
    const EnvironmentSnapshot* env = snap->FindEnvironment(id);
    ASSERT_NE(env, nullptr) << id;
    EXPECT_EQ(env->issuer, std::string(testutil::kAuthUrl) + "/" + id + "/as");
    EXPECT_NE(env->default_key, nullptr) << id;
    EXPECT_EQ(snap->GetEnvironment(id).get(), env);
  }
  EXPECT_EQ(snap->FindEnvironment("33333333-2222-4333-8444-555555555555"), nullptr);
  EXPECT_EQ(snap->GetEnvironment("33333333-2222-4333-8444-555555555555"), nullptr);
}

TEST_F(ConfigHolderTest, RefreshRebuildsOneEnvironmentAndSharesTheOthers) {
  ASSERT_TRUE(holder_.LoadAll().ok());
  const auto before = holder_.Current();
  const auto e_before = before->GetEnvironment(kEnvE);
  const auto f_before = before->GetEnvironment(kEnvF);
  const std::string app_id = "44444444-2222-4333-8444-555555555555";
  Write([&](storage::Transaction& tx) -> storage::StoreResult<void> {
    if (auto r = tx.Insert(App(app_id, kEnvE)); !r) return r;
    return tx.Put(model::ApplicationSecret{AppId(app_id), EnvId(kEnvE), "new-secret", std::nullopt,
                                           std::nullopt});
  });
  EXPECT_EQ(holder_.Current(), before) << "nothing changes before the refresh";

  ASSERT_TRUE(holder_.RefreshEnvironment(EnvId(kEnvE)).ok());
  const auto after = holder_.Current();
  EXPECT_NE(after, before);
  const auto e_after = after->GetEnvironment(kEnvE);
  ASSERT_NE(e_after, nullptr);
  EXPECT_NE(e_after, e_before);
  ASSERT_NE(e_after->FindApp(app_id), nullptr);
  EXPECT_EQ(e_after->FindApp(app_id)->secret, "new-secret");
  EXPECT_EQ(after->GetEnvironment(kEnvF), f_before) << "F is shared by pointer, not rebuilt";
  EXPECT_EQ(after->organization->id.str(), kOrg);
  // A reader that still holds the old snapshot sees it unchanged.
  EXPECT_EQ(before->FindEnvironment(kEnvE)->FindApp(app_id), nullptr);
}

TEST_F(ConfigHolderTest, RefreshOfADeletedEnvironmentRemovesItAndKeepsTheOthers) {
  ASSERT_TRUE(holder_.LoadAll().ok());
  const auto e_before = holder_.Current()->GetEnvironment(kEnvE);
  Write([&](storage::Transaction& tx) { return tx.Delete(EnvId(kEnvF)); });
  ASSERT_TRUE(holder_.RefreshEnvironment(EnvId(kEnvF)).ok());
  auto snap = holder_.Current();
  EXPECT_EQ(snap->FindEnvironment(kEnvF), nullptr);
  EXPECT_EQ(snap->GetEnvironment(kEnvE), e_before);
  EXPECT_EQ(snap->environments.size(), 1u);
  // Refreshing an environment that never existed changes nothing and is not an error.
  ASSERT_TRUE(holder_.RefreshEnvironment(EnvId("33333333-2222-4333-8444-555555555555")).ok());
  EXPECT_EQ(holder_.Current()->environments.size(), 1u);
  EXPECT_EQ(holder_.Current()->GetEnvironment(kEnvE), e_before);
}

TEST_F(ConfigHolderTest, RefreshAddsAnEnvironmentCreatedAfterLoadAll) {
  ASSERT_TRUE(holder_.LoadAll().ok());
  const char* g = "33333333-2222-4333-8444-555555555555";
  Write([&](storage::Transaction& tx) { return InsertAll(tx, EnvData(g, "G")); });
  EXPECT_EQ(holder_.Current()->FindEnvironment(g), nullptr);
  ASSERT_TRUE(holder_.RefreshEnvironment(EnvId(g)).ok());
  EXPECT_NE(holder_.Current()->FindEnvironment(g), nullptr);
  EXPECT_EQ(holder_.Current()->environments.size(), 3u);
}

TEST_F(ConfigHolderTest, AFailedBuildKeepsThePreviousSnapshot) {
  ASSERT_TRUE(holder_.LoadAll().ok());
  const auto before = holder_.Current();
  model::SigningKey bad = EnvData(kEnvE, "E").signing_keys[0];
  bad.is_default = false;
  bad.private_key_pem = "not a key";
  Write([&](storage::Transaction& tx) { return tx.Insert(bad); });

  auto refreshed = holder_.RefreshEnvironment(EnvId(kEnvE));
  ASSERT_FALSE(refreshed.ok());
  EXPECT_EQ(refreshed.error().code, storage::StoreErrorCode::kInternal);
  EXPECT_EQ(holder_.Current(), before);
  auto loaded = holder_.LoadAll();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, storage::StoreErrorCode::kInternal);
  EXPECT_EQ(holder_.Current(), before);
}

TEST_F(ConfigHolderTest, StoredOrderIsCreationOrderWhateverTheInsertOrder) {
  // Resources and scopes inserted newest first; the snapshot lists them oldest first.
  model::EnvironmentData d = EnvData(kEnvE, "E");
  auto at = [](int ms) { return FromUnixMillis(1'700'000'000'000 + ms); };
  auto resource = [&](const std::string& name, int created) {
    model::Resource r;
    r.id = ResourceId(NewUuid());
    r.environment_id = d.environment.id;
    r.name = r.audience = name;
    r.created_at = r.updated_at = at(created);
    return r;
  };
  auto scope = [&](const model::Resource& r, const std::string& name, int created) {
    model::Scope s;
    s.id = ScopeId(NewUuid());
    s.resource_id = r.id;
    s.environment_id = d.environment.id;
    s.name = name;
    s.created_at = s.updated_at = at(created);
    return s;
  };
  const model::Resource late = resource("late", 20);
  const model::Resource early = resource("early", 10);
  const model::Scope z = scope(early, "z", 11);
  const model::Scope y = scope(early, "y", 12);
  const model::Scope late_scope = scope(late, "l", 21);
  const std::string app_id = "44444444-2222-4333-8444-555555555555";
  model::Grant g1{GrantId(NewUuid()), d.environment.id, AppId(app_id), late.id,
                  {late_scope.id},    at(30),           at(30)};
  model::Grant g2{GrantId(NewUuid()), d.environment.id, AppId(app_id), early.id,
                  {y.id, z.id},       at(31),           at(31)};
  Write([&](storage::Transaction& tx) -> storage::StoreResult<void> {
    for (const auto* r : {&late, &early}) {
      if (auto res = tx.Insert(*r); !res) return res;
    }
    for (const auto* s : {&late_scope, &y, &z}) {
      if (auto res = tx.Insert(*s); !res) return res;
    }
    if (auto res = tx.Insert(App(app_id, kEnvE)); !res) return res;
    if (auto res = tx.Insert(g1); !res) return res;
    return tx.Insert(g2);
  });
  ASSERT_TRUE(holder_.LoadAll().ok());
  const EnvironmentSnapshot* env = holder_.Current()->FindEnvironment(kEnvE);
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(CustomGrants(*env, app_id), (ResourceScopes{{"early", {"z", "y"}}, {"late", {"l"}}}));
}

// Readers take snapshots while two writers refresh different environments (the TSan stage of
// scripts/test.sh runs this): every snapshot a reader sees is whole, and neither writer's swap
// loses the other's environment.
TEST_F(ConfigHolderTest, ConcurrentRefreshesLoseNothingAndReadersSeeWholeSnapshots) {
  ASSERT_TRUE(holder_.LoadAll().ok());
  const std::string app_e = "44444444-2222-4333-8444-555555555555";
  const std::string app_f = "55555555-2222-4333-8444-555555555555";
  Write([&](storage::Transaction& tx) -> storage::StoreResult<void> {
    if (auto r = tx.Insert(App(app_e, kEnvE)); !r) return r;
    return tx.Insert(App(app_f, kEnvF));
  });
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        auto snap = holder_.Current();
        if (snap->FindEnvironment(kEnvE) == nullptr || snap->FindEnvironment(kEnvF) == nullptr) {
          ++torn;
        }
      }
    });
  }
  std::vector<std::thread> writers;
  for (const char* env : {kEnvE, kEnvF}) {
    writers.emplace_back([&, env] {
      for (int i = 0; i < 10; ++i) EXPECT_TRUE(holder_.RefreshEnvironment(EnvId(env)).ok());
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  auto snap = holder_.Current();
  ASSERT_NE(snap->FindEnvironment(kEnvE), nullptr);
  ASSERT_NE(snap->FindEnvironment(kEnvF), nullptr);
  EXPECT_NE(snap->FindEnvironment(kEnvE)->FindApp(app_e), nullptr);
  EXPECT_NE(snap->FindEnvironment(kEnvF)->FindApp(app_f), nullptr);
}

}  // namespace
}  // namespace tollgate::config
