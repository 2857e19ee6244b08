#include "audit/activity_log.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/log.h"

namespace tollgate::audit {
namespace {

constexpr auto kInterval = std::chrono::milliseconds(500);
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
  while (!queue_.empty() && WriteBatch()) {
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
  s.queued = queue_.size() + in_flight_;
  return s;
}

void ActivityLog::Loop(const std::stop_token& stop) {
  common::MutexLock lock(mu_);
  bool store_down = false;
  while (!stop.stop_requested()) {
    // A store that refused waits out the interval (no spinning against it), as does an idle log.
    if (store_down || (queue_.size() < kMaxBatch && flush_done_ == flush_asked_)) {
      wake_.WaitUntil(mu_, std::chrono::steady_clock::now() + kInterval);
      if (stop.stop_requested()) break;
    }
    const uint64_t flushing = flush_asked_;
    // What is queued now, in batches, so that a Flush caller waits for what it recorded (and
    // no longer than that while others go on recording).
    size_t left = queue_.size();
    store_down = false;
    while (left > 0 && !queue_.empty()) {
      const size_t batch = std::min(queue_.size(), kMaxBatch);
      if (!WriteBatch()) {
        store_down = true;
        break;
      }
      left -= std::min(left, batch);
    }
    flush_done_ = flushing;
    written_.NotifyAll();
  }
  flush_done_ = flush_asked_;  // the destructor writes the rest
  written_.NotifyAll();
}

bool ActivityLog::WriteBatch() {
  const size_t n = std::min(queue_.size(), kMaxBatch);
  std::vector<model::Activity> batch(
      std::make_move_iterator(queue_.begin()),
      std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
  in_flight_ = n;
  mu_.Unlock();  // Record goes on while the store writes
  auto appended = store_.Append(batch);
  size_t stored = 0;
  size_t rejected = 0;
  std::vector<model::Activity> rest;  // not stored, not rejected: kept for the retry
  if (!appended && appended.error().refusal == ActivityStore::Refusal::kRejected) {
    // Some row is bad (say, text the database will not take): store the others one by one.
    std::vector<model::Activity> one(1);
    for (size_t i = 0; i < batch.size(); ++i) {
      one[0] = std::move(batch[i]);
      auto single = store_.Append(one);
      if (single) {
        ++stored;
      } else if (single.error().refusal == ActivityStore::Refusal::kRejected) {
        ++rejected;
        log::Warn("audit: activity {} refused by the store, dropped: {}", one[0].id,
                  single.error().message);
      } else {
        // The store went away meanwhile: this one and the rest wait for the retry.
        rest.push_back(std::move(one[0]));
        for (size_t j = i + 1; j < batch.size(); ++j) rest.push_back(std::move(batch[j]));
        break;
      }
    }
  } else if (!appended) {
    rest = std::move(batch);
  }
  mu_.Lock();
  in_flight_ = 0;
  if (appended) {
    stats_.written += n;
    return true;
  }
  ++stats_.failed_writes;
  stats_.written += stored;
  stats_.dropped += rejected;
  if (rest.empty()) return true;  // every row stored or dropped as bad
  if (stats_.failed_writes == 1 || stats_.failed_writes % 100 == 0) {
    log::Warn("audit: cannot store {} activities: {}", rest.size(), appended.error().message);
  }
  // Back at the front, as many as fit; what does not fit is dropped (the oldest).
  const size_t room = capacity_ > queue_.size() ? capacity_ - queue_.size() : 0;
  const size_t kept = std::min(room, rest.size());
  stats_.dropped += rest.size() - kept;
  queue_.insert(queue_.begin(), std::make_move_iterator(rest.end() - static_cast<long>(kept)),
                std::make_move_iterator(rest.end()));
  return false;
}

}  // namespace tollgate::audit
