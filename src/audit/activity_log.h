#pragma once
// Audit activities on their way to the store (PingOne's audit reporting model): recorded without
// blocking the caller, written in batches by a thread of their own. Memory is bounded: beyond
// `capacity` queued activities, new ones are dropped and counted (/metrics), so a store that is
// behind or away slows nothing and takes no more than the queue.

#include <cstddef>
#include <cstdint>
#include <deque>
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
  enum class Refusal {
    kUnavailable,  // the store cannot be reached: the batch is tried again later
    kRejected,     // the store refused the data: the batch is tried row by row, bad rows dropped
  };
  struct Error {
    Refusal refusal = Refusal::kUnavailable;
    std::string message;
  };
  virtual ~ActivityStore() = default;
  // Durable when it succeeds, and then all or nothing; storing an activity again (same id) is
  // harmless.
  virtual Result<void, Error> Append(const std::vector<model::Activity>& batch) = 0;
};

class ActivityLog {
 public:
  struct Stats {
    uint64_t recorded = 0;       // accepted by Record
    uint64_t dropped = 0;        // never to be stored: refused by a full queue, pushed out of it
                                 // by a batch that failed, or refused by the store as data
    uint64_t written = 0;        // stored
    uint64_t failed_writes = 0;  // store calls that failed
    size_t queued = 0;           // waiting now (the batch being written included)
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
  // Writes one batch taken from the queue; false when the store could not be reached (the batch
  // is back at the front of the queue, as much as fits).
  bool WriteBatch() REQUIRES(mu_);

  ActivityStore& store_;
  const size_t capacity_;
  mutable common::Mutex mu_;
  common::CondVar wake_;     // the writer: work queued, a flush asked for, or stop
  common::CondVar written_;  // Flush callers: a batch is done
  std::deque<model::Activity> queue_ GUARDED_BY(mu_);
  size_t in_flight_ GUARDED_BY(mu_) = 0;      // taken from the queue, being written
  uint64_t flush_asked_ GUARDED_BY(mu_) = 0;  // Flush calls so far
  uint64_t flush_done_ GUARDED_BY(mu_) = 0;   // of which the writer has served
  Stats stats_ GUARDED_BY(mu_);
  std::jthread thread_;  // last: started once the rest is built
};

}  // namespace tollgate::audit
