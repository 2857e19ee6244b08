#pragma once
// An in-memory mirror of the store's remembered jtis of one kind (revoked access tokens or used
// client assertions), written through to the store (SPEC §7). Contains() never touches the
// store; Remember() blocks on it. With a shared store, the change feed mirrors what other nodes
// remember (Mirror). Thread-safe.

#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "storage/store.h"

namespace tollgate::config {

class JtiCache {
 public:
  // At most `max_entries` unexpired jtis are held (RememberNew answers kFull beyond that).
  JtiCache(storage::Store& store, storage::JtiKind kind, const Clock& clock,
           size_t max_entries = 1'000'000);

  // Adds the store's unexpired entries to the memory (at start-up, and when the change feed
  // reconnects). Entries are never forgotten before they expire.
  storage::StoreResult<void> Load();
  // True when `jti` of `env` is remembered and unexpired.
  bool Contains(const EnvId& env, std::string_view jti) const;
  // Remembers durably until `expires_at`; false when it already was (a replay).
  storage::StoreResult<bool> Remember(const EnvId& env, const std::string& jti,
                                      TimePoint expires_at);
  // Adds an entry another node remembered (from the change feed): memory only, the store has it.
  void Mirror(const EnvId& env, const std::string& jti, TimePoint expires_at);
  storage::JtiKind kind() const { return kind_; }
  // Forgets expired entries, in memory and in the store.
  storage::StoreResult<void> Purge();

  // The first-use check of client assertions (SPEC §2.2 rule 6), for the token path: never
  // touches the store. kNew: `jti` of `env` was not remembered and now is, until `expires_at`,
  // and is queued for the store (FlushPending). kReplay: it is remembered and unexpired.
  // kFull: max_entries unexpired jtis are held; nothing was remembered.
  enum class FirstUse { kNew, kReplay, kFull };
  FirstUse RememberNew(const EnvId& env, std::string_view jti, TimePoint expires_at);
  // Writes what RememberNew queued to the store in one batch (Store::RememberJtis). On failure
  // the entries stay queued for the next call. Call it from one background thread, and once
  // more at shutdown.
  storage::StoreResult<void> FlushPending();
  size_t PendingCount() const;

 private:
  static std::string Key(const EnvId& env, std::string_view jti);

  storage::Store& store_;
  storage::JtiKind kind_;
  const Clock& clock_;
  const size_t max_entries_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, TimePoint> entries_;
  std::vector<storage::RememberedJti> pending_;  // guarded by mu_
  TimePoint last_sweep_{};                       // guarded by mu_
};

}  // namespace tollgate::config
