#pragma once
// The token endpoint's outcomes, counted for /metrics (docs/operations.md): tokens issued per
// client, and errors per stage and wire code. Thread-safe and lock-light: Issued() takes one of
// 16 mutexes, shared only with the issuing threads that hash to it and with a scrape.

#include <array>
#include <atomic>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "common/ids.h"
#include "common/thread_annotations.h"
#include "oauth/oauth_error.h"

namespace tollgate::oauth {

class TokenMetrics {
 public:
  // At most this many clients are counted one by one (about 150 bytes each); tokens of clients
  // beyond are counted in overflow(). An application's count outlives the application.
  static constexpr size_t kMaxClients = 100'000;

  void Issued(const EnvId& environment, const AppId& client);
  // An answered error (a Pending is no answer). Errors with retry_after_seconds > 0 (the
  // brute-force throttle) are counted as throttled too.
  void Failed(const OAuthError& error);

  struct ClientCount {
    EnvId environment;
    AppId client;
    uint64_t tokens = 0;
  };
  std::vector<ClientCount> Clients() const;
  uint64_t overflow() const { return overflow_.load(std::memory_order_relaxed); }
  uint64_t issued() const { return issued_.load(std::memory_order_relaxed); }

  struct ErrorCount {
    ErrorStage stage;
    OAuthErrorCode code;
    uint64_t count = 0;
  };
  std::vector<ErrorCount> Errors() const;  // the non-zero ones
  uint64_t throttled() const { return throttled_.load(std::memory_order_relaxed); }

  // Custom claims left out of issued tokens because their expression failed or the token's
  // claim bound was reached (docs/token-customization.md).
  void ClaimsLeftOut(int n) {
    claims_left_out_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
  }
  uint64_t claims_left_out() const { return claims_left_out_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kStages = 3;  // ErrorStage
  static constexpr size_t kCodes = 11;  // OAuthErrorCode
  struct Counted {
    EnvId environment;
    uint64_t tokens = 0;
  };
  struct Shard {
    mutable common::Mutex mu;
    std::unordered_map<AppId, Counted> clients GUARDED_BY(mu);
  };
  std::array<Shard, kShards> shards_;
  std::atomic<size_t> clients_{0};
  std::atomic<uint64_t> overflow_{0};
  std::atomic<uint64_t> issued_{0};
  std::array<std::atomic<uint64_t>, kStages * kCodes> errors_{};
  std::atomic<uint64_t> throttled_{0};
  std::atomic<uint64_t> claims_left_out_{0};
};

}  // namespace tollgate::oauth
