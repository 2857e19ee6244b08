#include "config/jti_cache.h"

namespace tollgate::config {

std::string UsedAssertionJti(std::string_view client_id, std::string_view jti) {
  std::string out;
  out.reserve(client_id.size() + 1 + jti.size());
  out.append(client_id);
  out.push_back(' ');
  out.append(jti);
  return out;
}

JtiCache::JtiCache(JtiStore& store, model::JtiKind kind, const Clock& clock,
                   size_t max_per_environment)
    : store_(store), kind_(kind), clock_(clock), max_per_environment_(max_per_environment) {}

void JtiCache::Put(const EnvId& env, const std::string& jti, TimePoint expires_at) {
  auto& entry = environments_[env.str()].jtis[jti];
  if (entry < expires_at) entry = expires_at;
}

bool JtiCache::HasRoom(Environment& e, TimePoint now) {
  if (e.jtis.size() < max_per_environment_) return true;
  if (now - e.last_sweep >= std::chrono::seconds(1)) {
    e.last_sweep = now;
    std::erase_if(e.jtis, [&](const auto& j) { return j.second <= now; });
  }
  return e.jtis.size() < max_per_environment_;
}

JtiResult<void> JtiCache::Load() {
  auto loaded = store_.Load(kind_, clock_.Now());
  if (!loaded) return Fail(std::move(loaded).error());
  common::WriterLock lock(mu_);
  for (const auto& j : *loaded) Put(j.environment_id, j.jti, j.expires_at);
  return {};
}

void JtiCache::Mirror(const EnvId& env, const std::string& jti, TimePoint expires_at) {
  if (expires_at <= clock_.Now()) return;
  common::WriterLock lock(mu_);
  Put(env, jti, expires_at);
}

bool JtiCache::Contains(const EnvId& env, std::string_view jti) const {
  const TimePoint now = clock_.Now();
  common::ReaderLock lock(mu_);
  if (environments_.empty()) return false;
  auto e = environments_.find(env.str());
  if (e == environments_.end()) return false;
  auto it = e->second.jtis.find(jti);
  return it != e->second.jtis.end() && now < it->second;
}

JtiResult<JtiCache::Stored> JtiCache::Remember(const EnvId& env, const std::string& jti,
                                               TimePoint expires_at) {
  const TimePoint now = clock_.Now();
  {
    common::WriterLock lock(mu_);
    Environment& e = environments_[env.str()];
    auto it = e.jtis.find(jti);
    const bool known = it != e.jtis.end() && now < it->second;
    if (!known && !HasRoom(e, now)) return Stored::kBudget;
  }
  auto stored = store_.Remember({kind_, env, jti, expires_at}, now);
  if (!stored) return Fail(std::move(stored).error());
  common::WriterLock lock(mu_);
  Put(env, jti, expires_at);
  return *stored ? Stored::kNew : Stored::kAlready;
}

JtiResult<void> JtiCache::Purge() {
  const TimePoint now = clock_.Now();
  {
    common::WriterLock lock(mu_);
    for (auto& [id, e] : environments_) {
      std::erase_if(e.jtis, [&](const auto& j) { return j.second <= now; });
    }
    std::erase_if(environments_, [](const auto& e) { return e.second.jtis.empty(); });
  }
  return store_.PurgeExpired(now);
}

JtiCache::FirstUse JtiCache::RememberNew(const EnvId& env, std::string_view jti,
                                         TimePoint expires_at) {
  const TimePoint now = clock_.Now();
  common::WriterLock lock(mu_);
  Environment& e = environments_[env.str()];
  if (auto it = e.jtis.find(jti); it != e.jtis.end()) {
    if (now < it->second) return FirstUse::kReplay;
    it->second = expires_at;  // an expired entry no longer blocks the jti
  } else {
    if (!HasRoom(e, now)) return FirstUse::kFull;
    e.jtis.emplace(std::string(jti), expires_at);
  }
  pending_.push_back({kind_, env, std::string(jti), expires_at});
  return FirstUse::kNew;
}

JtiResult<void> JtiCache::FlushPending() {
  std::vector<model::RememberedJti> batch;
  {
    common::WriterLock lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return {};
  auto written = store_.RememberAll(batch, clock_.Now());
  if (!written.ok()) {
    common::WriterLock lock(mu_);
    pending_.insert(pending_.begin(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.end()));
  }
  return written;
}

size_t JtiCache::PendingCount() const {
  common::ReaderLock lock(mu_);
  return pending_.size();
}

size_t JtiCache::SizeOf(const EnvId& env) const {
  common::ReaderLock lock(mu_);
  auto e = environments_.find(env.str());
  return e == environments_.end() ? 0 : e->second.jtis.size();
}

}  // namespace tollgate::config
