// ChangeFeed against a scripted ChangeSource: which notifications refresh the snapshot, the
// periodic check, reachability across an outage, the resync after it, and mirrored jtis.

#include "config/store/change_feed.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "config/store/store_jtis.h"
#include "testutil/fixtures.h"

namespace tollgate::config {
namespace {

using std::chrono::milliseconds;
using storage::ChangeBatch;
using storage::StoreError;
using storage::StoreErrorCode;
using storage::StoreResult;

StoreError Unavailable() { return StoreError{StoreErrorCode::kUnavailable, "down", ""}; }

// Shared state of the fake database: environments, versions, jtis, and whether it is down.
struct FakeDb {
  std::mutex mu;
  std::map<std::string, model::EnvironmentData> envs;
  std::vector<storage::EnvironmentVersion> versions;
  std::vector<model::RememberedJti> jtis;
  bool down = false;
  // What Wait returns next (FIFO); an empty queue waits for the timeout.
  std::deque<StoreResult<ChangeBatch>> script;
  std::condition_variable cv;
  int waits = 0;
};

class FakeSource final : public storage::ChangeSource {
 public:
  explicit FakeSource(FakeDb& db) : db_(db) {}
  StoreResult<ChangeBatch> Wait(milliseconds timeout) override {
    std::unique_lock lock(db_.mu);
    ++db_.waits;
    db_.cv.notify_all();
    db_.cv.wait_for(lock, timeout, [&] { return !db_.script.empty() || interrupted_; });
    interrupted_ = false;
    if (db_.script.empty()) return ChangeBatch{};
    auto next = std::move(db_.script.front());
    db_.script.pop_front();
    return next;
  }
  void Interrupt() override {
    std::lock_guard lock(db_.mu);
    interrupted_ = true;
    db_.cv.notify_all();
  }
  StoreResult<std::vector<storage::EnvironmentVersion>> Versions() override {
    std::lock_guard lock(db_.mu);
    if (db_.down) return Fail(Unavailable());
    return db_.versions;
  }
  StoreResult<std::vector<storage::SharedJti>> JtisAfter(model::JtiKind, int64_t,
                                                         TimePoint) override {
    std::lock_guard lock(db_.mu);
    if (db_.down) return Fail(Unavailable());
    return std::vector<storage::SharedJti>{};
  }
  StoreResult<int64_t> LastJtiSeq(model::JtiKind) override {
    std::lock_guard lock(db_.mu);
    if (db_.down) return Fail(Unavailable());
    return int64_t{0};
  }

 private:
  FakeDb& db_;
  bool interrupted_ = false;
};

class FakeStore final : public storage::Store {
 public:
  explicit FakeStore(FakeDb& db) : db_(db) {}
  StoreResult<std::unique_ptr<storage::ChangeSource>> OpenChangeSource() override {
    return std::unique_ptr<storage::ChangeSource>(std::make_unique<FakeSource>(db_));
  }
  StoreResult<bool> RememberJti(const model::RememberedJti&, TimePoint) override {
    return Fail(StoreError{});
  }
  StoreResult<std::vector<model::RememberedJti>> LoadJtis(model::JtiKind, TimePoint) override {
    std::lock_guard lock(db_.mu);
    if (db_.down) return Fail(Unavailable());
    return db_.jtis;
  }
  StoreResult<std::vector<storage::EnvironmentVersion>> LoadVersions() override {
    std::lock_guard lock(db_.mu);
    if (db_.down) return Fail(Unavailable());
    return db_.versions;
  }
  StoreResult<void> PurgeExpiredJtis(TimePoint) override { return {}; }
  // Not used by the change feed.
  StoreResult<void> AppendActivities(const std::vector<model::Activity>&) override {
    return Fail(StoreError{});
  }
  StoreResult<std::vector<model::Activity>> LoadActivities(const model::ActivityQuery&) override {
    return Fail(StoreError{});
  }
  StoreResult<int64_t> PurgeActivities(TimePoint) override { return Fail(StoreError{}); }
  StoreResult<void> Write(const std::function<StoreResult<void>(storage::Transaction&)>&) override {
    return Fail(StoreError{});
  }
  StoreResult<storage::Deployment> LoadAll() override {
    std::lock_guard lock(db_.mu);
    if (db_.down) return Fail(Unavailable());
    storage::Deployment d;
    for (const auto& [id, data] : db_.envs) d.environments.push_back(data);
    return d;
  }
  StoreResult<model::EnvironmentData> LoadEnvironment(const EnvId& id) override {
    std::lock_guard lock(db_.mu);
    if (db_.down) return Fail(Unavailable());
    auto it = db_.envs.find(id.str());
    if (it == db_.envs.end()) return Fail(StoreError{StoreErrorCode::kNotFound, "", "id"});
    return it->second;
  }

 private:
  FakeDb& db_;
};

// Polls `check` for up to 5 s (the feed runs on its own thread).
template <class F>
bool Eventually(F&& check) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < end) {
    if (check()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return check();
}

class ChangeFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testutil::EnvBuilder builder;
    builder.App("app-1");
    data_ = builder.data();
    env_ = data_.environment.id;
    db_.envs[env_.str()] = data_;
    db_.versions = {{env_, 1}};
  }

  // Opens the feed and loads the snapshot, as serve does.
  void StartFeed(milliseconds poll = milliseconds(60'000)) {
    feed_ = std::make_unique<ChangeFeed>(store_, config_, std::vector<JtiCache*>{&revoked_},
                                         ChangeFeedOptions{poll, milliseconds(5)});
    auto opened = feed_->Open();
    ASSERT_TRUE(opened.ok());
    ASSERT_TRUE(*opened);
    ASSERT_TRUE(config_.LoadAll().ok());
    feed_->Start();
  }

  // Adds an application to the stored environment (behind the feed's back).
  void AddStoredApp(const std::string& id) {
    std::lock_guard lock(db_.mu);
    model::Application app = data_.applications.front();
    app.id = AppId(id);
    app.name = id;
    db_.envs[env_.str()].applications.push_back(app);
  }

  void Push(StoreResult<ChangeBatch> batch) {
    std::lock_guard lock(db_.mu);
    db_.script.push_back(std::move(batch));
    db_.cv.notify_all();
  }

  // Waits until the feed has consumed everything pushed and is waiting again.
  void Drain() {
    std::unique_lock lock(db_.mu);
    const int seen = db_.waits;
    ASSERT_TRUE(db_.cv.wait_for(lock, std::chrono::seconds(5),
                                [&] { return db_.script.empty() && db_.waits > seen; }));
  }

  bool HasApp(const std::string& id) {
    // Held while its environment is read: the feed's thread may swap in another meanwhile.
    const auto snapshot = config_.Current();
    const EnvironmentSnapshot* env = snapshot->FindEnvironment(env_.str());
    return env != nullptr && env->FindApp(id) != nullptr;
  }

  FakeDb db_;
  FakeStore store_{db_};
  ConfigHolder config_{store_, Urls{testutil::kAuthUrl, testutil::kApiUrl}};
  SystemClock clock_;
  StoreJtis jtis_{store_};
  JtiCache revoked_{jtis_, model::JtiKind::kRevokedToken, clock_, 1000};
  model::EnvironmentData data_;
  EnvId env_;
  std::unique_ptr<ChangeFeed> feed_;
};

TEST_F(ChangeFeedTest, ANewerVersionRefreshesTheEnvironmentAnAppliedOneDoesNot) {
  StartFeed();
  AddStoredApp("app-2");
  Push(ChangeBatch{false, {{env_, 2}}, {}});
  EXPECT_TRUE(Eventually([&] { return HasApp("app-2"); }));

  AddStoredApp("app-3");
  Push(ChangeBatch{false, {{env_, 2}}, {}});  // already applied (e.g. the node's own write)
  Drain();
  EXPECT_FALSE(HasApp("app-3"));
  Push(ChangeBatch{false, {{env_, 3}}, {}});
  EXPECT_TRUE(Eventually([&] { return HasApp("app-3"); }));
}

TEST_F(ChangeFeedTest, ThePeriodicCheckRepairsALostNotification) {
  StartFeed(milliseconds(20));
  AddStoredApp("app-2");
  {
    std::lock_guard lock(db_.mu);
    db_.versions = {{env_, 7}};  // committed, never notified
  }
  EXPECT_TRUE(Eventually([&] { return HasApp("app-2"); }));
}

TEST_F(ChangeFeedTest, AnOutageKeepsTheSnapshotAndTheResyncCatchesUp) {
  StartFeed();
  EXPECT_TRUE(feed_->StoreReachable());
  const auto before = config_.Current();
  {
    std::lock_guard lock(db_.mu);
    db_.down = true;
  }
  Push(Fail(Unavailable()));
  EXPECT_TRUE(Eventually([&] { return !feed_->StoreReachable(); }));
  EXPECT_EQ(config_.Current(), before);  // still serving the last snapshot

  // Meanwhile: a change and a revocation whose notifications are lost with the connection.
  AddStoredApp("app-2");
  {
    std::lock_guard lock(db_.mu);
    db_.versions = {{env_, 2}};
    db_.jtis = {
        {model::JtiKind::kRevokedToken, env_, "jti-1", clock_.Now() + std::chrono::hours(1)}};
  }
  Push(Fail(Unavailable()));  // still down: the resync must not count as done
  Drain();
  EXPECT_FALSE(feed_->StoreReachable());
  {
    std::lock_guard lock(db_.mu);
    db_.down = false;
  }
  Push(ChangeBatch{true, {}, {}});  // reconnected
  EXPECT_TRUE(Eventually([&] { return feed_->StoreReachable(); }));
  EXPECT_TRUE(HasApp("app-2"));
  EXPECT_TRUE(revoked_.Contains(env_, "jti-1"));
}

TEST_F(ChangeFeedTest, RememberedJtisOfOtherNodesAreMirrored) {
  StartFeed();
  const TimePoint exp = clock_.Now() + std::chrono::minutes(5);
  Push(ChangeBatch{
      false, {}, {{{model::JtiKind::kRevokedToken, env_, "revoked-elsewhere", exp}, 42}}});
  EXPECT_TRUE(Eventually([&] { return revoked_.Contains(env_, "revoked-elsewhere"); }));
  EXPECT_FALSE(revoked_.Contains(env_, "another"));
}

}  // namespace
}  // namespace tollgate::config

namespace tollgate::config {
namespace {

TEST_F(ChangeFeedTest, CatchUpAppliesNewerVersionsBeforeReturning) {
  StartFeed();
  AddStoredApp("app-2");
  {
    std::lock_guard lock(db_.mu);
    db_.versions = {{env_, 2}};  // committed by another node; its notification not yet here
  }
  ASSERT_TRUE(feed_->CatchUp().ok());
  EXPECT_TRUE(HasApp("app-2"));  // at once, not eventually
  {
    std::lock_guard lock(db_.mu);
    db_.down = true;
  }
  EXPECT_FALSE(feed_->CatchUp().ok());
  EXPECT_TRUE(HasApp("app-2"));  // the snapshot stays
}

}  // namespace
}  // namespace tollgate::config
