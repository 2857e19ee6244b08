#include "config/store/holder.h"

namespace tollgate::config {
namespace {

storage::StoreError Internal(BuildError e) {
  return storage::StoreError{storage::StoreErrorCode::kInternal, std::move(e.message), ""};
}

}  // namespace

ConfigHolder::ConfigHolder(storage::Store& store, Urls urls)
    : store_(store), urls_(std::move(urls)), current_(std::make_shared<const Snapshot>()) {}

storage::StoreResult<void> ConfigHolder::LoadAll() {
  common::MutexLock lock(write_mu_);
  return Count(Load());
}

storage::StoreResult<void> ConfigHolder::RefreshEnvironment(const EnvId& id) {
  common::MutexLock lock(write_mu_);
  return Count(Refresh(id));
}

ConfigHolder::Stats ConfigHolder::stats() const {
  return {reloads_.load(std::memory_order_relaxed), failures_.load(std::memory_order_relaxed)};
}

storage::StoreResult<void> ConfigHolder::Count(storage::StoreResult<void> result) {
  (result ? reloads_ : failures_).fetch_add(1, std::memory_order_relaxed);
  return result;
}

storage::StoreResult<void> ConfigHolder::Load() {
  auto all = store_.LoadAll();
  if (!all) return Fail(std::move(all).error());
  auto snap = std::make_shared<Snapshot>();
  snap->organization = all->organization;
  for (auto& env : all->environments) {
    std::string id = env.environment.id.str();
    auto built = BuildEnvironmentSnapshot(std::move(env), urls_);
    if (!built) return Fail(Internal(std::move(built).error()));
    snap->environments.emplace(std::move(id), std::move(built).value());
  }
  current_.store(std::move(snap));
  return {};
}

storage::StoreResult<void> ConfigHolder::Refresh(const EnvId& id) {
  auto data = store_.LoadEnvironment(id);
  // Copying the map copies shared_ptrs only: the other environments are shared, not rebuilt.
  auto snap = std::make_shared<Snapshot>(*current_.load());
  if (!data) {
    if (data.error().code != storage::StoreErrorCode::kNotFound)
      return Fail(std::move(data).error());
    snap->environments.erase(id.str());
  } else {
    auto built = BuildEnvironmentSnapshot(std::move(data).value(), urls_);
    if (!built) return Fail(Internal(std::move(built).error()));
    snap->environments[id.str()] = std::move(built).value();
  }
  current_.store(std::move(snap));
  return {};
}

}  // namespace tollgate::config
