#pragma once
// An in-memory mirror of the store's remembered jtis of one kind (revoked access tokens or used
// client assertions), written through to the store (SPEC §7). Contains() never touches the
// store; Remember() blocks on it. With a shared store, the change feed mirrors what other nodes
// remember (Mirror). Each environment has its own budget of unexpired entries, so one tenant
// filling its budget never refuses another tenant's clients. Thread-safe.

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "common/thread_annotations.h"
#include "model/model.h"

namespace tollgate::config {

// Why the store behind a JtiCache failed; for the log only.
struct JtiStoreError {
  std::string message;
};
template <class T>
using JtiResult = Result<T, JtiStoreError>;

// The store as a JtiCache sees it: durably remembered jtis (SPEC §7). StoreJtis
// (config/store/store_jtis.h) implements it over the Store. Calls block on I/O; every method may
// be called from any thread.
class JtiStore {
 public:
  virtual ~JtiStore() = default;
  // Remembers `jti`; false, changing nothing, when it is already remembered and unexpired at
  // `now` (a replay).
  virtual JtiResult<bool> Remember(const model::RememberedJti& jti, TimePoint now) = 0;
  // Remember for each of `jtis`, skipping those already remembered; durable when this returns.
  virtual JtiResult<void> RememberAll(const std::vector<model::RememberedJti>& jtis,
                                      TimePoint now) = 0;
  // Every remembered jti of `kind` still unexpired at `now`.
  virtual JtiResult<std::vector<model::RememberedJti>> Load(model::JtiKind kind, TimePoint now) = 0;
  // Forgets every jti (of any kind) that expired at or before `now`.
  virtual JtiResult<void> PurgeExpired(TimePoint now) = 0;
};

// The jti a used client assertion is remembered by: its client's ID and its own `jti`, so that
// two clients choosing the same `jti` never collide (RFC 7523 §3 item 7 makes a jti unique per
// issuer, and the issuer is the client). Client IDs are UUIDs, so the form is unambiguous.
std::string UsedAssertionJti(std::string_view client_id, std::string_view jti);

class JtiCache {
 public:
  // At most `max_per_environment` unexpired jtis are accepted per environment (RememberNew
  // answers kFull and Remember kBudget beyond that, for that environment only). The budgets are
  // options of `tollgate serve` (docs/security.md); an entry costs about 200 bytes of memory.
  JtiCache(JtiStore& store, model::JtiKind kind, const Clock& clock, size_t max_per_environment);

  // Adds the store's unexpired entries to the memory (at start-up, and when the change feed
  // reconnects). Entries are never forgotten before they expire; loaded and mirrored entries
  // count towards the budget but are never refused (the store has them).
  JtiResult<void> Load();
  // True when `jti` of `env` is remembered and unexpired.
  bool Contains(const EnvId& env, std::string_view jti) const;

  enum class Stored { kNew, kAlready, kBudget };
  // Remembers durably until `expires_at`: kAlready when it already was; kBudget (nothing
  // written) when `env` holds max_per_environment unexpired entries already.
  JtiResult<Stored> Remember(const EnvId& env, const std::string& jti, TimePoint expires_at);
  // Adds an entry another node remembered (from the change feed): memory only, the store has it.
  void Mirror(const EnvId& env, const std::string& jti, TimePoint expires_at);
  model::JtiKind kind() const { return kind_; }
  // Forgets expired entries, in memory and in the store.
  JtiResult<void> Purge();

  // The first-use check of client assertions (SPEC §2.2 rule 6), for the token path: never
  // touches the store. kNew: `jti` of `env` was not remembered and now is, until `expires_at`,
  // and is queued for the store (FlushPending). kReplay: it is remembered and unexpired.
  // kFull: `env` holds max_per_environment unexpired jtis; nothing was remembered.
  enum class FirstUse { kNew, kReplay, kFull };
  FirstUse RememberNew(const EnvId& env, std::string_view jti, TimePoint expires_at);
  // Writes what RememberNew queued to the store in one batch (JtiStore::RememberAll). On failure
  // the entries stay queued for the next call. Call it from one background thread, and once
  // more at shutdown.
  JtiResult<void> FlushPending();
  size_t PendingCount() const;
  // Unexpired and expired-but-not-yet-swept entries of `env` held in memory.
  size_t SizeOf(const EnvId& env) const;

 private:
  // Lookups by string_view without a temporary string (C++20 heterogeneous lookup).
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <class V>
  using Map = std::unordered_map<std::string, V, Hash, std::equal_to<>>;
  struct Environment {
    Map<TimePoint> jtis;
    TimePoint last_sweep{};
  };
  // Adds or extends an entry, budget aside.
  void Put(const EnvId& env, const std::string& jti, TimePoint expires_at) REQUIRES(mu_);
  // True when `env` may take one more entry: below the budget, or after a sweep of its expired
  // entries (at most once a second, so a full environment stays cheap). `e` is one of
  // environments_.
  bool HasRoom(Environment& e, TimePoint now) REQUIRES(mu_);

  JtiStore& store_;
  model::JtiKind kind_;
  const Clock& clock_;
  const size_t max_per_environment_;
  mutable common::SharedMutex mu_;
  Map<Environment> environments_ GUARDED_BY(mu_);  // by environment ID
  std::vector<model::RememberedJti> pending_ GUARDED_BY(mu_);
};

}  // namespace tollgate::config
