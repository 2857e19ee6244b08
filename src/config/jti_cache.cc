#include "config/jti_cache.h"

namespace tollgate::config {

JtiCache::JtiCache(storage::Store& store, storage::JtiKind kind, const Clock& clock)
    : store_(store), kind_(kind), clock_(clock) {}

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

}  // namespace tollgate::config
