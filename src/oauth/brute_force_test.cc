// SPEC §2.2 rule 8: failures are slowed down per (client, address); success resets.
#include "oauth/brute_force.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tollgate::oauth {
namespace {

class ThrottleTest : public ::testing::Test {
 protected:
  ThrottleTest() : clock_(FromUnixMillis(1'800'000'000'000)), throttle_(clock_, Policy()) {}
  static ThrottlePolicy Policy() {
    ThrottlePolicy p;
    p.free_failures = 3;
    p.base_delay = std::chrono::seconds(2);
    p.max_delay = std::chrono::seconds(30);
    p.forget_after = std::chrono::seconds(600);
    p.max_keys_per_shard = 4;
    return p;
  }
  FakeClock clock_;
  FailureThrottle throttle_;
};

TEST_F(ThrottleTest, FreeFailuresThenExponentialCappedDelay) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle_.RetryAfter("app", "10.0.0.1"), 0);
    throttle_.RecordFailure("app", "10.0.0.1");
  }
  EXPECT_EQ(throttle_.RetryAfter("app", "10.0.0.1"), 0) << "three failures are free";
  throttle_.RecordFailure("app", "10.0.0.1");
  EXPECT_EQ(throttle_.RetryAfter("app", "10.0.0.1"), 2);
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_EQ(throttle_.RetryAfter("app", "10.0.0.1"), 0);
  throttle_.RecordFailure("app", "10.0.0.1");
  EXPECT_EQ(throttle_.RetryAfter("app", "10.0.0.1"), 4);
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(std::chrono::seconds(31));
    throttle_.RecordFailure("app", "10.0.0.1");
  }
  EXPECT_EQ(throttle_.RetryAfter("app", "10.0.0.1"), 30) << "bounded by max_delay";
}

TEST_F(ThrottleTest, OtherClientsAndAddressesAreUnaffected) {
  for (int i = 0; i < 5; ++i) throttle_.RecordFailure("app", "10.0.0.1");
  EXPECT_GT(throttle_.RetryAfter("app", "10.0.0.1"), 0);
  EXPECT_EQ(throttle_.RetryAfter("app", "10.0.0.2"), 0);
  EXPECT_EQ(throttle_.RetryAfter("other", "10.0.0.1"), 0);
}

TEST_F(ThrottleTest, SuccessResets) {
  for (int i = 0; i < 3; ++i) throttle_.RecordFailure("app", "a");
  throttle_.RecordSuccess("app", "a");
  for (int i = 0; i < 3; ++i) throttle_.RecordFailure("app", "a");
  EXPECT_EQ(throttle_.RetryAfter("app", "a"), 0);
}

TEST_F(ThrottleTest, QuietKeysAreForgotten) {
  for (int i = 0; i < 3; ++i) throttle_.RecordFailure("app", "a");
  clock_.Advance(std::chrono::seconds(601));
  throttle_.RecordFailure("app", "a");
  EXPECT_EQ(throttle_.RetryAfter("app", "a"), 0) << "the count restarted";
}

TEST_F(ThrottleTest, MemoryIsBounded) {
  // 16 shards x 4 keys: a spray of 1,000 keys keeps at most 64, and the newest are kept.
  for (int i = 0; i < 1000; ++i) {
    clock_.Advance(std::chrono::milliseconds(1));
    for (int k = 0; k < 4; ++k) throttle_.RecordFailure("app" + std::to_string(i), "a");
  }
  EXPECT_GT(throttle_.RetryAfter("app999", "a"), 0);
  EXPECT_EQ(throttle_.RetryAfter("app0", "a"), 0);
}

// Failures recorded from several threads (the TSan stage of scripts/test.sh runs this) are all
// counted: 3 free + 5 more gives 2 s * 2^4, within the cap; other keys come and go meanwhile.
TEST(Throttle, ConcurrentFailuresAreAllCounted) {
  FakeClock clock(FromUnixMillis(1'800'000'000'000));
  ThrottlePolicy p;
  p.free_failures = 3;
  p.base_delay = std::chrono::seconds(2);
  p.max_delay = std::chrono::seconds(3600);
  FailureThrottle throttle(clock, p);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&throttle, t] {
      const std::string other = "other" + std::to_string(t);
      for (int i = 0; i < 2; ++i) throttle.RecordFailure("app", "10.0.0.1");
      for (int i = 0; i < 50; ++i) {
        throttle.RecordFailure(other, "10.0.0.2");
        (void)throttle.RetryAfter("app", "10.0.0.1");
        throttle.RecordSuccess(other, "10.0.0.2");
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(throttle.RetryAfter("app", "10.0.0.1"), 32);
  EXPECT_EQ(throttle.RetryAfter("other0", "10.0.0.2"), 0);
}

}  // namespace
}  // namespace tollgate::oauth
