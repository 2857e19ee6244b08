#pragma once
// Brute-force protection for secret-based client authentication (SPEC §2.2 rule 8,
// RFC 6749 §2.3.1). Failures are counted per (client_id, source address): an attacker's
// failures slow down the attacker's own address for that client, never the client's other
// callers. Past `free_failures`, each failure blocks the key for an exponentially growing delay
// capped at `max_delay`; while blocked, requests are answered 429 with Retry-After without
// checking credentials. A success resets the key. Memory is bounded: each shard forgets its
// oldest key when full.
//
// Thread-safe. The success path takes no lock unless the shard tracks a failure.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/thread_annotations.h"

namespace tollgate::oauth {

struct ThrottlePolicy {
  int free_failures = 10;                      // failures allowed before any delay
  std::chrono::seconds base_delay{1};          // the first delay, doubled per failure
  std::chrono::seconds max_delay{60};          // the longest delay
  std::chrono::seconds forget_after{15 * 60};  // quiet time after which a key is dropped
  size_t max_keys_per_shard = 4096;
};

class FailureThrottle {
 public:
  explicit FailureThrottle(const Clock& clock, ThrottlePolicy policy = {});

  // Whole seconds until `client_id` may try again from `address`; 0 when it may try now.
  int64_t RetryAfter(std::string_view client_id, std::string_view address) const;
  void RecordFailure(std::string_view client_id, std::string_view address);
  void RecordSuccess(std::string_view client_id, std::string_view address);

  const ThrottlePolicy& policy() const { return policy_; }

 private:
  struct Entry {
    int failures = 0;
    TimePoint blocked_until{};
    TimePoint last_failure{};
  };
  struct Shard {
    mutable common::Mutex mu;
    std::unordered_map<std::string, Entry> entries GUARDED_BY(mu);
    std::atomic<size_t> size{0};
  };
  static constexpr size_t kShards = 16;

  static std::string Key(std::string_view client_id, std::string_view address);
  Shard& ShardFor(const std::string& key) const;

  const Clock& clock_;
  ThrottlePolicy policy_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace tollgate::oauth
