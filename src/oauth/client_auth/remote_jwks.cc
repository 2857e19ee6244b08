#include "oauth/client_auth/remote_jwks.h"

#include <algorithm>
#include <exception>

namespace tollgate::oauth {
namespace {

// What a Pending holds of the waiter limits: released when the last holder lets go.
struct WaiterSlot {
  WaiterSlot(std::shared_ptr<std::atomic<size_t>> total, std::shared_ptr<std::atomic<size_t>> url)
      : total_(std::move(total)), url_(std::move(url)) {
    total_->fetch_add(1);
    url_->fetch_add(1);
  }
  ~WaiterSlot() {
    total_->fetch_sub(1);
    url_->fetch_sub(1);
  }
  WaiterSlot(const WaiterSlot&) = delete;
  WaiterSlot& operator=(const WaiterSlot&) = delete;

 private:
  std::shared_ptr<std::atomic<size_t>> total_;
  std::shared_ptr<std::atomic<size_t>> url_;
};

}  // namespace

RemoteJwks::RemoteJwks(Fetcher fetcher, Launcher launch, const Clock& clock,
                       RemoteJwksPolicy policy)
    : fetcher_(std::move(fetcher)), launch_(std::move(launch)), clock_(clock), policy_(policy) {}

RemoteJwks::Answer RemoteJwks::FromEntry(const Entry& e, std::string_view kid,
                                         TimePoint now) const {
  if (!e.keys) return {Outcome::kFailed, nullptr, "jwksUrl: no keys fetched: " + e.last_error, {}};
  if (now - e.fetched_at >= policy_.max_stale) {
    return {Outcome::kFailed, nullptr, "jwksUrl: cached keys too old: " + e.last_error, {}};
  }
  if (!kid.empty() && !e.keys->HasKid(kid)) {
    return {Outcome::kFailed, nullptr, "jwksUrl: kid not in the fetched set", {}};
  }
  return {Outcome::kOk, e.keys, {}, {}};
}

RemoteJwks::Answer RemoteJwks::Wait(const Entry& e) {
  if (e.flight_waiters->load() >= policy_.max_waiters_per_url ||
      waiting_->load() >= policy_.max_waiters) {
    ++waits_refused_;
    return {Outcome::kBusy, nullptr, "jwksUrl: too many requests wait for fetches", {}};
  }
  auto slot = std::make_shared<const WaiterSlot>(waiting_, e.flight_waiters);
  return {Outcome::kPending, nullptr, {}, Pending(e.flight, std::move(slot))};
}

void RemoteJwks::EvictIfFull() {
  while (entries_.size() > policy_.max_urls) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second->flight) continue;
      if (victim == entries_.end() || it->second->last_used < victim->second->last_used) {
        victim = it;
      }
    }
    if (victim == entries_.end()) return;  // everything is being fetched
    entries_.erase(victim);
  }
}

RemoteJwks::Answer RemoteJwks::Get(const std::string& url, std::string_view kid) {
  const TimePoint now = clock_.Now();
  common::MutexLock lock(mu_);
  auto [it, inserted] = entries_.try_emplace(url, nullptr);
  if (inserted) it->second = std::make_shared<Entry>();
  std::shared_ptr<Entry> e = it->second;  // stays valid if another call evicts it
  e->last_used = now;
  if (inserted) EvictIfFull();  // the new entry is the most recently used: never the victim

  const bool fresh = e->keys && now - e->fetched_at < policy_.ttl;
  const bool knows_kid = e->keys && (kid.empty() || e->keys->HasKid(kid));
  if (fresh && knows_kid) return {Outcome::kOk, e->keys, {}, {}};
  if (e->flight) return Wait(*e);  // another caller started the fetch: share it
  // Stale, never fetched, or an unknown kid: refetch, at most once per interval.
  const bool due = !e->attempted || now - e->last_attempt >= policy_.min_refetch_interval;
  if (!due) return FromEntry(*e, kid, now);

  auto flight = std::make_shared<Flight>();
  e->flight = flight;
  e->flight_waiters = std::make_shared<std::atomic<size_t>>(0);
  e->attempted = true;
  e->last_attempt = now;
  ++fetches_;
  lock.Unlock();
  try {
    launch_([this, url, e, flight] { RunFetch(url, e, flight); });
  } catch (const std::exception& ex) {
    lock.Lock();
    e->last_error = std::string("cannot start the fetch: ") + ex.what();
    e->flight.reset();
    lock.Unlock();
    flight->Finish();
  }
  lock.Lock();
  // A launcher that ran the job at once has already ended this flight.
  if (e->flight != flight) return FromEntry(*e, kid, clock_.Now());
  return Wait(*e);
}

void RemoteJwks::RunFetch(const std::string& url, const std::shared_ptr<Entry>& e,
                          const std::shared_ptr<Flight>& flight) {
  std::shared_ptr<const jwt::JwkSet> keys;
  std::string error;
  try {
    if (auto body = fetcher_(url); !body) {
      error = body.error();
    } else if (auto set = jwt::ParseJwkSet(*body, jwt::JwkSetMode::kLenient); !set) {
      error = "not a usable JWK Set: " + set.error();
    } else {
      keys = std::make_shared<const jwt::JwkSet>(std::move(*set));
    }
  } catch (const std::exception& ex) {  // the flight must end, whatever happened
    error = std::string("fetch failed: ") + ex.what();
  }
  {
    common::MutexLock lock(mu_);
    if (keys) {
      e->keys = std::move(keys);
      e->fetched_at = e->last_attempt;
      e->last_error.clear();
    } else {
      e->last_error = std::move(error);  // stale keys, if any, stay usable up to max_stale
      ++fetch_failures_;
    }
    if (e->flight == flight) e->flight.reset();
  }
  flight->Finish();  // wakes the waiters, outside the lock
}

RemoteJwks::Stats RemoteJwks::stats() const {
  common::MutexLock lock(mu_);
  return {fetches_, fetch_failures_, waits_refused_, waiting_->load()};
}

}  // namespace tollgate::oauth
