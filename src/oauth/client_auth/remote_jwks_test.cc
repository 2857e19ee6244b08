// RemoteJwks: TTL, at most one refetch per interval for unknown kids, stale keys while fetches
// fail, one fetch shared by concurrent callers, fetches only through the launcher (never on the
// caller's thread), callers woken when the fetch ends, bounded entries and waiters.
#include "oauth/client_auth/remote_jwks.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

using std::chrono::seconds;
using O = RemoteJwks::Outcome;

class RemoteJwksTest : public ::testing::Test {
 protected:
  RemoteJwksTest() : clock_(FromUnixMillis(1'800'000'000'000)) {
    auto a = crypto::PrivateKey::Generate(crypto::KeyKind::kEd25519);
    auto b = crypto::PrivateKey::Generate(crypto::KeyKind::kEd25519);
    EXPECT_TRUE(a.ok() && b.ok());
    set_a_ = testutil::JwkSetJson({a->get()}, {"a"});
    set_ab_ = testutil::JwkSetJson({a->get(), b->get()}, {"a", "b"});
    body_ = set_a_;
  }

  // With `queued_` false the launcher runs each fetch at once, so Get() answers synchronously;
  // with it true the fetches wait in jobs_ until RunJobs().
  RemoteJwks Make(RemoteJwksPolicy policy = {}) {
    return RemoteJwks(
        [this](const std::string&) -> Result<std::string, std::string> {
          ++fetches_;
          if (body_.empty()) return Fail(std::string("refused"));
          return body_;
        },
        [this](std::function<void()> job) {
          if (queued_) {
            jobs_.push_back(std::move(job));
          } else {
            job();
          }
        },
        clock_, policy);
  }

  void RunJobs() {
    auto jobs = std::move(jobs_);
    jobs_.clear();
    for (auto& job : jobs) job();
  }

  FakeClock clock_;
  std::string set_a_, set_ab_, body_;
  std::atomic<int> fetches_{0};
  bool queued_ = false;
  std::vector<std::function<void()>> jobs_;
};

TEST_F(RemoteJwksTest, FetchesOnlyThroughTheLauncherAndWakesTheCaller) {
  queued_ = true;
  RemoteJwks r = Make();
  auto first = r.Get("u", "a");
  ASSERT_EQ(first.outcome, O::kPending);
  ASSERT_TRUE(first.pending.has_value());
  EXPECT_EQ(fetches_.load(), 0) << "never on the caller's thread";
  ASSERT_EQ(jobs_.size(), 1u);
  int woken = 0;
  first.pending->Then([&woken] { ++woken; });
  EXPECT_EQ(woken, 0);
  EXPECT_EQ(r.stats().waiting, 1u);
  RunJobs();
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(fetches_.load(), 1);
  auto got = r.Get("u", "a");
  ASSERT_EQ(got.outcome, O::kOk) << got.debug;
  EXPECT_EQ(got.keys->keys.size(), 1u);
  EXPECT_EQ(r.Get("u", "").outcome, O::kOk);
  // A callback given after the end runs at once.
  first.pending->Then([&woken] { ++woken; });
  EXPECT_EQ(woken, 2);
  first.pending.reset();
  EXPECT_EQ(r.stats().waiting, 0u) << "the slot is released with the last holder";
  EXPECT_EQ(r.stats().fetches, 1u);
  EXPECT_TRUE(jobs_.empty());
}

TEST_F(RemoteJwksTest, ConcurrentCallersShareOneFetch) {
  queued_ = true;
  RemoteJwks r = Make();
  std::vector<RemoteJwks::Answer> waiting;
  int woken = 0;
  for (int i = 0; i < 8; ++i) {
    waiting.push_back(r.Get("u", "a"));
    ASSERT_EQ(waiting.back().outcome, O::kPending);
    waiting.back().pending->Then([&woken] { ++woken; });
  }
  EXPECT_EQ(jobs_.size(), 1u);
  EXPECT_EQ(r.stats().waiting, 8u);
  RunJobs();
  EXPECT_EQ(woken, 8);
  EXPECT_EQ(fetches_.load(), 1);
  waiting.clear();
  EXPECT_EQ(r.stats().waiting, 0u);
  EXPECT_EQ(r.Get("u", "a").outcome, O::kOk);
}

TEST_F(RemoteJwksTest, WaitersAreBounded) {
  queued_ = true;
  RemoteJwksPolicy policy;
  policy.max_waiters_per_url = 2;
  policy.max_waiters = 3;
  RemoteJwks r = Make(policy);
  auto w1 = r.Get("u", "a");
  auto w2 = r.Get("u", "a");
  ASSERT_EQ(w1.outcome, O::kPending);
  ASSERT_EQ(w2.outcome, O::kPending);
  auto refused = r.Get("u", "a");
  EXPECT_EQ(refused.outcome, O::kBusy) << "two already wait for this URL";
  EXPECT_FALSE(refused.pending.has_value());
  auto w3 = r.Get("v", "a");
  ASSERT_EQ(w3.outcome, O::kPending);
  EXPECT_EQ(r.Get("w", "a").outcome, O::kBusy) << "three wait in all";
  EXPECT_EQ(r.stats().waits_refused, 2u);
  EXPECT_EQ(r.stats().waiting, 3u);
  // A caller that gives up (its connection closed) frees its slot.
  w2.pending.reset();
  EXPECT_EQ(r.stats().waiting, 2u);
  EXPECT_EQ(r.Get("u", "a").outcome, O::kPending);
  RunJobs();
}

TEST_F(RemoteJwksTest, RefetchesAfterTheTtl) {
  RemoteJwks r = Make();
  ASSERT_EQ(r.Get("u", "a").outcome, O::kOk);
  clock_.Advance(seconds(299));
  EXPECT_EQ(r.Get("u", "a").outcome, O::kOk);
  EXPECT_EQ(fetches_.load(), 1);
  clock_.Advance(seconds(1));
  body_ = set_ab_;
  EXPECT_EQ(r.Get("u", "b").outcome, O::kOk);
  EXPECT_EQ(fetches_.load(), 2);
}

TEST_F(RemoteJwksTest, UnknownKidRefetchesAtMostOncePerInterval) {
  RemoteJwks r = Make();
  ASSERT_EQ(r.Get("u", "a").outcome, O::kOk);
  // The client rotated to "b" just after the fetch: no refetch for 10 s.
  body_ = set_ab_;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.Get("u", "b").outcome, O::kFailed);
  EXPECT_EQ(fetches_.load(), 1);
  EXPECT_EQ(r.Get("u", "a").outcome, O::kOk) << "known kids still work";
  clock_.Advance(seconds(10));
  EXPECT_EQ(r.Get("u", "b").outcome, O::kOk);
  EXPECT_EQ(fetches_.load(), 2);
}

TEST_F(RemoteJwksTest, FailedFetchesAreRetriedPerIntervalAndStaleKeysServe) {
  RemoteJwks r = Make();
  body_.clear();
  EXPECT_EQ(r.Get("u", "a").outcome, O::kFailed);
  EXPECT_EQ(r.Get("u", "a").outcome, O::kFailed);
  EXPECT_EQ(fetches_.load(), 1) << "a failing server is not hammered";
  EXPECT_EQ(r.stats().failures, 1U);
  clock_.Advance(seconds(10));
  body_ = set_a_;
  ASSERT_EQ(r.Get("u", "a").outcome, O::kOk);
  EXPECT_EQ(r.stats().fetches, 2U);
  EXPECT_EQ(r.stats().failures, 1U);
  // The server goes away after the TTL: the stale set serves for up to an hour.
  body_.clear();
  clock_.Advance(seconds(300));
  EXPECT_EQ(r.Get("u", "a").outcome, O::kOk);
  clock_.Advance(seconds(3300));
  EXPECT_EQ(r.Get("u", "a").outcome, O::kFailed);
}

TEST_F(RemoteJwksTest, AFetchThatThrowsStillEnds) {
  queued_ = true;
  RemoteJwks r(
      [](const std::string&) -> Result<std::string, std::string> {
        throw std::runtime_error("boom");
      },
      [this](std::function<void()> job) { jobs_.push_back(std::move(job)); }, clock_);
  auto w = r.Get("u", "a");
  ASSERT_EQ(w.outcome, O::kPending);
  bool woken = false;
  w.pending->Then([&woken] { woken = true; });
  RunJobs();
  EXPECT_TRUE(woken);
  auto got = r.Get("u", "a");
  EXPECT_EQ(got.outcome, O::kFailed);
  EXPECT_NE(got.debug.find("boom"), std::string::npos) << got.debug;
  EXPECT_EQ(r.stats().failures, 1U);
}

TEST_F(RemoteJwksTest, AnUnusableDocumentIsAFailure) {
  RemoteJwks r = Make();
  body_ = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}";
  auto got = r.Get("u", "");
  EXPECT_EQ(got.outcome, O::kFailed);
  EXPECT_NE(got.debug.find("JWK Set"), std::string::npos) << got.debug;
}

TEST_F(RemoteJwksTest, BoundedNumberOfUrls) {
  RemoteJwksPolicy policy;
  policy.max_urls = 3;
  RemoteJwks r = Make(policy);
  for (const char* u : {"u1", "u2", "u3"}) {
    ASSERT_EQ(r.Get(u, "a").outcome, O::kOk);
    clock_.Advance(seconds(1));
  }
  ASSERT_EQ(r.Get("u1", "a").outcome, O::kOk);  // u2 is now the oldest
  ASSERT_EQ(r.Get("u4", "a").outcome, O::kOk);
  EXPECT_EQ(fetches_.load(), 4);
  EXPECT_EQ(r.Get("u1", "a").outcome, O::kOk);
  EXPECT_EQ(r.Get("u3", "a").outcome, O::kOk);
  EXPECT_EQ(fetches_.load(), 4);
  EXPECT_EQ(r.Get("u2", "a").outcome, O::kOk);
  EXPECT_EQ(fetches_.load(), 5) << "u2 was evicted: fetched again";
}

// Callers on several threads and the fetch on a thread of its own, as in the server (the TSan
// stage of scripts/test.sh runs this): one fetch, and every caller that was told to wait is
// woken once.
TEST_F(RemoteJwksTest, CallersOnSeveralThreadsShareOneFetchAndAreAllWoken) {
  std::mutex jobs_mu;
  std::vector<std::thread> fetch_threads;
  RemoteJwks r(
      [this](const std::string&) -> Result<std::string, std::string> {
        ++fetches_;
        return body_;
      },
      [&](std::function<void()> job) {
        std::lock_guard lock(jobs_mu);
        fetch_threads.emplace_back(std::move(job));
      },
      clock_);
  std::atomic<int> pending{0};
  std::atomic<int> woken{0};
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto got = r.Get("u", "a");
        if (got.outcome == O::kOk) {
          ++ok;
        } else if (got.outcome == O::kPending) {
          ++pending;
          got.pending->Then([&woken] { ++woken; });
        } else {
          ADD_FAILURE() << "unexpected outcome: " << got.debug;
        }
      }
    });
  }
  for (auto& t : callers) t.join();
  {
    std::lock_guard lock(jobs_mu);
    for (auto& t : fetch_threads) t.join();
    EXPECT_EQ(fetch_threads.size(), 1u);
  }
  EXPECT_EQ(fetches_.load(), 1);
  EXPECT_EQ(pending.load() + ok.load(), 80);
  EXPECT_EQ(woken.load(), pending.load());
  EXPECT_EQ(r.Get("u", "a").outcome, O::kOk);
  EXPECT_EQ(r.stats().waiting, 0u);
}

}  // namespace
}  // namespace tollgate::oauth
