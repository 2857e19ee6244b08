// TokenMetrics: the per-client bound, and counts from several threads.
#include "oauth/token_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tollgate::oauth {
namespace {

TEST(TokenMetricsTest, ClientsBeyondTheBoundGoToOverflow) {
  TokenMetrics m;
  const EnvId env("env");
  for (size_t i = 0; i < TokenMetrics::kMaxClients; ++i) {
    m.Issued(env, AppId("app-" + std::to_string(i)));
  }
  m.Issued(env, AppId("app-0"));     // counted: already known
  m.Issued(env, AppId("one-more"));  // beyond the bound
  m.Issued(env, AppId("one-more"));
  EXPECT_EQ(m.issued(), TokenMetrics::kMaxClients + 3);
  EXPECT_EQ(m.overflow(), 2U);
  const auto clients = m.Clients();
  EXPECT_EQ(clients.size(), TokenMetrics::kMaxClients);
  uint64_t total = 0;
  for (const auto& c : clients) total += c.tokens;
  EXPECT_EQ(total, TokenMetrics::kMaxClients + 1);
}

TEST(TokenMetricsTest, ConcurrentIssuesAreAllCounted) {
  TokenMetrics m;
  const EnvId env("env");
  constexpr int kThreads = 4;
  constexpr int kEach = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, &env] {
      for (int i = 0; i < kEach; ++i) m.Issued(env, AppId("app-" + std::to_string(i % 10)));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.issued(), uint64_t{kThreads} * kEach);
  const auto clients = m.Clients();
  ASSERT_EQ(clients.size(), 10U);
  for (const auto& c : clients)
    EXPECT_EQ(c.tokens, uint64_t{kThreads} * kEach / 10) << c.client.str();
}

TEST(TokenMetricsTest, ThrottledErrorsAreCountedTwice) {
  TokenMetrics m;
  OAuthError e = ClientAuthError(OAuthErrorCode::kTemporarilyUnavailable, "busy");
  m.Failed(e);
  e.retry_after_seconds = 3;
  m.Failed(e);
  EXPECT_EQ(m.throttled(), 1U);
  const auto errors = m.Errors();
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_EQ(errors[0].stage, ErrorStage::kClientAuthentication);
  EXPECT_EQ(errors[0].code, OAuthErrorCode::kTemporarilyUnavailable);
  EXPECT_EQ(errors[0].count, 2U);
}

}  // namespace
}  // namespace tollgate::oauth
