#pragma once
// The Store: durable configuration of one deployment. Backends: sqlite/ (embedded default, one
// node), postgres/ (several nodes share one database). Every backend passes tests/storage_contract
// (the same suite for all).
//
// Thread safety: every method may be called from any thread; calls are serialized inside the
// backend as needed. Calls block on I/O: never call them from an HTTP I/O thread's hot path
// (the token endpoint reads config/ snapshots instead).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/result.h"
#include "model/model.h"

namespace tollgate::storage {

enum class StoreErrorCode {
  kNotFound,            // the named row does not exist
  kConflict,            // a uniqueness rule was violated; `target` names the field
  kUnavailable,         // the database cannot be reached (or is locked for too long)
  kAlreadyInitialized,  // init on a store that already has an organization
  kWrongMasterKey,      // sealed data does not open with the configured master key
  kSchemaTooNew,        // the database was migrated by a newer Tollgate
  kInternal,            // anything else; `message` is for the log only
};

struct StoreError {
  StoreErrorCode code = StoreErrorCode::kInternal;
  std::string message;  // for logs; never contains secrets
  std::string target;   // for kConflict: the wire name of the field ("name", "id", "scopes");
                        // for kNotFound of a referenced row: the reference ("resource.id",
                        // "application.id", "environment.id", "organization.id", "role.id",
                        // "scope.id", "scopes"); for kNotFound of the row itself: "id"
};

template <class T>
using StoreResult = Result<T, StoreError>;

// Encrypts secrets and private keys before they reach the database (SPEC §7: AES-256-GCM under
// the master key). Implemented above storage (server/ adapts crypto/). `aad` binds a sealed
// value to its row so that values cannot be swapped between rows. Thread-safe.
class SecretCodec {
 public:
  virtual ~SecretCodec() = default;
  virtual std::string Seal(std::string_view plaintext, std::string_view aad) const = 0;
  // std::nullopt when the value was not sealed under this key or was altered.
  virtual std::optional<std::string> Open(std::string_view sealed, std::string_view aad) const = 0;
};

struct Deployment {
  std::optional<model::Organization> organization;
  std::vector<model::EnvironmentData> environments;
};

// The write side of one transaction. Each call checks referential and uniqueness rules and
// returns kNotFound / kConflict without touching anything else of the transaction's state.
// Deletes cascade as SPEC §6 says (an environment takes everything in it; a resource takes its
// scopes, its attributes and the grants that point at it; an application takes its secret, grants
// and role assignments; a scope is removed from the grants that list it). Also: deleting an
// environment removes role assignments (of any environment) scoped to it. Updates address a row by
// its id within its parents (an application by id and environment, a scope by id, resource and
// environment, a grant by id, environment and application); they do not change ids, parents or
// created_at. TimePoints are kept at millisecond precision. Valid only inside the Write body that
// received it.
class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual StoreResult<void> Insert(const model::Organization& v) = 0;
  virtual StoreResult<void> Insert(const model::Environment& v) = 0;
  virtual StoreResult<void> Insert(const model::Application& v) = 0;
  virtual StoreResult<void> Insert(const model::Resource& v) = 0;
  virtual StoreResult<void> Insert(const model::Scope& v) = 0;
  // kNotFound ("resource.id") when the resource is not in the environment; kConflict ("name")
  // when the resource already has an attribute of that name.
  virtual StoreResult<void> Insert(const model::ResourceAttribute& v) = 0;
  // kNotFound ("environment.id") for an unknown environment; kConflict ("issuer") when the
  // environment already trusts an issuer of that `issuer`.
  virtual StoreResult<void> Insert(const model::TrustedIssuer& v) = 0;
  // kNotFound ("environment.id") for an unknown environment. No uniqueness rule but the id's.
  virtual StoreResult<void> Insert(const model::TrustedCa& v) = 0;
  virtual StoreResult<void> Insert(const model::Grant& v) = 0;
  virtual StoreResult<void> Insert(const model::RoleAssignment& v) = 0;
  virtual StoreResult<void> Insert(const model::SigningKey& v) = 0;
  // One policy per environment: kConflict ("environment.id") for a second one. Stores `state`.
  virtual StoreResult<void> Insert(const model::KeyRotationPolicy& v) = 0;
  // Inserts or replaces the application's secret row.
  virtual StoreResult<void> Put(const model::ApplicationSecret& v) = 0;

  virtual StoreResult<void> Update(const model::Environment& v) = 0;
  virtual StoreResult<void> Update(const model::Application& v) = 0;
  // Never changes the resource's secret (see SetResourceSecret).
  virtual StoreResult<void> Update(const model::Resource& v) = 0;
  virtual StoreResult<void> Update(const model::Scope& v) = 0;
  // Name, value and updated_at, addressed by id, resource and environment.
  virtual StoreResult<void> Update(const model::ResourceAttribute& v) = 0;
  // Every field but id, environment and created_at, addressed by id and environment; the same
  // kConflict ("issuer") rule.
  virtual StoreResult<void> Update(const model::TrustedIssuer& v) = 0;
  // Name, certificate and updated_at, addressed by id and environment.
  virtual StoreResult<void> Update(const model::TrustedCa& v) = 0;
  virtual StoreResult<void> Update(const model::Grant& v) = 0;
  // Never changes key material (private key, certificate), which is immutable after Insert, nor
  // is_default and retired_at (MakeDefaultKey does). Revoking a key also clears it as its
  // policy's next key; revoking the default key is kConflict ("status").
  virtual StoreResult<void> Update(const model::SigningKey& v) = 0;
  // The policy's spec, name, enabled and updated_at; never its state (SetKeyRotationState),
  // except that enabling a disabled policy clears its rotated_at (it then adopts the default key
  // afresh). kNotFound for an unknown policy.
  virtual StoreResult<void> Update(const model::KeyRotationPolicy& v) = 0;
  // Compare-and-set of a policy's state: sets it to `next` only if the stored policy is enabled
  // and still has `expected`'s state and updated_at, else kConflict ("state") and nothing
  // changes. Nodes that plan the same rotation from their snapshots thus apply it once, and a
  // step planned before the policy was edited is not applied.
  virtual StoreResult<void> SetKeyRotationState(const model::KeyRotationPolicy& expected,
                                                const model::KeyRotationState& next) = 0;
  // Tokens of application `id` issued before `not_before` become inactive: its
  // tokens_not_before becomes `not_before` unless already later (Update never changes it).
  // kNotFound for an unknown application.
  virtual StoreResult<void> RevokeTokensBefore(const AppId& id, TimePoint not_before) = 0;
  // Replaces a resource's introspection secret; kNotFound for an unknown resource.
  virtual StoreResult<void> SetResourceSecret(const ResourceId& id, const std::string& secret) = 0;
  // Makes `id` the only default key of its environment: every other default key of that
  // environment stops being default with retired_at = `now`; `id` itself loses any retired_at.
  // The environment's key rotation policy follows: its current key becomes `id`, rotated_at
  // `now`, and it has no next key. kNotFound for an unknown key; kConflict ("default") for a
  // revoked key or one expired at `now`.
  virtual StoreResult<void> MakeDefaultKey(const KeyId& id, TimePoint now) = 0;

  virtual StoreResult<void> Delete(const EnvId& id) = 0;
  virtual StoreResult<void> Delete(const AppId& id) = 0;
  virtual StoreResult<void> Delete(const ResourceId& id) = 0;
  virtual StoreResult<void> Delete(const ScopeId& id) = 0;
  virtual StoreResult<void> Delete(const AttributeId& id) = 0;
  virtual StoreResult<void> Delete(const TrustedIssuerId& id) = 0;
  virtual StoreResult<void> Delete(const TrustedCaId& id) = 0;
  virtual StoreResult<void> Delete(const GrantId& id) = 0;
  virtual StoreResult<void> Delete(const RoleAssignmentId& id) = 0;
  // Also clears it as the next key of its environment's key rotation policy. kConflict
  // ("default") for the default key.
  virtual StoreResult<void> Delete(const KeyId& id) = 0;
};

// The change feed of a database that several nodes share (SPEC §7): what other writers (and
// this node) committed, so that each node refreshes its snapshot and jti caches. config/
// drives it (config/store/change_feed.h).
struct EnvironmentVersion {
  EnvId environment_id;
  int64_t version = 0;  // grows with every committed transaction that changed the environment
};

struct SharedJti {
  model::RememberedJti jti;
  int64_t seq = 0;  // grows with every jti remembered, per kind
};

struct ChangeBatch {
  // True when notifications may have been lost since the previous Wait (the listener had to
  // reconnect): the caller compares every version and reloads the jtis.
  bool resync = false;
  std::vector<EnvironmentVersion> environments;  // changed environments, newest version each
  std::vector<SharedJti> jtis;                   // newly remembered jtis
};

// Not thread-safe: one thread calls Wait/Versions/JtisAfter; Interrupt may be called from any
// thread.
class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  // Waits up to `timeout` for committed changes and returns them (an empty batch on timeout or
  // Interrupt). kUnavailable when the database cannot be reached; the next call tries to
  // reconnect, and its batch then has `resync`.
  virtual StoreResult<ChangeBatch> Wait(std::chrono::milliseconds timeout) = 0;
  // Makes the current (or next) Wait return at once.
  virtual void Interrupt() = 0;
  // The current version of every environment that was ever changed (deleted ones included).
  virtual StoreResult<std::vector<EnvironmentVersion>> Versions() = 0;
  // The unexpired jtis of `kind` with seq > `after`, ascending by seq.
  virtual StoreResult<std::vector<SharedJti>> JtisAfter(model::JtiKind kind, int64_t after,
                                                        TimePoint now) = 0;
  // The highest seq of `kind` remembered so far (0 when none).
  virtual StoreResult<int64_t> LastJtiSeq(model::JtiKind kind) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens the change feed of a store that several nodes may share, already listening (so that
  // nothing committed after this returns is missed). nullptr for a backend that serves one node
  // (SQLite). kUnavailable when the database cannot be reached.
  virtual StoreResult<std::unique_ptr<ChangeSource>> OpenChangeSource() {
    return std::unique_ptr<ChangeSource>();
  }
  // The current version of every environment (as ChangeSource::Versions), read on the calling
  // thread; empty for a backend without a change feed.
  virtual StoreResult<std::vector<EnvironmentVersion>> LoadVersions() {
    return std::vector<EnvironmentVersion>{};
  }

  // Remembers `jti` durably. Returns false, changing nothing, when the same (kind, environment,
  // jti) is already remembered and unexpired at `now` (a replay). kNotFound for an unknown
  // environment.
  virtual StoreResult<bool> RememberJti(const model::RememberedJti& jti, TimePoint now) = 0;
  // RememberJti for each of `jtis`, in as few transactions as the backend can (SQLite: one):
  // durable when this returns. Entries already remembered, or of environments that no longer
  // exist, are skipped without failing the batch. Fails only when the store cannot be written,
  // and then may have remembered some of the entries (remembering again is harmless).
  virtual StoreResult<void> RememberJtis(const std::vector<model::RememberedJti>& jtis,
                                         TimePoint now);
  // Every remembered jti of `kind` still unexpired at `now`.
  virtual StoreResult<std::vector<model::RememberedJti>> LoadJtis(model::JtiKind kind,
                                                                  TimePoint now) = 0;
  // Forgets every jti that expired at or before `now`.
  virtual StoreResult<void> PurgeExpiredJtis(TimePoint now) = 0;

  // Audit activities (audit/activity_log.h). Appends `batch` in one transaction (activities of
  // environments deleted meanwhile included: they are read by environment and purged by age).
  virtual StoreResult<void> AppendActivities(const std::vector<model::Activity>& batch) = 0;
  // The activities `query` selects, seq set, ascending by seq.
  virtual StoreResult<std::vector<model::Activity>> LoadActivities(
      const model::ActivityQuery& query) = 0;
  // Forgets the activities recorded before `before`; returns how many.
  virtual StoreResult<int64_t> PurgeActivities(TimePoint before) = 0;

  // Runs `body` in one transaction. Commits (durably: the data survives a crash once this
  // returns) when `body` succeeds; rolls back everything when it fails, returning its error.
  // A body that throws is rolled back too (kInternal). `body` must not call this Store.
  // Writes of one deployment are serialized (across nodes, for a shared database).
  // kUnavailable when the database cannot be reached: nothing was written, except when the
  // connection was lost during the commit itself, whose outcome is then unknown.
  virtual StoreResult<void> Write(const std::function<StoreResult<void>(Transaction&)>& body) = 0;

  virtual StoreResult<Deployment> LoadAll() = 0;
  // kNotFound when the environment does not exist.
  virtual StoreResult<model::EnvironmentData> LoadEnvironment(const EnvId& id) = 0;
};

// Opens (creating if needed) and migrates the store named by `uri`: `sqlite:PATH`,
// `sqlite::memory:`, or `postgresql://...` / `postgres://...` (a libpq connection URI; the
// database must exist). kWrongMasterKey when the store was initialized under another master key;
// kSchemaTooNew when it was migrated by a newer version; kUnavailable when a PostgreSQL server
// cannot be reached or refuses the login; kInternal for a malformed URI.
StoreResult<std::unique_ptr<Store>> OpenStore(const std::string& uri,
                                              std::shared_ptr<const SecretCodec> codec);

// `uri` fit for messages and logs: the password of a `scheme://user:password@host...` URI (in
// the userinfo or a `password=` parameter) is replaced by "****"; anything else is returned as
// it is.
std::string RedactStoreUri(const std::string& uri);

}  // namespace tollgate::storage
