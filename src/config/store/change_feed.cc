#include "config/store/change_feed.h"

#include <algorithm>

#include "common/log.h"

namespace tollgate::config {
namespace {

int KindKey(model::JtiKind kind) { return static_cast<int>(kind); }

constexpr model::JtiKind kKinds[] = {model::JtiKind::kRevokedToken, model::JtiKind::kUsedAssertion};

}  // namespace

ChangeFeed::ChangeFeed(storage::Store& store, ConfigHolder& config, std::vector<JtiCache*> caches,
                       ChangeFeedOptions options)
    : store_(store), config_(config), caches_(std::move(caches)), options_(options) {}

ChangeFeed::~ChangeFeed() { Stop(); }

storage::StoreResult<bool> ChangeFeed::Open() {
  auto source = store_.OpenChangeSource();
  if (!source) return Fail(std::move(source).error());
  if (*source == nullptr) return false;
  source_ = std::move(source).value();
  // Listening already: what the versions below miss arrives as notifications.
  auto versions = source_->Versions();
  if (!versions) return Fail(std::move(versions).error());
  {
    common::MutexLock lock(applied_mu_);
    for (const auto& v : *versions) applied_[v.environment_id.str()] = v.version;
  }
  for (model::JtiKind kind : kKinds) {
    auto seq = source_->LastJtiSeq(kind);
    if (!seq) return Fail(std::move(seq).error());
    last_seq_[KindKey(kind)] = *seq;
  }
  // The node loads everything next (ConfigHolder::LoadAll): up to date as of now.
  last_full_check_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                         std::memory_order_relaxed);
  return true;
}

void ChangeFeed::Start() {
  if (source_ == nullptr || thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void ChangeFeed::Stop() {
  if (!thread_.joinable()) return;
  {
    common::MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  source_->Interrupt();
  thread_.join();
}

void ChangeFeed::Pause(std::chrono::milliseconds d) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  common::MutexLock lock(mu_);
  while (!stop_ && cv_.WaitUntil(mu_, deadline)) {
  }
}

void ChangeFeed::Run() {
  using Clock = std::chrono::steady_clock;
  auto next_check = Clock::now() + options_.poll_interval;
  while (!stop_) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_check - Clock::now());
    auto batch =
        source_->Wait(std::clamp(left, std::chrono::milliseconds(0), options_.poll_interval));
    if (stop_) break;
    bool healthy = false;
    if (batch) {
      healthy = batch->resync ? Resync() && Apply(*batch) : Apply(*batch);
      if (healthy && Clock::now() >= next_check) {
        healthy = CheckEverything();
        next_check = Clock::now() + options_.poll_interval;
      }
    } else if (reachable_) {
      log::Warn(
          "change feed: the store is unreachable ({}); serving the last configuration, "
          "retrying",
          batch.error().message);
    }
    if (healthy && !reachable_) {
      log::Info("change feed: the store is reachable again; configuration checked");
    }
    reachable_ = healthy;
    if (!healthy) Pause(options_.reconnect_delay);
  }
}

bool ChangeFeed::Apply(const storage::ChangeBatch& batch) {
  bool ok = true;
  for (const auto& v : batch.environments) {
    if (Applied(v.environment_id, v.version)) continue;  // seen (e.g. our own write)
    ok = Refresh(v.environment_id, v.version) && ok;
  }
  for (const auto& j : batch.jtis) Mirror(j);
  return ok;
}

bool ChangeFeed::Resync() {
  // Jtis of transactions that committed while the feed was away may carry any seq: reload them
  // all (JtiCache::Load keeps what the cache already holds).
  std::unordered_map<int, int64_t> seqs;
  for (model::JtiKind kind : kKinds) {
    auto seq = source_->LastJtiSeq(kind);
    if (!seq) return false;
    seqs[KindKey(kind)] = *seq;
  }
  for (JtiCache* cache : caches_) {
    if (cache == nullptr) continue;
    if (auto loaded = cache->Load(); !loaded) {
      log::Warn("change feed: cannot reload remembered jtis: {}", loaded.error().message);
      return false;
    }
  }
  for (const auto& [kind, seq] : seqs) last_seq_[kind] = std::max(last_seq_[kind], seq);
  return CheckEverything();
}

bool ChangeFeed::CheckEverything() {
  auto versions = source_->Versions();
  if (!versions) return false;
  bool ok = true;
  for (const auto& v : *versions) {
    if (Applied(v.environment_id, v.version)) continue;
    if (Refresh(v.environment_id, v.version)) {
      repairs_.fetch_add(1, std::memory_order_relaxed);
    } else {
      ok = false;
    }
  }
  const TimePoint now = std::chrono::system_clock::now();
  for (model::JtiKind kind : kKinds) {
    auto jtis = source_->JtisAfter(kind, last_seq_[KindKey(kind)], now);
    if (!jtis) return false;
    for (const auto& j : *jtis) Mirror(j);
  }
  if (ok) {
    last_full_check_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                           std::memory_order_relaxed);
  }
  return ok;
}

ChangeFeed::Stats ChangeFeed::stats() const {
  using std::chrono::steady_clock;
  return {repairs_.load(std::memory_order_relaxed),
          steady_clock::time_point(
              steady_clock::duration(last_full_check_.load(std::memory_order_relaxed)))};
}

bool ChangeFeed::Refresh(const EnvId& env, int64_t version) {
  auto refreshed = config_.RefreshEnvironment(env);
  if (!refreshed) {
    // Not recorded as applied: the next check tries again.
    log::Warn("change feed: cannot refresh environment {}: {}", env.str(),
              refreshed.error().message);
    return false;
  }
  common::MutexLock lock(applied_mu_);
  int64_t& applied = applied_[env.str()];
  applied = std::max(applied, version);
  return true;
}

bool ChangeFeed::Applied(const EnvId& env, int64_t version) {
  common::MutexLock lock(applied_mu_);
  auto it = applied_.find(env.str());
  return it != applied_.end() && it->second >= version;
}

storage::StoreResult<void> ChangeFeed::CatchUp() {
  if (source_ == nullptr) return {};
  auto versions = store_.LoadVersions();
  if (!versions) return Fail(std::move(versions).error());
  for (const auto& v : *versions) {
    if (Applied(v.environment_id, v.version)) continue;
    if (auto refreshed = config_.RefreshEnvironment(v.environment_id); !refreshed) {
      return Fail(std::move(refreshed).error());
    }
    common::MutexLock lock(applied_mu_);
    int64_t& applied = applied_[v.environment_id.str()];
    applied = std::max(applied, v.version);
  }
  return {};
}

void ChangeFeed::Mirror(const storage::SharedJti& j) {
  int64_t& last = last_seq_[KindKey(j.jti.kind)];
  last = std::max(last, j.seq);
  if (JtiCache* cache = CacheFor(j.jti.kind)) {
    cache->Mirror(j.jti.environment_id, j.jti.jti, j.jti.expires_at);
  }
}

JtiCache* ChangeFeed::CacheFor(model::JtiKind kind) const {
  for (JtiCache* c : caches_) {
    if (c != nullptr && c->kind() == kind) return c;
  }
  return nullptr;
}

}  // namespace tollgate::config
