#include "server/fd_limit.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace tollgate::server {
namespace {

TEST(FdLimit, DefaultMaxConnectionsIsTheSoftLimitMinusTheReserve) {
  EXPECT_EQ(FdReserve(2), 70u);
  EXPECT_EQ(FdReserve(0), 67u) << "0 threads counts as one";
  EXPECT_EQ(DefaultMaxConnections(128, 2), 58u);
  EXPECT_EQ(DefaultMaxConnections(1024, 4), 1024u - 76u);
  EXPECT_EQ(DefaultMaxConnections(524288, 16), 524288u - 112u);
  EXPECT_EQ(DefaultMaxConnections(64, 2), kMinConnections) << "floor";
  EXPECT_EQ(DefaultMaxConnections(0, 2), kMinConnections);
  EXPECT_EQ(DefaultMaxConnections(RLIM_INFINITY, 2), static_cast<size_t>(RLIM_INFINITY - 70));
}

// Runs in this test process: raising to the hard limit needs no privilege.
TEST(FdLimit, RaisesTheSoftLimitToTheHardLimit) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  rlimit lowered = before;
  lowered.rlim_cur = std::min<rlim_t>(before.rlim_max, 100);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);

  auto raised = RaiseFdLimit();
  ASSERT_TRUE(raised.ok()) << raised.error();
  EXPECT_EQ(raised->initial_soft, lowered.rlim_cur);
  EXPECT_EQ(raised->soft, before.rlim_max);
  EXPECT_EQ(raised->hard, before.rlim_max);
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, before.rlim_max);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &before), 0);
}

}  // namespace
}  // namespace tollgate::server
