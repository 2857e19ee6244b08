// ActivityLog: what is recorded is stored in order, a Flush waits for it, a full queue drops and
// counts, a store that refuses gets the batch again, and nothing waits for the store in Record.
#include "audit/activity_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace tollgate::audit {
namespace {

class FakeStore final : public ActivityStore {
 public:
  Result<void, Error> Append(const std::vector<model::Activity>& batch) override {
    std::lock_guard lock(mu_);
    if (refuse_) return Fail(Error{Refusal::kUnavailable, "store away"});
    for (const auto& a : batch) {
      if (a.id == "bad") return Fail(Error{Refusal::kRejected, "invalid text"});
    }
    for (const auto& a : batch) ids_.push_back(a.id);
    return {};
  }

  void Refuse(bool refuse) {
    std::lock_guard lock(mu_);
    refuse_ = refuse;
  }
  std::vector<std::string> ids() {
    std::lock_guard lock(mu_);
    return ids_;
  }

 private:
  std::mutex mu_;
  bool refuse_ = false;
  std::vector<std::string> ids_;
};

model::Activity Make(int n) {
  model::Activity a;
  a.id = "a" + std::to_string(n);
  return a;
}

TEST(ActivityLogTest, StoresWhatIsRecordedInOrder) {
  FakeStore store;
  ActivityLog log(store, 10'000);
  for (int i = 0; i < 2500; ++i) log.Record(Make(i));
  log.Flush();
  const auto ids = store.ids();
  ASSERT_EQ(ids.size(), 2500u);
  for (int i = 0; i < 2500; ++i) EXPECT_EQ(ids[static_cast<size_t>(i)], "a" + std::to_string(i));
  const auto s = log.stats();
  EXPECT_EQ(s.recorded, 2500u);
  EXPECT_EQ(s.written, 2500u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.queued, 0u);
}

TEST(ActivityLogTest, AFullQueueDropsAndCounts) {
  FakeStore store;
  store.Refuse(true);  // nothing leaves the queue
  ActivityLog log(store, 100);
  for (int i = 0; i < 150; ++i) log.Record(Make(i));
  log.Flush();
  auto s = log.stats();
  // Whichever were dropped (new ones at Record, or the oldest of a batch that failed), the
  // queue holds its capacity and every activity is queued, dropped or stored.
  EXPECT_EQ(s.queued, 100u) << "bounded by the capacity";
  EXPECT_EQ(s.dropped, 50u);
  EXPECT_EQ(s.written, 0u);
  EXPECT_GE(s.failed_writes, 1u);

  store.Refuse(false);  // the store is back: the queued ones are written
  log.Flush();
  s = log.stats();
  EXPECT_EQ(s.written, 100u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(store.ids().size(), 100u);
}

TEST(ActivityLogTest, ARowTheStoreRejectsIsDroppedNotTheBatch) {
  FakeStore store;
  ActivityLog log(store, 100);
  log.Record(Make(1));
  model::Activity bad;
  bad.id = "bad";
  log.Record(std::move(bad));
  log.Record(Make(2));
  log.Flush();
  EXPECT_EQ(store.ids(), (std::vector<std::string>{"a1", "a2"}));
  const auto s = log.stats();
  EXPECT_EQ(s.written, 2u);
  EXPECT_EQ(s.dropped, 1u);
  EXPECT_EQ(s.queued, 0u);
  log.Record(Make(3));  // and the log goes on
  log.Flush();
  EXPECT_EQ(store.ids().back(), "a3");
}

TEST(ActivityLogTest, TheDestructorWritesTheRest) {
  FakeStore store;
  {
    ActivityLog log(store, 100);
    for (int i = 0; i < 7; ++i) log.Record(Make(i));
  }
  EXPECT_EQ(store.ids().size(), 7u);
}

TEST(ActivityLogTest, ConcurrentRecordersLoseNothing) {
  FakeStore store;
  ActivityLog log(store, 1'000'000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 5000; ++i) log.Record(Make(t * 100'000 + i));
    });
  }
  for (auto& th : threads) th.join();
  log.Flush();
  EXPECT_EQ(store.ids().size(), 20'000u);
  EXPECT_EQ(log.stats().written, 20'000u);
}

}  // namespace
}  // namespace tollgate::audit
