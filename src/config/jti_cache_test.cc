// JtiCache: the memory mirror of remembered jtis, and the first-use check of client assertions
// with its write-behind to the store.
#include "config/jti_cache.h"

#include <gtest/gtest.h>

#include "common/uuid.h"
#include "testutil/fixtures.h"

namespace tollgate::config {
namespace {

using std::chrono::seconds;

class JtiCacheTest : public ::testing::Test {
 protected:
  JtiCacheTest() : clock_(FromUnixMillis(1'800'000'000'000)) {
    store_ = testutil::OpenMemoryStore();
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
  size_t Stored() {
    return store_->LoadJtis(storage::JtiKind::kUsedAssertion, clock_.Now())->size();
  }

  FakeClock clock_;
  EnvId env_{NewUuid()};
  std::unique_ptr<storage::Store> store_;
};

TEST_F(JtiCacheTest, FirstUseThenReplayUntilExpiry) {
  JtiCache cache(*store_, storage::JtiKind::kUsedAssertion, clock_);
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
  JtiCache cache(*store_, storage::JtiKind::kUsedAssertion, clock_);
  ASSERT_EQ(cache.RememberNew(env_, "a", In(60)), JtiCache::FirstUse::kNew);
  ASSERT_EQ(cache.RememberNew(env_, "b", In(60)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.PendingCount(), 2u);
  EXPECT_EQ(Stored(), 0u);
  ASSERT_TRUE(cache.FlushPending().ok());
  EXPECT_EQ(cache.PendingCount(), 0u);
  EXPECT_EQ(Stored(), 2u);
  // A new cache (a restart) loads them: the replay is still refused.
  JtiCache restarted(*store_, storage::JtiKind::kUsedAssertion, clock_);
  ASSERT_TRUE(restarted.Load().ok());
  EXPECT_EQ(restarted.RememberNew(env_, "a", In(60)), JtiCache::FirstUse::kReplay);
  EXPECT_EQ(restarted.RememberNew(env_, "c", In(60)), JtiCache::FirstUse::kNew);
}

TEST_F(JtiCacheTest, BoundedInMemory) {
  JtiCache cache(*store_, storage::JtiKind::kUsedAssertion, clock_, 2);
  EXPECT_EQ(cache.RememberNew(env_, "a", In(10)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(env_, "b", In(100)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(env_, "c", In(100)), JtiCache::FirstUse::kFull);
  EXPECT_FALSE(cache.Contains(env_, "c")) << "a refused jti is not remembered";
  EXPECT_EQ(cache.PendingCount(), 2u);
  // Once an entry expires, the sweep makes room.
  clock_.Advance(seconds(10));
  EXPECT_EQ(cache.RememberNew(env_, "c", In(100)), JtiCache::FirstUse::kNew);
  EXPECT_EQ(cache.RememberNew(env_, "b", In(100)), JtiCache::FirstUse::kReplay);
}

}  // namespace
}  // namespace tollgate::config
