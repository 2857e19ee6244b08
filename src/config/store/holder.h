#pragma once
// The holder of the current configuration snapshot, loaded from the store.

#include <atomic>
#include <memory>

#include "common/thread_annotations.h"
#include "config/snapshot.h"
#include "storage/store.h"

namespace tollgate::config {

// Holds the current snapshot. Current() is lock-free for readers and safe from any thread.
// LoadAll/Refresh* block on the store: call them off the I/O threads or at start-up. Writers
// are serialized among themselves. An environment whose snapshot does not build (a signing key
// that does not parse) fails them with kInternal and leaves the current snapshot in place.
class ConfigHolder {
 public:
  ConfigHolder(storage::Store& store, Urls urls);

  std::shared_ptr<const Snapshot> Current() const { return current_.load(); }
  const Urls& urls() const { return urls_; }

  // Replaces the whole snapshot from the store.
  storage::StoreResult<void> LoadAll() EXCLUDES(write_mu_);
  // Reloads one environment (removing it from the snapshot if it no longer exists); costs in
  // proportion to that environment only.
  storage::StoreResult<void> RefreshEnvironment(const EnvId& id) EXCLUDES(write_mu_);

  struct Stats {
    uint64_t reloads = 0;   // LoadAll() and RefreshEnvironment() calls that swapped a snapshot
    uint64_t failures = 0;  // those that failed (the store could not be read): nothing swapped
  };
  Stats stats() const;

 private:
  storage::StoreResult<void> Load() REQUIRES(write_mu_);
  storage::StoreResult<void> Refresh(const EnvId& id) REQUIRES(write_mu_);
  storage::StoreResult<void> Count(storage::StoreResult<void> result);

  storage::Store& store_;
  Urls urls_;
  // Serializes the writers. current_ is not guarded by it: readers load it without a lock, and
  // a writer's load-modify-store of it is safe because no other writer runs meanwhile.
  common::Mutex write_mu_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace tollgate::config
