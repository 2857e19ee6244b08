// RemoteJwks: TTL, at most one refetch per interval for unknown kids, stale keys while fetches
// fail, one fetch shared by concurrent callers, bounded entries, never a fetch on an I/O thread.
#include "oauth/client_auth/remote_jwks.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "testutil/fixtures.h"

namespace tollgate::oauth {
namespace {

using std::chrono::seconds;

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

  RemoteJwks Make(RemoteJwksPolicy policy = {}) {
    return RemoteJwks(
        [this](const std::string&) -> Result<std::string, std::string> {
          ++fetches_;
          if (gate_) gate_->wait();
          if (body_.empty()) return Fail(std::string("refused"));
          return body_;
        },
        clock_, policy);
  }

  FakeClock clock_;
  std::string set_a_, set_ab_, body_;
  std::atomic<int> fetches_{0};
  std::shared_future<void>* gate_ = nullptr;
};

TEST_F(RemoteJwksTest, NeverFetchesWithoutMayBlock) {
  RemoteJwks r = Make();
  EXPECT_EQ(r.Get("u", "a", false).outcome, RemoteJwks::Outcome::kWouldBlock);
  EXPECT_EQ(fetches_.load(), 0);
  auto got = r.Get("u", "a", true);
  ASSERT_EQ(got.outcome, RemoteJwks::Outcome::kOk) << got.debug;
  EXPECT_EQ(got.keys->keys.size(), 1u);
  EXPECT_EQ(r.Get("u", "a", false).outcome, RemoteJwks::Outcome::kOk);
  EXPECT_EQ(r.Get("u", "", false).outcome, RemoteJwks::Outcome::kOk);
  EXPECT_EQ(fetches_.load(), 1);
}

TEST_F(RemoteJwksTest, RefetchesAfterTheTtl) {
  RemoteJwks r = Make();
  ASSERT_EQ(r.Get("u", "a", true).outcome, RemoteJwks::Outcome::kOk);
  clock_.Advance(seconds(299));
  EXPECT_EQ(r.Get("u", "a", false).outcome, RemoteJwks::Outcome::kOk);
  clock_.Advance(seconds(1));
  EXPECT_EQ(r.Get("u", "a", false).outcome, RemoteJwks::Outcome::kWouldBlock);
  body_ = set_ab_;
  EXPECT_EQ(r.Get("u", "b", true).outcome, RemoteJwks::Outcome::kOk);
  EXPECT_EQ(fetches_.load(), 2);
}

TEST_F(RemoteJwksTest, UnknownKidRefetchesAtMostOncePerInterval) {
  RemoteJwks r = Make();
  ASSERT_EQ(r.Get("u", "a", true).outcome, RemoteJwks::Outcome::kOk);
  // The client rotated to "b" just after the fetch: no refetch for 10 s.
  body_ = set_ab_;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(r.Get("u", "b", true).outcome, RemoteJwks::Outcome::kFailed);
  }
  EXPECT_EQ(fetches_.load(), 1);
  EXPECT_EQ(r.Get("u", "a", false).outcome, RemoteJwks::Outcome::kOk) << "known kids still work";
  clock_.Advance(seconds(10));
  EXPECT_EQ(r.Get("u", "b", false).outcome, RemoteJwks::Outcome::kWouldBlock);
  EXPECT_EQ(r.Get("u", "b", true).outcome, RemoteJwks::Outcome::kOk);
  EXPECT_EQ(fetches_.load(), 2);
}

TEST_F(RemoteJwksTest, FailedFetchesAreRetriedPerIntervalAndStaleKeysServe) {
  RemoteJwks r = Make();
  body_.clear();
  EXPECT_EQ(r.Get("u", "a", true).outcome, RemoteJwks::Outcome::kFailed);
  EXPECT_EQ(r.Get("u", "a", true).outcome, RemoteJwks::Outcome::kFailed);
  EXPECT_EQ(fetches_.load(), 1) << "a failing server is not hammered";
  clock_.Advance(seconds(10));
  body_ = set_a_;
  ASSERT_EQ(r.Get("u", "a", true).outcome, RemoteJwks::Outcome::kOk);
  // The server goes away after the TTL: the stale set serves for up to an hour.
  body_.clear();
  clock_.Advance(seconds(300));
  EXPECT_EQ(r.Get("u", "a", true).outcome, RemoteJwks::Outcome::kOk);
  clock_.Advance(seconds(3300));
  EXPECT_EQ(r.Get("u", "a", true).outcome, RemoteJwks::Outcome::kFailed);
}

TEST_F(RemoteJwksTest, AnUnusableDocumentIsAFailure) {
  RemoteJwks r = Make();
  body_ = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}";
  auto got = r.Get("u", "", true);
  EXPECT_EQ(got.outcome, RemoteJwks::Outcome::kFailed);
  EXPECT_NE(got.debug.find("JWK Set"), std::string::npos) << got.debug;
}

TEST_F(RemoteJwksTest, ConcurrentCallersShareOneFetch) {
  RemoteJwks r = Make();
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  gate_ = &gate;
  std::vector<std::future<RemoteJwks::Outcome>> callers;
  for (int i = 0; i < 8; ++i) {
    callers.push_back(
        std::async(std::launch::async, [&] { return r.Get("u", "a", true).outcome; }));
  }
  while (fetches_.load() == 0) std::this_thread::yield();
  open.set_value();
  for (auto& c : callers) EXPECT_EQ(c.get(), RemoteJwks::Outcome::kOk);
  EXPECT_EQ(fetches_.load(), 1);
}

TEST_F(RemoteJwksTest, BoundedNumberOfUrls) {
  RemoteJwksPolicy policy;
  policy.max_urls = 3;
  RemoteJwks r = Make(policy);
  for (const char* u : {"u1", "u2", "u3"}) {
    ASSERT_EQ(r.Get(u, "a", true).outcome, RemoteJwks::Outcome::kOk);
    clock_.Advance(seconds(1));
  }
  ASSERT_EQ(r.Get("u1", "a", false).outcome, RemoteJwks::Outcome::kOk);  // u2 is now the oldest
  ASSERT_EQ(r.Get("u4", "a", true).outcome, RemoteJwks::Outcome::kOk);
  EXPECT_EQ(r.Get("u1", "a", false).outcome, RemoteJwks::Outcome::kOk);
  EXPECT_EQ(r.Get("u3", "a", false).outcome, RemoteJwks::Outcome::kOk);
  EXPECT_EQ(r.Get("u2", "a", false).outcome, RemoteJwks::Outcome::kWouldBlock) << "evicted";
}

}  // namespace
}  // namespace tollgate::oauth
