#include "audit/activity_log.h"

#include <chrono>
#include <utility>

#include "common/log.h"

namespace tollgate::audit {
namespace {

constexpr auto kInterval = std::chrono::milliseconds(100);
constexpr size_t kMaxBatch = 1000;

}  // namespace

ActivityLog::ActivityLog(ActivityStore& store, size_t capacity)
    : store_(store),
      capacity_(capacity == 0 ? 1 : capacity),
      thread_([this](const std::stop_token& stop) { Loop(stop); }) {}

ActivityLog::~ActivityLog() {
  thread_.request_stop();
  {
    common::MutexLock lock(mu_);
    wake_.NotifyAll();
  }
  thread_.join();
  common::MutexLock lock(mu_);
  while (!queue_.empty()) {
    const size_t before = queue_.size();
    WriteBatch();
    if (queue_.size() >= before) break;  // the store refuses: what is left is lost
  }
  if (!queue_.empty()) {
    log::Warn("audit: {} activities not stored at shutdown", queue_.size());
  }
}

void ActivityLog::Record(model::Activity activity) {
  common::MutexLock lock(mu_);
  if (queue_.size() >= capacity_) {
    ++stats_.dropped;
    return;
  }
  queue_.push_back(std::move(activity));
  ++stats_.recorded;
  if (queue_.size() >= kMaxBatch) wake_.NotifyOne();
}

void ActivityLog::Flush() {
  common::MutexLock lock(mu_);
  const uint64_t ticket = ++flush_asked_;
  wake_.NotifyOne();
  while (flush_done_ < ticket) written_.Wait(mu_);
}

ActivityLog::Stats ActivityLog::stats() const {
  common::MutexLock lock(mu_);
  Stats s = stats_;
  s.queued = queue_.size();
  return s;
}

void ActivityLog::Loop(const std::stop_token& stop) {
  common::MutexLock lock(mu_);
  while (!stop.stop_requested()) {
    if (queue_.size() < kMaxBatch && flush_done_ == flush_asked_) {
      wake_.WaitUntil(mu_, std::chrono::steady_clock::now() + kInterval);
      if (stop.stop_requested()) break;
    }
    const uint64_t flushing = flush_asked_;
    // Everything queued now, in batches: a Flush caller waits for what it recorded.
    size_t left = queue_.size();
    while (left > 0 && !queue_.empty()) {
      const size_t before = queue_.size();
      WriteBatch();
      if (queue_.size() >= before) break;  // refused: tried again next round
      left -= std::min(left, before - queue_.size());
    }
    flush_done_ = flushing;
    written_.NotifyAll();
  }
  flush_done_ = flush_asked_;  // the destructor writes the rest
  written_.NotifyAll();
}

void ActivityLog::WriteBatch() {
  const size_t n = std::min(queue_.size(), kMaxBatch);
  std::vector<model::Activity> batch(
      std::make_move_iterator(queue_.begin()),
      std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
  mu_.Unlock();  // Record goes on while the store writes
  auto appended = store_.Append(batch);
  mu_.Lock();
  if (appended) {
    stats_.written += batch.size();
    return;
  }
  ++stats_.failed_writes;
  if (stats_.failed_writes == 1 || stats_.failed_writes % 100 == 0) {
    log::Warn("audit: cannot store {} activities: {}", batch.size(), appended.error());
  }
  // Back at the front, as many as fit; the rest (and anything beyond capacity) is dropped.
  const size_t room = capacity_ > queue_.size() ? capacity_ - queue_.size() : 0;
  const size_t kept = std::min(room, batch.size());
  stats_.dropped += batch.size() - kept;
  queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                std::make_move_iterator(batch.begin() + static_cast<long>(kept)));
}

}  // namespace tollgate::audit
