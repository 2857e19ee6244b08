#include "common/repeat_limiter.h"

namespace tollgate::log {

RepeatLimiter::RepeatLimiter(const Clock& clock, size_t burst, std::chrono::milliseconds interval)
    : clock_(clock), burst_(burst > 0 ? burst : 1), interval_(interval) {}

RepeatLimiter::Verdict RepeatLimiter::Admit(Level level, std::string_view format) {
  const TimePoint now = clock_.Now();
  common::MutexLock lock(mu_);
  auto it = sites_.find(format.data());
  if (it == sites_.end()) {
    if (sites_.size() >= kMaxSites) return {true, 0};
    it = sites_.emplace(format.data(), Site{level, std::string(format), now, 0, 0}).first;
  }
  Site& site = it->second;
  site.level = level;
  Verdict verdict;
  if (now < site.window_start || now - site.window_start >= interval_) {
    site.window_start = now;
    site.in_window = 0;
    verdict.suppressed = site.suppressed;
    site.suppressed = 0;
  }
  if (site.in_window < burst_) {
    ++site.in_window;
    verdict.pass = true;
  } else {
    ++site.suppressed;
  }
  return verdict;
}

std::vector<RepeatLimiter::Suppressed> RepeatLimiter::TakeSuppressed() {
  std::vector<Suppressed> out;
  common::MutexLock lock(mu_);
  for (auto& [key, site] : sites_) {
    if (site.suppressed == 0) continue;
    out.push_back({site.level, site.format, site.suppressed});
    site.suppressed = 0;
  }
  return out;
}

}  // namespace tollgate::log
