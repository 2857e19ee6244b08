// The text exposition format (0.0.4): HELP/TYPE lines, label escaping, cumulative buckets.
#include "common/metrics.h"

#include <gtest/gtest.h>

namespace tollgate::metrics {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(MetricsTextTest, FamiliesAndSamplesWithEscapedLabels) {
  TextWriter w;
  w.Family("t_requests_total", "counter", "Requests,\nby \\ route");
  w.Sample("t_requests_total", {}, uint64_t{3});
  w.Sample("t_requests_total", {{"route", "/a\"b\\c\nd"}, {"code", "200"}},
           uint64_t{18446744073709551615U});
  w.Sample("t_ratio", {}, 0.5);
  EXPECT_EQ(w.text(),
            "# HELP t_requests_total Requests,\\nby \\\\ route\n"
            "# TYPE t_requests_total counter\n"
            "t_requests_total 3\n"
            "t_requests_total{route=\"/a\\\"b\\\\c\\nd\",code=\"200\"} 18446744073709551615\n"
            "t_ratio 0.5\n");
}

TEST(MetricsTextTest, HistogramBucketsAreCumulativeWithInfEqualToCount) {
  Histogram h;
  h.Observe(microseconds(100));  // exactly a bound: counted in that bucket (le is <=)
  h.Observe(microseconds(101));
  h.Observe(milliseconds(3));
  h.Observe(std::chrono::seconds(11));      // above every finite bound
  h.Observe(std::chrono::nanoseconds(-5));  // a clock step backwards counts as 0
  TextWriter w;
  h.Write(w, "t_seconds", {{"route", "r"}});
  const std::string& t = w.text();
  EXPECT_NE(t.find("t_seconds_bucket{route=\"r\",le=\"0.0001\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_bucket{route=\"r\",le=\"0.00025\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_bucket{route=\"r\",le=\"0.0025\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_bucket{route=\"r\",le=\"0.005\"} 4\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_bucket{route=\"r\",le=\"10\"} 4\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_bucket{route=\"r\",le=\"+Inf\"} 5\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_sum{route=\"r\"} 11.003201\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_count{route=\"r\"} 5\n"), std::string::npos) << t;
  EXPECT_EQ(h.count(), 5U);
}

}  // namespace
}  // namespace tollgate::metrics
