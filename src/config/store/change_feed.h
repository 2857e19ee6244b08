#pragma once
// The change feed across nodes (SPEC §7): keeps this node's snapshot and jti caches in step with
// a database that several nodes share, so that a management write on any node is honoured by
// every node's token endpoint within a second. See docs/decisions/0004-change-feed.md.
//
// A background thread waits on the store's ChangeSource (PostgreSQL LISTEN/NOTIFY): each changed
// environment is reloaded with ConfigHolder::RefreshEnvironment, each remembered jti is mirrored
// into its JtiCache. Every `poll_interval` it also compares the stored version of every
// environment and the newest jti with what it has applied, so a lost notification cannot leave
// the node stale for longer than that. While the database is away, the snapshot stays as it is
// (the token path keeps serving), StoreReachable() is false, and the feed reconnects by itself;
// after reconnecting it checks everything, as notifications may have been missed.
//
// Thread safety: StoreReachable() may be called from any thread (it is lock-free); Open, Start
// and Stop from the owning thread.

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/thread_annotations.h"
#include "config/jti_cache.h"
#include "config/store/holder.h"
#include "storage/store.h"

namespace tollgate::config {

struct ChangeFeedOptions {
  std::chrono::milliseconds poll_interval{2000};   // the periodic full check
  std::chrono::milliseconds reconnect_delay{250};  // between attempts while the store is away
};

class ChangeFeed {
 public:
  // `caches`: the JtiCaches to mirror remembered jtis into (one per kind; not owned; they must
  // outlive the feed).
  ChangeFeed(storage::Store& store, ConfigHolder& config, std::vector<JtiCache*> caches,
             ChangeFeedOptions options = {});
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Starts listening and records the versions the node starts from. Call it before the first
  // ConfigHolder::LoadAll and JtiCache::Load, so that nothing committed in between is missed.
  // Returns false when the store serves one node only (no change feed: nothing to do).
  // kUnavailable when the database cannot be reached.
  storage::StoreResult<bool> Open();
  // Starts the background thread (after Open returned true).
  void Start();
  // Stops and joins the thread; idempotent.
  void Stop();

  // Brings every environment whose stored version is newer than the applied one up to date,
  // on the calling thread, before returning (one small query when nothing changed). The
  // management API calls it first, so that through a load balancer a client reads its own
  // writes whichever node took them. Thread-safe; a no-op without a change feed. kUnavailable
  // when the database cannot be reached (the snapshot is left as it is).
  storage::StoreResult<void> CatchUp();

  // False while the database cannot be reached (as seen by the feed's own connection).
  bool StoreReachable() const { return reachable_.load(std::memory_order_relaxed); }

  // For /metrics; thread-safe.
  struct Stats {
    // Environments brought up to date by the periodic check rather than by a notification:
    // normally 0 (or a few, when a check and a notification cross); a steady rise means
    // notifications are lost.
    uint64_t repairs = 0;
    // When the last full check found the node up to date with the database (steady clock;
    // the epoch before the first one).
    std::chrono::steady_clock::time_point last_full_check;
  };
  Stats stats() const;

 private:
  void Run();
  // Applies one batch of notifications; false when the store failed meanwhile.
  bool Apply(const storage::ChangeBatch& batch);
  // After a reconnect: reloads the jti caches, then CheckEverything.
  bool Resync();
  // Compares every environment's version and fetches jtis newer than the last applied one.
  bool CheckEverything();
  bool Refresh(const EnvId& env, int64_t version);
  // True when `version` of `env` (or a newer one) is already in the snapshot.
  bool Applied(const EnvId& env, int64_t version);
  void Mirror(const storage::SharedJti& j);
  JtiCache* CacheFor(model::JtiKind kind) const;
  // Sleeps up to `d`, returning early when stopped.
  void Pause(std::chrono::milliseconds d);

  storage::Store& store_;
  ConfigHolder& config_;
  std::vector<JtiCache*> caches_;
  ChangeFeedOptions options_;
  std::unique_ptr<storage::ChangeSource> source_;

  // Versions only grow; applied_ holds, per environment id, one the snapshot already reflects.
  common::Mutex applied_mu_;
  std::unordered_map<std::string, int64_t> applied_ GUARDED_BY(applied_mu_);
  // Touched by the feed thread only (and by Open before it starts).
  std::unordered_map<int, int64_t> last_seq_;  // jti kind -> highest seq applied

  std::atomic<bool> reachable_{true};
  std::atomic<uint64_t> repairs_{0};
  std::atomic<std::chrono::steady_clock::rep> last_full_check_{0};  // time_since_epoch().count()
  std::atomic<bool> stop_{false};
  // Stop() sets stop_ with mu_ held, so Pause() cannot miss its notification between checking
  // stop_ and waiting.
  common::Mutex mu_;
  common::CondVar cv_;
  std::thread thread_;
};

}  // namespace tollgate::config
