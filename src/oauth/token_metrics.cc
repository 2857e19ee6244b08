#include "oauth/token_metrics.h"

#include <functional>

namespace tollgate::oauth {

static_assert(static_cast<size_t>(ErrorStage::kServer) == 2, "kStages follows ErrorStage");
static_assert(static_cast<size_t>(OAuthErrorCode::kTemporarilyUnavailable) == 10,
              "kCodes follows OAuthErrorCode");

void TokenMetrics::Issued(const EnvId& environment, const AppId& client) {
  issued_.fetch_add(1, std::memory_order_relaxed);
  Shard& shard = shards_[std::hash<AppId>{}(client) % kShards];
  common::MutexLock lock(shard.mu);
  auto it = shard.clients.find(client);
  if (it == shard.clients.end()) {
    // The bound is checked without a global lock: it may be passed by a few concurrent inserts.
    if (clients_.load(std::memory_order_relaxed) >= kMaxClients) {
      overflow_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    clients_.fetch_add(1, std::memory_order_relaxed);
    it = shard.clients.emplace(client, Counted{environment, 0}).first;
  }
  ++it->second.tokens;
}

void TokenMetrics::Failed(const OAuthError& error) {
  const auto stage = static_cast<size_t>(error.stage);
  const auto code = static_cast<size_t>(error.code);
  if (stage < kStages && code < kCodes) {
    errors_[stage * kCodes + code].fetch_add(1, std::memory_order_relaxed);
  }
  if (error.retry_after_seconds > 0) throttled_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<TokenMetrics::ClientCount> TokenMetrics::Clients() const {
  std::vector<ClientCount> out;
  for (const Shard& shard : shards_) {
    common::MutexLock lock(shard.mu);
    for (const auto& [client, counted] : shard.clients) {
      out.push_back({counted.environment, client, counted.tokens});
    }
  }
  return out;
}

std::vector<TokenMetrics::ErrorCount> TokenMetrics::Errors() const {
  std::vector<ErrorCount> out;
  for (size_t i = 0; i < errors_.size(); ++i) {
    const uint64_t n = errors_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    out.push_back(
        {static_cast<ErrorStage>(i / kCodes), static_cast<OAuthErrorCode>(i % kCodes), n});
  }
  return out;
}

}  // namespace tollgate::oauth
