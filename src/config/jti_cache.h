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

#include "common/clock.h"
#include "common/ids.h"
#include "storage/store.h"

namespace tollgate::config {

class JtiCache {
 public:
  JtiCache(storage::Store& store, storage::JtiKind kind, const Clock& clock);

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

 private:
  static std::string Key(const EnvId& env, std::string_view jti);

  storage::Store& store_;
  storage::JtiKind kind_;
  const Clock& clock_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, TimePoint> entries_;
};

}  // namespace tollgate::config
