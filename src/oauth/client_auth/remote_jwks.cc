#include "oauth/client_auth/remote_jwks.h"

#include <algorithm>

namespace tollgate::oauth {

RemoteJwks::RemoteJwks(Fetcher fetcher, const Clock& clock, RemoteJwksPolicy policy)
    : fetcher_(std::move(fetcher)), clock_(clock), policy_(policy) {}

RemoteJwks::Answer RemoteJwks::FromEntry(const Entry& e, std::string_view kid,
                                         TimePoint now) const {
  if (!e.keys) return {Outcome::kFailed, nullptr, "jwksUrl: no keys fetched: " + e.last_error};
  if (now - e.fetched_at >= policy_.max_stale) {
    return {Outcome::kFailed, nullptr, "jwksUrl: cached keys too old: " + e.last_error};
  }
  if (!kid.empty() && !e.keys->HasKid(kid)) {
    return {Outcome::kFailed, nullptr, "jwksUrl: kid not in the fetched set"};
  }
  return {Outcome::kOk, e.keys, {}};
}

void RemoteJwks::EvictIfFull() {
  while (entries_.size() > policy_.max_urls) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second->in_flight) continue;
      if (victim == entries_.end() || it->second->last_used < victim->second->last_used) {
        victim = it;
      }
    }
    if (victim == entries_.end()) return;  // everything is being fetched
    entries_.erase(victim);
  }
}

RemoteJwks::Answer RemoteJwks::Get(const std::string& url, std::string_view kid, bool may_block) {
  const TimePoint now = clock_.Now();
  std::unique_lock lock(mu_);
  auto [it, inserted] = entries_.try_emplace(url, nullptr);
  if (inserted) it->second = std::make_shared<Entry>();
  std::shared_ptr<Entry> e = it->second;  // stays valid if another call evicts it
  e->last_used = now;
  if (inserted) EvictIfFull();  // the new entry is the most recently used: never the victim

  const bool fresh = e->keys && now - e->fetched_at < policy_.ttl;
  const bool knows_kid = e->keys && (kid.empty() || e->keys->HasKid(kid));
  if (fresh && knows_kid) return {Outcome::kOk, e->keys, {}};
  // Stale, never fetched, or an unknown kid: refetch, at most once per interval.
  const bool due = !e->attempted || now - e->last_attempt >= policy_.min_refetch_interval;
  if (!due && !e->in_flight) return FromEntry(*e, kid, now);
  if (!may_block) return {Outcome::kWouldBlock, nullptr, {}};

  if (e->in_flight) {
    // Another caller is fetching this URL: wait for its result instead of fetching again.
    fetched_.wait(lock, [&] { return !e->in_flight; });
    return FromEntry(*e, kid, clock_.Now());
  }
  e->in_flight = true;
  e->attempted = true;
  e->last_attempt = now;
  lock.unlock();

  std::shared_ptr<const jwt::JwkSet> keys;
  std::string error;
  if (auto body = fetcher_(url); !body) {
    error = body.error();
  } else if (auto set = jwt::ParseJwkSet(*body, jwt::JwkSetMode::kLenient); !set) {
    error = "not a usable JWK Set: " + set.error();
  } else {
    keys = std::make_shared<const jwt::JwkSet>(std::move(*set));
  }

  lock.lock();
  if (keys) {
    e->keys = std::move(keys);
    e->fetched_at = now;
    e->last_error.clear();
  } else {
    e->last_error = std::move(error);  // stale keys, if any, stay usable up to max_stale
  }
  e->in_flight = false;
  fetched_.notify_all();
  return FromEntry(*e, kid, clock_.Now());
}

}  // namespace tollgate::oauth
