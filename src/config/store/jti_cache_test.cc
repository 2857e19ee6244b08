// JtiCache over the store (StoreJtis): the memory mirror of remembered jtis, and the first-use
// check of client assertions with its write-behind to the store.
#include "config/jti_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/uuid.h"
#include "config/store/store_jtis.h"
#include "testutil/store_fixtures.h"

namespace tollgate::config {
namespace {

using std::chrono::seconds;

class JtiCacheTest : public ::testing::Test {
 protected:
  JtiCacheTest() : clock_(FromUnixMillis(1'800'000'000'000)) {
    model::Organization org;
    org.id = OrgId(NewUuid());
    org.name = "org";
    model::Environment env;
    env.id = env_;
    env.organization_id = org.id;
    env.name = "env";
    EXPECT_TRUE(store_
                    ->Write([&](storage::Transaction& t) -> storage::StoreResult<void> {
                      if (auto r = t.Insert(org); !r.ok()) return r;
                      return t.Insert(env);
                    })
                    .ok());
  }

  TimePoint In(int s) const { return clock_.Now() + seconds(s); }
  size_t Stored() { return store_->LoadJtis(model::JtiKind::kUsedAssertion, clock_.Now())->size(); }

  FakeClock clock_;
  EnvId env_{NewUuid()};
  std::unique_ptr<storage::Store> store_ = testutil::OpenMemoryStore();
  StoreJtis jtis_{*store_};
};

TEST_F(JtiCacheTest, FirstUseThenReplayUntilExpiry) {
  JtiCache cache(jtis_, model::JtiKind::kUsedAssertion, clock_, 100);
  EXPECT_EQ(cache.RememberNew(env_, "a", In(60)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(env_, "a", In(60)), JtiCache::FirstUse::kReplay);
  EXPECT_TRUE(cache.Contains(env_, "a"));
  // Another environment's jti of the same value is another jti.
  EXPECT_EQ(cache.RememberNew(EnvId(NewUuid()), "a", In(60)), JtiCache::FirstUse::kNew);
  clock_.Advance(seconds(60));
  EXPECT_FALSE(cache.Contains(env_, "a"));
  EXPECT_EQ(cache.RememberNew(env_, "a", In(60)), JtiCache::FirstUse::kNew) << "expired";
}

TEST_F(JtiCacheTest, RememberNewNeverTouchesTheStoreUntilFlushed) {
  JtiCache cache(jtis_, model::JtiKind::kUsedAssertion, clock_, 100);
  ASSERT_EQ(cache.RememberNew(env_, "a", In(60)), JtiCache::FirstUse::kNew);
  ASSERT_EQ(cache.RememberNew(env_, "b", In(60)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.PendingCount(), 2u);
  EXPECT_EQ(Stored(), 0u);
  ASSERT_TRUE(cache.FlushPending().ok());
  EXPECT_EQ(cache.PendingCount(), 0u);
  EXPECT_EQ(Stored(), 2u);
  // A new cache (a restart) loads them: the replay is still refused.
  JtiCache restarted(jtis_, model::JtiKind::kUsedAssertion, clock_, 100);
  ASSERT_TRUE(restarted.Load().ok());
  EXPECT_EQ(restarted.RememberNew(env_, "a", In(60)), JtiCache::FirstUse::kReplay);
  EXPECT_EQ(restarted.RememberNew(env_, "c", In(60)), JtiCache::FirstUse::kNew);
}

TEST_F(JtiCacheTest, BoundedPerEnvironment) {
  JtiCache cache(jtis_, model::JtiKind::kUsedAssertion, clock_, 2);
  EXPECT_EQ(cache.RememberNew(env_, "a", In(10)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(env_, "b", In(100)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(env_, "c", In(100)), JtiCache::FirstUse::kFull);
  EXPECT_FALSE(cache.Contains(env_, "c")) << "a refused jti is not remembered";
  EXPECT_EQ(cache.RememberNew(env_, "b", In(100)), JtiCache::FirstUse::kReplay)
      << "a full environment still detects replays";
  EXPECT_EQ(cache.PendingCount(), 2u);
  // Another environment has a budget of its own: one tenant's full cache refuses no one else.
  const EnvId other(NewUuid());
  EXPECT_EQ(cache.RememberNew(other, "c", In(100)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(other, "d", In(100)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(other, "e", In(100)), JtiCache::FirstUse::kFull);
  EXPECT_EQ(cache.SizeOf(env_), 2u);
  EXPECT_EQ(cache.SizeOf(other), 2u);
  // Once an entry expires, the sweep makes room.
  clock_.Advance(seconds(10));
  EXPECT_EQ(cache.RememberNew(env_, "c", In(100)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(env_, "b", In(100)), JtiCache::FirstUse::kReplay);
  EXPECT_EQ(cache.RememberNew(other, "e", In(100)), JtiCache::FirstUse::kFull);
}

// Used assertions are remembered per (client, jti): the same jti from two clients is two jtis.
TEST_F(JtiCacheTest, UsedAssertionsAreKeyedByClient) {
  JtiCache cache(jtis_, model::JtiKind::kUsedAssertion, clock_, 100);
  const std::string x = "0b6f4d8e-8f3c-4b8e-9d0a-1c2b3a4d5e6f";
  const std::string y = "7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b";
  EXPECT_NE(UsedAssertionJti(x, "j"), UsedAssertionJti(y, "j"));
  EXPECT_EQ(cache.RememberNew(env_, UsedAssertionJti(x, "j"), In(60)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(env_, UsedAssertionJti(y, "j"), In(60)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(env_, UsedAssertionJti(x, "j"), In(60)), JtiCache::FirstUse::kReplay);
  // A jti holding a space cannot pass for another client's: client IDs have a fixed form.
  EXPECT_NE(UsedAssertionJti(x, y + " j"), UsedAssertionJti(y, "j"));
}

// Revocations (Remember, written through) share the per-environment budget rule.
TEST_F(JtiCacheTest, RememberRespectsTheBudget) {
  JtiCache cache(jtis_, model::JtiKind::kRevokedToken, clock_, 2);
  using S = JtiCache::Stored;
  EXPECT_EQ(*cache.Remember(env_, "a", In(10)), S::kNew);
  EXPECT_EQ(*cache.Remember(env_, "b", In(100)), S::kNew);
  EXPECT_EQ(*cache.Remember(env_, "a", In(10)), S::kAlready) << "known: no room needed";
  EXPECT_EQ(*cache.Remember(env_, "c", In(100)), S::kBudget);
  EXPECT_FALSE(cache.Contains(env_, "c"));
  EXPECT_EQ(store_->LoadJtis(model::JtiKind::kRevokedToken, clock_.Now())->size(), 2u)
      << "nothing written beyond the budget";
  clock_.Advance(seconds(10));
  EXPECT_EQ(*cache.Remember(env_, "c", In(100)), S::kNew);
  // Loaded entries are never refused (the store has them), but count.
  JtiCache small(jtis_, model::JtiKind::kRevokedToken, clock_, 1);
  ASSERT_TRUE(small.Load().ok());
  EXPECT_TRUE(small.Contains(env_, "b"));
  EXPECT_TRUE(small.Contains(env_, "c"));
  EXPECT_EQ(*small.Remember(env_, "d", In(100)), S::kBudget);
}

// The token path's threads check jtis while the background thread flushes them (the TSan stage
// of scripts/test.sh runs this): each jti is new exactly once, and every one reaches the store.
TEST_F(JtiCacheTest, ConcurrentFirstUsesAreNewOnceAndAllFlushed) {
  constexpr int kJtis = 100;
  JtiCache cache(jtis_, model::JtiKind::kUsedAssertion, clock_, 1000);
  std::atomic<int> fresh{0};
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    while (!done) EXPECT_TRUE(cache.FlushPending().ok());
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kJtis; ++i) {
        const std::string jti = "j" + std::to_string(i);
        if (cache.RememberNew(env_, jti, In(60)) == JtiCache::FirstUse::kNew) ++fresh;
        EXPECT_TRUE(cache.Contains(env_, jti));
        (void)cache.SizeOf(env_);
        (void)cache.PendingCount();
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  flusher.join();
  ASSERT_TRUE(cache.FlushPending().ok());
  EXPECT_EQ(fresh.load(), kJtis);
  EXPECT_EQ(cache.PendingCount(), 0u);
  EXPECT_EQ(Stored(), size_t{kJtis});
}

}  // namespace
}  // namespace tollgate::config
