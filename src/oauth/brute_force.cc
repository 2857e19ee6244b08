#include "oauth/brute_force.h"

#include <algorithm>
#include <functional>

namespace tollgate::oauth {

FailureThrottle::FailureThrottle(const Clock& clock, ThrottlePolicy policy)
    : clock_(clock), policy_(policy) {}

std::string FailureThrottle::Key(std::string_view client_id, std::string_view address) {
  std::string key;
  key.reserve(client_id.size() + address.size() + 1);
  key.append(client_id);
  key.push_back('\n');  // neither a client_id form value nor an address holds a newline
  key.append(address);
  return key;
}

FailureThrottle::Shard& FailureThrottle::ShardFor(const std::string& key) const {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

int64_t FailureThrottle::RetryAfter(std::string_view client_id, std::string_view address) const {
  const std::string key = Key(client_id, address);
  Shard& shard = ShardFor(key);
  if (shard.size.load(std::memory_order_relaxed) == 0) return 0;
  common::MutexLock lock(shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) return 0;
  const TimePoint now = clock_.Now();
  if (now >= it->second.blocked_until) return 0;
  auto wait = std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now);
  return std::max<int64_t>(1, wait.count());
}

void FailureThrottle::RecordFailure(std::string_view client_id, std::string_view address) {
  const std::string key = Key(client_id, address);
  Shard& shard = ShardFor(key);
  const TimePoint now = clock_.Now();
  common::MutexLock lock(shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) {
    if (shard.entries.size() >= policy_.max_keys_per_shard) {
      // Full: drop the key that failed longest ago (an attacker's spray cannot grow memory).
      auto oldest = std::min_element(shard.entries.begin(), shard.entries.end(),
                                     [](const auto& a, const auto& b) {
                                       return a.second.last_failure < b.second.last_failure;
                                     });
      shard.entries.erase(oldest);
    }
    it = shard.entries.emplace(key, Entry{}).first;
  }
  Entry& e = it->second;
  if (e.failures > 0 && now - e.last_failure > policy_.forget_after) e = Entry{};
  e.failures += 1;
  e.last_failure = now;
  const int over = e.failures - policy_.free_failures;
  if (over > 0) {
    // base * 2^(over-1), capped; the shift is bounded so it cannot overflow.
    auto delay = policy_.base_delay * (int64_t{1} << std::min(over - 1, 20));
    e.blocked_until = now + std::min<std::chrono::seconds>(delay, policy_.max_delay);
  }
  shard.size.store(shard.entries.size(), std::memory_order_relaxed);
}

void FailureThrottle::RecordSuccess(std::string_view client_id, std::string_view address) {
  const std::string key = Key(client_id, address);
  Shard& shard = ShardFor(key);
  if (shard.size.load(std::memory_order_relaxed) == 0) return;
  common::MutexLock lock(shard.mu);
  shard.entries.erase(key);
  shard.size.store(shard.entries.size(), std::memory_order_relaxed);
}

}  // namespace tollgate::oauth
