#pragma once
// An in-memory mirror of the store's remembered jtis of one kind (revoked access tokens or used
// client assertions), written through to the store (SPEC §7). Contains() never touches the
// store; Remember() blocks on it. Thread-safe.

#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/ids.h"
#include "storage/store.h"

namespace tollgate::config {

class JtiCache {
 public:
  JtiCache(storage::Store& store, storage::JtiKind kind, const Clock& clock);

  // Replaces the memory with the store's unexpired entries (at start-up).
  storage::StoreResult<void> Load();
  // True when `jti` of `env` is remembered and unexpired.
  bool Contains(const EnvId& env, std::string_view jti) const;
  // Remembers durably until `expires_at`; false when it already was (a replay).
  storage::StoreResult<bool> Remember(const EnvId& env, const std::string& jti,
                                      TimePoint expires_at);
  // Forgets expired entries, in memory and in the store.
  storage::StoreResult<void> Purge();

 private:
  static std::string Key(const EnvId& env, std::string_view jti);

  storage::Store& store_;
  storage::JtiKind kind_;
  const Clock& clock_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, TimePoint> entries_;
};

}  // namespace tollgate::config
