#include "common/repeat_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tollgate::log {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kAccept = "accept failed: {}";
constexpr std::string_view kOther = "handler failed: {}";

class RepeatLimiterTest : public ::testing::Test {
 protected:
  // Feeds `n` lines of `site`; returns how many passed.
  int Feed(std::string_view site, int n) {
    int passed = 0;
    for (int i = 0; i < n; ++i) {
      auto v = limiter_.Admit(Level::kWarn, site);
      EXPECT_EQ(v.suppressed, 0u) << "no report inside an interval";
      passed += v.pass ? 1 : 0;
    }
    return passed;
  }

  FakeClock clock_{FromUnixMillis(1'800'000'000'000)};
  RepeatLimiter limiter_{clock_, 3, milliseconds(1000)};
};

TEST_F(RepeatLimiterTest, PassesTheBurstThenCountsAndReportsOnceWithTheNextLine) {
  EXPECT_EQ(Feed(kAccept, 1000), 3);
  clock_.Advance(milliseconds(999));
  EXPECT_EQ(Feed(kAccept, 10), 0);  // still the same interval

  clock_.Advance(milliseconds(1));
  auto v = limiter_.Admit(Level::kWarn, kAccept);
  EXPECT_TRUE(v.pass);
  EXPECT_EQ(v.suppressed, 1007u);
  EXPECT_EQ(Feed(kAccept, 2), 2);  // the new interval's burst
  EXPECT_EQ(Feed(kAccept, 5), 0);
  EXPECT_TRUE(limiter_.TakeSuppressed().size() == 1);
  EXPECT_TRUE(limiter_.TakeSuppressed().empty()) << "counts are reported once";
}

TEST_F(RepeatLimiterTest, SitesAreIndependent) {
  EXPECT_EQ(Feed(kAccept, 50), 3);
  EXPECT_EQ(Feed(kOther, 50), 3);
  // Equal text at another address is another site (keys are the literals' addresses).
  const std::string copy(kAccept);
  EXPECT_TRUE(limiter_.Admit(Level::kWarn, copy).pass);
}

TEST_F(RepeatLimiterTest, TakeSuppressedReportsWhatNoLaterLineDid) {
  EXPECT_EQ(Feed(kAccept, 10), 3);
  limiter_.Admit(Level::kError, kOther);
  auto pending = limiter_.TakeSuppressed();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].format, kAccept);
  EXPECT_EQ(pending[0].count, 7u);
  EXPECT_EQ(pending[0].level, Level::kWarn);
  clock_.Advance(milliseconds(5000));
  auto v = limiter_.Admit(Level::kWarn, kAccept);
  EXPECT_TRUE(v.pass);
  EXPECT_EQ(v.suppressed, 0u) << "already reported by TakeSuppressed";
}

TEST_F(RepeatLimiterTest, ClockGoingBackStartsANewInterval) {
  EXPECT_EQ(Feed(kAccept, 10), 3);
  clock_.Advance(milliseconds(-60'000));
  auto v = limiter_.Admit(Level::kWarn, kAccept);
  EXPECT_TRUE(v.pass);
  EXPECT_EQ(v.suppressed, 7u);
}

// Lines from several threads (the TSan stage of scripts/test.sh runs this): within one interval
// exactly `burst` pass, and every other line is counted once.
TEST_F(RepeatLimiterTest, ConcurrentLinesAreEachPassedOrCountedOnce) {
  constexpr int kThreads = 4;
  constexpr int kLines = 200;
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kLines; ++i) {
        if (limiter_.Admit(Level::kWarn, kAccept).pass) ++passed;
        if (i % 50 == 0) (void)limiter_.Admit(Level::kWarn, kOther);
      }
    });
  }
  uint64_t taken = 0;  // TakeSuppressed concurrently with the lines
  for (int i = 0; i < 20; ++i) {
    for (const auto& s : limiter_.TakeSuppressed()) {
      if (s.format == kAccept) taken += s.count;
    }
  }
  for (auto& t : threads) t.join();
  for (const auto& s : limiter_.TakeSuppressed()) {
    if (s.format == kAccept) taken += s.count;
  }
  EXPECT_EQ(passed.load(), 3);
  EXPECT_EQ(taken, uint64_t{kThreads * kLines - 3});
}

TEST(RepeatLimiter, ManySitesBeyondTheCapAreNotLimited) {
  FakeClock clock(FromUnixMillis(0));
  RepeatLimiter limiter(clock, 1, milliseconds(1000));
  std::string texts(RepeatLimiter::kMaxSites + 10, 'x');
  for (size_t i = 0; i < RepeatLimiter::kMaxSites; ++i) {
    EXPECT_TRUE(limiter.Admit(Level::kInfo, std::string_view(texts).substr(i, 1)).pass);
  }
  const auto beyond = std::string_view(texts).substr(RepeatLimiter::kMaxSites, 1);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Admit(Level::kInfo, beyond).pass);
  EXPECT_FALSE(limiter.Admit(Level::kInfo, std::string_view(texts).substr(0, 1)).pass);
}

// The facade: every line of a flood is either written or counted in exactly one report.
TEST(LogFacade, EveryLineOfAFloodIsWrittenOrCounted) {
  constexpr int kLines = 1000;
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < kLines; ++i) Warn("flood line {}", i);
  FlushRepeats();
  const std::string out = ::testing::internal::GetCapturedStderr();
  int written = 0;
  uint64_t reported = 0;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    std::string_view line(out.data() + start, end - start);
    start = end + 1;
    ASSERT_NE(line.find(" WARN "), std::string_view::npos) << line;
    if (line.find(" WARN flood line ") != std::string_view::npos) {
      ++written;
      continue;
    }
    constexpr std::string_view kPrefix = " WARN \"flood line {}\" repeated ";
    size_t at = line.find(kPrefix);
    ASSERT_NE(at, std::string_view::npos) << line;
    ASSERT_TRUE(line.ends_with(" more times (not shown)")) << line;
    reported += std::stoull(std::string(line.substr(at + kPrefix.size())));
  }
  EXPECT_EQ(written + static_cast<int>(reported), kLines);
  // A burst per second: a thousand calls in a loop cannot all be written.
  EXPECT_LT(written, kLines);
}

// A caller-controlled value keeps at most 64 bytes in a log line, and says how long it was.
TEST(LogFacade, ClipKeepsAtMost64Bytes) {
  EXPECT_EQ(Clip(""), "");
  EXPECT_EQ(Clip(std::string(64, 'a')), std::string(64, 'a'));
  EXPECT_EQ(Clip(std::string(65, 'a')), std::string(64, 'a') + "...(65 bytes)");
  EXPECT_EQ(Clip(std::string(5000, 'q')), std::string(64, 'q') + "...(5000 bytes)");
}

}  // namespace
}  // namespace tollgate::log
