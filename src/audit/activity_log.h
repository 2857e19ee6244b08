#pragma once
// Audit activities on their way to the store (PingOne's audit reporting model): recorded without
// blocking the caller, written in batches by a thread of their own. Memory is bounded: beyond
// `capacity` queued activities, new ones are dropped and counted (/metrics), so a store that is
// behind or away slows nothing and takes no more than the queue.

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/thread_annotations.h"
#include "model/model.h"

namespace tollgate::audit {

// Where batches go (server/ adapts storage::Store). Called from the log's thread only.
class ActivityStore {
 public:
  virtual ~ActivityStore() = default;
  // Durable when it succeeds; on failure the whole batch may be retried.
  virtual Result<void, std::string> Append(const std::vector<model::Activity>& batch) = 0;
};

class ActivityLog {
 public:
  struct Stats {
    uint64_t recorded = 0;       // accepted by Record
    uint64_t dropped = 0;        // refused by Record: the queue was full
    uint64_t written = 0;        // stored
    uint64_t failed_writes = 0;  // batches the store refused (each retried while room remains)
    size_t queued = 0;           // waiting now
  };

  // Starts the writer thread. `capacity` >= 1.
  ActivityLog(ActivityStore& store, size_t capacity);
  // Writes what is queued (one last attempt), then stops.
  ~ActivityLog();
  ActivityLog(const ActivityLog&) = delete;
  ActivityLog& operator=(const ActivityLog&) = delete;

  // Thread-safe; never waits for the store.
  void Record(model::Activity activity) EXCLUDES(mu_);
  // Writes everything recorded before the call, returning once it is stored or refused (the
  // management API calls it before reading activities, so a caller reads its own writes).
  void Flush() EXCLUDES(mu_);
  Stats stats() const EXCLUDES(mu_);

 private:
  void Loop(const std::stop_token& stop) EXCLUDES(mu_);
  // Writes one batch taken from the queue; requeues it (what fits) when the store refuses.
  void WriteBatch() REQUIRES(mu_);

  ActivityStore& store_;
  const size_t capacity_;
  mutable common::Mutex mu_;
  common::CondVar wake_;     // the writer: work queued, a flush asked for, or stop
  common::CondVar written_;  // Flush callers: a batch is done
  std::vector<model::Activity> queue_ GUARDED_BY(mu_);
  uint64_t flush_asked_ GUARDED_BY(mu_) = 0;  // Flush calls so far
  uint64_t flush_done_ GUARDED_BY(mu_) = 0;   // of which the writer has served
  Stats stats_ GUARDED_BY(mu_);
  std::jthread thread_;  // last: started once the rest is built
};

}  // namespace tollgate::audit
