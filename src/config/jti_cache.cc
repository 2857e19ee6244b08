#include "config/jti_cache.h"

namespace tollgate::config {

JtiCache::JtiCache(storage::Store& store, storage::JtiKind kind, const Clock& clock,
                   size_t max_entries)
    : store_(store), kind_(kind), clock_(clock), max_entries_(max_entries) {}

std::string JtiCache::Key(const EnvId& env, std::string_view jti) {
  std::string key = env.str();
  key.push_back('\n');
  key.append(jti);
  return key;
}

storage::StoreResult<void> JtiCache::Load() {
  auto loaded = store_.LoadJtis(kind_, clock_.Now());
  if (!loaded) return Fail(std::move(loaded).error());
  std::unique_lock lock(mu_);
  for (const auto& j : *loaded) {
    auto& entry = entries_[Key(j.environment_id, j.jti)];
    if (entry < j.expires_at) entry = j.expires_at;
  }
  return {};
}

void JtiCache::Mirror(const EnvId& env, const std::string& jti, TimePoint expires_at) {
  if (expires_at <= clock_.Now()) return;
  std::unique_lock lock(mu_);
  auto& entry = entries_[Key(env, jti)];
  if (entry < expires_at) entry = expires_at;
}

bool JtiCache::Contains(const EnvId& env, std::string_view jti) const {
  const TimePoint now = clock_.Now();
  std::shared_lock lock(mu_);
  if (entries_.empty()) return false;
  auto it = entries_.find(Key(env, jti));
  return it != entries_.end() && now < it->second;
}

storage::StoreResult<bool> JtiCache::Remember(const EnvId& env, const std::string& jti,
                                              TimePoint expires_at) {
  auto stored = store_.RememberJti({kind_, env, jti, expires_at}, clock_.Now());
  if (!stored) return stored;
  std::unique_lock lock(mu_);
  auto& entry = entries_[Key(env, jti)];
  if (entry < expires_at) entry = expires_at;
  return stored;
}

storage::StoreResult<void> JtiCache::Purge() {
  const TimePoint now = clock_.Now();
  {
    std::unique_lock lock(mu_);
    std::erase_if(entries_, [&](const auto& e) { return e.second <= now; });
  }
  return store_.PurgeExpiredJtis(now);
}

JtiCache::FirstUse JtiCache::RememberNew(const EnvId& env, std::string_view jti,
                                         TimePoint expires_at) {
  const TimePoint now = clock_.Now();
  const std::string key = Key(env, jti);
  std::unique_lock lock(mu_);
  auto [it, inserted] = entries_.try_emplace(key, expires_at);
  if (!inserted) {
    if (now < it->second) return FirstUse::kReplay;
    it->second = expires_at;  // an expired entry no longer blocks the jti
  } else if (entries_.size() > max_entries_) {
    // Sweeping is linear in the size: at most once a second, so a full cache stays cheap.
    if (now - last_sweep_ >= std::chrono::seconds(1)) {
      last_sweep_ = now;
      std::erase_if(entries_, [&](const auto& e) { return e.second <= now; });
    }
    if (entries_.size() > max_entries_) {
      entries_.erase(key);
      return FirstUse::kFull;
    }
  }
  pending_.push_back({kind_, env, std::string(jti), expires_at});
  return FirstUse::kNew;
}

storage::StoreResult<void> JtiCache::FlushPending() {
  std::vector<storage::RememberedJti> batch;
  {
    std::unique_lock lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return {};
  auto written = store_.RememberJtis(batch, clock_.Now());
  if (!written.ok()) {
    std::unique_lock lock(mu_);
    pending_.insert(pending_.begin(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.end()));
  }
  return written;
}

size_t JtiCache::PendingCount() const {
  std::shared_lock lock(mu_);
  return pending_.size();
}

}  // namespace tollgate::config
