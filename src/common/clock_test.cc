#include "common/clock.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

TEST(Clock, FormatsRfc3339WithMillisAndZ) {
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(1795871130123)), "2026-11-28T13:05:30.123Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
}

TEST(Clock, ParsesRfc3339) {
  TimePoint t;
  ASSERT_TRUE(ParseRfc3339("2026-11-28T13:05:30.123Z", t));
  EXPECT_EQ(ToUnixMillis(t), 1795871130123);
  ASSERT_TRUE(ParseRfc3339("2026-11-28T14:05:30+01:00", t));
  EXPECT_EQ(ToUnixMillis(t), 1795871130000);
  EXPECT_FALSE(ParseRfc3339("2026-11-28 13:05:30Z", t));
  EXPECT_FALSE(ParseRfc3339("2026-13-28T13:05:30Z", t));
  EXPECT_FALSE(ParseRfc3339("2026-11-28T13:05:30", t));
  EXPECT_FALSE(ParseRfc3339("2026-11-28T13:05:30Zjunk", t));
}

TEST(Clock, FakeClockAdvances) {
  FakeClock clock(FromUnixMillis(1000000));
  EXPECT_EQ(clock.NowSeconds(), 1000);
  clock.Advance(std::chrono::seconds(60));
  EXPECT_EQ(clock.NowSeconds(), 1060);
}

}  // namespace
}  // namespace tollgate
